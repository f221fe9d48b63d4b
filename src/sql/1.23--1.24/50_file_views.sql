-------------------------------------------------------------------------------
-- The file rollups count views (operations review of 1.22, F11).
--
-- The log records reads as `download` and `view` (record_file_access(file,
-- 'view')), but the rollups counted uploads and downloads only: how often an
-- organization's files were viewed was in the raw log only. file_rollups and
-- file_rollups_deferred get `views`, the number of `view` rows per
-- organization and hour; the views file_stats_hourly and file_stats_daily
-- show it as their last column (CREATE OR REPLACE VIEW adds columns only at
-- the end; an application that names its columns reads them as before).
--
-- The 1.24 library counts them in run_rollups() (deferred buckets too) and
-- rebuild_rollups(); a library before 1.24 leaves the column alone (0 for
-- what it counts). Rows counted before this update keep 0:
-- SELECT tenancy.rebuild_rollups() recounts the hours whose raw rows are
-- still complete (README, Versions and upgrades). `users` is unchanged: it
-- counts everyone who touched a file in the hour, viewers included, as
-- before.
--
-- A constant default: the column is added to the catalog only, no table is
-- rewritten (each table's ACCESS EXCLUSIVE lock for as long as that takes).
-------------------------------------------------------------------------------
DO $$
DECLARE
    taken text;
BEGIN
    -- A DBA's column of that name would stop the upgrade with a bare 42701.
    SELECT string_agg(format('tenancy.%I.%I', c.relname, a.attname), ', ' ORDER BY c.relname)
      INTO taken
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
     WHERE a.attrelid IN ('tenancy.file_rollups'::regclass, 'tenancy.file_rollups_deferred'::regclass)
       AND a.attname = 'views' AND NOT a.attisdropped;
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'pg_tenancy 1.24 adds a column views to tables that have one of yours: %', taken
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_tenancy 1.24 counts the file views of each hour in tenancy.file_rollups.views and tenancy.file_rollups_deferred.views.',
                  HINT = 'Rename or drop your column, then update the extension.';
    END IF;
END
$$;

ALTER TABLE tenancy.file_rollups ADD COLUMN views bigint NOT NULL DEFAULT 0;
ALTER TABLE tenancy.file_rollups_deferred ADD COLUMN views bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN tenancy.file_rollups.views IS
    'The hour''s `view` rows of the file access log (1.24; hours counted before the update to 1.24 hold 0 until rebuild_rollups()).';
COMMENT ON COLUMN tenancy.file_rollups_deferred.views IS
    'The hour''s `view` rows of the file access log (1.24).';

CREATE OR REPLACE VIEW tenancy.file_stats_hourly WITH (security_invoker = true) AS
SELECT organization_id, hour, uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users, views
FROM tenancy.file_rollups;

-- (Sums saturate, as the other columns' do since 1.4.)
CREATE OR REPLACE VIEW tenancy.file_stats_daily WITH (security_invoker = true) AS
SELECT organization_id, day, uploads, downloads, bytes_uploaded, bytes_downloaded,
       tenancy.sketch_distinct_count(user_sketch) AS users, views
FROM (SELECT organization_id, (hour AT TIME ZONE 'UTC')::date AS day,
             least(sum(uploads), 9223372036854775807)::bigint AS uploads,
             least(sum(downloads), 9223372036854775807)::bigint AS downloads,
             least(sum(bytes_uploaded), 9223372036854775807)::bigint AS bytes_uploaded,
             least(sum(bytes_downloaded), 9223372036854775807)::bigint AS bytes_downloaded,
             tenancy.distinct_sketch_union(user_sketch) AS user_sketch,
             least(sum(views), 9223372036854775807)::bigint AS views
      FROM tenancy.file_rollups
      GROUP BY 1, 2) daily;

-- check() reads the extension's own columns and defaults from
-- extension_table_additions(): the new column is the extension's, not an
-- addition of the DBA's (each text replaced occurs once, after
-- 40_organization_deletions.sql's change of the same function).
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    ('file_rollups', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch}'),
    ('file_rollups_deferred', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at}'),
$old$,
    $new$    ('file_rollups', 'default', '{views}'),
    ('file_rollups', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,views}'),
    ('file_rollups_deferred', 'default', '{views}'),
    ('file_rollups_deferred', 'not null', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at,views}'),
$new$);
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    ('file_rollups', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch}'),
$old$,
    $new$    ('file_rollups', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,views}'),
$new$);
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$    ('file_rollups_deferred', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at}'),
$old$,
    $new$    ('file_rollups_deferred', 'column', '{organization_id,hour,uploads,downloads,bytes_uploaded,bytes_downloaded,user_sketch,deferred_at,views}'),
$new$);

COMMENT ON VIEW tenancy.file_stats_hourly IS
    'File access figures per organization and hour (UTC), under the caller''s policies; views since 1.24.';
COMMENT ON VIEW tenancy.file_stats_daily IS
    'File access figures per organization and day (UTC), under the caller''s policies; views since 1.24.';
