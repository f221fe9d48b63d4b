-------------------------------------------------------------------------------
-- A rollup state taken in another cluster (a restore from a dump of it).
--
-- run_rollups() and rebuild_rollups() refuse it (1.10); the purges did not,
-- and took the rows its snapshot shows as counted, counted in that cluster,
-- for counted here: restored into a running cluster, rows written there
-- with ids below the state's were purged without ever being counted. Both
-- purges now refuse it the same way, through the library's one check. And
-- check()'s finding 19 said to adopt the state "only if pg_upgrade made this
-- cluster", where the runs' hint (1.18) also adopts it after a restore into
-- a new cluster whose ids were put past the source's (README, Dump and
-- restore): it now gives what the hint gives, the least epoch included,
-- which both now take from the raw rows written after the state's last run
-- too (the source's epoch may have moved on since).
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.foreign_rollup_state(OUT ids_continue boolean, OUT least_epoch bigint)
    RETURNS SETOF record
    LANGUAGE C STABLE
    AS 'MODULE_PATHNAME', 'tenancy_foreign_rollup_state';
COMMENT ON FUNCTION tenancy.foreign_rollup_state() IS
    'A row when the rollup state was taken in another cluster: whether this cluster''s transaction ids continue the state''s and the raw rows'' (the state can be adopted), and the least xid epoch of a new cluster to restore it into. Reads with the caller''s rights.';
GRANT EXECUTE ON FUNCTION tenancy.foreign_rollup_state() TO PUBLIC;

CREATE FUNCTION tenancy.refuse_foreign_rollup_state() RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_refuse_foreign_rollup_state';
COMMENT ON FUNCTION tenancy.refuse_foreign_rollup_state() IS
    'Internal: raises the 55000 run_rollups() gives for a rollup state taken in another cluster.';
REVOKE ALL ON FUNCTION tenancy.refuse_foreign_rollup_state() FROM PUBLIC;

SELECT tenancy.replace_in_function('tenancy.purge_events()',
    $old$    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
$old$,
    $new$    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
    PERFORM tenancy.refuse_foreign_rollup_state();
$new$);

CREATE OR REPLACE FUNCTION tenancy.check_rollup_state()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF NOT (has_table_privilege('tenancy.rollup_state', 'SELECT')
            AND NOT row_security_active('tenancy.rollup_state')
            AND has_function_privilege('pg_control_system()', 'EXECUTE')) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'error'::text, 'tenancy.rollup_state'::text,
           'the rollup state was taken in another cluster: tenancy.run_rollups() and the purges refuse it (55000), and with them the scheduled job, which also keeps the log''s months ahead'::text,
           CASE WHEN f.ids_continue
                THEN 'UPDATE tenancy.rollup_state SET cluster_id = NULL; -- if pg_upgrade made this cluster from that one, or the dump was restored into a new cluster whose transaction ids were put past the source''s before its first start (its ids continue the state''s and the raw rows'', as they do here): see README, Dump and restore'
                ELSE format('-- a dump of another cluster: restore it into a new cluster whose transaction ids are past the source''s, set before its first start with pg_resetwal -e N, N one more than the source''s epoch (at least %s), then adopt the state: see README, Dump and restore',
                            f.least_epoch) END
    FROM tenancy.foreign_rollup_state() f;
END
$$;
