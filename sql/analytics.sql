-- Events, rollups and the dashboards' views.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000e1', 'stats-north', 'Stats North'),
    ('00000000-0000-4000-a000-0000000000e2', 'stats-south', 'Stats South');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e1', 'owner'),
    ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e2', 'teacher'),
    ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e3', 'student'),
    ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e4', 'student'),
    ('00000000-0000-4000-a000-0000000000e2', '00000000-0000-4000-b000-0000000000e9', 'owner');

\c - tenancy_test_app
-- Students record quiz scores and lesson views; org, user and time from the context.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e3');
SELECT tenancy.track('quiz_submitted', score) FROM unnest(ARRAY[60, 70, 80, 90, 100]) score;
SELECT tenancy.track('login');
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('notes.pdf', 'notes.pdf', 2000);
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path = 'notes.pdf';
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e4');
SELECT tenancy.track('quiz_submitted', 40);
SELECT tenancy.track('login');
SELECT tenancy.record_file_access(id, 'download', 500) FROM tenancy.files WHERE path = 'notes.pdf';
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e2',
                           '00000000-0000-4000-b000-0000000000e9');
SELECT tenancy.track('login');
COMMIT;

-- Bad input.
SELECT tenancy.track('login');
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e3');
SAVEPOINT s;
SELECT tenancy.track(NULL);
ROLLBACK TO s;
SELECT tenancy.track('');
ROLLBACK TO s;
-- A kind of white space only names nothing (1.17 library), whether through
-- track() or a direct INSERT.
SELECT tenancy.track(E' \t');
ROLLBACK TO s;
INSERT INTO tenancy.events (kind) VALUES ('   ');
ROLLBACK TO s;
-- An empty kind breaks the length rule, not the white space one (1.26 library).
INSERT INTO tenancy.events (kind) VALUES ('');
ROLLBACK TO s;
SELECT tenancy.track(repeat('k', 101));
ROLLBACK TO s;
SELECT tenancy.track('quiz_submitted', 'NaN');
ROLLBACK TO s;
SELECT tenancy.track('quiz_submitted', 'Infinity');
ROLLBACK TO s;
-- Students cannot read raw events, nor forge another user's.
SELECT count(*) FROM tenancy.events;
INSERT INTO tenancy.events (kind, user_id) VALUES ('login', '00000000-0000-4000-b000-0000000000e4');
ROLLBACK;
-- Only the owner (DBA) runs rollups.
SELECT * FROM tenancy.run_rollups();

\c - postgres
-- Every hour bucket is UTC; the test pins each event's hour for stable output.
SELECT count(*) AS events FROM tenancy.events;
UPDATE tenancy.events SET at = '2026-03-02 09:15:00+00';
-- No state row yet (file_audit emptied the rollups and their state): a first
-- run that finds another transaction writing the rollup tables does nothing
-- (the 1.20 library), and so does one that finds another first run in
-- progress (the 1.21 library), each at once, with a NOTICE. Another session
-- through dblink, rolled back each time.
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('early', format('host=%s port=%s dbname=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database()));
SELECT dblink_exec('early', 'BEGIN');
SELECT dblink_exec('early', 'LOCK TABLE tenancy.file_rollups IN ROW EXCLUSIVE MODE');
SELECT * FROM tenancy.run_rollups();
SELECT dblink_exec('early', 'ROLLBACK');
SELECT dblink_exec('early', 'BEGIN');
SELECT * FROM dblink('early', 'SELECT sum(buckets_written) FROM tenancy.run_rollups()')
    AS t(first_run_wrote numeric);
SELECT * FROM tenancy.run_rollups();
SELECT dblink_exec('early', 'ROLLBACK');
SELECT dblink_disconnect('early');
SELECT count(*) AS state_rows FROM tenancy.rollup_state;
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();
-- A second run finds nothing new.
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();

-- What dashboards read: as the owner, a teacher and a student of stats-north.
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e2');
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, kind, events, value_sum, value_min, value_max,
       round(value_p50::numeric, 2) AS p50, round(value_p95::numeric, 2) AS p95, users
FROM tenancy.event_stats_hourly ORDER BY kind;
SELECT day, kind, events, users FROM tenancy.event_stats_daily ORDER BY kind;
-- (Log rows carry the real time, so the file figures are shown without it.)
SELECT uploads, downloads, bytes_uploaded, bytes_downloaded, users
FROM tenancy.file_stats_hourly;
SELECT uploads, downloads, users FROM tenancy.file_stats_daily;
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e3');
SELECT count(*) AS student_sees FROM tenancy.event_stats_hourly;
SELECT count(*) AS student_sees FROM tenancy.file_stats_daily;
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e2',
                           '00000000-0000-4000-b000-0000000000e9');
SELECT organization_id, kind, events FROM tenancy.event_stats_daily;
COMMIT;

-- Late events: an event for an hour already rolled up updates that hour.
\c - postgres
INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
VALUES ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e2',
        'quiz_submitted', 100, '2026-03-02 09:59:59+00'),
       ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e2',
        'quiz_submitted', 10, '2026-03-02 10:00:00+00');
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, kind, events, value_sum, value_max, users
FROM tenancy.event_stats_hourly WHERE organization_id = '00000000-0000-4000-a000-0000000000e1' ORDER BY hour, kind;
-- Daily figures merge the hours: users are distinct across them.
SELECT day, kind, events, value_sum, users FROM tenancy.event_stats_daily
WHERE organization_id = '00000000-0000-4000-a000-0000000000e1' ORDER BY kind;

-- A stored bucket without values gets its first one (NULL extremes become
-- the value), and a late download lands in a file bucket already stored.
-- A DBA's UPDATE OF trigger on the rollups sees the run's update.
CREATE FUNCTION public.rollup_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'rollup of % updated: % -> % events', NEW.kind, OLD.events, NEW.events;
    RETURN NULL;
END
$$;
CREATE TRIGGER rollup_updated AFTER UPDATE OF events ON tenancy.event_rollups
    FOR EACH ROW EXECUTE FUNCTION public.rollup_updated();
INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
VALUES ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e4',
        'login', 5, '2026-03-02 09:30:00+00');
-- (Dated as the file's first row: an hour turning since must not split it.)
INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action, bytes, at)
SELECT f.organization_id, f.id, '00000000-0000-4000-b000-0000000000e2', 'download', 1000,
       (SELECT min(l.at) FROM tenancy.file_access_log l WHERE l.file_id = f.id)
FROM tenancy.files f WHERE f.path = 'notes.pdf';
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();
DROP TRIGGER rollup_updated ON tenancy.event_rollups;
DROP FUNCTION public.rollup_updated();
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, events, value_count, value_sum, value_min, value_max
FROM tenancy.event_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000e1' AND kind = 'login';
SELECT uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users
FROM tenancy.file_rollups WHERE organization_id = '00000000-0000-4000-a000-0000000000e1';

-- Rebuilding from the raw rows gives exactly what the incremental runs gave.
CREATE TEMP TABLE incremental AS SELECT * FROM tenancy.event_rollups;
SELECT source, rows_read, buckets_written FROM tenancy.rebuild_rollups();
SELECT count(*) AS differing_buckets FROM (
    (SELECT organization_id, hour, kind, events, value_count, value_min, value_max,
            value_sketch, user_sketch FROM incremental
     EXCEPT
     SELECT organization_id, hour, kind, events, value_count, value_min, value_max,
            value_sketch, user_sketch FROM tenancy.event_rollups)
    UNION ALL
    SELECT i.organization_id, i.hour, i.kind, 0, 0, 0, 0, NULL, NULL
    FROM incremental i JOIN tenancy.event_rollups r USING (organization_id, hour, kind)
    WHERE abs(i.value_sum - r.value_sum) > 1e-9 * greatest(abs(i.value_sum), 1)) d;
SELECT source, rows_read FROM tenancy.rebuild_rollups('00000000-0000-4000-a000-0000000000e2');

-- Views (1.24): `view` rows of the log are counted per organization and
-- hour, as downloads are (their bytes are not summed), and viewers count
-- among the hour's users, as before. An organization of its own, deleted at
-- the end with its log rows and rollups. A student uploads a file and views
-- it twice (record_file_access(file, 'view'), at the real time: shown as
-- totals), then rows are pinned to hours.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000f1', 'stats-views', 'Stats Views');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f1', 'owner'),
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f2', 'teacher'),
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f3', 'student'),
    ('00000000-0000-4000-a000-0000000000f1', '00000000-0000-4000-b000-0000000000f4', 'student');
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f3');
INSERT INTO tenancy.files (path, name, size_bytes, visibility) VALUES ('slides.pdf', 'slides.pdf', 700, 'org');
SELECT tenancy.record_file_access(id, 'view') FROM tenancy.files WHERE path = 'slides.pdf';
SELECT tenancy.record_file_access(id, 'view', 300) FROM tenancy.files WHERE path = 'slides.pdf';
COMMIT;
\c - postgres
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups() WHERE source = 'file_access_log';
SELECT sum(uploads) AS uploads, sum(bytes_uploaded) AS bytes_uploaded, sum(downloads) AS downloads,
       sum(bytes_downloaded) AS bytes_downloaded, sum(views) AS views
FROM tenancy.file_rollups WHERE organization_id = '00000000-0000-4000-a000-0000000000f1';
-- vlog(user, action, n, at): n log rows of that file.
CREATE FUNCTION pg_temp.vlog(who text, act tenancy.file_action, n int, at timestamptz)
    RETURNS void LANGUAGE sql AS $$
    INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action, bytes, at)
    SELECT f.organization_id, f.id, ('00000000-0000-4000-b000-0000000000' || who)::uuid, act, 10, at
    FROM tenancy.files f, generate_series(1, n)
    WHERE f.organization_id = '00000000-0000-4000-a000-0000000000f1' AND f.path = 'slides.pdf'
$$;
-- (Updates, deletions and restores count their user, no view.)
SELECT pg_temp.vlog('f3', 'view', 3, '2026-03-03 10:05+00'), pg_temp.vlog('f4', 'view', 1, '2026-03-03 10:59+00'),
       pg_temp.vlog('f2', 'download', 2, '2026-03-03 10:10+00'), pg_temp.vlog('f1', 'update', 1, '2026-03-03 10:20+00'),
       pg_temp.vlog('f1', 'delete', 1, '2026-03-03 10:21+00'), pg_temp.vlog('f1', 'restore', 1, '2026-03-03 10:22+00');
-- A run that cannot lock the organization (another transaction holds its
-- row FOR UPDATE) leaves the buckets waiting in file_rollups_deferred, views
-- included; the next such run merges its own into them by key.
SELECT dblink_connect('views_holder', format('host=%s port=%s dbname=%s',
    split_part(current_setting('unix_socket_directories'), ',', 1),
    current_setting('port'), current_database()));
SELECT dblink_exec('views_holder', 'BEGIN');
SELECT * FROM dblink('views_holder', $$SELECT slug FROM tenancy.organizations
    WHERE id = '00000000-0000-4000-a000-0000000000f1' FOR UPDATE$$) AS t(held text);
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups() WHERE source = 'file_access_log';
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, uploads, downloads, bytes_downloaded, views,
       tenancy.sketch_distinct_count(user_sketch) AS users
FROM tenancy.file_rollups_deferred ORDER BY hour;
SELECT dblink_exec('views_holder', 'ROLLBACK');
SELECT pg_temp.vlog('f4', 'view', 2, '2026-03-03 10:30+00'), pg_temp.vlog('f2', 'view', 5, '2026-03-03 23:00+00');
SELECT dblink_exec('views_holder', 'BEGIN');
SELECT * FROM dblink('views_holder', $$SELECT slug FROM tenancy.organizations
    WHERE id = '00000000-0000-4000-a000-0000000000f1' FOR UPDATE$$) AS t(held text);
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups() WHERE source = 'file_access_log';
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, downloads, views,
       tenancy.sketch_distinct_count(user_sketch) AS users
FROM tenancy.file_rollups_deferred ORDER BY hour;
SELECT dblink_exec('views_holder', 'ROLLBACK');
SELECT dblink_disconnect('views_holder');
-- The first run that can lock it moves them into the rollups.
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups() WHERE source = 'file_access_log';
SELECT count(*) AS still_waiting FROM tenancy.file_rollups_deferred;
-- As a teacher: the hours, and the day summing them (views, the last column).
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f2');
SELECT hour AT TIME ZONE 'UTC' AS utc_hour, uploads, downloads, bytes_downloaded, users, views
FROM tenancy.file_stats_hourly WHERE hour >= '2026-03-03' AND hour < '2026-03-04' ORDER BY hour;
SELECT * FROM tenancy.file_stats_daily WHERE day = '2026-03-03';
COMMIT;
-- A student reads none of it.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000f1',
                           '00000000-0000-4000-b000-0000000000f3');
SELECT count(*) AS student_sees FROM tenancy.file_stats_hourly;
SELECT count(*) AS student_sees FROM tenancy.file_rollups;
COMMIT;
\c - postgres
-- Rebuilding recounts the views: the same rollups as the runs gave, and
-- hours counted before the update to 1.24 (views 0) get theirs.
CREATE TEMP TABLE incremental_files AS SELECT * FROM tenancy.file_rollups;
UPDATE tenancy.file_rollups SET views = 0
WHERE organization_id = '00000000-0000-4000-a000-0000000000f1' AND hour >= '2026-03-03';
SELECT source, rows_read FROM tenancy.rebuild_rollups('00000000-0000-4000-a000-0000000000f1')
WHERE source = 'file_access_log';
SELECT count(*) AS differing_file_buckets FROM (
    (SELECT * FROM incremental_files EXCEPT SELECT * FROM tenancy.file_rollups)
    UNION ALL
    (SELECT * FROM tenancy.file_rollups EXCEPT SELECT * FROM incremental_files)) d;
SELECT day, views FROM tenancy.file_stats_daily
WHERE organization_id = '00000000-0000-4000-a000-0000000000f1' AND day = '2026-03-03';
-- Deleting the organization takes its log rows and rollups along.
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000f1';
SELECT (SELECT count(*) FROM tenancy.file_access_log
        WHERE organization_id = '00000000-0000-4000-a000-0000000000f1') AS log_rows_left,
       (SELECT count(*) FROM tenancy.file_rollups
        WHERE organization_id = '00000000-0000-4000-a000-0000000000f1') AS rollups_left;

-- Retention keeps rollups: purge removes events past retention that are
-- rolled up already (the ten of March 2), not the one that is not yet.
UPDATE tenancy.organizations SET event_retention = '1 day'
WHERE id = '00000000-0000-4000-a000-0000000000e1';
-- (The others keep theirs for a century: with 365 days, from 2027-03-02 on
-- their events of 2026-03-02 would be due too.)
UPDATE tenancy.organizations SET event_retention = '100 years'
WHERE id <> '00000000-0000-4000-a000-0000000000e1';
INSERT INTO tenancy.events (organization_id, user_id, kind, at)
VALUES ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e2',
        'login', '2026-03-01 08:00:00+00');
SELECT tenancy.purge_events() AS purged_before_rollup;
SELECT source, rows_read FROM tenancy.run_rollups();
CREATE TEMP TABLE before_purge AS SELECT * FROM tenancy.event_stats_hourly;
SELECT tenancy.purge_events() AS purged;
SELECT count(*) AS changed_buckets FROM (
    SELECT * FROM before_purge EXCEPT SELECT * FROM tenancy.event_stats_hourly) d;
-- A rebuild after the purge keeps the hours whose raw rows are gone.
SELECT source, rows_read FROM tenancy.rebuild_rollups();
SELECT count(*) AS changed_buckets FROM (
    SELECT * FROM before_purge EXCEPT SELECT * FROM tenancy.event_stats_hourly) d;
-- A retention is a span back from the time the purge runs, and its cutoff
-- must lie before that time (1.18): '1 month -29 days' compares above zero
-- (a month as 30 days) but on 1 March reaches forward to 2 March, and
-- '1 day -23:59:59' reaches past the time on the day clocks go forward.
-- Such a retention gives no cutoff: purge_events leaves those events, with
-- a WARNING naming the organization.
SET TimeZone = 'UTC';
SELECT tenancy.retention_cutoff('1 month -29 days', '2027-03-01 12:00+00') AS on_march_1,
       tenancy.retention_cutoff('1 month -29 days', '2027-03-31 12:00+00') AS on_march_31,
       tenancy.retention_cutoff('1 year', '2028-02-29 12:00+00') AS a_year_before_a_leap_day,
       tenancy.retention_cutoff('1 day -23:59:59', '2027-03-28 12:00+00') AS one_second_in_utc;
SET TimeZone = 'Europe/Berlin';
SELECT tenancy.retention_cutoff('1 day -23:59:59', '2027-03-28 12:00+02') AS on_the_day_clocks_go_forward,
       tenancy.retention_cutoff('1 day -23:59:59', '2027-03-29 12:00+02') AS on_the_day_after;
-- A span one of whose parts exceeds 2,000 years reaches past every event
-- (1.19): '10000 years' back is before 4714 BC, where timestamps end.
SELECT tenancy.retention_cutoff('10000 years', '2027-03-28 12:00+02') AS ten_thousand_years,
       tenancy.retention_cutoff('2000 years', '2027-03-28 12:00+02') AS two_thousand_years,
       tenancy.retention_cutoff('4000 years -1400000 days', '2027-03-28 12:00+02') AS a_part_beyond,
       tenancy.retention_cutoff('100000000 hours', '2027-03-28 12:00+02') AS hours_beyond;
-- And through purge_events() (1.19), in a zone whose clocks went forward
-- two or three hours ago (a POSIX rule for today: day of the year from 0,
-- the hour in UTC), where '1 day -23:59:59' reaches no time before now():
-- stats-north's events are left, with a WARNING; stats-south's, kept for
-- '10000 years', are left with none (before, "timestamp out of range"
-- stopped the purge of every organization).
SELECT format('AAA0BBB,%s/%s,%s/0', day_of_year, hour - 2, (day_of_year + 180) % 365) AS clocks_forward_today
FROM (SELECT extract(doy FROM now() AT TIME ZONE 'UTC')::int - 1 AS day_of_year,
             extract(hour FROM now() AT TIME ZONE 'UTC')::int AS hour) t \gset
SET TimeZone = :'clocks_forward_today';
UPDATE tenancy.organizations SET event_retention = '1 day -23:59:59'
WHERE id = '00000000-0000-4000-a000-0000000000e1';
UPDATE tenancy.organizations SET event_retention = '10000 years'
WHERE id = '00000000-0000-4000-a000-0000000000e2';
-- (stats-north's event in an hour it has a bucket for already.)
INSERT INTO tenancy.events (organization_id, user_id, kind, at)
VALUES ('00000000-0000-4000-a000-0000000000e1', '00000000-0000-4000-b000-0000000000e2',
        'login', '2026-03-01 08:30:00+00');
SELECT source, rows_read FROM tenancy.run_rollups() WHERE source = 'events';
SELECT o.slug, count(*) AS events FROM tenancy.events e JOIN tenancy.organizations o ON o.id = e.organization_id
WHERE o.slug IN ('stats-north', 'stats-south') GROUP BY o.slug ORDER BY o.slug;
SELECT tenancy.retention_cutoff('1 day -23:59:59', now()) IS NULL AS no_time_before_now_today;
\set VERBOSITY terse
SELECT tenancy.purge_events() AS purged;
\set VERBOSITY default
SELECT o.slug, count(*) AS events FROM tenancy.events e JOIN tenancy.organizations o ON o.id = e.organization_id
WHERE o.slug IN ('stats-north', 'stats-south') GROUP BY o.slug ORDER BY o.slug;
-- Given back a retention that reaches back, stats-north's event goes.
UPDATE tenancy.organizations SET event_retention = '1 day'
WHERE id = '00000000-0000-4000-a000-0000000000e1';
UPDATE tenancy.organizations SET event_retention = '100 years'
WHERE id = '00000000-0000-4000-a000-0000000000e2';
SELECT tenancy.purge_events() AS purged;
RESET TimeZone;

-- Scheduling needs pg_cron in this database.
SELECT tenancy.schedule_rollups();
SELECT tenancy.schedule_rollups(NULL);

-- Sketch functions reject what is not a sketch.
SELECT tenancy.sketch_quantile('\x00'::bytea, 0.5);
SELECT tenancy.sketch_distinct_count('\x0102'::bytea);
SELECT tenancy.sketch_quantile(value_sketch, 2) FROM tenancy.event_rollups LIMIT 1;

-- Deleting an organization takes its events and rollups.
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000e2';
SELECT count(*) AS events_left FROM tenancy.events
WHERE organization_id = '00000000-0000-4000-a000-0000000000e2';
SELECT count(*) AS rollups_left FROM tenancy.event_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000e2';
SELECT count(*) AS file_rollups_left FROM tenancy.file_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000e2';

-- Events of an organization that does not exist are refused: events have
-- no foreign key, but their writers lock the organization as one would (1.4).
INSERT INTO tenancy.events (organization_id, user_id, kind, at) VALUES
    ('00000000-0000-4000-a000-0000000000ee', '00000000-0000-4000-b000-0000000000e1', 'login', '2026-01-05 10:00+00');
-- Rows written before 1.4, or applied by logical replication (the trigger is
-- not ENABLE ALWAYS), can still name one: they are read, but no bucket is
-- written for them.
SET session_replication_role = replica;
INSERT INTO tenancy.events (organization_id, user_id, kind, at) VALUES
    ('00000000-0000-4000-a000-0000000000ee', '00000000-0000-4000-b000-0000000000e1', 'login', '2026-01-05 10:00+00');
RESET session_replication_role;
SELECT source, rows_read, buckets_written FROM tenancy.run_rollups();
SELECT count(*) AS rollups_of_unknown_org FROM tenancy.event_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000ee';
DELETE FROM tenancy.events WHERE organization_id = '00000000-0000-4000-a000-0000000000ee';

-- The rollup tables have no foreign key to organizations (1.3): a run locks
-- the organizations it writes for instead, once per run. A deletion that
-- meets a run waits for it, then removes what it wrote (READ COMMITTED) or
-- fails as a serialization failure (REPEATABLE READ): what the foreign key's
-- ON DELETE CASCADE did. Two more sessions through dblink.
\i sql/include/two_sessions.sql
-- The runner runs runner_sql (one text value) in a transaction; the deleter
-- then deletes the organization, and the runner commits once it waits.
CREATE FUNCTION pg_temp.write_meets_delete(org uuid, runner_sql text) RETURNS text
    LANGUAGE sql AS $$
    SELECT pg_temp.hold_while('runner', runner_sql, 'deleter',
                              format('DELETE FROM tenancy.organizations WHERE id = %L', org))
$$;
-- The runner runs the rollups: rows_read/buckets_written per source.
CREATE FUNCTION pg_temp.run_meets_delete(org uuid) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.write_meets_delete(org, $run$
        SELECT string_agg(format('%s %s/%s', source, rows_read, buckets_written), ', ' ORDER BY source)
        FROM tenancy.run_rollups()$run$)
$$;
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000e5', 'race-a', 'Race A'),
    ('00000000-0000-4000-a000-0000000000e6', 'race-b', 'Race B');
INSERT INTO tenancy.events (organization_id, user_id, kind, at) VALUES
    ('00000000-0000-4000-a000-0000000000e5', '00000000-0000-4000-b000-0000000000e5', 'login', '2026-01-05 10:00+00'),
    ('00000000-0000-4000-a000-0000000000e6', '00000000-0000-4000-b000-0000000000e6', 'login', '2026-01-05 10:00+00');
SELECT pg_temp.connect('runner'), pg_temp.connect('deleter');
SELECT pg_temp.run_meets_delete('00000000-0000-4000-a000-0000000000e5');
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT count(*) AS rollups_of_deleted_org FROM tenancy.event_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000e5';

-- REPEATABLE READ: the deleter's snapshot predates the run's commit, and
-- the run adds a bucket (a new hour) that snapshot cannot see: deleting on
-- it alone would leave that bucket behind.
INSERT INTO tenancy.events (organization_id, user_id, kind, at) VALUES
    ('00000000-0000-4000-a000-0000000000e6', '00000000-0000-4000-b000-0000000000e6', 'login', '2026-01-05 11:30+00');
SELECT dblink_exec('deleter', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('deleter', 'SELECT count(*) FROM tenancy.organizations') AS t(n bigint);
SELECT pg_temp.run_meets_delete('00000000-0000-4000-a000-0000000000e6');
SELECT * FROM dblink_get_result('deleter', false) AS t(status text);
SELECT dblink_error_message('deleter');
SELECT * FROM dblink_get_result('deleter', false) AS t(status text);
SELECT dblink_exec('deleter', 'ROLLBACK');
SELECT count(*) AS org_kept FROM tenancy.organizations
WHERE id = '00000000-0000-4000-a000-0000000000e6';
SELECT hour, events FROM tenancy.event_rollups
WHERE organization_id = '00000000-0000-4000-a000-0000000000e6' ORDER BY hour;

-- Events and the log have no foreign key either: track() and
-- record_file_access() lock the organization as one would (1.4). A deletion
-- that meets them waits, then takes their rows along; before 1.4 it did not
-- wait, and their rows outlived the organization. race_organization(n)
-- makes an organization with an owner and a file, ids ending in n;
-- writer_meets_delete(n) has the runner log a read of that file and track an
-- event, and meet the deleter.
CREATE FUNCTION pg_temp.race_organization(n text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tenancy.organizations (id, slug, name)
    VALUES (('00000000-0000-4000-a000-0000000000' || n)::uuid, 'race-' || n, 'Race ' || n);
    INSERT INTO tenancy.members (organization_id, user_id, role)
    VALUES (('00000000-0000-4000-a000-0000000000' || n)::uuid,
            ('00000000-0000-4000-b000-0000000000' || n)::uuid, 'owner');
    INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes)
    VALUES (('00000000-0000-4000-a000-0000000000' || n)::uuid,
            ('c0000000-0000-4000-8000-0000000000' || n)::uuid,
            ('00000000-0000-4000-b000-0000000000' || n)::uuid, 'race.pdf', 'race.pdf', 10);
$$;
CREATE FUNCTION pg_temp.writer_meets_delete(n text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.write_meets_delete(('00000000-0000-4000-a000-0000000000' || n)::uuid, format($write$
        SELECT 'read logged, event tracked'
        FROM tenancy.set_context(%L, %L) c, tenancy.record_file_access(%L) r,
             tenancy.track('race') t$write$,
        '00000000-0000-4000-a000-0000000000' || n, '00000000-0000-4000-b000-0000000000' || n,
        'c0000000-0000-4000-8000-0000000000' || n))
$$;
SELECT pg_temp.race_organization('e7');
SELECT pg_temp.writer_meets_delete('e7');
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT (SELECT count(*) FROM tenancy.file_access_log
        WHERE organization_id = '00000000-0000-4000-a000-0000000000e7') AS log_rows_left,
       (SELECT count(*) FROM tenancy.events
        WHERE organization_id = '00000000-0000-4000-a000-0000000000e7') AS events_left;
-- The same under REPEATABLE READ: the deleter's snapshot predates the
-- writer's commit; deleting on it alone would leave the rows behind, so the
-- deletion fails as a foreign key's cascade would (40001).
SELECT pg_temp.race_organization('e8');
SELECT dblink_exec('deleter', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('deleter', 'SELECT count(*) > 0 FROM tenancy.organizations') AS t(snapshot_taken boolean);
SELECT pg_temp.writer_meets_delete('e8');
SELECT * FROM dblink_get_result('deleter', false) AS t(status text);
SELECT dblink_error_message('deleter');
SELECT * FROM dblink_get_result('deleter', false) AS t(status text);
SELECT dblink_exec('deleter', 'ROLLBACK');
SELECT (SELECT count(*) FROM tenancy.organizations
        WHERE id = '00000000-0000-4000-a000-0000000000e8') AS org_kept,
       (SELECT count(*) FROM tenancy.events
        WHERE organization_id = '00000000-0000-4000-a000-0000000000e8') AS events_kept;

-- The lock is a foreign key's: an update that keeps the key (a rename, still
-- open in another session) does not hold up a writer of events.
SELECT dblink_exec('deleter', 'BEGIN');
SELECT dblink_exec('deleter', $$UPDATE tenancy.organizations SET name = 'Race D renamed'
                                WHERE id = '00000000-0000-4000-a000-0000000000e8'$$);
BEGIN;
SET LOCAL lock_timeout = '5s';
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e8',
                           '00000000-0000-4000-b000-0000000000e8');
SELECT tenancy.track('while-renamed');
COMMIT;
SELECT dblink_exec('deleter', 'COMMIT');
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000e8';

-- A purge holds the rollup state to its end, as a run does: a run meanwhile
-- does nothing at once, and says that another transaction holds the state
-- (before the 1.21 library: "another run_rollups() is in progress").
SELECT dblink_exec('runner', 'BEGIN');
SELECT * FROM dblink('runner', 'SELECT tenancy.purge_events()') AS t(purged bigint);
SELECT * FROM tenancy.run_rollups();
SELECT dblink_exec('runner', 'ROLLBACK');
SELECT dblink_disconnect('runner'), dblink_disconnect('deleter');
DROP EXTENSION dblink;

-- A transaction that deletes its organization cannot go on writing events
-- for it, though it locked the organization for an earlier one.
\c - tenancy_test_app
BEGIN;
SELECT tenancy.create_organization('gone-midway', 'Gone Midway', '00000000-0000-4000-b000-0000000000ea') AS gone \gset
SELECT tenancy.set_context(:'gone', '00000000-0000-4000-b000-0000000000ea');
SELECT tenancy.track('before');
SELECT tenancy.delete_organization(:'gone');
\set VERBOSITY sqlstate
SELECT tenancy.track('after');
\set VERBOSITY default
ROLLBACK;
\c - postgres

-- TRUNCATE of organizations takes the rollups along, as the foreign keys
-- they had until 1.3 did; the raw events and the append-only log stay.
-- Also when the statement names a rollup table itself, and without CASCADE
-- when it names every table with a foreign key to organizations.
CREATE FUNCTION pg_temp.left_after_truncate() RETURNS TABLE (
    events bigint, log_rows bigint, event_rollups bigint, file_rollups bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM tenancy.events), (SELECT count(*) FROM tenancy.file_access_log),
           (SELECT count(*) FROM tenancy.event_rollups), (SELECT count(*) FROM tenancy.file_rollups)
$$;
SELECT * FROM pg_temp.left_after_truncate();
BEGIN;
TRUNCATE tenancy.organizations CASCADE;
SELECT * FROM pg_temp.left_after_truncate();
ROLLBACK;
BEGIN;
TRUNCATE tenancy.organizations, tenancy.event_rollups CASCADE;
SELECT * FROM pg_temp.left_after_truncate();
ROLLBACK;
BEGIN;
TRUNCATE tenancy.organizations, tenancy.members, tenancy.files;
SELECT * FROM pg_temp.left_after_truncate();
ROLLBACK;
-- The log itself stays append-only: a TRUNCATE of it is refused.
TRUNCATE tenancy.file_access_log;
SELECT count(*) > 0 AS log_kept FROM tenancy.file_access_log;

-- CHECK constraints a DBA adds to events hold for track() too, statement
-- after statement: the appender plans them once per backend but builds their
-- executable state per statement (a whole-row reference and a hashed list
-- keep things in the statement's memory; a kept state read them after free).
ALTER TABLE tenancy.events
    ADD CONSTRAINT events_whole_row CHECK (row_to_json(events) IS NOT NULL),
    ADD CONSTRAINT events_kind_not_reserved
        CHECK (kind <> ALL (ARRAY['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9', 'r10']));
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e3');
SELECT tenancy.track('checked');
SELECT tenancy.track('checked', 1);
SELECT tenancy.track('checked', 2);
SAVEPOINT s;
SELECT tenancy.track('r9');
ROLLBACK;
\c - postgres
ALTER TABLE tenancy.events DROP CONSTRAINT events_whole_row,
    DROP CONSTRAINT events_kind_not_reserved;

-- Daily figures saturate as the hourly ones do (1.4), instead of failing
-- every dashboard query that reaches the day.
BEGIN;
INSERT INTO tenancy.file_rollups
SELECT organization_id, '2030-01-01 00:00+00'::timestamptz + n * interval '1 hour',
       9223372036854775807, 1, 0, 9223372036854775807, user_sketch, 9223372036854775807
FROM (SELECT * FROM tenancy.file_rollups LIMIT 1) r, generate_series(0, 1) n;
INSERT INTO tenancy.event_rollups (organization_id, hour, kind, events, value_count, value_sum,
                                   value_sketch, user_sketch)
SELECT organization_id, '2030-01-01 00:00+00'::timestamptz + n * interval '1 hour', 'busy',
       9223372036854775807, 0, 0, value_sketch, user_sketch
FROM (SELECT * FROM tenancy.event_rollups LIMIT 1) r, generate_series(0, 1) n;
SELECT day, uploads, downloads, bytes_downloaded, views FROM tenancy.file_stats_daily WHERE day = '2030-01-01';
SELECT day, kind, events FROM tenancy.event_stats_daily WHERE day = '2030-01-01';
ROLLBACK;

-- In a read-only transaction the writers say so (25006), by name.
\c - tenancy_test_app
BEGIN READ ONLY;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000e1',
                           '00000000-0000-4000-b000-0000000000e3');
SAVEPOINT s;
SELECT tenancy.track('login');
ROLLBACK TO s;
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path = 'notes.pdf';
ROLLBACK;
\c - postgres
-- So do the DBA's (1.12 library; before, an internal INSERT failed with 25006).
BEGIN READ ONLY;
SAVEPOINT s;
SELECT * FROM tenancy.run_rollups();
ROLLBACK TO s;
SELECT * FROM tenancy.rebuild_rollups();
ROLLBACK;
-- A NULL wait is refused, not taken for false (1.12 library).
SELECT * FROM tenancy.run_rollups(NULL);
