// The extension's own SQL types as seen from C++: enum labels by name.
#pragma once

#include "pg/error_barrier.hpp"

namespace tenancy {

// The OID (as a Datum) of a label of an enum type in schema tenancy, e.g.
// enum_label("file_action", "upload"). Kept per backend after the first
// lookup, and forgotten whenever pg_enum changes, so DROP/CREATE EXTENSION in
// one session is harmless.
Datum enum_label(const char* type_name, const char* label);

}  // namespace tenancy
