-- The tenant context cannot be forged by the application login (DESIGN.md:
-- "not with SET, set_config, PGOPTIONS, ALTER ROLE … SET, nor by calling
-- internals"). Every attempt below must fail - or, for a value placed before
-- the library loads, be discarded - and must leave the context unchanged.
-- Only tenancy.set_context writes it, after checking the membership.
--
-- No wrapping transaction: second connections (dblink) must see the fixtures,
-- so they are committed, created under unique slugs and deleted at the end.
-- Runs as tenancy_test_app; pg_prove passes --set tcp_port=<port>.
SELECT plan(90);

-- SQLSTATE of a command, '00000' when it succeeds. For checks that cannot
-- use pgTAP directly (under SET ROLE tenancy_app the pgTAP temp tables,
-- owned by the login, are out of reach).
CREATE FUNCTION pg_temp.sqlstate_of(command text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE command;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- The context as the getters report it: 'org/user/role', NULL parts spelled NULL.
\ir lib/context_text.sql

-- Opens a fresh backend through dblink (a new connection: the library is not
-- loaded in it yet), runs setup (may be NULL) and then probe, and returns the
-- probe's one text value; 'connection refused: …' when the server refuses
-- the connection, 'error <SQLSTATE>: …' when setup or probe fails.
CREATE FUNCTION pg_temp.fresh_backend(connstr text, setup text, probe text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    BEGIN
        PERFORM dblink_connect('forging_probe', connstr);
    EXCEPTION WHEN OTHERS THEN
        RETURN 'connection refused: ' || SQLERRM;
    END;
    BEGIN
        IF setup IS NOT NULL THEN
            PERFORM dblink_exec('forging_probe', setup);
        END IF;
        SELECT value INTO result FROM dblink('forging_probe', probe) AS t(value text);
    EXCEPTION WHEN OTHERS THEN
        result := 'error ' || SQLSTATE || ': ' || SQLERRM;
    END;
    PERFORM dblink_disconnect('forging_probe');
    RETURN result;
END
$$;

-------------------------------------------------------------------------------
-- Fixtures: school A (owner, student) and school B (owner).
-------------------------------------------------------------------------------
SELECT 'forging-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_student,
       gen_random_uuid() AS b_owner, gen_random_uuid() AS stranger_org
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Forging School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Forging School B', :'b_owner') AS org_b \gset
-- Forged setting texts ("<org>/<user>/<role>", the format set_context writes):
-- the owner of the other school, and the student of A promoted to owner.
SELECT :'org_b' || '/' || :'b_owner' || '/owner' AS forged_other_school,
       :'org_a' || '/' || :'a_student' || '/owner' AS forged_promotion,
       'host=127.0.0.1 port=' || :'tcp_port'
           || ' dbname=tenancy_test user=tenancy_test_app password=tenancy-test' AS conn_app,
       'host=127.0.0.1 port=' || :'tcp_port'
           || ' dbname=tenancy_test user=tenancy_test_outsider password=tenancy-test' AS conn_outsider
\gset

-------------------------------------------------------------------------------
-- A placeholder set in this very session before the library loaded (nothing
-- above called a pg_tenancy C function) is discarded when it loads, with a
-- WARNING "permission denied to set parameter". (Were the library preloaded,
-- the SET would simply be refused; either way no context may result.)
-------------------------------------------------------------------------------
SELECT pg_temp.sqlstate_of(format('SET tenancy.context = %L', :'forged_other_school')) AS early_set \gset
SELECT is(pg_temp.context(), 'NULL/NULL/NULL',
          'SET tenancy.context before the library loaded: no context once it loads (getters NULL)');
SELECT is((SELECT count(*) FROM tenancy.organizations), 0::bigint,
          'SET tenancy.context before the library loaded: no organization becomes visible');

-------------------------------------------------------------------------------
-- A real context to defend: the student of A, for the session.
-------------------------------------------------------------------------------
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (:'org_a', :'a_student', 'student');
COMMIT;
SELECT is(tenancy.set_context(:'org_a', :'a_student', false)::text, 'student',
          'set_context gives the student of A a session context');
SELECT pg_temp.context() AS legit \gset
SELECT is(:'legit'::text, :'org_a' || '/' || :'a_student' || '/student',
          'the getters report the student''s context');

-------------------------------------------------------------------------------
-- SET, SET LOCAL, set_config, RESET in this session (library loaded).
-------------------------------------------------------------------------------
SELECT throws_ok(format('SET tenancy.context = %L', :'forged_other_school'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'SET tenancy.context to another school''s owner is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET tenancy.context');

SELECT throws_ok(format('SET tenancy.context = %L', :'forged_promotion'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'SET tenancy.context to promote oneself to owner is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET tenancy.context (promotion)');

SELECT throws_ok(format('SET SESSION tenancy.context = %L', :'forged_other_school'),
                 '42501', NULL,
                 'SET SESSION tenancy.context is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET SESSION tenancy.context');

SELECT throws_ok(format($$SELECT set_config('tenancy.context', %L, false)$$, :'forged_other_school'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'set_config(''tenancy.context'', …, false) is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after set_config(…, false)');

SELECT throws_ok(format($$SELECT set_config('tenancy.context', %L, true)$$, :'forged_other_school'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'set_config(''tenancy.context'', …, true) is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after set_config(…, true)');

SELECT throws_ok('RESET tenancy.context',
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'RESET tenancy.context is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after RESET tenancy.context');

SELECT throws_ok('SET tenancy.context TO DEFAULT',
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'SET tenancy.context TO DEFAULT is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET tenancy.context TO DEFAULT');

SELECT throws_ok($$SET tenancy.context = ''$$,
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'SET tenancy.context = '''' (clearing by hand) is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET tenancy.context = ''''');

-- Transaction-local variants, inside a transaction with a local context.
BEGIN;
SELECT is(tenancy.set_context(:'org_a', :'a_student')::text, 'student',
          'set_context gives the student of A a transaction context');
SELECT throws_ok(format('SET LOCAL tenancy.context = %L', :'forged_other_school'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'SET LOCAL tenancy.context inside a transaction is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after SET LOCAL tenancy.context');
SELECT throws_ok(format($$SELECT set_config('tenancy.context', %L, true)$$, :'forged_promotion'),
                 '42501', NULL,
                 'set_config(''tenancy.context'', …, true) inside a transaction is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after set_config(…, true) in a transaction');
COMMIT;

-------------------------------------------------------------------------------
-- The reserved prefix: no other tenancy.* name can be invented.
-------------------------------------------------------------------------------
SELECT throws_ok($$SET tenancy.anything = 'x'$$,
                 '42602', 'invalid configuration parameter name "tenancy.anything"',
                 'SET tenancy.anything is refused: "tenancy" is a reserved prefix');
SELECT throws_ok($$SELECT set_config('tenancy.context_override', 'x', false)$$,
                 '42602', NULL,
                 'set_config of an invented tenancy.* name is refused: reserved prefix');
SELECT throws_ok($$SET LOCAL tenancy.org_id = 'x'$$,
                 '42602', NULL,
                 'SET LOCAL of an invented tenancy.* name is refused: reserved prefix');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after the reserved-prefix attempts');

-------------------------------------------------------------------------------
-- Stored settings: ALTER ROLE / ALTER DATABASE … SET, function SET clauses.
-------------------------------------------------------------------------------
SELECT throws_ok(format('ALTER ROLE CURRENT_USER SET tenancy.context = %L', :'forged_other_school'),
                 '42501', 'permission denied to set parameter "tenancy.context"',
                 'ALTER ROLE CURRENT_USER SET tenancy.context is refused');
SELECT throws_ok(format('ALTER ROLE CURRENT_USER IN DATABASE tenancy_test SET tenancy.context = %L',
                        :'forged_other_school'),
                 '42501', NULL,
                 'ALTER ROLE CURRENT_USER IN DATABASE … SET tenancy.context is refused');
SELECT throws_ok(format('ALTER DATABASE tenancy_test SET tenancy.context = %L', :'forged_other_school'),
                 '42501', NULL,
                 'ALTER DATABASE … SET tenancy.context is refused');
SELECT is((SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
            WHERE c.setting LIKE 'tenancy.context=%'),
          0::bigint,
          'no stored tenancy.context setting exists for any role or database');
SELECT throws_ok(format($$CREATE FUNCTION pg_temp.forged() RETURNS uuid LANGUAGE sql
                          SET tenancy.context = %L AS 'SELECT tenancy.current_org_id()'$$,
                        :'forged_other_school'),
                 '42501', NULL,
                 'a function with SET tenancy.context cannot be created');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after the stored-setting attempts');

-------------------------------------------------------------------------------
-- Calling internals: the C entry points cannot be bound under another name.
-------------------------------------------------------------------------------
SELECT throws_ok($$CREATE FUNCTION pg_temp.raw_set(uuid, uuid) RETURNS text LANGUAGE c
                   AS '$libdir/pg_tenancy', 'tenancy_set_context'$$,
                 '42501', NULL,
                 'binding the C function tenancy_set_context under another name is refused');
SELECT throws_ok($$LOAD 'pg_tenancy'$$, '42501', NULL,
                 'LOAD of the library by the application login is refused');

-------------------------------------------------------------------------------
-- Signed contexts (1.15): the keys are not the application's to read or
-- write, and the switch that makes a token the only way in is not its to
-- turn off.
-------------------------------------------------------------------------------
SELECT throws_ok('SELECT secret FROM tenancy.context_signing_keys', '42501', NULL,
                 'the application cannot read the context signing keys');
SELECT throws_ok($$INSERT INTO tenancy.context_signing_keys (key_id, secret)
                   VALUES ('forged', convert_to(repeat('k', 32), 'UTF8'))$$, '42501', NULL,
                 'the application cannot add a context signing key');
SELECT throws_ok('UPDATE tenancy.context_signing_keys SET secret = secret', '42501', NULL,
                 'the application cannot change a context signing key');
SELECT throws_ok('DELETE FROM tenancy.context_signing_keys', '42501', NULL,
                 'the application cannot delete a context signing key');
SELECT throws_ok('TRUNCATE tenancy.context_signing_keys', '42501', NULL,
                 'the application cannot truncate the context signing keys');
SELECT throws_ok($$SELECT * FROM tenancy.jwks_keys('{"kty": "RSA"}')$$, '42501', NULL,
                 'the application cannot call tenancy.jwks_keys (1.16; keys are a superuser''s)');
SELECT throws_ok('SET tenancy.require_signed_context = off', '42501', NULL,
                 'SET tenancy.require_signed_context by the application is refused');
SELECT throws_ok($$SELECT set_config('tenancy.require_signed_context', 'off', true)$$, '42501', NULL,
                 'set_config of tenancy.require_signed_context by the application is refused');
SELECT throws_ok('ALTER ROLE CURRENT_USER SET tenancy.require_signed_context = off', '42501', NULL,
                 'ALTER ROLE … SET tenancy.require_signed_context by the application is refused');

-------------------------------------------------------------------------------
-- Other roles: SET ROLE / SESSION AUTHORIZATION to a superuser are refused;
-- SET ROLE tenancy_app (the group role) is allowed, cannot forge either, and
-- stays isolated.
-------------------------------------------------------------------------------
SELECT throws_ok('SET ROLE postgres', '42501', NULL, 'SET ROLE postgres is refused');
SELECT throws_ok('SET SESSION AUTHORIZATION postgres', '42501', NULL,
                 'SET SESSION AUTHORIZATION postgres is refused');
SELECT is(current_user::text, 'tenancy_test_app', 'still the application login after the refused role changes');

SET ROLE tenancy_app;
SELECT current_user AS role_now,
       pg_temp.sqlstate_of(format('SET tenancy.context = %L', :'forged_other_school')) AS role_set,
       pg_temp.sqlstate_of(format($$SELECT set_config('tenancy.context', %L, false)$$,
                                  :'forged_other_school')) AS role_set_config,
       pg_temp.sqlstate_of('RESET tenancy.context') AS role_reset,
       pg_temp.sqlstate_of('SET ROLE postgres') AS role_to_superuser
\gset
SELECT pg_temp.context() AS role_context,
       (SELECT string_agg(id::text, ',') FROM tenancy.organizations) AS role_orgs
\gset
SELECT pg_temp.sqlstate_of(format('SELECT tenancy.set_context(%L, %L)', :'org_b', :'a_student')) AS role_other_school
\gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner')::text AS role_owner_role \gset
SELECT (SELECT string_agg(id::text, ',') FROM tenancy.organizations) AS role_owner_orgs,
       (SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b') AS role_owner_sees_b
\gset
COMMIT;
RESET ROLE;

SELECT is(:'role_now'::text, 'tenancy_app', 'SET ROLE tenancy_app is allowed for the application login');
SELECT is(:'role_set'::text, '42501', 'as tenancy_app: SET tenancy.context is refused with 42501');
SELECT is(:'role_set_config'::text, '42501', 'as tenancy_app: set_config(''tenancy.context'', …) is refused with 42501');
SELECT is(:'role_reset'::text, '42501', 'as tenancy_app: RESET tenancy.context is refused with 42501');
SELECT is(:'role_to_superuser'::text, '42501', 'as tenancy_app: SET ROLE postgres is refused with 42501');
SELECT is(:'role_context'::text, :'legit', 'as tenancy_app: the context is unchanged after the forging attempts');
SELECT is(:'role_orgs'::text, :'org_a', 'as tenancy_app: only the own organization is visible');
SELECT is(:'role_other_school'::text, '42501',
          'as tenancy_app: set_context into a school the user is not a member of is refused');
SELECT is(:'role_owner_role'::text, 'owner', 'as tenancy_app: set_context for a real membership works');
SELECT is(:'role_owner_orgs'::text, :'org_a', 'as tenancy_app: the owner context shows the own organization only');
SELECT is(:'role_owner_sees_b'::text, '0', 'as tenancy_app: another organization stays invisible by id');
SELECT is(pg_temp.context(), :'legit', 'after RESET ROLE the session context is the student''s again');

-------------------------------------------------------------------------------
-- Second connections (fresh backends, library not yet loaded in them).
-------------------------------------------------------------------------------
-- PGOPTIONS equivalent: the forged context in the startup packet; the first
-- statement reads a tenant table.
SELECT pg_temp.fresh_backend(
    :'conn_app' || format(' options=''-c tenancy.context=%s''', :'forged_other_school'),
    NULL,
    $$SELECT (SELECT count(*) FROM tenancy.organizations) || ' orgs visible, context '
             || coalesce(tenancy.current_org_id()::text, 'NULL') || '/'
             || coalesce(tenancy.current_member_role()::text, 'NULL')$$) AS pgoptions_read
\gset
SELECT is(CASE WHEN :'pgoptions_read' LIKE 'connection refused%' THEN '0 orgs visible, context NULL/NULL'
               ELSE :'pgoptions_read' END,
          '0 orgs visible, context NULL/NULL',
          'a connection with options -c tenancy.context=<forged> is refused or gets no context and sees no organization');

-- The same placeholder, first statement a getter (WARNING expected there).
SELECT pg_temp.fresh_backend(
    :'conn_app' || format(' options=''-c tenancy.context=%s''', :'forged_other_school'),
    NULL,
    $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL')$$) AS pgoptions_getter
\gset
SELECT is(CASE WHEN :'pgoptions_getter' LIKE 'connection refused%' THEN 'NULL' ELSE :'pgoptions_getter' END,
          'NULL',
          'a placeholder from connection options is discarded when the library loads: current_org_id() is NULL');

SELECT pg_temp.fresh_backend(
    :'conn_app' || format(' options=''-c tenancy.context=%s''', :'forged_promotion'),
    NULL,
    $$SELECT coalesce(tenancy.current_member_role()::text, 'NULL') || ', '
             || (SELECT count(*) FROM tenancy.members) || ' members visible'$$) AS pgoptions_promotion
\gset
SELECT is(CASE WHEN :'pgoptions_promotion' LIKE 'connection refused%' THEN 'NULL, 0 members visible'
               ELSE :'pgoptions_promotion' END,
          'NULL, 0 members visible',
          'a forged owner role from connection options is discarded: no role, no member visible');

-- SET and set_config in a fresh backend before the library loads: accepted
-- as a placeholder, then discarded when the library loads.
SELECT is(pg_temp.fresh_backend(
              :'conn_app',
              format('SET tenancy.context = %L', :'forged_other_school'),
              $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL') || ', '
                       || (SELECT count(*) FROM tenancy.organizations) || ' orgs visible'$$),
          'NULL, 0 orgs visible',
          'SET tenancy.context in a fresh backend before the library loads is discarded when it loads');
SELECT is(pg_temp.fresh_backend(
              :'conn_app',
              format($f$DO $do$ BEGIN PERFORM set_config('tenancy.context', %L, false); END $do$$f$,
                     :'forged_other_school'),
              $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL') || ', '
                       || (SELECT count(*) FROM tenancy.organizations) || ' orgs visible'$$),
          'NULL, 0 orgs visible',
          'set_config(''tenancy.context'') in a fresh backend before the library loads is discarded when it loads');

-- ALTER ROLE … SET in a fresh backend, where the name is not yet defined.
SELECT is(pg_temp.fresh_backend(
              :'conn_app',
              format('ALTER ROLE CURRENT_USER SET tenancy.context = %L', :'forged_other_school'),
              'SELECT ''stored'''),
          'error 42501: permission denied to set parameter "tenancy.context"',
          'ALTER ROLE CURRENT_USER SET tenancy.context before the library loads is refused too');
SELECT is((SELECT count(*) FROM pg_db_role_setting s, unnest(s.setconfig) AS c(setting)
            WHERE c.setting LIKE 'tenancy.%' AND s.setrole = 'tenancy_test_app'::regrole),
          0::bigint,
          'the application login has no stored tenancy.* setting');

-- A new connection of the same login starts without a context.
SELECT is(pg_temp.fresh_backend(:'conn_app', NULL,
                                $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL')$$),
          'NULL',
          'a new connection of the application login starts with no context');

-- A cursor declared first thing in a new connection, before any context
-- (the library loads while its query is planned or started, for the
-- policy's getters), holds it, as any other does (1.7): the first
-- set_context is refused while it is open.
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                'BEGIN; DECLARE early CURSOR FOR SELECT id FROM tenancy.organizations; '
                                'MOVE 1 IN early',
                                format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_student')),
          'error 55000: cannot change the tenant context while a query that reads tenant rows is open',
          'a cursor declared first thing in a new connection holds the context');

-- Ending the context under an open query (1.22 library) is a change, refused
-- as set_context refuses one. Until then it was allowed and said to narrow
-- what the query reads on, which it did not: an index condition on
-- organization_id is computed when the scan starts, so a cursor went on
-- returning the organization's rows with no context, and COMMIT, which runs
-- a scrollable WITH HOLD cursor again to store it, failed with "unexpected
-- end of tuple stream" once the cursor had been read.
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                format('BEGIN; SELECT tenancy.set_context(%L, %L); '
                                       'DECLARE plain CURSOR FOR SELECT user_id FROM tenancy.members; '
                                       'FETCH 1 FROM plain; SELECT tenancy.clear_context()',
                                       :'org_a', :'a_student'),
                                'SELECT 1'),
          'error 55000: cannot end the tenant context while a query that reads tenant rows is open',
          'clear_context() under an open cursor is refused');
-- Closed first, it goes through, and the transaction commits.
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                format('BEGIN; SELECT tenancy.set_context(%L, %L); '
                                       'DECLARE held CURSOR WITH HOLD FOR SELECT user_id FROM tenancy.members; '
                                       'FETCH 1 FROM held; CLOSE held; SELECT tenancy.clear_context(); COMMIT',
                                       :'org_a', :'a_student'),
                                'SELECT count(*)::text FROM pg_cursors'),
          '0',
          'clear_context() after the cursor is closed: the transaction commits');
-- A WITH HOLD cursor counts whatever it reads: here a function's rows,
-- which COMMIT would store for whoever uses the connection next.
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                format('CREATE FUNCTION pg_temp.member_ids() RETURNS SETOF uuid '
                                       '    LANGUAGE plpgsql STABLE AS '
                                       '    $f$BEGIN RETURN QUERY SELECT user_id FROM tenancy.members; END$f$; '
                                       'BEGIN; SELECT tenancy.set_context(%L, %L); '
                                       'DECLARE held CURSOR WITH HOLD FOR SELECT * FROM pg_temp.member_ids(); '
                                       'FETCH 1 FROM held; SELECT tenancy.clear_context()',
                                       :'org_a', :'a_student'),
                                'SELECT 1'),
          'error 55000: cannot end the tenant context while a query that reads tenant rows is open',
          'clear_context() under a WITH HOLD cursor over a function is refused (its rows were stored)');
-- RESET ALL cannot be refused: the cursor refuses to read on, and so does
-- the COMMIT that would store a WITH HOLD one (it said "unexpected end of
-- tuple stream", XX000).
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                format('BEGIN; SELECT tenancy.set_context(%L, %L, false); '
                                       'DECLARE plain CURSOR FOR SELECT user_id FROM tenancy.members '
                                       '    ORDER BY organization_id, user_id; '
                                       'FETCH 1 FROM plain; RESET ALL',
                                       :'org_a', :'a_student'),
                                'FETCH 1 FROM plain'),
          'error 55000: the tenant context ended while a query that reads tenant rows was open',
          'a cursor read on after RESET ALL refuses (it returned the organization''s next row)');
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                format('BEGIN; SELECT tenancy.set_context(%L, %L); '
                                       'DECLARE held CURSOR WITH HOLD FOR SELECT user_id FROM tenancy.members; '
                                       'FETCH 1 FROM held; RESET ALL; COMMIT',
                                       :'org_a', :'a_student'),
                                'SELECT 1'),
          'error 55000: the tenant context ended while a query that reads tenant rows was open',
          'RESET ALL under a read WITH HOLD cursor: COMMIT fails with 55000, not XX000');

-- A member deactivated after a REPEATABLE READ transaction took its snapshot
-- gets no context in it: set_context reads the latest committed state, as a
-- foreign key check does (1.7 library).
SELECT dblink_connect('rr_probe', :'conn_app') AS ignored \gset
SELECT dblink_exec('rr_probe', 'BEGIN ISOLATION LEVEL REPEATABLE READ') AS ignored \gset
SELECT v AS ignored FROM dblink('rr_probe', 'SELECT count(*)::text FROM pg_class') AS t(v text) \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ignored \gset
UPDATE tenancy.members SET deactivated_at = now()
WHERE organization_id = :'org_a' AND user_id = :'a_student';
COMMIT;
-- This session's own context is that student's, set for the session: the
-- next transaction reads the membership again and ends it (1.14 library;
-- before, it kept the student's access for as long as the session lasted).
SET client_min_messages = error;
SELECT is(pg_temp.context(), 'NULL/NULL/NULL',
          'a session context ends in the next transaction once its member is deactivated');
RESET client_min_messages;
SELECT is(pg_temp.sqlstate_of(format('SELECT * FROM dblink(%L, %L) AS t(v text)', 'rr_probe',
                                     format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_student'))),
          '42501',
          'under REPEATABLE READ, a member deactivated after the snapshot gets no context');
SELECT dblink_exec('rr_probe', 'ROLLBACK') AS ignored \gset
SELECT dblink_disconnect('rr_probe') AS ignored \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ignored \gset
UPDATE tenancy.members SET deactivated_at = NULL
WHERE organization_id = :'org_a' AND user_id = :'a_student';
COMMIT;
SELECT tenancy.set_context(:'org_a', :'a_student', false) AS ignored \gset

-- The same member again, whose role changed meanwhile, under an open cursor:
-- set_context refuses, as for any other change (1.11 library; before, it let
-- the change through, and the cursor's next FETCH, or the COMMIT of a WITH
-- HOLD cursor, failed instead, losing the transaction's writes).
SELECT dblink_connect('role_probe', :'conn_app') AS ignored \gset
SELECT dblink_exec('role_probe', 'BEGIN') AS ignored \gset
SELECT v AS ignored FROM dblink('role_probe', format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_student'))
    AS t(v text) \gset
SELECT dblink_exec('role_probe', 'DECLARE held CURSOR WITH HOLD FOR SELECT id FROM tenancy.files') AS ignored \gset
SELECT dblink_exec('role_probe', 'MOVE 1 IN held') AS ignored \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ignored \gset
UPDATE tenancy.members SET role = 'teacher' WHERE organization_id = :'org_a' AND user_id = :'a_student';
COMMIT;
SELECT dblink_exec('role_probe', 'SAVEPOINT before_refusal') AS ignored \gset
SELECT is(pg_temp.sqlstate_of(format('SELECT * FROM dblink(%L, %L) AS t(v text)', 'role_probe',
                                     format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_student'))),
          '55000',
          'set_context for the same member, whose role changed, under an open cursor: refused');
SELECT dblink_exec('role_probe', 'ROLLBACK TO SAVEPOINT before_refusal') AS ignored \gset
SELECT is((SELECT v FROM dblink('role_probe', 'SELECT tenancy.current_member_role()::text') AS t(v text)),
          'student', 'the context in effect is still the one the cursor began under');
SELECT is(dblink_exec('role_probe', 'COMMIT'), 'COMMIT', 'the transaction commits, its WITH HOLD cursor stored');
SELECT dblink_disconnect('role_probe') AS ignored \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ignored \gset
UPDATE tenancy.members SET role = 'student' WHERE organization_id = :'org_a' AND user_id = :'a_student';
COMMIT;

-- LOCK TABLE outside a transaction block fails as in PostgreSQL (25P01),
-- before the library's lock guard looks anything up or locks it.
SELECT is(pg_temp.fresh_backend(:'conn_app',
                                'DO $d$ BEGIN PERFORM tenancy.current_org_id(); END $d$',
                                'LOCK TABLE tenancy.members IN SHARE MODE'),
          'error 25P01: LOCK TABLE can only be used in transaction blocks',
          'LOCK TABLE outside a transaction block: 25P01 first, as without the library');

-- A login outside tenancy_app cannot even call set_context.
SELECT is(pg_temp.fresh_backend(:'conn_outsider', NULL,
                                format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_owner')),
          'error 42501: permission denied for schema tenancy',
          'a login outside tenancy_app cannot call set_context');

-------------------------------------------------------------------------------
-- set_context itself: no membership, no context; one answer for all cases.
-------------------------------------------------------------------------------
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'org_b', :'a_student'),
                 '42501',
                 format('user %s is not an active member of organization %s', :'a_student', :'org_b'),
                 'set_context into another school, where the user has no membership, is refused');
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'b_owner'),
                 '42501',
                 format('user %s is not an active member of organization %s', :'b_owner', :'org_a'),
                 'set_context for the owner of another school into this school is refused');
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'stranger_org', :'a_student'),
                 '42501',
                 format('user %s is not an active member of organization %s', :'a_student', :'stranger_org'),
                 'set_context into an unknown organization is refused with the same SQLSTATE and message');
SELECT throws_ok(format('SELECT tenancy.set_context(NULL, %L)', :'a_student'),
                 '22004', NULL,
                 'set_context with a NULL organization is refused');
SELECT is(pg_temp.context(), :'legit', 'context unchanged after the refused set_context calls');

-------------------------------------------------------------------------------
-- Clean up: the owners delete their organizations.
-------------------------------------------------------------------------------
SELECT lives_ok('SELECT tenancy.clear_context()', 'clear_context ends the session context');
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS cleanup_role \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_a'),
                'cleanup: the owner of A deletes A');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS cleanup_role \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_b'),
                'cleanup: the owner of B deletes B');
COMMIT;

SELECT * FROM finish();
