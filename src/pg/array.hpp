// One-dimensional SQL arrays built from C++ vectors of Datums.
#pragma once

#include <vector>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// An array of elem_type; nulls may be empty (no NULL elements).
Datum make_array(const std::vector<Datum>& values, const std::vector<char>& nulls,
                 Oid elem_type);

}  // namespace tenancy::pg
