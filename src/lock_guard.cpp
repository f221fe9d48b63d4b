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
void refuse_if_extension_table(Oid relid, int mode, List* expanding_views);

// The tables under a view, at any depth (LOCK TABLE locks them too, checking
// privileges as the view's owner, whom a session can be by creating a
// temporary view).
struct ViewWalk {
    int mode;
    List* expanding_views;  // the views being expanded, outermost first
};

bool refuse_tables_under(Node* node, void* walk_arg) {
    if (node == nullptr) return false;
    auto* walk = static_cast<ViewWalk*>(walk_arg);
    if (IsA(node, Query)) {
        auto* query = castNode(Query, node);
        ListCell* cell;
        foreach (cell, query->rtable) {
            auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
            // The view's own OLD/NEW entries, and a view that refers to itself.
            if (rte->rtekind != RTE_RELATION ||
                list_member_oid(walk->expanding_views, rte->relid)) {
                continue;
            }
            refuse_if_extension_table(rte->relid, walk->mode, walk->expanding_views);
        }
        return query_tree_walker(query, as_tree_walker(refuse_tables_under), walk_arg, 0);
    }
    return expression_tree_walker(node, as_tree_walker(refuse_tables_under), walk_arg);
}

void refuse_if_extension_table(Oid relid, int mode, List* expanding_views) {
    if (get_rel_relkind(relid) == RELKIND_VIEW) {
        // Briefly: LOCK TABLE takes its own lock on it next.
        Relation view = table_open(relid, AccessShareLock);
        auto* query = static_cast<Query*>(copyObjectImpl(get_view_query(view)));
        table_close(view, AccessShareLock);
        ViewWalk walk{mode, lappend_oid(list_copy(expanding_views), relid)};
        refuse_tables_under(reinterpret_cast<Node*>(query), &walk);
        return;
    }
    Oid extension = get_extension_oid("pg_tenancy", true);
    if (!OidIsValid(extension) || getExtensionOfObject(RelationRelationId, relid) != extension) {
        return;
    }
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple)) return;
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    if (has_privs_of_role(GetUserId(), owner)) return;
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied to lock table %s in %s mode",
                    quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                               get_rel_name(relid)),
                    lock_mode_name(mode)),
             errdetail("A lock of pg_tenancy's tables stronger than ROW EXCLUSIVE, named or "
                       "under a view, is their owner's only: it would stall every tenant."),
             errhint("Lock rows (SELECT ... FOR UPDATE) instead.")));
}

void refuse_strong_locks_on_extension_tables(const LockStmt* lock) {
    if (lock->mode <= RowExclusiveLock) return;
    ListCell* cell;
    foreach (cell, lock->relations) {
        auto* relation = static_cast<RangeVar*>(lfirst(cell));
        // Looked up without a lock: LOCK TABLE itself locks and checks it.
        Oid relid = RangeVarGetRelid(relation, NoLock, true);
        if (OidIsValid(relid)) refuse_if_extension_table(relid, lock->mode, NIL);
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
