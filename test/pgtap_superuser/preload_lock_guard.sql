-- The module's guard on LOCK TABLE holds from a session's first statement
-- only where the session loads pg_tenancy when it starts
-- (session_preload_libraries, as the README's Install asks):
--   - a fresh session of an application login with the setting cannot take,
--     as its very first statement, an ACCESS EXCLUSIVE lock of members;
--   - a fresh session of one without it can, until it first calls a
--     pg_tenancy function (the gap the README describes);
--   - check() reports the second login (finding 21, schema 1.13), not the
--     first.
-- (The suite's own logins, tenancy_test_app and tenancy_test_app2, do not
-- preload it on purpose: the pgTAP files check what a session does before
-- the library loads.) Runs as the superuser postgres; its two logins are
-- dropped at the end.
SET client_min_messages = warning;
SELECT plan(6);

CREATE ROLE tenancy_test_preloaded LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;
ALTER ROLE tenancy_test_preloaded SET session_preload_libraries = 'pg_tenancy';
CREATE ROLE tenancy_test_not_preloaded LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;

-- Opens a fresh session of a login (TCP, password) and tries the lock as its
-- first statement: 'locked', or 'error <SQLSTATE>'.
CREATE FUNCTION pg_temp.lock_first(login text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    PERFORM dblink_connect('preload_probe',
                           format('host=127.0.0.1 port=%s dbname=%s user=%s password=tenancy-test',
                                  current_setting('port'), current_database(), login));
    BEGIN
        PERFORM dblink_exec('preload_probe', 'BEGIN; LOCK TABLE tenancy.members IN ACCESS EXCLUSIVE MODE; ROLLBACK');
        result := 'locked';
    EXCEPTION WHEN OTHERS THEN
        result := 'error ' || SQLSTATE;
    END;
    PERFORM dblink_disconnect('preload_probe');
    RETURN result;
END
$$;

SELECT is(pg_temp.lock_first('tenancy_test_preloaded'), 'error 42501',
          'preloaded: a session''s first statement cannot lock members ACCESS EXCLUSIVE');
SELECT is(pg_temp.lock_first('tenancy_test_not_preloaded'), 'locked',
          'not preloaded: a session''s first statement can (the gap the README describes)');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object = 'role tenancy_test_preloaded'), 0::bigint,
          'check(): nothing about the preloaded login');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = 'role tenancy_test_not_preloaded'),
          format('ALTER ROLE tenancy_test_not_preloaded IN DATABASE %I SET session_preload_libraries = ''pg_tenancy'';',
                 current_database()),
          'check(): the other login is reported, with the setting as the fix');
-- The fix closes the gap for the next session.
ALTER ROLE tenancy_test_not_preloaded SET session_preload_libraries = 'pg_tenancy';
SELECT is(pg_temp.lock_first('tenancy_test_not_preloaded'), 'error 42501',
          'once set, a new session of it cannot take the lock either');

-- The DBA's tenancy.* settings in the configuration files (here ALTER
-- SYSTEM's postgresql.auto.conf) hold against a client's -c in a session
-- that loads the library when it starts (1.22 library; before, PostgreSQL
-- refused the client's value and the setting fell back to its default).
CREATE FUNCTION pg_temp.settings_with_options(login text, options text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    PERFORM dblink_connect('preload_probe',
                           format('host=127.0.0.1 port=%s dbname=%s user=%s password=tenancy-test options=%L',
                                  current_setting('port'), current_database(), login, options));
    SELECT value INTO result FROM dblink('preload_probe',
        $q$SELECT current_setting('tenancy.require_context') || ' '
                  || current_setting('tenancy.allow_session_context')$q$) AS t(value text);
    PERFORM dblink_disconnect('preload_probe');
    RETURN result;
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
ALTER SYSTEM SET tenancy.require_context = on;
ALTER SYSTEM SET tenancy.allow_session_context = off;
SELECT pg_reload_conf() AS ignored \gset
SELECT is(pg_temp.settings_with_options('tenancy_test_preloaded',
                                        '-c tenancy.require_context=off -c tenancy.allow_session_context=on'),
          'on off',
          'ALTER SYSTEM''s require_context and allow_session_context hold against a client''s -c');
ALTER SYSTEM RESET tenancy.require_context;
ALTER SYSTEM RESET tenancy.allow_session_context;
SELECT pg_reload_conf() AS ignored \gset

DROP ROLE tenancy_test_preloaded;
DROP ROLE tenancy_test_not_preloaded;
SELECT * FROM finish();
