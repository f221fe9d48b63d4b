// Reading and comparing columns of tuples by name.
#pragma once

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// 1-based attribute number of a live column, or throws Error (42703).
int attribute_number(TupleDesc desc, const char* column, const char* relation_name);
// The same, or 0 when there is no such column.
int attribute_number_if_any(TupleDesc desc, const char* column);
// The same for a column a trigger function reads as its declared type (a uuid
// by pointer, say): of that type, and NOT NULL when not_null, or Error
// (42804). The extension's own tables are so; a table a superuser attached
// the trigger function to may not be, and a NULL or an int read as a pointer
// crashed the backend.
int typed_attribute_number(TupleDesc desc, const char* column, Oid type, bool not_null,
                           const char* relation_name);
// Whether a column of type `column_type` may be read as `type`: that type,
// a domain over it, or for text also varchar (binary compatible, as a DBA's
// ALTER COLUMN … TYPE varchar(n) makes it; the 1.25 library read it so).
bool reads_as(Oid column_type, Oid type);

// SQL-level equality of two values of one column, NULLs included (NULL equals
// NULL here: "did this column change?"). Varlena values are compared by
// content, whatever their header or compression.
bool same_value(Datum a, bool a_null, Datum b, bool b_null, Form_pg_attribute attr);

}  // namespace tenancy::pg
