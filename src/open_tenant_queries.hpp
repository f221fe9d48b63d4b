// The queries that read rows under row level security and have not ended:
// a cursor, a PL/pgSQL FOR loop over a query, or the statement that calls a
// function. tenancy.set_context() refuses to change the context while one is
// open. Such a query reads some of the context once (an index condition on
// organization_id is computed when its scan starts) and the rest row by row,
// so a context changed mid-scan would have it read one organization's rows
// under the role of another context of the same session.
#pragma once

#include "pg/postgres.hpp"

namespace tenancy {

// From the ExecutorStart, ExecutorRun and ExecutorEnd hooks (C flow: they
// may longjmp). Started: after the query's executor started. Running: each
// time it runs: a query started before this library was loaded is noted at
// its first run, before it has read the context. (The library usually loads
// while the first such query is planned, when the planner evaluates the
// policy's getters to estimate selectivity; were it loaded only by the
// executor start of a cursor, that start would not have been seen.) Ended:
// before its executor ends.
void note_query_started(QueryDesc* query);
void note_query_running(QueryDesc* query);
void note_query_ended(QueryDesc* query);

// Whether a query that reads a table under row level security (any such
// table: an application's own policies may read the context too) is open in
// this transaction.
bool tenant_queries_open();

// Whether a query that began under a context and reads such a table, or a
// WITH HOLD cursor that began under one (whatever it reads: a function it
// calls may), is open in this transaction: ending the context under it
// would have it read on without the context, as COMMIT does to store a
// WITH HOLD cursor or a procedure's loop.
bool queries_open_under_context();

// From the ExecutorRun and ExecutorFinish hooks, around the standard ones
// (C flow): the query is executing (running its plan, or firing its AFTER
// triggers) until the matching note_query_stopped, which the hook runs on
// its error path too.
void note_query_executing(QueryDesc* query);
void note_query_stopped();

// Whether there is no context now although the innermost query executing
// now began under one: that statement (or a function it called) ended its
// own context, with clear_context() or RESET ALL, while it ran. From an
// AFTER trigger, the innermost query is the one whose ExecutorFinish fires
// it. Neither an open cursor that is not being read nor a query around it
// counts: a statement a function runs after clearing the context began
// without one.
bool context_ended_under_executing_query();

// From ProcessUtility, before a FETCH or MOVE (C++ flow): refuses (55000) to
// read a WITH HOLD cursor that began under a context, once the context in
// effect (the membership read again first) is another or none. Its stored
// rows would otherwise reach another organization's request on a pooled
// connection, or a member removed since (isolation review of 1.22).
// Otherwise opens it, if it was shut.
void check_fetch_from_held_cursor(const char* cursor_name);

// After the context changed (set_context, clear_context, a session context
// ended; C++ flow): opens the WITH HOLD cursors that began under the context
// now in effect, and shuts the others, so that no way of reading them (a
// protocol Execute, a PL/pgSQL FETCH) runs under another context. Every
// such cursor is shut at the end of each transaction.
void align_held_cursors();

// From the context setting's assign hook (C flow: assignments only, never
// throws): shuts the WITH HOLD cursors that began under another context than
// the one now in effect. Every change of the setting comes through it, those
// that call no function of ours too: a rollback to a savepoint (or of a
// PL/pgSQL block) that puts an earlier context back, RESET ALL, a function's
// SET clause. Opens none: only a checked FETCH, MOVE or set_context does.
void shut_held_cursors_of_other_contexts();

// Registers the transaction and resource release callbacks; once, from
// _PG_init.
void register_open_query_callbacks();

}  // namespace tenancy
