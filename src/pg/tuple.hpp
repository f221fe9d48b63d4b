// Reading and comparing columns of tuples by name.
#pragma once

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// 1-based attribute number of a live column, or throws Error (42703).
int attribute_number(TupleDesc desc, const char* column, const char* relation_name);
// The same, or 0 when there is no such column.
int attribute_number_if_any(TupleDesc desc, const char* column);

// SQL-level equality of two values of one column, NULLs included (NULL equals
// NULL here: "did this column change?"). Varlena values are compared by
// content, whatever their header or compression.
bool same_value(Datum a, bool a_null, Datum b, bool b_null, Form_pg_attribute attr);

}  // namespace tenancy::pg
