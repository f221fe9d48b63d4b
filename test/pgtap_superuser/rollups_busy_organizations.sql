-- A rollup run does not wait for an organization whose row another
-- transaction holds (schema 1.8, src/rollups.cpp). The holder here is the
-- application login (tenancy_test_app, through dblink) acting as the
-- organization's owner: SELECT … FOR UPDATE or a DELETE left uncommitted
-- (a slug change until 1.24). Until 1.8 the run waited for it, and with it every other
-- organization's rollups. Now:
--   - the run returns at once; other organizations' buckets are written;
--   - the busy organization's buckets wait in the deferred tables, merged by
--     key, and tenancy.rollups_waiting shows them;
--   - a row being written (a name change, then FOR UPDATE) is waited for
--     tenancy.rollup_lock_timeout at most (SKIP LOCKED does not skip it);
--   - the next run that can lock the organization merges them: every raw row
--     counted once, and the same rollups as rebuild_rollups();
--   - an organization deleted meanwhile takes its waiting buckets along; one
--     whose deletion rolls back gets them;
--   - rebuild_rollups recounts waiting buckets instead of adding them twice;
--   - TRUNCATE of organizations empties the deferred tables;
--   - the purges skip rows that an uncommitted deletion is removing;
--   - the application can neither read nor write them.
--
-- Runs as the superuser postgres, with psql variables host and port. Fixtures
-- are organizations with unique slugs ('bzo-...'); assertions are about
-- states, which any run leaves the same (pg_cron's job is scheduled only by
-- the last file, zz_cron_runs_rollups.sql). lock_timeout: a run that waited would fail the file
-- instead of hanging it.
SET client_min_messages = warning;
SET lock_timeout = '5s';
SELECT plan(63);

-------------------------------------------------------------------------------
-- Helpers (also raw, try_run, blocked_on_lock).
-------------------------------------------------------------------------------
\ir lib/rollup_checks.sql
-- Totals of an organization's rollups, and of its deferred buckets.
CREATE FUNCTION pg_temp.totals(events_table text, files_table text, org uuid) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    e bigint;
    f bigint;
    b bigint;
    v bigint;
BEGIN
    EXECUTE format('SELECT coalesce(sum(events), 0) FROM %s WHERE organization_id = $1',
                   events_table) INTO e USING org;
    EXECUTE format('SELECT coalesce(sum(uploads + downloads), 0),'
                   ' coalesce(sum(bytes_uploaded + bytes_downloaded), 0), coalesce(sum(views), 0)'
                   ' FROM %s WHERE organization_id = $1', files_table) INTO f, b, v USING org;
    RETURN format('events=%s files=%s bytes=%s views=%s', e, f, b, v);
END
$$;
CREATE FUNCTION pg_temp.rolled(org uuid) RETURNS text
    LANGUAGE sql AS $$ SELECT pg_temp.totals('tenancy.event_rollups', 'tenancy.file_rollups', org) $$;
CREATE FUNCTION pg_temp.deferred(org uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT pg_temp.totals('tenancy.event_rollups_deferred', 'tenancy.file_rollups_deferred', org)
$$;
-- n events, n upload/download log rows and n view rows for an organization
-- at a time.
-- replica: without the organization lock of the events' trigger (as a
-- logical replication apply writes them), so that rows arrive for an
-- organization whose row is held.
CREATE FUNCTION pg_temp.add(org uuid, n int, kind text, at timestamptz, replica boolean DEFAULT false)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF replica THEN
        SET LOCAL session_replication_role = replica;
    END IF;
    INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
    SELECT org, gen_random_uuid(), kind, g, at FROM generate_series(1, n) g;
    IF NOT replica THEN
        INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action, bytes, at)
        SELECT org, gen_random_uuid(), gen_random_uuid(),
               (CASE WHEN v THEN 'view' WHEN g % 2 = 0 THEN 'upload' ELSE 'download' END)::tenancy.file_action,
               100 * g, at
        FROM generate_series(1, n) g, (VALUES (false), (true)) r(v);
    END IF;
    SET LOCAL session_replication_role = origin;
END
$$;
-- Runs a statement: 'ok', or its error.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END
$$;
-- Begins a transaction of the application login with the owner's context
-- in an organization.
CREATE FUNCTION pg_temp.app_begin(org uuid, member uuid) RETURNS void
    LANGUAGE sql AS $$
    SELECT dblink_exec('bzo_app', 'BEGIN');
    SELECT dblink_exec('bzo_app', format('DO $x$ BEGIN PERFORM tenancy.set_context(%L, %L); END $x$',
                                         org, member));
$$;
-- Runs one statement as the application login, in its open transaction (a
-- SELECT as a PERFORM: dblink_exec takes no result rows).
CREATE FUNCTION pg_temp.app(sql text) RETURNS text
    LANGUAGE sql AS $$
    SELECT dblink_exec('bzo_app', CASE WHEN sql LIKE 'SELECT %'
                                       THEN format('DO $x$ BEGIN PERFORM %s; END $x$', substr(sql, 8))
                                       ELSE sql END)
$$;

-------------------------------------------------------------------------------
-- Fixtures.
-------------------------------------------------------------------------------
DELETE FROM tenancy.organizations WHERE slug LIKE 'bzo-%';
SELECT 'bzo-' || left(md5(random()::text || clock_timestamp()::text), 10) AS run,
       format('host=127.0.0.1 port=%s dbname=tenancy_test user=tenancy_test_app'
              ' password=tenancy-test', :'port') AS app_connstr,
       format('host=%s port=%s dbname=tenancy_test user=postgres', :'host', :'port') AS dba_connstr,
       date_bin('1 hour', now(), '2000-01-01 00:00+00') - interval '3 hours' AS h0,
       gen_random_uuid() AS owner,
       gen_random_uuid() AS late
\gset
INSERT INTO tenancy.organizations (slug, name)
SELECT :'run' || '-' || label, 'Busy ' || label
FROM unnest(ARRAY['held', 'free', 'gone', 'kept', 'old']) label;
SELECT max(id::text) FILTER (WHERE slug = :'run' || '-held') AS held,
       max(id::text) FILTER (WHERE slug = :'run' || '-old') AS old,
       max(id::text) FILTER (WHERE slug = :'run' || '-free') AS free,
       max(id::text) FILTER (WHERE slug = :'run' || '-gone') AS gone,
       max(id::text) FILTER (WHERE slug = :'run' || '-kept') AS kept
FROM tenancy.organizations WHERE slug LIKE :'run' || '-%'
\gset
-- One owner of all four (a user may belong to several organizations).
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT id, :'owner', 'owner' FROM tenancy.organizations WHERE slug LIKE :'run' || '-%';
SELECT pg_temp.add(:'held', 6, 'before', :'h0');
SELECT pg_temp.add(:'free', 4, 'before', :'h0');
SELECT dblink_connect('bzo_app', :'app_connstr') AS ignored \gset
SELECT dblink_connect('bzo_run1', :'dba_connstr') AS ignored \gset
SELECT dblink_connect('bzo_run2', :'dba_connstr') AS ignored \gset
SELECT dblink_exec('bzo_run1', 'SET client_min_messages = warning') AS ignored \gset
SELECT dblink_exec('bzo_run2', 'SET client_min_messages = warning') AS ignored \gset

-------------------------------------------------------------------------------
-- 1. The owner holds its organization's row (SELECT … FOR UPDATE).
-------------------------------------------------------------------------------
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('SELECT FROM tenancy.organizations WHERE id = %L FOR UPDATE', :'held')) AS ignored \gset

SELECT is(pg_temp.try_run(), 'ok', 'row held FOR UPDATE: the run does not wait for it');
SELECT is(pg_temp.rolled(:'free'), pg_temp.raw(:'free'),
          'row held: another organization''s rows are rolled up');
SELECT is(pg_temp.rolled(:'held'), 'events=0 files=0 bytes=0 views=0',
          'row held: nothing is written into its rollups');
SELECT is(pg_temp.deferred(:'held'), pg_temp.raw(:'held'),
          'row held: its buckets wait in the deferred tables');
SELECT is((SELECT count(*) || ' ' || bool_and(deferred_at = (SELECT last_run_at FROM tenancy.rollup_state))
           FROM tenancy.event_rollups_deferred WHERE organization_id = :'held'),
          '1 true', 'row held: one events bucket waits, stamped with the time of the run that deferred it');

-- Rows arriving for it while it is held (a replica's apply takes no
-- organization lock) are merged into the waiting buckets, by key.
SELECT pg_temp.add(:'held', 3, 'before', :'h0', replica => true);
SELECT pg_temp.add(:'held', 2, 'during', :'h0'::timestamptz + interval '1 hour', replica => true);
SELECT deferred_at AS first_deferred_at FROM tenancy.event_rollups_deferred
WHERE organization_id = :'held' AND kind = 'before' \gset
SELECT is(pg_temp.try_run(), 'ok', 'still held: the next run does not wait either');
SELECT is(pg_temp.deferred(:'held'), pg_temp.raw(:'held'),
          'still held: new rows join the waiting buckets');
SELECT is((SELECT events || ' ' || (deferred_at = :'first_deferred_at')
           FROM tenancy.event_rollups_deferred WHERE organization_id = :'held' AND kind = 'before'),
          '9 true', 'still held: a bucket that waited is merged in place and keeps its deferred_at');
SELECT is((SELECT string_agg(source || '=' || buckets, ' ' ORDER BY source)
           FROM tenancy.rollups_waiting WHERE organization_id = :'held'),
          'events=2 file_access_log=1', 'still held: tenancy.rollups_waiting shows what waits');
-- 1.26: the view runs with its caller's rights. A reader of every table who does
-- not bypass row level security reads no row of the deferred tables, and so none
-- of what waits (as its owner, the view showed it every organization's buckets).
SELECT :'run' || '-reader' AS reader_role \gset
CREATE ROLE :"reader_role" NOLOGIN IN ROLE pg_read_all_data;
SET ROLE :"reader_role";
SELECT is((SELECT count(*) FROM tenancy.rollups_waiting), 0::bigint,
          'still held: a member of pg_read_all_data reads nothing of what waits');
RESET ROLE;
DROP ROLE :"reader_role";
SELECT is(pg_temp.rolled(:'held'), 'events=0 files=0 bytes=0 views=0', 'still held: its rollups are untouched');

SELECT pg_temp.app('COMMIT') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'released: a run');
SELECT is(pg_temp.rolled(:'held'), pg_temp.raw(:'held'),
          'released: the waiting buckets are in its rollups, every row once');
SELECT is(pg_temp.deferred(:'held'), 'events=0 files=0 bytes=0 views=0', 'released: nothing waits any more');

-------------------------------------------------------------------------------
-- 1b. A run that waited for another one (wait => true) decides which
--     organizations are held, gone or waiting as they are once it has the
--     lock, not as they were when its statement began: an organization made
--     meanwhile, with rows, and held, has its buckets deferred, not dropped.
-------------------------------------------------------------------------------
SELECT dblink_exec('bzo_run1', 'BEGIN') AS ignored \gset
SELECT count(*) AS ignored FROM dblink('bzo_run1', 'SELECT source FROM tenancy.run_rollups(wait => true)') AS t(source text) \gset
SELECT pid AS run2_pid FROM dblink('bzo_run2', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT dblink_send_query('bzo_run2', 'SELECT sum(rows_read) FROM tenancy.run_rollups(wait => true)') AS ignored \gset
SELECT ok(pg_temp.blocked_on_lock(:run2_pid), 'a run that waits for another one (wait => true)');
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'late', :'run' || '-late', 'Busy late');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (:'late', :'owner', 'owner');
SELECT pg_temp.add(:'late', 3, 'late', :'h0');
SELECT pg_temp.app_begin(:'late', :'owner');
SELECT pg_temp.app(format('SELECT FROM tenancy.organizations WHERE id = %L FOR UPDATE', :'late')) AS ignored \gset
SELECT dblink_exec('bzo_run1', 'COMMIT') AS ignored \gset
SELECT count(*) AS ignored FROM dblink_get_result('bzo_run2') AS t(n numeric) \gset
SELECT count(*) AS ignored FROM dblink_get_result('bzo_run2') AS t(n numeric) \gset
SELECT is(pg_temp.deferred(:'late'), 'events=3 files=3 bytes=600 views=3',
          'a run that waited for another: a new organization held meanwhile has its rows deferred');
SELECT pg_temp.app('COMMIT') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'a run that waited for another: released, a run');
SELECT is(pg_temp.rolled(:'late') || ' ' || pg_temp.deferred(:'late'),
          pg_temp.raw(:'late') || ' events=0 files=0 bytes=0 views=0',
          'a run that waited for another: every row of the new organization counted once');

-------------------------------------------------------------------------------
-- 2. A slug change left uncommitted, then rolled back. Until 1.24 slug was
--    a key (a unique column), and its change locked the row as FOR UPDATE
--    does: the run deferred the organization. Since 1.24 its unique index is
--    partial, slug no longer a key, and the run's FOR KEY SHARE goes past.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'held', 5, 'slug', :'h0');
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('UPDATE tenancy.organizations SET slug = %L WHERE id = %L',
                          :'run' || '-renamed', :'held')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'uncommitted slug change: the run does not wait for it');
SELECT is(pg_temp.rolled(:'held') || ' ' || pg_temp.deferred(:'held'),
          pg_temp.raw(:'held') || ' events=0 files=0 bytes=0 views=0',
          'uncommitted slug change: the organization is rolled up at once (1.24: not a key)');
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'slug change rolled back: a run');
SELECT is(pg_temp.rolled(:'held'), pg_temp.raw(:'held'), 'slug change rolled back: every row counted once');

-------------------------------------------------------------------------------
-- 2b. A name change, then SELECT … FOR UPDATE, in one transaction left open.
--     The row's visible version is being updated, and locking it follows the
--     update to the newest version, which FOR UPDATE holds: SKIP LOCKED does
--     not skip that, so the run waits, tenancy.rollup_lock_timeout at most,
--     then locks the others one by one and defers this one. (Before 1.24 the
--     second step was a slug change.)
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'held', 4, 'renamed', :'h0');
SELECT pg_temp.add(:'free', 2, 'renamed', :'h0');
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('UPDATE tenancy.organizations SET name = %L WHERE id = %L',
                          'Renamed', :'held')) AS ignored \gset
SELECT pg_temp.app(format('SELECT id FROM tenancy.organizations WHERE id = %L FOR UPDATE',
                          :'held')) AS ignored \gset
SET tenancy.rollup_lock_timeout = '200ms';
SELECT is(pg_temp.try_run(), 'ok', 'name change and FOR UPDATE: the run does not wait for them');
RESET tenancy.rollup_lock_timeout;
SELECT is(pg_temp.rolled(:'free'), pg_temp.raw(:'free'),
          'name change and FOR UPDATE: the other organizations are rolled up');
SELECT is(pg_temp.deferred(:'held'), 'events=4 files=4 bytes=1000 views=4',
          'name change and FOR UPDATE: that organization''s buckets wait');
SELECT pg_temp.app('COMMIT') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'name change and FOR UPDATE committed: a run');
SELECT is(pg_temp.rolled(:'held') || ' ' || pg_temp.deferred(:'held'),
          pg_temp.raw(:'held') || ' events=0 files=0 bytes=0 views=0',
          'name change and FOR UPDATE committed: every row counted once');

-------------------------------------------------------------------------------
-- 3. A DELETE left uncommitted: committed, the waiting buckets go with the
--    organization; rolled back, they are rolled up.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'gone', 4, 'x', :'h0');
SELECT pg_temp.app_begin(:'gone', :'owner');
SELECT pg_temp.app(format('DELETE FROM tenancy.organizations WHERE id = %L', :'gone')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'uncommitted DELETE: the run does not wait for it');
SELECT is(pg_temp.deferred(:'gone'), 'events=4 files=4 bytes=1000 views=4',
          'uncommitted DELETE: its buckets wait');
SELECT pg_temp.app('COMMIT') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'DELETE committed: a run');
SELECT is(pg_temp.deferred(:'gone') || ' ' || pg_temp.rolled(:'gone'),
          'events=0 files=0 bytes=0 views=0 events=0 files=0 bytes=0 views=0',
          'DELETE committed: its waiting buckets went with it, into no rollup');

SELECT pg_temp.add(:'kept', 3, 'x', :'h0');
SELECT pg_temp.raw(:'kept') AS kept_raw \gset
SELECT pg_temp.app_begin(:'kept', :'owner');
SELECT pg_temp.app(format('DELETE FROM tenancy.organizations WHERE id = %L', :'kept')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'another uncommitted DELETE: the run does not wait');
SELECT is(pg_temp.deferred(:'kept'), :'kept_raw', 'another uncommitted DELETE: its buckets wait');
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'DELETE rolled back: a run');
SELECT is(pg_temp.rolled(:'kept') || ' ' || pg_temp.deferred(:'kept'),
          :'kept_raw' || ' events=0 files=0 bytes=0 views=0',
          'DELETE rolled back: its rows are rolled up, once');

-------------------------------------------------------------------------------
-- 4. rebuild_rollups recounts waiting buckets from the raw rows.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'held', 2, 'rebuild', :'h0');
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('SELECT FROM tenancy.organizations WHERE id = %L FOR UPDATE', :'held')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'held again: a run');
SELECT is(pg_temp.deferred(:'held'), 'events=2 files=2 bytes=300 views=2', 'held again: the new rows wait');
SELECT pg_temp.app('COMMIT') AS ignored \gset
SELECT count(*) AS ignored FROM tenancy.rebuild_rollups(:'held') \gset
SELECT is(pg_temp.try_run(), 'ok', 'after rebuild_rollups(org): a run');
SELECT is(pg_temp.rolled(:'held') || ' ' || pg_temp.deferred(:'held'),
          pg_temp.raw(:'held') || ' events=0 files=0 bytes=0 views=0',
          'rebuild_rollups(org) counted the waiting rows once, and the next run did not add them again');

-------------------------------------------------------------------------------
-- 5. TRUNCATE of organizations empties the deferred tables (rolled back).
-------------------------------------------------------------------------------
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('SELECT FROM tenancy.organizations WHERE id = %L FOR UPDATE', :'held')) AS ignored \gset
SELECT pg_temp.add(:'held', 1, 'truncate', :'h0', replica => true);
SELECT pg_temp.try_run() AS ignored \gset
SELECT pg_temp.app('COMMIT') AS ignored \gset
BEGIN;
SELECT ok((SELECT count(*) FROM tenancy.event_rollups_deferred) > 0, 'before TRUNCATE: a bucket waits');
TRUNCATE tenancy.organizations CASCADE;
SELECT is((SELECT count(*) FROM tenancy.event_rollups_deferred)
          + (SELECT count(*) FROM tenancy.file_rollups_deferred), 0::bigint,
          'TRUNCATE tenancy.organizations empties the deferred tables');
ROLLBACK;

-------------------------------------------------------------------------------
-- 5b. An ACCESS EXCLUSIVE lock queued on organizations (a DBA's ALTER TABLE
--     behind a reader): every row lock would wait behind it. The run waits
--     for the table tenancy.rollup_lock_timeout at most, then defers all
--     it has, and a later run merges them.
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'free', 3, 'queued', :'h0');
SELECT dblink_exec('bzo_run1', 'BEGIN') AS ignored \gset
SELECT count(*) AS ignored FROM dblink('bzo_run1', 'SELECT 1 FROM tenancy.organizations LIMIT 1') AS t(n int) \gset
SELECT pid AS run2_pid FROM dblink('bzo_run2', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT dblink_exec('bzo_run2', 'BEGIN') AS ignored \gset
SELECT dblink_send_query('bzo_run2', 'LOCK TABLE tenancy.organizations IN ACCESS EXCLUSIVE MODE') AS ignored \gset
SELECT ok(pg_temp.blocked_on_lock(:run2_pid), 'a DBA''s exclusive lock queued on organizations');
SELECT is(pg_temp.try_run(), 'ok', 'exclusive lock queued: the run does not wait for it');
SELECT is(pg_temp.deferred(:'free'), 'events=3 files=3 bytes=600 views=3',
          'exclusive lock queued: the new rows wait');
SELECT dblink_exec('bzo_run1', 'COMMIT') AS ignored \gset
SELECT count(*) AS ignored FROM dblink_get_result('bzo_run2') AS t(x text) \gset
SELECT count(*) AS ignored FROM dblink_get_result('bzo_run2') AS t(x text) \gset
SELECT dblink_exec('bzo_run2', 'ROLLBACK') AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', 'exclusive lock gone: a run');
SELECT is(pg_temp.rolled(:'free') || ' ' || pg_temp.deferred(:'free'),
          pg_temp.raw(:'free') || ' events=0 files=0 bytes=0 views=0',
          'exclusive lock gone: every row counted once');

-------------------------------------------------------------------------------
-- 5c. The purges skip rows that an uncommitted deletion of their
--     organization is removing: they hold rollup_state, and every run would
--     wait with them. (Rolled back: the purges would take other files' rows.)
-------------------------------------------------------------------------------
SELECT pg_temp.add(:'old', 4, 'old', now() - interval '3 days');
SELECT pg_temp.try_run() AS ignored \gset
UPDATE tenancy.organizations SET event_retention = interval '1 day' WHERE id = :'old';
SELECT pg_temp.app_begin(:'old', :'owner');
SELECT pg_temp.app(format('DELETE FROM tenancy.organizations WHERE id = %L', :'old')) AS ignored \gset
BEGIN;
SELECT is(pg_temp.try('SELECT tenancy.purge_events()'), 'ok',
          'uncommitted deletion: purge_events does not wait for its rows');
SELECT is(pg_temp.try('SELECT tenancy.purge_file_access_log(''2 days'')'), 'ok',
          'uncommitted deletion: purge_file_access_log does not wait for its rows');
SELECT is(pg_temp.raw(:'old'), 'events=4 files=4 bytes=1000 views=4',
          'uncommitted deletion: the purges left its rows to it');
ROLLBACK;
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
BEGIN;
SELECT is(tenancy.purge_events() >= 4 AND tenancy.purge_file_access_log('2 days') >= 4
          AND pg_temp.raw(:'old') = 'events=0 files=0 bytes=0 views=0', true,
          'deletion rolled back: the next purges take those rows');
ROLLBACK;

-------------------------------------------------------------------------------
-- 5d. A purge in progress keeps only deletions of organizations waiting: an
--     owner renames its organization meanwhile without waiting for it.
-------------------------------------------------------------------------------
SELECT dblink_exec('bzo_run1', 'BEGIN') AS ignored \gset
SELECT count(*) AS ignored FROM dblink('bzo_run1', 'SELECT tenancy.purge_events()') AS t(n bigint) \gset
SELECT count(*) AS ignored
FROM dblink('bzo_run1', 'SELECT tenancy.purge_file_access_log(''100 years'')') AS t(n bigint) \gset
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app('SET LOCAL lock_timeout = ''2s''') AS ignored \gset
SELECT is(dblink_exec('bzo_app', format('UPDATE tenancy.organizations SET name = %L WHERE id = %L',
                                        'During a purge', :'held'), false),
          'UPDATE 1', 'a purge in progress: an owner renames its organization without waiting');
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
SELECT dblink_exec('bzo_run1', 'ROLLBACK') AS ignored \gset

-- Under REPEATABLE READ the purges lock no organization (a lock fails there
-- after any rename), but still leave the rows a deletion in progress is
-- removing.
SELECT pg_temp.add(:'old', 2, 'old-rr', now() - interval '3 days');
SELECT pg_temp.try_run() AS ignored \gset
SELECT pg_temp.app_begin(:'old', :'owner');
SELECT pg_temp.app(format('DELETE FROM tenancy.organizations WHERE id = %L', :'old')) AS ignored \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT is(pg_temp.try('SELECT tenancy.purge_events()') || ' '
          || pg_temp.try('SELECT tenancy.purge_file_access_log(''2 days'')'), 'ok ok',
          'REPEATABLE READ: the purges do not wait for a deletion in progress');
ROLLBACK;
SELECT pg_temp.app('ROLLBACK') AS ignored \gset

-------------------------------------------------------------------------------
-- 6. The application reaches neither deferred table.
-------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM unnest(ARRAY['tenancy.event_rollups_deferred',
                                             'tenancy.file_rollups_deferred']) t,
                                unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p
           WHERE has_table_privilege('tenancy_app', t, p)), 0::bigint,
          'tenancy_app has no privilege on the deferred tables');

-------------------------------------------------------------------------------
-- 7. check() (15): rollups that have waited more than an hour, and who holds
-- the organization's row.
-------------------------------------------------------------------------------
-- check()'s findings about an organization: 'finding | fix' lines.
CREATE FUNCTION pg_temp.waiting_findings(org uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(string_agg(severity || ': ' || finding || ' | ' || fix, E'\n' ORDER BY finding), '')
    FROM tenancy.check() WHERE object = 'organization ' || org
$$;
-- Makes an organization's waiting buckets two hours older.
CREATE FUNCTION pg_temp.age_waiting(org uuid) RETURNS void
    LANGUAGE sql AS $$
    UPDATE tenancy.event_rollups_deferred SET deferred_at = deferred_at - interval '2 hours'
    WHERE organization_id = org;
    UPDATE tenancy.file_rollups_deferred SET deferred_at = deferred_at - interval '2 hours'
    WHERE organization_id = org;
$$;
SELECT pid AS app_pid FROM dblink('bzo_app', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT pid AS run1_pid FROM dblink('bzo_run1', 'SELECT pg_backend_pid()') AS t(pid int) \gset
SELECT pg_temp.add(:'held', 2, 'waits', :'h0');
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('SELECT id FROM tenancy.organizations WHERE id = %L FOR UPDATE', :'held')) AS ignored \gset
SELECT xid AS app_xid FROM dblink('bzo_app', 'SELECT pg_current_xact_id()::text') AS t(xid text) \gset
SELECT is(pg_temp.try_run(), 'ok', '(15) row held: a run defers its buckets');
SELECT is(pg_temp.waiting_findings(:'held'), '', '(15) waiting less than an hour: no finding');
SELECT pg_temp.age_waiting(:'held');
SELECT matches(pg_temp.waiting_findings(:'held'),
               '^warning: the rollups of this organization \(2 buckets\) have waited since [^|]+ for its row, which pid '
               || :app_pid || ' \(transaction ' || :'app_xid' || ', open since [^|]+\) holds \| '
               || 'end that transaction \(COMMIT or ROLLBACK in its session; as a last resort: '
               || 'SELECT pg_terminate_backend\(' || :app_pid || '\);\), then SELECT tenancy\.run_rollups\(\);$',
               '(15) waiting over an hour: a warning naming the holder (FOR UPDATE)');
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
SELECT is(pg_temp.waiting_findings(:'held'),
          'warning: the rollups of this organization (2 buckets) have waited since '
          || (SELECT min(deferred_at) FROM tenancy.event_rollups_deferred WHERE organization_id = :'held')
          || ', and no transaction holds its row now: no rollup run has come since | SELECT tenancy.run_rollups();',
          '(15) released, no run since: a warning whose fix is a run');
-- Two holders: a DBA's KEY SHARE lock, then the owner's rename (the row's
-- xmax a multixact of both). Neither defers the runs: a run's own KEY SHARE
-- lock does not conflict with another's, nor with an update of columns
-- that are no key (until 1.24 the rename deferred them, and was named).
SELECT dblink_exec('bzo_run1', 'BEGIN') AS ignored \gset
SELECT count(*) AS ignored FROM dblink('bzo_run1', format(
    'SELECT id FROM tenancy.organizations WHERE id = %L FOR KEY SHARE', :'held')) AS t(id uuid) \gset
SELECT pg_temp.app_begin(:'held', :'owner');
SELECT pg_temp.app(format('UPDATE tenancy.organizations SET name = %L WHERE id = %L',
                          'Renamed while held', :'held')) AS ignored \gset
SELECT is(pg_temp.try_run(), 'ok', '(15) a KEY SHARE lock and a rename being written (a multixact): a run');
SELECT is(pg_temp.waiting_findings(:'held') || pg_temp.deferred(:'held'), 'events=0 files=0 bytes=0 views=0',
          '(15) a KEY SHARE lock and a rename being written (a multixact): nothing waits, no finding');
SELECT pg_temp.app('ROLLBACK') AS ignored \gset
SELECT dblink_exec('bzo_run1', 'ROLLBACK') AS ignored \gset
-- A DBA who is no superuser, granted check(): no error, and no finding (15),
-- which only a superuser reads.
SELECT :'run' || '-dba' AS dba_role \gset
CREATE ROLE :"dba_role" NOLOGIN IN ROLE pg_read_all_data;
GRANT USAGE ON SCHEMA tenancy TO :"dba_role";
GRANT EXECUTE ON FUNCTION tenancy.check(), tenancy.file_access_log_partitions() TO :"dba_role";
SET ROLE :"dba_role";
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object LIKE 'organization %'), 0::bigint,
          '(15) a DBA granted check(), no superuser: runs it, without the superuser''s finding');
RESET ROLE;
DROP OWNED BY :"dba_role";
DROP ROLE :"dba_role";
SELECT is(pg_temp.try_run(), 'ok', '(15) a run');
SELECT is(pg_temp.waiting_findings(:'held'), '', '(15) after a run: no finding');
SELECT is(pg_temp.rolled(:'held') || ' ' || pg_temp.deferred(:'held'),
          pg_temp.raw(:'held') || ' events=0 files=0 bytes=0 views=0', '(15) every row counted once');

SELECT dblink_disconnect('bzo_app') AS ignored \gset
SELECT dblink_disconnect('bzo_run1') AS ignored \gset
SELECT dblink_disconnect('bzo_run2') AS ignored \gset
SELECT pg_temp.try_run() AS ignored \gset
DELETE FROM tenancy.organizations WHERE slug LIKE 'bzo-%';
SELECT * FROM finish();
