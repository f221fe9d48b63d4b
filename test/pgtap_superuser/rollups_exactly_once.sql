-- tenancy.run_rollups() counts every raw row exactly once (DESIGN.md,
-- "Analytics"; src/rollups.cpp): a run locks tenancy.rollup_state, takes a
-- fresh snapshot, aggregates the rows whose transaction the previous run's
-- snapshot did not see, and stores the new snapshot, all in one transaction.
-- Proved here with second, third and fourth sessions (dblink, as postgres):
--   - a transaction that began before a run and commits after it (with
--     smaller ids than rows committed in between) is counted by the next run,
--     and while it stays open the runs do not read again every row written
--     since it began;
--   - a run killed part-way, rolled back, or failed leaves nothing behind;
--   - a run that finds the lock held returns no rows at once; a waiting run
--     sees what the first one stored (no double counting);
--   - late events update the hour they belong to;
--   - snapshots older than the stored one (REPEATABLE READ) cannot rewind it;
--   - events written in the run's own transaction are counted once;
--   - rebuild_rollups() that waited for a run loses nothing;
--   - events of an organization deleted concurrently do not wedge the runs;
--   - incremental runs equal rebuild_rollups() on random data (sketches
--     bit for bit, HyperLogLog included); rebuild_rollups(org) is scoped;
--   - the dashboards' views show staff their own organization only;
--   - views (1.24) are counted as uploads and downloads are: raw = rolled,
--     incremental = rebuilt, and a teacher reads them (a student does not).
--
-- Runs as the superuser postgres (run_rollups is the DBA's), with psql
-- variables host and port for the extra sessions. The rollup tables are
-- shared with other tests and with pg_cron: fixtures are organizations with
-- unique slugs ('exo-...'), assertions are about them only, runs that must
-- happen pass wait => true, and an intermediate "unchanged" figure accepts the
-- caught-up one only if rollup_state shows that another run took place.
-- No wrapping transaction (COMMIT is under test); the organizations are
-- deleted at the end (cascading to their events and rollups).
SET client_min_messages = warning;
-- A lock wait this session cannot end (a lock held by a session it drives)
-- fails the file instead of hanging it.
SET lock_timeout = '60s';
SELECT plan(74);

-------------------------------------------------------------------------------
-- Helpers (also raw, try_run, blocked_on_lock).
-------------------------------------------------------------------------------
\ir lib/rollup_checks.sql
-- What the rollups hold for an organization (pg_temp.raw: what its raw rows say).
CREATE FUNCTION pg_temp.rolled(org uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('events=%s files=%s bytes=%s views=%s',
        (SELECT coalesce(sum(events), 0) FROM tenancy.event_rollups
         WHERE organization_id = org),
        (SELECT coalesce(sum(uploads + downloads), 0) FROM tenancy.file_rollups
         WHERE organization_id = org),
        (SELECT coalesce(sum(bytes_uploaded + bytes_downloaded), 0) FROM tenancy.file_rollups
         WHERE organization_id = org),
        (SELECT coalesce(sum(views), 0) FROM tenancy.file_rollups
         WHERE organization_id = org))
$$;
-- How many runs rollup_state has recorded (to tell whether another run, such
-- as a pg_cron one, happened in between).
CREATE FUNCTION pg_temp.runs() RETURNS bigint
    LANGUAGE sql AS $$ SELECT runs FROM tenancy.rollup_state $$;

-- SQL text that inserts n events / n upload-and-download log rows and n
-- view rows for an organization at a given time (for this session and the
-- dblink ones alike).
CREATE FUNCTION pg_temp.events_sql(org uuid, n int, kind text, at timestamptz) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)'
                  ' SELECT %L, gen_random_uuid(), %L, g, %L FROM generate_series(1, %s) g',
                  org, kind, at, n)
$$;
CREATE FUNCTION pg_temp.files_sql(org uuid, n int, at timestamptz) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('INSERT INTO tenancy.file_access_log'
                  ' (organization_id, file_id, user_id, action, bytes, at)'
                  ' SELECT %L, gen_random_uuid(), gen_random_uuid(),'
                  ' (CASE WHEN v THEN ''view'' WHEN g %% 2 = 0 THEN ''upload'' ELSE ''download'' END)::tenancy.file_action,'
                  ' 100 * g, %L FROM generate_series(1, %s) g, (VALUES (false), (true)) r(v)',
                  org, at, n)
$$;
CREATE FUNCTION pg_temp.add(org uuid, n_events int, n_files int, kind text, at timestamptz)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE pg_temp.events_sql(org, n_events, kind, at);
    EXECUTE pg_temp.files_sql(org, n_files, at);
END
$$;

-- A run that has to happen (waits for the lock): rows read, both sources.
CREATE FUNCTION pg_temp.run() RETURNS numeric
    LANGUAGE sql AS $$ SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true) $$;
-- A run that completes, then a failure in the same (sub)transaction.
CREATE FUNCTION pg_temp.run_then_fail() RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM * FROM tenancy.run_rollups(wait => true);
    RAISE EXCEPTION 'exo: failing after a completed run';
END
$$;
-- A run that does not wait: 'rows=<rows returned> waited=<took over 5 s>', or
-- 'blocked' if it waited on a lock for 10 s (lock_timeout; not forever: the
-- lock may be held by a session this one drives).
CREATE FUNCTION pg_temp.nowait_run() RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz := clock_timestamp();
    saved text := current_setting('lock_timeout');
    n bigint;
    outcome text;
BEGIN
    PERFORM set_config('lock_timeout', '10s', true);
    BEGIN
        SELECT count(*) INTO n FROM tenancy.run_rollups();
        outcome := format('rows=%s waited=%s', n,
            CASE WHEN clock_timestamp() - started > interval '5 seconds' THEN 'yes' ELSE 'no' END);
    EXCEPTION WHEN lock_not_available THEN
        outcome := 'blocked: ' || SQLERRM;
    END;
    PERFORM set_config('lock_timeout', saved, true);
    RETURN outcome;
END
$$;
CREATE FUNCTION pg_temp.backend_pid(conn text) RETURNS int
    LANGUAGE sql AS $$ SELECT pid FROM dblink(conn, 'SELECT pg_backend_pid()') AS t(pid int) $$;

-------------------------------------------------------------------------------
-- Fixtures: organizations with unique slugs; leftovers of an aborted earlier
-- run of this file go first.
-------------------------------------------------------------------------------
DELETE FROM tenancy.organizations WHERE slug LIKE 'exo-%';
DELETE FROM tenancy.events e WHERE kind = 'exo-orphan'
    AND NOT EXISTS (SELECT FROM tenancy.organizations o WHERE o.id = e.organization_id);

SELECT 'exo-' || left(md5(random()::text || clock_timestamp()::text), 10) AS run,
       format('host=%s port=%s dbname=tenancy_test user=postgres', :'host', :'port') AS connstr,
       -- A UTC hour five hours ago: every scenario's rows fall in it.
       date_bin('1 hour', now(), '2000-01-01 00:00+00') - interval '5 hours' AS h0
\gset
INSERT INTO tenancy.organizations (slug, name)
SELECT :'run' || '-' || label, 'Exactly Once ' || label
FROM unnest(ARRAY['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8', 'r1', 'r2', 'r3']) label;
SELECT max(id::text) FILTER (WHERE slug = :'run' || '-o1') AS o1,
       max(id::text) FILTER (WHERE slug = :'run' || '-o2') AS o2,
       max(id::text) FILTER (WHERE slug = :'run' || '-o3') AS o3,
       max(id::text) FILTER (WHERE slug = :'run' || '-o4') AS o4,
       max(id::text) FILTER (WHERE slug = :'run' || '-o5') AS o5,
       max(id::text) FILTER (WHERE slug = :'run' || '-o6') AS o6,
       max(id::text) FILTER (WHERE slug = :'run' || '-o7') AS o7,
       max(id::text) FILTER (WHERE slug = :'run' || '-o8') AS o8,
       max(id::text) FILTER (WHERE slug = :'run' || '-r1') AS r1,
       max(id::text) FILTER (WHERE slug = :'run' || '-r2') AS r2,
       max(id::text) FILTER (WHERE slug = :'run' || '-r3') AS r3
FROM tenancy.organizations WHERE slug LIKE :'run' || '-%'
\gset
-- Whatever other tests left pending is taken now, so that it does not slow
-- the runs below.
SELECT pg_temp.run() AS ignored \gset

SELECT dblink_connect('exo_a', :'connstr') AS ignored \gset
SELECT dblink_connect('exo_b', :'connstr') AS ignored \gset
SELECT dblink_connect('exo_c', :'connstr') AS ignored \gset
SELECT dblink_connect('exo_d', :'connstr') AS ignored \gset
SELECT dblink_exec('exo_c', 'SET client_min_messages = warning') AS ignored \gset

-------------------------------------------------------------------------------
-- 1. A transaction open across a run (o1). B inserts first (smaller ids) and
--    stays open; C inserts and commits; the run counts C's rows only; B
--    commits; the next run counts B's rows, and nothing twice.
-------------------------------------------------------------------------------
SELECT dblink_exec('exo_b', 'BEGIN') AS ignored \gset
SELECT dblink_exec('exo_b', pg_temp.events_sql(:'o1', 5, 'open', :'h0'::timestamptz + interval '10 minutes')) AS ignored \gset
SELECT dblink_exec('exo_b', pg_temp.files_sql(:'o1', 2, :'h0'::timestamptz + interval '10 minutes')) AS ignored \gset
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o1', 3, 'between', :'h0'::timestamptz + interval '10 minutes')) AS ignored \gset
SELECT dblink_exec('exo_c', pg_temp.files_sql(:'o1', 3, :'h0'::timestamptz + interval '10 minutes')) AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'), 'events=3 files=3 bytes=600 views=3',
          'open transaction: the run counts the rows committed in between, not the open ones');
SELECT dblink_exec('exo_b', 'COMMIT') AS ignored \gset
SELECT ok((SELECT max(id) FROM tenancy.events WHERE organization_id = :'o1' AND kind = 'open')
          < (SELECT min(id) FROM tenancy.events WHERE organization_id = :'o1' AND kind = 'between'),
          'open transaction: its events have smaller ids than those committed in between');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'), pg_temp.raw(:'o1'),
          'open transaction: after it commits, the next run counts its rows');
SELECT is(pg_temp.raw(:'o1'), 'events=8 files=5 bytes=900 views=5', 'open transaction: all rows are there');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'), 'events=8 files=5 bytes=900 views=5',
          'open transaction: a further run counts nothing twice');

-- B commits while a run (A) is in progress, after A's snapshot; C commits
-- after A's snapshot too. A counts neither; the next run counts both.
SELECT dblink_exec('exo_b', 'BEGIN') AS ignored \gset
SELECT dblink_exec('exo_b', pg_temp.events_sql(:'o1', 4, 'open', :'h0'::timestamptz + interval '11 minutes')) AS ignored \gset
SELECT dblink_exec('exo_a', 'BEGIN') AS ignored \gset
SELECT s AS ignored FROM dblink('exo_a', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT n AS a_runs FROM dblink('exo_a', 'SELECT runs FROM tenancy.rollup_state') AS t(n bigint) \gset
SELECT dblink_exec('exo_b', 'COMMIT') AS ignored \gset
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o1', 2, 'between', :'h0'::timestamptz + interval '11 minutes')) AS ignored \gset
SELECT dblink_exec('exo_a', 'COMMIT') AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'),
          CASE WHEN pg_temp.runs() = :a_runs THEN 'events=8 files=5 bytes=900 views=5' ELSE pg_temp.raw(:'o1') END,
          'commit during a run: the run does not count what its snapshot saw in progress or after');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'), pg_temp.raw(:'o1'), 'commit during a run: the next run counts it');
SELECT is(pg_temp.raw(:'o1'), 'events=14 files=5 bytes=900 views=5', 'commit during a run: 14 events in all');

-- A transaction left open (B, one event) while 100,000 events commit in 100
-- transactions (C): a run after the one that counted them reads what the
-- stored snapshot saw in progress and what began after it, found by the BRIN
-- index on txid, not every row written since B began (until the 1.10 library:
-- each such run read them all again, for every tenant, as long as B stayed
-- open). VACUUM ANALYZE summarizes the BRIN ranges and gathers the
-- statistics the plan is chosen by, as autovacuum would.
SELECT dblink_exec('exo_b', 'BEGIN') AS ignored \gset
SELECT dblink_exec('exo_b', pg_temp.events_sql(:'o1', 1, 'held', :'h0'::timestamptz + interval '12 minutes')) AS ignored \gset
SELECT count(dblink_exec('exo_c', pg_temp.events_sql(:'o1', 1000, 'bulk', :'h0'::timestamptz + interval '12 minutes')))
       AS ignored FROM generate_series(1, 100) \gset
VACUUM ANALYZE tenancy.events;
SELECT pg_temp.run() AS ignored \gset
-- The backend's counts not yet reported (earlier statements' too), read
-- before and after the run in one transaction, in which nothing reports them.
BEGIN;
SELECT pg_stat_get_xact_blocks_fetched('tenancy.events'::regclass) AS blocks_before \gset
SELECT pg_temp.run() AS ignored \gset
SELECT pg_stat_get_xact_blocks_fetched('tenancy.events'::regclass) - :blocks_before AS held_blocks,
       pg_relation_size('tenancy.events') / current_setting('block_size')::int AS all_blocks \gset
COMMIT;
SELECT cmp_ok(:held_blocks::bigint, '<', :all_blocks::bigint / 3,
              'open transaction: a later run does not read every row written since it began');
SELECT dblink_exec('exo_b', 'COMMIT') AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o1'), 'events=100015 files=5 bytes=900 views=5',
          'open transaction: its event is counted once it commits, with the 100,000');

-------------------------------------------------------------------------------
-- 2. A run killed part-way (o2): done but uncommitted in A, then A's backend
--    is terminated. Nothing of it stays; the next run counts everything once.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'o2', 6, 2, 'killed', :'h0'::timestamptz + interval '20 minutes') AS ignored \gset
SELECT pg_temp.rolled(:'o2') AS o2_before, pg_temp.runs() AS runs0,
       pg_temp.backend_pid('exo_a') AS a_pid
\gset
SELECT dblink_exec('exo_a', 'BEGIN') AS ignored \gset
SELECT s AS ignored FROM dblink('exo_a', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT * FROM dblink('exo_a', format(
    'SELECT (SELECT coalesce(sum(events), 0) FROM tenancy.event_rollups WHERE organization_id = %L),'
    ' last_snapshot::text FROM tenancy.rollup_state', :'o2'))
    AS t(a_o2_events numeric, a_snapshot text)
\gset
SELECT is(:'a_o2_events'::numeric, 6::numeric, 'killed run: it had counted the 6 events before it was killed');
SELECT ok(pg_terminate_backend(:a_pid, 10000), 'killed run: its backend is terminated');
SELECT dblink_disconnect('exo_a') AS ignored \gset
SELECT isnt((SELECT last_snapshot::text FROM tenancy.rollup_state), :'a_snapshot',
            'killed run: its snapshot was not stored');
SELECT is(pg_temp.rolled(:'o2'),
          CASE WHEN pg_temp.runs() = :runs0 THEN :'o2_before' ELSE pg_temp.raw(:'o2') END,
          'killed run: nothing it wrote stays');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o2'), pg_temp.raw(:'o2'), 'killed run: the next run counts everything once');
SELECT is(pg_temp.raw(:'o2'), 'events=6 files=2 bytes=300 views=2', 'killed run: all rows are there');

-------------------------------------------------------------------------------
-- 3. Runs that are rolled back (o3): explicitly, by an error that aborts the
--    transaction, and with a subtransaction that fails after the run.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'o3', 5, 4, 'rollback', :'h0'::timestamptz + interval '30 minutes') AS ignored \gset
SELECT pg_temp.rolled(:'o3') AS o3_before, pg_temp.runs() AS runs0 \gset
BEGIN;
SELECT pg_temp.run() AS ignored \gset
SELECT pg_temp.rolled(:'o3') AS o3_inside \gset
ROLLBACK;
SELECT is(:'o3_inside'::text, pg_temp.raw(:'o3'), 'rolled back run: inside its transaction it had counted the rows');
SELECT is(pg_temp.rolled(:'o3'),
          CASE WHEN pg_temp.runs() = :runs0 THEN :'o3_before' ELSE pg_temp.raw(:'o3') END,
          'rolled back run: ROLLBACK leaves nothing');

SELECT pg_temp.runs() AS runs0 \gset
SELECT dblink_connect('exo_a', :'connstr') AS ignored \gset
SELECT dblink_exec('exo_a', 'SET client_min_messages = error') AS ignored \gset
SELECT dblink_exec('exo_a', 'BEGIN') AS ignored \gset
SELECT s AS ignored FROM dblink('exo_a', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT is(dblink_exec('exo_a', 'SELECT 1/0', false), 'ERROR', 'failed run: an error aborts its transaction');
SELECT is(dblink_exec('exo_a', 'ROLLBACK'), 'ROLLBACK', 'failed run: the aborted transaction ends');
SELECT is(pg_temp.rolled(:'o3'),
          CASE WHEN pg_temp.runs() = :runs0 THEN :'o3_before' ELSE pg_temp.raw(:'o3') END,
          'failed run: an error after the run leaves nothing');

SELECT pg_temp.runs() AS runs0 \gset
SELECT throws_ok('SELECT pg_temp.run_then_fail()', 'P0001', 'exo: failing after a completed run',
                 'failed subtransaction: the run completes, then an error rolls it back');
SELECT is(pg_temp.rolled(:'o3'),
          CASE WHEN pg_temp.runs() = :runs0 THEN :'o3_before' ELSE pg_temp.raw(:'o3') END,
          'failed subtransaction: nothing stays');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o3'), pg_temp.raw(:'o3'), 'rolled back runs: the next run counts everything once');
SELECT is(pg_temp.raw(:'o3'), 'events=5 files=4 bytes=1000 views=4', 'rolled back runs: all rows are there');

-------------------------------------------------------------------------------
-- 4. Two runs at once (o4): A holds the lock, done but uncommitted. A run
--    without wait returns no rows at once; B's run with wait => true blocks
--    until A commits, then counts only what A's snapshot did not see.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'o4', 7, 2, 'concurrent', :'h0'::timestamptz + interval '40 minutes') AS ignored \gset
SELECT pg_temp.backend_pid('exo_b') AS b_pid \gset
SELECT dblink_exec('exo_a', 'BEGIN') AS ignored \gset
SELECT s AS ignored FROM dblink('exo_a', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT is(pg_temp.nowait_run(), 'rows=0 waited=no',
          'two runs: a run without wait returns no rows at once while another holds the lock');
-- Rows committed after A's snapshot: B must count them.
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o4', 3, 'concurrent', :'h0'::timestamptz + interval '41 minutes')) AS ignored \gset
SELECT dblink_exec('exo_c', pg_temp.files_sql(:'o4', 1, :'h0'::timestamptz + interval '41 minutes')) AS ignored \gset
SELECT dblink_send_query('exo_b', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS ignored \gset
SELECT ok(pg_temp.blocked_on_lock(:b_pid), 'two runs: a run with wait => true blocks on the lock');
SELECT is(dblink_is_busy('exo_b'), 1, 'two runs: the waiting run has not returned');
SELECT dblink_exec('exo_a', 'COMMIT') AS ignored \gset
SELECT coalesce((SELECT s FROM dblink_get_result('exo_b', false) AS t(s numeric))::text, 'none') AS b_rows \gset
SELECT count(*) AS ignored FROM dblink_get_result('exo_b', false) AS t(s numeric) \gset
SELECT isnt(:'b_rows'::text, 'none', 'two runs: the waiting run ran once the lock was free');
SELECT is(pg_temp.rolled(:'o4'), pg_temp.raw(:'o4'), 'two runs: no double counting, nothing lost');
SELECT is(pg_temp.raw(:'o4'), 'events=10 files=3 bytes=400 views=3', 'two runs: all rows are there');

-------------------------------------------------------------------------------
-- 5. Late events (o1): an event for an hour already rolled up updates that
--    hour's bucket; no new bucket.
-------------------------------------------------------------------------------
SELECT events AS late_events, value_sum AS late_sum, value_max AS late_max,
       (SELECT count(*) FROM tenancy.event_rollups WHERE organization_id = :'o1') AS late_buckets
FROM tenancy.event_rollups
WHERE organization_id = :'o1' AND hour = :'h0' AND kind = 'between'
\gset
INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
VALUES (:'o1', gen_random_uuid(), 'between', 1000, :'h0'::timestamptz + interval '59 minutes 59 seconds');
SELECT pg_temp.run() AS ignored \gset
SELECT is((SELECT format('events=%s sum=%s max=%s', events, value_sum, value_max)
           FROM tenancy.event_rollups
           WHERE organization_id = :'o1' AND hour = :'h0' AND kind = 'between'),
          format('events=%s sum=%s max=%s', :late_events + 1, :late_sum + 1000, 1000),
          'late event: the hour already rolled up gains it (events, sum, max)');
SELECT is((SELECT count(*) FROM tenancy.event_rollups WHERE organization_id = :'o1'), :late_buckets::bigint,
          'late event: no new bucket');

-------------------------------------------------------------------------------
-- 6. REPEATABLE READ (o6): a run whose transaction snapshot predates the
--    stored one cannot store an older snapshot (it fails); one whose snapshot
--    merely predates some commits stores that snapshot, and the next run
--    counts those commits.
-------------------------------------------------------------------------------
SELECT pg_temp.runs() AS runs0 \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS ignored FROM tenancy.events WHERE organization_id = :'o6' \gset
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o6', 3, 'rr', :'h0'::timestamptz + interval '50 minutes')) AS ignored \gset
SELECT pg_temp.try_run() AS rr_first \gset
COMMIT;
SELECT ok(:'rr_first' = 'ok' OR (:'rr_first' LIKE 'error 40001%' AND pg_temp.runs() > :runs0),
          'repeatable read: a run with an older transaction snapshot works (' || :'rr_first' || ')');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o6'), 'events=3 files=0 bytes=0 views=0',
          'repeatable read: what committed after its snapshot is counted by the next run');

BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) AS ignored FROM tenancy.events WHERE organization_id = :'o6' \gset
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o6', 2, 'rr', :'h0'::timestamptz + interval '51 minutes')) AS ignored \gset
SELECT s AS ignored FROM dblink('exo_c', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT pg_temp.try_run() AS rr_second \gset
COMMIT;
SELECT matches(:'rr_second'::text, '^(ok|error 40001)',
               'repeatable read: a run whose snapshot predates the stored one works or fails with 40001');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o6'), pg_temp.raw(:'o6'), 'repeatable read: everything counted once');

-------------------------------------------------------------------------------
-- 7. Events written in the run's own transaction (o5) are not counted by
--    that run (they could still roll back with it), and are counted once by
--    the next run after they commit.
-------------------------------------------------------------------------------
BEGIN;
SELECT pg_temp.add(:'o5', 3, 2, 'same-transaction', :'h0'::timestamptz + interval '55 minutes') AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT pg_temp.rolled(:'o5') AS o5_inside \gset
COMMIT;
SELECT is(:'o5_inside'::text, 'events=0 files=0 bytes=0 views=0',
          'same transaction: the run leaves the rows its own transaction wrote to the next run');
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o5'), pg_temp.raw(:'o5'),
          'same transaction: the next run counts them, once');

-------------------------------------------------------------------------------
-- 8. rebuild_rollups(org) that waits for a run (o7). A holds the state lock
--    (as a run does from the moment it starts); D's rebuild begins and waits;
--    C commits events; A's run, under the lock, counts them and commits; then
--    D rebuilds from what the runs counted: C's events must be in it (a
--    rebuild reading the raw rows with the snapshot of its statement start,
--    older than the state it waited for, would leave them out for good).
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'o7', 4, 0, 'rebuild', :'h0'::timestamptz + interval '5 minutes') AS ignored \gset
SELECT pg_temp.backend_pid('exo_d') AS d_pid \gset
SELECT dblink_exec('exo_a', 'BEGIN') AS ignored \gset
SELECT n AS ignored FROM dblink('exo_a', 'SELECT runs FROM tenancy.rollup_state FOR UPDATE') AS t(n bigint) \gset
SELECT dblink_send_query('exo_d', format('SELECT sum(rows_read) FROM tenancy.rebuild_rollups(%L)', :'o7')) AS ignored \gset
SELECT ok(pg_temp.blocked_on_lock(:d_pid), 'waiting rebuild: rebuild_rollups waits for the run');
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o7', 3, 'rebuild', :'h0'::timestamptz + interval '6 minutes')) AS ignored \gset
SELECT s AS ignored FROM dblink('exo_a', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS t(s numeric) \gset
SELECT dblink_exec('exo_a', 'COMMIT') AS ignored \gset
SELECT count(*) AS ignored FROM dblink_get_result('exo_d', false) AS t(s numeric) \gset
SELECT count(*) AS ignored FROM dblink_get_result('exo_d', false) AS t(s numeric) \gset
SELECT pg_temp.run() AS ignored \gset
SELECT is(pg_temp.rolled(:'o7'), pg_temp.raw(:'o7'),
          'waiting rebuild: it loses none of the rows the run it waited for counted');
SELECT is(pg_temp.raw(:'o7'), 'events=7 files=0 bytes=0 views=0', 'waiting rebuild: all rows are there');

-------------------------------------------------------------------------------
-- 9. An organization deleted while one of its transactions is still open
--    (o8). events has no foreign key, but its writers lock the organization
--    row as one would (1.4): the deletion waits for that transaction, then
--    takes the events it committed along, and runs go on. Before 1.4 those
--    events outlived their organization for good.
-------------------------------------------------------------------------------
SELECT dblink_exec('exo_b', 'BEGIN') AS ignored \gset
SELECT dblink_exec('exo_b', pg_temp.events_sql(:'o8', 2, 'exo-orphan', :'h0')) AS ignored \gset
SELECT dblink_send_query('exo_d', format('DELETE FROM tenancy.organizations WHERE id = %L', :'o8')) AS ignored \gset
SELECT ok(pg_temp.blocked_on_lock(:d_pid),
          'deleted organization: the deletion waits for the transaction writing its events');
SELECT dblink_exec('exo_b', 'COMMIT') AS ignored \gset
SELECT status AS o8_deleted FROM dblink_get_result('exo_d') AS t(status text) \gset
SELECT count(*) AS ignored FROM dblink_get_result('exo_d', false) AS t(status text) \gset
SELECT is(:'o8_deleted'::text, 'DELETE 1', 'deleted organization: the deletion went through');
SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id = :'o8'), 0::bigint,
          'deleted organization: the events its open transaction committed went with it');
SELECT throws_ok(format($$INSERT INTO tenancy.events (organization_id, kind) VALUES (%L, 'late')$$, :'o8'),
                 '23503', 'organization ' || :'o8' || ' does not exist',
                 'deleted organization: an event written after the deletion is refused');
-- Another organization's events arrive meanwhile.
SELECT dblink_exec('exo_c', pg_temp.events_sql(:'o1', 1, 'after-orphan', :'h0')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'deleted organization: run_rollups goes on');
SELECT is(pg_temp.rolled(:'o1'), pg_temp.raw(:'o1'),
          'deleted organization: the other organizations'' events are counted');

-------------------------------------------------------------------------------
-- 10. Random data (r1, r2, r3): a few thousand events and log rows, some in
--     one hot hour (over 256 distinct users: HyperLogLog), inserted in
--     batches between runs, one batch in a transaction open across a run.
--     The rollups match the raw rows bucket by bucket, and equal what
--     rebuild_rollups() computes, sketches bit for bit.
-------------------------------------------------------------------------------
SELECT (random() * 2 - 1)::float8 AS seed \gset
SELECT diag('random data: setseed(' || :'seed' || ')');
SELECT setseed(:'seed') AS ignored \gset
SELECT date_bin('1 hour', now(), '2000-01-01 00:00+00') - interval '1 day' AS hot \gset

CREATE TEMP TABLE exo_events (
    batch int, organization_id uuid, user_id uuid, kind text, value float8, at timestamptz);
INSERT INTO exo_events
SELECT 1 + floor(random() * 6)::int,
       CASE WHEN hot THEN :'r1'::uuid
            ELSE (ARRAY[:'r1', :'r2', :'r3']::uuid[])[1 + floor(random() * 3)::int] END,
       CASE WHEN random() < 0.02 THEN NULL
            ELSE md5(:'seed' || '/' || floor(random() * 300)::int)::uuid END,
       CASE WHEN hot THEN 'k1' ELSE 'k' || (1 + floor(random() * 4)::int) END,
       CASE WHEN random() < 0.2 THEN NULL
            WHEN random() < 0.05 THEN 0
            ELSE random() * 200 - 50 END,
       CASE WHEN hot THEN :'hot'::timestamptz + random() * interval '59 minutes'
            ELSE now() - random() * interval '3 days' END
FROM (SELECT g, random() < 0.3 AS hot FROM generate_series(1, 4000) g) s;

CREATE TEMP TABLE exo_files (
    batch int, organization_id uuid, user_id uuid, action tenancy.file_action, bytes bigint,
    at timestamptz);
INSERT INTO exo_files
SELECT 1 + floor(random() * 6)::int,
       CASE WHEN hot THEN :'r2'::uuid
            ELSE (ARRAY[:'r1', :'r2', :'r3']::uuid[])[1 + floor(random() * 3)::int] END,
       CASE WHEN random() < 0.02 THEN NULL
            ELSE md5(:'seed' || '/' || floor(random() * 300)::int)::uuid END,
       (ARRAY['upload', 'download', 'download', 'view', 'update']::tenancy.file_action[])
           [1 + floor(random() * 5)::int],
       CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 1e6)::bigint END,
       CASE WHEN hot THEN :'hot'::timestamptz + random() * interval '59 minutes'
            ELSE now() - random() * interval '3 days' END
FROM (SELECT g, random() < 0.4 AS hot FROM generate_series(1, 2000) g) s;

-- One batch as INSERT statements (run here or in another session).
CREATE FUNCTION pg_temp.batch_sql(b int) RETURNS text[]
    LANGUAGE sql AS $$
    SELECT ARRAY[
        (SELECT 'INSERT INTO tenancy.events (organization_id, user_id, kind, value, at) VALUES '
                || string_agg(format('(%L, %L, %L, %L::float8, %L)',
                                     organization_id, user_id, kind, value::text, at), ', ')
         FROM exo_events WHERE batch = b),
        (SELECT 'INSERT INTO tenancy.file_access_log'
                || ' (organization_id, file_id, user_id, action, bytes, at) VALUES '
                || string_agg(format('(%L, gen_random_uuid(), %L, %L, %L::bigint, %L)',
                                     organization_id, user_id, action, bytes, at), ', ')
         FROM exo_files WHERE batch = b)]
$$;
CREATE FUNCTION pg_temp.insert_batch(b int) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    statement text;
BEGIN
    FOREACH statement IN ARRAY pg_temp.batch_sql(b) LOOP
        EXECUTE statement;
    END LOOP;
END
$$;

SELECT pg_temp.insert_batch(1) AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT pg_temp.insert_batch(2) AS ignored \gset
-- Batch 4 in B's transaction, open across two runs; batch 3 committed after it.
SELECT dblink_exec('exo_b', 'BEGIN') AS ignored \gset
SELECT dblink_exec('exo_b', (pg_temp.batch_sql(4))[1]) AS ignored \gset
SELECT dblink_exec('exo_b', (pg_temp.batch_sql(4))[2]) AS ignored \gset
SELECT pg_temp.insert_batch(3) AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT pg_temp.insert_batch(5) AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT dblink_exec('exo_b', 'COMMIT') AS ignored \gset
SELECT pg_temp.insert_batch(6) AS ignored \gset
SELECT pg_temp.run() AS ignored \gset
SELECT pg_temp.run() AS ignored \gset

SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id IN (:'r1', :'r2', :'r3')),
          4000::bigint, 'random data: 4000 events');

-- Bucket by bucket against the raw rows: counts, sums, min, max exact (sum to
-- 1e-9 relative); distinct users exact up to 256, within 5% beyond.
CREATE TEMP VIEW exo_event_raw AS
SELECT organization_id, date_bin('1 hour', at, '2000-01-01 00:00+00') AS hour, kind,
       count(*) AS events, count(value) AS value_count, coalesce(sum(value), 0) AS value_sum,
       min(value) AS value_min, max(value) AS value_max, count(DISTINCT user_id) AS users
FROM tenancy.events WHERE organization_id IN (:'r1', :'r2', :'r3')
GROUP BY 1, 2, 3;
CREATE TEMP VIEW exo_file_raw AS
SELECT organization_id, date_bin('1 hour', at, '2000-01-01 00:00+00') AS hour,
       count(*) FILTER (WHERE action = 'upload') AS uploads,
       count(*) FILTER (WHERE action = 'download') AS downloads,
       coalesce(sum(bytes) FILTER (WHERE action = 'upload'), 0) AS bytes_uploaded,
       coalesce(sum(bytes) FILTER (WHERE action = 'download'), 0) AS bytes_downloaded,
       count(DISTINCT user_id) AS users,
       count(*) FILTER (WHERE action = 'view') AS views
FROM tenancy.file_access_log WHERE organization_id IN (:'r1', :'r2', :'r3')
GROUP BY 1, 2;
CREATE FUNCTION pg_temp.users_match(estimate bigint, exact bigint) RETURNS boolean
    LANGUAGE sql AS $$
    SELECT CASE WHEN exact <= 256 THEN estimate = exact
                ELSE abs(estimate - exact) <= 0.05 * exact END
$$;

SELECT is((SELECT count(*) FROM exo_event_raw w
           FULL JOIN (SELECT * FROM tenancy.event_rollups
                      WHERE organization_id IN (:'r1', :'r2', :'r3')) r
               USING (organization_id, hour, kind)
           WHERE r.events IS DISTINCT FROM w.events
              OR r.value_count IS DISTINCT FROM w.value_count
              OR r.value_min IS DISTINCT FROM w.value_min
              OR r.value_max IS DISTINCT FROM w.value_max
              OR NOT coalesce(abs(r.value_sum - w.value_sum)
                              <= 1e-9 * greatest(abs(r.value_sum), abs(w.value_sum), 1), false)
              OR NOT coalesce(pg_temp.users_match(
                     tenancy.sketch_distinct_count(r.user_sketch), w.users), false)),
          0::bigint, 'random data: every event bucket matches its raw rows');
SELECT is((SELECT count(*) FROM exo_file_raw w
           FULL JOIN (SELECT * FROM tenancy.file_rollups
                      WHERE organization_id IN (:'r1', :'r2', :'r3')) r
               USING (organization_id, hour)
           WHERE r.uploads IS DISTINCT FROM w.uploads
              OR r.downloads IS DISTINCT FROM w.downloads
              OR r.bytes_uploaded IS DISTINCT FROM w.bytes_uploaded
              OR r.bytes_downloaded IS DISTINCT FROM w.bytes_downloaded
              OR r.views IS DISTINCT FROM w.views
              OR NOT coalesce(pg_temp.users_match(
                     tenancy.sketch_distinct_count(r.user_sketch), w.users), false)),
          0::bigint, 'random data: every file bucket matches its raw rows');
SELECT ok((SELECT max(users) FROM exo_event_raw) > 256
          AND (SELECT max(users) FROM exo_file_raw) > 256,
          'random data: some buckets have over 256 distinct users (HyperLogLog)');
SELECT ok((SELECT count(*) FILTER (WHERE views > 0) FROM exo_file_raw) > 1
          AND (SELECT sum(views) FROM exo_file_raw) < (SELECT count(*) FROM tenancy.file_access_log
                                                     WHERE organization_id IN (:'r1', :'r2', :'r3')),
          'random data: views are counted in several buckets, among other actions');

-- Incremental versus rebuilt.
CREATE TEMP TABLE exo_incremental_events AS
SELECT * FROM tenancy.event_rollups WHERE organization_id IN (:'r1', :'r2', :'r3');
CREATE TEMP TABLE exo_incremental_files AS
SELECT * FROM tenancy.file_rollups WHERE organization_id IN (:'r1', :'r2', :'r3');
-- The rows differing between incremental and current rollups, per org.
CREATE FUNCTION pg_temp.event_diff(orgs uuid[]) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT * FROM exo_incremental_events WHERE organization_id = ANY (orgs)) i
    FULL JOIN (SELECT * FROM tenancy.event_rollups WHERE organization_id = ANY (orgs)) r
        USING (organization_id, hour, kind)
    WHERE r.events IS DISTINCT FROM i.events
       OR r.value_count IS DISTINCT FROM i.value_count
       OR r.value_min IS DISTINCT FROM i.value_min
       OR r.value_max IS DISTINCT FROM i.value_max
       OR r.value_sketch IS DISTINCT FROM i.value_sketch
       OR r.user_sketch IS DISTINCT FROM i.user_sketch
       OR NOT coalesce(abs(r.value_sum - i.value_sum)
                       <= 1e-9 * greatest(abs(r.value_sum), abs(i.value_sum), 1), false)
$$;
CREATE FUNCTION pg_temp.file_diff(orgs uuid[]) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT * FROM exo_incremental_files WHERE organization_id = ANY (orgs)) i
    FULL JOIN (SELECT * FROM tenancy.file_rollups WHERE organization_id = ANY (orgs)) r
        USING (organization_id, hour)
    WHERE (r.uploads, r.downloads, r.bytes_uploaded, r.bytes_downloaded, r.user_sketch, r.views)
          IS DISTINCT FROM (i.uploads, i.downloads, i.bytes_uploaded, i.bytes_downloaded, i.user_sketch, i.views)
$$;

SELECT count(*) AS ignored FROM tenancy.rebuild_rollups() \gset
SELECT is(pg_temp.event_diff(ARRAY[:'r1', :'r2', :'r3']::uuid[]), 0::bigint,
          'random data: rebuild_rollups() gives the same event rollups as the incremental runs');
SELECT is(pg_temp.file_diff(ARRAY[:'r1', :'r2', :'r3']::uuid[]), 0::bigint,
          'random data: rebuild_rollups() gives the same file rollups as the incremental runs');

-- rebuild_rollups(org) touches that organization only: r2's and r3's rows,
-- made wrong on purpose, stay as they are until they are rebuilt themselves.
UPDATE tenancy.event_rollups SET events = events + 1000 WHERE organization_id IN (:'r1', :'r2');
UPDATE tenancy.file_rollups SET uploads = uploads + 1000 WHERE organization_id IN (:'r1', :'r3');
CREATE TEMP TABLE exo_tampered_events AS
SELECT * FROM tenancy.event_rollups WHERE organization_id IN (:'r2', :'r3');
CREATE TEMP TABLE exo_tampered_files AS
SELECT * FROM tenancy.file_rollups WHERE organization_id IN (:'r2', :'r3');
SELECT * FROM tenancy.rebuild_rollups(:'r1') AS r WHERE source = 'events' \gset rebuild_
SELECT is(pg_temp.event_diff(ARRAY[:'r1']::uuid[]) + pg_temp.file_diff(ARRAY[:'r1']::uuid[]), 0::bigint,
          'rebuild_rollups(org): that organization''s rollups are rebuilt');
SELECT is(:rebuild_rows_read::bigint,
          (SELECT count(*) FROM tenancy.events WHERE organization_id = :'r1'
             AND at >= coalesce((SELECT date_bin('1 hour', events_complete_since, '2000-01-01 00:00+00')
                                        + interval '1 hour' FROM tenancy.rollup_state), '-infinity')),
          'rebuild_rollups(org): it reads that organization''s events only');
SELECT is((SELECT count(*) FROM (
              (SELECT * FROM exo_tampered_events
               EXCEPT ALL SELECT * FROM tenancy.event_rollups WHERE organization_id IN (:'r2', :'r3'))
              UNION ALL
              (SELECT * FROM tenancy.event_rollups WHERE organization_id IN (:'r2', :'r3')
               EXCEPT ALL SELECT * FROM exo_tampered_events)) d)
          + (SELECT count(*) FROM (
              (SELECT * FROM exo_tampered_files
               EXCEPT ALL SELECT * FROM tenancy.file_rollups WHERE organization_id IN (:'r2', :'r3'))
              UNION ALL
              (SELECT * FROM tenancy.file_rollups WHERE organization_id IN (:'r2', :'r3')
               EXCEPT ALL SELECT * FROM exo_tampered_files)) d),
          0::bigint, 'rebuild_rollups(org): the other organizations'' rows are untouched');
SELECT count(*) AS ignored FROM tenancy.rebuild_rollups(:'r2') \gset
SELECT count(*) AS ignored FROM tenancy.rebuild_rollups(:'r3') \gset
SELECT is(pg_temp.event_diff(ARRAY[:'r1', :'r2', :'r3']::uuid[])
          + pg_temp.file_diff(ARRAY[:'r1', :'r2', :'r3']::uuid[]), 0::bigint,
          'rebuild_rollups(org): rebuilding each organization restores them all');

-------------------------------------------------------------------------------
-- 11. What the dashboards read, under RLS, as the application login
--     (tenancy_test_app) with a context: staff of r1 see r1's rows only;
--     students, other organizations and no context see none of them.
-------------------------------------------------------------------------------
SELECT gen_random_uuid() AS r1_owner, gen_random_uuid() AS r1_admin,
       gen_random_uuid() AS r1_teacher, gen_random_uuid() AS r1_student,
       gen_random_uuid() AS r2_owner
\gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'r1', :'r1_owner', 'owner'), (:'r1', :'r1_admin', 'admin'),
    (:'r1', :'r1_teacher', 'teacher'), (:'r1', :'r1_student', 'student'),
    (:'r2', :'r2_owner', 'owner');

-- Rows of each view seen as a member ('view=<of org>/<of any other org>'),
-- in a transaction of its own under SET LOCAL ROLE tenancy_test_app.
CREATE FUNCTION pg_temp.seen_as(org uuid, member uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    SET LOCAL ROLE tenancy_test_app;
    BEGIN
    IF member IS NOT NULL THEN
        PERFORM tenancy.set_context(org, member);
    END IF;
    SELECT current_user || ': ' || format('event_hourly=%s/%s event_daily=%s/%s file_hourly=%s/%s file_daily=%s/%s',
        (SELECT count(*) FILTER (WHERE organization_id = org) FROM tenancy.event_stats_hourly),
        (SELECT count(*) FILTER (WHERE organization_id IS DISTINCT FROM org) FROM tenancy.event_stats_hourly),
        (SELECT count(*) FILTER (WHERE organization_id = org) FROM tenancy.event_stats_daily),
        (SELECT count(*) FILTER (WHERE organization_id IS DISTINCT FROM org) FROM tenancy.event_stats_daily),
        (SELECT count(*) FILTER (WHERE organization_id = org) FROM tenancy.file_stats_hourly),
        (SELECT count(*) FILTER (WHERE organization_id IS DISTINCT FROM org) FROM tenancy.file_stats_hourly),
        (SELECT count(*) FILTER (WHERE organization_id = org) FROM tenancy.file_stats_daily),
        (SELECT count(*) FILTER (WHERE organization_id IS DISTINCT FROM org) FROM tenancy.file_stats_daily))
    INTO result;
    EXCEPTION WHEN OTHERS THEN
        result := current_user || ': error ' || SQLSTATE;
    END;
    RESET ROLE;
    RETURN result;
END
$$;
CREATE FUNCTION pg_temp.all_of(org uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT format('tenancy_test_app: event_hourly=%s/0 event_daily=%s/0 file_hourly=%s/0 file_daily=%s/0',
        (SELECT count(*) FROM tenancy.event_stats_hourly WHERE organization_id = org),
        (SELECT count(*) FROM tenancy.event_stats_daily WHERE organization_id = org),
        (SELECT count(*) FROM tenancy.file_stats_hourly WHERE organization_id = org),
        (SELECT count(*) FROM tenancy.file_stats_daily WHERE organization_id = org))
$$;

SELECT ok((SELECT count(*) FROM tenancy.file_stats_daily WHERE organization_id = :'r1') > 0
          AND (SELECT count(*) FROM tenancy.event_stats_daily WHERE organization_id = :'r2') > 0,
          'rls: r1 and r2 have rollups to see');
BEGIN;
SELECT pg_temp.seen_as(:'r1', :'r1_owner') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, pg_temp.all_of(:'r1'), 'rls: the owner sees all of the organization''s rollups, no other');
BEGIN;
SELECT pg_temp.seen_as(:'r1', :'r1_admin') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, pg_temp.all_of(:'r1'), 'rls: an admin sees all of the organization''s rollups, no other');
BEGIN;
SELECT pg_temp.seen_as(:'r1', :'r1_teacher') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, pg_temp.all_of(:'r1'), 'rls: a teacher sees all of the organization''s rollups, no other');
-- The views column (1.24) under the same policies: a teacher reads the
-- organization's views, hour by hour and summed by day; a student none.
CREATE FUNCTION pg_temp.views_seen_as(org uuid, member uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    SET LOCAL ROLE tenancy_test_app;
    PERFORM tenancy.set_context(org, member);
    SELECT format('hourly=%s daily=%s',
        (SELECT coalesce(sum(views), 0) FROM tenancy.file_stats_hourly),
        (SELECT coalesce(sum(views), 0) FROM tenancy.file_stats_daily))
    INTO result;
    RESET ROLE;
    RETURN result;
END
$$;
BEGIN;
SELECT pg_temp.views_seen_as(:'r1', :'r1_teacher') AS seen \gset
COMMIT;
SELECT is(:'seen'::text,
          (SELECT format('hourly=%s daily=%s', sum(views), sum(views)) FROM tenancy.file_rollups
           WHERE organization_id = :'r1' HAVING sum(views) > 0),
          'rls: a teacher reads the organization''s views, hourly and daily');
-- The teacher's users per hour are the sketches' counts, read by the views
-- as their owner: the application reads no sketch (1.25).
CREATE FUNCTION pg_temp.teacher_reads(org uuid, member uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    SET LOCAL ROLE tenancy_test_app;
    PERFORM tenancy.set_context(org, member);
    SELECT string_agg(hour || '=' || users, ' ' ORDER BY hour) INTO result FROM tenancy.file_stats_hourly;
    BEGIN
        PERFORM user_sketch FROM tenancy.file_rollups;
        result := result || ' / sketch read';
    EXCEPTION WHEN insufficient_privilege THEN
        result := result || ' / sketch refused';
    END;
    RESET ROLE;
    RETURN result;
END
$$;
BEGIN;
SELECT pg_temp.teacher_reads(:'r1', :'r1_teacher') AS seen \gset
COMMIT;
SELECT is(:'seen'::text,
          (SELECT string_agg(hour || '=' || tenancy.sketch_distinct_count(user_sketch), ' ' ORDER BY hour)
                  || ' / sketch refused'
           FROM tenancy.file_rollups WHERE organization_id = :'r1'),
          'rls: a teacher reads each hour''s users through the view, not the sketch (1.25)');
SELECT is((SELECT count(*) FROM tenancy.file_stats_hourly), (SELECT count(*) FROM tenancy.file_rollups),
          'a superuser reads every organization''s hours through the view, as before 1.25');
BEGIN;
SELECT pg_temp.views_seen_as(:'r1', :'r1_student') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, 'hourly=0 daily=0', 'rls: a student reads no views');
BEGIN;
SELECT pg_temp.seen_as(:'r1', :'r1_student') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, 'tenancy_test_app: event_hourly=0/0 event_daily=0/0 file_hourly=0/0 file_daily=0/0',
          'rls: a student sees no rollups');
BEGIN;
SELECT pg_temp.seen_as(:'r1', :'r2_owner') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, 'tenancy_test_app: error 42501',
          'rls: the owner of another organization cannot take a context in this one');
BEGIN;
SELECT pg_temp.seen_as(:'r2', :'r2_owner') AS seen \gset
COMMIT;
SELECT is(:'seen'::text, pg_temp.all_of(:'r2'),
          'rls: the owner of another organization sees its own rollups, none of this one');
BEGIN;
SELECT pg_temp.seen_as(:'r1', NULL) AS seen \gset
COMMIT;
SELECT is(:'seen'::text, 'tenancy_test_app: event_hourly=0/0 event_daily=0/0 file_hourly=0/0 file_daily=0/0',
          'rls: without a context nothing is seen');
SELECT is(current_user::text, 'postgres', 'rls: the role is back to postgres');

-------------------------------------------------------------------------------
-- Clean up.
-------------------------------------------------------------------------------
SELECT dblink_disconnect('exo_a') AS ignored \gset
SELECT dblink_disconnect('exo_b') AS ignored \gset
SELECT dblink_disconnect('exo_c') AS ignored \gset
SELECT dblink_disconnect('exo_d') AS ignored \gset
DELETE FROM tenancy.organizations WHERE slug LIKE :'run' || '-%';
SELECT is((SELECT count(*) FROM tenancy.events
           WHERE organization_id IN (:'o1', :'o2', :'o3', :'o4', :'o5', :'o6', :'o7', :'o8',
                                       :'r1', :'r2', :'r3'))
          + (SELECT count(*) FROM tenancy.file_access_log
             WHERE organization_id IN (:'o1', :'o2', :'o3', :'o4', :'o5', :'o6', :'o7', :'o8',
                                       :'r1', :'r2', :'r3'))
          + (SELECT count(*) FROM tenancy.event_rollups
             WHERE organization_id IN (:'o1', :'o2', :'o3', :'o4', :'o5', :'o6', :'o7', :'o8',
                                       :'r1', :'r2', :'r3'))
          + (SELECT count(*) FROM tenancy.file_rollups
             WHERE organization_id IN (:'o1', :'o2', :'o3', :'o4', :'o5', :'o6', :'o7', :'o8',
                                       :'r1', :'r2', :'r3')),
          0::bigint, 'cleanup: deleting the organizations takes their events, log rows and rollups');
SELECT is(pg_temp.try_run(), 'ok', 'cleanup: runs still work');

SELECT * FROM finish();
