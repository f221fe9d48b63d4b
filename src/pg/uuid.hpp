// Converting between PostgreSQL's uuid Datum and core::Uuid.
#pragma once

#include "core/uuid.hpp"
#include "pg/error_barrier.hpp"

namespace tenancy::pg {

core::Uuid uuid_from_datum(Datum value);

// A palloc'd pg_uuid_t in the current memory context.
Datum uuid_to_datum(const core::Uuid& value);

}  // namespace tenancy::pg
