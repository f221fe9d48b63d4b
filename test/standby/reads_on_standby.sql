-- On a hot standby (run by pg_prove as tenancy_test_app, after
-- test/standby/prepare_primary.sql ran on the primary): set_context works,
-- reads show only the own organization's rows, and every write fails with
-- 25006 (read-only transaction).
--
-- Plain TAP, without pgTAP's functions: pgTAP keeps its state in temporary
-- tables, and a hot standby cannot create any ("cannot execute CREATE
-- SEQUENCE in a read-only transaction"). Each check is one SELECT through the
-- :check prefix below, which prints "ok - …" or "not ok - …" with have/want.
-- Errors are caught in DO blocks that leave the SQLSTATE in the placeholder
-- setting tenancy_test.sqlstate ('00000' when the statement succeeded).
--
-- Fixtures (fixed uuids, see prepare_primary.sql):
--   A a0a0a0a0-0000-4000-8000-00000000000a: owner …0001, teacher …0002,
--     students …0003 and …0004, deactivated student …0005
--   B b0b0b0b0-0000-4000-8000-00000000000b: owner …0001, student …0002
\set ON_ERROR_STOP 1
\set check 'SELECT CASE WHEN have IS NOT DISTINCT FROM want THEN $t$ok - $t$ ELSE $t$not ok - $t$ END || descr || CASE WHEN have IS DISTINCT FROM want THEN chr(10) || $t$# have: $t$ || coalesce(have, $t$NULL$t$) || chr(10) || $t$# want: $t$ || coalesce(want, $t$NULL$t$) ELSE $t$$t$ END FROM '
\set org_a '''a0a0a0a0-0000-4000-8000-00000000000a'''
\set org_b '''b0b0b0b0-0000-4000-8000-00000000000b'''
\set a_owner '''a0a0a0a0-0000-4000-8000-000000000001'''
\set a_teacher '''a0a0a0a0-0000-4000-8000-000000000002'''
\set a_student '''a0a0a0a0-0000-4000-8000-000000000003'''
\set a_former '''a0a0a0a0-0000-4000-8000-000000000005'''
\set b_owner '''b0b0b0b0-0000-4000-8000-000000000001'''

\echo 1..30

:check (SELECT pg_is_in_recovery()::text AS have, 'true' AS want,
               'this test runs on a hot standby' AS descr) AS t;

-------------------------------------------------------------------------------
-- No context: no rows.
-------------------------------------------------------------------------------
:check (SELECT (SELECT count(*) FROM tenancy.organizations)::text AS have, '0' AS want,
               'standby, no context: tenancy.organizations shows no row' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members)::text AS have, '0' AS want,
               'standby, no context: tenancy.members shows no row' AS descr) AS t;

-------------------------------------------------------------------------------
-- Transaction contexts: each role sees its own organization's rows only.
-------------------------------------------------------------------------------
BEGIN;
:check (SELECT tenancy.set_context(:org_a, :a_owner)::text AS have, 'owner' AS want,
               'standby: set_context for the owner of A works and returns owner' AS descr) AS t;
:check (SELECT (SELECT string_agg(slug, ',') FROM tenancy.organizations) AS have,
               'standby-school-a' AS want,
               'standby, owner of A: only organization A is visible' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members)::text AS have, '5' AS want,
               'standby, owner of A: all 5 members of A are visible' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members WHERE organization_id = :org_b)::text AS have,
               '0' AS want,
               'standby, owner of A: members of B are invisible even by id' AS descr) AS t;

:check (SELECT tenancy.set_context(:org_a, :a_student)::text AS have, 'student' AS want,
               'standby: set_context for a student of A returns student' AS descr) AS t;
:check (SELECT (SELECT string_agg(user_id::text, ',' ORDER BY user_id) FROM tenancy.members) AS have,
               'a0a0a0a0-0000-4000-8000-000000000001,a0a0a0a0-0000-4000-8000-000000000002,'
                   || 'a0a0a0a0-0000-4000-8000-000000000003' AS want,
               'standby, student of A: own row and the staff rows only' AS descr) AS t;

:check (SELECT tenancy.set_context(:org_b, :b_owner)::text AS have, 'owner' AS want,
               'standby: set_context for the owner of B returns owner' AS descr) AS t;
:check (SELECT (SELECT string_agg(slug, ',') FROM tenancy.organizations) AS have,
               'standby-school-b' AS want,
               'standby, owner of B: only organization B is visible' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members)::text AS have, '2' AS want,
               'standby, owner of B: the 2 members of B are visible' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members WHERE organization_id = :org_a)::text AS have,
               '0' AS want,
               'standby, owner of B: members of A are invisible even by id' AS descr) AS t;
COMMIT;

:check (SELECT coalesce(tenancy.current_org_id()::text, 'NULL') AS have, 'NULL' AS want,
               'standby: COMMIT ends the transaction-local context' AS descr) AS t;

-------------------------------------------------------------------------------
-- Session context, and parallel workers on the standby.
-------------------------------------------------------------------------------
:check (SELECT tenancy.set_context(:org_a, :a_teacher, false)::text AS have, 'teacher' AS want,
               'standby: set_context(…, false) gives a session context' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members)::text AS have, '5' AS want,
               'standby, teacher of A (session context): all 5 members of A are visible' AS descr) AS t;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = regress;
:check (SELECT (SELECT count(*) FROM tenancy.members WHERE role = 'student')::text AS have, '3' AS want,
               'standby, parallel query: a worker counts the 3 students of A under the session context' AS descr) AS t;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
SELECT tenancy.clear_context() IS NULL AS cleared \gset
:check (SELECT coalesce(tenancy.current_org_id()::text, 'NULL') AS have, 'NULL' AS want,
               'standby: clear_context() ends the session context' AS descr) AS t;

-------------------------------------------------------------------------------
-- Refused contexts.
-------------------------------------------------------------------------------
DO $$
BEGIN
    PERFORM tenancy.set_context('b0b0b0b0-0000-4000-8000-00000000000b', 'a0a0a0a0-0000-4000-8000-000000000001');
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '42501' AS want,
               'standby: set_context into an organization the user is not a member of fails with 42501' AS descr) AS t;
DO $$
BEGIN
    PERFORM tenancy.set_context('a0a0a0a0-0000-4000-8000-00000000000a', 'a0a0a0a0-0000-4000-8000-000000000005');
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '42501' AS want,
               'standby: set_context for a deactivated member fails with 42501' AS descr) AS t;
DO $$
BEGIN
    SET tenancy.context = 'b0b0b0b0-0000-4000-8000-00000000000b/a0a0a0a0-0000-4000-8000-000000000003/owner';
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '42501' AS want,
               'standby: SET tenancy.context by the application login fails with 42501' AS descr) AS t;
:check (SELECT coalesce(tenancy.current_org_id()::text, 'NULL') AS have, 'NULL' AS want,
               'standby: the refused attempts left no context' AS descr) AS t;

-------------------------------------------------------------------------------
-- Writes fail: read-only transaction (25006), even for the owner.
-------------------------------------------------------------------------------
BEGIN;
:check (SELECT tenancy.set_context(:org_a, :a_owner)::text AS have, 'owner' AS want,
               'standby: the owner of A gets a context for the write attempts' AS descr) AS t;
DO $$
BEGIN
    INSERT INTO tenancy.members (organization_id, user_id, role)
        VALUES ('a0a0a0a0-0000-4000-8000-00000000000a', gen_random_uuid(), 'student');
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: INSERT into tenancy.members fails with 25006 (read-only transaction)' AS descr) AS t;
DO $$
BEGIN
    UPDATE tenancy.members SET role = 'teacher'
     WHERE organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'
       AND user_id = 'a0a0a0a0-0000-4000-8000-000000000003';
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: UPDATE of tenancy.members fails with 25006' AS descr) AS t;
DO $$
BEGIN
    DELETE FROM tenancy.members
     WHERE organization_id = 'a0a0a0a0-0000-4000-8000-00000000000a'
       AND user_id = 'a0a0a0a0-0000-4000-8000-000000000004';
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: DELETE from tenancy.members fails with 25006' AS descr) AS t;
DO $$
BEGIN
    UPDATE tenancy.organizations SET name = 'Renamed on the standby'
     WHERE id = 'a0a0a0a0-0000-4000-8000-00000000000a';
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: UPDATE of tenancy.organizations fails with 25006' AS descr) AS t;
DO $$
BEGIN
    PERFORM tenancy.create_organization('standby-new-school', 'New on the standby',
                                        'a0a0a0a0-0000-4000-8000-000000000001');
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: create_organization fails with 25006' AS descr) AS t;
DO $$
BEGIN
    PERFORM tenancy.delete_organization('a0a0a0a0-0000-4000-8000-00000000000a');
    PERFORM set_config('tenancy_test.sqlstate', '00000', false);
EXCEPTION WHEN OTHERS THEN
    PERFORM set_config('tenancy_test.sqlstate', SQLSTATE, false);
END
$$;
:check (SELECT current_setting('tenancy_test.sqlstate') AS have, '25006' AS want,
               'standby: delete_organization by the owner fails with 25006' AS descr) AS t;
:check (SELECT (SELECT count(*) FROM tenancy.members)::text || ' members, '
                   || (SELECT string_agg(name, ',') FROM tenancy.organizations) AS have,
               '5 members, Standby School A' AS want,
               'standby: after the refused writes A still has its 5 members and its name' AS descr) AS t;
-- ROLLBACK, not COMMIT: run by mistake on a primary, this file changes nothing.
ROLLBACK;
