#include <string>
#include <unordered_map>

#include "core/distinct_sketch.hpp"
#include "organization_lock.hpp"
#include "pg/spi.hpp"
#include "pg/uuid.hpp"

namespace tenancy {
namespace {

// Organizations locked by the current transaction, each with the
// subtransaction that locked it: a rollback to a savepoint releases the row
// locks taken since, and forgets them here too. A hash map: a bulk INSERT of
// events may name tens of thousands of organizations.
std::unordered_map<core::Uuid, SubTransactionId, core::UuidHash> g_locked;
// Set by note_organizations_deleted until the transaction ends (kept after a
// rollback to a savepoint: it only makes the audit look again).
bool g_organizations_deleted = false;

void forget_at_transaction_end(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE) {
        g_locked.clear();
        g_organizations_deleted = false;
    }
}

void forget_at_subtransaction_abort(SubXactEvent event, SubTransactionId aborted,
                                    SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    // Every subtransaction begun since `aborted` is one of its own.
    for (auto it = g_locked.begin(); it != g_locked.end();) {
        it = it->second >= aborted ? g_locked.erase(it) : std::next(it);
    }
}

// Runs `statement` with the organization's id as $1, as the owner of
// tenancy.organizations (as_organizations_owner), in a fresh snapshot. True
// when it found a row.
bool found_as_organizations_owner(pg::CachedPlan& statement, Datum organization_id) {
    std::uint64_t found = 0;
    as_organizations_owner([&] {
        pg::SpiConnection spi;
        found = spi.execute(statement, {{UUIDOID, organization_id}}, false, 1);
    });
    return found > 0;
}

}  // namespace

void as_organizations_owner(const std::function<void()>& fn) {
    Oid owner = pg::call([] {
        Oid relation = get_relname_relid("organizations", get_namespace_oid("tenancy", false));
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relation));
        if (!HeapTupleIsValid(tuple)) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("pg_tenancy: table tenancy.organizations is missing")));
        }
        Oid relowner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
        ReleaseSysCache(tuple);
        return relowner;
    });
    Oid caller;
    int caller_context;
    GetUserIdAndSecContext(&caller, &caller_context);
    // Restored below on success; on an error the (sub)transaction abort
    // restores it, as for RI checks.
    SetUserIdAndSecContext(owner, caller_context | SECURITY_LOCAL_USERID_CHANGE |
                                      SECURITY_NOFORCE_RLS);
    fn();
    SetUserIdAndSecContext(caller, caller_context);
}

namespace {

// The lock as a foreign key's check takes it: a query FOR KEY SHARE. It waits
// for a deletion in progress but not for an update that keeps the key (an
// organization renamed), follows such updates, and under REPEATABLE READ a
// deletion committed after the snapshot is a serialization failure (40001),
// raised by the executor. False when no row is found.
bool lock_organization_row(Datum organization_id) {
    static pg::CachedPlan lock(
        "SELECT 1 FROM ONLY tenancy.organizations x WHERE x.id = $1 FOR KEY SHARE OF x",
        {UUIDOID});
    return found_as_organizations_owner(lock, organization_id);
}

}  // namespace

void register_organization_lock_callbacks() {
    RegisterXactCallback(forget_at_transaction_end, nullptr);
    RegisterSubXactCallback(forget_at_subtransaction_abort, nullptr);
}

void lock_organization(const core::Uuid& organization_id) {
    if (g_locked.count(organization_id) != 0) return;
    if (!lock_organization_row(pg::uuid_to_datum(organization_id))) {
        // 23503, as the foreign key these tables do not have would say. Not a
        // serialization failure: a retry would meet the same missing row.
        throw pg::Error(ERRCODE_FOREIGN_KEY_VIOLATION,
                        "organization " + organization_id.to_string() + " does not exist",
                        "Events and file access rows belong to an existing organization;"
                        " this one may have been deleted by a concurrent transaction.");
    }
    g_locked.emplace(organization_id, GetCurrentSubTransactionId());
}

void note_organizations_deleted() {
    g_locked.clear();
    g_organizations_deleted = true;
}

bool organizations_deleted_in_transaction() { return g_organizations_deleted; }

bool organization_exists(const core::Uuid& organization_id) {
    static pg::CachedPlan exists("SELECT 1 FROM ONLY tenancy.organizations x WHERE x.id = $1",
                                 {UUIDOID});
    return found_as_organizations_owner(exists, pg::uuid_to_datum(organization_id));
}

void refuse_read_only(const char* function, const char* what) {
    if (XactReadOnly) {
        throw pg::Error(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                        std::string(function) + "() cannot run in a read-only transaction",
                        {}, std::string("It writes ") + what +
                                ": call it in a read-write transaction on the primary.");
    }
}

bool restoring_by_copy(const TriggerData* trigger) {
    if (!TRIGGER_FIRED_BY_INSERT(trigger->tg_event) || ActivePortal == nullptr ||
        ActivePortal->commandTag != CMDTAG_COPY || !superuser()) {
        return false;
    }
    Oid target = RelationGetRelid(trigger->tg_relation);
    return pg::call([&] {
        ListCell* cell;
        foreach (cell, ActivePortal->stmts) {
            auto* statement = static_cast<PlannedStmt*>(lfirst(cell));
            if (statement->utilityStmt == nullptr || !IsA(statement->utilityStmt, CopyStmt)) continue;
            auto* copy = reinterpret_cast<CopyStmt*>(statement->utilityStmt);
            // Only a COPY into this very table: not one into another table
            // whose own trigger happens to write here.
            if (copy->is_from && copy->relation != nullptr &&
                RangeVarGetRelid(copy->relation, NoLock, true) == target) {
                return true;
            }
        }
        return false;
    });
}

}  // namespace tenancy
