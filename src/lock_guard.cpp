#include "lock_guard.hpp"

#include "pg/postgres.hpp"
#include "pg/utility_hook.hpp"

namespace tenancy {
namespace {

ProcessUtility_hook_type g_previous_process_utility = nullptr;

// Everything here runs in a hook, in C flow: ereport may longjmp through it,
// and no C++ object with a destructor is alive.

const char* lock_mode_name(int mode) {
    switch (mode) {
        case ShareUpdateExclusiveLock: return "SHARE UPDATE EXCLUSIVE";
        case ShareLock: return "SHARE";
        case ShareRowExclusiveLock: return "SHARE ROW EXCLUSIVE";
        case ExclusiveLock: return "EXCLUSIVE";
        default: return "ACCESS EXCLUSIVE";
    }
}

char* qualified_name(Oid relid) {
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
                                      get_rel_name(relid));
}

// The application tables tenancy.protect() recorded (1.1), read as the
// catalogs are (no SPI in a hook): its row level security, which has no
// policy, would show the caller nothing. `only`: that table's row, looked up
// by the primary key (relid); InvalidOid: all of them.
List* protected_tables(Oid only = InvalidOid) {
    Oid schema = get_namespace_oid("tenancy", true);
    Oid registry = OidIsValid(schema) ? get_relname_relid("protected_tables", schema) : InvalidOid;
    Oid key = OidIsValid(schema) ? get_relname_relid("protected_tables_pkey", schema) : InvalidOid;
    AttrNumber relid_column = OidIsValid(registry) ? get_attnum(registry, "relid") : InvalidAttrNumber;
    if (relid_column == InvalidAttrNumber) return NIL;  // a schema from before 1.1
    List* tables = NIL;
    Relation relation = table_open(registry, AccessShareLock);
    ScanKeyData by_relid;
    ScanKeyInit(&by_relid, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(only));
    bool use_key = OidIsValid(only) && OidIsValid(key);
    SysScanDesc scan = systable_beginscan(relation, use_key ? key : InvalidOid, use_key, nullptr,
                                          use_key ? 1 : 0, use_key ? &by_relid : nullptr);
    HeapTuple tuple;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
        bool is_null = true;
        Datum relid = heap_getattr(tuple, relid_column, RelationGetDescr(relation), &is_null);
        if (is_null || (OidIsValid(only) && DatumGetObjectId(relid) != only)) continue;
        tables = lappend_oid(tables, DatumGetObjectId(relid));
    }
    systable_endscan(scan);
    table_close(relation, AccessShareLock);
    return tables;
}

// A table the current user does not act as the owner of (superusers act as
// every owner): one it may not lock strongly if it is guarded.
bool is_others_table(Oid relid) {
    char relkind = get_rel_relkind(relid);
    return (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE) &&
           !pg_class_ownercheck(relid, GetUserId());
}

// A table the current user may not lock strongly: one of pg_tenancy's own or
// one it protects (since the 1.10 library: a tenant could stall every other
// tenant of a protected table as of the extension's), that it does not act as
// the owner of. The registry is read only then, by key.
bool is_guarded_table(Oid relid) {
    if (!is_others_table(relid)) return false;
    Oid extension = get_extension_oid("pg_tenancy", true);
    if (!OidIsValid(extension)) return false;
    return getExtensionOfObject(RelationRelationId, relid) == extension ||
           protected_tables(relid) != NIL;
}

[[noreturn]] void refuse_lock(Oid relid, int mode) {
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied to lock table %s in %s mode", qualified_name(relid),
                    lock_mode_name(mode)),
             errdetail("A lock of pg_tenancy's tables, or of the tables it protects, stronger "
                       "than ROW EXCLUSIVE, named or under a view, is their owner's only: it "
                       "would stall every tenant."),
             errhint("Lock rows (SELECT ... FOR UPDATE) instead.")));
    pg_unreachable();
}

// How a LOCK TABLE goes: its mode and NOWAIT.
struct LockRequest {
    int mode;
    bool nowait;
};

void refuse_if_guarded(Oid relid, const LockRequest& request, List* expanding_views);

// LOCK TABLE's own privilege rule (lockcmds.c, LockTableAclCheck).
AclResult lock_privilege(Oid relid, int mode, Oid user) {
    AclMode privileges = ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE;
    if (mode <= AccessShareLock) privileges |= ACL_SELECT;
    if (mode <= RowExclusiveLock) privileges |= ACL_INSERT;
    return pg_class_aclcheck(relid, user, privileges);
}

// The tables under a view, at any depth (LOCK TABLE locks them too, checking
// privileges as the view's owner, whom a session can be by creating a
// temporary view). The views under it are locked here, in the statement's
// mode, once checked as LOCK TABLE checks them: so their definitions cannot
// change before LOCK TABLE locks what is under them.
struct ViewWalk {
    LockRequest request;
    Oid view_owner;
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
            if (rte->relkind == RELKIND_VIEW) {
                // As LOCK TABLE will: checked as the outer view's owner. One
                // it may not lock is left to LOCK TABLE to report.
                if (lock_privilege(rte->relid, walk->request.mode, walk->view_owner) !=
                    ACLCHECK_OK) {
                    continue;
                }
                if (!walk->request.nowait) {
                    LockRelationOid(rte->relid, walk->request.mode);
                } else if (!ConditionalLockRelationOid(rte->relid, walk->request.mode)) {
                    ereport(ERROR, (errcode(ERRCODE_LOCK_NOT_AVAILABLE),
                                    errmsg("could not obtain lock on relation \"%s\"",
                                           get_rel_name(rte->relid))));
                }
            }
            refuse_if_guarded(rte->relid, walk->request, walk->expanding_views);
        }
        return query_tree_walker(query, as_tree_walker(refuse_tables_under), walk_arg, 0);
    }
    return expression_tree_walker(node, as_tree_walker(refuse_tables_under), walk_arg);
}

void refuse_if_guarded(Oid relid, const LockRequest& request, List* expanding_views) {
    if (get_rel_relkind(relid) == RELKIND_VIEW) {
        // Read without a lock of its own (the caller holds one, or will, and
        // is called again if the view changed meantime): a reference keeps
        // the relcache entry, copied before anything can invalidate it.
        Relation view = RelationIdGetRelation(relid);
        if (view == nullptr) return;
        auto* query = static_cast<Query*>(copyObjectImpl(get_view_query(view)));
        Oid owner = view->rd_rel->relowner;
        RelationClose(view);
        ViewWalk walk{request, owner, lappend_oid(list_copy(expanding_views), relid)};
        refuse_tables_under(reinterpret_cast<Node*>(query), &walk);
        return;
    }
    if (is_guarded_table(relid)) refuse_lock(relid, request.mode);
}

// What LOCK TABLE checks of a relation before it locks it (lockcmds.c:
// which kinds can be locked, and with which privileges), and pg_tenancy's rule.
void check_before_locking(const RangeVar* relation, Oid relid, Oid, void* request_arg) {
    if (!OidIsValid(relid)) return;  // missing: LOCK TABLE reports it
    const auto& request = *static_cast<const LockRequest*>(request_arg);
    int mode = request.mode;
    char relkind = get_rel_relkind(relid);
    if (relkind == '\0') return;  // dropped meanwhile
    if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
        relkind != RELKIND_VIEW) {
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("cannot lock relation \"%s\"", relation->relname),
                        errdetail_relkind_not_supported(relkind)));
    }
    AclResult result = lock_privilege(relid, mode, GetUserId());
    if (result != ACLCHECK_OK) aclcheck_error(result, get_relkind_objtype(relkind), relation->relname);
    refuse_if_guarded(relid, request, NIL);
}

// The extension's tables (its member relations).
List* extension_tables() {
    Oid extension = get_extension_oid("pg_tenancy", true);
    if (!OidIsValid(extension)) return NIL;
    List* tables = NIL;
    Relation depend = table_open(DependRelationId, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(ExtensionRelationId));
    ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(extension));
    SysScanDesc scan = systable_beginscan(depend, DependReferenceIndexId, true, nullptr, 2, keys);
    HeapTuple tuple;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
        auto* form = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tuple));
        if (form->classid == RelationRelationId && form->deptype == DEPENDENCY_EXTENSION) {
            tables = lappend_oid(tables, form->objid);
        }
    }
    systable_endscan(scan);
    table_close(depend, AccessShareLock);
    return tables;
}

// The strongest lock above ROW EXCLUSIVE this transaction holds on relid, or
// NoLock.
LOCKMODE strong_lock_held(Oid relid) {
    LOCKTAG tag;
    SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
    for (LOCKMODE mode = AccessExclusiveLock; mode > RowExclusiveLock; --mode) {
        if (LockHeldByMe(&tag, mode)) return mode;
    }
    return NoLock;
}

// LOCK TABLE looks its names up again, and while it waits for a lock it
// follows a rename or a new object of the name: what it locked in the end
// may not be what was checked before. So after it, every strong lock on the
// extension's tables and the protected ones that the statement took is
// checked too (failing releases it with the transaction).
struct LocksBefore {
    List* tables;  // the extension's and protected tables the user may not lock strongly
    List* held;    // of those, the ones already locked strongly before
};

LocksBefore note_strong_locks() {
    LocksBefore before{NIL, NIL};
    ListCell* cell;
    // A superuser acts as every owner: nothing to refuse, and no registry to
    // read (whose lock a VACUUM FULL of it would make every LOCK wait for).
    if (superuser()) return before;
    List* tables = list_concat(extension_tables(), protected_tables());
    foreach (cell, tables) {
        Oid relid = lfirst_oid(cell);
        if (!is_others_table(relid)) continue;
        before.tables = lappend_oid(before.tables, relid);
        if (strong_lock_held(relid) != NoLock) before.held = lappend_oid(before.held, relid);
    }
    return before;
}

void refuse_new_strong_locks(const LocksBefore& before) {
    ListCell* cell;
    foreach (cell, before.tables) {
        Oid relid = lfirst_oid(cell);
        if (list_member_oid(before.held, relid)) continue;
        LOCKMODE mode = strong_lock_held(relid);
        if (mode != NoLock) refuse_lock(relid, mode);
    }
}

// Statements that lock a table strongly before PostgreSQL checks whether the
// user may do them (CREATE TRIGGER, CREATE RULE, a foreign key that
// references it, a table that inherits from it or is a partition of it,
// ATTACH/DETACH of it): for the extension's tables and the protected ones,
// the same check is made first, instead of queueing for the lock, which
// stalls every tenant behind it, and failing only once it is granted.
enum class Needs { owner, trigger, references };

bool allowed(Oid relid, Needs needs) {
    switch (needs) {
        case Needs::trigger:
            return pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) == ACLCHECK_OK;
        case Needs::references:
            // On the table, or (PostgreSQL checks the referenced columns) on
            // any column here.
            return pg_class_aclcheck(relid, GetUserId(), ACL_REFERENCES) == ACLCHECK_OK ||
                   pg_attribute_aclcheck_all(relid, GetUserId(), ACL_REFERENCES, ACLMASK_ANY) ==
                       ACLCHECK_OK;
        case Needs::owner: break;
    }
    return false;  // is_guarded_table: not the owner
}

// Pins a name to the schema it was found in, so that PostgreSQL, which looks
// it up again later (after waiting for other locks, maybe), finds what was
// checked here and not another relation of that name that a concurrent
// transaction made visible earlier on the search_path. On the hook's own
// copy of the statement.
void pin_to_schema(RangeVar* relation, Oid relid) {
    relation->catalogname = nullptr;
    relation->schemaname = get_namespace_name(get_rel_namespace(relid));
}

void refuse_unless_allowed(RangeVar* relation, Needs needs, const char* what) {
    if (relation == nullptr) return;
    Oid relid = RangeVarGetRelid(relation, NoLock, true);
    if (!OidIsValid(relid)) return;
    if (!is_guarded_table(relid) || allowed(relid, needs)) {
        pin_to_schema(relation, relid);
        return;
    }
    ereport(ERROR,
            (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
             errmsg("permission denied for table %s", qualified_name(relid)),
             errdetail("%s needs %s; it is refused before PostgreSQL locks the table, which "
                       "would stall every tenant.",
                       what, needs == Needs::references ? "the REFERENCES privilege on it"
                             : needs == Needs::trigger  ? "the TRIGGER privilege on it"
                                                        : "its owner")));
}

void refuse_foreign_keys_to_guarded(List* constraints) {
    ListCell* cell;
    foreach (cell, constraints) {
        Node* node = static_cast<Node*>(lfirst(cell));
        if (IsA(node, ColumnDef)) {
            refuse_foreign_keys_to_guarded(castNode(ColumnDef, node)->constraints);
        } else if (IsA(node, Constraint) && castNode(Constraint, node)->contype == CONSTR_FOREIGN) {
            refuse_unless_allowed(castNode(Constraint, node)->pktable, Needs::references,
                                  "A foreign key referencing it");
        }
    }
}

void refuse_early_locking_alter(const AlterTableStmt* alter) {
    // ALTER TABLE IF EXISTS of a table that is not there: PostgreSQL skips it.
    if (alter->missing_ok && !OidIsValid(RangeVarGetRelid(alter->relation, NoLock, true))) return;
    ListCell* cell;
    foreach (cell, alter->cmds) {
        auto* command = static_cast<AlterTableCmd*>(lfirst(cell));
        switch (command->subtype) {
            case AT_AddConstraint:
            case AT_AddColumn:
                refuse_foreign_keys_to_guarded(list_make1(command->def));
                break;
            case AT_AttachPartition:
            case AT_DetachPartition:
            case AT_DetachPartitionFinalize:
                refuse_unless_allowed(castNode(PartitionCmd, command->def)->name, Needs::owner,
                                      "Attaching or detaching it as a partition");
                break;
            case AT_AddInherit:
            case AT_DropInherit:
                refuse_unless_allowed(castNode(RangeVar, command->def), Needs::owner,
                                      "A table inheriting from it");
                break;
            default:
                break;
        }
    }
}

void refuse_early_locking_statements(Node* statement) {
    if (IsA(statement, CreateTrigStmt)) {
        // (A constraint trigger's FROM table is only share-locked.)
        refuse_unless_allowed(castNode(CreateTrigStmt, statement)->relation, Needs::trigger,
                              "A trigger on it");
    } else if (IsA(statement, RuleStmt)) {
        refuse_unless_allowed(castNode(RuleStmt, statement)->relation, Needs::owner,
                              "A rule on it");
    } else if (IsA(statement, CreateStmt)) {
        auto* create = castNode(CreateStmt, statement);
        refuse_foreign_keys_to_guarded(create->tableElts);
        refuse_foreign_keys_to_guarded(create->constraints);
        ListCell* cell;
        foreach (cell, create->inhRelations) {
            refuse_unless_allowed(static_cast<RangeVar*>(lfirst(cell)), Needs::owner,
                                  "A table inheriting from it or a partition of it");
        }
    } else if (IsA(statement, AlterTableStmt)) {
        refuse_early_locking_alter(castNode(AlterTableStmt, statement));
    }
}

void run_standard(PlannedStmt* statement, const char* query, bool read_only_tree,
                  ProcessUtilityContext context, ParamListInfo params,
                  QueryEnvironment* environment, DestReceiver* destination,
                  QueryCompletion* completion) {
    pg::run_next_process_utility(g_previous_process_utility, statement, query, read_only_tree, context,
                                 params, environment, destination, completion);
}

bool checked_before_locking(const Node* utility) {
    return IsA(utility, CreateTrigStmt) || IsA(utility, RuleStmt) || IsA(utility, CreateStmt) ||
           IsA(utility, AlterTableStmt) ||
           (IsA(utility, LockStmt) && castNode(LockStmt, utility)->mode > RowExclusiveLock);
}

void process_utility(PlannedStmt* statement, const char* query, bool read_only_tree,
                     ProcessUtilityContext context, ParamListInfo params,
                     QueryEnvironment* environment, DestReceiver* destination,
                     QueryCompletion* completion) {
    if (!checked_before_locking(statement->utilityStmt)) {
        run_standard(statement, query, read_only_tree, context, params, environment, destination,
                     completion);
        return;
    }
    // A copy of its own, whose names it may pin to the schemas it checked.
    statement = static_cast<PlannedStmt*>(copyObjectImpl(statement));
    read_only_tree = false;
    Node* utility = statement->utilityStmt;
    if (!IsA(utility, LockStmt)) {
        refuse_early_locking_statements(utility);
        run_standard(statement, query, read_only_tree, context, params, environment, destination,
                     completion);
        return;
    }
    auto* lock = castNode(LockStmt, utility);
    // What PostgreSQL checks before LOCK TABLE locks anything.
    PreventCommandDuringRecovery("LOCK TABLE");
    PreventCommandIfParallelMode("LOCK TABLE");
    RequireTransactionBlock(context == PROCESS_UTILITY_TOPLEVEL, "LOCK TABLE");
    LocksBefore before = note_strong_locks();
    ListCell* cell;
    foreach (cell, lock->relations) {
        // Looked up and locked here, each candidate checked before it is
        // locked (a name can change while the lock is awaited); LOCK TABLE
        // then finds the locks held. What it locked in the end is checked
        // again after it.
        LockRequest request{lock->mode, lock->nowait};
        auto* relation = static_cast<RangeVar*>(lfirst(cell));
        Oid relid = RangeVarGetRelidExtended(relation, lock->mode, lock->nowait ? RVR_NOWAIT : 0,
                                             check_before_locking, &request);
        if (OidIsValid(relid)) pin_to_schema(relation, relid);
    }
    run_standard(statement, query, read_only_tree, context, params, environment, destination,
                 completion);
    refuse_new_strong_locks(before);
}

}  // namespace

void install_lock_guard() {
    g_previous_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = process_utility;
}

}  // namespace tenancy
