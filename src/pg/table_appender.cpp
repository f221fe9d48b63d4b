#include "pg/table_appender.hpp"

#include <iterator>
#include <map>
#include <utility>

#include "pg/tuple.hpp"

namespace tenancy::pg {

TableAppender::TableAppender(const char* schema, const char* table) {
    Relation relation = nullptr;
    EState* estate = nullptr;
    ResultRelInfo* result_relation = nullptr;
    TupleTableSlot* slot = nullptr;
    call([&] {
        Oid relid = get_relname_relid(table, get_namespace_oid(schema, false));
        if (!OidIsValid(relid)) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("relation \"%s.%s\" does not exist", schema, table)));
        }
        relation = table_open(relid, RowExclusiveLock);
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
        ExecOpenIndices(result_relation, false);
        slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(relation), &TTSOpsVirtual);
        AfterTriggerBeginQuery();
    });
    relation_ = relation;
    estate_ = estate;
    result_relation_ = result_relation;
    slot_ = slot;
}

TableAppender::~TableAppender() {
    // Success path: finish() ran. Error path: the error is on its way to
    // PostgreSQL, whose abort processing closes the relation and drops the
    // executor state and the pending after-trigger query level.
}

int TableAppender::column(const char* name) const {
    return attribute_number(RelationGetDescr(relation_), name, RelationGetRelationName(relation_));
}

int TableAppender::column_count() const { return RelationGetDescr(relation_)->natts; }

int64 TableAppender::next_identity(int attnum) {
    if (!OidIsValid(identity_sequence_)) {
        // pg_depend is scanned once per backend and table, not per statement
        // (table OIDs are not reused while the table lives, and a new table
        // after DROP/CREATE EXTENSION has a new OID).
        static std::map<std::pair<Oid, int>, Oid> known_sequences;
        static bool invalidation_registered = false;
        if (!invalidation_registered) {
            // ALTER TABLE … DROP/ADD IDENTITY replaces the sequence: forget the
            // entries of a relation whenever its relcache entry is invalidated.
            call([] {
                CacheRegisterRelcacheCallback(
                    [](Datum, Oid relid) {
                        for (auto it = known_sequences.begin(); it != known_sequences.end();) {
                            it = (!OidIsValid(relid) || it->first.first == relid)
                                     ? known_sequences.erase(it)
                                     : std::next(it);
                        }
                    },
                    PointerGetDatum(nullptr));
            });
            invalidation_registered = true;
        }
        Oid relid = RelationGetRelid(relation_);
        auto known = known_sequences.find({relid, attnum});
        if (known != known_sequences.end()) {
            identity_sequence_ = known->second;
        } else {
            identity_sequence_ = call([&] {
                return getIdentitySequence(relid, static_cast<AttrNumber>(attnum), false);
            });
            known_sequences.emplace(std::make_pair(relid, attnum), identity_sequence_);
        }
    }
    Oid sequence = identity_sequence_;
    return call([&] { return nextval_internal(sequence, false); });
}

void TableAppender::append(const Datum* values, const bool* nulls) {
    int natts = column_count();
    EState* estate = estate_;
    ResultRelInfo* result_relation = result_relation_;
    TupleTableSlot* slot = slot_;
    call([&] {
        MemoryContext old = MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
        ExecClearTuple(slot);
        for (int i = 0; i < natts; ++i) {
            slot->tts_values[i] = values[i];
            slot->tts_isnull[i] = nulls[i];
        }
        ExecStoreVirtualTuple(slot);
        ExecSimpleRelationInsert(result_relation, estate, slot);
        MemoryContextSwitchTo(old);
        ResetPerTupleExprContext(estate);
    });
}

void TableAppender::finish() {
    if (finished_) return;
    Relation relation = relation_;
    EState* estate = estate_;
    ResultRelInfo* result_relation = result_relation_;
    call([&] {
        ExecCloseIndices(result_relation);
        AfterTriggerEndQuery(estate);
        ExecResetTupleTable(estate->es_tupleTable, false);
        FreeExecutorState(estate);
        table_close(relation, NoLock);
    });
    finished_ = true;
}

}  // namespace tenancy::pg
