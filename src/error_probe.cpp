// Probes of the error barrier, for the regression suite only: the extension's
// SQL script does not create them; sql/error_barrier.sql does, as superuser.
//
// tenancy_probe_cxx_error(kind text): raises from C++ a pg::Error (kind
// 'error'), a std::bad_alloc ('bad_alloc'), a std::runtime_error ('exception')
// or something else ('unknown'), each with a live RAII object in the frame.
// tenancy_probe_pg_error(sql text): runs sql through SPI under C++ frames that
// own objects, so a PostgreSQL error raised there must cross them cleanly.
#include <memory>
#include <new>
#include <string>

#include "pg/error_barrier.hpp"
#include "pg/spi.hpp"

namespace {

// Counts destructor runs, so the probe can show that unwinding happened.
int g_destroyed_guards = 0;

struct DestructorWitness {
    ~DestructorWitness() { ++g_destroyed_guards; }
};

std::string text_arg(FunctionCallInfo fcinfo, int index) {
    if (PG_ARGISNULL(index)) {
        throw tenancy::pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "argument must not be NULL");
    }
    char* value = tenancy::pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(index)); });
    return std::string(value);
}

}  // namespace

TENANCY_SQL_FUNCTION(tenancy_probe_cxx_error) {
    DestructorWitness witness;
    auto heap_object = std::make_unique<std::string>("owned by the frame");
    std::string kind = text_arg(fcinfo, 0);
    if (kind == "error") {
        throw tenancy::pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "probe: C++ error",
                                 "raised by tenancy_probe_cxx_error", "this is a test");
    }
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "exception") throw std::runtime_error("probe: std::runtime_error");
    if (kind == "unknown") throw 42;
    const char* text_of_kind = kind.c_str();
    return tenancy::pg::call([&] { return PointerGetDatum(cstring_to_text(text_of_kind)); });
}

TENANCY_SQL_FUNCTION(tenancy_probe_pg_error) {
    DestructorWitness witness;
    std::string sql = text_arg(fcinfo, 0);
    tenancy::pg::SpiConnection spi;
    spi.execute(sql.c_str(), false);
    PG_RETURN_INT64(static_cast<int64>(spi.row_count()));
}

// How many probe frames have been unwound so far in this backend.
TENANCY_SQL_FUNCTION(tenancy_probe_unwound_frames) {
    PG_RETURN_INT32(g_destroyed_guards);
}

// tenancy_probe_stream(sql text, fail_at int, kind text): streams the rows of
// sql to a C++ callback (SpiConnection::for_each_row) and, at row fail_at,
// throws from the callback a pg::Error (kind 'cxx') or meets a PostgreSQL
// error under pg::call (kind 'pg': division by zero). Returns the rows seen.
TENANCY_SQL_FUNCTION(tenancy_probe_stream) {
    DestructorWitness witness;
    std::string sql = text_arg(fcinfo, 0);
    int fail_at = PG_GETARG_INT32(1);
    std::string kind = text_arg(fcinfo, 2);
    tenancy::pg::SpiConnection spi;
    int64 seen = 0;
    spi.for_each_row(sql.c_str(), {}, true, [&](TupleTableSlot*) {
        auto owned = std::make_unique<std::string>("owned by the callback");
        if (++seen == fail_at) {
            if (kind == "cxx") {
                throw tenancy::pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "probe: C++ error in a row");
            }
            if (kind == "pg") {
                tenancy::pg::call([] { DirectFunctionCall2(int4div, Int32GetDatum(1), Int32GetDatum(0)); });
            }
        }
    });
    PG_RETURN_INT64(seen);
}
