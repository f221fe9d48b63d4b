#include "organization_lock.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "pg/uuid.hpp"

namespace tenancy {
namespace {

// Organizations locked by the current transaction, each with the
// subtransaction that locked it: a rollback to a savepoint releases the row
// locks taken since, and forgets them here too.
std::vector<std::pair<core::Uuid, SubTransactionId>> g_locked;

void forget_at_transaction_end(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE) {
        g_locked.clear();
    }
}

void forget_at_subtransaction_abort(SubXactEvent event, SubTransactionId aborted,
                                    SubTransactionId, void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    // Every subtransaction begun since `aborted` is one of its own.
    g_locked.erase(std::remove_if(g_locked.begin(), g_locked.end(),
                                  [&](const auto& entry) { return entry.second >= aborted; }),
                   g_locked.end());
}

Oid organizations_relation() {
    Oid relation = get_relname_relid("organizations", get_namespace_oid("tenancy", false));
    if (!OidIsValid(relation)) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("pg_tenancy: table tenancy.organizations is missing")));
    }
    return relation;
}

// The row lock itself, as the logical replication apply worker finds and
// locks a row: by primary key, on the latest committed version, waiting for
// a concurrent writer of it. Past RLS and privileges: the caller writes its
// own rows; it does not read the organization.
bool lock_row_by_primary_key(Datum organization_id) {
    Relation relation = table_open(organizations_relation(), RowShareLock);
    Oid primary_key = RelationGetPrimaryKeyIndex(relation);
    TupleDesc desc = RelationGetDescr(relation);
    AttrNumber id_column = get_attnum(RelationGetRelid(relation), "id");
    TupleTableSlot* search = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    TupleTableSlot* found = table_slot_create(relation, nullptr);
    ExecClearTuple(search);
    for (int i = 0; i < desc->natts; ++i) search->tts_isnull[i] = true;
    search->tts_values[id_column - 1] = organization_id;
    search->tts_isnull[id_column - 1] = false;
    ExecStoreVirtualTuple(search);
    bool locked = OidIsValid(primary_key) &&
                  RelationFindReplTupleByIndex(relation, primary_key, LockTupleKeyShare, search,
                                               found);
    ExecDropSingleTupleTableSlot(found);
    ExecDropSingleTupleTableSlot(search);
    table_close(relation, NoLock);  // the lock is held to the end of the transaction
    return locked;
}

}  // namespace

void register_organization_lock_callbacks() {
    RegisterXactCallback(forget_at_transaction_end, nullptr);
    RegisterSubXactCallback(forget_at_subtransaction_abort, nullptr);
}

void lock_organization(const core::Uuid& organization_id) {
    auto known = std::find_if(g_locked.begin(), g_locked.end(),
                              [&](const auto& entry) { return entry.first == organization_id; });
    if (known != g_locked.end()) return;
    Datum id = pg::uuid_to_datum(organization_id);
    if (!pg::call([&] { return lock_row_by_primary_key(id); })) {
        // 23503, as the foreign key these tables do not have would say. Not a
        // serialization failure even under REPEATABLE READ: a retry would meet
        // the same missing row, not succeed.
        throw pg::Error(ERRCODE_FOREIGN_KEY_VIOLATION,
                        "organization " + organization_id.to_string() + " does not exist",
                        "Events and file access rows belong to an existing organization;"
                        " this one may have been deleted by a concurrent transaction.");
    }
    g_locked.emplace_back(organization_id, GetCurrentSubTransactionId());
}

void refuse_read_only(const char* function) {
    if (XactReadOnly) {
        throw pg::Error(ERRCODE_READ_ONLY_SQL_TRANSACTION,
                        std::string(function) + "() cannot run in a read-only transaction",
                        {}, "It writes a row: call it in a read-write transaction on the primary.");
    }
}

bool restoring_by_copy(const TriggerData* trigger) {
    if (!TRIGGER_FIRED_BY_INSERT(trigger->tg_event) || ActivePortal == nullptr ||
        ActivePortal->commandTag != CMDTAG_COPY || !superuser()) {
        return false;
    }
    ListCell* cell;
    foreach (cell, ActivePortal->stmts) {
        auto* statement = static_cast<PlannedStmt*>(lfirst(cell));
        if (statement->utilityStmt != nullptr && IsA(statement->utilityStmt, CopyStmt) &&
            reinterpret_cast<CopyStmt*>(statement->utilityStmt)->is_from) {
            return true;
        }
    }
    return false;
}

}  // namespace tenancy
