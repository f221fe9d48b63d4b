// Variable-length values (bytea, text) <-> C++ strings.
#pragma once

#include <string>
#include <string_view>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// The bytes of a (possibly toasted) bytea or text Datum.
std::string varlena_bytes(Datum value);

// The same without a copy: points into the Datum itself, or into a detoasted
// copy in the current memory context; valid as long as both are.
std::string_view varlena_view(Datum value);

// A new bytea / text in the current memory context.
Datum bytes_to_bytea(std::string_view bytes);
Datum string_to_text(std::string_view text);

}  // namespace tenancy::pg
