#include "pg/uuid.hpp"

#include <cstring>

namespace tenancy::pg {

core::Uuid uuid_from_datum(Datum value) {
    core::Uuid out;
    std::memcpy(out.bytes.data(), DatumGetUUIDP(value)->data, out.bytes.size());
    return out;
}

Datum uuid_to_datum(const core::Uuid& value) {
    auto* out = static_cast<pg_uuid_t*>(call([] { return palloc(sizeof(pg_uuid_t)); }));
    std::memcpy(out->data, value.bytes.data(), value.bytes.size());
    return UUIDPGetDatum(out);
}

}  // namespace tenancy::pg
