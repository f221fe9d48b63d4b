#include "pg/array.hpp"

namespace tenancy::pg {

Datum make_array(const std::vector<Datum>& values, const std::vector<char>& nulls,
                 Oid elem_type) {
    int count = static_cast<int>(values.size());
    const Datum* data = values.data();
    // std::vector<char> holds the bools: vector<bool> has no contiguous storage.
    const bool* null_flags = nulls.empty() ? nullptr : reinterpret_cast<const bool*>(nulls.data());
    return call([&] {
        int16 length;
        bool by_value;
        char align;
        get_typlenbyvalalign(elem_type, &length, &by_value, &align);
        int dims[1] = {count};
        int lower_bounds[1] = {1};
        ArrayType* array = construct_md_array(const_cast<Datum*>(data), const_cast<bool*>(null_flags),
                                              1, dims, lower_bounds, elem_type, length, by_value,
                                              align);
        return PointerGetDatum(array);
    });
}

}  // namespace tenancy::pg
