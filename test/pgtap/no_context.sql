-- Without a tenant context (DESIGN.md: "NULL when no context is set"; every
-- policy is false then):
--   tenant tables show no rows and accept no writes;
--   errors do not reveal which organizations exist (same SQLSTATE 42501 and
--   the same message shape for an existing organization the user is not in
--   and for a random uuid);
--   strict mode (tenancy.require_context, superuser-only) turns the silent
--   "no rows" into an error: the application login cannot switch it on or off
--   itself; tenancy_test_app2 has it on (ALTER ROLE … SET, by the superuser in
--   test/setup_test_database.sql) and is exercised through dblink.
--
-- No wrapping transaction: the dblink sessions must see the fixtures, so they
-- are committed under unique slugs and deleted by their owners at the end.
SELECT plan(55);

\ir lib/rows_affected.sql

-- What an error tells the caller, with every uuid masked: SQLSTATE, message,
-- detail and hint. Two errors with the same shape reveal nothing more than
-- the uuids the caller already supplied. 'no error' when the command succeeds.
CREATE FUNCTION pg_temp.error_shape(command text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
    uuid_pattern constant text := '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
BEGIN
    EXECUTE command;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || regexp_replace(message, uuid_pattern, '<uuid>', 'gi')
        || ' | detail: ' || coalesce(regexp_replace(detail, uuid_pattern, '<uuid>', 'gi'), '')
        || ' | hint: ' || coalesce(regexp_replace(hint, uuid_pattern, '<uuid>', 'gi'), '');
END
$$;

-- Runs statements in a fresh session (dblink) and returns one text per
-- statement: the single value of a SELECT, the command status otherwise,
-- 'error <SQLSTATE>: <message>' for a failed one (the session goes on).
-- 'connection refused: …' as the only element when the server refuses it.
CREATE FUNCTION pg_temp.session_of(connstr text, statements text[]) RETURNS text[]
    LANGUAGE plpgsql AS $$
DECLARE
    statement text;
    value text;
    results text[] := '{}';
BEGIN
    BEGIN
        PERFORM dblink_connect('no_context_session', connstr);
    EXCEPTION WHEN OTHERS THEN
        RETURN ARRAY['connection refused: ' || SQLERRM];
    END;
    FOREACH statement IN ARRAY statements LOOP
        BEGIN
            IF statement ~* '^\s*SELECT' THEN
                SELECT v INTO value FROM dblink('no_context_session', statement) AS t(v text);
            ELSE
                value := dblink_exec('no_context_session', statement);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            value := 'error ' || SQLSTATE || ': ' || SQLERRM;
        END;
        results := results || value;
    END LOOP;
    PERFORM dblink_disconnect('no_context_session');
    RETURN results;
END
$$;

-------------------------------------------------------------------------------
-- Fixtures: A (owner, student: 2 members), B (owner).
-------------------------------------------------------------------------------
SELECT 'nocontext-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_student,
       gen_random_uuid() AS b_owner, gen_random_uuid() AS random_org,
       gen_random_uuid() AS random_user
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'No Context School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'No Context School B', :'b_owner') AS org_b \gset
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (:'org_a', :'a_student', 'student');
COMMIT;
SELECT 'host=127.0.0.1 port=' || :'tcp_port' || ' dbname=tenancy_test password=tenancy-test' AS conn_base \gset
SELECT :'conn_base' || ' user=tenancy_test_app2' AS conn_strict,
       :'conn_base' || ' user=tenancy_test_app' AS conn_app
\gset

-------------------------------------------------------------------------------
-- No context: no rows.
-------------------------------------------------------------------------------
SELECT ok(tenancy.current_org_id() IS NULL AND tenancy.current_user_id() IS NULL
          AND tenancy.current_member_role() IS NULL,
          'without a context every getter returns NULL');
SELECT is((SELECT count(*) FROM tenancy.organizations), 0::bigint,
          'without a context tenancy.organizations shows no row');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_a'), 0::bigint,
          'without a context an existing organization is invisible even by id');
SELECT is((SELECT count(*) FROM tenancy.members), 0::bigint,
          'without a context tenancy.members shows no row');
SELECT is((SELECT count(*) FROM tenancy.members WHERE organization_id = :'org_a'), 0::bigint,
          'without a context the members of an existing organization are invisible even by id');

-------------------------------------------------------------------------------
-- No context: no writes.
-------------------------------------------------------------------------------
SELECT throws_ok(
    format($$INSERT INTO tenancy.organizations (slug, name) VALUES (%L, 'Sneaky')$$, :'run' || '-c'),
    '42501', NULL,
    'without a context INSERT into organizations is refused');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'owner')$$,
           :'org_a', :'random_user'),
    '42501', NULL,
    'without a context INSERT of a member into an existing organization is refused');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'owner')$$,
           :'random_org', :'random_user'),
    '42501', NULL,
    'without a context INSERT of a member into an unknown organization is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed without context' WHERE id = %L$$, :'org_a')),
          0::bigint,
          'without a context UPDATE of an organization affects no row');
SELECT is(pg_temp.rows_affected(
              $$UPDATE tenancy.organizations SET name = 'Renamed without context'$$),
          0::bigint,
          'without a context an unqualified UPDATE of organizations affects no row');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'owner' WHERE organization_id = %L$$, :'org_a')),
          0::bigint,
          'without a context UPDATE of members affects no row');
SELECT is(pg_temp.rows_affected('DELETE FROM tenancy.members'), 0::bigint,
          'without a context an unqualified DELETE of members affects no row');
SELECT is(pg_temp.rows_affected('DELETE FROM tenancy.organizations'), 0::bigint,
          'without a context an unqualified DELETE of organizations affects no row');
SELECT throws_ok(format('SELECT tenancy.delete_organization(%L)', :'org_a'),
                 '42501', NULL,
                 'without a context delete_organization of an existing organization is refused');

-- Everything is still there, as the owner sees it.
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT results_eq('SELECT slug, name FROM tenancy.organizations',
                  format('VALUES (%L::text, %L::text)', :'run' || '-a', 'No Context School A'),
                  'the organization is unchanged after the context-less writes');
SELECT set_eq('SELECT user_id, role::text FROM tenancy.members',
              format($$VALUES (%L::uuid, 'owner'), (%L::uuid, 'student')$$, :'a_owner', :'a_student'),
              'the members are unchanged after the context-less writes');
COMMIT;
SELECT is((SELECT count(*) FROM tenancy.members), 0::bigint,
          'after the owner''s transaction ends, members are invisible again');

-------------------------------------------------------------------------------
-- Errors do not reveal which organizations exist.
-------------------------------------------------------------------------------
SELECT pg_temp.error_shape(format('SELECT tenancy.set_context(%L, %L)', :'org_b', :'a_student')) AS shape_existing,
       pg_temp.error_shape(format('SELECT tenancy.set_context(%L, %L)', :'random_org', :'a_student')) AS shape_random
\gset
SELECT is(left(:'shape_existing', 5), '42501',
          'set_context into an existing organization the user is not in fails with 42501');
SELECT is(:'shape_existing'::text, :'shape_random'::text,
          'set_context: an existing organization the user is not in and a random uuid give the same SQLSTATE, message, detail and hint');

SELECT pg_temp.error_shape(format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'random_user')) AS shape_existing,
       pg_temp.error_shape(format('SELECT tenancy.set_context(%L, %L)', :'random_org', :'random_user')) AS shape_random
\gset
SELECT is(left(:'shape_existing', 5), '42501',
          'set_context for an unknown user into an existing organization fails with 42501');
SELECT is(:'shape_existing'::text, :'shape_random'::text,
          'set_context with an unknown user: an existing and a random organization give the same error');

SELECT pg_temp.error_shape(format('SELECT tenancy.delete_organization(%L)', :'org_b')) AS shape_existing,
       pg_temp.error_shape(format('SELECT tenancy.delete_organization(%L)', :'random_org')) AS shape_random
\gset
SELECT is(left(:'shape_existing', 5), '42501',
          'delete_organization of an existing organization without a context fails with 42501');
SELECT is(:'shape_existing'::text, :'shape_random'::text,
          'delete_organization without a context: an existing and a random organization give the same error');

SELECT pg_temp.error_shape(format(
           $$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_b', :'random_user')) AS shape_existing,
       pg_temp.error_shape(format(
           $$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'random_org', :'random_user')) AS shape_random
\gset
SELECT is(left(:'shape_existing', 5), '42501',
          'INSERT of a member into an existing organization without a context fails with 42501');
SELECT is(:'shape_existing'::text, :'shape_random'::text,
          'INSERT of a member without a context: an existing and a random organization give the same error');

-- With a context in A, as its owner: B and a random uuid still look alike.
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT pg_temp.error_shape(format('SELECT tenancy.delete_organization(%L)', :'org_b')) AS shape_existing,
       pg_temp.error_shape(format('SELECT tenancy.delete_organization(%L)', :'random_org')) AS shape_random,
       pg_temp.error_shape(format(
           $$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_b', :'random_user')) AS insert_existing,
       pg_temp.error_shape(format(
           $$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'random_org', :'random_user')) AS insert_random
\gset
COMMIT;
SELECT is(left(:'shape_existing', 5), '42501',
          'an owner''s delete_organization of another existing organization fails with 42501');
SELECT is(:'shape_existing'::text, :'shape_random'::text,
          'an owner''s delete_organization: another existing organization and a random uuid give the same error');
SELECT is(left(:'insert_existing', 5), '42501',
          'an owner''s INSERT of a member into another existing organization fails with 42501');
SELECT is(:'insert_existing'::text, :'insert_random'::text,
          'an owner''s INSERT of a member: another existing organization and a random uuid give the same error');

-------------------------------------------------------------------------------
-- Strict mode is the superuser's to set.
-------------------------------------------------------------------------------
SELECT is(current_setting('tenancy.require_context'), 'off',
          'strict mode is off for the application login tenancy_test_app');
SELECT throws_ok('SET tenancy.require_context = on', '42501',
                 'permission denied to set parameter "tenancy.require_context"',
                 'the application login cannot SET tenancy.require_context');
SELECT throws_ok($$SELECT set_config('tenancy.require_context', 'on', false)$$, '42501', NULL,
                 'the application login cannot set_config tenancy.require_context');
SELECT throws_ok('ALTER ROLE CURRENT_USER SET tenancy.require_context = on', '42501', NULL,
                 'the application login cannot store tenancy.require_context for itself');
SELECT is(current_setting('tenancy.require_context'), 'off',
          'strict mode is still off for tenancy_test_app after the refused attempts');

-------------------------------------------------------------------------------
-- Strict mode on (tenancy_test_app2, fresh sessions through dblink).
-------------------------------------------------------------------------------
SELECT pg_temp.session_of(:'conn_strict', ARRAY[
    'SELECT count(*)::text FROM tenancy.members',
    'SELECT count(*)::text FROM tenancy.organizations',
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_a', :'random_user'),
    format('DELETE FROM tenancy.members WHERE organization_id = %L', :'org_a'),
    'SELECT current_setting(''tenancy.require_context'')',
    $$SELECT coalesce(tenancy.current_org_id()::text, 'NULL')$$,
    'BEGIN',
    format('SELECT tenancy.set_context(%L, %L)::text', :'org_a', :'a_owner'),
    'SELECT count(*)::text FROM tenancy.members',
    'SELECT string_agg(slug, '','') FROM tenancy.organizations',
    'COMMIT',
    'SELECT count(*)::text FROM tenancy.members']) AS strict
\gset
-- psql gives the array as its text form; take it apart again.
SELECT :'strict'::text[] AS strict_array \gset
SELECT is(array_length(:'strict_array'::text[], 1), 12,
          'strict mode: the dblink session as tenancy_test_app2 ran all statements');
SELECT matches((:'strict_array'::text[])[1], '^error 42501: no tenant context',
               'strict mode: reading tenancy.members without a context (first statement of the session) raises 42501 "no tenant context"');
SELECT matches((:'strict_array'::text[])[2], '^error 42501: no tenant context',
               'strict mode: reading tenancy.organizations without a context raises 42501 "no tenant context"');
SELECT matches((:'strict_array'::text[])[3], '^error 42501: no tenant context',
               'strict mode: INSERT into tenancy.members without a context raises 42501 "no tenant context"');
SELECT matches((:'strict_array'::text[])[4], '^error 42501: no tenant context',
               'strict mode: DELETE from tenancy.members without a context raises 42501 "no tenant context"');
SELECT is((:'strict_array'::text[])[5], 'on',
          'strict mode: tenancy.require_context reads on in the tenancy_test_app2 session');
SELECT is((:'strict_array'::text[])[6], 'NULL',
          'strict mode: the getters are no tenant table and return NULL without a context');
SELECT is((:'strict_array'::text[])[8], 'owner',
          'strict mode: set_context works without a prior context');
SELECT is((:'strict_array'::text[])[9], '2',
          'strict mode: with a context, reading tenancy.members works (2 members of A)');
SELECT is((:'strict_array'::text[])[10], :'run' || '-a',
          'strict mode: with a context, tenancy.organizations shows the own organization only');
SELECT matches((:'strict_array'::text[])[12], '^error 42501: no tenant context',
               'strict mode: once the transaction with the context has committed, reads fail again');

SELECT is(pg_temp.session_of(:'conn_strict', ARRAY[
              'SELECT current_setting(''tenancy.require_context'')']),
          ARRAY['on'],
          'strict mode: tenancy_test_app2 has tenancy.require_context = on (ALTER ROLE by the superuser)');

-- A table the application may not read at all gives PostgreSQL's own error,
-- not one whose hint says a context would help (before the 1.17 library:
-- "no tenant context is set").
SELECT is(pg_temp.session_of(:'conn_strict', ARRAY[
              'SELECT count(*)::text FROM tenancy.context_signing_keys',
              'SELECT count(*)::text FROM tenancy.rollup_state']),
          ARRAY['error 42501: permission denied for table context_signing_keys',
                'error 42501: permission denied for table rollup_state'],
          'strict mode: a table the login has no privilege on says permission denied, not "no tenant context"');
-- An INSERT into members names columns the login has privileges on (column
-- grants): still "no tenant context" (once the library is loaded: this
-- database does not preload it).
SELECT matches(pg_temp.session_of(:'conn_strict', ARRAY[
                   'SELECT tenancy.current_org_id()::text',
                   format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
                          :'org_a', :'random_user')])::text,
               'no tenant context is set for access to \\"members\\"',
               'strict mode: an INSERT the column privileges allow still says no tenant context');

-- The application login cannot switch strict mode off for itself.
SELECT is(pg_temp.session_of(:'conn_strict', ARRAY[
              'SET tenancy.require_context = off',
              'SELECT count(*)::text FROM tenancy.members']),
          ARRAY['SET', 'error 42501: no tenant context is set for access to "members"'],
          'strict mode: SET tenancy.require_context = off before the library loads is discarded; reads still fail');
SELECT is(pg_temp.session_of(:'conn_strict', ARRAY[
              'SELECT tenancy.current_org_id()::text',
              'SET tenancy.require_context = off']),
          ARRAY[NULL, 'error 42501: permission denied to set parameter "tenancy.require_context"'],
          'strict mode: SET tenancy.require_context = off after the library loaded is refused');
SELECT pg_temp.session_of(:'conn_strict' || ' options=''-c tenancy.require_context=off''', ARRAY[
           'SELECT count(*)::text FROM tenancy.members',
           'SELECT current_setting(''tenancy.require_context'')']) AS strict_options
\gset
SELECT is(CASE WHEN (:'strict_options'::text[])[1] LIKE 'connection refused%'
                 OR (:'strict_options'::text[])[1] LIKE 'error 42501: no tenant context%'
               THEN 'refused, or the read fails' ELSE (:'strict_options'::text[])[1] END,
          'refused, or the read fails',
          'strict mode: connection options -c tenancy.require_context=off cannot switch it off (the read without a context must still fail)');
SELECT is(CASE WHEN (:'strict_options'::text[])[1] LIKE 'connection refused%' THEN 'on'
               ELSE (:'strict_options'::text[])[2] END,
          'on',
          'strict mode: connection options -c tenancy.require_context=off leave the superuser''s setting on');

-- Nor can a login without strict mode switch it on from connection options
-- (it stays the superuser's decision; here that just means: still off).
SELECT is(pg_temp.session_of(:'conn_app' || ' options=''-c tenancy.require_context=on''', ARRAY[
              'SELECT count(*)::text FROM tenancy.members',
              'SELECT current_setting(''tenancy.require_context'')']),
          ARRAY['0', 'off'],
          'connection options -c tenancy.require_context=on from the application login are discarded');

-------------------------------------------------------------------------------
-- Clean up.
-------------------------------------------------------------------------------
BEGIN;
SELECT tenancy.set_context(:'org_a', :'a_owner') AS r \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_a'), 'cleanup: the owner of A deletes A');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS r \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_b'), 'cleanup: the owner of B deletes B');
COMMIT;

SELECT * FROM finish();
