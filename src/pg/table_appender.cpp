#include "pg/table_appender.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <vector>
#include <utility>

#include "pg/tuple.hpp"

namespace tenancy::pg {
namespace {

// CHECK constraints parsed and planned once per backend instead of once per
// statement. ExecRelCheck parses and plans every constraint of a table for
// each new ResultRelInfo, i.e. for each statement that appends: for a one-row
// audit append that was about a third of the append. Only the planned
// expression is kept; its executable state is built per statement in the
// statement's memory (ExecInitExpr), because evaluation caches things there
// (a whole-row reference its row type, a hashed IN list its table). An entry
// is reused while the table's constraint expressions are the same text (ALTER
// TABLE changes the text, or gives a recreated table another OID), and only
// for expressions that call built-in functions alone: planning inlines a SQL
// function's body, which CREATE OR REPLACE FUNCTION can change.
struct PlannedChecks {
    std::vector<std::string> sources;  // pg_constraint.conbin of each, in order
    MemoryContext memory = nullptr;
    Expr** planned = nullptr;          // nullptr: not cacheable, plan per statement
};

bool outside_builtins(Node* node, void*) {
    if (node == nullptr) return false;
    // Nodes that call support functions check_functions_in_node does not
    // see (comparison for GREATEST/LEAST, subscripting handlers) or run
    // checks of their own (domains), and subqueries.
    if (IsA(node, CoerceToDomain) || IsA(node, SubLink) || IsA(node, MinMaxExpr) ||
        IsA(node, SubscriptingRef)) {
        return true;
    }
    if (check_functions_in_node(node, [](Oid function, void*) { return function >= FirstNormalObjectId; },
                                nullptr)) {
        return true;
    }
    return expression_tree_walker(node, as_tree_walker(outside_builtins), nullptr);
}

// Identity sequences by (table, column). pg_depend is scanned once per
// backend and table, not per statement; ALTER TABLE … DROP/ADD IDENTITY
// replaces the sequence, so a table's entries go when its relcache entry is
// invalidated (TableAppender::register_invalidation).
std::map<std::pair<Oid, int>, Oid> g_known_sequences;

void forget_sequences(Oid relid) {
    for (auto it = g_known_sequences.begin(); it != g_known_sequences.end();) {
        it = (!OidIsValid(relid) || it->first.first == relid) ? g_known_sequences.erase(it)
                                                              : std::next(it);
    }
}

// Whether a column's default is nextval() of a sequence the column owns, as
// serial makes it (past the implicit cast to the column's type).
bool is_owned_sequence_default(Relation relation, int attnum, Node* expression) {
    Node* node = strip_implicit_coercions(expression);
    if (node == nullptr || !IsA(node, FuncExpr)) return false;
    auto* call = reinterpret_cast<FuncExpr*>(node);
    if (call->funcid != F_NEXTVAL || list_length(call->args) != 1) return false;
    auto* argument = static_cast<Node*>(linitial(call->args));
    if (!IsA(argument, Const)) return false;
    auto* sequence = reinterpret_cast<Const*>(argument);
    if (sequence->constisnull || sequence->consttype != REGCLASSOID) return false;
    Oid owner = InvalidOid;
    int32 column = 0;
    return sequenceIsOwned(DatumGetObjectId(sequence->constvalue), DEPENDENCY_AUTO, &owner, &column) &&
           owner == RelationGetRelid(relation) && column == attnum;
}

// The sequence of an identity column, or the one a column owns (OWNED BY,
// as serial makes); an error if there is none.
Oid column_sequence(Oid relid, int attnum) {
    Oid identity = getIdentitySequence(relid, static_cast<AttrNumber>(attnum), true);
    if (OidIsValid(identity)) return identity;
    ListCell* cell = nullptr;
    foreach (cell, getOwnedSequences(relid)) {
        Oid owner = InvalidOid;
        int32 column = 0;
        if (sequenceIsOwned(lfirst_oid(cell), DEPENDENCY_AUTO, &owner, &column) && column == attnum) {
            return lfirst_oid(cell);
        }
    }
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("column %d of relation \"%s\" has no sequence", attnum,
                           get_rel_name(relid))));
    return InvalidOid;
}

Expr** planned_checks(Relation relation) {
    TupleConstr* constraints = RelationGetDescr(relation)->constr;
    static std::map<Oid, PlannedChecks> cache;
    PlannedChecks& entry = cache[RelationGetRelid(relation)];
    bool same = entry.sources.size() == constraints->num_check;
    for (std::size_t i = 0; same && i < entry.sources.size(); ++i) {
        same = entry.sources[i] == constraints->check[i].ccbin;
    }
    if (same) return entry.planned;

    if (entry.memory != nullptr) MemoryContextDelete(entry.memory);
    entry = PlannedChecks{};
    for (int i = 0; i < constraints->num_check; ++i) entry.sources.emplace_back(constraints->check[i].ccbin);
    // Made under the statement's memory and moved to the cache once complete,
    // so an error half-way leaks nothing.
    MemoryContext memory = AllocSetContextCreate(CurrentMemoryContext, "pg_tenancy planned checks",
                                                 ALLOCSET_SMALL_SIZES);
    MemoryContext old = MemoryContextSwitchTo(memory);
    auto** planned = static_cast<Expr**>(palloc(constraints->num_check * sizeof(Expr*)));
    bool cacheable = true;
    for (int i = 0; cacheable && i < constraints->num_check; ++i) {
        auto* expression = static_cast<Expr*>(stringToNode(constraints->check[i].ccbin));
        cacheable = !outside_builtins(reinterpret_cast<Node*>(expression), nullptr);
        if (cacheable) planned[i] = expression_planner(expression);
    }
    MemoryContextSwitchTo(old);
    if (cacheable) {
        MemoryContextSetParent(memory, CacheMemoryContext);
        entry.memory = memory;
        entry.planned = planned;
    } else {
        MemoryContextDelete(memory);
    }
    return entry.planned;
}

// The executable CHECK constraints for one statement's appends, in its
// memory; nullptr leaves them to ExecRelCheck.
ExprState** compiled_checks(Relation relation, EState* estate) {
    TupleConstr* constraints = RelationGetDescr(relation)->constr;
    if (constraints == nullptr || constraints->num_check == 0) return nullptr;
    Expr** planned = planned_checks(relation);
    if (planned == nullptr) return nullptr;
    MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
    auto** states = static_cast<ExprState**>(palloc(constraints->num_check * sizeof(ExprState*)));
    for (int i = 0; i < constraints->num_check; ++i) states[i] = ExecInitExpr(planned[i], nullptr);
    MemoryContextSwitchTo(old);
    return states;
}

// A partition's constraint (its bounds), planned once per backend like the
// CHECK constraints above. PostgreSQL plans it for each new ResultRelInfo,
// i.e. for every statement that appends. An entry is planned again after its
// partition's relcache entry was invalidated (ATTACH/DETACH change the bounds).
struct PlannedPartitionCheck {
    bool stale = true;
    MemoryContext memory = nullptr;
    List* planned = nullptr;
};
std::map<Oid, PlannedPartitionCheck> g_partition_checks;

// Relcache invalidation: what the caches hold of a relation (of every one
// for InvalidOid) is looked up again on next use. A planned check is only
// marked: an appender of the running statement may still evaluate it.
void forget_relation(Datum, Oid relid) {
    forget_sequences(relid);
    for (auto& [partition, entry] : g_partition_checks) {
        if (!OidIsValid(relid) || partition == relid) entry.stale = true;
    }
}

ExprState* compiled_partition_check(Relation partition, EState* estate) {
    PlannedPartitionCheck& entry = g_partition_checks[RelationGetRelid(partition)];
    if (entry.stale) {
        if (entry.memory != nullptr) MemoryContextDelete(entry.memory);
        entry = PlannedPartitionCheck{};
        MemoryContext memory = AllocSetContextCreate(CurrentMemoryContext,
                                                     "pg_tenancy planned partition check",
                                                     ALLOCSET_SMALL_SIZES);
        MemoryContext old = MemoryContextSwitchTo(memory);
        auto* planned = reinterpret_cast<List*>(
            expression_planner(reinterpret_cast<Expr*>(RelationGetPartitionQual(partition))));
        MemoryContextSwitchTo(old);
        MemoryContextSetParent(memory, CacheMemoryContext);
        entry.memory = memory;
        entry.planned = planned;
        entry.stale = false;
    }
    MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
    ExprState* state = ExecInitCheck(entry.planned, nullptr);
    MemoryContextSwitchTo(old);
    return state;
}

// The partition of a range-partitioned table that takes a row with these key
// values: what get_partition_for_tuple does for one level of RANGE
// partitioning on columns (the log's layout), without the executor's
// per-statement routing set-up. An error when no partition takes it.
Oid range_partition_for(Relation parent, TupleTableSlot* row) {
    PartitionKey key = RelationGetPartitionKey(parent);
    if (key->strategy != PARTITION_STRATEGY_RANGE) {
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("pg_tenancy appends only to range-partitioned tables, not to \"%s\"",
                               RelationGetRelationName(parent))));
    }
    Datum values[PARTITION_MAX_KEYS];
    bool has_null = false;
    for (int i = 0; i < key->partnatts; ++i) {
        if (key->partattrs[i] == 0) {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("pg_tenancy appends only to tables partitioned by columns, not "
                                   "by expressions (\"%s\")",
                                   RelationGetRelationName(parent))));
        }
        bool is_null = false;
        values[i] = slot_getattr(row, key->partattrs[i], &is_null);
        has_null = has_null || is_null;
    }
    PartitionDesc partitions = RelationGetPartitionDesc(parent, true);
    PartitionBoundInfo bounds = partitions->boundinfo;
    int index = -1;
    if (!has_null && bounds != nullptr && bounds->ndatums > 0) {
        bool equal = false;
        int offset = partition_range_datum_bsearch(key->partsupfunc, key->partcollation, bounds,
                                                   key->partnatts, values, &equal);
        index = bounds->indexes[offset + 1];
    }
    if (index < 0 && bounds != nullptr) index = bounds->default_index;
    if (index < 0) {
        ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
                        errmsg("no partition of relation \"%s\" found for row",
                               RelationGetRelationName(parent))));
    }
    return partitions->oids[index];
}

}  // namespace

TableAppender::TableAppender(const char* schema, const char* table) {
    Relation relation = nullptr;
    EState* estate = nullptr;
    ResultRelInfo* result_relation = nullptr;
    TupleTableSlot* slot = nullptr;
    call([&] {
        // By name, then locked, then by name again if that changed meanwhile
        // (an upgrade that replaced the table commits while this waits).
        relation = table_openrv(makeRangeVar(const_cast<char*>(schema), const_cast<char*>(table), -1),
                                RowExclusiveLock);
        Oid relid = RelationGetRelid(relation);
        estate = CreateExecutorState();

        RangeTblEntry* rte = makeNode(RangeTblEntry);
        rte->rtekind = RTE_RELATION;
        rte->relid = relid;
        rte->relkind = relation->rd_rel->relkind;
        rte->rellockmode = RowExclusiveLock;
        ExecInitRangeTable(estate, list_make1(rte));

        result_relation = makeNode(ResultRelInfo);
        InitResultRelInfo(result_relation, relation, 1, nullptr, 0);
        // Lets ExecGetTriggerResultRel find it when foreign-key triggers fire.
        estate->es_opened_result_relations =
            lappend(estate->es_opened_result_relations, result_relation);
        estate->es_output_cid = GetCurrentCommandId(true);
        // A partitioned table's rows are checked and indexed in their
        // partitions (partition_for).
        if (relation->rd_rel->relkind != RELKIND_PARTITIONED_TABLE) {
            result_relation->ri_ConstraintExprs = compiled_checks(relation, estate);
            ExecOpenIndices(result_relation, false);
        }
        slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(relation), &TTSOpsVirtual);
    });
    partitioned_ = relation->rd_rel->relkind == RELKIND_PARTITIONED_TABLE;
    open_trigger_level_for(relation);
    relation_ = relation;
    for (int i = 0; i < RelationGetDescr(relation)->natts; ++i) {
        Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(relation), i);
        // Identity columns have no atthasdef; build_column_default gives
        // them their sequence's next value.
        if ((attribute->atthasdef || attribute->attidentity != '\0') && !attribute->attisdropped &&
            attribute->attgenerated == '\0') {
            defaulted_.push_back(i + 1);
        }
    }
    default_states_.assign(defaulted_.size(), nullptr);
    default_as_owner_.assign(defaulted_.size(), false);
    values_.assign(RelationGetDescr(relation)->natts, Datum(0));
    nulls_.assign(RelationGetDescr(relation)->natts, true);
    assigned_.assign(RelationGetDescr(relation)->natts, false);
    estate_ = estate;
    result_relation_ = result_relation;
    slot_ = slot;
}

TableAppender::~TableAppender() {
    // Success path: finish() ran. Error path: the error is on its way to
    // PostgreSQL, whose abort processing closes the relation and drops the
    // executor state and the pending after-trigger query level.
}

// Only AFTER ROW triggers (a foreign key's check, a DBA's own) queue
// events: without them there is no trigger query level to open. Opened at
// the first relation written to that has them (before its first row), and
// ended in finish(), which fires what was queued.
void TableAppender::open_trigger_level_for(Relation relation) {
    if (fires_after_triggers_) return;
    fires_after_triggers_ = relation->trigdesc != nullptr &&
                            (relation->trigdesc->trig_insert_after_row ||
                             relation->trigdesc->trig_update_after_row);
    if (fires_after_triggers_) call([] { AfterTriggerBeginQuery(); });
}

void TableAppender::register_invalidation() {
    CacheRegisterRelcacheCallback(forget_relation, PointerGetDatum(nullptr));
}

const TableAppender::Partition& TableAppender::partition_for(TupleTableSlot* row) {
    Relation parent = relation_;
    Oid relid = call([&] { return range_partition_for(parent, row); });
    for (const Partition& known : partitions_) {
        if (known.relid == relid) return known;
    }
    // Locked, then routed again: a month attached while this waited for the
    // lock (maintenance holds the default partition meanwhile) takes the row
    // now, where PostgreSQL's own routing would fail on the default
    // partition's new constraint.
    for (;;) {
        call([&] { LockRelationOid(relid, RowExclusiveLock); });
        Oid again = call([&] { return range_partition_for(parent, row); });
        if (again == relid) break;
        relid = again;
        for (const Partition& known : partitions_) {
            if (known.relid == relid) return known;
        }
    }
    EState* estate = estate_;
    ResultRelInfo* root = result_relation_;
    Partition opened{relid, nullptr, nullptr, nullptr};
    call([&] {
        Relation relation = table_open(relid, NoLock);  // locked above
        if (relation->rd_rel->relkind != RELKIND_RELATION) {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("pg_tenancy appends only to partitions that are tables, not "
                                   "to \"%s\"", RelationGetRelationName(relation))));
        }
        MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
        ResultRelInfo* result_relation = makeNode(ResultRelInfo);
        InitResultRelInfo(result_relation, relation, 0, root, 0);
        result_relation->ri_ConstraintExprs = compiled_checks(relation, estate);
        result_relation->ri_PartitionCheckExpr = compiled_partition_check(relation, estate);
        ExecOpenIndices(result_relation, false);
        // Found again when its row triggers fire, as a routed relation is.
        estate->es_tuple_routing_result_relations =
            lappend(estate->es_tuple_routing_result_relations, result_relation);
        opened.map = convert_tuples_by_name(RelationGetDescr(parent), RelationGetDescr(relation));
        if (opened.map != nullptr) opened.slot = table_slot_create(relation, &estate->es_tupleTable);
        MemoryContextSwitchTo(old);
        opened.result_relation = result_relation;
    });
    // A partition may have row triggers of its own that the log has not (a
    // DBA's trigger or foreign key on one month): their events need the
    // level as much (crash review of 1.23: "AfterTriggerSaveEvent() called
    // outside of query", XX000, from record_file_access() called on its own).
    open_trigger_level_for(opened.result_relation->ri_RelationDesc);
    partitions_.push_back(opened);
    return partitions_.back();
}

int TableAppender::column(const char* name) const {
    return attribute_number(RelationGetDescr(relation_), name, RelationGetRelationName(relation_));
}

int TableAppender::column_if_any(const char* name, Oid type) const {
    int attnum = attribute_number_if_any(RelationGetDescr(relation_), name);
    if (attnum != 0 && TupleDescAttr(RelationGetDescr(relation_), attnum - 1)->atttypid != type) return 0;
    return attnum;
}

int TableAppender::column_count() const { return RelationGetDescr(relation_)->natts; }

int64 TableAppender::next_sequence_value(int attnum) {
    if (!OidIsValid(sequence_)) {
        Oid relid = RelationGetRelid(relation_);
        auto known = g_known_sequences.find({relid, attnum});
        if (known != g_known_sequences.end()) {
            sequence_ = known->second;
        } else {
            sequence_ = call([&] { return column_sequence(relid, attnum); });
            g_known_sequences.emplace(std::make_pair(relid, attnum), sequence_);
        }
    }
    Oid sequence = sequence_;
    return call([&] { return nextval_internal(sequence, false); });
}

void TableAppender::store_row() {
    TupleTableSlot* slot = slot_;
    ExecClearTuple(slot);
    for (int i = 0; i < column_count(); ++i) {
        slot->tts_values[i] = values_[i];
        slot->tts_isnull[i] = nulls_[i] != 0;
    }
    ExecStoreVirtualTuple(slot);
}

void TableAppender::apply_defaults() {
    for (std::size_t i = 0; i < defaulted_.size(); ++i) {
        int attnum = defaulted_[i];
        if (assigned_[attnum - 1]) continue;
        Relation relation = relation_;
        EState* estate = estate_;
        ExprState*& state = default_states_[i];
        char& as_owner = default_as_owner_[i];
        bool is_null = true;
        Datum value = call([&] {
            if (state == nullptr) {
                Node* expression = build_column_default(relation, attnum);
                if (expression == nullptr) expression = reinterpret_cast<Node*>(makeNullConst(
                    TupleDescAttr(RelationGetDescr(relation), attnum - 1)->atttypid, -1, InvalidOid));
                as_owner = is_owned_sequence_default(relation, attnum, expression);
                state = ExecPrepareExpr(reinterpret_cast<Expr*>(expression), estate);
            }
            if (!as_owner) return ExecEvalExprSwitchContext(state, GetPerTupleExprContext(estate), &is_null);
            // A serial column a DBA added: its nextval() is the table's, as an
            // identity column's is (next_sequence_value), not the caller's,
            // who has no grant on the sequence (the application writes these
            // tables only through the extension). Other defaults run as the
            // caller, as PostgreSQL runs them (current_user stays the login).
            // On error the (sub)transaction's abort restores the user.
            Oid saved_user = InvalidOid;
            int saved_security = 0;
            GetUserIdAndSecContext(&saved_user, &saved_security);
            SetUserIdAndSecContext(relation->rd_rel->relowner,
                                   saved_security | SECURITY_LOCAL_USERID_CHANGE |
                                       SECURITY_RESTRICTED_OPERATION);
            Datum result = ExecEvalExprSwitchContext(state, GetPerTupleExprContext(estate), &is_null);
            SetUserIdAndSecContext(saved_user, saved_security);
            return result;
        });
        values_[attnum - 1] = value;
        nulls_[attnum - 1] = is_null;
    }
}

void TableAppender::append_row() {
    check_for_interrupts();
    EState* estate = estate_;
    ResultRelInfo* result_relation = result_relation_;
    TupleTableSlot* slot = slot_;
    if (!defaulted_.empty()) apply_defaults();
    if (partitioned_) {
        call([&] { store_row(); });
        const Partition& partition = partition_for(slot);
        result_relation = partition.result_relation;
        if (partition.map != nullptr) {
            slot = call([&] {
                return execute_attr_map_slot(partition.map->attrMap, slot_, partition.slot);
            });
        }
    }
    call([&] {
        MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
        if (!partitioned_) store_row();
        ExecSimpleRelationInsert(result_relation, estate, slot);
        MemoryContextSwitchTo(old);
        ResetPerTupleExprContext(estate);
    });
    start_row();
}

void TableAppender::start_row() {
    std::fill(nulls_.begin(), nulls_.end(), true);
    std::fill(assigned_.begin(), assigned_.end(), false);
}

// What RelationFindReplTupleByIndex sets up for each lookup, made once.
struct TableAppender::KeyScan {
    // Where the scan lives: what it allocates as it goes (the entries it
    // marks dead, say) must last as long as it does, not go with a row.
    MemoryContext memory;
    Relation index;
    SnapshotData dirty;  // the scan keeps a pointer to it
    IndexScanDesc scan;
    int key_count;
    ScanKeyData keys[INDEX_MAX_KEYS];
    AttrNumber columns[INDEX_MAX_KEYS];  // the table's column of each key
};

namespace {

// Opens the primary key's index and begins a scan of it with a dirty
// snapshot, equality keys on every key column (their values set per lookup),
// as build_replindex_scan_key and RelationFindReplTupleByIndex do.
void begin_key_scan(Relation relation, Oid index_oid, TableAppender::KeyScan* key) {
    key->memory = CurrentMemoryContext;
    key->index = index_open(index_oid, RowExclusiveLock);
    Relation index = key->index;
    bool is_null = false;
    Datum classes = SysCacheGetAttr(INDEXRELID, index->rd_indextuple, Anum_pg_index_indclass, &is_null);
    Assert(!is_null);
    auto* opclass = reinterpret_cast<oidvector*>(DatumGetPointer(classes));
    key->key_count = IndexRelationGetNumberOfKeyAttributes(index);
    for (int i = 0; i < key->key_count; ++i) {
        Oid type = get_opclass_input_type(opclass->values[i]);
        Oid family = get_opclass_family(opclass->values[i]);
        Oid op = get_opfamily_member(family, type, type, BTEqualStrategyNumber);
        if (!OidIsValid(op)) {
            elog(ERROR, "missing operator %d(%u,%u) in opfamily %u", BTEqualStrategyNumber, type,
                 type, family);
        }
        ScanKeyInit(&key->keys[i], static_cast<AttrNumber>(i + 1), BTEqualStrategyNumber,
                    get_opcode(op), Datum(0));
        key->keys[i].sk_collation = index->rd_indcollation[i];
        key->columns[i] = index->rd_index->indkey.values[i];
    }
    InitDirtySnapshot(key->dirty);
    key->scan = index_beginscan(relation, index, &key->dirty, key->key_count, 0);
}

// RelationFindReplTupleByIndex's search and lock, on a scan begun once.
bool search_and_lock(Relation relation, TableAppender::KeyScan* key, LockTupleMode mode,
                     TupleTableSlot* out) {
    for (;;) {
        MemoryContext old = MemoryContextSwitchTo(key->memory);
        index_rescan(key->scan, key->keys, key->key_count, nullptr, 0);
        bool any = index_getnext_slot(key->scan, ForwardScanDirection, out);
        MemoryContextSwitchTo(old);
        if (!any) return false;
        ExecMaterializeSlot(out);
        TransactionId wait = TransactionIdIsValid(key->dirty.xmin) ? key->dirty.xmin : key->dirty.xmax;
        // Locked or being written by another transaction: wait for it, look again.
        if (TransactionIdIsValid(wait)) {
            XactLockTableWait(wait, nullptr, nullptr, XLTW_None);
            continue;
        }
        TM_FailureData failure;
        PushActiveSnapshot(GetLatestSnapshot());
        TM_Result result = table_tuple_lock(relation, &out->tts_tid, GetLatestSnapshot(), out,
                                            GetCurrentCommandId(false), mode, LockWaitBlock,
                                            0 /* don't follow updates */, &failure);
        PopActiveSnapshot();
        switch (result) {
            case TM_Ok:
                return true;
            case TM_Updated:
                if (ItemPointerIndicatesMovedPartitions(&failure.ctid)) {
                    ereport(LOG, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                  errmsg("tuple to be locked was already moved to another partition "
                                         "due to concurrent update, retrying")));
                } else {
                    ereport(LOG, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                                  errmsg("concurrent update, retrying")));
                }
                continue;
            case TM_Deleted:
                ereport(LOG, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
                              errmsg("concurrent delete, retrying")));
                continue;
            case TM_Invisible:
                elog(ERROR, "attempted to lock invisible tuple");
                break;
            default:
                elog(ERROR, "unexpected table_tuple_lock status: %u", static_cast<unsigned>(result));
                break;
        }
    }
}

bool find_and_lock(Relation relation, TableAppender::KeyScan* key, const Datum* values,
                   const char* nulls, LockTupleMode mode, TupleTableSlot* out) {
    for (int i = 0; i < key->key_count; ++i) {
        ScanKey scan_key = &key->keys[i];
        scan_key->sk_argument = values[key->columns[i] - 1];
        if (nulls[key->columns[i] - 1]) {
            scan_key->sk_flags |= SK_ISNULL;
        } else {
            scan_key->sk_flags &= ~SK_ISNULL;
        }
    }
    bool found = search_and_lock(relation, key, mode, out);
    // Rescanned again to drop the scan's pins on the index and heap pages,
    // as ending the scan did: the row is written next, with none but the
    // stored slot's (a page is pruned only where no other pin is held).
    MemoryContext old = MemoryContextSwitchTo(key->memory);
    index_rescan(key->scan, key->keys, key->key_count, nullptr, 0);
    MemoryContextSwitchTo(old);
    return found;
}

}  // namespace

TupleTableSlot* TableAppender::find_by_primary_key() {
    if (partitioned_) {
        throw Error(ERRCODE_FEATURE_NOT_SUPPORTED,
                    std::string("pg_tenancy: rows of partitioned table ") +
                        RelationGetRelationName(relation_) + " are only appended");
    }
    if (!OidIsValid(primary_key_)) {
        Relation relation = relation_;
        EState* estate = estate_;
        Oid index = call([&] { return RelationGetPrimaryKeyIndex(relation); });
        if (!OidIsValid(index)) {
            throw Error(ERRCODE_INTERNAL_ERROR, std::string("pg_tenancy: table ") +
                                                    RelationGetRelationName(relation) +
                                                    " has no primary key");
        }
        // In the executor state's memory, as the appender's own slot: the
        // caller's current memory may be a per-row one.
        KeyScan* key_scan = nullptr;
        stored_slot_ = call([&] {
            MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
            TupleTableSlot* slot = table_slot_create(relation, &estate->es_tupleTable);
            key_scan = static_cast<KeyScan*>(palloc0(sizeof(KeyScan)));
            begin_key_scan(relation, index, key_scan);
            MemoryContextSwitchTo(old);
            return slot;
        });
        key_scan_ = key_scan;
        primary_key_ = index;
    }
    Relation relation = relation_;
    EState* estate = estate_;
    KeyScan* key_scan = key_scan_;
    TupleTableSlot* stored = stored_slot_;
    const Datum* values = values_.data();
    const char* nulls = nulls_.data();
    bool found = call([&] {
        // The row lock's allocations go with the row (reset by the next
        // write); the scan's own are made in the executor state's memory by
        // find_and_lock (in per-row memory they were freed under the scan).
        MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
        // Unpinned first: a pin of ours on the page would keep the lookup
        // from pruning it (HOT chains), as ON CONFLICT clears its slot too.
        ExecClearTuple(stored);
        // The key does not change: NO KEY UPDATE, as ON CONFLICT DO UPDATE.
        bool any = find_and_lock(relation, key_scan, values, nulls, LockTupleNoKeyExclusive, stored);
        MemoryContextSwitchTo(old);
        return any;
    });
    return found ? stored : nullptr;
}

void TableAppender::update_row(TupleTableSlot* stored) {
    check_for_interrupts();
    EState* estate = estate_;
    ResultRelInfo* result_relation = result_relation_;
    TupleTableSlot* slot = slot_;
    if (epq_ == nullptr) {
        int natts = column_count();
        epq_ = call([&] {
            MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
            auto* epq = static_cast<EPQState*>(palloc0(sizeof(EPQState)));
            EvalPlanQualInit(epq, estate, nullptr, NIL, -1);
            // Every column counts as updated: column-specific triggers
            // (UPDATE OF …) see the writes, as logical replication's apply
            // fills them in. Set on the first update only, so appends pay
            // nothing for it.
            RangeTblEntry* rte = exec_rt_fetch(1, estate);
            for (int i = 1; i <= natts; ++i) {
                rte->updatedCols = bms_add_member(rte->updatedCols, i - FirstLowInvalidHeapAttributeNumber);
            }
            MemoryContextSwitchTo(old);
            return epq;
        });
    }
    EPQState* epq = epq_;
    call([&] {
        MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
        // Columns the row being built left unset keep their stored values.
        slot_getallattrs(stored);
        for (int i = 0; i < column_count(); ++i) {
            if (!assigned_[i]) {
                values_[i] = stored->tts_values[i];
                nulls_[i] = stored->tts_isnull[i];
            }
        }
        store_row();
        ExecSimpleRelationUpdate(result_relation, estate, epq, stored, slot);
        ExecClearTuple(stored);
        MemoryContextSwitchTo(old);
        ResetPerTupleExprContext(estate);
    });
    start_row();
}

void TableAppender::finish() {
    if (finished_) return;
    Relation relation = relation_;
    EState* estate = estate_;
    bool fires_after_triggers = fires_after_triggers_;
    EPQState* epq = epq_;
    KeyScan* key_scan = key_scan_;
    const std::vector<Partition>& partitions = partitions_;
    call([&] {
        if (key_scan != nullptr) {
            index_endscan(key_scan->scan);
            // Locked to the end of the transaction, as the lookups left it.
            index_close(key_scan->index, NoLock);
        }
        if (epq != nullptr) EvalPlanQualEnd(epq);
        // The queued row triggers fire while the partitions they were queued
        // for are still open. An event of a partition does not find the
        // partition's routing ResultRelInfo (ExecGetTriggerResultRel matches
        // the root too, and plain inserts queue none), so PostgreSQL opens
        // another one in es_trig_target_relations, as it does for its own
        // routed inserts: ExecCloseResultRelations closes those (and the
        // indexes of the table itself), as ExecEndPlan would.
        if (fires_after_triggers) AfterTriggerEndQuery(estate);
        for (const Partition& partition : partitions) {
            ExecCloseIndices(partition.result_relation);
            table_close(partition.result_relation->ri_RelationDesc, NoLock);
        }
        ExecCloseResultRelations(estate);
        ExecResetTupleTable(estate->es_tupleTable, false);
        FreeExecutorState(estate);
        table_close(relation, NoLock);
    });
    finished_ = true;
}

}  // namespace tenancy::pg
