// Events and the incremental, exactly-once rollups (DESIGN.md "Analytics").
//
// A run, in one transaction:
//   1. lock tenancy.rollup_state (SKIP LOCKED, or wait) - one run at a time;
//   2. take a fresh snapshot S and read, in S, the raw rows that the previous
//      run's snapshot did not see (txid-based, so rows of transactions that
//      were still open last time are found now, whatever their ids);
//   3. aggregate them in C++ into hourly buckets (src/core/rollup_batch);
//   4. merge the buckets into the rollup tables (row by row, by primary key);
//   5. store S.
// Killed or failed part-way, the transaction rolls back: nothing half-done.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "context.hpp"
#include "core/rollup_batch.hpp"
#include "core/snapshot_text.hpp"
#include "core/time_bucket.hpp"
#include "organization_lock.hpp"
#include "log_partitions.hpp"
#include "pg/array.hpp"
#include "pg/varlena.hpp"
#include "pg/error_barrier.hpp"
#include "pg/guc.hpp"
#include "pg/tuple.hpp"
#include "pg/spi.hpp"
#include "pg/subtransaction.hpp"
#include "pg/table_appender.hpp"
#include "pg/uuid.hpp"
#include "rollups.hpp"
#include "tenancy_types.hpp"

namespace tenancy {
namespace {

// tenancy.rollup_lock_timeout (ms).
int g_rollup_lock_timeout_ms = 100;

using core::EventRollupBatch;
using core::FileRollupBatch;

struct SourceReport {
    const char* source;
    std::uint64_t rows_read = 0;
    std::uint64_t buckets_written = 0;
    std::uint64_t buckets_deferred = 0;  // not returned: written to wait for a later run
    double milliseconds = 0;
};

class Stopwatch {
public:
    double milliseconds() const {
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
            .count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// A fresh snapshot, active for read-only SPI queries until pop(). On the
// error path the transaction abort resets the snapshot stack instead.
class FreshSnapshot {
public:
    enum class Source {
        // A new one under READ COMMITTED; the transaction's own under
        // REPEATABLE READ and SERIALIZABLE, whose reads it keeps consistent.
        transaction,
        // Every transaction committed by now, at any isolation level: for a
        // decision the transaction's snapshot may be too old to make.
        latest,
    };
    explicit FreshSnapshot(Source source = Source::transaction) {
        pg::call([source] {
            PushActiveSnapshot(source == Source::latest ? GetLatestSnapshot()
                                                        : GetTransactionSnapshot());
        });
    }
    ~FreshSnapshot() {
        if (active_ && std::uncaught_exceptions() == 0) PopActiveSnapshot();
    }
    FreshSnapshot(const FreshSnapshot&) = delete;
    FreshSnapshot& operator=(const FreshSnapshot&) = delete;

    void pop() {
        if (!active_) return;
        pg::call([] { PopActiveSnapshot(); });
        active_ = false;
    }

private:
    bool active_ = true;
};

// Which rows a scan reads: those new since the last run, or (rebuild) those
// counted so far, optionally of one organization and from one hour on.
struct RowFilter {
    enum class Kind { new_since, counted_in } kind;
    Datum snapshot_text;                 // text: a pg_snapshot
    Datum own_xid;                       // xid8: this transaction, never counted now
    std::optional<Datum> organization;   // uuid
    std::optional<Datum> from;           // timestamptz
};

std::string filter_sql(const RowFilter& filter) {
    if (filter.kind == RowFilter::Kind::new_since) {
        // What the last snapshot did not see: the transactions from its
        // xmax on, and those it saw in progress (below its xmax, all the
        // others had ended and were counted, or aborted). Not the whole range
        // from its xmin: a transaction left open (any tenant's: one track()
        // is enough) holds xmin back, and every run would read all rows
        // written since it began. The bounds are written in as constants (the
        // stored snapshot's numbers), so that the planner estimates them from
        // the statistics and the BRIN index on txid finds both parts.
        std::string snapshot = pg::varlena_bytes(filter.snapshot_text);
        auto parts = core::parse_snapshot(snapshot);
        if (!parts) {
            throw pg::Error(ERRCODE_DATA_CORRUPTED,
                            "pg_tenancy: the stored rollup snapshot \"" + snapshot +
                                "\" is not a snapshot");
        }
        std::string sql = " WHERE (txid >= '" + std::to_string(parts->xmax) + "'::xid8";
        if (!parts->in_progress.empty()) {
            sql += " OR txid = ANY ('{";
            for (std::size_t i = 0; i < parts->in_progress.size(); ++i) {
                if (i > 0) sql += ',';
                sql += std::to_string(parts->in_progress[i]);
            }
            sql += "}'::xid8[])";
        }
        return sql + ") AND NOT pg_visible_in_snapshot(txid, $1::pg_snapshot) AND txid <> $2";
    }
    return " WHERE pg_visible_in_snapshot(txid, $1::pg_snapshot)"
           " AND ($2::uuid IS NULL OR organization_id = $2)"
           " AND ($3::timestamptz IS NULL OR at >= $3)";
}

template <typename OnRow>
std::uint64_t scan(pg::SpiConnection& spi, const std::string& sql, const RowFilter& filter,
                   OnRow&& on_row) {
    if (filter.kind == RowFilter::Kind::new_since) {
        return spi.for_each_row(sql.c_str(),
                                {{TEXTOID, filter.snapshot_text}, {XID8OID, filter.own_xid}}, true,
                                on_row);
    }
    return spi.for_each_row(
        sql.c_str(),
        {{TEXTOID, filter.snapshot_text},
         {UUIDOID, filter.organization.value_or(Datum(0)), !filter.organization},
         {TIMESTAMPTZOID, filter.from.value_or(Datum(0)), !filter.from}},
        true, on_row);
}

// The columns of a result row (for_each_row hands it over deformed).
template <int count>
struct Row {
    const Datum* values;
    const bool* nulls;

    explicit Row(TupleTableSlot* slot) : values(slot->tts_values), nulls(slot->tts_isnull) {
        Assert(slot->tts_nvalid >= count);
    }
    std::optional<core::Uuid> uuid(int i) const {
        if (nulls[i]) return std::nullopt;
        return pg::uuid_from_datum(values[i]);
    }
};

void read_events(pg::SpiConnection& spi, const RowFilter& filter, EventRollupBatch& batch) {
    std::string sql = "SELECT organization_id, at, kind, value, user_id FROM tenancy.events" +
                      filter_sql(filter);
    scan(spi, sql, filter, [&](TupleTableSlot* slot) {
        Row<5> row(slot);
        batch.add(pg::uuid_from_datum(row.values[0]), DatumGetTimestampTz(row.values[1]),
                  pg::varlena_view(row.values[2]),
                  row.nulls[3] ? std::nullopt : std::optional<double>(DatumGetFloat8(row.values[3])),
                  row.uuid(4));
    });
}

void read_file_accesses(pg::SpiConnection& spi, const RowFilter& filter, FileRollupBatch& batch) {
    const Datum upload = enum_label("file_action", "upload");
    const Datum download = enum_label("file_action", "download");
    const Datum view = enum_label("file_action", "view");
    std::string sql = "SELECT organization_id, at, action, bytes, user_id FROM tenancy.file_access_log" +
                      filter_sql(filter);
    scan(spi, sql, filter, [&](TupleTableSlot* slot) {
        Row<5> row(slot);
        // A superuser or the log's owner can insert 'infinity' (the log has
        // no check on it, unlike events: added to a partitioned log of
        // hundreds of millions of rows it would have to be validated, under
        // the upgrade's locks, for a dump's partitions to attach): such a row
        // belongs to no hour. Before the 1.15 library it made one past the end
        // of timestamptz, which file_stats_daily could not read.
        if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(row.values[1]))) return;
        // (An update, a deletion or a restore counts its user only: they
        // stand together as `update`.)
        core::FileAction kind = row.values[2] == upload     ? core::FileAction::upload
                                : row.values[2] == download ? core::FileAction::download
                                : row.values[2] == view     ? core::FileAction::view
                                                            : core::FileAction::update;
        batch.add(pg::uuid_from_datum(row.values[0]), DatumGetTimestampTz(row.values[1]), kind,
                  row.nulls[3] ? std::nullopt
                               : std::optional<std::int64_t>(DatumGetInt64(row.values[3])),
                  row.uuid(4));
    });
}

// One array argument of a statement, filled element by element.
struct ArrayColumn {
    explicit ArrayColumn(Oid type) : elem_type(type) {}

    Oid elem_type;
    std::vector<Datum> values;
    std::vector<char> nulls;

    void push(Datum value, bool is_null = false) {
        values.push_back(value);
        nulls.push_back(is_null);
    }
    pg::SpiArg arg(Oid array_type) const {
        return {array_type, pg::make_array(values, nulls, elem_type)};
    }
};

// The organizations a run writes buckets for, locked FOR KEY SHARE until it
// commits: what a foreign key's check did per bucket row, done once per run
// (the rollup tables have no foreign key since 1.3). A concurrent delete of
// one of them waits for the run, and its cleanup (organizations_audit_cleanup)
// then removes what the run wrote. Buckets of an organization deleted before
// (events committed by a transaction that was open while it went) have
// nowhere to go and are skipped.
using Organizations = std::unordered_set<core::Uuid, core::UuidHash>;

struct OrganizationLocks {
    Organizations live;  // locked: their buckets go into the rollups
    Organizations busy;  // their row is locked by another transaction (deferring runs only)
    bool table_busy = false;  // the table itself was: every organization is busy
};

template <typename Ids>
ArrayColumn uuid_array(const Ids& organizations) {
    ArrayColumn ids{UUIDOID};
    for (const core::Uuid& id : organizations) ids.push(pg::uuid_to_datum(id));
    return ids;
}

// Runs fn with its lock waits ending at `deadline`; false when one ran out
// or would have deadlocked: then what fn did is rolled back.
template <typename Fn>
bool within_deadline(const pg::LockDeadline& deadline, Fn&& fn) {
    return !pg::try_lock_waits([&] {
        deadline.before_wait();
        fn();
    });
}

// Locks those of `ids` that no other transaction holds (FOR KEY SHARE SKIP
// LOCKED) and adds them to `locked`, waiting at most until `deadline`. SKIP
// LOCKED does not skip everything: locking a row whose newer version another
// transaction is writing follows the update and waits for that transaction
// (rows_being_written finds those first; this is the backstop for one that
// began meanwhile). False when that wait ran out: then none of `ids` is
// locked.
bool lock_free_organizations(pg::SpiConnection& spi, const pg::LockDeadline& deadline,
                             const Organizations& ids, Organizations& locked) {
    ArrayColumn array = uuid_array(ids);
    Organizations got;
    bool done = within_deadline(deadline, [&] {
        spi.for_each_row("SELECT id FROM tenancy.organizations WHERE id = ANY($1)"
                         " ORDER BY id FOR KEY SHARE SKIP LOCKED",
                         {array.arg(UUIDARRAYOID)}, false, [&](TupleTableSlot* slot) {
                             got.insert(pg::uuid_from_datum(slot->tts_values[0]));
                         });
    });
    if (!done) return false;
    locked.insert(got.begin(), got.end());
    return true;
}

// The xmax of an organization's row version, as its header says.
struct RowXmax {
    core::Uuid id;
    TransactionId raw = InvalidTransactionId;  // InvalidTransactionId: none
    uint16 infomask = 0;
    uint16 infomask2 = 0;
};

// The xmax of each of `ids`' row versions that a statement sees now, read
// from the versions' headers (by ctid) without locking any row.
std::vector<RowXmax> organization_xmaxes(pg::SpiConnection& spi, const Organizations& ids) {
    ArrayColumn array = uuid_array(ids);
    std::vector<ItemPointerData> versions;
    std::vector<RowXmax> xmaxes;
    spi.for_each_row("SELECT ctid, id FROM tenancy.organizations WHERE id = ANY($1)",
                     {array.arg(UUIDARRAYOID)}, false, [&](TupleTableSlot* slot) {
                         auto tid = reinterpret_cast<ItemPointer>(DatumGetPointer(slot->tts_values[0]));
                         versions.push_back(*tid);
                         xmaxes.push_back({pg::uuid_from_datum(slot->tts_values[1])});
                     });
    pg::call([&] {
        Relation relation =
            table_open(get_relname_relid("organizations", get_namespace_oid("tenancy", false)),
                       AccessShareLock);
        for (std::size_t i = 0; i < versions.size(); ++i) {
            ItemPointer tid = &versions[i];
            Buffer buffer = ReadBuffer(relation, ItemPointerGetBlockNumber(tid));
            LockBuffer(buffer, BUFFER_LOCK_SHARE);
            Page page = BufferGetPage(buffer);
            OffsetNumber offset = ItemPointerGetOffsetNumber(tid);
            if (offset <= PageGetMaxOffsetNumber(page) && ItemIdIsNormal(PageGetItemId(page, offset))) {
                auto header =
                    reinterpret_cast<HeapTupleHeader>(PageGetItem(page, PageGetItemId(page, offset)));
                if (!(header->t_infomask & HEAP_XMAX_INVALID)) {
                    xmaxes[i].raw = HeapTupleHeaderGetRawXmax(header);
                    xmaxes[i].infomask = header->t_infomask;
                    xmaxes[i].infomask2 = header->t_infomask2;
                }
            }
            UnlockReleaseBuffer(buffer);
        }
        table_close(relation, AccessShareLock);
    });
    return xmaxes;
}

// A transaction behind an xmax that is still in progress (not this one).
struct RowHolder {
    TransactionId xid;
    bool defers_runs;   // a run defers the organization for it: it deletes
                        // the row or changes its key, or locks it FOR UPDATE
                        // (each conflicts with the run's FOR KEY SHARE); a
                        // change of other columns (its name; since 1.24 its
                        // slug) and other locks do not
};

// The transactions behind an xmax (itself, or a multixact's members) that
// are still in progress, this one left out. key_writers_only: only those
// that delete the row or change its key (a lock-only xmax is not looked
// into).
std::vector<RowHolder> row_holders(const RowXmax& xmax, bool key_writers_only) {
    std::vector<RowHolder> holders;
    if (!TransactionIdIsValid(xmax.raw)) return holders;
    bool locks_only = HEAP_XMAX_IS_LOCKED_ONLY(xmax.infomask);
    if (key_writers_only && locks_only) return holders;
    if (!(xmax.infomask & HEAP_XMAX_IS_MULTI)) {
        // A single xmax: HEAP_KEYS_UPDATED marks a deletion, a key update
        // and a FOR UPDATE lock (an exclusive lock that marks the key as if
        // updated, heap_lock_tuple); FOR NO KEY UPDATE and an update of other
        // columns leave it unset.
        bool key = (xmax.infomask2 & HEAP_KEYS_UPDATED) != 0;
        bool writes_key = !locks_only && key;
        if (key_writers_only && !writes_key) return holders;
        bool for_update = locks_only && key && (xmax.infomask & HEAP_XMAX_EXCL_LOCK);
        holders.push_back({xmax.raw, writes_key || for_update});
    } else {
        MultiXactMember* members = nullptr;
        bool upgraded = HEAP_LOCKED_UPGRADED(xmax.infomask);
        int count = pg::call([&] {
            return GetMultiXactIdMembers(static_cast<MultiXactId>(xmax.raw), &members, upgraded,
                                         locks_only);
        });
        for (int i = 0; i < count; ++i) {
            // (MultiXactStatusNoKeyUpdate: an update of other columns.)
            bool writes_key = members[i].status == MultiXactStatusUpdate;
            if (key_writers_only && !writes_key) continue;
            holders.push_back(
                {members[i].xid, writes_key || members[i].status == MultiXactStatusForUpdate});
        }
    }
    std::vector<RowHolder> open;
    for (const RowHolder& holder : holders) {
        TransactionId xid = holder.xid;
        if (pg::call([&] {
                return TransactionIdIsValid(xid) && !TransactionIdIsCurrentTransactionId(xid) &&
                       TransactionIdIsInProgress(xid);
            })) {
            open.push_back(holder);
        }
    }
    return open;
}

// The organizations of `ids` whose row, as a statement sees it now, another
// transaction that is still open has deleted or changed the key of: locking
// such a row FOR KEY SHARE would follow the update and wait. (An update of
// other columns it follows without waiting, unless a later version is held
// in turn: lock_free_organizations' wait is the backstop for that.) Read
// from the row versions' headers, without locking any row, so that a tenant
// holding many rows that way costs a run no wait and no subtransaction for
// each.
Organizations rows_being_written(pg::SpiConnection& spi, const Organizations& ids) {
    Organizations written;
    for (const RowXmax& xmax : organization_xmaxes(spi, ids)) {
        if (!row_holders(xmax, true).empty()) written.insert(xmax.id);
    }
    return written;
}

// Locks the organizations of [first, last) (in id order) that no other
// transaction holds. A part with a row that is being written waits until
// the deadline (at least a millisecond after it), is rolled back and split
// in halves, until the rows that wait are alone: those are busy. With k of
// them among n organizations, about 2k·log2(n) tries, each a subtransaction.
void lock_or_split(pg::SpiConnection& spi, const pg::LockDeadline& deadline,
                   std::vector<core::Uuid>::const_iterator first,
                   std::vector<core::Uuid>::const_iterator last, OrganizationLocks& locks) {
    if (lock_free_organizations(spi, deadline, Organizations(first, last), locks.live)) return;
    if (last - first == 1) {
        locks.busy.insert(*first);
        return;
    }
    auto middle = first + (last - first) / 2;
    lock_or_split(spi, deadline, first, middle, locks);
    lock_or_split(spi, deadline, middle, last, locks);
}

// defer_busy (a run): lock the organizations no other transaction holds,
// waiting at most tenancy.rollup_lock_timeout in all, and tell those whose
// row another transaction holds (SELECT … FOR UPDATE or a DELETE not yet
// committed, or a lock like those on a version of the row being written)
// from those that are gone. Otherwise wait for each lock, as rebuild_rollups
// does.
// Subtransactions: normally two (the table, then the rows); more only for a
// row whose writing began after rows_being_written looked.
OrganizationLocks lock_organizations(pg::SpiConnection& spi, const Organizations& wanted,
                                     bool defer_busy) {
    OrganizationLocks locks;
    if (wanted.empty()) return locks;
    if (!defer_busy) {
        ArrayColumn ids = uuid_array(wanted);
        // KEY SHARE locks do not conflict with each other (and runs take
        // turns on rollup_state anyway); what waits on them is a deletion.
        spi.for_each_row("SELECT id FROM tenancy.organizations WHERE id = ANY($1)"
                         " ORDER BY id FOR KEY SHARE",
                         {ids.arg(UUIDARRAYOID)}, false, [&](TupleTableSlot* slot) {
                             locks.live.insert(pg::uuid_from_datum(slot->tts_values[0]));
                         });
        return locks;
    }
    const pg::LockDeadline deadline(g_rollup_lock_timeout_ms);
    // The table first: with a DBA's ALTER TABLE queued on it, every row lock
    // below would wait. Without it in time, all wait for a later run.
    if (!within_deadline(deadline, [&] {
            spi.execute("LOCK TABLE tenancy.organizations IN ROW SHARE MODE", false);
        })) {
        locks.busy = wanted;
        locks.table_busy = true;
        return locks;
    }
    locks.busy = rows_being_written(spi, wanted);
    std::vector<core::Uuid> ordered;
    for (const core::Uuid& id : wanted) {
        if (locks.busy.count(id) == 0) ordered.push_back(id);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const core::Uuid& a, const core::Uuid& b) { return a.bytes < b.bytes; });
    if (!ordered.empty()) lock_or_split(spi, deadline, ordered.begin(), ordered.end(), locks);
    Organizations skipped;
    for (const core::Uuid& id : wanted) {
        if (locks.live.count(id) == 0 && locks.busy.count(id) == 0) skipped.insert(id);
    }
    if (skipped.empty()) return locks;
    // Skipped: held by another transaction if the row is there now, else
    // gone. Not read-only: in a snapshot taken now, not in the one of the
    // statement that called the run (taken before it waited for the last run).
    ArrayColumn skipped_ids = uuid_array(skipped);
    spi.for_each_row("SELECT id FROM tenancy.organizations WHERE id = ANY($1)",
                     {skipped_ids.arg(UUIDARRAYOID)}, false, [&](TupleTableSlot* slot) {
                         locks.busy.insert(pg::uuid_from_datum(slot->tts_values[0]));
                     });
    return locks;
}

// Memory for one bucket's values, released before the next bucket.
class BucketMemory {
public:
    BucketMemory()
        : memory_(pg::call([] {
              return AllocSetContextCreate(CurrentMemoryContext, "pg_tenancy bucket",
                                           ALLOCSET_DEFAULT_SIZES);
          })) {}
    ~BucketMemory() {
        // On the error path the transaction's abort releases it.
        if (std::uncaught_exceptions() == 0) MemoryContextDelete(memory_);
    }
    BucketMemory(const BucketMemory&) = delete;
    BucketMemory& operator=(const BucketMemory&) = delete;

    // Makes it current until the scope ends, then empties it.
    class Scope {
    public:
        explicit Scope(BucketMemory& owner)
            : memory_(owner.memory_), previous_(MemoryContextSwitchTo(owner.memory_)) {}
        ~Scope() {
            MemoryContextSwitchTo(previous_);
            if (std::uncaught_exceptions() == 0) MemoryContextReset(memory_);
        }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        MemoryContext memory_;
        MemoryContext previous_;
    };

private:
    MemoryContext memory_;
};

// A stored sketch column; a value that is not a sketch stops the run (as
// the SQL merge functions refuse it) rather than being overwritten. `row`
// names the row for the message.
template <typename Sketch, typename Key>
Sketch stored_sketch(Datum value, const char* what, const Key& row) {
    auto sketch = Sketch::deserialize(pg::varlena_view(value));
    if (!sketch) {
        throw pg::Error(ERRCODE_INVALID_BINARY_REPRESENTATION,
                        std::string("invalid ") + what + " in a stored rollup row",
                        "organization " + row.organization_id.to_string() + ", hour " +
                            std::to_string(row.hour) + " (timestamptz microseconds)",
                        "rebuild_rollups(organization) recomputes the organization's rollups.");
    }
    return std::move(*sketch);
}

// The columns of a stored rollup row, deformed.
struct StoredRow {
    const Datum* values;
    const bool* nulls;

    explicit StoredRow(TupleTableSlot* slot) {
        pg::call([&] { slot_getallattrs(slot); });
        values = slot->tts_values;
        nulls = slot->tts_isnull;
    }
    Datum operator[](int attnum) const { return values[attnum - 1]; }
    bool is_null(int attnum) const { return nulls[attnum - 1]; }
};

// The attribute number of a column of tenancy.<relname> of that type, or 0
// when it has none (an older schema's table: see TableAppender::column_if_any).
int column_if_any(const char* relname, const char* name, Oid type) {
    return pg::call([&] {
        Oid relid = get_relname_relid(relname, get_namespace_oid("tenancy", false));
        AttrNumber attnum = OidIsValid(relid) ? get_attnum(relid, name) : InvalidAttrNumber;
        if (attnum == InvalidAttrNumber || get_atttype(relid, attnum) != type) return 0;
        return static_cast<int>(attnum);
    });
}

// Column numbers by name: a table's attribute numbers, or positions in a
// select list made of the names asked for, in the order asked. if_any: 0
// for a column the table lacks (a column added by a later version: the
// library serves older schemas too).
struct TableColumns {
    const pg::TableAppender& table;
    int operator()(const char* name) const { return table.column(name); }
    int if_any(const char* name, Oid type) const { return table.column_if_any(name, type); }
};
struct SelectList {
    explicit SelectList(const char* relname) : relname(relname) {}
    const char* relname;  // the table selected from, in schema tenancy
    std::string sql;
    int count = 0;
    int operator()(const char* name) {
        sql += (count == 0 ? "" : ", ") + std::string(name);
        return ++count;
    }
    int if_any(const char* name, Oid type) {
        return column_if_any(relname, name, type) == 0 ? 0 : (*this)(name);
    }
};

// How the buckets of tenancy.event_rollups (and of the deferred table of the
// same columns) map to its columns.
struct EventRollupTable {
    static constexpr const char* name = "event_rollups";
    static constexpr const char* deferred_name = "event_rollups_deferred";
    int org, hour, kind, events, value_count, value_sum, value_min, value_max, value_sketch,
        user_sketch;

    template <typename ColumnNumber>
    explicit EventRollupTable(ColumnNumber&& number)
        : org(number("organization_id")), hour(number("hour")), kind(number("kind")),
          events(number("events")), value_count(number("value_count")),
          value_sum(number("value_sum")), value_min(number("value_min")),
          value_max(number("value_max")), value_sketch(number("value_sketch")),
          user_sketch(number("user_sketch")) {}

    core::EventBucketKey key(const StoredRow& row) const {
        return {pg::uuid_from_datum(row[org]), DatumGetTimestampTz(row[hour]),
                pg::varlena_bytes(row[kind])};
    }

    void set_key(pg::TableAppender& table, const core::EventBucketKey& key) const {
        table.set(org, pg::uuid_to_datum(key.organization_id));
        table.set(hour, TimestampTzGetDatum(key.hour));
        table.set(kind, pg::string_to_text(key.kind));
    }
    core::EventBucket stored(const StoredRow& row, const core::EventBucketKey& key) const {
        core::EventBucket bucket;
        bucket.events = DatumGetInt64(row[events]);
        bucket.value_count = DatumGetInt64(row[value_count]);
        bucket.value_sum = DatumGetFloat8(row[value_sum]);
        if (!row.is_null(value_min)) bucket.value_min = DatumGetFloat8(row[value_min]);
        if (!row.is_null(value_max)) bucket.value_max = DatumGetFloat8(row[value_max]);
        bucket.values = stored_sketch<core::QuantileSketch>(row[value_sketch], "quantile sketch", key);
        bucket.users = stored_sketch<core::DistinctSketch>(row[user_sketch], "distinct sketch", key);
        return bucket;
    }
    void set_figures(pg::TableAppender& table, const core::EventBucket& bucket) const {
        table.set(events, Int64GetDatum(bucket.events));
        table.set(value_count, Int64GetDatum(bucket.value_count));
        table.set(value_sum, Float8GetDatum(bucket.value_sum));
        // No value yet: NULL extremes (the sentinels are infinities; values
        // are finite, so an infinite extreme is one that was never set).
        table.set(value_min, Float8GetDatum(bucket.value_min), !std::isfinite(bucket.value_min));
        table.set(value_max, Float8GetDatum(bucket.value_max), !std::isfinite(bucket.value_max));
        table.set(value_sketch, pg::bytes_to_bytea(bucket.values.serialize()));
        table.set(user_sketch, pg::bytes_to_bytea(bucket.users.serialize()));
    }
};

// How the buckets of tenancy.file_rollups (and of its deferred table) map
// to its columns.
struct FileRollupTable {
    static constexpr const char* name = "file_rollups";
    static constexpr const char* deferred_name = "file_rollups_deferred";
    int org, hour, uploads, downloads, bytes_uploaded, bytes_downloaded, user_sketch;
    // 0 in a schema before 1.24, whose tables have no views column: the
    // views a run counts there are not kept (they count as users only, as
    // before 1.24).
    int views;

    template <typename ColumnNumber>
    explicit FileRollupTable(ColumnNumber&& number)
        : org(number("organization_id")), hour(number("hour")), uploads(number("uploads")),
          downloads(number("downloads")), bytes_uploaded(number("bytes_uploaded")),
          bytes_downloaded(number("bytes_downloaded")), user_sketch(number("user_sketch")),
          views(number.if_any("views", INT8OID)) {}

    core::FileBucketKey key(const StoredRow& row) const {
        return {pg::uuid_from_datum(row[org]), DatumGetTimestampTz(row[hour])};
    }

    void set_key(pg::TableAppender& table, const core::FileBucketKey& key) const {
        table.set(org, pg::uuid_to_datum(key.organization_id));
        table.set(hour, TimestampTzGetDatum(key.hour));
    }
    core::FileBucket stored(const StoredRow& row, const core::FileBucketKey& key) const {
        core::FileBucket bucket;
        bucket.uploads = DatumGetInt64(row[uploads]);
        bucket.downloads = DatumGetInt64(row[downloads]);
        bucket.bytes_uploaded = DatumGetInt64(row[bytes_uploaded]);
        bucket.bytes_downloaded = DatumGetInt64(row[bytes_downloaded]);
        // (NOT NULL in the extension's schema; a NULL counts as none.)
        if (views != 0 && !row.is_null(views)) bucket.views = DatumGetInt64(row[views]);
        bucket.users = stored_sketch<core::DistinctSketch>(row[user_sketch], "distinct sketch", key);
        return bucket;
    }
    void set_figures(pg::TableAppender& table, const core::FileBucket& bucket) const {
        table.set(uploads, Int64GetDatum(bucket.uploads));
        table.set(downloads, Int64GetDatum(bucket.downloads));
        table.set(bytes_uploaded, Int64GetDatum(bucket.bytes_uploaded));
        table.set(bytes_downloaded, Int64GetDatum(bucket.bytes_downloaded));
        if (views != 0) table.set(views, Int64GetDatum(bucket.views));
        table.set(user_sketch, pg::bytes_to_bytea(bucket.users.serialize()));
    }
};

// Buckets are written straight into a rollup table (pg::TableAppender):
// each bucket's stored row is found by its primary key and locked, merged
// with the run's figures in C++ and updated; a new bucket is inserted as
// the run counted it. The SQL this replaces (INSERT … SELECT FROM unnest(…)
// ON CONFLICT DO UPDATE with the merge functions) spent more on
// materializing its input, speculative insertion and the merge functions'
// calls than on the rows. Runs take turns (rollup_state), so no other run
// inserts the same key meanwhile. Writes the buckets of `organizations`
// only, into `relname`: the rollup table, or its deferred table, whose new
// rows get `deferred_at` (a stored one keeps its own). Returns the buckets
// written.
template <typename Table, typename Batch>
std::uint64_t write_buckets(const char* relname, const Batch& batch,
                            const Organizations& organizations,
                            std::optional<Datum> deferred_at = std::nullopt) {
    // Nothing to write: the table is not even opened (an idle run under
    // pg_cron takes no lock on it).
    bool any = false;
    for (const auto& [key, bucket] : batch.buckets()) {
        if (organizations.count(key.organization_id) != 0) {
            any = true;
            break;
        }
    }
    if (!any) return 0;
    pg::TableAppender rollups("tenancy", relname);
    const Table table{TableColumns{rollups}};
    const int deferred_at_column = deferred_at ? rollups.column("deferred_at") : 0;
    BucketMemory memory;
    std::uint64_t written = 0;
    for (const auto& [key, bucket] : batch.buckets()) {
        if (organizations.count(key.organization_id) == 0) continue;
        BucketMemory::Scope scope(memory);
        table.set_key(rollups, key);
        TupleTableSlot* stored = rollups.find_by_primary_key();
        if (stored == nullptr) {
            table.set_figures(rollups, bucket);
            if (deferred_at) rollups.set(deferred_at_column, *deferred_at);
            rollups.append_row();
        } else {
            auto merged = table.stored(StoredRow(stored), key);
            merged.merge(bucket);
            table.set_figures(rollups, merged);
            rollups.update_row(stored);
        }
        ++written;
    }
    rollups.finish();
    return written;
}

// Adds the organizations with buckets waiting in a deferred table; false if
// none waits there.
template <typename Table>
bool add_deferred_organizations(pg::SpiConnection& spi, Organizations& organizations) {
    std::string sql =
        std::string("SELECT DISTINCT organization_id FROM tenancy.") + Table::deferred_name;
    // Not read-only: in a snapshot taken now (see lock_organizations).
    return spi.for_each_row(sql.c_str(), {}, false, [&](TupleTableSlot* slot) {
               organizations.insert(pg::uuid_from_datum(slot->tts_values[0]));
           }) > 0;
}

// Takes the waiting buckets of the organizations this run examined and
// found not busy out of the deferred table: those of a locked one join this
// run's batch, those of one that is gone go with it.
template <typename Table, typename Batch>
void take_deferred_buckets(pg::SpiConnection& spi, const OrganizationLocks& locks,
                           const Organizations& examined, Batch& batch) {
    SelectList select{Table::deferred_name};
    const Table columns{select};
    std::string sql = std::string("DELETE FROM tenancy.") + Table::deferred_name +
                      " WHERE organization_id = ANY($1) RETURNING " + select.sql;
    Organizations settled;
    for (const core::Uuid& id : examined) {
        if (locks.busy.count(id) == 0) settled.insert(id);
    }
    if (settled.empty()) return;
    ArrayColumn settled_ids = uuid_array(settled);
    spi.for_each_row(sql.c_str(), {settled_ids.arg(UUIDARRAYOID)}, false, [&](TupleTableSlot* slot) {
        StoredRow row(slot);
        auto key = columns.key(row);
        if (locks.live.count(key.organization_id) != 0) {
            batch.merge_bucket(key, columns.stored(row, key));
        }
    });
}

// Both sources, read under one snapshot, then written. defer_busy (a run,
// once the schema has the deferred tables): buckets of organizations whose
// row another transaction holds wait for a later run instead of the run
// waiting for the lock, and buckets that waited join this run.
std::vector<SourceReport> aggregate_and_write(pg::SpiConnection& spi, const RowFilter& events_filter,
                                              const RowFilter& files_filter,
                                              FreshSnapshot* snapshot_to_release,
                                              bool defer_busy) {
    SourceReport events{"events"}, files{"file_access_log"};
    EventRollupBatch event_batch;
    FileRollupBatch file_batch;
    Stopwatch events_clock;
    read_events(spi, events_filter, event_batch);
    double events_read_ms = events_clock.milliseconds();
    Stopwatch files_clock;
    read_file_accesses(spi, files_filter, file_batch);
    double files_read_ms = files_clock.milliseconds();
    if (snapshot_to_release != nullptr) snapshot_to_release->pop();

    Stopwatch events_write;
    Organizations wanted;
    for (const auto& [key, bucket] : event_batch.buckets()) wanted.insert(key.organization_id);
    for (const auto& [key, bucket] : file_batch.buckets()) wanted.insert(key.organization_id);
    // Which deferred table has waiting buckets (a run with none, the usual
    // case, touches neither again).
    bool events_waiting = defer_busy && add_deferred_organizations<EventRollupTable>(spi, wanted);
    bool files_waiting = defer_busy && add_deferred_organizations<FileRollupTable>(spi, wanted);
    OrganizationLocks locks = lock_organizations(spi, wanted, defer_busy);
    if (events_waiting) take_deferred_buckets<EventRollupTable>(spi, locks, wanted, event_batch);
    if (files_waiting) take_deferred_buckets<FileRollupTable>(spi, locks, wanted, file_batch);
    const Datum now = pg::call([] { return TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()); });
    events.rows_read = event_batch.rows();
    events.buckets_written =
        write_buckets<EventRollupTable>(EventRollupTable::name, event_batch, locks.live);
    events.buckets_deferred =
        write_buckets<EventRollupTable>(EventRollupTable::deferred_name, event_batch, locks.busy, now);
    events.milliseconds = events_read_ms + events_write.milliseconds();
    Stopwatch files_write;
    files.rows_read = file_batch.rows();
    files.buckets_written =
        write_buckets<FileRollupTable>(FileRollupTable::name, file_batch, locks.live);
    files.buckets_deferred =
        write_buckets<FileRollupTable>(FileRollupTable::deferred_name, file_batch, locks.busy, now);
    files.milliseconds = files_read_ms + files_write.milliseconds();
    if (!locks.busy.empty()) {
        int busy = static_cast<int>(locks.busy.size());
        pg::call([&] {
            ereport(NOTICE,
                    (errmsg_plural("pg_tenancy: the rollups of %d organization wait for a later run",
                                   "pg_tenancy: the rollups of %d organizations wait for a later run",
                                   busy, busy),
                     locks.table_busy
                         ? errdetail("Another transaction holds a lock on tenancy.organizations "
                                     "that conflicts with the run's, or waits for one.")
                         : errdetail("Another transaction holds their row in tenancy.organizations."),
                     errhint("SELECT * FROM tenancy.rollups_waiting shows them; the first run "
                             "that can lock them merges them.")));
        });
    }
    return {events, files};
}

void refuse_on_standby(const char* function) {
    if (RecoveryInProgress()) {
        throw pg::Error(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                        std::string(function) + "() cannot run on a standby",
                        "The server is in recovery (a hot standby).",
                        "Run it on the primary; the rollups replicate to standbys.");
    }
}

void return_reports(FunctionCallInfo fcinfo, const std::vector<SourceReport>& reports) {
    auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const SourceReport& report : reports) {
        Datum values[4] = {
            pg::string_to_text(report.source),
            Int64GetDatum(static_cast<int64>(report.rows_read)),
            Int64GetDatum(static_cast<int64>(report.buckets_written)),
            Float8GetDatum(report.milliseconds)};
        bool nulls[4] = {false, false, false, false};
        pg::call([&] { tuplestore_putvalues(result->setResult, result->setDesc, values, nulls); });
    }
}

// Deletes the state row a first run made when it wrote nothing: a state
// would only stand in the way of a restore's, and the next first run reads
// again, from nothing, what this one read.
void forget_empty_state(pg::SpiConnection& spi) {
    spi.execute("DELETE FROM tenancy.rollup_state", false);
}

// The tables that hold counts: a state made while they hold rows would
// count their raw rows again.
std::vector<std::string> rollup_tables(bool deferral) {
    std::vector<std::string> tables{"event_rollups", "file_rollups"};
    if (deferral) tables.insert(tables.end(), {"event_rollups_deferred", "file_rollups_deferred"});
    return tables;
}

std::string missing_state_hint(const std::vector<std::string>& tables) {
    std::string truncate;
    for (const std::string& table : tables) truncate += (truncate.empty() ? "tenancy." : ", tenancy.") + table;
    return "If a restore is running, let it finish: tenancy.rollup_state is among the last tables "
           "it restores. If the row was deleted, count the rollups afresh from the raw rows kept "
           "(the hours whose raw rows were purged are lost): TRUNCATE " +
           truncate + "; then run again.";
}

// The state row is created by the first run, not by the install script, so
// that pg_restore brings back the dumped row without a conflict. First runs
// take turns on a lock of their own (take_first_run_lock): until one
// commits, another waits for it, or with run_rollups(wait => false) does
// nothing at once, as a run that finds the state row locked does.
//
// A state made here must be the first: rollups already written were counted
// under a state that is gone, and a fresh one would count their raw rows
// again. That is the case during a restore, whose last table is the state:
// a restored pg_cron job that ran run_rollups() between the rollups' COPY
// and the state's started a fresh state and doubled every bucket (review of
// 1.18). Refused then (55000); the error undoes the insert.
//
// A run that made the row and wrote no bucket does not keep it
// (forget_empty_state): a restore's state then still goes in, where a
// scheduled run before the restore reached the extension's rows, or before
// it reached the organizations of the raw rows it read, made one the dump's
// could not replace (reviews of 1.20).
enum class StateRow {
    existed,
    created,
    // Not made after all (the row is deleted again): another transaction
    // holds or waits for a lock on the rollup tables that excludes writers.
    // The caller does nothing this time.
    rollups_locked,
    // Not made: another first run is in progress, and the caller would not
    // wait for it.
    first_run_in_progress,
};

// Whether a run waits for another run.
enum class RunWait { wait, skip };

// The lock first runs take turns on, held to the end of the transaction.
// Without it a second first run waited for the first's transaction inside
// its insert of the state row (the key is taken), even with wait => false
// (review of 1.20, M1a). An object lock on tenancy.rollup_state's pg_class
// entry: PostgreSQL locks relations by another kind of tag, so nothing else
// takes this one (an advisory lock would take a key from the application's
// keyspace); pg_locks shows it as an object lock on tenancy.rollup_state.
bool take_first_run_lock(RunWait wait) {
    return pg::call([wait] {
        Oid state = get_relname_relid("rollup_state", get_namespace_oid("tenancy", false));
        if (wait == RunWait::skip) return ConditionalLockDatabaseObject(RelationRelationId, state, 0, ExclusiveLock);
        LockDatabaseObject(RelationRelationId, state, 0, ExclusiveLock);
        return true;
    });
}

StateRow ensure_state_row(pg::SpiConnection& spi, RunWait wait) {
    // Looked for first: an ON CONFLICT check alone would wait for a run that
    // holds the row updated, where run_rollups(wait => false) must not wait.
    if (spi.execute("SELECT FROM tenancy.rollup_state", false, 1) > 0) return StateRow::existed;
    if (!take_first_run_lock(wait)) return StateRow::first_run_in_progress;
    // NOT EXISTS again, in a snapshot taken now under READ COMMITTED: the
    // first run this one waited for may have committed the row. (Under
    // REPEATABLE READ the snapshot is older, and the insert's conflict with
    // a row it cannot see is a serialization failure, 40001, as in 1.20.)
    std::uint64_t created =
        spi.execute("INSERT INTO tenancy.rollup_state (last_snapshot)"
                    " SELECT '3:3:' WHERE NOT EXISTS (SELECT FROM tenancy.rollup_state)"
                    " ON CONFLICT DO NOTHING",
                    false);
    if (created == 0) return StateRow::existed;
    const std::vector<std::string> tables = rollup_tables(rollup_deferral_installed());
    // Rows a transaction is still writing are not seen by the check below
    // (a restore's COPY of the rollups in progress), and a run would merge
    // its counts into them once they commit (review of 1.19). A lock that
    // excludes writers, taken without waiting: a holder is not a run (the
    // others wait for this state row) but a restore, the deletion of an
    // organization (its rollups go with it) or a VACUUM, and the next run
    // goes ahead; waiting could deadlock a restore in one transaction, which
    // will want this row's key. Held to the end, so that a COPY begun later
    // fails on the keys this run writes instead of merging into them.
    bool locked_elsewhere = pg::call([&] {
        Oid schema = get_namespace_oid("tenancy", false);
        for (const std::string& table : tables) {
            Oid relid = get_relname_relid(table.c_str(), schema);
            if (OidIsValid(relid) && !ConditionalLockRelationOid(relid, ShareLock)) return true;
        }
        return false;
    });
    if (locked_elsewhere) {
        forget_empty_state(spi);
        return StateRow::rollups_locked;
    }
    // Under the lock, every row written is committed; read them in a
    // snapshot taken now whatever the isolation level (review of 1.20: a
    // REPEATABLE READ run kept the one it began with, and went ahead over
    // rollups committed since).
    std::string any_rows = "SELECT false";
    for (const std::string& table : tables) any_rows += " OR EXISTS (SELECT FROM tenancy." + table + ")";
    FreshSnapshot latest(FreshSnapshot::Source::latest);
    spi.execute(any_rows.c_str(), true, 1);
    bool is_null = false;
    bool rollups_written = DatumGetBool(spi.copied_value(0, 1, &is_null));
    latest.pop();
    if (!rollups_written) return StateRow::created;
    throw pg::Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "the rollup state is missing",
        "The rollups hold counts but tenancy.rollup_state has no row: a fresh state would count "
        "their raw rows again.",
        missing_state_hint(tables));
}

// What a call that finds the rollup tables locked with no state says.
void notice_rollups_locked(const char* function) {
    pg::call([function] {
        ereport(NOTICE,
                (errmsg("%s: nothing done: there is no rollup state yet, and another transaction "
                        "holds or waits for a lock on the rollup tables",
                        function),
                 errdetail("A first run excludes writers of the rollups: a restore's COPY of "
                           "them, the deletion of an organization, a VACUUM."),
                 errhint("The next run goes ahead once they are free.")));
    });
}

// A rollup state taken in another cluster (a restore from a dump of it): its
// snapshot and the raw rows' txid belong to that cluster's ids.
struct ForeignState {
    // This cluster's ids continue the state's and the raw rows': true
    // after pg_upgrade (which carries them over and gives the cluster a new
    // identifier), and after a restore into a new cluster whose ids were put
    // past the source's before its first start (pg_resetwal -e, README).
    bool ids_continue;
    // The least xid epoch of a new cluster whose ids are all past them.
    int64 least_epoch;
};

// Version 1.0 of the schema has no cluster_id (this library serves both).
bool state_records_cluster(pg::SpiConnection& spi) {
    spi.execute("SELECT FROM pg_attribute WHERE attrelid = 'tenancy.rollup_state'::regclass"
                " AND attname = 'cluster_id' AND NOT attisdropped",
                true, 1);
    return spi.row_count() > 0;
}

// How a caller reads the state row for foreign_state().
enum class StateRead {
    // The statement's snapshot: a STABLE function (check()) sees one state.
    as_the_statement_saw_it,
    // A snapshot taken now: the row a run or purge has just locked, which
    // may be newer than its statement (a state committed while it waited:
    // review of 1.19).
    as_locked,
};

// The state of a schema that records its cluster (state_records_cluster).
std::optional<ForeignState> recorded_foreign_state(pg::SpiConnection& spi, StateRead read) {
    bool read_only = read == StateRead::as_the_statement_saw_it;
    // Two statements, not one: the common case (the state is this
    // cluster's) is then one row read. Joined, the planner costed the raw
    // rows' scans once per row it guessed for rollup_state (a never-analyzed
    // table), and every run paid JIT compilation for a query that read
    // nothing (35 ms a run on an empty database, 0.4 s with 200,000 events).
    static pg::CachedPlan foreign_xmax(
        "SELECT pg_snapshot_xmax(last_snapshot) FROM tenancy.rollup_state"
        " WHERE cluster_id <> (SELECT system_identifier FROM pg_control_system())",
        {});
    spi.execute(foreign_xmax, {}, read_only);
    if (spi.row_count() == 0) return std::nullopt;
    bool is_null = false;
    Datum state_xmax = spi.copied_value(0, 1, &is_null);
    // The ids continue when every id not yet committed here is past the
    // state's snapshot, and no raw row holds an id this cluster has not
    // assigned yet (the source's rows written after its last run, in a
    // later epoch if the source's moved on since: review of 1.18). Rows with
    // ids this cluster has passed are counted once by the next run. The
    // newest raw id is read through the BRIN indexes on txid, which skip the
    // ranges below the state's snapshot.
    static pg::CachedPlan ids(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1 AND $2 > coalesce(newest, '0'),"
        " (greatest($1, newest)::text::bigint >> 32) + 1"
        " FROM (SELECT greatest("
        "   (SELECT max(txid) FROM tenancy.events WHERE txid >= $1),"
        "   (SELECT max(txid) FROM tenancy.file_access_log WHERE txid >= $1)) AS newest) r",
        {XID8OID, XID8OID});
    Datum next_id = pg::call([] { return FullTransactionIdGetDatum(ReadNextFullTransactionId()); });
    spi.execute(ids, {{XID8OID, state_xmax}, {XID8OID, next_id}}, read_only);
    ForeignState state{};
    state.ids_continue = DatumGetBool(spi.copied_value(0, 1, &is_null)) && !is_null;
    state.least_epoch = DatumGetInt64(spi.copied_value(0, 2, &is_null));
    return state;
}

std::optional<ForeignState> foreign_state(pg::SpiConnection& spi, StateRead read) {
    if (!state_records_cluster(spi)) return std::nullopt;
    return recorded_foreign_state(spi, read);
}

// The DBA, who knows how the cluster was made, adopts the state; a run
// cannot tell pg_upgrade from a restore into a cluster whose ids happen to
// be further on, where ids written after the restore but below the state's
// would never be counted.
pg::Error foreign_state_refusal(const ForeignState& state) {
    return pg::Error(
        ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, "the rollup state was taken in another cluster",
        "tenancy.rollup_state and the raw rows record transaction ids of the cluster they come "
        "from.",
        state.ids_continue
            ? "If pg_upgrade made this cluster from that one, or the dump was restored into a new "
              "cluster whose transaction ids were put past the source's before its first start "
              "(this cluster's ids continue the state's and the raw rows', as they do here), adopt "
              "the state as a superuser: UPDATE tenancy.rollup_state SET cluster_id = NULL; See "
              "README, Dump and restore."
            : "A dump of another cluster: restore it into a new cluster whose transaction ids are "
              "past the source's, set before its first start with pg_resetwal -e N, N one more "
              "than the source's epoch (at least " +
                  std::to_string(state.least_epoch) +
                  "), then adopt the state: see README, Dump and restore.");
}

// Records this cluster on a state that has none yet. Needs the row locked.
void check_state_cluster(pg::SpiConnection& spi) {
    if (!state_records_cluster(spi)) return;
    if (auto foreign = recorded_foreign_state(spi, StateRead::as_locked)) {
        throw foreign_state_refusal(*foreign);
    }
    spi.execute("UPDATE tenancy.rollup_state"
                " SET cluster_id = (SELECT system_identifier FROM pg_control_system())"
                " WHERE cluster_id IS NULL",
                false);
}

// This transaction's id (the state row lock gave it one). A run neither
// counts its own transaction's rows nor lets its stored snapshot see them:
// the next run counts them, once, after they commit.
Datum own_transaction_id() {
    return pg::call([] { return FullTransactionIdGetDatum(GetTopFullTransactionId()); });
}

Datum stored_snapshot(Datum current_text, Datum own_xid) {
    std::string current = pg::varlena_bytes(current_text);
    auto adjusted = core::snapshot_with_in_progress(current, DatumGetUInt64(own_xid));
    if (!adjusted) {
        throw pg::Error(ERRCODE_INTERNAL_ERROR, "pg_tenancy: unexpected snapshot \"" + current + "\"");
    }
    return pg::string_to_text(*adjusted);
}

void start_materialized_result(FunctionCallInfo fcinfo) {
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
}

}  // namespace
}  // namespace tenancy

void tenancy::define_rollup_settings() {
    DefineCustomIntVariable(
        "tenancy.rollup_lock_timeout",
        "How long tenancy.run_rollups() and the purges wait, in all, for organization rows "
        "that other transactions are writing.",
        "A run defers the buckets of an organization whose row another transaction holds; it "
        "waits only for a row being written, and this long at most, since every organization's "
        "rollups wait with it.",
        &g_rollup_lock_timeout_ms, 100, 1, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr,
        nullptr);
}

void tenancy::refuse_foreign_rollup_state(pg::SpiConnection& spi) {
    if (auto foreign = foreign_state(spi, StateRead::as_locked)) throw foreign_state_refusal(*foreign);
}

std::vector<tenancy::core::Uuid> tenancy::lock_organizations_for_purge(pg::SpiConnection& spi) {
    Organizations all;
    spi.for_each_row("SELECT id FROM tenancy.organizations", {}, false, [&](TupleTableSlot* slot) {
        all.insert(pg::uuid_from_datum(slot->tts_values[0]));
    });
    // Under REPEATABLE READ a lock on a row renamed since the snapshot fails
    // (40001) whatever the mode: no locks there, only the rows being written
    // (a deletion in progress), from their headers. A deletion that begins
    // after that look can still make the purge wait.
    Organizations busy = IsolationUsesXactSnapshot() ? rows_being_written(spi, all)
                                                     : lock_organizations(spi, all, true).busy;
    return {busy.begin(), busy.end()};
}

Datum tenancy::uuid_array_datum(const std::vector<core::Uuid>& ids) {
    return uuid_array(ids).arg(UUIDARRAYOID).value;
}

bool tenancy::rollup_deferral_installed() {
    return pg::call([] {
        Oid schema = get_namespace_oid("tenancy", true);
        return OidIsValid(schema) &&
               OidIsValid(get_relname_relid(EventRollupTable::deferred_name, schema)) &&
               OidIsValid(get_relname_relid(FileRollupTable::deferred_name, schema));
    });
}

using namespace tenancy;

// tenancy.lock_organizations_for_purge() -> uuid[] (purge_events, 1.8)
TENANCY_SQL_FUNCTION(tenancy_lock_organizations_for_purge) {
    std::vector<core::Uuid> busy;
    {
        pg::SpiConnection spi;
        busy = lock_organizations_for_purge(spi);
    }
    // Built once SPI's memory is gone: in the caller's.
    PG_RETURN_DATUM(uuid_array_datum(busy));
}

// tenancy.organization_row_holders(ids uuid[]) -> TABLE (organization_id
// uuid, pid integer, transaction xid) (check(), 1.9): the open transactions
// whose hold on those organizations' rows makes a rollup run defer them
// (they update or delete the row, or lock it FOR UPDATE; a KEY SHARE, SHARE
// or NO KEY UPDATE lock does not), by their top-level transaction id and
// their backend's pid (NULL for a prepared transaction), once each. Read from
// the row versions' headers, as the runs do: nothing is locked and nothing
// waits. As the organizations' owner: the caller's policies do not hide rows.
TENANCY_SQL_FUNCTION(tenancy_organization_row_holders) {
    Organizations ids;
    if (!PG_ARGISNULL(0)) {
        Datum* elements = nullptr;
        bool* nulls = nullptr;
        int count = 0;
        pg::call([&] {
            ArrayType* array = PG_GETARG_ARRAYTYPE_P(0);
            deconstruct_array(array, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &elements, &nulls, &count);
        });
        for (int i = 0; i < count; ++i) {
            if (!nulls[i]) ids.insert(pg::uuid_from_datum(elements[i]));
        }
    }
    struct Holder {
        core::Uuid organization;
        TransactionId transaction;
        int pid;
    };
    std::vector<Holder> holders;
    if (!ids.empty()) {
        as_organizations_owner([&] {
            pg::SpiConnection spi;
            for (const RowXmax& xmax : organization_xmaxes(spi, ids)) {
                for (const RowHolder& holder : row_holders(xmax, false)) {
                    if (!holder.defers_runs) continue;
                    TransactionId xid = holder.xid;
                    // A subtransaction's lock or write: its top-level
                    // transaction is the one a backend (or a prepared
                    // transaction) shows, and is named once.
                    TransactionId top = pg::call([&] { return SubTransGetTopmostTransaction(xid); });
                    bool known = std::any_of(holders.begin(), holders.end(), [&](const Holder& h) {
                        return h.organization == xmax.id && h.transaction == top;
                    });
                    if (known) continue;
                    int pid = pg::call([&] { return BackendXidGetPid(top); });
                    holders.push_back({xmax.id, top, pid});
                }
            }
        });
    }
    // Built once SPI's memory is gone: in the caller's.
    start_materialized_result(fcinfo);
    auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const Holder& holder : holders) {
        Datum values[3] = {pg::uuid_to_datum(holder.organization), Int32GetDatum(holder.pid),
                           TransactionIdGetDatum(holder.transaction)};
        bool nulls[3] = {false, holder.pid == 0, false};
        pg::call([&] { tuplestore_putvalues(result->setResult, result->setDesc, values, nulls); });
    }
    PG_RETURN_NULL();
}

// Whether a text datum is ASCII white space only (space, tab, line breaks,
// form feed, vertical tab: the set organizations' names use since 1.14, the
// same in every locale). Such an event kind would stand in the rollups and
// dashboards as a kind of its own that names nothing.
// A kind of white space only. An empty one is left to the length rules
// (track()'s 22023, the table's events_kind_length), which name what is
// wrong with it (before the 1.26 library a direct INSERT of '' was told it
// held only white space).
static bool only_white_space(Datum text_datum) {
    text* t = pg::call([&] { return reinterpret_cast<text*>(PG_DETOAST_DATUM_PACKED(text_datum)); });
    std::string_view chars(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    return !chars.empty() && chars.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
}

static constexpr const char* kBlankKindDetail =
    "An event's kind names what happened; a kind of white space only would stand in the rollups "
    "as a kind of its own (before the 1.17 library it was taken).";

// tenancy.track(kind text, value float8 DEFAULT NULL)
TENANCY_SQL_FUNCTION(tenancy_track) {
    const auto& context = current_context();
    // Worded as the other refusals without a context (before the 1.22
    // library: "tenancy.track() needs a tenant context").
    if (!context) refuse_without_context("tenancy.track()");
    if (PG_ARGISNULL(0)) throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "kind must not be NULL");
    refuse_read_only("tenancy.track");
    Datum kind = PG_GETARG_DATUM(0);
    int kind_length = pg::call([&] {
        text* t = reinterpret_cast<text*>(PG_DETOAST_DATUM_PACKED(kind));
        return pg_mbstrlen_with_len(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
    if (kind_length < 1 || kind_length > 100) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "kind must have 1 to 100 characters");
    }
    if (only_white_space(kind)) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "kind must hold more than white space",
                        kBlankKindDetail);
    }
    std::optional<double> value;
    if (!PG_ARGISNULL(1)) {
        value = PG_GETARG_FLOAT8(1);
        // Bounded so that no sum of values can overflow a rollup.
        if (!std::isfinite(*value) || std::fabs(*value) > 1e15) {
            throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                            "value must be a finite number between -1e15 and 1e15");
        }
    }
    pg::TableAppender events("tenancy", "events");
    auto set = [&](const char* column, Datum datum) { events.set(events.column(column), datum); };
    set("organization_id", pg::uuid_to_datum(context->org_id));
    set("id", Int64GetDatum(events.next_sequence_value(events.column("id"))));
    set("user_id", pg::uuid_to_datum(context->user_id));
    set("kind", kind);
    // NULL set, not left unset: a default a DBA gave the column must not
    // stand in for a value the caller did not give.
    events.set(events.column("value"), value ? Float8GetDatum(*value) : Datum(0), !value);
    set("at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));
    set("txid", pg::call([] { return FullTransactionIdGetDatum(GetTopFullTransactionId()); }));
    events.append_row();
    events.finish();
    PG_RETURN_VOID();
}

// The attribute number of a column of the relation: found by name in the
// tuple descriptor once, remembered in `known`, then only checked on each row
// (a column dropped and added again moves), with no catalog lookup per row;
// InvalidAttrNumber if none.
// The column `name`, read as `type` (by pointer for a uuid or a text): found
// where it was last time or looked up, and refused (42804) when it is of
// another type, as in a table a superuser attached the trigger function to:
// read as the wrong type it crashed the backend.
static AttrNumber column_number(Relation relation, const char* name, Oid type, AttrNumber& known) {
    TupleDesc desc = RelationGetDescr(relation);
    auto matches = [desc, name](AttrNumber attnum) {
        if (attnum < 1 || attnum > desc->natts) return false;
        Form_pg_attribute attribute = TupleDescAttr(desc, attnum - 1);
        return !attribute->attisdropped && std::strcmp(NameStr(attribute->attname), name) == 0;
    };
    AttrNumber found = InvalidAttrNumber;
    if (matches(known)) {
        found = known;
    } else {
        for (AttrNumber attnum = 1; attnum <= desc->natts && found == InvalidAttrNumber; ++attnum) {
            if (matches(attnum)) found = known = attnum;
        }
    }
    if (found != InvalidAttrNumber && !pg::reads_as(TupleDescAttr(desc, found - 1)->atttypid, type)) {
        // Raises the 42804 that says which type it must be.
        pg::typed_attribute_number(desc, name, type, false, RelationGetRelationName(relation));
    }
    return found;
}

static AttrNumber organization_column(Relation relation) {
    static AttrNumber known = InvalidAttrNumber;
    AttrNumber column = column_number(relation, "organization_id", UUIDOID, known);
    if (column != InvalidAttrNumber) return column;
    throw pg::Error(ERRCODE_UNDEFINED_COLUMN,
                    std::string(RelationGetRelationName(relation)) + " has no organization_id column");
}

// BEFORE INSERT ON tenancy.events FOR EACH ROW (track() and direct INSERTs):
// events have no foreign key, so the organization is locked as one would
// lock it, and a deletion of it waits for the new rows and takes them along.
TENANCY_SQL_FUNCTION(tenancy_events_lock_organization) {
    if (!CALLED_AS_TRIGGER(fcinfo)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "events_lock_organization must be called as a trigger");
    }
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_BEFORE(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
        !TRIGGER_FIRED_BY_INSERT(trigger->tg_event)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "events_lock_organization must fire BEFORE INSERT, FOR EACH ROW");
    }
    HeapTuple row = trigger->tg_trigtuple;
    // pg_restore's COPY may bring events back before their organizations.
    if (restoring_by_copy(trigger)) return PointerGetDatum(row);
    Relation relation = trigger->tg_relation;
    AttrNumber column = organization_column(relation);
    bool is_null = true;
    Datum organization_id =
        pg::call([&] { return heap_getattr(row, column, RelationGetDescr(relation), &is_null); });
    // A direct INSERT's kind, as track() checks it (a DBA's restore, above,
    // brings back what was taken before).
    static AttrNumber known_kind_column = InvalidAttrNumber;
    AttrNumber kind_column = column_number(relation, "kind", TEXTOID, known_kind_column);
    bool kind_null = true;
    Datum kind = kind_column == InvalidAttrNumber
                     ? Datum(0)
                     : pg::call([&] { return heap_getattr(row, kind_column, RelationGetDescr(relation), &kind_null); });
    if (!kind_null && only_white_space(kind)) {
        throw pg::Error(ERRCODE_CHECK_VIOLATION, "an event's kind must hold more than white space",
                        kBlankKindDetail);
    }
    // NOT NULL is checked after BEFORE triggers: leave a NULL to it.
    if (!is_null) lock_organization(pg::uuid_from_datum(organization_id));
    return PointerGetDatum(row);
}

// tenancy.run_rollups(wait boolean DEFAULT false)
TENANCY_SQL_FUNCTION(tenancy_run_rollups) {
    refuse_on_standby("tenancy.run_rollups");
    refuse_read_only("tenancy.run_rollups", "the rollups and their state");
    refuse_unless_rollup_state_visible("tenancy.run_rollups");
    if (PG_ARGISNULL(0)) throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "wait must not be NULL");
    bool wait = PG_GETARG_BOOL(0);
    start_materialized_result(fcinfo);

    // What a run that would wait for another transaction says instead. Not
    // only runs hold the state: a purge or a rebuild holds it to its end, and
    // the notice said "another run_rollups() is in progress" for them too
    // (review of 1.21).
    auto notice_run_in_progress = [](StateRow state_row) {
        bool first = state_row == StateRow::first_run_in_progress;
        pg::call([first] {
            ereport(NOTICE,
                    (errmsg(first ? "tenancy.run_rollups(): nothing done: another run is making the "
                                    "rollup state"
                                  : "tenancy.run_rollups(): nothing done: another transaction holds "
                                    "the rollup state"),
                     errdetail(first ? "There is no rollup state yet: the first run to write a bucket "
                                       "makes it, and first runs take turns."
                                     : "Runs, rebuild_rollups(), purge_events() and "
                                       "purge_file_access_log() hold it to their end, one at a time."),
                     errhint("Pass wait => true to wait for it instead.")));
        });
    };
    pg::SpiConnection spi;
    StateRow state_row = ensure_state_row(spi, wait ? RunWait::wait : RunWait::skip);
    if (state_row == StateRow::rollups_locked) {
        notice_rollups_locked("tenancy.run_rollups()");
        PG_RETURN_NULL();
    }
    if (state_row == StateRow::first_run_in_progress) {
        notice_run_in_progress(state_row);
        PG_RETURN_NULL();
    }
    std::uint64_t locked = spi.execute(
        wait ? "SELECT last_snapshot::text FROM tenancy.rollup_state FOR UPDATE"
             : "SELECT last_snapshot::text FROM tenancy.rollup_state FOR UPDATE SKIP LOCKED",
        false, 1);
    if (locked == 0) {
        notice_run_in_progress(state_row);
        PG_RETURN_NULL();
    }
    bool is_null = false;
    Datum previous = spi.copied_value(0, 1, &is_null);
    check_state_cluster(spi);

    // Under the lock, a snapshot taken now sees everything earlier runs saw.
    FreshSnapshot snapshot;
    spi.execute("SELECT pg_current_snapshot()::text", true, 1);
    Datum own_xid = own_transaction_id();
    Datum current = stored_snapshot(spi.copied_value(0, 1, &is_null), own_xid);
    RowFilter fresh{RowFilter::Kind::new_since, previous, own_xid, std::nullopt, std::nullopt};
    auto reports = aggregate_and_write(spi, fresh, fresh, &snapshot, rollup_deferral_installed());
    bool wrote_nothing = std::all_of(reports.begin(), reports.end(), [](const SourceReport& report) {
        return report.buckets_written == 0 && report.buckets_deferred == 0;
    });

    static pg::CachedPlan save_state(
        "UPDATE tenancy.rollup_state SET last_snapshot = $1::pg_snapshot, last_run_at = now(),"
        " runs = runs + 1",
        {TEXTOID});
    if (state_row == StateRow::created && wrote_nothing) {
        forget_empty_state(spi);
    } else {
        spi.execute(save_state, {{TEXTOID, current}}, false);
    }
    // The scheduled job that keeps the rollups current keeps the log's
    // months ahead of the clock too (under READ COMMITTED, as the job runs,
    // and as a role that may create them). A failure there is a WARNING:
    // it costs the months, not the rollups just counted.
    maintain_file_access_log_if_allowed();
    return_reports(fcinfo, reports);
    PG_RETURN_NULL();
}

// tenancy.foreign_rollup_state() -> (ids_continue, least_epoch): one row
// when the rollup state was taken in another cluster (check(), 1.19).
TENANCY_SQL_FUNCTION(tenancy_foreign_rollup_state) {
    start_materialized_result(fcinfo);
    pg::SpiConnection spi;
    if (auto foreign = foreign_state(spi, StateRead::as_the_statement_saw_it)) {
        auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        Datum values[2] = {BoolGetDatum(foreign->ids_continue), Int64GetDatum(foreign->least_epoch)};
        bool nulls[2] = {false, false};
        pg::call([&] { tuplestore_putvalues(result->setResult, result->setDesc, values, nulls); });
    }
    PG_RETURN_NULL();
}

// tenancy.refuse_foreign_rollup_state(): purge_events' refusal (1.19), the
// one run_rollups() gives.
TENANCY_SQL_FUNCTION(tenancy_refuse_foreign_rollup_state) {
    pg::SpiConnection spi;
    refuse_foreign_rollup_state(spi);
    PG_RETURN_VOID();
}

// tenancy.rebuild_rollups(org_id uuid DEFAULT NULL)
TENANCY_SQL_FUNCTION(tenancy_rebuild_rollups) {
    refuse_on_standby("tenancy.rebuild_rollups");
    refuse_read_only("tenancy.rebuild_rollups", "the rollups");
    refuse_unless_rollup_state_visible("tenancy.rebuild_rollups");
    std::optional<Datum> organization;
    if (!PG_ARGISNULL(0)) organization = PG_GETARG_DATUM(0);
    start_materialized_result(fcinfo);

    pg::SpiConnection spi;
    // Waits for a running first run, as it waits for any run below.
    switch (ensure_state_row(spi, RunWait::wait)) {
        case StateRow::existed:
            break;
        case StateRow::created:
            // No run has counted anything: nothing to rebuild, and no state
            // to keep. Returned before the organizations are locked: a
            // deletion of one waiting for the rollup tables' lock taken
            // above would deadlock with that (review of 1.20).
            forget_empty_state(spi);
            return_reports(fcinfo, {SourceReport{"events"}, SourceReport{"file_access_log"}});
            PG_RETURN_NULL();
        case StateRow::rollups_locked:
            notice_rollups_locked("tenancy.rebuild_rollups()");
            PG_RETURN_NULL();
        case StateRow::first_run_in_progress:
            break;  // not with RunWait::wait
    }
    // Waits for a running run_rollups(): rebuild must see a settled state.
    spi.execute(
        "SELECT last_snapshot::text,"
        " date_bin('1 hour', events_complete_since, '2000-01-01 00:00+00') + interval '1 hour',"
        " date_bin('1 hour', file_log_complete_since, '2000-01-01 00:00+00') + interval '1 hour'"
        " FROM tenancy.rollup_state FOR UPDATE",
        false, 1);
    bool is_null = false;
    Datum counted = spi.copied_value(0, 1, &is_null);
    bool events_from_null = false, files_from_null = false;
    Datum events_from = spi.copied_value(0, 2, &events_from_null);
    Datum files_from = spi.copied_value(0, 3, &files_from_null);
    check_state_cluster(spi);

    static pg::CachedPlan clear_events(
        "DELETE FROM tenancy.event_rollups WHERE ($1::uuid IS NULL OR organization_id = $1)"
        " AND ($2::timestamptz IS NULL OR hour >= $2)",
        {UUIDOID, TIMESTAMPTZOID});
    static pg::CachedPlan clear_files(
        "DELETE FROM tenancy.file_rollups WHERE ($1::uuid IS NULL OR organization_id = $1)"
        " AND ($2::timestamptz IS NULL OR hour >= $2)",
        {UUIDOID, TIMESTAMPTZOID});
    // The organizations before their rollups, in the order a run locks them:
    // a deletion of one of them (which deletes its rollups too) then waits
    // for this rebuild instead of deadlocking with it on the rollup rows.
    static pg::CachedPlan lock_organizations_in_scope(
        "SELECT FROM tenancy.organizations WHERE ($1::uuid IS NULL OR id = $1)"
        " ORDER BY id FOR KEY SHARE",
        {UUIDOID});
    pg::SpiArg org_arg{UUIDOID, organization.value_or(Datum(0)), !organization};
    spi.execute(lock_organizations_in_scope, {org_arg}, false);
    spi.execute(clear_events, {org_arg, {TIMESTAMPTZOID, events_from, events_from_null}}, false);
    spi.execute(clear_files, {org_arg, {TIMESTAMPTZOID, files_from, files_from_null}}, false);
    if (rollup_deferral_installed()) {
        // Waiting buckets of the hours recomputed are recounted from the raw
        // rows with the rest; those of earlier hours wait on.
        static pg::CachedPlan clear_deferred_events(
            "DELETE FROM tenancy.event_rollups_deferred WHERE ($1::uuid IS NULL OR organization_id = $1)"
            " AND ($2::timestamptz IS NULL OR hour >= $2)",
            {UUIDOID, TIMESTAMPTZOID});
        static pg::CachedPlan clear_deferred_files(
            "DELETE FROM tenancy.file_rollups_deferred WHERE ($1::uuid IS NULL OR organization_id = $1)"
            " AND ($2::timestamptz IS NULL OR hour >= $2)",
            {UUIDOID, TIMESTAMPTZOID});
        spi.execute(clear_deferred_events,
                    {org_arg, {TIMESTAMPTZOID, events_from, events_from_null}}, false);
        spi.execute(clear_deferred_files, {org_arg, {TIMESTAMPTZOID, files_from, files_from_null}},
                    false);
    }

    auto optional_from = [](Datum from, bool from_null) {
        return from_null ? std::nullopt : std::optional<Datum>(from);
    };
    RowFilter events_filter{RowFilter::Kind::counted_in, counted, Datum(0), organization,
                            optional_from(events_from, events_from_null)};
    RowFilter files_filter{RowFilter::Kind::counted_in, counted, Datum(0), organization,
                           optional_from(files_from, files_from_null)};
    // Read in a snapshot taken under the lock: a run we waited for may have
    // counted rows committed after this statement began.
    FreshSnapshot snapshot;
    auto reports = aggregate_and_write(spi, events_filter, files_filter, &snapshot, false);
    return_reports(fcinfo, reports);
    PG_RETURN_NULL();
}
