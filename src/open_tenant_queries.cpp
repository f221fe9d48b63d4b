#include "open_tenant_queries.hpp"

namespace tenancy {
namespace {

// A started query, known by its address (never dereferenced once noted: a
// failed one's memory goes with its portal), and the subtransaction that
// started it.
struct OpenQuery {
    const QueryDesc* query;
    SubTransactionId started_in;
};

// Queries nest (a function's statements run inside the statement that calls
// it) and cursors stay open side by side; a handful at a time is the rule.
// Beyond the array the transaction counts as having one open until it ends.
constexpr int kMaxOpenQueries = 64;
OpenQuery g_open[kMaxOpenQueries];
int g_open_count = 0;
bool g_overflowed = false;

bool reads_rows_under_rls(const QueryDesc* query) {
    ListCell* cell;
    foreach (cell, query->plannedstmt->rtable) {
        auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
        if (rte->rtekind == RTE_RELATION &&
            check_enable_rls(rte->relid, InvalidOid, true) == RLS_ENABLED) {
            return true;
        }
    }
    return false;
}

void forget_all(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE) {
        g_open_count = 0;
        g_overflowed = false;
    }
}

// A rolled-back subtransaction takes the queries it started with it (their
// portals are dropped without ExecutorEnd), and those of the ones begun
// inside it.
void forget_rolled_back(SubXactEvent event, SubTransactionId rolled_back, SubTransactionId,
                        void*) {
    if (event != SUBXACT_EVENT_ABORT_SUB) return;
    int kept = 0;
    for (int i = 0; i < g_open_count; ++i) {
        if (g_open[i].started_in < rolled_back) g_open[kept++] = g_open[i];
    }
    g_open_count = kept;
}

bool is_noted(const QueryDesc* query) {
    for (int i = 0; i < g_open_count; ++i) {
        if (g_open[i].query == query) return true;
    }
    return false;
}

void note(const QueryDesc* query, SubTransactionId started_in) {
    if (!reads_rows_under_rls(query)) return;
    if (g_open_count == kMaxOpenQueries) {
        g_overflowed = true;
        return;
    }
    g_open[g_open_count++] = OpenQuery{query, started_in};
}

}  // namespace

void note_query_started(QueryDesc* query) { note(query, GetCurrentSubTransactionId()); }

void note_query_running(QueryDesc* query) {
    // Started before the library was loaded, maybe in an outer subtransaction
    // that is not known here: kept until it ends or the transaction does.
    if (!is_noted(query)) note(query, TopSubTransactionId);
}

void note_query_ended(QueryDesc* query) {
    for (int i = g_open_count - 1; i >= 0; --i) {
        if (g_open[i].query == query) {
            g_open[i] = g_open[--g_open_count];
            return;
        }
    }
}

bool tenant_queries_open() { return g_open_count > 0 || g_overflowed; }

void register_open_query_callbacks() {
    RegisterXactCallback(forget_all, nullptr);
    RegisterSubXactCallback(forget_rolled_back, nullptr);
}

}  // namespace tenancy
