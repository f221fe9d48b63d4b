#include "pg/varlena.hpp"

#include <cstring>

namespace tenancy::pg {
namespace {

Datum new_varlena(std::string_view bytes) {
    auto* out = static_cast<struct varlena*>(call([&] { return palloc(VARHDRSZ + bytes.size()); }));
    SET_VARSIZE(out, VARHDRSZ + bytes.size());
    std::memcpy(VARDATA(out), bytes.data(), bytes.size());
    return PointerGetDatum(out);
}

}  // namespace

std::string_view varlena_view(Datum value) {
    struct varlena* detoasted = reinterpret_cast<struct varlena*>(DatumGetPointer(value));
    // Inline and uncompressed (the usual short text): readable as it is,
    // without a pg::call per value. Otherwise PostgreSQL detoasts it.
    if (VARATT_IS_EXTERNAL(detoasted) || VARATT_IS_COMPRESSED(detoasted)) {
        detoasted = call([&] { return PG_DETOAST_DATUM_PACKED(value); });
    }
    return std::string_view(VARDATA_ANY(detoasted), VARSIZE_ANY_EXHDR(detoasted));
}

std::string varlena_bytes(Datum value) { return std::string(varlena_view(value)); }

Datum bytes_to_bytea(std::string_view bytes) { return new_varlena(bytes); }

// text and bytea share the varlena layout; text must hold valid encoding,
// which every caller's input (text read from the database) already does.
Datum string_to_text(std::string_view text) { return new_varlena(text); }

}  // namespace tenancy::pg
