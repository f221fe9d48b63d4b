-- The file access log is partitioned by month of `at` (UTC). The months this
-- suite runs in have names that carry their date: they are shown by what they
-- cover, the fixed months of 2020 below by name.
SET client_min_messages = warning;
-- run_rollups (file_audit.sql, analytics.sql) already made this month and
-- the next two.
SELECT tenancy.maintain_file_access_log();
SELECT count(*) FILTER (WHERE from_at <= now() AND now() < to_at) AS covering_now,
       count(*) FILTER (WHERE from_at > now()) AS ahead,
       count(*) FILTER (WHERE is_default) AS default_partitions
FROM tenancy.file_access_log_partitions();
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
\set VERBOSITY default
-- Other tables' DDL is not in the way.
CREATE TABLE public.months_scratch (v int);
ALTER TABLE public.months_scratch ADD COLUMN w int;
DROP TABLE public.months_scratch;
-- pg_tenancy's own checks see nothing wrong with the log.
SELECT count(*) AS log_findings FROM tenancy.check() WHERE object LIKE '%file_access_log%';

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
-- This month's rows stay.
SELECT count(*) AS left_this_month FROM tenancy.file_access_log
WHERE file_id = '00000000-0000-4000-c000-00000000aa01';
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000aa01';
SELECT count(*) AS left_after_organization FROM tenancy.file_access_log
WHERE organization_id = '00000000-0000-4000-a000-00000000aa01';
