-- What the rollups and the purges do with a rollup state that is missing or
-- was taken in another cluster (1.19; src/rollups.cpp):
--   - with rollups written and no state row (a restore that has not reached
--     it yet, or a row deleted by hand), run_rollups() and rebuild_rollups()
--     refuse (55000) instead of starting a fresh state that counts every raw
--     row again, and leave no state row behind; the hint's way out (emptying
--     the rollups) counts the raw rows kept exactly once;
--   - with a state taken in another cluster, purge_events() and
--     purge_file_access_log() refuse as run_rollups() does, with its hint,
--     instead of purging rows the state shows as counted there;
--   - the least epoch offered for a new cluster covers the raw rows written
--     after the state's last run, not only the state's snapshot, and
--     check()'s finding 19 offers what the runs' hint offers.
--
-- Runs as the superuser postgres. The fixture ('rsg-…': one organization, 40
-- events, counted) is committed first; everything else happens in one
-- transaction rolled back at the end, so that the state and the rollups of
-- the other tests come back as they were. The organization is deleted last.
SET client_min_messages = warning;

-- Leftovers of an aborted earlier run of this file first (the state made
-- another cluster's below is undone by a second session: abort in between,
-- and it stays so).
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000a5a1';
UPDATE tenancy.rollup_state SET cluster_id = (SELECT system_identifier FROM pg_control_system())
WHERE cluster_id <> (SELECT system_identifier FROM pg_control_system());
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-00000000a5a1', 'rsg-one', 'Rollup state guards');
INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
SELECT '00000000-0000-4000-a000-00000000a5a1', md5('rsg-user' || i % 4)::uuid, 'login', i,
       timestamptz '2026-06-01 08:00+00' + i * interval '20 minutes'
FROM generate_series(1, 40) i;
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
-- A snapshot taken before the transaction below, whose own id it does not see.
SELECT pg_current_snapshot() AS snapshot_before \gset

BEGIN;
SELECT plan(40);

-- The message, and the hint, of a statement's error.
CREATE FUNCTION pg_temp.error_of(statement text, OUT message text, OUT hint text)
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    message := 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    message := SQLSTATE || ': ' || message;
END
$$;
-- What the rollups hold for the fixture: events counted, value sum.
CREATE FUNCTION pg_temp.counted() RETURNS text
    LANGUAGE sql AS $$
    SELECT format('%s events, sum %s', sum(events), sum(value_sum))
    FROM tenancy.event_rollups WHERE organization_id = '00000000-0000-4000-a000-00000000a5a1'
$$;
SELECT is(pg_temp.counted(), '40 events, sum 820', 'the fixture is counted');

-------------------------------------------------------------------------------
-- A state made foreign while a run waits for its row: the run judges the row
-- it locked, not the state as its statement saw it before the wait (review
-- of 1.19: it went ahead and stored its snapshot under the other cluster's
-- id). Two other sessions, their changes committed and undone after.
-------------------------------------------------------------------------------
SELECT format('host=%s port=%s dbname=tenancy_test user=postgres', :'host', :'port') AS connstr,
       runs AS runs_before FROM tenancy.rollup_state \gset
SELECT dblink_connect('rsg_holder', :'connstr') AS ignored \gset
SELECT dblink_connect('rsg_runner', :'connstr') AS ignored \gset
SELECT pid AS runner_pid FROM dblink('rsg_runner', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT dblink_exec('rsg_holder', 'BEGIN') AS ignored \gset
SELECT dblink_exec('rsg_holder', 'UPDATE tenancy.rollup_state SET cluster_id = cluster_id + 1') AS ignored \gset
SELECT dblink_send_query('rsg_runner', 'SELECT count(*) FROM tenancy.run_rollups(wait => true)') AS ignored \gset
-- Until the run waits for the row (10 s at most).
CREATE FUNCTION pg_temp.waits_for_a_lock(backend int) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..1000 LOOP
        IF EXISTS (SELECT FROM pg_locks WHERE pid = backend AND NOT granted) THEN RETURN true; END IF;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RETURN false;
END
$$;
SELECT ok(pg_temp.waits_for_a_lock(:runner_pid), 'a run waits for the state row');
SELECT dblink_exec('rsg_holder', 'COMMIT') AS ignored \gset
SELECT count(*) AS ignored FROM dblink_get_result('rsg_runner', false) AS t(n bigint) \gset
SELECT is(split_part(dblink_error_message('rsg_runner'), E'\n', 1),
          'ERROR:  the rollup state was taken in another cluster',
          'the state made foreign while it waited: the run refuses it');
SELECT count(*) AS ignored FROM dblink_get_result('rsg_runner', false) AS t(n bigint) \gset
SELECT dblink_exec('rsg_holder', 'UPDATE tenancy.rollup_state SET cluster_id = cluster_id - 1') AS ignored \gset
SELECT is((SELECT runs FROM tenancy.rollup_state), :runs_before::bigint,
          'and stored nothing: the state''s runs as they were');
SELECT dblink_disconnect('rsg_holder') AS ignored \gset

-------------------------------------------------------------------------------
-- No state row, and another transaction writing the rollups (a restore's
-- COPY of them in progress): its rows are not seen yet, and counts merged
-- into them would count their raw rows twice once they commit (review of
-- 1.19). Nothing done, without waiting (a NOTICE); once the writer is gone,
-- a run goes ahead.
-------------------------------------------------------------------------------
DELETE FROM tenancy.event_rollups;
DELETE FROM tenancy.file_rollups;
DELETE FROM tenancy.event_rollups_deferred;
DELETE FROM tenancy.file_rollups_deferred;
DELETE FROM tenancy.rollup_state;
SELECT dblink_exec('rsg_runner', 'BEGIN') AS ignored \gset
SELECT dblink_exec('rsg_runner', 'LOCK TABLE tenancy.file_rollups IN ROW EXCLUSIVE MODE') AS ignored \gset
SELECT is(pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')::text, '("no error",)',
          'no state, the rollups being written: run_rollups() does nothing, at once, without an error');
SELECT is((SELECT count(*) FROM tenancy.rollup_state), 0::bigint, 'and leaves no state row');
SELECT is(pg_temp.error_of('SELECT * FROM tenancy.rebuild_rollups()')::text, '("no error",)',
          'so does rebuild_rollups()');
SELECT dblink_exec('rsg_runner', 'ROLLBACK') AS ignored \gset
SELECT dblink_disconnect('rsg_runner') AS ignored \gset
-- No state and no rollups: no run has counted anything, and a rebuild has
-- nothing to rebuild. It keeps no state row, and returns before it locks
-- the organizations (a deletion of one waiting for the lock taken on the
-- rollup tables would deadlock with it: review of 1.20).
SELECT is((SELECT string_agg(format('%s %s %s', source, rows_read, buckets_written), ', ')
           FROM tenancy.rebuild_rollups()), 'events 0 0, file_access_log 0 0',
          'no state, no rollups: rebuild_rollups() has nothing to rebuild');
SELECT is((SELECT count(*) FROM tenancy.rollup_state), 0::bigint, 'and keeps no state row');
SELECT dblink_connect('rsg_prober', :'connstr') AS ignored \gset
SELECT is(n, 1::bigint, 'nor has it locked an organization (another session takes one FOR UPDATE NOWAIT)')
FROM dblink('rsg_prober', 'SELECT count(*) FROM (SELECT FROM tenancy.organizations'
            ' WHERE id = ''00000000-0000-4000-a000-00000000a5a1'' FOR UPDATE NOWAIT) o') AS t(n bigint);
SELECT dblink_disconnect('rsg_prober') AS ignored \gset
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).message, 'no error',
          'the writer gone, a run starts a fresh state');
SELECT is(pg_temp.counted(), '40 events, sum 820', 'and counts the raw rows once');

-------------------------------------------------------------------------------
-- No state row, rollups written.
-------------------------------------------------------------------------------
DELETE FROM tenancy.rollup_state;
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).message,
          '55000: the rollup state is missing',
          'run_rollups() refuses to start a fresh state over rollups already written');
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).hint,
          'If a restore is running, let it finish: tenancy.rollup_state is among the last tables it restores. If the row was deleted, count the rollups afresh from the raw rows kept (the hours whose raw rows were purged are lost): TRUNCATE tenancy.event_rollups, tenancy.file_rollups, tenancy.event_rollups_deferred, tenancy.file_rollups_deferred; then run again.',
          'its hint: let the restore finish, or empty the rollups');
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.rebuild_rollups()')).message,
          '55000: the rollup state is missing', 'rebuild_rollups() refuses too');
SELECT is((SELECT count(*) FROM tenancy.rollup_state), 0::bigint,
          'the refused runs leave no state row behind');
SELECT is(pg_temp.counted(), '40 events, sum 820', 'the rollups are as they were');
SELECT is(tenancy.purge_events(), 0::bigint, 'purge_events() with no state purges nothing');
-- Deferred buckets (a run that found an organization busy) are counts too.
INSERT INTO tenancy.event_rollups_deferred
SELECT organization_id, hour, kind, events, value_count, value_sum, value_min, value_max,
       value_sketch, user_sketch, now()
FROM tenancy.event_rollups WHERE organization_id = '00000000-0000-4000-a000-00000000a5a1';
TRUNCATE tenancy.event_rollups, tenancy.file_rollups;
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).message,
          '55000: the rollup state is missing', 'deferred buckets alone are refused for too');
TRUNCATE tenancy.event_rollups_deferred, tenancy.file_rollups_deferred;
-- The hint's way out: the rollups emptied, the next run counts every raw row
-- kept once.
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).message, 'no error',
          'with the rollups emptied, a run starts a fresh state');
SELECT is(pg_temp.counted(), '40 events, sum 820', 'and counts the raw rows once');
SELECT is((SELECT sum(rows_read) FROM tenancy.run_rollups()), 0::numeric,
          'the next run reads nothing again');

-------------------------------------------------------------------------------
-- A state taken in another cluster.
-------------------------------------------------------------------------------
-- As if taken by a run before this transaction began (the run above
-- stored one that sees this transaction's id as in progress).
UPDATE tenancy.rollup_state SET cluster_id = (SELECT system_identifier + 1 FROM pg_control_system()),
                                last_snapshot = :'snapshot_before';
SELECT is((pg_temp.error_of('SELECT tenancy.purge_events()')).message,
          '55000: the rollup state was taken in another cluster', 'purge_events() refuses it');
SELECT is((pg_temp.error_of('SELECT tenancy.purge_file_access_log(''1 day'')')).message,
          '55000: the rollup state was taken in another cluster', 'purge_file_access_log() refuses it');
SELECT is((pg_temp.error_of('SELECT tenancy.purge_events()')).hint,
          'If pg_upgrade made this cluster from that one, or the dump was restored into a new cluster whose transaction ids were put past the source''s before its first start (this cluster''s ids continue the state''s and the raw rows'', as they do here), adopt the state as a superuser: UPDATE tenancy.rollup_state SET cluster_id = NULL; See README, Dump and restore.',
          'with the hint run_rollups() gives');
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).hint,
          (pg_temp.error_of('SELECT tenancy.purge_file_access_log(''1 day'')')).hint,
          'the same as the other purge''s and the runs''');
-- Here the ids go on from the state's (as after pg_upgrade).
SELECT is((SELECT row(ids_continue, least_epoch)::text FROM tenancy.foreign_rollup_state()),
          row(true, (SELECT (pg_snapshot_xmax(last_snapshot)::text::bigint >> 32) + 1
                     FROM tenancy.rollup_state))::text,
          'foreign_rollup_state(): the ids continue; the least epoch, one past the state''s');
-- A state taken in epoch 3 of its cluster, past every id here: a new
-- cluster must start in epoch 4 at least.
UPDATE tenancy.rollup_state
SET last_snapshot = format('%1$s:%1$s:', (3::bigint << 32) + 5)::pg_snapshot;
SELECT is((SELECT row(ids_continue, least_epoch)::text FROM tenancy.foreign_rollup_state()),
          '(f,4)', 'a state of epoch 3: the ids do not continue; the least epoch is 4');
UPDATE tenancy.rollup_state SET last_snapshot = :'snapshot_before';
-- A raw row written after the state's last run in a later epoch of its
-- cluster (ids past 7 << 32): this cluster's ids do not continue past it,
-- and a new cluster must start in epoch 8 at least.
UPDATE tenancy.events SET txid = ((7::bigint << 32) + 100)::text::xid8
WHERE organization_id = '00000000-0000-4000-a000-00000000a5a1' AND value = 40;
SELECT is((SELECT row(ids_continue, least_epoch)::text FROM tenancy.foreign_rollup_state()),
          '(f,8)', 'a raw row of epoch 7: the ids do not continue; the least epoch is 8');
SELECT is((pg_temp.error_of('SELECT * FROM tenancy.run_rollups()')).hint,
          'A dump of another cluster: restore it into a new cluster whose transaction ids are past the source''s, set before its first start with pg_resetwal -e N, N one more than the source''s epoch (at least 8), then adopt the state: see README, Dump and restore.',
          'run_rollups()''s hint says so');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = 'tenancy.rollup_state'),
          '-- a dump of another cluster: restore it into a new cluster whose transaction ids are past the source''s, set before its first start with pg_resetwal -e N, N one more than the source''s epoch (at least 8), then adopt the state: see README, Dump and restore',
          'and so does check()''s finding 19');
UPDATE tenancy.rollup_state SET cluster_id = NULL;
SELECT is((SELECT count(*) FROM tenancy.foreign_rollup_state()), 0::bigint,
          'an adopted state is this cluster''s');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object = 'tenancy.rollup_state'), 0::bigint,
          'and no finding is left');

-------------------------------------------------------------------------------
-- First runs take turns on a lock of their own: a second first run does
-- nothing at once with wait => false, and waits with wait => true (before,
-- both waited for the first's transaction inside the insert of the state
-- row: review of 1.20, M1a). In a database of their own, where no run has
-- committed a state; the second session's statements time out where they
-- would wait.
-------------------------------------------------------------------------------
SELECT format('host=%s port=%s user=postgres dbname=', :'host', :'port') AS connstr_to \gset
SELECT dblink_connect('rsg_admin', :'connstr_to' || 'postgres') AS ignored \gset
SELECT dblink_exec('rsg_admin', 'DROP DATABASE IF EXISTS tenancy_first_runs WITH (FORCE)') AS ignored \gset
SELECT dblink_exec('rsg_admin', 'CREATE DATABASE tenancy_first_runs') AS ignored \gset
SELECT dblink_connect('rsg_first', :'connstr_to' || 'tenancy_first_runs') AS ignored \gset
SELECT dblink_connect('rsg_second', :'connstr_to' || 'tenancy_first_runs') AS ignored \gset
SELECT dblink_exec('rsg_first', 'SET client_min_messages = warning') AS ignored \gset
SELECT dblink_exec('rsg_first', 'CREATE EXTENSION pg_tenancy') AS ignored \gset
SELECT dblink_exec('rsg_first', $$
    INSERT INTO tenancy.events (organization_id, user_id, kind, at)
    SELECT tenancy.create_organization('first-runs', 'First runs', '00000000-0000-4000-a000-00000000a5b1'),
           '00000000-0000-4000-a000-00000000a5b1', 'login', timestamptz '2026-06-01 08:00+00'
$$) AS ignored \gset
SELECT dblink_exec('rsg_first', 'BEGIN') AS ignored \gset
SELECT is(n, 1::numeric, 'a first run in progress has written a bucket')
FROM dblink('rsg_first', 'SELECT sum(buckets_written) FROM tenancy.run_rollups()') AS t(n numeric);
SELECT is(count(*), 1::bigint, 'and holds the first runs'' lock: an object lock on tenancy.rollup_state')
FROM pg_locks
WHERE locktype = 'object' AND classid = 'pg_class'::regclass AND mode = 'ExclusiveLock' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = 'tenancy_first_runs');
SELECT dblink_exec('rsg_second', 'SET statement_timeout = ''5s''') AS ignored \gset
SELECT is((pg_temp.error_of($$SELECT * FROM dblink('rsg_second', 'SELECT count(*) FROM tenancy.run_rollups()') AS t(n bigint)$$)).message,
          'no error', 'a second first run with wait => false does not wait for it');
SELECT is(n, 0::bigint, 'and does nothing')
FROM dblink('rsg_second', 'SELECT count(*) FROM tenancy.run_rollups()') AS t(n bigint);
SELECT dblink_exec('rsg_second', 'RESET statement_timeout') AS ignored \gset
SELECT dblink_send_query('rsg_second', 'SELECT count(*) FROM tenancy.run_rollups(wait => true)') AS ignored \gset
SELECT pg_sleep(0.5) AS ignored \gset
SELECT is(dblink_is_busy('rsg_second'), 1, 'with wait => true, it waits');
SELECT dblink_exec('rsg_first', 'COMMIT') AS ignored \gset
SELECT is(n, 2::bigint, 'and runs once the first has committed')
FROM dblink_get_result('rsg_second') AS t(n bigint);
SELECT count(*) AS ignored FROM dblink_get_result('rsg_second') AS t(n bigint) \gset
SELECT is(runs, 2::bigint, 'over the first''s state, which counts two runs')
FROM dblink('rsg_second', 'SELECT runs::bigint FROM tenancy.rollup_state') AS t(runs bigint);
SELECT dblink_disconnect('rsg_first') AS ignored \gset
SELECT dblink_disconnect('rsg_second') AS ignored \gset
SELECT dblink_exec('rsg_admin', 'DROP DATABASE tenancy_first_runs WITH (FORCE)') AS ignored \gset
SELECT dblink_disconnect('rsg_admin') AS ignored \gset

SELECT * FROM finish();
ROLLBACK;

DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000a5a1';
