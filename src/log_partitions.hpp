// The file access log's monthly partitions, and the one way log rows are
// removed: the extension's own maintenance (retention purge, deleting an
// organization, moving rows out of the default partition).
#pragma once

#include <cstdint>
#include <string>

#include "pg/spi.hpp"

namespace tenancy {

// While one is alive, the log's guards let the extension drop or detach
// partitions and, unless it is for partitions only, remove rows.
// Backend-local C++ state: no SQL can set it, and it does not outlive its
// transaction.
class LogMaintenanceScope {
public:
    enum class Allows { partitions_and_rows, partitions_only };
    explicit LogMaintenanceScope(Allows allows = Allows::partitions_and_rows);
    ~LogMaintenanceScope();
    LogMaintenanceScope(const LogMaintenanceScope&) = delete;
    LogMaintenanceScope& operator=(const LogMaintenanceScope&) = delete;

private:
    // nested scopes restore what they found
    bool outer_partitions_;
    bool outer_rows_;
};

// Whether partitions of the log may be dropped or detached now (the DDL guard).
bool in_log_maintenance();
// Whether rows of the log may be removed now (the row and TRUNCATE guard).
bool removing_log_rows();

// Creates the missing partitions: the current month and months_ahead more
// (UTC), and every month that has rows in the default partition, whose rows
// move there. Returns how many it created.
// A month it filled with moved rows has its BRIN indexes summarized and is
// analyzed before it returns (1.23 library): until a VACUUM ANALYZE, each
// rollup run read every page of it.
//
// Called by hand (MaintenanceCaller::dba), it waits for its locks on the log
// and the default partition at most tenancy.purge_lock_timeout (lock_timeout
// if shorter), then fails with 55P03 (1.25 library; before, without limit,
// and every read of the log queued behind it). Called by run_rollups
// (MaintenanceCaller::run), it does nothing if another transaction holds
// those locks, nor when more than kMostRowsMovedByRun rows wait in the default
// partition (1.25 library): appends to their months wait while they move, and
// a run must not stall them (nor be cancelled, by a job's statement_timeout,
// in the middle of the move, again every minute). *left (when given) says why
// it left work.
enum class MaintenanceCaller { dba, run };
enum class MaintenanceLeft { nothing, locks_busy, backlog };
inline constexpr std::uint64_t kMostRowsMovedByRun = 100000;
int maintain_file_access_log(int months_ahead,
                             MaintenanceCaller caller = MaintenanceCaller::dba,
                             MaintenanceLeft* left = nullptr);

// Drops the empty months of the log that start after the current month and
// the next months_ahead (UTC), under the purge's locks (the rollup state row
// taken by the caller; then the log, its default partition and those months,
// ACCESS EXCLUSIVE, within tenancy.purge_lock_timeout). A month that holds a
// row, on a fresh snapshot under those locks, stays. Returns how many it
// dropped (1.23 library).
int drop_future_log_months(int months_ahead);

// How far ahead run_rollups keeps months (the SQL function's default too).
inline constexpr int kLogMonthsAhead = 2;

// run_rollups' share of the maintenance: maintain_file_access_log when the
// caller acts as the log's owner (a superuser, the owner or a member of its
// role: whoever may create its partitions) under READ COMMITTED. Otherwise
// nothing: rows of a month without a partition wait in the default one.
// It runs in a subtransaction: when it fails (a DBA's event trigger, a full
// disk) its work is rolled back and the error becomes a WARNING, so that the
// rollups the caller counted are kept. A cancel still cancels.
void maintain_file_access_log_if_allowed();

// Lock order, for everything that changes the log's layout or removes its
// rows, and for writers:
//   1. the rollup state row (purge, maintenance, run_rollups take turns);
//   2. the log (writers, organization deletion and purge: ROW EXCLUSIVE,
//      purge later ACCESS EXCLUSIVE; maintenance SHARE UPDATE EXCLUSIVE, as
//      its ATTACH needs, which writers' locks do not conflict with);
//   3. the default partition (maintenance takes ACCESS EXCLUSIVE at once);
//   4. the months.
// A lock a transaction will need stronger later is taken at its strongest
// where others may hold weaker ones, so that it waits instead of deadlocking.

// Takes ROW EXCLUSIVE on the log, then on its default partition, which
// maintenance locks (ACCESS EXCLUSIVE) before it moves rows out of it: a
// statement planned after this over the whole log finds every row, none in
// a month attached meanwhile. For deletions of log rows (an organization's,
// a purge's). Nothing before 1.5.
void hold_log_partitions_steady(pg::SpiConnection& spi);

// The statement that locks the rollup state row FOR UPDATE (selecting
// `columns`): the first step of the lock order. NOWAIT in a transaction that
// already holds a lock on the log, which waiting would turn into a deadlock.
std::string rollup_state_lock_statement(const char* columns);

// Refuses (42501) a caller whom tenancy.rollup_state's row level security
// applies to: the table has no policy, so only superusers (and BYPASSRLS
// roles) see its row. The functions that read it (runs, rebuilds, purges,
// maintenance) otherwise saw no state: a run failed on an RLS error, and a
// purge removed nothing and said that no run had counted anything.
void refuse_unless_rollup_state_visible(const char* function);

// purge_file_access_log's work, under the rollup state row's lock: removes
// the rows older than older_than that the rollups have counted (visible in
// the `counted` snapshot, text). A month whose whole range is that old goes
// as one DROP TABLE when all its rows are counted (under READ COMMITTED),
// at the end, under ACCESS EXCLUSIVE on the log until commit (if it gets
// that lock within tenancy.purge_lock_timeout; otherwise a WARNING, and the
// months stay for the next purge); every other row goes by DELETE. Returns
// the rows removed.
std::uint64_t purge_counted_log_rows(pg::SpiConnection& spi, Datum older_than, Datum counted);

// Defines tenancy.purge_lock_timeout; once, from _PG_init.
void define_log_settings();

// Registers the transaction callback that clears the maintenance flag; once,
// from _PG_init.
void register_log_maintenance_callbacks();

}  // namespace tenancy
