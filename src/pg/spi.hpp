// RAII over SPI: a connection that is always closed, plans that are prepared
// once per backend, and results copied out before the connection goes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// The most arguments one statement takes here.
inline constexpr int kMaxSpiArgs = 16;

// A typed argument for a prepared statement.
struct SpiArg {
    Oid type;
    Datum value;
    bool is_null = false;
};

// A statement prepared on first use and kept for the life of the backend
// (SPI_keepplan); the plan cache replans it after DDL. Declare one per call
// site as a function-local static.
class CachedPlan {
public:
    CachedPlan(const char* sql, std::initializer_list<Oid> arg_types);
    CachedPlan(const CachedPlan&) = delete;
    CachedPlan& operator=(const CachedPlan&) = delete;

    // Prepares on first use; needs an open SpiConnection.
    SPIPlanPtr get();
    int arg_count() const { return arg_count_; }

private:
    const char* sql_;
    Oid arg_types_[kMaxSpiArgs];
    int arg_count_;
    SPIPlanPtr plan_ = nullptr;
};

// One SPI connection, closed by the destructor on every path (on the error
// path the enclosing transaction or subtransaction abort cleans up as well).
class SpiConnection {
public:
    SpiConnection();
    ~SpiConnection();
    SpiConnection(const SpiConnection&) = delete;
    SpiConnection& operator=(const SpiConnection&) = delete;

    // Runs a kept plan; returns the number of rows processed. Throws PgError
    // when the statement fails and Error when SPI reports a failure code.
    std::uint64_t execute(CachedPlan& plan, std::initializer_list<SpiArg> args,
                          bool read_only, long row_limit = 0);

    // Runs a kept plan that writes, seeing rows committed after this
    // transaction's snapshot as a foreign key's ON DELETE CASCADE does: under
    // REPEATABLE READ or SERIALIZABLE it runs on the latest snapshot, and a
    // row the transaction's own snapshot cannot see is a serialization
    // failure. Under READ COMMITTED it is execute(plan, args, false).
    std::uint64_t execute_seeing_concurrent(CachedPlan& plan, std::initializer_list<SpiArg> args);

    // Runs a kept plan that only reads, on the latest snapshot: under
    // REPEATABLE READ or SERIALIZABLE it sees what others committed after
    // this transaction's snapshot was taken. Under READ COMMITTED it is
    // execute(plan, args, false).
    std::uint64_t execute_on_latest_snapshot(CachedPlan& plan, std::initializer_list<SpiArg> args);

    // Runs a one-off statement without arguments.
    std::uint64_t execute(const char* sql, bool read_only, long row_limit = 0);

    // Column of result row as a Datum copied into the caller's memory context
    // (the one current when this connection was opened), so it survives
    // the connection; is_null reports SQL NULL.
    Datum copied_value(std::uint64_t row, int column, bool* is_null) const;

    std::uint64_t row_count() const;

    // Streams the rows of a query to on_row(slot), one at a time, as the
    // executor produces them: no row is copied into an SPI tuple table. The
    // statement is planned with the actual argument values (a custom plan).
    // read_only: run in the active snapshot. on_row may throw; the statement
    // then stops and the exception is rethrown here. Memory on_row allocates
    // in the current context is released after each row. The slot arrives
    // deformed: tts_values/tts_isnull hold every column. Returns the number
    // of rows.
    template <typename OnRow>
    std::uint64_t for_each_row(const char* sql, std::initializer_list<SpiArg> args,
                               bool read_only, OnRow&& on_row);

private:
    // SPI_execute_snapshot on the latest snapshot; writes: checked against
    // the transaction's (a row it cannot see is a serialization failure).
    std::uint64_t execute_on_snapshots(CachedPlan& plan, std::initializer_list<SpiArg> args,
                                       bool writes);

    // Type-erased row callback for the receiver (stream_rows is not a template).
    struct RowSink {
        void* target;
        void (*call)(void* target, TupleTableSlot* slot);
    };
    std::uint64_t stream_rows(const char* sql, std::initializer_list<SpiArg> args,
                              bool read_only, RowSink sink);

    MemoryContext caller_context_;
    bool connected_ = false;
};

template <typename OnRow>
std::uint64_t SpiConnection::for_each_row(const char* sql, std::initializer_list<SpiArg> args,
                                          bool read_only, OnRow&& on_row) {
    RowSink sink{&on_row, [](void* target, TupleTableSlot* slot) {
                     (*static_cast<std::remove_reference_t<OnRow>*>(target))(slot);
                 }};
    return stream_rows(sql, args, read_only, sink);
}

}  // namespace tenancy::pg
