-- How long a tenant context lives (DESIGN.md, "Tenant context"):
--   transaction-local by default: ended by COMMIT, undone by ROLLBACK and by
--   ROLLBACK TO SAVEPOINT; is_local => false keeps it for the session, until
--   clear_context(), DISCARD ALL or RESET ALL; the getters return NULL (never
--   an empty value) when no context is set; prepared statements and parallel
--   workers see the context in effect when they run.
--
-- No wrapping transaction (COMMIT is under test): the fixtures are committed
-- under unique slugs and deleted by their owners at the end. pgTAP results
-- recorded inside a transaction that is rolled back would be lost, so values
-- seen there are captured with \gset and asserted afterwards.
SELECT plan(73);

-- The context as the getters report it: 'org/user/role', NULL parts spelled NULL.
\ir lib/context_text.sql

-- Runs statements in a second session of the application login (for DISCARD
-- ALL, which would also drop this session's pgTAP temp tables) and returns
-- one text per statement: the single value of a SELECT, the command status
-- otherwise, 'error <SQLSTATE>' on failure (which ends the list).
CREATE FUNCTION pg_temp.second_session(connstr text, statements text[]) RETURNS text[]
    LANGUAGE plpgsql AS $$
DECLARE
    statement text;
    value text;
    results text[] := '{}';
BEGIN
    PERFORM dblink_connect('lifecycle_second', connstr);
    BEGIN
        FOREACH statement IN ARRAY statements LOOP
            IF statement ~* '^\s*SELECT' THEN
                SELECT v INTO value FROM dblink('lifecycle_second', statement) AS t(v text);
            ELSE
                value := dblink_exec('lifecycle_second', statement);
            END IF;
            results := results || value;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        results := results || ('error ' || SQLSTATE);
    END;
    PERFORM dblink_disconnect('lifecycle_second');
    RETURN results;
END
$$;

-- The EXPLAIN ANALYZE plan of a query, as JSON (top node first).
CREATE FUNCTION pg_temp.executed_plan(query text) RETURNS json
    LANGUAGE plpgsql AS $$
DECLARE
    result json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || query INTO result;
    RETURN result -> 0 -> 'Plan';
END
$$;

-------------------------------------------------------------------------------
-- Fixtures: A (owner, teacher, student, student2: 4 members), B (owner,
-- student: 2 members).
-------------------------------------------------------------------------------
SELECT 'lifecycle-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_teacher,
       gen_random_uuid() AS a_student, gen_random_uuid() AS a_student2,
       gen_random_uuid() AS b_owner, gen_random_uuid() AS b_student
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Lifecycle School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Lifecycle School B', :'b_owner') AS org_b \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_a', :'a_teacher', 'teacher'),
    (:'org_a', :'a_student', 'student'),
    (:'org_a', :'a_student2', 'student');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_b', :'b_student', 'student');
COMMIT;

SELECT :'org_a' || '/' || :'a_owner' || '/owner' AS ctx_a_owner,
       :'org_a' || '/' || :'a_teacher' || '/teacher' AS ctx_a_teacher,
       :'org_a' || '/' || :'a_student' || '/student' AS ctx_a_student,
       :'org_b' || '/' || :'b_owner' || '/owner' AS ctx_b_owner,
       'NULL/NULL/NULL' AS no_ctx,
       'host=127.0.0.1 port=' || :'tcp_port'
           || ' dbname=tenancy_test user=tenancy_test_app password=tenancy-test' AS conn_app
\gset

SELECT is(pg_temp.context(), :'no_ctx', 'a session starts with no context');

-------------------------------------------------------------------------------
-- Transaction-local context: COMMIT ends it.
-------------------------------------------------------------------------------
BEGIN;
SELECT is(tenancy.set_context(:'org_a', :'a_owner')::text, 'owner',
          'set_context inside a transaction returns the role');
SELECT is(pg_temp.context(), :'ctx_a_owner', 'the context is in effect for the rest of the transaction');
SELECT is((SELECT count(*) FROM tenancy.members), 4::bigint,
          'the owner of A sees the four members of A in the transaction');
COMMIT;
SELECT is(pg_temp.context(), :'no_ctx', 'COMMIT ends a transaction-local context');
SELECT ok(tenancy.current_org_id() IS NULL, 'after COMMIT current_org_id() is NULL');
SELECT ok(tenancy.current_user_id() IS NULL, 'after COMMIT current_user_id() is NULL');
SELECT ok(tenancy.current_member_role() IS NULL, 'after COMMIT current_member_role() is NULL');
SELECT is((SELECT count(*) FROM tenancy.members), 0::bigint,
          'after COMMIT no member is visible any more');

-- Outside a transaction block, a transaction-local context lasts one statement.
SELECT tenancy.set_context(:'org_a', :'a_owner')::text AS autocommit_role \gset
SELECT is(:'autocommit_role'::text, 'owner',
          'set_context outside a transaction block still checks and returns the role');
SELECT is(pg_temp.context(), :'no_ctx',
          'a transaction-local context set outside a transaction block is gone by the next statement');

-------------------------------------------------------------------------------
-- ROLLBACK undoes a context set inside the transaction.
-------------------------------------------------------------------------------
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT pg_temp.context() AS seen_before_rollback \gset
ROLLBACK;
SELECT is(:'seen_before_rollback'::text, :'ctx_a_owner', 'the context was in effect before ROLLBACK');
SELECT is(pg_temp.context(), :'no_ctx', 'ROLLBACK undoes a transaction-local context');

BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner', false) AS r \gset
ROLLBACK;
SELECT is(pg_temp.context(), :'no_ctx', 'ROLLBACK undoes a session context set inside the transaction');

SELECT tenancy.set_context(:'org_b', :'b_owner', false) AS r \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner', false) AS r \gset
SELECT pg_temp.context() AS seen_before_rollback \gset
ROLLBACK;
SELECT is(:'seen_before_rollback'::text, :'ctx_a_owner', 'the new session context was in effect before ROLLBACK');
SELECT is(pg_temp.context(), :'ctx_b_owner',
          'ROLLBACK of a replacing session context brings back the previous session context');
SELECT is((SELECT count(*) FROM tenancy.members), 2::bigint,
          'after that ROLLBACK the rows seen are B''s again');

BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT pg_temp.context() AS seen_before_error \gset
-- An intended error: psql must not stop on it (it prints an ERROR line).
\set ON_ERROR_STOP 0
DO $$ BEGIN RAISE EXCEPTION 'intended error (context_lifecycle.sql): this transaction must be rolled back'; END $$;
\set ON_ERROR_STOP 1
ROLLBACK;
SELECT is(:'seen_before_error'::text, :'ctx_a_owner', 'the context was in effect before the error');
SELECT is(pg_temp.context(), :'ctx_b_owner',
          'a transaction that failed and was rolled back leaves the session context as it was');
SELECT lives_ok('SELECT tenancy.clear_context()', 'clear_context succeeds');
SELECT is(pg_temp.context(), :'no_ctx', 'clear_context ends the session context');

-------------------------------------------------------------------------------
-- Savepoints.
-------------------------------------------------------------------------------
BEGIN;
SELECT is(tenancy.set_context(:'org_a', :'a_student')::text, 'student',
          'the student of A gets a transaction context');
SAVEPOINT before_switch;
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT pg_temp.context() AS seen_in_savepoint,
       (SELECT count(*) FROM tenancy.members) AS members_in_savepoint \gset
ROLLBACK TO SAVEPOINT before_switch;
SELECT is(:'seen_in_savepoint'::text, :'ctx_b_owner', 'the context switched inside the savepoint');
SELECT is(:'members_in_savepoint'::bigint, 2::bigint, 'inside the savepoint B''s members were seen');
SELECT is(pg_temp.context(), :'ctx_a_student',
          'ROLLBACK TO SAVEPOINT undoes the context set after the savepoint');
SELECT is((SELECT count(*) FROM tenancy.members), 3::bigint,
          'after ROLLBACK TO SAVEPOINT the student of A sees own row and staff again (3 rows)');

SAVEPOINT session_switch;
SELECT tenancy.set_context(:'org_b', :'b_owner', false) AS r \gset
ROLLBACK TO SAVEPOINT session_switch;
SELECT is(pg_temp.context(), :'ctx_a_student',
          'ROLLBACK TO SAVEPOINT undoes a session context set after the savepoint');

SAVEPOINT failing;
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
\set ON_ERROR_STOP 0
DO $$ BEGIN RAISE EXCEPTION 'intended error (context_lifecycle.sql): this savepoint must be rolled back'; END $$;
\set ON_ERROR_STOP 1
ROLLBACK TO SAVEPOINT failing;
SELECT is(pg_temp.context(), :'ctx_a_student',
          'ROLLBACK TO SAVEPOINT after an error undoes the context set in the failed savepoint');

SAVEPOINT kept;
SELECT tenancy.set_context(:'org_a', :'a_teacher') AS r \gset
RELEASE SAVEPOINT kept;
SELECT is(pg_temp.context(), :'ctx_a_teacher',
          'RELEASE SAVEPOINT keeps the context set after the savepoint');
COMMIT;
SELECT is(pg_temp.context(), :'no_ctx', 'COMMIT ends the context after the savepoints');

-------------------------------------------------------------------------------
-- Session context (is_local => false).
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_teacher', false)::text, 'teacher',
          'set_context(…, false) outside a transaction returns the role');
SELECT is(pg_temp.context(), :'ctx_a_teacher', 'a session context is in effect in the next statement');
BEGIN;
SELECT is((SELECT count(*) FROM tenancy.members), 4::bigint,
          'a session context is in effect in a later transaction (teacher sees all 4 members)');
COMMIT;
SELECT is(pg_temp.context(), :'ctx_a_teacher', 'a session context survives COMMIT');

BEGIN;
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT pg_temp.context() AS seen_local_over_session \gset
COMMIT;
SELECT is(:'seen_local_over_session'::text, :'ctx_b_owner',
          'a transaction-local context overrides the session context inside its transaction');
SELECT is(pg_temp.context(), :'ctx_a_teacher',
          'after COMMIT of a transaction-local context the session context is back');

BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_student', false) AS r \gset
COMMIT;
SELECT is(pg_temp.context(), :'ctx_a_student', 'a session context set inside a committed transaction persists');

SELECT tenancy.clear_context() IS NULL AS cleared \gset
SELECT is(pg_temp.context(), :'no_ctx', 'clear_context() ends a session context');
SELECT ok(tenancy.current_org_id() IS NULL AND tenancy.current_user_id() IS NULL
          AND tenancy.current_member_role() IS NULL,
          'after clear_context() every getter returns NULL');
SELECT is((SELECT count(*) FROM tenancy.members), 0::bigint, 'after clear_context() no member is visible');

BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT lives_ok('SELECT tenancy.clear_context()', 'clear_context inside a transaction succeeds');
SELECT is(pg_temp.context(), :'no_ctx', 'clear_context() ends a transaction-local context at once');
COMMIT;

SELECT tenancy.set_context(:'org_a', :'a_teacher', false) AS r \gset
RESET ALL;
SELECT is(pg_temp.context(), :'no_ctx', 'RESET ALL ends a session context');
SELECT ok(tenancy.current_org_id() IS NULL AND tenancy.current_user_id() IS NULL
          AND tenancy.current_member_role() IS NULL,
          'after RESET ALL every getter returns NULL');

-- DISCARD ALL, in a second session (here it would drop pgTAP's temp tables).
SELECT is(pg_temp.second_session(:'conn_app', ARRAY[
              format('SELECT tenancy.set_context(%L, %L, false)::text', :'org_a', :'a_teacher'),
              'SELECT (SELECT count(*) FROM tenancy.members)::text',
              'DISCARD ALL',
              $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL') || '/'
                       || coalesce(tenancy.current_user_id()::text, 'NULL') || '/'
                       || coalesce(tenancy.current_member_role()::text, 'NULL')$$,
              'SELECT (SELECT count(*) FROM tenancy.members)::text']),
          ARRAY['teacher', '4', 'DISCARD ALL', 'NULL/NULL/NULL', '0'],
          'DISCARD ALL ends a session context (second session: 4 members before, none after, getters NULL)');
SELECT is(pg_temp.second_session(:'conn_app', ARRAY[
              format('SELECT tenancy.set_context(%L, %L, false)::text', :'org_b', :'b_owner'),
              'SELECT (SELECT count(*) FROM tenancy.members)::text',
              'RESET ALL',
              $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL')$$]),
          ARRAY['owner', '2', 'RESET', 'NULL'],
          'RESET ALL ends a session context in a second session too');

-------------------------------------------------------------------------------
-- Prepared statements see the context in effect when they are executed.
-------------------------------------------------------------------------------
PREPARE members_visible AS SELECT count(*) FROM tenancy.members;
PREPARE org_names_visible AS SELECT string_agg(name, ',') FROM tenancy.organizations;
PREPARE members_of(uuid) AS SELECT count(*) FROM tenancy.members WHERE organization_id = $1;

SET plan_cache_mode = force_custom_plan;
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT results_eq('members_visible', ARRAY[4::bigint], 'custom plan: EXECUTE under A''s owner counts A''s 4 members');
SELECT results_eq('org_names_visible', ARRAY['Lifecycle School A'], 'custom plan: EXECUTE under A shows A only');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT results_eq('members_visible', ARRAY[2::bigint], 'custom plan: the same statement under B''s owner counts B''s 2 members');
SELECT results_eq('org_names_visible', ARRAY['Lifecycle School B'], 'custom plan: the same statement under B shows B only');
SELECT results_eq(format('EXECUTE members_of(%L)', :'org_a'), ARRAY[0::bigint],
                  'custom plan: under B, asking for A''s members by parameter finds none');
COMMIT;

SET plan_cache_mode = force_generic_plan;
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_student') AS r \gset
SELECT results_eq('members_visible', ARRAY[3::bigint],
                  'generic plan: EXECUTE under A''s student counts own row and staff (3)');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT results_eq('members_visible', ARRAY[2::bigint], 'generic plan: the same statement under B''s owner counts 2');
SELECT results_eq('org_names_visible', ARRAY['Lifecycle School B'], 'generic plan: the same statement under B shows B only');
SELECT results_eq(format('EXECUTE members_of(%L)', :'org_a'), ARRAY[0::bigint],
                  'generic plan: under B, asking for A''s members by parameter finds none');
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT results_eq(format('EXECUTE members_of(%L)', :'org_a'), ARRAY[4::bigint],
                  'generic plan: back under A, asking for A''s members by parameter finds 4');
COMMIT;

RESET plan_cache_mode;
-- Session contexts and more executions than the plan cache needs to switch
-- to a generic plan on its own.
SELECT tenancy.set_context(:'org_a', :'a_owner', false) AS r \gset
EXECUTE members_visible \gset run1_
EXECUTE members_visible \gset run2_
EXECUTE members_visible \gset run3_
SELECT tenancy.set_context(:'org_b', :'b_owner', false) AS r \gset
EXECUTE members_visible \gset run4_
EXECUTE members_visible \gset run5_
EXECUTE members_visible \gset run6_
SELECT tenancy.set_context(:'org_a', :'a_student', false) AS r \gset
EXECUTE members_visible \gset run7_
SELECT tenancy.clear_context() IS NULL AS cleared \gset
EXECUTE members_visible \gset run8_
SELECT is(ARRAY[:run1_count, :run2_count, :run3_count, :run4_count, :run5_count, :run6_count,
                :run7_count, :run8_count]::bigint[],
          ARRAY[4, 4, 4, 2, 2, 2, 3, 0]::bigint[],
          'eight EXECUTEs under session contexts A owner x3, B owner x3, A student, none count 4,4,4,2,2,2,3,0');
DEALLOCATE members_visible;
DEALLOCATE org_names_visible;
DEALLOCATE members_of;

-------------------------------------------------------------------------------
-- Parallel query: workers get the leader's context.
-------------------------------------------------------------------------------
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- A real parallel scan: the policies' role and user getters are init plans
-- (evaluated by the leader, passed to the workers as parameters), and
-- PostgreSQL 15 puts no forced Gather above init plans, so make the parallel
-- sequential scan the only choice; organization_id = current_org_id() is then
-- evaluated in the workers, row by row.
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;

-- First prove that a worker really runs the policy (force_parallel_mode = on
-- shows the Gather that "regress" hides).
-- The table gets a few thousand (rolled back) rows first: the planner sizes
-- a parallel scan by the table's pages, and a fresh members table has one.
SET force_parallel_mode = on;
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT :'org_a', gen_random_uuid(), 'student' FROM generate_series(1, 3000);
SELECT tenancy.set_context(:'org_a', :'a_student') AS r \gset
SELECT pg_temp.executed_plan('SELECT count(*) FROM tenancy.members') AS parallel_plan \gset
ROLLBACK;
-- The Gather may sit below the aggregate (partial aggregation): look for it
-- anywhere in the executed plan.
SELECT ok(jsonb_path_exists(:'parallel_plan'::jsonb, '$.** ? (@."Node Type" == "Gather")'),
          'the tenant count runs under a Gather');
SELECT cmp_ok((jsonb_path_query_first(:'parallel_plan'::jsonb, '$.**."Workers Launched"'))::int,
              '>=', 1, 'at least one parallel worker was launched for the tenant count');

SET force_parallel_mode = regress;
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT count(*) AS parallel_owner_count FROM tenancy.members \gset
SELECT tenancy.current_org_id()::text AS parallel_org, tenancy.current_user_id()::text AS parallel_user,
       tenancy.current_member_role()::text AS parallel_role \gset
SELECT tenancy.set_context(:'org_a', :'a_student') AS r \gset
SELECT count(*) AS parallel_student_count FROM tenancy.members \gset
SELECT count(*) AS parallel_student_own FROM tenancy.members WHERE user_id = tenancy.current_user_id() \gset
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT count(*) AS parallel_b_count FROM tenancy.members \gset
SELECT string_agg(name, ',') AS parallel_b_orgs FROM tenancy.organizations \gset
COMMIT;
SELECT tenancy.set_context(:'org_a', :'a_teacher', false) AS r \gset
SELECT count(*) AS parallel_session_count FROM tenancy.members \gset
SELECT tenancy.clear_context() IS NULL AS cleared \gset
SELECT count(*) AS parallel_none_count FROM tenancy.members \gset
SELECT coalesce(tenancy.current_org_id()::text, 'NULL') AS parallel_none_org \gset
RESET force_parallel_mode;
RESET parallel_leader_participation;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;

SELECT is(:'parallel_owner_count'::bigint, 4::bigint, 'parallel: the owner of A counts 4 members');
SELECT is(:'parallel_org'::text, :'org_a', 'parallel: current_org_id() in a worker is the leader''s org');
SELECT is(:'parallel_user'::text, :'a_owner', 'parallel: current_user_id() in a worker is the leader''s user');
SELECT is(:'parallel_role'::text, 'owner', 'parallel: current_member_role() in a worker is the leader''s role');
SELECT is(:'parallel_student_count'::bigint, 3::bigint,
          'parallel: the student of A counts own row and staff (3), not the other student');
SELECT is(:'parallel_student_own'::bigint, 1::bigint,
          'parallel: filtering on current_user_id() in a worker finds the student''s own row');
SELECT is(:'parallel_b_count'::bigint, 2::bigint, 'parallel: the owner of B counts B''s 2 members');
SELECT is(:'parallel_b_orgs'::text, 'Lifecycle School B', 'parallel: the owner of B sees B only');
SELECT is(:'parallel_session_count'::bigint, 4::bigint,
          'parallel: a session context reaches the workers too (teacher of A counts 4)');
SELECT is(:'parallel_none_count'::bigint, 0::bigint, 'parallel: without a context the workers see no member');
SELECT is(:'parallel_none_org'::text, 'NULL', 'parallel: without a context current_org_id() in a worker is NULL');

-------------------------------------------------------------------------------
-- Clean up: the owners delete their organizations.
-------------------------------------------------------------------------------
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_a'), 'cleanup: the owner of A deletes A');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_b'), 'cleanup: the owner of B deletes B');
COMMIT;
SELECT is(pg_temp.context(), :'no_ctx', 'the session ends with no context');

SELECT * FROM finish();
