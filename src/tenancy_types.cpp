#include "tenancy_types.hpp"

#include <string>

namespace tenancy {

Datum enum_label(const char* type_name, const char* label) {
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
    return ObjectIdGetDatum(value);
}

}  // namespace tenancy
