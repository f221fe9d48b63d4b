-- tenancy.purge_events() removes the rolled-up events older than their
-- organization's retention, and (schema 1.12) finds them through each
-- organization's (organization_id, at) range when few are due (counted first,
-- up to 5% of the table), instead of reading the whole of events every day;
-- and (schema 1.13) skips the counts when the statistics of `at` tell that
-- many are due:
--   - with nothing due, or a day's worth, the purge reads events through
--     the index only (no sequential scan, counted in
--     pg_stat_xact_user_tables); when many due rows lie among others' rows
--     it may read the table once instead;
--   - with every retention alike, each organization is probed at most twice
--     (1.12 counted the newer due rows of every organization too); with
--     half the table due the purge reads it once, with no count first (also
--     under a DateStyle whose output PostgreSQL does not read back); the
--     statistics a purge made stale do not send the next one to read the
--     whole table;
--   - a short retention of one organization with few events does not turn
--     the purge into a full read;
--   - the planner settings it switches off for its statement are the
--     caller's again after it, and a caller's settings that keep the
--     planner from indexes do not apply to its counts;
--   - it removes exactly the rows past each organization's own retention,
--     a short one beside long ones included, also when half the table is due,
--     and a retention is a span back from now() ('1 year' is less than
--     '364 days' as a value, but reaches further back);
--   - events not rolled up yet stay, whatever their age;
--   - events_complete_since moves to the newest bound of the purge.
--
-- 100 organizations ('pev-…') with 1,000 events each, spread over the last
-- 360 days and written oldest first (as time orders them), 100,000 in all:
-- enough that reading the whole table costs the planner more than probing
-- each organization. Runs as the superuser postgres; the organizations are
-- deleted at the end, and rollup_state.events_complete_since put back.
SET client_min_messages = warning;
SELECT plan(29);

INSERT INTO tenancy.organizations (id, slug, name)
SELECT md5('pev' || g)::uuid, 'pev-' || g, 'Purge ' || g FROM generate_series(1, 100) g;
INSERT INTO tenancy.events (organization_id, user_id, kind, value, at)
SELECT md5('pev' || g)::uuid, md5('pev-user' || g)::uuid, 'login', i,
       now() - interval '360 days' * (1 - i / 1000.0)
FROM generate_series(1, 1000) i, generate_series(1, 100) g
ORDER BY i, g;
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
ANALYZE tenancy.events, tenancy.organizations;
-- The purges here move it for the whole database; it is put back at the end,
-- when the fixture's events are gone, for the rollup tests that follow.
SELECT coalesce(events_complete_since::text, '') AS complete_since_before FROM tenancy.rollup_state \gset

-- Events of the fixture's organizations, and those older than an age.
CREATE FUNCTION pg_temp.kept(older_than interval DEFAULT NULL, org int DEFAULT NULL) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM tenancy.events e JOIN tenancy.organizations o ON o.id = e.organization_id
    WHERE o.slug LIKE 'pev-%'
      AND (org IS NULL OR o.slug = 'pev-' || org)
      AND (older_than IS NULL OR e.at < now() - older_than)
$$;
-- Events of the fixture's organizations past their own retention.
CREATE FUNCTION pg_temp.past_retention() RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM tenancy.events e JOIN tenancy.organizations o ON o.id = e.organization_id
    WHERE o.slug LIKE 'pev-%' AND e.at < now() - o.event_retention
$$;
-- How purge_events() read events: the sequential and index scans it added to
-- the transaction's.
CREATE FUNCTION pg_temp.purge_scans(OUT sequential bigint, OUT index bigint)
    LANGUAGE plpgsql AS $$
DECLARE
    seq_before bigint;
    idx_before bigint;
BEGIN
    SELECT seq_scan, idx_scan INTO seq_before, idx_before
    FROM pg_stat_xact_user_tables WHERE relid = 'tenancy.events'::regclass;
    PERFORM tenancy.purge_events();
    SELECT seq_scan - seq_before, idx_scan - idx_before INTO sequential, index
    FROM pg_stat_xact_user_tables WHERE relid = 'tenancy.events'::regclass;
END
$$;
CREATE FUNCTION pg_temp.purge_reads() RETURNS text
    LANGUAGE sql AS $$
    SELECT format('sequential scans %s, index scans %s', sequential,
                  CASE WHEN index > 0 THEN 'some' ELSE 'none' END)
    FROM pg_temp.purge_scans()
$$;

-------------------------------------------------------------------------------
-- Nothing due: the default retention (365 days) keeps every event.
-------------------------------------------------------------------------------
SELECT is(pg_temp.purge_reads(), 'sequential scans 0, index scans some',
          'nothing due: events are read through the index, not scanned whole');
SELECT is(pg_temp.kept(), 100000::bigint, 'nothing due: every event is kept');
-- Each organization's range is probed by the count of old due rows and by
-- the delete, not by the count of newer ones as well: with every retention
-- alike no row can be due among the newer ones (1.12 probed them all three
-- times).
SELECT cmp_ok((SELECT index FROM pg_temp.purge_scans()), '<=', 2 * (SELECT count(*) FROM tenancy.organizations),
              'nothing due: each organization is probed at most twice');

-------------------------------------------------------------------------------
-- Retentions as spans back from now(): '1 year' (360 days as a value) beside
-- '364 days'. The 364-day organization's event past 364 days goes, and the
-- bound recorded is the 364 days' (1.11 recorded now() - '1 year', older
-- than the event it had removed: a rebuild would recount that hour short).
-------------------------------------------------------------------------------
UPDATE tenancy.organizations SET event_retention = interval '1 year' WHERE slug = 'pev-8';
UPDATE tenancy.organizations SET event_retention = interval '364 days' WHERE slug = 'pev-9';
INSERT INTO tenancy.events (organization_id, user_id, kind, at)
VALUES (md5('pev9')::uuid, md5('pev-user9')::uuid, 'calendar', now() - interval '364 days 12 hours');
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
SELECT tenancy.purge_events() AS ignored \gset
SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id = md5('pev9')::uuid
           AND kind = 'calendar'), 0::bigint, 'calendar: an event past 364 days goes beside a 1-year retention');
SELECT is((SELECT events_complete_since > now() - interval '364 days 1 hour' FROM tenancy.rollup_state),
          true, 'calendar: events_complete_since is the newest bound, not the smallest value''s');

-------------------------------------------------------------------------------
-- Half a day's worth due (retention 359.5 days): the oldest event of each.
-------------------------------------------------------------------------------
UPDATE tenancy.organizations SET event_retention = interval '359 days 12 hours' WHERE slug LIKE 'pev-%';
SELECT is(pg_temp.kept(interval '359 days 12 hours'), 100::bigint,
          'a day due: the fixture has 100 events past retention');
SELECT is(pg_temp.purge_reads(), 'sequential scans 0, index scans some',
          'a day due: events are read through the index, not scanned whole');
SELECT is(pg_temp.kept(), 100000::bigint - 100, 'a day due: exactly those are removed');
SELECT is(pg_temp.kept(interval '359 days 12 hours'), 0::bigint, 'a day due: none past retention is left');

-------------------------------------------------------------------------------
-- One organization with a short retention (1 day) and 40 events over the
-- year beside the others: its 39 due events, among others' rows, are deleted
-- through the index still (a draft of 1.12 read the whole table for them).
-------------------------------------------------------------------------------
INSERT INTO tenancy.organizations (id, slug, name, event_retention)
VALUES (md5('pev101')::uuid, 'pev-101', 'Purge short', interval '1 day');
INSERT INTO tenancy.events (organization_id, user_id, kind, at)
SELECT md5('pev101')::uuid, md5('pev-user101')::uuid, 'short', now() - k * interval '9 days'
FROM generate_series(0, 39) k;
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
SELECT pg_temp.kept() AS before_short \gset
SELECT is(pg_temp.purge_reads(), 'sequential scans 0, index scans some',
          'short retention: its few due events are deleted through the index');
SELECT is(pg_temp.kept(NULL, 101), 1::bigint, 'short retention: that organization keeps its newest event');
SELECT is(pg_temp.kept(), :before_short::bigint - 39, 'short retention: nothing else goes');

-------------------------------------------------------------------------------
-- A shorter retention for a thousand events (30 days), and twenty more
-- distinct ones (341 to 360 days): each organization loses what is past its
-- own. (These due events lie among everyone's rows, so many that reading the
-- table once is cheaper: whichever plan.)
-------------------------------------------------------------------------------
UPDATE tenancy.organizations SET event_retention = interval '30 days' WHERE slug = 'pev-7';
UPDATE tenancy.organizations SET event_retention = (330 + substr(slug, 5)::int) * interval '1 day'
WHERE slug ~ '^pev-(1[1-9]|2[0-9]|30)$';
SELECT pg_temp.kept(interval '30 days', 7) AS due_7 \gset
SELECT pg_temp.past_retention() AS due_all \gset
SELECT pg_temp.kept() AS before_short \gset
SELECT is(:due_all::bigint > :due_7, true, 'distinct retentions: some of them are due too');
SELECT is(tenancy.purge_events() >= :due_all, true, 'distinct retentions: the purge removes them');
SELECT is(pg_temp.past_retention(), 0::bigint,
          'distinct retentions: no organization keeps an event past its retention');
SELECT is(pg_temp.kept(NULL, 7), 1000::bigint - 1 - :due_7,
          'distinct retentions: the 30-day organization keeps its newer events');
SELECT is(pg_temp.kept(), :before_short::bigint - :due_all,
          'distinct retentions: nothing else goes');
-- The purge's own now() was a moment before this statement's.
SELECT is((SELECT events_complete_since BETWEEN now() - interval '1 day 1 minute'
                                            AND now() - interval '1 day'
           FROM tenancy.rollup_state),
          true, 'distinct retentions: events_complete_since is the newest bound (the 1-day one)');

-------------------------------------------------------------------------------
-- Events not rolled up yet stay, whatever their age.
-------------------------------------------------------------------------------
INSERT INTO tenancy.events (organization_id, user_id, kind, at)
VALUES (md5('pev7')::uuid, md5('pev-user7')::uuid, 'late', now() - interval '100 days');
SELECT tenancy.purge_events() AS ignored \gset
SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id = md5('pev7')::uuid
           AND kind = 'late'), 1::bigint, 'not rolled up: an old event waits for its run');
SELECT count(*) AS ignored FROM tenancy.run_rollups(wait => true) \gset
SELECT tenancy.purge_events() AS ignored \gset
SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id = md5('pev7')::uuid
           AND kind = 'late'), 0::bigint, 'not rolled up: once counted, it goes');

-------------------------------------------------------------------------------
-- Statistics taken before a purge still count the rows it removed (1.13):
-- the changes since are taken off the estimate, so the next day's purge,
-- with a day's worth due, still goes through the index. Every organization
-- is moved, other tests' too (theirs are put back after); autovacuum is kept
-- from analyzing events meanwhile, as it would not for a purge of under a
-- tenth of a larger table.
-------------------------------------------------------------------------------
CREATE TEMP TABLE other_retentions AS
SELECT id, event_retention FROM tenancy.organizations WHERE slug NOT LIKE 'pev-%';
ALTER TABLE tenancy.events SET (autovacuum_enabled = false);
UPDATE tenancy.organizations SET event_retention = interval '300 days';
ANALYZE tenancy.events;
SELECT tenancy.purge_events() AS stale_removed \gset
SELECT pg_stat_force_next_flush();
SELECT cmp_ok(:stale_removed::bigint, '>', 10000::bigint,
              'stale statistics: a purge removes more than the limit (10,000 rows here)');
UPDATE tenancy.organizations SET event_retention = interval '299 days';
SELECT is(pg_temp.purge_reads(), 'sequential scans 0, index scans some',
          'stale statistics: the next day''s purge still goes through the index');
ALTER TABLE tenancy.events RESET (autovacuum_enabled);
UPDATE tenancy.organizations o SET event_retention = r.event_retention
FROM other_retentions r WHERE o.id = r.id;

-------------------------------------------------------------------------------
-- Half the table due: whichever plan, exactly the rows past retention. The
-- planner settings the purge may switch off for its statement are the
-- caller's again after it, whatever they were.
-------------------------------------------------------------------------------
-- With every organization at 180 days, the statistics of `at` tell that
-- half of it is due (1.13): no count, the table read once. (Other tests'
-- organizations are moved too, and back, in a transaction rolled back.)
BEGIN;
UPDATE tenancy.organizations SET event_retention = interval '180 days';
SELECT sequential AS half_sequential, index AS half_index FROM pg_temp.purge_scans() \gset
ROLLBACK;
SELECT is(:half_sequential::bigint || ' sequential, ' || :half_index || ' index', '1 sequential, 0 index',
          'half due: the statistics tell, and the table is read once without counting');
-- The same where the DateStyle writes time zone abbreviations PostgreSQL
-- does not read back (the statistics were read through text at first).
BEGIN;
UPDATE tenancy.organizations SET event_retention = interval '180 days';
SET LOCAL datestyle = 'SQL, DMY';
SET LOCAL timezone = 'Asia/Jakarta';
SELECT sequential AS half_sequential, index AS half_index FROM pg_temp.purge_scans() \gset
ROLLBACK;
SELECT is(:half_sequential::bigint || ' sequential, ' || :half_index || ' index', '1 sequential, 0 index',
          'half due, DateStyle SQL in Asia/Jakarta: the same');
UPDATE tenancy.organizations SET event_retention = interval '180 days' WHERE slug LIKE 'pev-%';
SELECT pg_temp.kept() - pg_temp.kept(interval '180 days') AS newer \gset
SELECT tenancy.purge_events() AS ignored \gset
SELECT is(pg_temp.kept(), :newer::bigint, 'half due: exactly the newer half is kept');
SELECT is(concat_ws('/', current_setting('jit'), current_setting('enable_seqscan'),
                 current_setting('enable_hashjoin'), current_setting('enable_mergejoin')), 'on/on/on/on',
          'settings: the planner settings are on again after a purge');
SET enable_mergejoin = off;
SELECT tenancy.purge_events() AS ignored \gset
SELECT is(concat_ws('/', current_setting('jit'), current_setting('enable_seqscan'),
                 current_setting('enable_hashjoin'), current_setting('enable_mergejoin')), 'on/on/on/off',
          'settings: and as the caller had them');
-- A caller's settings that keep the planner from indexes do not turn the
-- counts into reads of the whole table, once per organization (1.13), and
-- are the caller's again after. (Fresh statistics first: the half just
-- removed is still in them, and this session's count of changes may not have
-- reached the statistics system yet, which makes the estimate say "many".)
ANALYZE tenancy.events;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
SET enable_nestloop = off;
SELECT is(pg_temp.purge_reads(), 'sequential scans 0, index scans some',
          'settings: a caller''s index and nested loop settings off, the purge still probes the index');
SELECT is(concat_ws('/', current_setting('enable_indexscan'), current_setting('enable_indexonlyscan'),
                 current_setting('enable_bitmapscan'), current_setting('enable_nestloop'), current_setting('enable_mergejoin')),
          'off/off/off/off/off', 'settings: and they are the caller''s again after it');
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
RESET enable_nestloop;
RESET enable_mergejoin;

DELETE FROM tenancy.organizations WHERE slug LIKE 'pev-%';
UPDATE tenancy.rollup_state SET events_complete_since = nullif(:'complete_since_before', '')::timestamptz;
SELECT * FROM finish();
