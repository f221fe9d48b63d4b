-- Helpers of the rollup tests (\ir from test/pgtap_superuser/rollups_*.sql).

-- What an organization's raw rows say, in the form the tests' rollup totals
-- take (views: the `view` rows, 1.24; their bytes are not counted).
CREATE FUNCTION pg_temp.raw(org uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('events=%s files=%s bytes=%s views=%s',
        (SELECT count(*) FROM tenancy.events WHERE organization_id = org),
        (SELECT count(*) FROM tenancy.file_access_log
         WHERE organization_id = org AND action IN ('upload', 'download')),
        (SELECT coalesce(sum(bytes), 0) FROM tenancy.file_access_log
         WHERE organization_id = org AND action IN ('upload', 'download')),
        (SELECT count(*) FROM tenancy.file_access_log
         WHERE organization_id = org AND action = 'view'))
$$;
-- A run that has to happen (waits for the previous one): 'ok', or the
-- error instead of raising it (a lock it waited for: 55P03 after
-- lock_timeout).
CREATE FUNCTION pg_temp.try_run() RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM tenancy.run_rollups(wait => true);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
-- Waits (up to 30 s) until a backend is blocked on a lock.
CREATE FUNCTION pg_temp.blocked_on_lock(backend int) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        IF EXISTS (SELECT FROM pg_stat_activity
                   WHERE pid = backend AND wait_event_type = 'Lock') THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
    RETURN false;
END
$$;
