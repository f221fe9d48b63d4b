// The file access log's monthly partitions (1.5): maintenance, retention by
// dropping whole months, and the event trigger that keeps everyone else from
// dropping or detaching them. The layout is described in
// src/sql/1.4--1.5/10_log_partitions.sql.
#include "log_partitions.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "organization_lock.hpp"
#include "rollups.hpp"
#include "pg/error_barrier.hpp"
#include "pg/guc.hpp"
#include "pg/subtransaction.hpp"

namespace tenancy {
namespace {

bool g_log_maintenance = false;
bool g_log_row_removal = false;

// tenancy.purge_lock_timeout (ms; 0: no limit of its own).
int g_purge_lock_timeout_ms = 1000;

// Belt and braces: whatever happens, the flag does not outlive its transaction.
void reset_maintenance_at_transaction_end(XactEvent event, void*) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PARALLEL_COMMIT) {
        g_log_maintenance = false;
        g_log_row_removal = false;
    }
}

std::string text_of(Datum value) {
    return pg::call([&] { return TextDatumGetCString(value); });
}

// The rows of a query whose columns are all text and never NULL.
std::vector<std::vector<std::string>> text_rows(pg::SpiConnection& spi, pg::CachedPlan& plan,
                                                std::initializer_list<pg::SpiArg> args,
                                                int columns) {
    std::uint64_t count = spi.execute(plan, args, false);
    bool all_text = pg::call([&] {
        if (SPI_tuptable == nullptr || SPI_tuptable->tupdesc->natts != columns) return false;
        for (int column = 1; column <= columns; ++column) {
            if (SPI_gettypeid(SPI_tuptable->tupdesc, column) != TEXTOID) return false;
        }
        return true;
    });
    if (!all_text) {
        throw pg::Error(ERRCODE_INTERNAL_ERROR, "pg_tenancy: a maintenance query returned other "
                                                "than " + std::to_string(columns) + " text columns");
    }
    std::vector<std::vector<std::string>> rows(count);
    for (std::uint64_t row = 0; row < count; ++row) {
        for (int column = 1; column <= columns; ++column) {
            bool is_null = false;
            Datum value = spi.copied_value(row, column, &is_null);
            if (is_null) {
                throw pg::Error(ERRCODE_INTERNAL_ERROR,
                                "pg_tenancy: a maintenance query returned NULL");
            }
            rows[row].push_back(text_of(value));
        }
    }
    return rows;
}

// A condition on w.month (a month's start, UTC, as timestamp): no partition
// of the log but the default one overlaps it.
#define TENANCY_MONTH_WITHOUT_PARTITION                                              \
    " NOT EXISTS (SELECT FROM tenancy.file_access_log_partitions() p"                \
    "             WHERE NOT p.is_default"                                            \
    "               AND p.from_at < (w.month + interval '1 month') AT TIME ZONE 'UTC'" \
    "               AND p.to_at > w.month AT TIME ZONE 'UTC')"

// The partitions to create: name, whether a relation or a type already has
// its name (or a relation one of its indexes' names), then the statements
// that create, fill and attach it. Months are UTC; bounds are ISO literals with their offset, read
// back the same under any DateStyle or TimeZone. A generated column a DBA
// added to the log is made as one in the month (ATTACH asks it) and left
// out of the move, which computes it again (crash review of 1.23: the
// month could not be made, and rows piled up in the default partition); the
// moved columns are named (the default partition's order may differ).
pg::CachedPlan& missing_months_plan() {
    static pg::CachedPlan plan(
        "WITH wanted AS ("
        "  SELECT generate_series(m, m + make_interval(months => $1), interval '1 month') AS month"
        "  FROM date_trunc('month', now() AT TIME ZONE 'UTC') m"
        "  UNION"
        // Rows dated 'infinity', before the year 1 or after 9999 stay in the
        // default partition: their months have no name of the YYYY_MM kind
        // (or no end PostgreSQL can represent).
        "  SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC')"
        "  FROM ONLY tenancy.file_access_log_default"
        "  WHERE at >= '0001-01-01 00:00:00+00' AND at < '10000-01-01 00:00:00+00'),"
        " stored AS ("
        "  SELECT string_agg(format('%I', attname), ', ' ORDER BY attnum) AS columns"
        "  FROM pg_attribute WHERE attrelid = 'tenancy.file_access_log'::regclass"
        "    AND attnum > 0 AND NOT attisdropped AND attgenerated = ''),"
        " named AS ("
        "  SELECT month, 'file_access_log_' || to_char(month, 'YYYY_MM') AS name,"
        "         to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00' AS from_at,"
        "         to_char(month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00' AS to_at"
        "  FROM wanted w WHERE" TENANCY_MONTH_WITHOUT_PARTITION ")"
        " SELECT name,"
        "   (EXISTS (SELECT FROM unnest(ARRAY[name, left(name, 50) || '_file_idx',"
        "                                     left(name, 50) || '_at_idx', left(name, 50) || '_txid_idx']) n"
        "            WHERE to_regclass(format('tenancy.%I', n)) IS NOT NULL)"
        // A table's row type takes its name too (a domain of that name, say).
        "    OR to_regtype(format('tenancy.%I', name)) IS NOT NULL)::text,"
        "   format('CREATE TABLE tenancy.%I"
        " (LIKE tenancy.file_access_log INCLUDING CONSTRAINTS INCLUDING GENERATED)', name),"
        "   format('WITH moved AS (DELETE FROM ONLY tenancy.file_access_log_default"
        "           WHERE at >= %L AND at < %L RETURNING %s) INSERT INTO tenancy.%I (%s)"
        "           SELECT * FROM moved', from_at, to_at, columns, name, columns),"
        "   format('ALTER TABLE tenancy.file_access_log ATTACH PARTITION tenancy.%I"
        "           FOR VALUES FROM (%L) TO (%L)', name, from_at, to_at)"
        " FROM named, stored ORDER BY month",
        {INT4OID});
    return plan;
}

// How many of the current month and the next $1 have no partition: from the
// catalog alone (file_access_log_partitions locks no partition).
pg::CachedPlan& months_ahead_missing_plan() {
    static pg::CachedPlan plan(
        "SELECT count(*)::text FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),"
        "  date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => $1),"
        "  interval '1 month') w(month)"
        " WHERE" TENANCY_MONTH_WITHOUT_PARTITION,
        {INT4OID});
    return plan;
}

// The rows of a relation the caller has locked, counted up to `up_to`, on a
// fresh snapshot whatever the isolation level: it sees every writer the lock
// waited for. Only a plain table is scanned here; anything else (a DBA's
// partitioned or foreign table attached to the log) is taken to hold up_to.
std::uint64_t rows_now(Oid relid, std::uint64_t up_to) {
    if (get_rel_relkind(relid) != RELKIND_RELATION) return up_to;
    Relation relation = table_open(relid, NoLock);
    Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
    TableScanDesc scan = table_beginscan(relation, snapshot, 0, nullptr);
    TupleTableSlot* slot = table_slot_create(relation, nullptr);
    std::uint64_t rows = 0;
    while (rows < up_to && table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        ++rows;
        CHECK_FOR_INTERRUPTS();
    }
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    UnregisterSnapshot(snapshot);
    table_close(relation, NoLock);
    return rows;
}

bool holds_rows_now(Oid relid) { return rows_now(relid, 1) > 0; }

// Whether the default partition holds any row, on a fresh snapshot. The lock
// taken for it is let go at once (one that the transaction held before stays
// held): kept, it would have to be upgraded to the ACCESS EXCLUSIVE lock
// maintenance takes next, and a lock upgrade is how deadlocks start.
bool default_partition_has_rows(Oid default_partition) {
    LockRelationOid(default_partition, AccessShareLock);
    bool any = holds_rows_now(default_partition);
    UnlockRelationOid(default_partition, AccessShareLock);
    return any;
}

// A WARNING for an error that a subtransaction caught and rolled back: its
// message after `what`, its SQLSTATE and detail as the detail (a warning
// keeps a warning's SQLSTATE: log readers count errors by theirs).
void warn_caught(const std::string& what, const pg::CaughtError& caught, const char* hint) {
    pg::call([&] {
        ereport(WARNING, (errmsg("%s: %s", what.c_str(), caught.message.c_str()),
                          errdetail("SQLSTATE %s%s%s", unpack_sql_state(caught.sqlstate),
                                    caught.detail.empty() ? "" : ". ", caught.detail.c_str()),
                          errhint("%s", hint)));
    });
}

Oid log_relation() {
    Oid schema = get_namespace_oid("tenancy", true);
    return OidIsValid(schema) ? get_relname_relid("file_access_log", schema) : InvalidOid;
}

// Before 1.5 (the library serves every installed version) the log is one
// plain table: nothing to maintain.
bool log_is_partitioned() {
    return pg::call([] {
        Oid log = log_relation();
        return OidIsValid(log) && get_rel_relkind(log) == RELKIND_PARTITIONED_TABLE;
    });
}

// A relation of pg_tenancy's own (a member of the extension).
bool is_extension_relation(Oid relid) {
    Oid extension = get_extension_oid("pg_tenancy", true);
    return OidIsValid(relid) && OidIsValid(extension) &&
           getExtensionOfObject(RelationRelationId, relid) == extension;
}

// Whether a DBA added the column to one of the extension's tables, and may
// rename it as its own (1.12 library). tenancy.extension_table_additions()
// (schema 1.11) tells them from the extension's columns; an older schema
// cannot, and every column of its tables stays the extension's.
bool is_dba_column(Oid relid, const char* column) {
    bool schema_tells = pg::call([] {
        List* name = list_make2(makeString(pstrdup("tenancy")),
                                makeString(pstrdup("extension_table_additions")));
        Oid additions = LookupFuncName(name, 0, nullptr, true);
        // The extension's own, not one a DBA made to stand in for it.
        return OidIsValid(additions) && getExtensionOfObject(ProcedureRelationId, additions) ==
                                            get_extension_oid("pg_tenancy", true);
    });
    if (!schema_tells) return false;
    Datum column_text = pg::call([&] { return CStringGetTextDatum(column); });
    pg::SpiConnection spi;
    return spi.for_each_row("SELECT FROM tenancy.extension_table_additions()"
                            " WHERE table_name = $1 AND kind = 'column' AND name = $2",
                            {{REGCLASSOID, ObjectIdGetDatum(relid)}, {TEXTOID, column_text}},
                            true, [](TupleTableSlot*) {}) > 0;
}

// A partitioned table of pg_tenancy's own: the log, whatever it is called
// by now (a rename of it or of its schema must not open a way around the
// guard).
bool is_extension_partitioned_table(Oid relid) {
    return is_extension_relation(relid) && get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;
}

// Whether pg_tenancy's own install or upgrade script is running (another
// extension's CREATE EXTENSION, during which a DBA's event trigger can run
// DDL, does not count).
bool in_own_script() {
    return creating_extension && OidIsValid(CurrentExtensionObject) &&
           CurrentExtensionObject == get_extension_oid("pg_tenancy", true);
}

// Whether an index is its table's primary key.
bool is_primary_key_index(Oid index) {
    HeapTuple tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
    if (!HeapTupleIsValid(tuple)) return false;
    bool primary = reinterpret_cast<Form_pg_index>(GETSTRUCT(tuple))->indisprimary;
    ReleaseSysCache(tuple);
    return primary;
}

// Whether the constraint `name` of a table is its primary key.
bool is_primary_key_constraint(Oid table, const char* name) {
    if (!OidIsValid(table) || name == nullptr) return false;
    Oid constraint = get_relation_constraint_oid(table, name, true);
    if (!OidIsValid(constraint)) return false;
    HeapTuple tuple = SearchSysCache1(CONSTROID, ObjectIdGetDatum(constraint));
    if (!HeapTupleIsValid(tuple)) return false;
    bool primary = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(tuple))->contype == CONSTRAINT_PRIMARY;
    ReleaseSysCache(tuple);
    return primary;
}

bool is_log_partition(Oid relid) {
    return OidIsValid(relid) && get_rel_relispartition(relid) &&
           is_extension_partitioned_table(get_partition_parent(relid, true));
}

// Whether `column` is one of the log's own columns (as the extension made
// them) of the log or one of its partitions.
bool is_log_column(Oid relid, const char* column) {
    if (column == nullptr || !(is_extension_partitioned_table(relid) || is_log_partition(relid))) {
        return false;
    }
    static const char* const own[] = {"organization_id", "id", "file_id", "user_id",
                                      "action",          "bytes", "at",  "txid"};
    if (std::any_of(std::begin(own), std::end(own),
                    [&](const char* name) { return std::strcmp(name, column) == 0; })) {
        return true;
    }
    // 1.9's column; before 1.9 a DBA's column of that name (of another type)
    // is the DBA's.
    return std::strcmp(column, "file_created_at") == 0 &&
           get_atttype(relid, get_attnum(relid, column)) == TIMESTAMPTZOID;
}

// The default partition keeps its name: maintenance and purges name it.
bool is_log_default_partition(Oid relid) {
    return is_log_partition(relid) &&
           get_default_partition_oid(get_partition_parent(relid, true)) == relid;
}

[[noreturn]] void refuse_partition_ddl(const std::string& what) {
    throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                    "cannot " + what + ": tenancy.file_access_log is append-only",
                    "It holds audit rows; no role drops, detaches or rewrites them.",
                    "Old rows are removed with tenancy.purge_file_access_log(older_than), which "
                    "drops whole months.");
}

// A month maintenance filled with the rows it moved, made ready for the
// rollup runs' read by txid now rather than by the next VACUUM ANALYZE
// (1.23 library). Inserts do not summarize a BRIN range, and a month never
// analyzed has no statistics: the next idle run_rollups read every page of
// it, by a sequential scan (no statistics: a third of the rows taken to
// match) or by a bitmap over the unsummarized ranges (review of 1.22, F8:
// 602 ms after a move of 2.95M rows, 10 ms once a VACUUM had done both).
// Its BRIN indexes (on at and txid, and any a DBA added) are summarized and
// the month analyzed: it is read once or twice more, under the locks
// maintenance holds anyway. It only saves time: a failure is a WARNING, and
// autovacuum does both later.
void settle_filled_month(pg::SpiConnection& spi, const std::string& month) {
    static pg::CachedPlan summarize(
        "SELECT count(pg_catalog.brin_summarize_new_values(i.indexrelid))::text"
        " FROM pg_catalog.pg_index i"
        " JOIN pg_catalog.pg_class x ON x.oid = i.indexrelid"
        " JOIN pg_catalog.pg_am a ON a.oid = x.relam AND a.amname = 'brin'"
        " WHERE i.indrelid = pg_catalog.to_regclass(pg_catalog.format('tenancy.%I', $1::text))"
        "   AND i.indisvalid",
        {NAMEOID});
    Datum name = pg::call([&] { return DirectFunctionCall1(namein, CStringGetDatum(month.c_str())); });
    std::string analyze = "ANALYZE tenancy." + std::string(pg::call([&] {
                              return quote_identifier(month.c_str());
                          }));
    // Each on its own, so that the WARNING says which did not run (review
    // of 1.23, F6: one failed ANALYZE read as if neither had).
    auto not_summarized = pg::try_in_subtransaction(
        [&] { text_rows(spi, summarize, {{NAMEOID, name}}, 1); });
    if (not_summarized) {
        warn_caught("pg_tenancy: the BRIN indexes of file access log partition tenancy." + month +
                        " were not summarized",
                    *not_summarized,
                    "The month is made. Until autovacuum summarizes them, rollup runs read all "
                    "of its pages.");
    }
    auto not_analyzed = pg::try_in_subtransaction([&] { spi.execute(analyze.c_str(), false); });
    if (not_analyzed) {
        warn_caught("pg_tenancy: file access log partition tenancy." + month +
                        " was not analyzed",
                    *not_analyzed,
                    "The month is made. Until autovacuum analyzes it, its rows are estimated "
                    "without statistics.");
    }
}

}  // namespace

LogMaintenanceScope::LogMaintenanceScope(Allows allows)
    : outer_partitions_(g_log_maintenance), outer_rows_(g_log_row_removal) {
    g_log_maintenance = true;
    if (allows == Allows::partitions_and_rows) g_log_row_removal = true;
}

LogMaintenanceScope::~LogMaintenanceScope() {
    g_log_maintenance = outer_partitions_;
    g_log_row_removal = outer_rows_;
}

bool in_log_maintenance() { return g_log_maintenance; }

bool removing_log_rows() { return g_log_row_removal; }

void register_log_maintenance_callbacks() {
    RegisterXactCallback(reset_maintenance_at_transaction_end, nullptr);
}

int maintain_file_access_log(int months_ahead, MaintenanceCaller caller, MaintenanceLeft* left) {
    if (left != nullptr) *left = MaintenanceLeft::nothing;
    if (!log_is_partitioned()) return 0;
    Oid default_partition = pg::call([] {
        Oid relid = get_relname_relid("file_access_log_default", get_namespace_oid("tenancy", false));
        if (!OidIsValid(relid)) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("relation \"tenancy.file_access_log_default\" does not exist")));
        }
        return relid;
    });
    pg::SpiConnection spi;
    pg::SpiArg ahead{INT4OID, Int32GetDatum(months_ahead)};
    // Most calls (every run_rollups) find nothing to do, and keep no lock.
    bool months_missing = text_rows(spi, months_ahead_missing_plan(), {ahead}, 1).at(0).at(0) != "0";
    if (!months_missing && !pg::call([&] { return default_partition_has_rows(default_partition); })) {
        return 0;
    }
    // The default partition, ACCESS EXCLUSIVE from the start: one
    // maintenance at a time, no append to it between the move and the
    // ATTACH, and no lock upgrade later (a transaction that read the log and
    // then deletes an organization would deadlock with one; waiting for the
    // strongest lock, this lets such a holder go first). Appends to the
    // months (almost all of them) go on; reads of the log that do not prune
    // the default partition wait a moment.
    // First the log, SHARE UPDATE EXCLUSIVE as the ATTACH needs it (writers'
    // ROW EXCLUSIVE goes on; an ANALYZE of the log waits), then the default
    // partition: the lock order.
    Oid log = pg::call([] { return log_relation(); });
    if (caller == MaintenanceCaller::run) {
        bool locked = pg::call([&] {
            if (!ConditionalLockRelationOid(log, ShareUpdateExclusiveLock)) return false;
            if (ConditionalLockRelationOid(default_partition, AccessExclusiveLock)) return true;
            // Not kept for the rest of the caller's transaction (run_rollups'):
            // its next run tries again.
            UnlockRelationOid(log, ShareUpdateExclusiveLock);
            return false;
        });
        if (!locked) {
            if (left != nullptr) *left = MaintenanceLeft::locks_busy;
            return 0;
        }
        // Making any month scans the default partition under that lock
        // (the move, and the ATTACH's check of what stays): a backlog is
        // the DBA's to move, at an hour they choose.
        bool backlog = pg::call([&] {
            // (A DBA's default partition that is no plain table is not counted.)
            if (get_rel_relkind(default_partition) != RELKIND_RELATION ||
                rows_now(default_partition, kMostRowsMovedByRun + 1) <= kMostRowsMovedByRun) {
                return false;
            }
            UnlockRelationOid(default_partition, AccessExclusiveLock);
            UnlockRelationOid(log, ShareUpdateExclusiveLock);
            return true;
        });
        if (backlog) {
            if (left != nullptr) *left = MaintenanceLeft::backlog;
            return 0;
        }
    } else {
        // Every read of the log that does not prune the default partition
        // queues behind this wait: bounded, as the purge's is.
        const pg::LockDeadline deadline(g_purge_lock_timeout_ms);
        auto busy = pg::try_lock_waits([&] {
            deadline.before_wait();
            pg::call([&] { LockRelationOid(log, ShareUpdateExclusiveLock); });
            deadline.before_wait();
            pg::call([&] { LockRelationOid(default_partition, AccessExclusiveLock); });
        });
        if (busy) {
            bool deadlock = busy->sqlstate == ERRCODE_T_R_DEADLOCK_DETECTED;
            throw pg::Error(
                deadlock ? ERRCODE_T_R_DEADLOCK_DETECTED : ERRCODE_LOCK_NOT_AVAILABLE,
                "tenancy.maintain_file_access_log() could not lock the file access log's default "
                "partition",
                deadlock ? "Waiting for it would have deadlocked."
                         : "Another transaction still used it after " +
                               std::to_string(deadline.wait_ms()) +
                               " ms (one that read the log: a report, a pg_dump, an "
                               "organization's deletion), and every read of the log waited "
                               "behind this one meanwhile.",
                deadlock ? "Call it in a transaction of its own."
                         : "Call it again when the log is quieter, or allow a longer wait "
                           "(tenancy.purge_lock_timeout, and lock_timeout if it is shorter).");
        }
    }
    static pg::CachedPlan partition_ddl("SELECT tenancy.file_access_log_partition_ddl($1)",
                                        {NAMEOID});
    int created = 0;
    for (const auto& month : text_rows(spi, missing_months_plan(), {ahead}, 5)) {
        const std::string& name = month[0];
        if (month[1] == "true") {
            // A table, type or index of its name that is not the log's: a
            // DBA's. Its month stays in the default partition; the other
            // months are still made.
            pg::call([&] {
                ereport(WARNING,
                        (errmsg("pg_tenancy: cannot create file access log partition tenancy.%s:"
                                " a relation or type of that name (or of one of its indexes) exists",
                                name.c_str()),
                         errhint("Rename it, then call tenancy.maintain_file_access_log().")));
            });
            continue;
        }
        // Each month in a subtransaction of its own: one that fails (a DBA's
        // event trigger, a lock timeout) is rolled back alone and the others
        // are still made.
        std::uint64_t moved = 0;
        auto failed = pg::try_in_subtransaction([&] {
            spi.execute(month[2].c_str(), false);
            Datum name_datum =
                pg::call([&] { return DirectFunctionCall1(namein, CStringGetDatum(name.c_str())); });
            for (const auto& statement : text_rows(spi, partition_ddl, {{NAMEOID, name_datum}}, 1)) {
                spi.execute(statement[0].c_str(), false);
            }
            {
                LogMaintenanceScope maintenance;
                moved = spi.execute(month[3].c_str(), false);
            }
            // Checks the new partition's rows and the default partition's
            // rest against the bounds (ACCESS EXCLUSIVE on the default
            // partition meanwhile, which holds only rows no month had yet).
            spi.execute(month[4].c_str(), false);
        });
        if (failed) {
            warn_caught("pg_tenancy: cannot create file access log partition tenancy." + name,
                        *failed,
                        "Its rows stay in the default partition, and maintenance goes on with "
                        "the next month; tenancy.maintain_file_access_log() tries this one again.");
            continue;
        }
        pg::call([&] {
            ereport(LOG, (errmsg("pg_tenancy: created file access log partition tenancy.%s",
                                 name.c_str())));
        });
        ++created;
        if (moved > 0) settle_filled_month(spi, name);
    }
    return created;
}

std::string rollup_state_lock_statement(const char* columns) {
    // A transaction that already holds a lock on the log (it read it) would
    // break the lock order by waiting for the state row: it asks without
    // waiting (55P03 when another purge, maintenance or run holds it).
    bool holds_log = pg::call([] {
        Oid log = log_relation();
        if (!OidIsValid(log)) return false;
        LOCKTAG tag;
        SET_LOCKTAG_RELATION(tag, MyDatabaseId, log);
        for (LOCKMODE mode = AccessShareLock; mode <= MaxLockMode; ++mode) {
            if (LockHeldByMe(&tag, mode)) return true;
        }
        return false;
    });
    return std::string("SELECT ") + columns + " FROM tenancy.rollup_state FOR UPDATE" +
           (holds_log ? " NOWAIT" : "");
}

void refuse_unless_rollup_state_visible(const char* function) {
    bool hidden = pg::call([] {
        Oid schema = get_namespace_oid("tenancy", false);
        Oid state = get_relname_relid("rollup_state", schema);
        return OidIsValid(state) && check_enable_rls(state, InvalidOid, true) == RLS_ENABLED;
    });
    if (!hidden) return;
    throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                    std::string("permission denied for function ") + function,
                    "It reads and writes tenancy.rollup_state, which only superusers see "
                    "(row level security with no policy).",
                    "Run it as a superuser, as pg_cron's job does.");
}

void maintain_file_access_log_if_allowed() {
    if (IsolationUsesXactSnapshot()) return;
    bool allowed = pg::call([] {
        Oid log = log_relation();
        return OidIsValid(log) && pg_class_ownercheck(log, GetUserId());
    });
    if (!allowed) return;
    // Without waiting: a run that meets another maintenance, a purge or an
    // organization's deletion leaves the months to its next run, and says so
    // (1.23 library; before, nothing said it, and check() pointed at
    // WARNINGs that did not exist).
    MaintenanceLeft left = MaintenanceLeft::nothing;
    auto failed = pg::try_in_subtransaction(
        [&] { maintain_file_access_log(kLogMonthsAhead, MaintenanceCaller::run, &left); });
    if (left == MaintenanceLeft::backlog && !failed) {
        pg::call([] {
            ereport(WARNING,
                    (errmsg("pg_tenancy: more than %llu rows wait in the file access log's default "
                            "partition: rollup runs leave them, and the log's months, to "
                            "tenancy.maintain_file_access_log()",
                            static_cast<unsigned long long>(kMostRowsMovedByRun)),
                     errdetail("Moving them into their months holds an ACCESS EXCLUSIVE lock on "
                               "the default partition, and appends to those months wait, for as "
                               "long as the move lasts (8 to 12 s per million rows on a 2-core machine)."),
                     errhint("At a quiet hour, without a statement_timeout: SELECT "
                             "tenancy.maintain_file_access_log();")));
        });
    }
    if (left == MaintenanceLeft::locks_busy && !failed) {
        pg::call([] {
            ereport(NOTICE,
                    (errmsg("pg_tenancy: the file access log's months wait for a later run"),
                     errdetail("Months are missing or rows wait in the default partition, and "
                               "another transaction holds or waits for a lock on "
                               "tenancy.file_access_log or its default partition (a VACUUM, a "
                               "purge, a maintenance, an organization's deletion)."),
                     errhint("The next run tries again; tenancy.maintain_file_access_log() waits "
                             "for the locks.")));
        });
    }
    if (failed) {
        warn_caught("pg_tenancy: the file access log's months were not made", *failed,
                    "The rollups are kept. Until the months are made, rows of a month without a "
                    "partition go to the default partition; tenancy.maintain_file_access_log() "
                    "makes them.");
    }
}

void hold_log_partitions_steady(pg::SpiConnection& spi) {
    if (!log_is_partitioned()) return;
    spi.execute("LOCK TABLE ONLY tenancy.file_access_log IN ROW EXCLUSIVE MODE", false);
    spi.execute("LOCK TABLE ONLY tenancy.file_access_log_default IN ROW EXCLUSIVE MODE", false);
}

namespace {

// Refuses (55006, as DROP TABLE refuses a table in use) to drop months while
// a query of this session still has the log open: a writable CTE runs after
// its statement's main query, and one that appends to the log, run after the
// main query dropped a month, routed its row to the month gone (PostgreSQL's
// internal "could not open relation"; review of 1.23, F4). DROP TABLE checks
// the partition it drops (CheckTableNotInUse), not the log it belongs to.
// The caller holds the log locked.
void refuse_log_in_use_by_this_session(bool purging) {
    pg::call([&] {
        Relation log = table_open(log_relation(), NoLock);
        // This open's reference, and any open query's.
        bool in_use = log->rd_refcnt > 1;
        table_close(log, NoLock);
        if (!in_use) return;
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_IN_USE),
                 errmsg(purging ? "cannot purge the file access log's months in a statement that "
                                  "also uses the log"
                                : "cannot drop the file access log's months in a statement that "
                                  "also uses the log"),
                 errdetail("A query of this session still has tenancy.file_access_log open, "
                           "such as a writable CTE that inserts into it: it runs after the "
                           "rest of its statement."),
                 errhint("Call %s in a statement of its own.",
                         purging ? "tenancy.purge_file_access_log()"
                                 : "tenancy.drop_future_log_months()")));
    });
}

// DROP TABLE of a partition locks the log, the default partition and the
// partition ACCESS EXCLUSIVE; taken here in that order (the lock order), the
// months oldest first, once, and held until commit: appends wait from here to
// the end, and, while this waits for the transactions that use the log or a
// month (a reader of an old month, a VACUUM of it), behind it. So the wait is
// bounded, all locks together (tenancy.purge_lock_timeout, or lock_timeout if
// shorter), in a subtransaction: a purge that does not get the locks in time, or would
// deadlock for them, leaves the months whole for the next purge and keeps
// the rows it has deleted. Returns whether it holds the locks.
// `purging`: for the purge; otherwise for drop_future_log_months, whose
// warning says so.
bool lock_log_to_drop_months(pg::SpiConnection& spi, const std::vector<std::string>& months,
                             bool purging = true) {
    std::vector<std::string> locks = {"tenancy.file_access_log", "tenancy.file_access_log_default"};
    locks.insert(locks.end(), months.begin(), months.end());
    // One deadline for all of them: each LOCK waits what is left of it.
    const pg::LockDeadline deadline(g_purge_lock_timeout_ms);
    const int wait_ms = deadline.wait_ms();
    auto busy = pg::try_lock_waits([&] {
        for (const std::string& table : locks) {
            deadline.before_wait();
            spi.execute(("LOCK TABLE ONLY " + table + " IN ACCESS EXCLUSIVE MODE").c_str(), false);
        }
    });
    if (!busy) {
        refuse_log_in_use_by_this_session(purging);
        return true;
    }
    int left = static_cast<int>(months.size());
    bool deadlock = busy->sqlstate == ERRCODE_T_R_DEADLOCK_DETECTED;
    std::string why = deadlock ? "Locking the log and those months would have deadlocked"
                               : "The log and those months were still in use after " +
                                     std::to_string(wait_ms) + " ms";
    const char* one = purging ? "pg_tenancy: %d month of the file access log left for the next purge"
                              : "pg_tenancy: %d future month of the file access log not dropped";
    const char* many = purging
                           ? "pg_tenancy: %d months of the file access log left for the next purge"
                           : "pg_tenancy: %d future months of the file access log not dropped";
    const char* hint =
        !purging ? "Call tenancy.drop_future_log_months() again in a transaction of its own, when "
                   "the log is quieter, or allow a longer wait (tenancy.purge_lock_timeout, and "
                   "lock_timeout if it is shorter)."
        : deadlock ? "Their rows are kept, and the rest of the purge is done. Purge again in a "
                     "transaction of its own."
                   : "Their rows are kept, and the rest of the purge is done. Purge again when the "
                     "log is quieter, or allow a longer wait (tenancy.purge_lock_timeout, and "
                     "lock_timeout if it is shorter).";
    pg::call([&] {
        ereport(WARNING,
                (errmsg_plural(one, many, left, left),
                 errdetail("%s (SQLSTATE %s).", why.c_str(), unpack_sql_state(busy->sqlstate)),
                 errhint("%s", hint)));
    });
    return false;
}

}  // namespace

void define_log_settings() {
    DefineCustomIntVariable(
        "tenancy.purge_lock_timeout",
        "How long tenancy.purge_file_access_log() and tenancy.drop_future_log_months() wait, in "
        "all, for the locks to drop whole months, and tenancy.maintain_file_access_log() for "
        "its lock on the log's default partition.",
        "File writes wait behind a purge that waits for them. A purge that does not get them in "
        "time leaves those months for the next purge; maintenance fails with 55P03. 0: as long "
        "as lock_timeout allows.",
        &g_purge_lock_timeout_ms, 1000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr,
        nullptr);
}

// Rows another transaction is deleting (an organization's deletion, not yet
// committed) are left, not waited for: the purge holds rollup_state, and
// every rollup run would wait with it (lock_organizations_for_purge).
std::uint64_t purge_counted_log_rows(pg::SpiConnection& spi, Datum older_than, Datum counted) {
    pg::SpiArg cutoff{INTERVALOID, older_than};
    pg::SpiArg snapshot{TEXTOID, counted};
    LogMaintenanceScope maintenance;
    pg::SpiArg busy{UUIDARRAYOID, uuid_array_datum(lock_organizations_for_purge(spi))};
    // Before 1.5, and under REPEATABLE READ (a row committed while this waits
    // for a lock would stay unseen, and go with its month): row by row only,
    // which leaves what it cannot see.
    if (!log_is_partitioned() || IsolationUsesXactSnapshot()) {
        static pg::CachedPlan purge_all(
            "DELETE FROM tenancy.file_access_log WHERE at < now() - $1"
            " AND pg_visible_in_snapshot(txid, $2::pg_snapshot) AND organization_id <> ALL ($3)",
            {INTERVALOID, TEXTOID, UUIDARRAYOID});
        return spi.execute(purge_all, {cutoff, snapshot, busy}, false);
    }
    // The months that go whole (or, with rows not yet counted, row by row
    // on their own below), and the partitions that may hold other rows old
    // enough; pg_get_expr there takes no lock on them.
    static pg::CachedPlan old_partitions(
        "SELECT partition::text, (NOT is_default AND to_at <= now() - $1)::text"
        " FROM tenancy.file_access_log_partitions()"
        " WHERE is_default OR from_at < now() - $1 ORDER BY from_at",
        {INTERVALOID});
    std::vector<std::string> months, others;
    for (const auto& row : text_rows(spi, old_partitions, {cutoff}, 2)) {
        (row[1] == "true" ? months : others).push_back(row[0]);
    }
    hold_log_partitions_steady(spi);
    // Partition by partition (a DELETE over the whole log would read the
    // months about to be dropped as well), with typed arguments (a cutoff
    // written out as text would be read back through the session's time
    // zone abbreviations). Each deleted row is counted as it streams by.
    pg::SpiArg before{TIMESTAMPTZOID, pg::call([&] {
                          return DirectFunctionCall2(
                              timestamptz_mi_interval,
                              TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), older_than);
                      })};
    auto delete_counted = [&](const std::string& partition, const char* condition) {
        return spi.for_each_row(("DELETE FROM ONLY " + partition + " WHERE " + condition +
                                 " AND pg_visible_in_snapshot(txid, $2::pg_snapshot)"
                                 " AND organization_id <> ALL ($3) RETURNING 1")
                                    .c_str(),
                                {before, snapshot, busy}, false, [](TupleTableSlot*) {});
    };
    std::uint64_t removed = 0;
    for (const std::string& partition : others) removed += delete_counted(partition, "at < $1");
    if (months.empty()) return removed;

    if (!lock_log_to_drop_months(spi, months)) return removed;
    for (const std::string& month : months) {
        // On a fresh snapshot (not read-only), which sees every writer the
        // locks waited for. Rows written before the counted snapshot's xmin
        // are all counted; the BRIN index on txid finds the rest cheaply.
        bool pending = false;
        spi.for_each_row(("SELECT EXISTS (SELECT FROM ONLY " + month +
                          " WHERE txid >= pg_snapshot_xmin($1::pg_snapshot)"
                          " AND NOT pg_visible_in_snapshot(txid, $1::pg_snapshot))").c_str(),
                         {snapshot}, false, [&](TupleTableSlot* slot) {
                             bool is_null = false;
                             pending = DatumGetBool(slot_getattr(slot, 1, &is_null));
                         });
        if (pending) {
            removed += delete_counted(month, "$1 IS NOT NULL");  // the whole month is old
            continue;
        }
        std::uint64_t rows = 0;
        spi.for_each_row(("SELECT count(*) FROM ONLY " + month).c_str(), {}, false,
                         [&](TupleTableSlot* slot) {
                             bool is_null = false;
                             rows = static_cast<std::uint64_t>(
                                 DatumGetInt64(slot_getattr(slot, 1, &is_null)));
                         });
        spi.execute(("DROP TABLE " + month).c_str(), false);
        removed += rows;
    }
    return removed;
}

int drop_future_log_months(int months_ahead) {
    if (!log_is_partitioned()) return 0;
    // The months that start after the current one and the next months_ahead
    // (those run_rollups keeps), oldest first, from the catalog: the
    // extension's own months only, plain tables of schema tenancy named and
    // bounded as maintenance makes them. A DBA's partition of the log (a
    // partitioned or foreign table, another schema, other bounds) is not
    // this function's to drop, and scanning a partitioned one crashed the
    // server (review of 1.23).
    static pg::CachedPlan future_months(
        "SELECT p.partition::text, p.partition::oid::text"
        " FROM tenancy.file_access_log_partitions() p"
        " JOIN pg_class c ON c.oid = p.partition"
        " WHERE NOT p.is_default AND c.relkind = 'r'"
        "   AND c.relnamespace = 'tenancy'::regnamespace"
        "   AND c.relname = 'file_access_log_' || to_char(p.from_at AT TIME ZONE 'UTC', 'YYYY_MM')"
        "   AND p.from_at = date_trunc('month', p.from_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        "   AND p.to_at = (p.from_at AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'"
        "   AND p.from_at >= (date_trunc('month', now() AT TIME ZONE 'UTC')"
        "     + make_interval(months => $1 + 1)) AT TIME ZONE 'UTC'"
        " ORDER BY p.from_at",
        {INT4OID});
    pg::SpiConnection spi;
    std::vector<std::string> months;
    std::vector<Oid> relids;
    for (const auto& row : text_rows(spi, future_months, {{INT4OID, Int32GetDatum(months_ahead)}}, 2)) {
        months.push_back(row[0]);
        relids.push_back(static_cast<Oid>(std::stoul(row[1])));
    }
    if (months.empty()) return 0;
    // The purge's locks, in the lock order, until commit: no append to
    // those months can begin (a writer locks the log first) or be under way
    // (one holds its month) while they are looked at and dropped.
    if (!lock_log_to_drop_months(spi, months, false)) return 0;
    // Partitions only: the row guard stays on, so that what runs inside a
    // DROP (a DBA's sql_drop event trigger) removes no audit row of a month
    // it then drops as empty (review of 1.23).
    LogMaintenanceScope maintenance(LogMaintenanceScope::Allows::partitions_only);
    int dropped = 0;
    for (std::size_t i = 0; i < months.size(); ++i) {
        const std::string& month = months[i];
        // Gone meanwhile: dropped by what ran inside an earlier DROP (a
        // DBA's sql_drop event trigger that drops months too; crash review
        // of 1.23 found it reported as holding rows).
        Oid relid = relids[i];
        if (!pg::call([&] { return SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)); })) {
            continue;
        }
        // (Locked above.)
        bool holds_rows = pg::call([&] { return holds_rows_now(relid); });
        if (holds_rows) {
            pg::call([&] {
                ereport(NOTICE, (errmsg("pg_tenancy: file access log partition %s holds rows:"
                                        " it stays", month.c_str()),
                                 errdetail("Only empty months are dropped; the log is append-only.")));
            });
            continue;
        }
        spi.execute(("DROP TABLE " + month).c_str(), false);
        pg::call([&] {
            ereport(LOG, (errmsg("pg_tenancy: dropped empty file access log partition %s",
                                 month.c_str())));
        });
        ++dropped;
    }
    return dropped;
}

}  // namespace tenancy

using namespace tenancy;

// tenancy.maintain_file_access_log(months_ahead integer) -> partitions created
TENANCY_SQL_FUNCTION(tenancy_maintain_file_access_log) {
    if (PG_ARGISNULL(0)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "months_ahead must not be NULL");
    }
    int months_ahead = PG_GETARG_INT32(0);
    if (months_ahead < 0 || months_ahead > 120) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "months_ahead must be between 0 and 120");
    }
    refuse_read_only("tenancy.maintain_file_access_log", "partitions");
    refuse_unless_rollup_state_visible("tenancy.maintain_file_access_log");
    {
        // In turn with purges and rollup runs (which maintain as well), by
        // the rollup state row: the first step of the lock order.
        pg::SpiConnection spi;
        spi.execute(rollup_state_lock_statement("").c_str(), false);
    }
    if (IsolationUsesXactSnapshot()) {
        // Its plan would be read on the transaction's snapshot, and a row a
        // writer committed since would then fail the ATTACH.
        throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                        "tenancy.maintain_file_access_log() runs under READ COMMITTED only",
                        {}, "Call it in a READ COMMITTED transaction.");
    }
    PG_RETURN_INT32(maintain_file_access_log(months_ahead));
}

// tenancy.drop_future_log_months(months_ahead integer) -> months dropped (1.23)
TENANCY_SQL_FUNCTION(tenancy_drop_future_log_months) {
    if (PG_ARGISNULL(0)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "months_ahead must not be NULL");
    }
    int months_ahead = PG_GETARG_INT32(0);
    if (months_ahead < kLogMonthsAhead || months_ahead > 120) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "months_ahead must be between " + std::to_string(kLogMonthsAhead) +
                            " and 120",
                        "run_rollups() keeps the current month and the next " +
                            std::to_string(kLogMonthsAhead) + ", and would make them again.");
    }
    refuse_read_only("tenancy.drop_future_log_months", "partitions");
    refuse_unless_rollup_state_visible("tenancy.drop_future_log_months");
    {
        // In turn with maintenance (which makes months), purges and rollup
        // runs, by the rollup state row: the first step of the lock order.
        pg::SpiConnection spi;
        spi.execute(rollup_state_lock_statement("").c_str(), false);
    }
    PG_RETURN_INT32(drop_future_log_months(months_ahead));
}

// Event trigger, ddl_command_end on CREATE FUNCTION and CREATE PROCEDURE
// (1.9): CREATE OR REPLACE of one of the extension's functions, outside the
// extension's own scripts, is undone with an error. The guards are functions
// (file_access_log_guard, the files audit): replaced by one that does
// nothing, they would switch the append-only log and the audit off while
// their triggers stay enabled, which is what check() looks at.
TENANCY_SQL_FUNCTION(tenancy_function_guard) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "function_guard must be called as an event trigger");
    }
    if (pg::call([] { return in_own_script(); })) PG_RETURN_VOID();
    Oid extension = pg::call([] { return get_extension_oid("pg_tenancy", true); });
    if (!OidIsValid(extension)) PG_RETURN_VOID();
    std::vector<Oid> functions;
    {
        pg::SpiConnection spi;
        spi.for_each_row("SELECT objid FROM pg_catalog.pg_event_trigger_ddl_commands()"
                         " WHERE classid = 'pg_catalog.pg_proc'::pg_catalog.regclass",
                         {}, true, [&](TupleTableSlot* slot) {
                             functions.push_back(DatumGetObjectId(slot->tts_values[0]));
                         });
    }
    for (Oid function : functions) {
        if (pg::call([&] { return getExtensionOfObject(ProcedureRelationId, function); }) != extension) {
            continue;
        }
        std::string name = pg::call([&] { return format_procedure(function); });
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "cannot replace function " + name + ": it belongs to the extension pg_tenancy",
                        "The extension's functions keep tenants apart and the audit append-only; "
                        "they change only with the extension.",
                        "Upgrade with ALTER EXTENSION pg_tenancy UPDATE.");
    }
    PG_RETURN_VOID();
}

// Event trigger, ddl_command_start on DROP TABLE, ALTER TABLE and (1.7) ALTER INDEX.
TENANCY_SQL_FUNCTION(tenancy_file_access_log_ddl_guard) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "file_access_log_ddl_guard must be called as an event trigger");
    }
    if (in_log_maintenance()) PG_RETURN_VOID();
    auto* event = reinterpret_cast<EventTriggerData*>(fcinfo->context);
    Node* statement = event->parsetree;
    // What the statement would do to the log, if anything (looked up without
    // a lock, as the statement itself has not run yet).
    bool renames = false;
    const char* renamed_object = nullptr;  // an object of the extension renamed or moved
    Oid renamed_column_table = InvalidOid;   // … when it is a column: its table
    const char* renamed_column = nullptr;
    bool takes_out = false;                // ALTER EXTENSION pg_tenancy DROP …
    const char* refused = pg::call([&]() -> const char* {
        if (IsA(statement, DropStmt)) {
            auto* drop = castNode(DropStmt, statement);
            if (drop->removeType != OBJECT_TABLE) return nullptr;
            ListCell* cell = nullptr;
            foreach (cell, drop->objects) {
                auto* names = static_cast<List*>(lfirst(cell));
                if (is_log_partition(
                        RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true))) {
                    return psprintf("drop table %s", NameListToString(names));
                }
            }
        } else if (IsA(statement, AlterTableStmt)) {
            auto* alter = castNode(AlterTableStmt, statement);
            ListCell* cell = nullptr;
            foreach (cell, alter->cmds) {
                auto* command = static_cast<AlterTableCmd*>(lfirst(cell));
                if ((command->subtype == AT_DetachPartition ||
                     command->subtype == AT_DetachPartitionFinalize) &&
                    is_extension_partitioned_table(
                        RangeVarGetRelid(alter->relation, NoLock, true))) {
                    return "detach a partition of tenancy.file_access_log";
                }
                // One of the log's own columns given another type (ALTER
                // COLUMN … TYPE … USING rewrites every row's value) or
                // dropped: an UPDATE of every audit row, by whoever owns the
                // log. Columns a DBA added are the DBA's.
                if ((command->subtype == AT_AlterColumnType || command->subtype == AT_DropColumn) &&
                    is_log_column(RangeVarGetRelid(alter->relation, NoLock, true), command->name)) {
                    return command->subtype == AT_DropColumn
                               ? "drop a column of tenancy.file_access_log"
                               : "change the type of a column of tenancy.file_access_log";
                }
                // The months belong to the log's owner, so that DROP OWNED BY
                // another role leaves them.
                if (command->subtype == AT_ChangeOwner &&
                    is_log_partition(RangeVarGetRelid(alter->relation, NoLock, true))) {
                    return "change the owner of a partition of tenancy.file_access_log";
                }
            }
        } else if (IsA(statement, RenameStmt) &&
                   (castNode(RenameStmt, statement)->renameType == OBJECT_COLUMN ||
                    castNode(RenameStmt, statement)->renameType == OBJECT_ATTRIBUTE)) {
            // Renaming one of the log's own columns (ALTER TABLE, or ALTER
            // VIEW, MATERIALIZED VIEW or FOREIGN TABLE, which PostgreSQL lets
            // rename a table's columns too; ALTER TYPE … RENAME ATTRIBUTE of
            // its row type): the audit writes them by name, and readers read
            // them so. Two renames would swap what every row says.
            auto* rename = castNode(RenameStmt, statement);
            Oid relid = rename->relation != nullptr
                            ? RangeVarGetRelid(rename->relation, NoLock, true)
                            : InvalidOid;
            if (is_log_column(relid, rename->subname)) {
                return "rename a column of tenancy.file_access_log";
            }
            // Any column of the extension's other tables (1.10): the library
            // reads them by name, and one renamed could fail open (a member's
            // deactivated_at). A column a DBA added is told apart below.
            if (!in_own_script() && is_extension_relation(relid) && rename->subname != nullptr &&
                get_attnum(relid, rename->subname) != InvalidAttrNumber) {
                renamed_column_table = relid;
                renamed_column = rename->subname;
                renamed_object = psprintf("column %s of %s", quote_identifier(rename->subname),
                                          quote_qualified_identifier(
                                              get_namespace_name(get_rel_namespace(relid)),
                                              get_rel_name(relid)));
                return "rename";
            }
        } else if (IsA(statement, AlterExtensionContentsStmt)) {
            // ALTER EXTENSION pg_tenancy DROP …: out of the extension, an
            // object is no longer known here as the extension's (the log, its
            // enums), nor kept from being replaced (its functions, the guards
            // among them); it could be rewritten and put back with ADD.
            auto* alter = castNode(AlterExtensionContentsStmt, statement);
            if (alter->action < 0 && std::strcmp(alter->extname, "pg_tenancy") == 0) {
                takes_out = true;
                return "take an object out of the extension pg_tenancy";
            }
        } else if (IsA(statement, AlterEnumStmt) && castNode(AlterEnumStmt, statement)->oldVal) {
            // ALTER TYPE … RENAME VALUE of one of the extension's enums
            // (file_action: what every audit row says it was): a rewrite of
            // every row that holds the value. (ADD VALUE is left alone.)
            auto* alter = castNode(AlterEnumStmt, statement);
            Oid type = LookupTypeNameOid(nullptr, makeTypeNameFromNameList(alter->typeName), true);
            Oid extension = get_extension_oid("pg_tenancy", true);
            if (OidIsValid(type) && OidIsValid(extension) &&
                getExtensionOfObject(TypeRelationId, type) == extension) {
                // (The statement names the type as it is called: the last
                // name of the list, whatever the schema.)
                if (std::strcmp(strVal(llast(alter->typeName)), "file_action") == 0) {
                    return psprintf("rename a value of type %s", format_type_be(type));
                }
                // Another of its enums (member_role, file_visibility): the
                // library and the policies compare its values by name.
                renamed_object = psprintf("a value of type %s", format_type_be(type));
                return "rename";
            }
        } else if (IsA(statement, RenameStmt) || IsA(statement, AlterObjectSchemaStmt)) {
            // ALTER TABLE … RENAME TO, ALTER INDEX … RENAME TO (which renames a
            // table as well), ALTER TABLE … SET SCHEMA.
            bool is_rename = IsA(statement, RenameStmt);
            RangeVar* relation = is_rename ? castNode(RenameStmt, statement)->relation
                                           : castNode(AlterObjectSchemaStmt, statement)->relation;
            ObjectType type = is_rename ? castNode(RenameStmt, statement)->renameType
                                        : castNode(AlterObjectSchemaStmt, statement)->objectType;
            if ((type == OBJECT_TABLE || (is_rename && type == OBJECT_INDEX)) &&
                relation != nullptr &&
                is_log_default_partition(RangeVarGetRelid(relation, NoLock, true))) {
                renames = true;
                return is_rename ? "rename" : "move";
            }
            // The extension's own objects (tables, views, sequences,
            // functions, types…) and (ALTER SCHEMA … RENAME) its schema: the
            // library's statements name them, and every file write, run or
            // purge would fail after (1.10).
            if (in_own_script()) return nullptr;
            // A month of the log moved to another schema could be dropped
            // with it (DROP SCHEMA … CASCADE), its rows with it; renamed, it
            // would stand in the way of the month maintenance makes.
            if (relation != nullptr && (type == OBJECT_TABLE || type == OBJECT_FOREIGN_TABLE) &&
                is_log_partition(RangeVarGetRelid(relation, NoLock, true))) {
                return is_rename ? "rename a partition of tenancy.file_access_log"
                                 : "move a partition of tenancy.file_access_log";
            }
            if (relation != nullptr &&
                (type == OBJECT_TABLE || type == OBJECT_VIEW || type == OBJECT_MATVIEW ||
                 type == OBJECT_FOREIGN_TABLE || type == OBJECT_SEQUENCE ||
                 type == OBJECT_TABCONSTRAINT || (is_rename && type == OBJECT_INDEX))) {
                Oid relid = RangeVarGetRelid(relation, NoLock, true);
                // Of the indexes and constraints of its tables, the primary
                // keys count as the extension's (the library reads members
                // and protected_tables through them, by name); a DBA's own
                // index or constraint there is the DBA's.
                Oid owner = relid;
                bool guarded = true;
                if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_INDEX) {
                    owner = IndexGetRelation(relid, true);
                    guarded = is_primary_key_index(relid);
                } else if (type == OBJECT_TABCONSTRAINT) {
                    guarded = is_primary_key_constraint(relid,
                                                        castNode(RenameStmt, statement)->subname);
                }
                if (guarded && is_extension_relation(owner)) {
                    renamed_object = quote_qualified_identifier(
                        get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
                    if (type == OBJECT_TABCONSTRAINT) {
                        renamed_object = psprintf(
                            "constraint %s of %s",
                            quote_identifier(castNode(RenameStmt, statement)->subname),
                            renamed_object);
                    }
                    return is_rename ? "rename" : "move";
                }
            }
            Node* object = is_rename ? castNode(RenameStmt, statement)->object
                                     : castNode(AlterObjectSchemaStmt, statement)->object;
            Oid extension = get_extension_oid("pg_tenancy", true);
            bool function_like = type == OBJECT_FUNCTION || type == OBJECT_PROCEDURE ||
                                 type == OBJECT_ROUTINE || type == OBJECT_AGGREGATE ||
                                 type == OBJECT_OPCLASS || type == OBJECT_OPFAMILY;
            bool type_like = type == OBJECT_TYPE || type == OBJECT_DOMAIN;
            if (type_like && object != nullptr) {
                // ALTER TYPE names it by a list; the lookup wants a TypeName.
                object = reinterpret_cast<Node*>(makeTypeNameFromNameList(castNode(List, object)));
            }
            if ((function_like || type_like) && relation == nullptr && object != nullptr &&
                OidIsValid(extension)) {
                Relation unused = nullptr;
                ObjectAddress address =
                    get_object_address(type, object, &unused, AccessShareLock, true);
                if (unused != nullptr) table_close(unused, AccessShareLock);
                if (OidIsValid(address.objectId) &&
                    getExtensionOfObject(address.classId, address.objectId) == extension) {
                    renamed_object = getObjectDescription(&address, false);
                    return is_rename ? "rename" : "move";
                }
            }
            if (is_rename && type == OBJECT_SCHEMA) {
                auto* rename = castNode(RenameStmt, statement);
                // The control file fixes the extension's schema: tenancy.
                if (OidIsValid(extension) && rename->subname != nullptr &&
                    std::strcmp(rename->subname, "tenancy") == 0) {
                    renamed_object = psprintf("schema %s", quote_identifier(rename->subname));
                    return "rename";
                }
            }
        }
        return nullptr;
    });
    if (takes_out) {
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "cannot take an object out of the extension pg_tenancy",
                        "Out of the extension, an object is no longer guarded as the extension's "
                        "(the log and its enums against rewrites, the functions, the guards among "
                        "them, against replacement): it could be rewritten and added back.",
                        "Upgrade with ALTER EXTENSION pg_tenancy UPDATE, or drop the extension.");
    }
    if (renamed_object != nullptr) {
        if (renamed_column != nullptr && is_dba_column(renamed_column_table, renamed_column)) {
            PG_RETURN_VOID();
        }
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        std::string("cannot ") + refused + " " + renamed_object +
                            ": it belongs to the extension pg_tenancy, which finds it by name",
                        "pg_tenancy's code names the extension's objects and schema: renamed, its "
                        "file writes, rollup runs and purges would fail.");
    }
    if (renames) {
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        std::string("cannot ") + refused +
                            " tenancy.file_access_log_default: pg_tenancy finds it by that name",
                        "Rows of a month without a partition wait there until maintenance "
                        "moves them to their month; purges remove its old rows.");
    }
    if (refused != nullptr) refuse_partition_ddl(refused);
    PG_RETURN_VOID();
}
