-- tenancy.schedule_rollups() registers the pg_cron job that runs
-- tenancy.run_rollups() (DESIGN.md, "Analytics"): it returns the job id;
-- cron.job then has one job named 'pg_tenancy_rollups' with command
-- 'SELECT * FROM tenancy.run_rollups()'; calling it again replaces the job
-- (still one); pg_cron runs it, successfully, and the run rolls up an event
-- recorded before; cron.unschedule removes it.
--
-- Runs as the superuser postgres in the database pg_cron serves
-- (cron.database_name = tenancy_test in the test cluster). Named zz_ so that
-- it runs last: the job is live for about a minute, then unscheduled. pg_cron
-- 1.4 schedules by the minute, so this file waits up to 75 seconds.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT plan(13);

-- The job as cron.job has it: 'schedule | command | database | user | active'.
CREATE FUNCTION pg_temp.job_row(job_id bigint) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('%s | %s | %s | %s | %s', schedule, command, database, username, active)
    FROM cron.job WHERE jobid = job_id
$$;

-- Waits (up to 75 s) until pg_cron has finished a run of the job that started
-- at or after since, and the organization's event is rolled up (or the run
-- failed). Returns the status of the latest such run ('none' if there was
-- none).
CREATE FUNCTION pg_temp.wait_for_run(job_id bigint, since timestamptz, org uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    latest text;
BEGIN
    FOR i IN 1..75 LOOP
        SELECT status INTO latest FROM cron.job_run_details
        WHERE jobid = job_id AND start_time >= since AND status IN ('succeeded', 'failed')
        ORDER BY start_time DESC, runid DESC LIMIT 1;
        EXIT WHEN latest = 'failed'
               OR latest = 'succeeded'
                  AND EXISTS (SELECT FROM tenancy.event_rollups WHERE organization_id = org);
        PERFORM pg_sleep(1);
    END LOOP;
    RETURN coalesce(latest, 'none');
END
$$;

-------------------------------------------------------------------------------
-- Fixture: an organization with one event, committed before the job exists.
-------------------------------------------------------------------------------
DELETE FROM tenancy.organizations WHERE slug LIKE 'exo-cron-%';
SELECT 'exo-cron-' || left(md5(random()::text || clock_timestamp()::text), 10) AS slug \gset
INSERT INTO tenancy.organizations (slug, name) VALUES (:'slug', 'Cron School') RETURNING id AS org \gset
INSERT INTO tenancy.events (organization_id, user_id, kind, value)
VALUES (:'org', gen_random_uuid(), 'cron', 42);
SELECT ok(NOT EXISTS (SELECT FROM tenancy.event_rollups WHERE organization_id = :'org'),
          'before the job: the event is not rolled up');

-------------------------------------------------------------------------------
-- Scheduling, and scheduling again.
-------------------------------------------------------------------------------
SELECT clock_timestamp() AS scheduled_at \gset
SELECT tenancy.schedule_rollups('0 0 1 1 *') AS first_job \gset
SELECT ok(:first_job > 0, 'schedule_rollups returns a job id');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'pg_tenancy_rollups'), 1::bigint,
          'cron.job has one job named pg_tenancy_rollups');
SELECT is(pg_temp.job_row(:first_job),
          '0 0 1 1 * | SELECT * FROM tenancy.run_rollups() | tenancy_test | postgres | t',
          'the job runs SELECT * FROM tenancy.run_rollups() on the given schedule, in this database');

SELECT tenancy.schedule_rollups() AS job \gset
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'pg_tenancy_rollups'), 1::bigint,
          'calling schedule_rollups again replaces the job: still one');
SELECT is((SELECT jobid FROM cron.job WHERE jobname = 'pg_tenancy_rollups'), :job::bigint,
          'the job id returned is the job''s');
SELECT is(pg_temp.job_row(:job),
          '* * * * * | SELECT * FROM tenancy.run_rollups() | tenancy_test | postgres | t',
          'the replaced job has the new schedule (the default, every minute)');

-------------------------------------------------------------------------------
-- pg_cron runs it.
-------------------------------------------------------------------------------
SELECT pg_temp.wait_for_run(:job, :'scheduled_at', :'org') AS status \gset
SELECT is(:'status'::text, 'succeeded', 'pg_cron ran the job within 75 seconds, and it succeeded');
SELECT is((SELECT return_message FROM cron.job_run_details
           WHERE jobid = :job AND start_time >= :'scheduled_at' AND status = 'succeeded'
           ORDER BY start_time DESC LIMIT 1),
          'SELECT 2', 'the job''s run_rollups() reported both sources');
SELECT is((SELECT sum(events) FROM tenancy.event_rollups WHERE organization_id = :'org'), 1::numeric,
          'the job rolled up the event recorded before it ran');
SELECT ok((SELECT last_run_at FROM tenancy.rollup_state) >= :'scheduled_at',
          'rollup_state records a run since the job was scheduled');

-------------------------------------------------------------------------------
-- Unscheduling; clean up.
-------------------------------------------------------------------------------
SELECT ok(cron.unschedule('pg_tenancy_rollups'), 'cron.unschedule removes the job');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname = 'pg_tenancy_rollups'), 0::bigint,
          'no pg_tenancy_rollups job is left');
DELETE FROM tenancy.organizations WHERE id = :'org';

SELECT * FROM finish();
