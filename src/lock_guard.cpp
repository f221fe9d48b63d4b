#include "lock_guard.hpp"

#include "pg/postgres.hpp"

namespace tenancy {
namespace {

ProcessUtility_hook_type g_previous_process_utility = nullptr;

const char* lock_mode_name(int mode) {
    switch (mode) {
        case ShareUpdateExclusiveLock: return "SHARE UPDATE EXCLUSIVE";
        case ShareLock: return "SHARE";
        case ShareRowExclusiveLock: return "SHARE ROW EXCLUSIVE";
        case ExclusiveLock: return "EXCLUSIVE";
        default: return "ACCESS EXCLUSIVE";
    }
}

// C flow (a hook): ereport may longjmp through it.
void refuse_strong_locks_on_extension_tables(const LockStmt* lock) {
    if (lock->mode <= RowExclusiveLock) return;
    Oid extension = get_extension_oid("pg_tenancy", true);
    if (!OidIsValid(extension)) return;
    ListCell* cell;
    foreach (cell, lock->relations) {
        auto* relation = static_cast<RangeVar*>(lfirst(cell));
        // Looked up without a lock: LOCK TABLE itself locks and checks it.
        Oid relid = RangeVarGetRelid(relation, NoLock, true);
        if (!OidIsValid(relid) ||
            getExtensionOfObject(RelationRelationId, relid) != extension) {
            continue;
        }
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tuple)) continue;
        Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
        ReleaseSysCache(tuple);
        if (has_privs_of_role(GetUserId(), owner)) continue;
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("permission denied to lock table %s in %s mode",
                        quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                                   get_rel_name(relid)),
                        lock_mode_name(lock->mode)),
                 errdetail("A lock of pg_tenancy's tables stronger than ROW EXCLUSIVE is their "
                           "owner's only: it would stall every tenant."),
                 errhint("Lock rows (SELECT … FOR UPDATE) instead.")));
    }
}

void process_utility(PlannedStmt* statement, const char* query, bool read_only_tree,
                     ProcessUtilityContext context, ParamListInfo params,
                     QueryEnvironment* environment, DestReceiver* destination,
                     QueryCompletion* completion) {
    if (IsA(statement->utilityStmt, LockStmt)) {
        refuse_strong_locks_on_extension_tables(castNode(LockStmt, statement->utilityStmt));
    }
    if (g_previous_process_utility != nullptr) {
        g_previous_process_utility(statement, query, read_only_tree, context, params, environment,
                                   destination, completion);
    } else {
        standard_ProcessUtility(statement, query, read_only_tree, context, params, environment,
                                destination, completion);
    }
}

}  // namespace

void install_lock_guard() {
    g_previous_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = process_utility;
}

}  // namespace tenancy
