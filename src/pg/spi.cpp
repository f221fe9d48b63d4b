#include "pg/spi.hpp"

#include <algorithm>
#include <exception>

namespace tenancy::pg {
namespace {

void check_spi_result(int rc, const char* what) {
    if (rc < 0) {
        throw Error(ERRCODE_INTERNAL_ERROR,
                    std::string("pg_tenancy: ") + what + " failed: " +
                        SPI_result_code_string(rc));
    }
}

}  // namespace

CachedPlan::CachedPlan(const char* sql, std::initializer_list<Oid> arg_types)
    : sql_(sql), arg_types_{}, arg_count_(static_cast<int>(arg_types.size())) {
    if (arg_count_ > kMaxSpiArgs) throw std::logic_error("CachedPlan: too many arguments");
    std::copy(arg_types.begin(), arg_types.end(), arg_types_);
}

SPIPlanPtr CachedPlan::get() {
    if (plan_ != nullptr) return plan_;
    const char* sql = sql_;
    Oid* types = arg_types_;
    int nargs = arg_count_;
    SPIPlanPtr plan = call([&] { return SPI_prepare(sql, nargs, types); });
    if (plan == nullptr) check_spi_result(SPI_result, "SPI_prepare");
    check_spi_result(call([&] { return SPI_keepplan(plan); }), "SPI_keepplan");
    plan_ = plan;
    return plan_;
}

SpiConnection::SpiConnection() : caller_context_(CurrentMemoryContext) {
    check_spi_result(call([] { return SPI_connect(); }), "SPI_connect");
    connected_ = true;
}

SpiConnection::~SpiConnection() {
    if (!connected_) return;
    // Unwinding: the error is on its way to PostgreSQL, whose (sub)transaction
    // abort closes the connection. SPI_finish here could pop a connection of
    // a nested SPI user that failed, and would delete the memory the error
    // was raised in.
    if (std::uncaught_exceptions() > 0) return;
    SPI_finish();  // reports failures by return code, never by ereport
    MemoryContextSwitchTo(caller_context_);
}

std::uint64_t SpiConnection::execute(CachedPlan& plan, std::initializer_list<SpiArg> args,
                                     bool read_only, long row_limit) {
    if (static_cast<int>(args.size()) != plan.arg_count()) {
        throw std::logic_error("SpiConnection::execute: wrong number of arguments");
    }
    Datum values[kMaxSpiArgs];
    char nulls[kMaxSpiArgs];
    int i = 0;
    for (const SpiArg& arg : args) {
        values[i] = arg.value;
        nulls[i] = arg.is_null ? 'n' : ' ';
        ++i;
    }
    SPIPlanPtr prepared = plan.get();
    int rc = call([&] { return SPI_execute_plan(prepared, values, nulls, read_only, row_limit); });
    check_spi_result(rc, "SPI_execute_plan");
    return SPI_processed;
}

std::uint64_t SpiConnection::execute(const char* sql, bool read_only, long row_limit) {
    int rc = call([&] { return SPI_execute(sql, read_only, row_limit); });
    check_spi_result(rc, "SPI_execute");
    return SPI_processed;
}

std::uint64_t SpiConnection::row_count() const { return SPI_processed; }

Portal SpiConnection::open_cursor(const char* sql, std::initializer_list<SpiArg> args,
                                  bool read_only) {
    if (args.size() > kMaxSpiArgs) throw std::logic_error("SpiConnection: too many arguments");
    Oid types[kMaxSpiArgs];
    Datum values[kMaxSpiArgs];
    char nulls[kMaxSpiArgs];
    int n = 0;
    for (const SpiArg& arg : args) {
        types[n] = arg.type;
        values[n] = arg.value;
        nulls[n] = arg.is_null ? 'n' : ' ';
        ++n;
    }
    Portal cursor = call([&] {
        return SPI_cursor_open_with_args(nullptr, sql, n, types, values, nulls, read_only, 0);
    });
    if (cursor == nullptr) check_spi_result(SPI_result, "SPI_cursor_open_with_args");
    return cursor;
}

std::uint64_t SpiConnection::fetch(Portal cursor, long batch) {
    call([&] { SPI_cursor_fetch(cursor, true, batch); });
    return SPI_processed;
}

void SpiConnection::release_batch() {
    SPITupleTable* table = SPI_tuptable;
    call([&] { SPI_freetuptable(table); });
}

void SpiConnection::close_cursor(Portal cursor) {
    call([&] { SPI_cursor_close(cursor); });
}

Datum SpiConnection::copied_value(std::uint64_t row, int column, bool* is_null) const {
    if (SPI_tuptable == nullptr || row >= SPI_processed) {
        throw std::out_of_range("SpiConnection::copied_value: no such row");
    }
    HeapTuple tuple = SPI_tuptable->vals[row];
    TupleDesc desc = SPI_tuptable->tupdesc;
    MemoryContext target = caller_context_;
    return call([&] {
        bool null = false;
        Datum value = SPI_getbinval(tuple, desc, column, &null);
        *is_null = null;
        if (null) return static_cast<Datum>(0);
        Form_pg_attribute attr = TupleDescAttr(desc, column - 1);
        MemoryContext old = MemoryContextSwitchTo(target);
        Datum copy = datumCopy(value, attr->attbyval, attr->attlen);
        MemoryContextSwitchTo(old);
        return copy;
    });
}

}  // namespace tenancy::pg
