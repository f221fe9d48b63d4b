-- The file rollups' views column (1.24) as the application login sees it:
-- readable where the other figures are (file_rollups, file_stats_hourly,
-- file_stats_daily, under the same grants and policies; the sketch of users
-- not, since 1.25), the last column of
-- the two views (DESIGN.md's columns keep their names and order before it),
-- written by nobody but the extension, and the deferred buckets out of reach.
-- Rollup rows are the DBA's to make (run_rollups is not the application's),
-- so what a teacher and a student read of real rows is proved with the
-- application login in test/pgtap_superuser/rollups_exactly_once.sql
-- (section 11); here, that the column reads under every context without
-- error and shows no other organization's rows.
-- Runs as the application login (tenancy_test_app) inside one transaction that
-- is rolled back, so it leaves nothing behind and can run any number of times.
BEGIN;
SELECT plan(20);

SELECT 'views-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS owner_id, gen_random_uuid() AS teacher_id, gen_random_uuid() AS student_id
\gset
SELECT tenancy.create_organization(:'run', 'Views School', :'owner_id') AS org \gset
SELECT tenancy.set_context(:'org', :'owner_id') AS role_owner \gset
INSERT INTO tenancy.members (user_id, role) VALUES (:'teacher_id', 'teacher'), (:'student_id', 'student');

-- Grants: the column is read as the others are, and written by nobody.
SELECT ok(has_column_privilege('tenancy.file_rollups', 'views', 'SELECT')
          AND has_column_privilege('tenancy.file_stats_hourly', 'views', 'SELECT')
          AND has_column_privilege('tenancy.file_stats_daily', 'views', 'SELECT'),
          'the application login may read views in file_rollups, file_stats_hourly and file_stats_daily');
SELECT ok(NOT has_column_privilege('tenancy.file_rollups', 'views', 'INSERT')
          AND NOT has_column_privilege('tenancy.file_rollups', 'views', 'UPDATE'),
          'the application login may not write views');
SELECT ok(NOT has_table_privilege('tenancy.file_rollups_deferred', 'SELECT, INSERT, UPDATE, DELETE')
          AND NOT has_any_column_privilege('tenancy.file_rollups_deferred', 'SELECT, INSERT, UPDATE'),
          'the deferred buckets, views included, are out of the application''s reach');

-- The sketch of each hour's users is not the application's to read (1.25):
-- up to 256 users it is the set of their hashes, which a teacher could match
-- against the members' ids, students whose activity the teacher may not see
-- included. The views count it for the application, as their owner.
SELECT ok(NOT has_column_privilege('tenancy.file_rollups', 'user_sketch', 'SELECT'),
          'the application login may not read file_rollups.user_sketch');
SELECT throws_ok($$SELECT user_sketch FROM tenancy.file_rollups$$, '42501', NULL,
                 'reading the sketch: 42501');
SELECT throws_ok($$SELECT * FROM tenancy.file_rollups$$, '42501', NULL,
                 'SELECT * of file_rollups names the sketch: 42501');
SELECT throws_ok($$SELECT user_sketch FROM tenancy.file_rollups_read$$, '42501', NULL,
                 'the views'' internal source is out of reach: 42501');
SELECT lives_ok($$SELECT organization_id, hour, uploads, downloads, bytes_uploaded, bytes_downloaded, views
                  FROM tenancy.file_rollups$$,
                'the other columns of file_rollups read as before');

-- The columns, in order: what DESIGN.md fixes, then views.
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute
                WHERE attrelid = 'tenancy.file_stats_hourly'::regclass AND attnum > 0 ORDER BY attnum),
          ARRAY['organization_id', 'hour', 'uploads', 'downloads', 'bytes_uploaded',
                'bytes_downloaded', 'users', 'views'],
          'file_stats_hourly: DESIGN.md''s columns in their order, views last');
SELECT is(ARRAY(SELECT attname::text FROM pg_attribute
                WHERE attrelid = 'tenancy.file_stats_daily'::regclass AND attnum > 0 ORDER BY attnum),
          ARRAY['organization_id', 'day', 'uploads', 'downloads', 'bytes_uploaded',
                'bytes_downloaded', 'users', 'views'],
          'file_stats_daily: DESIGN.md''s columns in their order, views last');
SELECT is(ARRAY(SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                WHERE attrelid IN ('tenancy.file_stats_hourly'::regclass, 'tenancy.file_stats_daily'::regclass,
                                   'tenancy.file_rollups'::regclass)
                  AND attname = 'views'),
          ARRAY['bigint', 'bigint', 'bigint'], 'views is a bigint everywhere');

-- Under each role: the column reads; nothing of another organization shows.
SELECT tenancy.set_context(:'org', :'teacher_id') AS role_teacher \gset
SELECT lives_ok('SELECT views FROM tenancy.file_stats_hourly', 'teacher: views reads in file_stats_hourly');
SELECT lives_ok('SELECT views FROM tenancy.file_stats_daily', 'teacher: views reads in file_stats_daily');
SELECT is((SELECT count(*) FROM tenancy.file_stats_hourly WHERE organization_id <> :'org')
          + (SELECT count(*) FROM tenancy.file_stats_daily WHERE organization_id <> :'org')
          + (SELECT count(*) FROM tenancy.file_rollups WHERE organization_id <> :'org'),
          0::bigint, 'teacher: no other organization''s figures');
SELECT throws_ok('UPDATE tenancy.file_rollups SET views = views + 1', '42501', NULL,
                 'teacher: the counts cannot be changed');
SELECT tenancy.set_context(:'org', :'student_id') AS role_student \gset
SELECT is((SELECT count(*) FROM tenancy.file_stats_hourly) + (SELECT count(*) FROM tenancy.file_stats_daily)
          + (SELECT count(*) FROM tenancy.file_rollups),
          0::bigint, 'student: no rollups');
SELECT is((SELECT coalesce(sum(views), 0) FROM tenancy.file_stats_daily), 0::numeric,
          'student: no views');
SELECT throws_ok('UPDATE tenancy.file_rollups SET views = 0', '42501', NULL,
                 'student: the counts cannot be changed');
SELECT tenancy.clear_context();
SELECT is((SELECT count(*) FROM tenancy.file_stats_hourly) + (SELECT count(*) FROM tenancy.file_stats_daily)
          + (SELECT count(*) FROM tenancy.file_rollups),
          0::bigint, 'without a context: no rollups');
SELECT is(:'role_teacher' || '/' || :'role_student', 'teacher/student', 'the contexts were the members''');

SELECT * FROM finish();
ROLLBACK;
