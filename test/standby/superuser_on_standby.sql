-- On a hot standby, as the superuser: run_rollups(), rebuild_rollups() and
-- maintain_file_access_log() refuse with a clear message (plain TAP: pgTAP cannot run on a standby; see
-- reads_on_standby.sql).
\set ON_ERROR_STOP 1
\echo 1..4
SELECT CASE WHEN pg_is_in_recovery() THEN 'ok' ELSE 'not ok' END
       || ' - this test runs on a hot standby';
DO $$
DECLARE
    state text;
    message text;
BEGIN
    BEGIN
        PERFORM * FROM tenancy.run_rollups();
        state := '00000';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
        message := SQLERRM;
    END;
    PERFORM set_config('tenancy_test.outcome', state || ' ' || coalesce(message, ''), false);
END
$$;
SELECT CASE WHEN current_setting('tenancy_test.outcome')
                 = '25006 tenancy.run_rollups() cannot run on a standby'
            THEN 'ok' ELSE 'not ok' END
       || ' - run_rollups() refuses on a standby with 25006'
       || CASE WHEN current_setting('tenancy_test.outcome')
                    <> '25006 tenancy.run_rollups() cannot run on a standby'
               THEN chr(10) || '# have: ' || current_setting('tenancy_test.outcome') ELSE '' END;
DO $$
DECLARE
    state text;
BEGIN
    BEGIN
        PERFORM * FROM tenancy.rebuild_rollups();
        state := '00000';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    PERFORM set_config('tenancy_test.outcome', state, false);
END
$$;
SELECT CASE WHEN current_setting('tenancy_test.outcome') = '25006' THEN 'ok' ELSE 'not ok' END
       || ' - rebuild_rollups() refuses on a standby with 25006';
DO $$
DECLARE
    state text;
    message text;
BEGIN
    BEGIN
        PERFORM tenancy.maintain_file_access_log();
        state := '00000';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
        message := SQLERRM;
    END;
    PERFORM set_config('tenancy_test.outcome', state || ' ' || coalesce(message, ''), false);
END
$$;
SELECT CASE WHEN current_setting('tenancy_test.outcome') LIKE '25006 %maintain_file_access_log%'
            THEN 'ok' ELSE 'not ok' END
       || ' - maintain_file_access_log() refuses on a standby with 25006'
       || CASE WHEN current_setting('tenancy_test.outcome') NOT LIKE '25006 %maintain_file_access_log%'
               THEN chr(10) || '# have: ' || current_setting('tenancy_test.outcome') ELSE '' END;
