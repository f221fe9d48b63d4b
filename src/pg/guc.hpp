// Small helpers for settings (GUCs) that C++ code reads or sets.
#pragma once

#include <string>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

enum class SettingScope { transaction, session };

// Sets a superuser-only setting on behalf of the extension, whatever the
// calling role: the privilege check is PostgreSQL's for the SQL paths (SET,
// set_config, PGOPTIONS, ALTER ROLE), and this path is reached only through
// functions that did their own checks.
void set_internal_setting(const char* name, const std::string& value, SettingScope scope);

}  // namespace tenancy::pg
