#include "pg/tuple.hpp"

#include <cstring>
#include <string>

namespace tenancy::pg {

int attribute_number_if_any(TupleDesc desc, const char* column) {
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (!attr->attisdropped && std::strcmp(NameStr(attr->attname), column) == 0) return i + 1;
    }
    return 0;
}

int attribute_number(TupleDesc desc, const char* column, const char* relation_name) {
    if (int attnum = attribute_number_if_any(desc, column)) return attnum;
    throw Error(ERRCODE_UNDEFINED_COLUMN, std::string("column \"") + column + "\" of \"" +
                                              relation_name + "\" does not exist");
}

bool same_value(Datum a, bool a_null, Datum b, bool b_null, Form_pg_attribute attr) {
    if (a_null || b_null) return a_null == b_null;
    if (attr->attlen != -1) return datumIsEqual(a, b, attr->attbyval, attr->attlen);
    return call([&] {
        struct varlena* left = PG_DETOAST_DATUM_PACKED(a);
        struct varlena* right = PG_DETOAST_DATUM_PACKED(b);
        return VARSIZE_ANY_EXHDR(left) == VARSIZE_ANY_EXHDR(right) &&
               std::memcmp(VARDATA_ANY(left), VARDATA_ANY(right), VARSIZE_ANY_EXHDR(left)) == 0;
    });
}

}  // namespace tenancy::pg
