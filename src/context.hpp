// Tenant context: the settings that carry it, its per-backend cache, and the
// strict mode that rejects tenant-table access without a context.
#pragma once

#include <optional>

#include "core/tenant_context.hpp"

namespace tenancy {

// Called once from _PG_init.
void define_context_settings();
void install_context_hooks();
void register_file_audit_callbacks();

// The context in effect for this transaction (in parallel workers too: the
// setting is copied from the leader), or nullopt.
const std::optional<core::TenantContext>& current_context();

}  // namespace tenancy
