-------------------------------------------------------------------------------
-- check() finding 29 (operations review of 1.24, F4): the rollups have not
-- run for more than an hour. The scheduled job (pg_cron's, every minute)
-- counts the analytics and keeps the log's months ahead of the clock; when
-- it stops (pg_cron gone, the job unscheduled or failing, a statement_timeout
-- that cancels every run), the dashboards stop at that hour and nothing said
-- so until a month had no partition, up to two months later.
--
-- Every run stamps rollup_state.last_run_at, once it has a state row. Without
-- one (no run has written a bucket), events or log rows older than an hour
-- mean that no run has come. Seen by a superuser only, as the state is.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_rollups_running()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    last_run timestamptz;
    has_state boolean;
BEGIN
    IF NOT (has_table_privilege('tenancy.rollup_state', 'SELECT')
            AND NOT row_security_active('tenancy.rollup_state')
            AND has_table_privilege('tenancy.events', 'SELECT')
            AND NOT row_security_active('tenancy.events')
            AND has_table_privilege('tenancy.file_access_log', 'SELECT')
            AND NOT row_security_active('tenancy.file_access_log')) THEN
        RETURN;
    END IF;
    SELECT s.last_run_at INTO last_run FROM tenancy.rollup_state s;
    has_state := FOUND;
    IF has_state AND last_run >= now() - interval '1 hour' THEN
        RETURN;
    END IF;
    IF NOT has_state AND NOT (
           EXISTS (SELECT FROM tenancy.events e WHERE e.at < now() - interval '1 hour')
           OR EXISTS (SELECT FROM tenancy.file_access_log l WHERE l.at < now() - interval '1 hour')) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning'::text, 'tenancy.run_rollups()'::text,
           CASE WHEN last_run IS NOT NULL
                THEN format('no rollup run has come since %s (%s ago): the analytics views stop at that hour, and the file access log''s months are no longer made ahead of the clock',
                            date_trunc('second', last_run), date_trunc('second', now() - last_run))
                ELSE 'events or file access log rows written more than an hour ago have never been rolled up: no rollup run has come (none is scheduled, or its runs fail), and the file access log''s months are not made ahead of the clock'
           END,
           'SELECT tenancy.run_rollups(); -- then see that a job runs it every minute: SELECT tenancy.schedule_rollups(); in pg_cron''s database (README, Install), and cron.job_run_details for its failures';
END
$$;
COMMENT ON FUNCTION tenancy.check_rollups_running() IS
    'Finding (29) of tenancy.check(): no rollup run for more than an hour (the scheduled job stopped or fails).';
GRANT EXECUTE ON FUNCTION tenancy.check_rollups_running() TO PUBLIC;

SELECT tenancy.replace_in_function('tenancy.check()',
    $old$    FROM tenancy.check_keys_to_files() check_keys_to_files(severity, object, finding, fix);
END$old$,
    $new$    FROM tenancy.check_keys_to_files() check_keys_to_files(severity, object, finding, fix)
 UNION ALL
  SELECT * FROM tenancy.check_rollups_running();
END$new$);
