// tenancy.set_context / clear_context and the getters.
//
// Why a setting: a parallel worker receives the leader's settings, and
// transaction/savepoint rollback, RESET ALL and DISCARD ALL already restore
// settings correctly. The setting `tenancy.context` is PGC_SUSET, so a
// non-superuser can change it neither with SET, set_config, PGOPTIONS, ALTER
// ROLE … SET nor through a placeholder created before the library loaded
// (the reserved prefix and PostgreSQL's re-check on definition refuse those).
// Only tenancy.set_context writes it, after checking tenancy.members.
//
// The getters are called once per row by policies, so they read a cache that
// the setting's assign hook keeps in step; they never parse text.
#include "context.hpp"
#include "set_context.hpp"

#include <cstdlib>

#include "open_tenant_queries.hpp"
#include "pg/error_barrier.hpp"
#include "pg/guc.hpp"
#include "pg/spi.hpp"
#include "pg/tuple.hpp"
#include "pg/utility_hook.hpp"
#include "pg/uuid.hpp"

namespace tenancy {
namespace {

constexpr const char* kContextSetting = "tenancy.context";
// What tenancy.require_context's refusals say besides what was refused.
constexpr const char* kRequireContextDetail = "tenancy.require_context is on.";
// "Of its own": a context set in the statement that reads is not yet set
// when the statement starts (app developer review of 1.21).
constexpr const char* kRequireContextHint =
    "Set it at the start of the transaction, in a statement of its own: SELECT "
    "tenancy.set_context(org_id, user_id), or tenancy.set_context_signed(org_id, token).";

// The text of tenancy.context (owned by the GUC machinery) and its decoded
// form, updated by the assign hook on every change, rollback included.
char* g_context_text = nullptr;
std::optional<core::TenantContext> g_context;

// What tenancy.members said, in this backend's latest read of it, of the
// member of a context: read by set_context, and again by
// align_with_membership for a context the session had when the transaction
// began. Backend memory, so that a rollback to a savepoint, which puts the
// setting back as it was, does not put back what the membership no longer
// allows; but a read made in a subtransaction that rolls back may have seen
// changes of members that went with it, and is read again (stale).
struct MembershipRead {
    LocalTransactionId transaction = InvalidLocalTransactionId;
    SubTransactionId subtransaction = InvalidSubTransactionId;
    core::Uuid org_id;
    core::Uuid user_id;
    std::optional<core::MemberRole> role;  // nullopt: no longer an active member
    bool stale = false;

    bool is_about(const core::TenantContext& context) const {
        return transaction == MyProc->lxid && org_id == context.org_id &&
               user_id == context.user_id;
    }
    bool is_of(const core::TenantContext& context) const { return !stale && is_about(context); }
};
MembershipRead g_membership_read;

void remember_membership(const core::TenantContext& context,
                         std::optional<core::MemberRole> role) {
    g_membership_read = {MyProc->lxid, GetCurrentSubTransactionId(), context.org_id,
                         context.user_id, role, false};
}

// The transaction that last set a context for the session (set_context(…,
// false)). PREPARE TRANSACTION keeps settings as if committed, so a session
// context set in a transaction that is then prepared would outlive its
// ROLLBACK PREPARED: such a PREPARE is refused, as PostgreSQL refuses one
// after LISTEN or on a temporary table.
LocalTransactionId g_session_context_set_in = InvalidLocalTransactionId;
SubTransactionId g_session_context_set_sub = InvalidSubTransactionId;

// C flow (a callback): no C++ object alive, so ereport may longjmp.
void on_transaction_event(XactEvent event, void*) {
    if (event != XACT_EVENT_PRE_PREPARE || g_session_context_set_in != MyProc->lxid) return;
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("cannot PREPARE a transaction that set a session tenant context"),
             errdetail("A prepared transaction keeps the session's settings as if it had "
                       "committed, even if it is rolled back."),
             errhint("Set the context for the transaction only (is_local => true) in a "
                     "transaction that is prepared.")));
}

// C flow (a callback): assignments only.
void on_subtransaction_end(SubXactEvent event, SubTransactionId mine, SubTransactionId parent,
                           void*) {
    if (g_session_context_set_sub == mine) {
        // A rollback takes the session context back with it.
        if (event == SUBXACT_EVENT_ABORT_SUB) g_session_context_set_in = InvalidLocalTransactionId;
        if (event == SUBXACT_EVENT_COMMIT_SUB) g_session_context_set_sub = parent;
    }
    if (g_membership_read.subtransaction != mine) return;
    if (event == SUBXACT_EVENT_ABORT_SUB) g_membership_read.stale = true;
    if (event == SUBXACT_EVENT_COMMIT_SUB) g_membership_read.subtransaction = parent;
}

// The context in effect agrees with the membership in the transaction
// g_aligned_in. Any change of the setting (rollback included: the assign
// hook) clears it; the getters test it once per call.
bool g_aligned = false;
LocalTransactionId g_aligned_in = InvalidLocalTransactionId;

bool g_require_context = false;
bool g_require_signed_context = false;
bool g_allow_session_context = true;
ExecutorStart_hook_type g_previous_executor_start = nullptr;
ExecutorRun_hook_type g_previous_executor_run = nullptr;
ExecutorFinish_hook_type g_previous_executor_finish = nullptr;
ExecutorEnd_hook_type g_previous_executor_end = nullptr;
ProcessUtility_hook_type g_previous_process_utility = nullptr;

bool check_context_setting(char** new_value, void** extra, GucSource) {
    core::DecodedContext decoded;
    try {
        decoded = core::decode_context(*new_value != nullptr ? *new_value : "");
    } catch (...) {
        return false;  // only bad_alloc can get here
    }
    if (!decoded.valid) {
        GUC_check_errdetail("tenancy.context is written by tenancy.set_context() only.");
        return false;
    }
    // GUC "extra" data is released with free(); PostgreSQL 15 does not export
    // guc_malloc, so plain malloc it is, and no destructor runs.
    static_assert(std::is_trivially_destructible_v<std::optional<core::TenantContext>>);
    auto* parsed = static_cast<std::optional<core::TenantContext>*>(
        malloc(sizeof(std::optional<core::TenantContext>)));
    if (parsed == nullptr) return false;
    new (parsed) std::optional<core::TenantContext>(decoded.value);
    *extra = parsed;
    return true;
}

void assign_context_setting(const char*, void* extra) {
    g_aligned = false;
    if (extra == nullptr) {
        g_context.reset();
    } else {
        g_context = *static_cast<std::optional<core::TenantContext>*>(extra);
    }
    // A held cursor of another context is never left open under this one
    // (a rollback to a savepoint that set its context put this one back).
    shut_held_cursors_of_other_contexts();
}

// What tenancy.members says of (org_id, user_id), read straight from its
// primary key index in the transaction's snapshot: no SQL, and no RLS (this
// is the check that decides which context a caller may have), so
// set_context needs neither SPI nor SECURITY DEFINER.
struct Membership {
    bool found = false;
    bool active = false;
    Oid role_label = InvalidOid;  // an OID of tenancy.member_role
};

// One lookup of (org_id, user_id) in members through its primary key, in
// `snapshot`. C flow, inside pg::call.
Membership scan_membership(Relation members, Oid index_oid, Datum org_id, Datum user_id,
                           Snapshot snapshot) {
    Membership out;
    TupleDesc desc = RelationGetDescr(members);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_UUID_EQ, org_id);
    ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_UUID_EQ, user_id);
    SysScanDesc scan = systable_beginscan(members, index_oid, true, snapshot, 2, keys);
    HeapTuple tuple = systable_getnext(scan);
    if (HeapTupleIsValid(tuple)) {
        int role_attnum = pg::attribute_number_if_any(desc, "role");
        int deactivated_attnum = pg::attribute_number_if_any(desc, "deactivated_at");
        // Fails closed: without the column that says a member was
        // deactivated (renamed or dropped by a superuser who set the DDL
        // guard aside), every deactivated member would be active again.
        if (role_attnum == 0 || deactivated_attnum == 0) {
            ereport(ERROR,
                    (errcode(ERRCODE_UNDEFINED_COLUMN),
                     errmsg("tenancy.members has no column \"%s\"",
                            role_attnum == 0 ? "role" : "deactivated_at"),
                     errhint("Restore the column as the extension made it.")));
        }
        bool role_null = true, deactivated_null = true;
        Datum role = heap_getattr(tuple, role_attnum, desc, &role_null);
        heap_getattr(tuple, deactivated_attnum, desc, &deactivated_null);
        out.found = !role_null;
        out.active = deactivated_null;
        out.role_label = role_null ? InvalidOid : DatumGetObjectId(role);
    }
    systable_endscan(scan);
    return out;
}

bool same_membership(const Membership& a, const Membership& b) {
    return a.found == b.found && a.active == b.active && a.role_label == b.role_label;
}

// With missing_ok, no tenancy.members (the extension dropped under a
// session's context) reads as no membership.
Membership read_membership(Datum org_id, Datum user_id, bool missing_ok = false) {
    Membership out;
    pg::call([&] {
        Oid schema = get_namespace_oid("tenancy", missing_ok);
        Oid members_oid = OidIsValid(schema) ? get_relname_relid("members", schema) : InvalidOid;
        // Locked before its index is looked up, and tried: a DROP EXTENSION
        // committed while this waited leaves no relation of that OID.
        Relation members = OidIsValid(members_oid) ? try_table_open(members_oid, AccessShareLock)
                                                   : nullptr;
        Oid index_oid = members != nullptr ? get_relname_relid("members_pkey", schema) : InvalidOid;
        if (members != nullptr && !OidIsValid(index_oid)) {
            table_close(members, AccessShareLock);
            members = nullptr;
        }
        if (members == nullptr) {
            if (missing_ok) return;
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("tenancy.members or its primary key is missing")));
        }
        // The latest committed state (and this transaction's own changes),
        // as a foreign key check reads it: under REPEATABLE READ the
        // transaction's snapshot would still show a member deactivated
        // since it was taken.
        Snapshot latest = RegisterSnapshot(GetLatestSnapshot());
        out = scan_membership(members, index_oid, org_id, user_id, latest);
        UnregisterSnapshot(latest);
        // But a membership granted since the snapshot (a new member, one
        // reactivated, another role) must not read rows as they were before
        // it: under REPEATABLE READ and SERIALIZABLE the transaction's
        // queries see the snapshot, where it may have been another's (a
        // student promoted after a file was deleted would read the deleted
        // file as an admin, an order of events no serial run allows). As a
        // foreign key check does, refuse with 40001; the retry sees both.
        // Read in the transaction's snapshot, the row is also predicate-
        // locked under SERIALIZABLE.
        if (out.found && out.active && IsolationUsesXactSnapshot()) {
            // The transaction's snapshot as of now: its own changes up to
            // this command seen, as the latest read sees them (a function
            // called in the statement that added the member, after its
            // insert, must not take its own change for a concurrent one).
            // Registering the transaction snapshot makes a copy of it.
            Snapshot seen = RegisterSnapshot(GetTransactionSnapshot());
            seen->curcid = GetCurrentCommandId(false);
            Membership as_seen = scan_membership(members, index_oid, org_id, user_id, seen);
            UnregisterSnapshot(seen);
            if (!same_membership(out, as_seen)) {
                ereport(ERROR,
                        (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                         errmsg("could not serialize access due to a concurrent change of "
                                "tenancy.members"),
                         errdetail("The member's role or membership changed after the "
                                   "transaction's snapshot was taken."),
                         errhint("Retry the transaction.")));
            }
        }
        table_close(members, AccessShareLock);
    });
    return out;
}

// The member's role if user_id is an active member of org_id.
std::optional<core::MemberRole> lookup_membership(Datum org_id, Datum user_id,
                                                  bool missing_ok = false) {
    Membership membership = read_membership(org_id, user_id, missing_ok);
    if (!membership.found || !membership.active) return std::nullopt;
    Oid label = membership.role_label;
    char* name = pg::call([&] {
        HeapTuple enum_tuple = SearchSysCache1(ENUMOID, ObjectIdGetDatum(label));
        if (!HeapTupleIsValid(enum_tuple)) return static_cast<char*>(nullptr);
        char* copy = pstrdup(NameStr(reinterpret_cast<Form_pg_enum>(GETSTRUCT(enum_tuple))->enumlabel));
        ReleaseSysCache(enum_tuple);
        return copy;
    });
    if (name == nullptr) return std::nullopt;
    return core::parse_member_role(name);
}

// A tenant table: one of the extension's own (schema tenancy) or one that
// tenancy.protect() gave its isolation policy.
bool is_tenant_table(Oid relid, Oid tenancy_schema) {
    if (get_rel_namespace(relid) == tenancy_schema) return true;
    Relation relation = RelationIdGetRelation(relid);
    if (relation == nullptr) return false;
    bool protected_table = false;
    if (relation->rd_rsdesc != nullptr) {
        ListCell* cell;
        foreach (cell, relation->rd_rsdesc->policies) {
            auto* policy = static_cast<RowSecurityPolicy*>(lfirst(cell));
            if (strcmp(policy->policy_name, "tenancy_isolation") == 0) protected_table = true;
        }
    }
    RelationClose(relation);
    return protected_table;
}

// Whether the statement's user for the table (a view's owner, for a table
// read through the view) holds any of the privileges it needs there, on the
// table or on one of its columns.
// A partition or inheritance child the planner added asks for nothing (its
// parent's entry does): not held here, so the parent's entry decides.
bool holds_some_privilege(const RangeTblEntry* rte) {
    AclMode wanted = rte->requiredPerms;
    if (wanted == 0) return false;
    Oid user = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
    return pg_class_aclmask(rte->relid, user, wanted, ACLMASK_ANY) != 0 ||
           pg_attribute_aclcheck_all(rte->relid, user, wanted, ACLMASK_ANY) == ACLCHECK_OK;
}

void require_context_before_tenant_access(QueryDesc* query) {
    Oid tenancy_schema = get_namespace_oid("tenancy", true);
    if (!OidIsValid(tenancy_schema)) return;
    ListCell* cell;
    foreach (cell, query->plannedstmt->rtable) {
        auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
        if (rte->rtekind != RTE_RELATION) continue;
        if (!is_tenant_table(rte->relid, tenancy_schema)) continue;
        if (check_enable_rls(rte->relid, InvalidOid, true) != RLS_ENABLED) continue;
        // A table the caller may not use at all (the signing keys, the rollup
        // state, a log month) gets PostgreSQL's own "permission denied" from
        // the executor: a context would not help, and the hint would say it
        // does. Column privileges count (the application inserts into members
        // through them). Read from the ACLs, not through ExecCheckRTPerms,
        // whose ExecutorCheckPerms_hook (pgaudit's, sepgsql's) would see the
        // statement a second time.
        if (!holds_some_privilege(rte)) continue;
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("no tenant context is set for access to \"%s\"",
                        get_rel_name(rte->relid)),
                 errdetail("%s", kRequireContextDetail), errhint("%s", kRequireContextHint)));
    }
}

// Whether set_context() warns that a context set outside a transaction
// block ends with the statement's transaction: once per portal (a
// statement, a CALL or a DO block). In a CALL or a DO block the context
// serves the procedure up to its next COMMIT, and a procedure that commits
// cannot run inside BEGIN: a batch procedure that committed once per
// organization wrote the warning to the log once per organization
// (robustness review of 1.21: 590,000 warnings, 421 MB). A statement that
// calls set_context() once per row warned once per row, and once per
// Execute of a portal read a few rows at a time (protocol review of 1.21).
// Once, not never: a wrapper procedure that only sets the context loses it
// when it returns.
bool warn_of_statement_transaction() {
    static Portal warned_portal = nullptr;
    static TimestampTz warned_portal_created = 0;
    Portal portal = ActivePortal;
    if (portal == nullptr) return true;
    // A portal is told apart from a later one at the same address by when
    // it was made.
    if (portal == warned_portal && portal->creation_time == warned_portal_created) return false;
    warned_portal = portal;
    warned_portal_created = portal->creation_time;
    return true;
}

// Whether a modifying node of a plan inserts rows: an INSERT, or a MERGE
// with an INSERT action.
bool inserts_rows(const ModifyTable* node) {
    if (node->operation == CMD_INSERT) return true;
    if (node->operation != CMD_MERGE) return false;
    ListCell* list_cell;
    foreach (list_cell, node->mergeActionLists) {
        ListCell* action_cell;
        foreach (action_cell, static_cast<List*>(lfirst(list_cell))) {
            if (static_cast<MergeAction*>(lfirst(action_cell))->commandType == CMD_INSERT) return true;
        }
    }
    return false;
}

// An INSERT into one of the extension's own tables without a context: row
// level security refuses every row, with a message that does not say why
// ("new row violates row-level security policy": the tenant columns'
// defaults come from the context), the most common mistake of an
// application that forgot set_context(). Said plainly instead (1.21
// library), whether tenancy.require_context is on or not; a statement that
// would insert no row fails too, as under tenancy.require_context. Only
// when no context is set: the statements of a transaction that has one pay
// nothing. For the application (members of tenancy_app) only: a role of the
// DBA's outside it may have a policy of its own on the table. The
// application's protected tables are left to their policies too.
void refuse_insert_without_context(const ModifyTable* node, const PlannedStmt* statement,
                                   Oid tenancy_schema, Oid application) {
    if (!inserts_rows(node)) return;
    ListCell* cell;
    foreach (cell, node->resultRelations) {
        auto* rte = static_cast<RangeTblEntry*>(list_nth(statement->rtable, lfirst_int(cell) - 1));
        if (get_rel_namespace(rte->relid) != tenancy_schema) continue;
        Oid user = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
        if (!has_privs_of_role(user, application)) continue;
        if (check_enable_rls(rte->relid, rte->checkAsUser, true) != RLS_ENABLED) continue;
        // Without the privilege, PostgreSQL's "permission denied" says more.
        if (!holds_some_privilege(rte)) continue;
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                 errmsg("no tenant context is set for an insert into \"%s\"", get_rel_name(rte->relid)),
                 errdetail("Row level security admits no row without a context (the tenant columns' "
                           "defaults come from it)."),
                 errhint("%s", kRequireContextHint)));
    }
}

// The statement's modifying nodes, each the top node of its plan: the
// statement's own and its writable CTEs' (an UPDATE or DELETE there is not
// an insert: it reaches no row, as it would alone).
void refuse_inserts_without_context(const PlannedStmt* statement) {
    Oid tenancy_schema = get_namespace_oid("tenancy", true);
    Oid application = get_role_oid("tenancy_app", true);
    if (!OidIsValid(tenancy_schema) || !OidIsValid(application)) return;
    auto check = [&](const Plan* plan) {
        if (plan != nullptr && IsA(plan, ModifyTable)) {
            refuse_insert_without_context(reinterpret_cast<const ModifyTable*>(plan), statement,
                                          tenancy_schema, application);
        }
    };
    check(statement->planTree);
    ListCell* cell;
    foreach (cell, statement->subplans) check(static_cast<const Plan*>(lfirst(cell)));
}

// A context set for the session (set_context(…, false)) outlives the
// transaction whose set_context() read the membership. Until the 1.14
// library a member removed, deactivated or given another role since kept
// the old access for as long as the connection lived, a pooled one for
// good. Now, in each later transaction, before its first query (and before
// a getter answers, for PL/pgSQL expressions and procedure arguments that
// run before any query), the membership is read again, as set_context()
// reads it: a member gone ends the context (a WARNING says so, and the
// transaction sees no tenant rows, or fails under tenancy.require_context),
// another role replaces the old one. The change is the session's setting, as
// set_context(…, false) made it; a rollback to a savepoint that puts the old
// setting back is undone again from g_membership_read, and a transaction
// that rolls back reads the membership again in the next one.
void mark_aligned() {
    g_aligned = true;
    g_aligned_in = MyProc->lxid;
}

// Ends the session's context (its member gone, its token expired, the
// token's key revoked), saying why in a WARNING: the transaction, and the
// session's next ones, have none.
void end_session_context(const std::string& detail, const char* hint) {
    pg::set_internal_setting(kContextSetting, "", pg::SettingScope::session);
    pg::call([&] {
        ereport(WARNING, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                          errmsg("the session's tenant context has ended"),
                          errdetail("%s", detail.c_str()), errhint("%s", hint)));
    });
}

void align_with_membership() {
    core::TenantContext context = *g_context;
    // Only the value the session began the transaction with, or a default
    // that RESET ALL brought back: one set in this transaction (by
    // set_context, locally or for the session, by a function's SET clause, by
    // a superuser's SET LOCAL, or by an earlier alignment) is taken as set,
    // and rewriting it for the session would turn a local one into one that
    // outlives COMMIT.
    if (pg::setting_set_in_transaction(kContextSetting)) {
        mark_aligned();
        return;
    }
    // A context a token gave (set_context_signed(…, false)) ends with the
    // token: in the first transaction whose first query (or getter call)
    // comes at or after its expiry.
    // By the clock, not the transaction's start time: PostgreSQL dates every
    // transaction of one query string (and a transaction from its BEGIN) back
    // to when the string arrived, so a string that sleeps past the expiry and
    // COMMITs would run its next transaction under the expired context.
    if (context.expires_at && timestamptz_to_time_t(GetCurrentTimestamp()) >= *context.expires_at) {
        pg_time_t expired_at = static_cast<pg_time_t>(*context.expires_at);
        std::string when = pg::call([&] { return timestamptz_to_str(time_t_to_timestamptz(expired_at)); });
        end_session_context("It expired at " + when + " (its token's \"exp\").",
                            "Set the context again with a fresh token.");
        mark_aligned();
        return;
    }
    // And once the key that verified the token is deleted or changed (1.16
    // library): a DBA who revokes a leaked key ends what it opened.
    if (context.signed_with && !signing_key_unchanged(*context.signed_with)) {
        end_session_context("The signing key \"" + std::string(context.signed_with->key_id()) +
                                "\" that verified its token was deleted or changed.",
                            "Set the context again with a token a current key signed.");
        mark_aligned();
        return;
    }
    bool read_now = !g_membership_read.is_of(context);
    bool ended_before = g_membership_read.is_about(context) && !g_membership_read.role;
    std::optional<core::MemberRole> role = g_membership_read.role;
    if (read_now) {
        Datum org_id = pg::uuid_to_datum(context.org_id);
        Datum user_id = pg::uuid_to_datum(context.user_id);
        role = lookup_membership(org_id, user_id, true);
    }
    bool changes = !role || *role != context.role;
    // As set_context, never under an open query that reads tenant rows: it
    // would read the rest of them under the new role (a cursor after a
    // rollback to a savepoint, whose read went stale). Not remembered then:
    // the next alignment reads again, and warns of an ending.
    if (changes && tenant_queries_open()) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "the session's tenant context changed while a query that reads tenant "
                        "rows was open",
                        "The member's role or membership changed since the query began.",
                        "Close the cursor and run the query again.");
    }
    if (read_now) remember_membership(context, role);
    if (role && *role != context.role) {
        context.role = *role;
        pg::set_internal_setting(kContextSetting, core::encode_context(context),
                                 pg::SettingScope::session);
    } else if (!role && (!read_now || ended_before)) {
        pg::set_internal_setting(kContextSetting, "", pg::SettingScope::session);
    } else if (!role) {
        end_session_context("user " + context.user_id.to_string() +
                                " is no longer an active member of organization " +
                                context.org_id.to_string() + ".",
                            "Set a context for another member.");
    }
    mark_aligned();
    // The session context stands, its membership read again: its held
    // cursors, shut when the last transaction ended, open again (so that a
    // procedure's PL/pgSQL FETCH reads them; review of 1.24, L2).
    align_held_cursors();
}

// Whether the context in effect may disagree with the membership. Parallel
// workers take the leader's setting, aligned before the query or utility
// statement entered parallel mode (the executor and index builds are the
// only ways into it); nor can a parallel operation change settings.
bool context_needs_alignment() {
    return g_context.has_value() && !(g_aligned && g_aligned_in == MyProc->lxid) &&
           !IsInParallelMode();
}

// A C hook with no C++ object alive, so ereport may longjmp through it.
// A utility statement may run the application's code before any query of
// the transaction starts: CREATE INDEX, REINDEX and ALTER TABLE evaluate
// index expressions, and a parallel build evaluates them in parallel mode,
// in the leader and in workers, where the context can no longer be checked
// (found by the review of 1.16: a revoked key's context read members
// through a parallel index build, for as long as the session ran only such
// statements). So it is checked here first, as ExecutorStart checks it for
// queries. Not outside a transaction in progress (an aborted one reads no
// table), and only for statements that take a snapshot anyway (the check
// reads in the latest one, which would otherwise become the transaction's:
// LOCK or SET TRANSACTION ISOLATION LEVEL must come before it), nor for
// CLOSE (the way out of a cursor whose context changed) and DISCARD. The
// others run no code of the application but through a getter, which checks
// the context itself.
bool may_run_application_code(PlannedStmt* statement) {
    const Node* utility = statement->utilityStmt;
    return PlannedStmtRequiresSnapshot(statement) && !IsA(utility, ClosePortalStmt) &&
           !IsA(utility, DiscardStmt);
}

void process_utility(PlannedStmt* statement, const char* query, bool read_only_tree,
                     ProcessUtilityContext context, ParamListInfo params,
                     QueryEnvironment* environment, DestReceiver* destination,
                     QueryCompletion* completion) {
    if (may_run_application_code(statement) && IsTransactionState() &&
        context_needs_alignment()) {
        pg::in_hook([] { align_with_membership(); });
    }
    // (MOVE returns no row, but runs the portal, shut between transactions
    // and under another context: see open_tenant_queries.cpp.)
    if (IsA(statement->utilityStmt, FetchStmt) && IsTransactionState()) {
        const char* name = reinterpret_cast<const FetchStmt*>(statement->utilityStmt)->portalname;
        pg::in_hook([name] { check_fetch_from_held_cursor(name); });
    }
    pg::run_next_process_utility(g_previous_process_utility, statement, query, read_only_tree, context,
                                 params, environment, destination, completion);
}

// A C hook with no C++ object alive, so ereport may longjmp through it.
void executor_start(QueryDesc* query, int eflags) {
    if (context_needs_alignment()) pg::in_hook([] { align_with_membership(); });
    if (g_require_context && !g_context.has_value() &&
        (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0) {
        require_context_before_tenant_access(query);
    }
    if (!g_context.has_value() && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
        (query->operation == CMD_INSERT || query->operation == CMD_MERGE ||
         query->plannedstmt->hasModifyingCTE)) {
        refuse_inserts_without_context(query->plannedstmt);
    }
    if (g_previous_executor_start != nullptr) {
        g_previous_executor_start(query, eflags);
    } else {
        standard_ExecutorStart(query, eflags);
    }
    note_query_started(query);
}

void executor_run(QueryDesc* query, ScanDirection direction, uint64 count, bool execute_once) {
    note_query_running(query);
    note_query_executing(query);
    PG_TRY();
    {
        if (g_previous_executor_run != nullptr) {
            g_previous_executor_run(query, direction, count, execute_once);
        } else {
            standard_ExecutorRun(query, direction, count, execute_once);
        }
    }
    PG_FINALLY();
    {
        note_query_stopped();
    }
    PG_END_TRY();
}

// Its AFTER triggers (the file audit among them) fire here.
void executor_finish(QueryDesc* query) {
    note_query_executing(query);
    PG_TRY();
    {
        if (g_previous_executor_finish != nullptr) {
            g_previous_executor_finish(query);
        } else {
            standard_ExecutorFinish(query);
        }
    }
    PG_FINALLY();
    {
        note_query_stopped();
    }
    PG_END_TRY();
}

void executor_end(QueryDesc* query) {
    note_query_ended(query);
    if (g_previous_executor_end != nullptr) {
        g_previous_executor_end(query);
    } else {
        standard_ExecutorEnd(query);
    }
}

}  // namespace

// Arguments are checked by hand (the functions are not STRICT) so that a NULL
// gets an error instead of a silent NULL result.
Datum required_arg(FunctionCallInfo fcinfo, int index, const char* name) {
    if (PG_ARGISNULL(index)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        std::string(name) + " must not be NULL");
    }
    return PG_GETARG_DATUM(index);
}

// The OIDs of tenancy.member_role's labels, looked up once per call site
// (flinfo) from the function's declared return type.
struct RoleEnumCache {
    Oid labels[core::kMemberRoleCount];
};

Datum role_to_datum(FunctionCallInfo fcinfo, core::MemberRole role) {
    auto* cache = static_cast<RoleEnumCache*>(fcinfo->flinfo->fn_extra);
    if (cache == nullptr) {
        Oid function = fcinfo->flinfo->fn_oid;
        MemoryContext function_context = fcinfo->flinfo->fn_mcxt;
        cache = static_cast<RoleEnumCache*>(pg::call([&] {
            Oid enum_type = get_func_rettype(function);
            auto* fresh = static_cast<RoleEnumCache*>(
                MemoryContextAllocZero(function_context, sizeof(RoleEnumCache)));
            for (int i = 0; i < core::kMemberRoleCount; ++i) {
                const char* label = core::to_string(static_cast<core::MemberRole>(i)).data();
                fresh->labels[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
                                                   ObjectIdGetDatum(enum_type),
                                                   CStringGetDatum(label));
            }
            return fresh;
        }));
        fcinfo->flinfo->fn_extra = cache;
    }
    Oid label = cache->labels[static_cast<int>(role)];
    if (!OidIsValid(label)) {
        throw pg::Error(ERRCODE_UNDEFINED_OBJECT,
                        "tenancy.member_role has no label \"" +
                            std::string(core::to_string(role)) + "\"");
    }
    return ObjectIdGetDatum(label);
}

// Queries align it with the membership in their ExecutorStart; the getters,
// the audit and the other callers do too, for what runs before any query of
// the transaction (a PL/pgSQL expression, a procedure's arguments) or after
// a rollback to a savepoint.
const std::optional<core::TenantContext>& current_context() {
    if (context_needs_alignment()) align_with_membership();
    return g_context;
}

const std::optional<core::TenantContext>& context_as_set() { return g_context; }

void refuse_named_user_where_signed_required(const char* what, const char* instead) {
    if (!g_require_signed_context) return;
    throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                    std::string(what) + " is not allowed for this login",
                    "tenancy.require_signed_context is on: the user must be proven by a "
                    "signed token.",
                    std::string("Call ") + instead + ".");
}

void refuse_without_context(const char* what) {
    throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, std::string("no tenant context is set for ") + what,
                    {}, kRequireContextHint);
}

void define_context_settings() {
    DefineCustomStringVariable(
        kContextSetting, "The tenant context (organization/user/role) of this transaction.",
        "Written only by tenancy.set_context() and tenancy.clear_context().",
        &g_context_text, "", PGC_SUSET,
        GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE | GUC_DISALLOW_IN_AUTO_FILE,
        check_context_setting, assign_context_setting, nullptr);

    DefineCustomBoolVariable(
        "tenancy.require_context",
        "Raise an error when a tenant table is read or written without a tenant context.",
        "Off: such access sees no rows and may write none. On: it fails, so an "
        "application that forgot tenancy.set_context() finds out at once.",
        &g_require_context, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "tenancy.require_signed_context",
        "Refuse tenancy.set_context(): a context needs a signed token "
        "(tenancy.set_context_signed).",
        "On for the application's login: SQL that runs as it (an injection) cannot take "
        "another member's context without that member's token.",
        &g_require_signed_context, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);

    DefineCustomBoolVariable(
        "tenancy.allow_session_context",
        "Allow session contexts (tenancy.set_context(..., is_local => false) and "
        "tenancy.set_context_signed(..., is_local => false)).",
        "Off for a login whose connections a pool shares: a session context stays with the "
        "connection, and a request that forgot to clear it hands it to the next client.",
        &g_allow_session_context, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

void install_context_hooks() {
    g_previous_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = executor_start;
    g_previous_executor_run = ExecutorRun_hook;
    ExecutorRun_hook = executor_run;
    g_previous_executor_finish = ExecutorFinish_hook;
    ExecutorFinish_hook = executor_finish;
    g_previous_executor_end = ExecutorEnd_hook;
    ExecutorEnd_hook = executor_end;
    g_previous_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = process_utility;
    register_open_query_callbacks();
    RegisterSubXactCallback(on_subtransaction_end, nullptr);
    RegisterXactCallback(on_transaction_event, nullptr);
}

core::MemberRole set_member_context(Datum org_id, Datum user_id, bool is_local,
                                    std::optional<TokenProof> proof) {
    if (!is_local && !g_allow_session_context) {
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "session contexts are not allowed for this login",
                        "tenancy.allow_session_context is off: a context kept for the session "
                        "stays with the connection, for whoever uses it next.",
                        "Set the context after BEGIN, for the transaction (is_local => true, "
                        "the default).");
    }
    auto role = lookup_membership(org_id, user_id);
    if (!role) {
        // One answer for unknown org, unknown user, deactivated member and
        // non-member alike: the error must not tell which organizations exist.
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "user " + pg::uuid_from_datum(user_id).to_string() +
                            " is not an active member of organization " +
                            pg::uuid_from_datum(org_id).to_string());
    }
    core::TenantContext context;
    context.org_id = pg::uuid_from_datum(org_id);
    context.user_id = pg::uuid_from_datum(user_id);
    context.role = *role;
    if (proof) {
        context.expires_at = proof->expires_at;
        context.signed_with = proof->signed_with;
    }
    // A change of role counts (1.11): the same member again, whose role was
    // changed meanwhile, would have an open query read the rest of its rows
    // under the new role, and the query itself fails once it runs on.
    const auto& current = current_context();
    if ((!current || !(*current == context)) && tenant_queries_open()) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "cannot change the tenant context while a query that reads tenant rows "
                        "is open",
                        "An open cursor or loop, or the statement that sets the context, reads a "
                        "table under row level security; the rest of its rows would be read partly "
                        "under each context (the member's role counts: it may have changed since "
                        "the context was set).",
                        "Close the cursor first, and set the context in a statement of its own.");
    }
    // Through call(): a WARNING may end in CHECK_FOR_INTERRUPTS, whose
    // cancel would longjmp through the callers' C++ frames.
    if (is_local && !IsTransactionBlock() && warn_of_statement_transaction()) pg::call([] {
        ereport(WARNING,
                (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
                 errmsg("tenant context set outside a transaction block ends with this "
                        "statement's transaction"),
                 errdetail("Without BEGIN, the transaction is this statement alone (with the "
                           "extended query protocol, the statements up to the next Sync)."),
                 // Until the 1.14 library the hint offered a session context
                 // instead: behind a pool, another client's next request got it.
                 errhint("Set the tenant context after BEGIN. A session context "
                         "(is_local => false) stays with the connection, whoever uses it "
                         "next: not for connections a pool shares.")));
    });
    pg::set_internal_setting(kContextSetting, core::encode_context(context),
                             is_local ? pg::SettingScope::transaction
                                      : pg::SettingScope::session);
    if (!is_local) {
        g_session_context_set_in = MyProc->lxid;
        g_session_context_set_sub = GetCurrentSubTransactionId();
    }
    remember_membership(context, role);
    mark_aligned();
    align_held_cursors();
    return *role;
}

}  // namespace tenancy

using namespace tenancy;

// tenancy.set_context(org_id uuid, user_id uuid [, is_local boolean]) -> member_role
TENANCY_SQL_FUNCTION(tenancy_set_context) {
    Datum org_id = required_arg(fcinfo, 0, "org_id");
    Datum user_id = required_arg(fcinfo, 1, "user_id");
    bool is_local = PG_NARGS() < 3 || DatumGetBool(required_arg(fcinfo, 2, "is_local"));
    refuse_named_user_where_signed_required("tenancy.set_context()",
                                            "tenancy.set_context_signed(org_id, token)");
    return role_to_datum(fcinfo, set_member_context(org_id, user_id, is_local));
}

// tenancy.refuse_named_user(what text, instead text) -> void: 42501 where
// tenancy.require_signed_context is on, as set_context() is refused.
// Internal, for tenancy.member_organizations(user_id) (1.23): a PL/pgSQL
// check of the setting read a login's own SET of it in a session that had
// not loaded the library yet, when the setting is only a placeholder
// anyone may set (diff review of 1.23).
TENANCY_SQL_FUNCTION(tenancy_refuse_named_user) {
    Datum what = required_arg(fcinfo, 0, "what");
    Datum instead = required_arg(fcinfo, 1, "instead");
    std::string what_text = pg::call([&] { return text_to_cstring(DatumGetTextPP(what)); });
    std::string instead_text = pg::call([&] { return text_to_cstring(DatumGetTextPP(instead)); });
    refuse_named_user_where_signed_required(what_text.c_str(), instead_text.c_str());
    PG_RETURN_VOID();
}

// tenancy.clear_context() -> void: ends transaction and session context alike.
TENANCY_SQL_FUNCTION(tenancy_clear_context) {
    // Ending the context is a change, refused under an open query as
    // set_context refuses one (1.22 library): such a query would read on
    // without it, and refuses to (COMMIT, which reads a WITH HOLD cursor or
    // a procedure's loop on to store it, would fail). RESET ALL cannot be
    // refused; the query refuses at its next read instead.
    if (current_context() && queries_open_under_context()) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "cannot end the tenant context while a query that reads tenant rows is "
                        "open",
                        "An open cursor or loop (a WITH HOLD cursor whatever it reads), or the "
                        "statement that ends the context, began under it and would read the rest "
                        "of its rows without it.",
                        "Close the cursor first. A loop's query is open until the loop ends; "
                        "COMMIT ends a transaction's context by itself.");
    }
    pg::set_internal_setting(kContextSetting, "", pg::SettingScope::session);
    align_held_cursors();
    PG_RETURN_VOID();
}

TENANCY_SQL_FUNCTION(tenancy_current_org_id) {
    const auto& context = current_context();
    if (!context) PG_RETURN_NULL();
    return pg::uuid_to_datum(context->org_id);
}

TENANCY_SQL_FUNCTION(tenancy_current_user_id) {
    const auto& context = current_context();
    if (!context) PG_RETURN_NULL();
    return pg::uuid_to_datum(context->user_id);
}

TENANCY_SQL_FUNCTION(tenancy_current_member_role) {
    const auto& context = current_context();
    if (!context) PG_RETURN_NULL();
    return role_to_datum(fcinfo, context->role);
}
