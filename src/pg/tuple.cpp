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

bool reads_as(Oid column_type, Oid type) {
    if (column_type == type) return true;
    Oid base = call([&] { return getBaseType(column_type); });
    return base == type || (type == TEXTOID && base == VARCHAROID);
}

int typed_attribute_number(TupleDesc desc, const char* column, Oid type, bool not_null,
                           const char* relation_name) {
    int attnum = attribute_number(desc, column, relation_name);
    Form_pg_attribute attr = TupleDescAttr(desc, attnum - 1);
    if (!reads_as(attr->atttypid, type) || (not_null && !attr->attnotnull)) {
        throw Error(ERRCODE_DATATYPE_MISMATCH,
                    std::string("column \"") + column + "\" of \"" + relation_name +
                        "\" is not the column pg_tenancy's trigger functions read",
                    std::string("It must be of type ") +
                        call([&] { return format_type_be(type); }) +
                        (not_null ? ", NOT NULL." : "."));
    }
    return attnum;
}

namespace {

// Both values stored out of line as the same TOAST value: an UPDATE keeps
// the pointer of a value it did not change, so a large column (a DBA's
// jsonb, say) is not fetched twice per row to find it unchanged.
bool same_toasted_value(Datum a, Datum b) {
    auto* left = reinterpret_cast<struct varlena*>(DatumGetPointer(a));
    auto* right = reinterpret_cast<struct varlena*>(DatumGetPointer(b));
    if (!VARATT_IS_EXTERNAL_ONDISK(left) || !VARATT_IS_EXTERNAL_ONDISK(right)) return false;
    varatt_external left_pointer, right_pointer;
    VARATT_EXTERNAL_GET_POINTER(left_pointer, left);
    VARATT_EXTERNAL_GET_POINTER(right_pointer, right);
    return left_pointer.va_toastrelid == right_pointer.va_toastrelid &&
           left_pointer.va_valueid == right_pointer.va_valueid;
}

}  // namespace

bool same_value(Datum a, bool a_null, Datum b, bool b_null, Form_pg_attribute attr) {
    if (a_null || b_null) return a_null == b_null;
    if (attr->attlen != -1) return datumIsEqual(a, b, attr->attbyval, attr->attlen);
    if (same_toasted_value(a, b)) return true;
    return call([&] {
        struct varlena* left = PG_DETOAST_DATUM_PACKED(a);
        struct varlena* right = PG_DETOAST_DATUM_PACKED(b);
        bool same = VARSIZE_ANY_EXHDR(left) == VARSIZE_ANY_EXHDR(right) &&
                    std::memcmp(VARDATA_ANY(left), VARDATA_ANY(right), VARSIZE_ANY_EXHDR(left)) == 0;
        // Copies detoasted here would pile up over a statement's rows.
        if (reinterpret_cast<Pointer>(left) != DatumGetPointer(a)) pfree(left);
        if (reinterpret_cast<Pointer>(right) != DatumGetPointer(b)) pfree(right);
        return same;
    });
}

}  // namespace tenancy::pg
