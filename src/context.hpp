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
// Aligned with tenancy.members first when it was set before this transaction
// (a session context, read again once per transaction; may throw).
const std::optional<core::TenantContext>& current_context();
// The setting as it stands, with no read and nothing thrown: for bookkeeping
// that runs in hooks (the open-query checks), after ExecutorStart aligned it.
const std::optional<core::TenantContext>& context_as_set();
// 42501 "<what> is not allowed for this login" where
// tenancy.require_signed_context is on: a user named by the application
// rather than proven by a token; the hint names the call to make instead.
void refuse_named_user_where_signed_required(const char* what, const char* instead);

// 42501 "no tenant context is set for <what>", with the hint every such
// refusal gives, for a function that cannot work without one.
[[noreturn]] void refuse_without_context(const char* what);

}  // namespace tenancy
