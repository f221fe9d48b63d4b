-- The file access log is partitioned by month of `at` (UTC). The months this
-- suite runs in have names that carry their date: they are shown by what they
-- cover, the fixed months of 2020 below by name.
SET client_min_messages = warning;
-- run_rollups (file_audit.sql, analytics.sql) already made this month and
-- the next two (unless the month turned since: then this makes one more).
SELECT tenancy.maintain_file_access_log() <= 1 AS maintained;
SELECT count(*) FILTER (WHERE from_at <= now() AND now() < to_at) AS covering_now,
       count(*) FILTER (WHERE from_at > now()) AS ahead,
       count(*) FILTER (WHERE is_default) AS default_partitions
FROM tenancy.file_access_log_partitions();
-- A month that turns while this file runs would make each maintenance below
-- add a month of its own to the count it shows: one more month ahead now
-- keeps those counts to the months of 2016 to 2020 they are about.
SELECT tenancy.maintain_file_access_log(3) BETWEEN 1 AND 2 AS one_more_ahead;
-- Bounds are whole UTC months, whatever the session's time zone.
SET TimeZone = 'America/Los_Angeles';
SELECT bool_and(from_at AT TIME ZONE 'UTC' = date_trunc('month', from_at AT TIME ZONE 'UTC')
                AND to_at AT TIME ZONE 'UTC' = (from_at AT TIME ZONE 'UTC') + interval '1 month')
       AS whole_utc_months
FROM tenancy.file_access_log_partitions() WHERE NOT is_default;
RESET TimeZone;
SELECT tenancy.maintain_file_access_log(NULL);
SELECT tenancy.maintain_file_access_log(-1);
SELECT tenancy.maintain_file_access_log(121);

INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-00000000aa01', 'months', 'Months');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-b000-00000000aa01', 'owner');

-- An upload's audit row lands in the current month's partition.
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000aa01',
                           '00000000-0000-4000-b000-00000000aa01');
INSERT INTO tenancy.files (id, path, name, size_bytes)
VALUES ('00000000-0000-4000-c000-00000000aa01', 'months/a', 'a', 10);
SELECT tenancy.record_file_access('00000000-0000-4000-c000-00000000aa01');
COMMIT;
-- The application reads the log through its policies, never a partition.
SELECT count(*) FROM tenancy.file_access_log_default;
\c - postgres
SELECT l.action, p.from_at <= l.at AND l.at < p.to_at AS in_its_month
FROM tenancy.file_access_log l
JOIN tenancy.file_access_log_partitions() p ON p.partition = l.tableoid
WHERE l.file_id = '00000000-0000-4000-c000-00000000aa01' ORDER BY l.id;
-- A DBA's row trigger on one month, not on the log, fires for the rows
-- record_file_access() appends there (1.24 library; before, XX000
-- "AfterTriggerSaveEvent() called outside of query", crash review of 1.23).
CREATE TABLE public.month_copies (id bigint);
GRANT INSERT ON public.month_copies TO tenancy_app;
CREATE FUNCTION public.copy_log_row() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN INSERT INTO public.month_copies VALUES (NEW.id); RETURN NEW; END$$;
SELECT partition AS current_month FROM tenancy.file_access_log_partitions()
WHERE from_at <= now() AND now() < to_at AND NOT is_default \gset
CREATE TRIGGER copy_log_row AFTER INSERT ON :current_month
    FOR EACH ROW EXECUTE FUNCTION public.copy_log_row();
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000aa01',
                           '00000000-0000-4000-b000-00000000aa01');
SELECT tenancy.record_file_access('00000000-0000-4000-c000-00000000aa01');
COMMIT;
RESET ROLE;
SELECT count(*) AS copied FROM public.month_copies;
DROP TRIGGER copy_log_row ON :current_month;
DROP TABLE public.month_copies;
DROP FUNCTION public.copy_log_row();

-- Rows of a month without a partition go to the default partition, and
-- maintenance gives their month a partition and moves them there. (The
-- superuser writes the log directly here, to date rows in 2020.)
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, bytes, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'download', 1,
     '2020-01-15 12:00+00'),
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'download', 2,
     '2020-01-31 23:30-05'),  -- February in UTC
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view', NULL,
     '2020-02-10 08:00+00');
SELECT count(*) AS in_default FROM ONLY tenancy.file_access_log_default;
SELECT tenancy.maintain_file_access_log();
SELECT partition, from_at AT TIME ZONE 'UTC' AS from_utc, to_at AT TIME ZONE 'UTC' AS to_utc,
       (SELECT count(*) FROM tenancy.file_access_log l WHERE l.tableoid = p.partition) AS log_rows
FROM tenancy.file_access_log_partitions() p WHERE from_at < '2021-01-01' OR is_default;
SELECT count(*) = count(DISTINCT id) AS ids_unique FROM tenancy.file_access_log;

-- Append-only, partition by partition, for the superuser too.
\set VERBOSITY terse
DELETE FROM tenancy.file_access_log_2020_01;
UPDATE tenancy.file_access_log_2020_02 SET bytes = 0;
TRUNCATE tenancy.file_access_log_2020_01;
TRUNCATE tenancy.file_access_log;
DROP TABLE tenancy.file_access_log_2020_01;
DROP TABLE IF EXISTS public.nothing_here, tenancy.file_access_log_2020_02;
ALTER TABLE tenancy.file_access_log DETACH PARTITION tenancy.file_access_log_2020_01;
DROP TABLE tenancy.file_access_log_default;
-- The guard knows the log by what it is, not by its name. Since the 1.10
-- library it refuses the renames themselves; a superuser who sets it aside
-- for them still meets it after.
BEGIN;
ALTER TABLE tenancy.file_access_log RENAME TO file_access_log_renamed;
ROLLBACK;
BEGIN;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
ALTER TABLE tenancy.file_access_log RENAME TO file_access_log_renamed;
ALTER SCHEMA tenancy RENAME TO tenancy_renamed;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
SAVEPOINT renamed;
DROP TABLE tenancy_renamed.file_access_log_2020_01;
ROLLBACK TO SAVEPOINT renamed;
ALTER TABLE tenancy_renamed.file_access_log_renamed DETACH PARTITION tenancy_renamed.file_access_log_2020_01;
ROLLBACK;
\set VERBOSITY default
-- Months belong to the log's owner, whoever made them: dropping what the
-- maintainer owns leaves them.
CREATE ROLE tenancy_months_maintainer SUPERUSER;
SET ROLE tenancy_months_maintainer;
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '2020-11-11 11:00+00');
SELECT tenancy.maintain_file_access_log();
RESET ROLE;
SELECT relowner::regrole AS owner FROM pg_class WHERE oid = 'tenancy.file_access_log_2020_11'::regclass;
DROP OWNED BY tenancy_months_maintainer;
DROP ROLE tenancy_months_maintainer;
SELECT count(*) AS rows_of_2020_11 FROM tenancy.file_access_log_2020_11;
-- A table that already has a month's name: that month stays in the default
-- partition, with a warning, until the name is free.
CREATE TABLE tenancy.file_access_log_2020_12 (note text);
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '2020-12-24 18:00+00');
SET client_min_messages = notice;
SELECT tenancy.maintain_file_access_log();
SET client_min_messages = warning;
DROP TABLE tenancy.file_access_log_2020_12;
SELECT tenancy.maintain_file_access_log();
-- The statements that make a month take a table of schema tenancy, made
-- first, named as the months are (1.22; before, any name, the empty one
-- included).
SELECT tenancy.file_access_log_partition_ddl('');
SELECT tenancy.file_access_log_partition_ddl('file_access_log_2020_13');
SELECT tenancy.file_access_log_partition_ddl('organizations');
SELECT count(*) AS statements, count(*) FILTER (WHERE s LIKE '%file_access_log_2020_11%') AS naming_it
FROM tenancy.file_access_log_partition_ddl('file_access_log_2020_11') s;
-- Rows dated 'infinity', before the year 1 or after 9999 have no month to
-- go to: they stay in the default partition, and maintenance goes on.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view', 'infinity'),
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '294276-12-15 00:00+00'),
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '0044-03-15 12:00+00 BC');
SELECT tenancy.maintain_file_access_log();
SELECT count(*) AS left_in_default FROM ONLY tenancy.file_access_log_default;
-- The row dated 'infinity' belongs to no hour (1.15 library; before, the
-- rollups made one past the end of timestamptz, and file_stats_daily failed
-- with 22008): the latest hour is the one in 294276.
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT max(hour) AS latest_hour FROM tenancy.file_rollups
WHERE organization_id = '00000000-0000-4000-a000-00000000aa01';
SELECT count(*) > 0 AS daily_readable FROM tenancy.file_stats_daily;
-- Maintenance reads the catalog on a fresh snapshot each time: not under
-- REPEATABLE READ (run_rollups there leaves it to its next run).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT tenancy.maintain_file_access_log();
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();
ROLLBACK;
-- Other tables' DDL is not in the way.
CREATE TABLE public.months_scratch (v int);
ALTER TABLE public.months_scratch ADD COLUMN w int;
DROP TABLE public.months_scratch;
-- pg_tenancy's own checks see nothing wrong with the log.
SELECT count(*) AS log_findings FROM tenancy.check() WHERE object LIKE '%file_access_log%';

-- Deleting an organization while maintenance moves its rows out of the
-- default partition: the deletion waits, then finds them in their month.
\i sql/include/two_sessions.sql
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-00000000aa02', 'months-race', 'Months race');
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa02', '00000000-0000-4000-c000-00000000aa02', 'view',
     '2020-09-10 00:00+00'),
    ('00000000-0000-4000-a000-00000000aa02', '00000000-0000-4000-c000-00000000aa02', 'view',
     '2020-09-11 00:00+00');
SELECT pg_temp.connect('maintainer'), pg_temp.connect('deleter');
SELECT pg_temp.hold_while('maintainer', 'SELECT tenancy.maintain_file_access_log()::text',
                          'deleter', $$DELETE FROM tenancy.organizations
                                       WHERE id = '00000000-0000-4000-a000-00000000aa02'$$);
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT * FROM dblink_get_result('deleter') AS t(status text);
SELECT count(*) AS log_rows_of_deleted_organization FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-00000000aa02';

-- Retention drops whole months once the rollups have counted all their
-- rows; a month with a row not yet counted waits for the next purge.
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '2020-03-05 00:00+00');
SELECT tenancy.maintain_file_access_log();
SELECT tenancy.purge_file_access_log('1 year') AS purged;
SELECT partition FROM tenancy.file_access_log_partitions() WHERE from_at < '2021-01-01';
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT tenancy.purge_file_access_log('1 year') AS purged;
SELECT partition FROM tenancy.file_access_log_partitions() WHERE from_at < '2021-01-01';
SELECT older_than, rows_purged FROM tenancy.file_access_log_purges ORDER BY id DESC LIMIT 2;
-- A purge that meets a writer of a month it would drop waits for it, and
-- then keeps the month for the row it has not counted yet.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '2020-10-01 00:00+00');
SELECT tenancy.maintain_file_access_log();
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT pg_temp.hold_while('maintainer', $$INSERT INTO tenancy.file_access_log
                                            (organization_id, file_id, action, at)
                                          VALUES ('00000000-0000-4000-a000-00000000aa01',
                                                  '00000000-0000-4000-c000-00000000aa01', 'view',
                                                  '2020-10-20 00:00+00')
                                          RETURNING 'written'::text$$,
                          'deleter', $$SELECT tenancy.purge_file_access_log('1 year')$$);
SELECT * FROM dblink_get_result('deleter') AS t(purged bigint);
SELECT * FROM dblink_get_result('deleter') AS t(purged bigint);
SELECT partition, (SELECT count(*) FROM tenancy.file_access_log l WHERE l.tableoid = p.partition)
FROM tenancy.file_access_log_partitions() p WHERE from_at < '2021-01-01';
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT tenancy.purge_file_access_log('1 year') AS purged;
-- A transaction that has already read the log does not wait for the
-- rollup state row (waiting there would break the lock order): 55P03.
SELECT dblink_exec('maintainer', 'BEGIN');
SELECT * FROM dblink('maintainer', 'SELECT true FROM tenancy.rollup_state FOR UPDATE') AS t(locked boolean);
BEGIN;
SELECT count(*) >= 0 AS read_the_log FROM tenancy.file_access_log;
\set VERBOSITY terse
SELECT tenancy.purge_file_access_log('1 year');
\set VERBOSITY default
ROLLBACK;
SELECT dblink_exec('maintainer', 'COMMIT');
SELECT dblink_disconnect('maintainer'), dblink_disconnect('deleter');
-- The cutoff is exact whatever the session's settings (Asia/Kolkata's IST
-- would read back as Israel's through a text literal).
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT '00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa02', 'view',
       now() - interval '240 hours' + h * interval '1 hour'  -- (10 days in Asia/Kolkata, no DST)
FROM unnest(ARRAY[-2, -1, 1, 2, 3]) h;
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SELECT tenancy.purge_file_access_log('10 days') AS purged;
RESET TimeZone;
RESET DateStyle;
SELECT count(*) AS inside_the_window FROM tenancy.file_access_log
WHERE file_id = '00000000-0000-4000-c000-00000000aa02';
-- This month's rows stay (and the ones dated 'infinity' and in 294276).
SELECT count(*) FILTER (WHERE at < '3000-01-01') AS left_this_month,
       count(*) FILTER (WHERE at >= '3000-01-01') AS left_far_future
FROM tenancy.file_access_log WHERE file_id = '00000000-0000-4000-c000-00000000aa01';
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000aa01';
SELECT count(*) AS left_after_organization FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-00000000aa01';
-- A month that cannot be made (a DBA's event trigger refuses its CREATE
-- TABLE here) is rolled back alone, with a WARNING; its rows wait in the
-- default partition, and run_rollups keeps the rollups it counted.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-00000000aa03', 'months-refused', 'Months refused');
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa03', '00000000-0000-4000-c000-00000000aa03', 'view',
     '2019-04-04 04:00+00'),
    ('00000000-0000-4000-a000-00000000aa03', '00000000-0000-4000-c000-00000000aa03', 'view',
     '2019-05-05 05:00+00');
-- It refuses the first table only (the sequence is not rolled back with
-- the month): April's, the earliest month missing.
CREATE SEQUENCE public.tables_refused;
CREATE FUNCTION public.refuse_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF nextval('public.tables_refused') = 1 THEN
        RAISE EXCEPTION 'no new table this time' USING ERRCODE = 'P0001', DETAIL = 'a DBA''s event trigger';
    END IF;
END
$$;
CREATE EVENT TRIGGER refuse_new_tables ON ddl_command_start WHEN TAG IN ('CREATE TABLE')
    EXECUTE FUNCTION public.refuse_new_tables();
SELECT runs AS runs_before FROM tenancy.rollup_state \gset
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT runs - :runs_before AS runs_kept,
       (SELECT count(*) FROM ONLY tenancy.file_access_log_default
        WHERE organization_id = '00000000-0000-4000-a000-00000000aa03') AS waiting_in_default,
       to_regclass('tenancy.file_access_log_2019_04') AS april,
       to_regclass('tenancy.file_access_log_2019_05') AS may
FROM tenancy.rollup_state;
-- check() reports the rows left waiting.
SELECT severity, finding FROM tenancy.check() WHERE object = 'tenancy.file_access_log';
-- A statement timeout there cancels the whole run, as it would without
-- maintenance, with the error as it was raised (its CONTEXT says where).
-- The timeout leaves the run time to reach the month (a slower machine, or
-- a slow step before it: 1.19's library spent up to 0.4 s there) and fires in
-- the event trigger's sleep.
CREATE OR REPLACE FUNCTION public.refuse_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(30);
END
$$;
SET statement_timeout = '3s';
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();
RESET statement_timeout;
DROP EVENT TRIGGER refuse_new_tables;
DROP FUNCTION public.refuse_new_tables();
DROP SEQUENCE public.tables_refused;
-- A type of a month's name keeps that month from being made (a table's row
-- type takes its name), as a relation of that name does.
CREATE DOMAIN tenancy.file_access_log_2019_04 AS int;
SET client_min_messages = notice;
SELECT tenancy.maintain_file_access_log();
SET client_min_messages = warning;
DROP DOMAIN tenancy.file_access_log_2019_04;
SELECT tenancy.maintain_file_access_log();
SELECT count(*) AS rows_of_2019_04 FROM tenancy.file_access_log_2019_04;
SELECT severity, finding FROM tenancy.check() WHERE object = 'tenancy.file_access_log';
-- The default partition keeps its name and schema (42501), ALTER INDEX …
-- RENAME (which renames tables too) included.
ALTER TABLE tenancy.file_access_log_default RENAME TO file_access_log_elsewhere;
ALTER INDEX tenancy.file_access_log_default RENAME TO file_access_log_elsewhere;
ALTER TABLE IF EXISTS tenancy.file_access_log_default SET SCHEMA public;
-- Nor may a month change owner (DROP OWNED BY its new owner would drop it).
ALTER TABLE tenancy.file_access_log_2019_04 OWNER TO CURRENT_USER;
-- A failure of maintenance outside any one month (here its default
-- partition renamed away, by a superuser who disabled the guard) is a
-- WARNING of run_rollups, which keeps its rollups.
BEGIN;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
ALTER TABLE tenancy.file_access_log_default RENAME TO file_access_log_elsewhere;
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa03', '00000000-0000-4000-c000-00000000aa03', 'view',
     '2018-08-08 08:00+00');
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
-- check() finds the default partition by what it is, not by its name.
SELECT severity, finding FROM tenancy.check() WHERE object = 'tenancy.file_access_log';
ROLLBACK;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000aa03';
-- A purge waits for the log's lock (to drop whole months) only so long
-- (tenancy.purge_lock_timeout), since file writes queue behind it while it
-- waits. Without the lock in time it leaves those months for the next
-- purge, with a WARNING, and keeps the rest of its work.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-00000000aa04', 'months-busy', 'Months busy');
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa04', '00000000-0000-4000-c000-00000000aa04', 'view',
     '2017-07-07 07:00+00'),
    ('00000000-0000-4000-a000-00000000aa04', '00000000-0000-4000-c000-00000000aa04', 'view',
     '0044-03-15 12:00+00 BC');
SELECT tenancy.maintain_file_access_log();
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT pg_temp.connect('reader'), pg_temp.connect('purger');
SELECT dblink_exec('reader', 'BEGIN');
SELECT * FROM dblink('reader', 'SELECT count(*) > 0 FROM tenancy.file_access_log') AS t(read_the_log boolean);
SET tenancy.purge_lock_timeout = '100ms';
SET client_min_messages = notice;
SELECT tenancy.purge_file_access_log('1 year') AS purged;
SET client_min_messages = warning;
RESET tenancy.purge_lock_timeout;
SELECT partition, (SELECT count(*) FROM tenancy.file_access_log l WHERE l.tableoid = p.partition)
FROM tenancy.file_access_log_partitions() p WHERE to_at <= '2020-01-01';
SELECT dblink_exec('reader', 'COMMIT');
-- The same when only one of those months is in use (here by a reader of it
-- alone): the purge waits for it no longer than for the log, then lets the
-- log go too.
SELECT dblink_exec('reader', 'BEGIN');
SELECT * FROM dblink('reader', 'SELECT count(*) FROM ONLY tenancy.file_access_log_2017_07') AS t(rows_of_2017_07 bigint);
SET tenancy.purge_lock_timeout = '100ms';
SET client_min_messages = notice;
SELECT tenancy.purge_file_access_log('1 year') AS purged;
SET client_min_messages = warning;
RESET tenancy.purge_lock_timeout;
SELECT dblink_exec('reader', 'COMMIT');
SELECT tenancy.purge_file_access_log('1 year') AS purged;
SELECT count(*) AS months_before_2020 FROM tenancy.file_access_log_partitions()
WHERE to_at <= '2020-01-01';
-- A purge that would deadlock for that lock gives way in the same manner:
-- here with a transaction that has read the log, then deletes an
-- organization whose row the purge has deleted (it waits for the purge),
-- which goes on.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa04', '00000000-0000-4000-c000-00000000aa04', 'view',
     '2016-06-06 06:00+00'),
    ('00000000-0000-4000-a000-00000000aa04', '00000000-0000-4000-c000-00000000aa04', 'view',
     '0044-03-15 12:00+00 BC');
SELECT tenancy.maintain_file_access_log();
SELECT count(*) > 0 AS counted FROM tenancy.run_rollups();
SELECT dblink_exec('purger', 'SET tenancy.purge_lock_timeout = 0'),
       dblink_exec('purger', $$SET deadlock_timeout = '1s'$$);
BEGIN;
SET LOCAL deadlock_timeout = '60s';
SELECT count(*) > 0 AS read_the_log FROM tenancy.file_access_log;
SELECT dblink_send_query('purger', $$SELECT tenancy.purge_file_access_log('1 year')$$);
SELECT pg_temp.waits_on_lock($$SELECT tenancy.purge_file_access_log('1 year')$$) AS purge_waits;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000aa04';
COMMIT;
SELECT * FROM dblink_get_result('purger') AS t(purged bigint);
SELECT * FROM dblink_get_result('purger') AS t(purged bigint);
SELECT partition, (SELECT count(*) FROM tenancy.file_access_log l WHERE l.tableoid = p.partition)
FROM tenancy.file_access_log_partitions() p WHERE to_at <= '2020-01-01';
SELECT count(*) AS left_after_organization FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-00000000aa04';
SELECT dblink_disconnect('reader'), dblink_disconnect('purger');
-- The BRIN indexes of events and of every partition of the log, the months
-- maintenance made included, summarize their page ranges as they fill (1.11):
-- a range not summarized yet matches every rollup run's scan. (How many
-- months there are depends on today's date: counted as at least events, the
-- default partition and one month.)
SELECT count(DISTINCT i.indrelid) >= 3 AS months_included,
       count(*) FILTER (WHERE x.reloptions @> '{autosummarize=on}' IS NOT TRUE) AS not_autosummarized
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
JOIN pg_am a ON a.oid = x.relam AND a.amname = 'brin'
WHERE i.indrelid = 'tenancy.events'::regclass
   OR i.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'tenancy.file_access_log'::regclass);
-- Months made far ahead (here 30; up to 120 are taken) cost every read of
-- the log that does not rule them out and every rollup run: check() warns
-- of the empty ones more than a year ahead, and
-- tenancy.drop_future_log_months() drops the empty months after the
-- current one and the next two (1.23; before, nothing could remove them).
SELECT tenancy.maintain_file_access_log(30) > 0 AS made_far_ahead;
SELECT severity, finding, fix FROM tenancy.check()
WHERE fix = 'SELECT tenancy.drop_future_log_months();';
SELECT tenancy.drop_future_log_months(1);
SELECT tenancy.drop_future_log_months(NULL);
SELECT has_function_privilege('tenancy_app', 'tenancy.drop_future_log_months(integer)', 'EXECUTE')
    AS application_may_drop;
-- What is left ahead: months counted from the current one (UTC), and rows.
CREATE FUNCTION pg_temp.months_ahead() RETURNS TABLE (months_ahead numeric, rows bigint)
    LANGUAGE sql AS $$
    SELECT (extract(year FROM p.from_at AT TIME ZONE 'UTC') - extract(year FROM now() AT TIME ZONE 'UTC')) * 12
           + extract(month FROM p.from_at AT TIME ZONE 'UTC') - extract(month FROM now() AT TIME ZONE 'UTC'),
           (SELECT count(*) FROM tenancy.file_access_log l WHERE l.tableoid = p.partition)
    FROM tenancy.file_access_log_partitions() p WHERE NOT p.is_default AND p.from_at > now()
    ORDER BY p.from_at
$$;
-- A month that holds a row stays. A writer of it holds it: the drop waits
-- for it (under the month's lock), then sees the row and keeps the month.
SELECT pg_temp.connect('writer'), pg_temp.connect('dropper');
SELECT pg_temp.hold_while('writer', $$INSERT INTO tenancy.file_access_log
                                        (organization_id, file_id, action, at)
                                      VALUES ('00000000-0000-4000-a000-00000000aa01',
                                              '00000000-0000-4000-c000-00000000aa01', 'view',
                                              date_trunc('month', now()) + interval '20 months 15 days')
                                      RETURNING 'written'::text$$,
                          'dropper', $$SELECT tenancy.drop_future_log_months()$$);
SELECT * FROM dblink_get_result('dropper') AS t(dropped integer);
SELECT * FROM dblink_get_result('dropper') AS t(dropped integer);
SELECT * FROM pg_temp.months_ahead();
-- A drop under way holds the log: a writer of a month it drops waits, and
-- its row then goes to the default partition, from which maintenance moves
-- it to a month made again.
SELECT tenancy.maintain_file_access_log(25) AS made;
SELECT pg_temp.hold_while('dropper', 'SELECT tenancy.drop_future_log_months()::text',
                          'writer', $$INSERT INTO tenancy.file_access_log
                                        (organization_id, file_id, action, at)
                                      VALUES ('00000000-0000-4000-a000-00000000aa01',
                                              '00000000-0000-4000-c000-00000000aa01', 'view',
                                              date_trunc('month', now()) + interval '25 months 15 days')$$);
SELECT * FROM dblink_get_result('writer') AS t(status text);
SELECT * FROM dblink_get_result('writer') AS t(status text);
SELECT count(*) AS rows_in_default FROM ONLY tenancy.file_access_log_default
WHERE at > now() + interval '2 years';
SELECT * FROM pg_temp.months_ahead();
SELECT tenancy.maintain_file_access_log() AS made;
SELECT * FROM pg_temp.months_ahead();
SELECT count(*) AS far_month_findings FROM tenancy.check()
WHERE fix = 'SELECT tenancy.drop_future_log_months();';
-- run_rollups leaves the months when the log is busy (here its default
-- partition held as autovacuum holds it), and says so in a NOTICE (1.23
-- library; before, nothing); check() does not presume a failure.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at) VALUES
    ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
     '2015-05-05 05:00+00');
SELECT dblink_exec('writer', 'BEGIN'),
       dblink_exec('writer', 'LOCK TABLE ONLY tenancy.file_access_log_default IN SHARE UPDATE EXCLUSIVE MODE');
SET client_min_messages = notice;
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();
SET client_min_messages = warning;
SELECT severity, finding FROM tenancy.check() WHERE finding LIKE 'the default partition%';
-- Maintenance by hand waits for that lock at most tenancy.purge_lock_timeout,
-- then fails with 55P03 (1.25 library; before, without limit, while every
-- read of the log that does not prune the default partition queued behind
-- it: operations review of 1.24, F1).
SET tenancy.purge_lock_timeout = '50ms';
SELECT tenancy.maintain_file_access_log();
SET tenancy.purge_lock_timeout = '10s';
SET lock_timeout = '50ms';
SELECT tenancy.maintain_file_access_log();
RESET lock_timeout;
RESET tenancy.purge_lock_timeout;
SELECT dblink_exec('writer', 'COMMIT');
-- The next run makes the month and moves the row. A month the move filled
-- has its BRIN indexes summarized and is analyzed at once (1.23 library;
-- before, until a VACUUM ANALYZE each rollup run read every page of it).
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();
SELECT sum(brin_summarize_new_values(i.indexrelid)) AS ranges_left_unsummarized,
       (SELECT reltuples FROM pg_class WHERE oid = 'tenancy.file_access_log_2015_05'::regclass)
           AS analyzed_rows
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
JOIN pg_am a ON a.oid = x.relam AND a.amname = 'brin'
WHERE i.indrelid = 'tenancy.file_access_log_2015_05'::regclass;
SELECT count(*) AS waiting_findings FROM tenancy.check() WHERE finding LIKE 'the default partition%';
-- A backlog of more than 100,000 rows in the default partition is left to
-- maintenance by hand: a run would hold the default partition, and appends
-- to those months, for as long as the move lasts, and a job's
-- statement_timeout would cancel it there every minute (1.25 library;
-- operations review of 1.24, F2).
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT '00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
       '2014-07-01 00:00+00'::timestamptz + g * interval '1 second'
FROM generate_series(1, 100001) g;
SET client_min_messages = notice;
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();
SET client_min_messages = warning;
SELECT count(*) AS left_in_default FROM ONLY tenancy.file_access_log_default
WHERE at >= '2014-07-01 00:00+00' AND at < '2014-08-01 00:00+00';
SELECT tenancy.maintain_file_access_log() AS made;
SELECT count(*) AS moved FROM tenancy.file_access_log_2014_07;
SELECT dblink_disconnect('writer'), dblink_disconnect('dropper');
-- Only the extension's own months are dropped: a DBA's partition of the log
-- (a partitioned table, one of another schema or bounds) stays. Scanning a
-- partitioned one crashed the server (review of 1.23).
CREATE TABLE public.archive_2090 (LIKE tenancy.file_access_log INCLUDING CONSTRAINTS INCLUDING DEFAULTS)
    PARTITION BY RANGE (at);
ALTER TABLE tenancy.file_access_log ATTACH PARTITION public.archive_2090
    FOR VALUES FROM ('2090-01-01 00:00:00+00') TO ('2090-03-01 00:00:00+00');
CREATE TABLE public.archive_2091 (LIKE tenancy.file_access_log INCLUDING CONSTRAINTS INCLUDING DEFAULTS);
ALTER TABLE tenancy.file_access_log ATTACH PARTITION public.archive_2091
    FOR VALUES FROM ('2091-01-01 00:00:00+00') TO ('2092-01-01 00:00:00+00');
SELECT tenancy.maintain_file_access_log(26) > 0 AS made_far_ahead;
SET client_min_messages = warning;
SELECT tenancy.drop_future_log_months() > 0 AS dropped_the_empty_months;
RESET client_min_messages;
SELECT partition FROM tenancy.file_access_log_partitions() WHERE from_at >= '2089-12-01' ORDER BY from_at;
-- While it drops months, the log's rows stay guarded: what runs inside the
-- DROP (a DBA's sql_drop event trigger) removes no audit row (1.23; the
-- first version let it, and a month emptied so was then dropped).
SELECT tenancy.maintain_file_access_log(6) > 0 AS made_ahead;
CREATE FUNCTION public.delete_on_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tenancy.file_access_log
    WHERE ctid = (SELECT ctid FROM tenancy.file_access_log LIMIT 1);
END
$$;
CREATE EVENT TRIGGER delete_on_drop ON sql_drop EXECUTE FUNCTION public.delete_on_drop();
\set VERBOSITY terse
SELECT tenancy.drop_future_log_months();
\set VERBOSITY default
DROP EVENT TRIGGER delete_on_drop;
DROP FUNCTION public.delete_on_drop();
SET client_min_messages = warning;
SELECT tenancy.drop_future_log_months() > 0 AS dropped_without_it;
RESET client_min_messages;
-- Not in a statement that still uses the log (1.24 library): a writable
-- CTE runs after the main query, and its row went to the month dropped
-- (before, an internal "could not open relation").
SELECT tenancy.maintain_file_access_log(6) > 0 AS made_ahead;
BEGIN;
WITH appended AS (
    INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
    VALUES ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
            date_trunc('month', now()) + interval '5 months 15 days'))
SELECT tenancy.drop_future_log_months();
ROLLBACK;
SET client_min_messages = warning;
SELECT tenancy.drop_future_log_months() > 0 AS dropped_in_a_statement_of_its_own;
RESET client_min_messages;
-- A generated column a DBA adds to the log: maintenance makes its months
-- with it, and moves rows into them (1.24 library; before, making a month
-- failed, "column ... in child table must be a generated column", and the
-- rows stayed in the default partition: crash review of 1.23).
ALTER TABLE tenancy.file_access_log
    ADD COLUMN at_day date GENERATED ALWAYS AS ((at AT TIME ZONE 'UTC')::date) STORED;
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
VALUES ('00000000-0000-4000-a000-00000000aa01', '00000000-0000-4000-c000-00000000aa01', 'view',
        '2014-03-15 12:00+00');
SELECT tenancy.maintain_file_access_log() AS made;
SELECT l.tableoid::regclass AS partition, l.at_day FROM tenancy.file_access_log l
WHERE l.at = '2014-03-15 12:00+00';
ALTER TABLE tenancy.file_access_log DROP COLUMN at_day;
