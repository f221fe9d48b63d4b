#include "open_tenant_queries.hpp"

#include <string>
#include <type_traits>

#include "context.hpp"
#include "pg/error_barrier.hpp"

namespace tenancy {
namespace {

// The context a query reads under: organization, user and role (set_context
// for the same member again re-reads the role, which may have changed).
// Plain data (the context's token details, a key id among them, do not
// change what rows are read).
struct ContextKey {
    bool set = false;
    core::Uuid org_id;
    core::Uuid user_id;
    core::MemberRole role = core::MemberRole::student;

    bool operator==(const ContextKey& other) const {
        return set == other.set &&
               (!set || (org_id == other.org_id && user_id == other.user_id && role == other.role));
    }
};

// In C hooks: the setting as it stands (no membership read, which may throw).
ContextKey current_key() {
    const auto& context = context_as_set();
    if (!context) return ContextKey{};
    return ContextKey{true, context->org_id, context->user_id, context->role};
}

// A started query, known by its address (never dereferenced once noted),
// and the resource owner its executor started under: a portal's (a cursor,
// the statement being run, a PL/pgSQL loop's), or a subtransaction's. A query
// ends with ExecutorEnd, or, when it fails or its portal is dropped in a
// rollback, with the release of that owner, whichever comes first. (By
// owner, not by subtransaction: a cursor opened outside a savepoint may start
// an inner query, a set-returning function's, during a FETCH inside it; that
// query lives on with the cursor when the savepoint is rolled back.)
struct OpenQuery {
    const QueryDesc* query;
    ResourceOwner owner;
    ContextKey context;  // in effect when it was noted
    bool reads_rls;      // false: noted only so that each run need not look again
    bool held;           // a WITH HOLD cursor's: COMMIT reads it on to store its rows
};
// Kept in memory from PostgreSQL's allocator, copied by assignment.
static_assert(std::is_trivially_copyable_v<OpenQuery>);

// Queries nest (a function's statements run inside the statement that calls
// it) and cursors stay open side by side; a handful at a time is the rule,
// but there is no limit (a cap would let a query go unnoted). Plain data in
// TopMemoryContext, grown by doubling.
OpenQuery* g_open = nullptr;
int g_open_count = 0;
int g_open_capacity = 0;

// The queries executing now (inside ExecutorRun or ExecutorFinish), innermost
// last: whether each began under a context. Nested as the executor calls
// nest; in TopMemoryContext like g_open.
bool* g_executing = nullptr;
int g_executing_count = 0;
int g_executing_capacity = 0;

// Room for one more item in one of the arrays below, kept in
// TopMemoryContext and grown by doubling (plain data: copied by repalloc).
template <typename Item>
void make_room(Item*& items, int count, int& capacity) {
    if (count < capacity) return;
    int grown = capacity == 0 ? 16 : capacity * 2;
    std::size_t bytes = sizeof(Item) * static_cast<std::size_t>(grown);
    items = static_cast<Item*>(items == nullptr ? MemoryContextAlloc(TopMemoryContext, bytes)
                                                : repalloc(items, bytes));
    capacity = grown;
}

// WITH HOLD cursors that began under a context, by name and creation time
// (a later portal may take the name). COMMIT stores their rows, and a FETCH
// then reads the stored rows, not the tables: no policy sees the context it
// runs under. Kept across transactions until the portal is gone; plain data
// in TopMemoryContext like g_open.
//
// Between transactions, and whenever the context in effect is not the one
// a cursor began under, its portal is shut: marked failed, as PostgreSQL
// marks a portal whose run failed, so that no way of reading it runs
// ("portal ... cannot be run", 55000). A SQL FETCH is checked by the
// utility hook, with a message of its own, but an Execute message of the
// extended protocol for the cursor's name, and a PL/pgSQL FETCH from a
// refcursor, read the stored rows without any hook: the next client of a
// pooled connection read another organization's rows so (red-team review
// of 1.23). A FETCH, MOVE or set_context under the cursor's own context
// opens it again.
struct HeldCursor {
    NameData name;
    TimestampTz created;
    ContextKey context;
    bool shut;  // its portal marked failed by this file, not by PostgreSQL
};
static_assert(std::is_trivially_copyable_v<HeldCursor>);
HeldCursor* g_held = nullptr;
int g_held_count = 0;
int g_held_capacity = 0;

// The cursor's portal, or nullptr once it is gone (closed, or its name taken
// by a later one).
Portal portal_of(const HeldCursor& held) {
    Portal portal = GetPortalByName(NameStr(held.name));
    return portal != nullptr && portal->creation_time == held.created ? portal : nullptr;
}

bool still_open(const HeldCursor& held) { return portal_of(held) != nullptr; }

// Only a portal held over from an earlier transaction (its rows stored) and
// ready: one being run, or failed by PostgreSQL, is left as it is.
void shut(HeldCursor& held, Portal portal) {
    if (held.shut || portal->status != PORTAL_READY ||
        portal->createSubid != InvalidSubTransactionId) {
        return;
    }
    portal->status = PORTAL_FAILED;
    held.shut = true;
}

void reopen(HeldCursor& held, Portal portal) {
    if (!held.shut) return;
    if (portal->status == PORTAL_FAILED) portal->status = PORTAL_READY;
    held.shut = false;
}

void forget_closed_held_cursors() {
    int kept = 0;
    for (int i = 0; i < g_held_count; ++i) {
        if (still_open(g_held[i])) g_held[kept++] = g_held[i];
    }
    g_held_count = kept;
}

// A portal being started is new: an entry of its name is of a cursor closed
// since. By name and creation time alone that entry could still match it:
// a portal's creation time is its statement's start, the same for every
// statement of one query string or CALL, so a cursor closed and declared
// again under another context in one string kept the first one's context
// (and its rows were read under that context).
void forget_held_cursors_named(const char* name) {
    int kept = 0;
    for (int i = 0; i < g_held_count; ++i) {
        if (strcmp(NameStr(g_held[i].name), name) != 0) g_held[kept++] = g_held[i];
    }
    g_held_count = kept;
}

void remember_held_cursor(Portal portal, const ContextKey& context) {
    forget_closed_held_cursors();
    for (int i = 0; i < g_held_count; ++i) {
        if (strcmp(NameStr(g_held[i].name), portal->name) == 0) return;  // (its inner queries)
    }
    make_room(g_held, g_held_count, g_held_capacity);
    HeldCursor& held = g_held[g_held_count++];
    namestrcpy(&held.name, portal->name);
    held.created = portal->creation_time;
    held.context = context;
    held.shut = false;
}

// What settle_held_cursors does with the cursors of the context in effect
// (those of any other context it shuts).
enum class OwnCursors { shut, leave, open };

void settle_held_cursors(OwnCursors own) {
    if (g_held_count == 0) return;
    ContextKey now = current_key();
    for (int i = 0; i < g_held_count; ++i) {
        Portal portal = portal_of(g_held[i]);
        if (portal == nullptr) continue;  // (forgotten when the next is remembered)
        bool of_another = !(g_held[i].context == now);
        if (of_another || own == OwnCursors::shut) {
            shut(g_held[i], portal);
        } else if (own == OwnCursors::open) {
            reopen(g_held[i], portal);
        }
    }
}

bool reads_rows_under_rls(const QueryDesc* query) {
    ListCell* cell;
    foreach (cell, query->plannedstmt->rtable) {
        auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
        // As the executor checks it: a view's tables as the view's owner.
        if (rte->rtekind == RTE_RELATION &&
            check_enable_rls(rte->relid, rte->checkAsUser, true) == RLS_ENABLED) {
            return true;
        }
    }
    return false;
}

const OpenQuery* find(const QueryDesc* query) {
    for (int i = 0; i < g_open_count; ++i) {
        if (g_open[i].query == query) return &g_open[i];
    }
    return nullptr;
}

void forget(const QueryDesc* query) {
    for (int i = g_open_count - 1; i >= 0; --i) {
        if (g_open[i].query == query) g_open[i] = g_open[--g_open_count];
    }
}

void note(const QueryDesc* query) {
    // An entry at this address is left from a query that ended without
    // ExecutorEnd (PostgreSQL restarted a SQL function): a live query's
    // address is not reused.
    forget(query);
    bool reads_rls = reads_rows_under_rls(query);
    make_room(g_open, g_open_count, g_open_capacity);
    // The portal being started is active while its executor starts (a
    // DECLARE's too), and while it fetches (a query its rows start inside).
    bool held = ActivePortal != nullptr && (ActivePortal->cursorOptions & CURSOR_OPT_HOLD) != 0;
    // (PORTAL_DEFINED: PortalStart is starting it.)
    if (ActivePortal != nullptr && ActivePortal->status == PORTAL_DEFINED && g_held_count > 0) {
        forget_held_cursors_named(ActivePortal->name);
    }
    ContextKey context = current_key();
    g_open[g_open_count++] = OpenQuery{query, CurrentResourceOwner, context, reads_rls, held};
    // (Portal names are NAMEDATALEN at most: a cursor's name is an identifier.)
    if (held && context.set) remember_held_cursor(ActivePortal, context);
}

void forget_all(XactEvent event, void*) {
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PREPARE) {
        g_open_count = 0;
        g_executing_count = 0;
        // Every held cursor, until a FETCH or a set_context under its
        // context in the next transaction (the context in effect then is not
        // known yet: a transaction's own ends after this callback).
        settle_held_cursors(OwnCursors::shut);
    }
}

// Called for each resource owner being released, current while it is, once
// per phase: the first phase is enough (each call reads every open query, and
// a transaction can release many owners: one per subtransaction).
void forget_released(ResourceReleasePhase phase, bool, bool, void*) {
    if (phase != RESOURCE_RELEASE_BEFORE_LOCKS || g_open_count == 0) return;
    int kept = 0;
    for (int i = 0; i < g_open_count; ++i) {
        if (g_open[i].owner != CurrentResourceOwner) g_open[kept++] = g_open[i];
    }
    g_open_count = kept;
}

}  // namespace

void note_query_started(QueryDesc* query) { note(query); }

void note_query_running(QueryDesc* query) {
    const OpenQuery* open = find(query);
    if (open == nullptr) {
        note(query);
        return;
    }
    // set_context refuses a change under an open query, but a rollback to a
    // savepoint restores an earlier context without it. Ending the context
    // (clear_context(), RESET ALL) does not narrow what the query reads on:
    // an index condition on organization_id was computed when its scan
    // started, and a sort has read its rows already, so it would go on
    // returning the organization's rows with no context (protocol review of
    // 1.21); a scrollable WITH HOLD cursor that COMMIT runs again to store
    // failed with "unexpected end of tuple stream".
    // A WITH HOLD cursor counts whatever its range table holds: a function
    // it calls may read tenant rows, kept in its rows once fetched.
    ContextKey now = current_key();
    if (!(open->reads_rls || open->held) || open->context == now) return;
    if (!now.set) {
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("the tenant context ended while a query that reads tenant rows was open"),
                 errdetail("The query began under a context, which has since ended "
                           "(clear_context(), RESET ALL); it would read the rest of its rows "
                           "without it (a WITH HOLD cursor is read on at COMMIT, to store its "
                           "rows)."),
                 errhint("Close the cursor before ending the context.")));
    }
    ereport(ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("the tenant context changed while a query that reads tenant rows was open"),
             errdetail("The query began under another context, which has since been replaced (by "
                       "a rollback to a savepoint, or of a PL/pgSQL block with an exception "
                       "handler); it would read the rest of its rows partly under each."),
             errhint("Close the cursor and run the query again.")));
}

void note_query_ended(QueryDesc* query) { forget(query); }

bool tenant_queries_open() {
    for (int i = 0; i < g_open_count; ++i) {
        if (g_open[i].reads_rls) return true;
    }
    return false;
}

bool queries_open_under_context() {
    for (int i = 0; i < g_open_count; ++i) {
        if ((g_open[i].reads_rls || g_open[i].held) && g_open[i].context.set) return true;
    }
    return false;
}

void note_query_executing(QueryDesc* query) {
    const OpenQuery* open = find(query);
    bool began_with_context = open != nullptr ? open->context.set : current_key().set;
    make_room(g_executing, g_executing_count, g_executing_capacity);
    g_executing[g_executing_count++] = began_with_context;
}

void note_query_stopped() {
    if (g_executing_count > 0) --g_executing_count;
}

bool context_ended_under_executing_query() {
    return !current_key().set && g_executing_count > 0 && g_executing[g_executing_count - 1];
}

void check_fetch_from_held_cursor(const char* cursor_name) {
    if (cursor_name == nullptr || g_held_count == 0) return;
    const HeldCursor* held = nullptr;
    for (int i = 0; i < g_held_count; ++i) {
        if (strcmp(NameStr(g_held[i].name), cursor_name) == 0 && still_open(g_held[i])) {
            held = &g_held[i];
        }
    }
    if (held == nullptr) return;
    ContextKey began_under = held->context;  // (a copy: g_held may move)
    // The membership as it stands (a member removed since ends a session
    // context here, with its WARNING): what the FETCH runs under.
    current_context();
    if (current_key() == began_under) {
        align_held_cursors();
        return;
    }
    const char* quoted = pg::call([&] { return quote_identifier(cursor_name); });
    throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                    std::string("the tenant context changed since cursor \"") + cursor_name +
                        "\" read its rows",
                    "A WITH HOLD cursor keeps the rows it read under the context it began with "
                    "(COMMIT stores them); they are not read under another context, nor once "
                    "that one ended (a membership removed, a token expired).",
                    std::string("Close it (CLOSE ") + quoted +
                        ") and run the query again under this context.");
}

void align_held_cursors() { settle_held_cursors(OwnCursors::open); }

void shut_held_cursors_of_other_contexts() { settle_held_cursors(OwnCursors::leave); }

void register_open_query_callbacks() {
    RegisterXactCallback(forget_all, nullptr);
    RegisterResourceReleaseCallback(forget_released, nullptr);
}

}  // namespace tenancy
