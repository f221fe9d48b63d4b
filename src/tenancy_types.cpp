#include "tenancy_types.hpp"

#include <map>
#include <string>
#include <utility>

namespace tenancy {

namespace {

// (type, label) -> enum value OID, per backend. Emptied whenever pg_enum
// changes (DROP/CREATE EXTENSION gives the labels new OIDs).
std::map<std::pair<std::string, std::string>, Oid> known_labels;

void forget_labels(Datum, int, uint32) { known_labels.clear(); }

}  // namespace

Datum enum_label(const char* type_name, const char* label) {
    static bool invalidation_registered = false;
    if (!invalidation_registered) {
        pg::call([] { CacheRegisterSyscacheCallback(ENUMOID, forget_labels, PointerGetDatum(nullptr)); });
        invalidation_registered = true;
    }
    auto key = std::make_pair(std::string(type_name), std::string(label));
    auto known = known_labels.find(key);
    if (known != known_labels.end()) return ObjectIdGetDatum(known->second);
    Oid value = pg::call([&] {
        Oid type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(type_name),
                                   ObjectIdGetDatum(get_namespace_oid("tenancy", false)));
        return GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid, ObjectIdGetDatum(type),
                               CStringGetDatum(label));
    });
    if (!OidIsValid(value)) {
        throw pg::Error(ERRCODE_UNDEFINED_OBJECT, std::string("tenancy.") + type_name +
                                                      " has no label \"" + label + "\"");
    }
    known_labels.emplace(std::move(key), value);
    return ObjectIdGetDatum(value);
}

}  // namespace tenancy
