// Appends rows to one table without SQL: heap insert, index entries,
// constraint checks and the table's own triggers (foreign keys included), as
// logical replication's apply worker does. No RLS and no privilege check: the
// extension itself is the writer (audit rows the application cannot write).
#pragma once

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

class TableAppender {
public:
    TableAppender(const char* schema, const char* table);
    ~TableAppender();
    // Registers the relcache callback behind the per-backend caches; once,
    // from _PG_init.
    static void register_invalidation();

    TableAppender(const TableAppender&) = delete;
    TableAppender& operator=(const TableAppender&) = delete;

    // 1-based attribute number of a column; throws if it does not exist.
    int column(const char* name) const;
    int column_count() const;

    // The next value of the sequence behind an identity column (one column
    // per appender: the sequence is looked up once).
    int64 next_identity(int attnum);

    // values/nulls hold column_count() entries, in attribute order.
    void append(const Datum* values, const bool* nulls);

    // Closes indexes, fires queued after-row triggers (foreign key checks)
    // and releases the relation. Must be called on the success path; on the
    // error path the transaction abort releases everything instead.
    void finish();

private:
    Relation relation_ = nullptr;
    EState* estate_ = nullptr;
    ResultRelInfo* result_relation_ = nullptr;
    TupleTableSlot* slot_ = nullptr;
    Oid identity_sequence_ = InvalidOid;
    bool fires_after_triggers_ = false;
    bool finished_ = false;
};

}  // namespace tenancy::pg
