-- On a hot standby, as the superuser: the DBA's writing functions refuse with
-- 25006 and a message that names them (plain TAP: pgTAP cannot run on a
-- standby, and nothing can be created here; see reads_on_standby.sql).
\set ON_ERROR_STOP 1
\echo 1..5
SELECT CASE WHEN pg_is_in_recovery() THEN 'ok' ELSE 'not ok' END
       || ' - this test runs on a hot standby';
-- Each call's outcome, "SQLSTATE message", kept in a setting of its own.
DO $$
DECLARE
    call text;
    outcome text;
BEGIN
    FOREACH call IN ARRAY ARRAY['run_rollups', 'rebuild_rollups', 'maintain_file_access_log', 'drop_future_log_months'] LOOP
        BEGIN
            EXECUTE format('SELECT FROM tenancy.%I()', call);
            outcome := '00000';
        EXCEPTION WHEN OTHERS THEN
            outcome := SQLSTATE || ' ' || SQLERRM;
        END;
        PERFORM set_config('tenancy_test.' || call, outcome, false);
    END LOOP;
END
$$;
SELECT CASE WHEN o.outcome LIKE '25006 tenancy.' || c.call || '() cannot run %' THEN 'ok' ELSE 'not ok' END
       || format(' - %s() refuses on a standby with 25006', c.call)
       || CASE WHEN o.outcome LIKE '25006 tenancy.' || c.call || '() cannot run %' THEN ''
               ELSE chr(10) || '# have: ' || o.outcome END
FROM unnest(ARRAY['run_rollups', 'rebuild_rollups', 'maintain_file_access_log', 'drop_future_log_months'])
         WITH ORDINALITY AS c(call, n),
     LATERAL (SELECT current_setting('tenancy_test.' || c.call) AS outcome) o
ORDER BY c.n;
