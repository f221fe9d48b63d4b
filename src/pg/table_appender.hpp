// Writes rows to one table without SQL: heap insert (or update), index
// entries, constraint checks and the table's own row triggers (foreign keys
// included), as logical replication's apply worker does. Appends to a
// partitioned table are routed to their partitions, as COPY routes them. No RLS and no
// privilege check: the extension itself is the writer (audit rows and
// rollups, which the application cannot write). Unlike a SQL statement, no
// statement-level trigger or rule fires and executor hooks (pg_stat_statements,
// pgaudit) do not see the writes.
#pragma once

#include <vector>

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
    // The same, or 0 when the table has no such column of that type (an
    // older schema's, or a DBA's column of that name).
    int column_if_any(const char* name, Oid type) const;
    int column_count() const;

    // The next value of the sequence behind a column: an identity column's,
    // or the one the column owns (OWNED BY). One column per appender: the
    // sequence is looked up once.
    int64 next_sequence_value(int attnum);

    // The row being built: every column starts NULL, set() fills one, and
    // append_row() writes the row and starts the next one all NULL again.
    // A column that set() did not fill gets its default if it has one (a
    // column a DBA added, say), as an INSERT that names no value for it.
    void set(int attnum, Datum value, bool is_null = false) {
        values_[attnum - 1] = value;
        nulls_[attnum - 1] = is_null;
        assigned_[attnum - 1] = true;
    }
    void append_row();

    // (Not for a partitioned table: its rows are only appended.)
    // The stored row whose primary key equals the key columns of the row
    // being built, locked FOR NO KEY UPDATE (after waiting for a concurrent writer
    // of it, as the apply worker does), or nullptr. Valid until the next
    // row. The row being built keeps its values.
    TupleTableSlot* find_by_primary_key();
    // Writes the row being built over `stored` (from find_by_primary_key);
    // columns it did not set keep their stored values. Then starts the next
    // row all NULL again.
    void update_row(TupleTableSlot* stored);

    // Closes indexes, fires queued after-row triggers (foreign key checks)
    // and releases the relation. Must be called on the success path; on the
    // error path the transaction abort releases everything instead.
    void finish();

    // The primary key's index scan, begun on the first lookup and kept to
    // finish(): each lookup only sets the key and rescans. (Begun and ended
    // per row, as RelationFindReplTupleByIndex does, with its index opened
    // and its scan keys looked up again, it cost more than the row's insert.)
    struct KeyScan;

private:
    // Begins a trigger query level, once, when `relation` has AFTER ROW
    // triggers (the table itself, or a partition when it is first opened).
    void open_trigger_level_for(Relation relation);
    // The row being built, as a virtual tuple in slot_.
    void store_row();
    // Fills the columns with defaults that set() did not, in per-row memory.
    void apply_defaults();
    void start_row();

    Relation relation_ = nullptr;
    EState* estate_ = nullptr;
    ResultRelInfo* result_relation_ = nullptr;
    TupleTableSlot* slot_ = nullptr;
    Oid sequence_ = InvalidOid;
    // For a partitioned table: the partitions written so far, each opened on
    // its first row.
    struct Partition {
        Oid relid;
        ResultRelInfo* result_relation;
        TupleConversionMap* map;  // nullptr: same row type as the parent
        TupleTableSlot* slot;     // the converted row, when there is a map
    };
    bool partitioned_ = false;
    std::vector<Partition> partitions_;
    const Partition& partition_for(TupleTableSlot* row);
    Oid primary_key_ = InvalidOid;
    TupleTableSlot* stored_slot_ = nullptr;
    KeyScan* key_scan_ = nullptr;  // in the executor state's memory
    EPQState* epq_ = nullptr;  // for BEFORE UPDATE row triggers, made on the first update
    std::vector<Datum> values_;
    std::vector<char> nulls_;  // bool storage (vector<bool> packs bits)
    std::vector<char> assigned_;  // set() since the row began
    // Columns with a default or an identity (not generated ones: the insert
    // computes those; not a domain's own default), and the default's
    // executable state once a row needed it.
    std::vector<int> defaulted_;
    std::vector<ExprState*> default_states_;
    // Per defaulted column: its default is nextval() of a sequence the column
    // owns (serial), evaluated as the table's owner (see apply_defaults).
    std::vector<char> default_as_owner_;
    bool fires_after_triggers_ = false;
    bool finished_ = false;
};

}  // namespace tenancy::pg
