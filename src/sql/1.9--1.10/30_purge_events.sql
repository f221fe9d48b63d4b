-------------------------------------------------------------------------------
-- purge_events() refuses a caller whom tenancy.rollup_state's row level
-- security applies to (it has no policy: only superusers see the row), as
-- the 1.10 library's runs, rebuilds, log purges and maintenance do. Such a
-- caller (a member of the owner's role, say) saw no state, deleted nothing
-- and returned 0, so a retention job run so looked healthy and purged
-- nothing. Patched in the catalog's body (1.8's).
-------------------------------------------------------------------------------
DO $$
DECLARE
    body text := (SELECT prosrc FROM pg_catalog.pg_proc
                  WHERE oid = 'tenancy.purge_events()'::pg_catalog.regprocedure);
    first_step constant text := $old$BEGIN
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
$old$;
BEGIN
    IF position(first_step IN body) = 0 THEN
        RAISE EXCEPTION 'tenancy.purge_events() is not the body 1.9 installed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it with the 1.9 scripts before upgrading.';
    END IF;
    body := replace(body, first_step, $new$BEGIN
    IF row_security_active('tenancy.rollup_state') THEN
        RAISE EXCEPTION 'permission denied for function tenancy.purge_events'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'It reads and writes tenancy.rollup_state, which only superusers see (row level security with no policy).',
                  HINT = 'Run it as a superuser, as pg_cron''s job does.';
    END IF;
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
$new$);
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION tenancy.purge_events() RETURNS bigint'
        '    LANGUAGE plpgsql VOLATILE'
        '    SET search_path = pg_catalog, pg_temp'
        '    AS %L', body);
END
$$;
