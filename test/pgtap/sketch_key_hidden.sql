-- tenancy.sketch_key (1.25), the key the rollups hash user ids with in their
-- distinct-user sketches, is out of the application's reach: with it, a
-- teacher could hash the members' ids again and test them against
-- file_rollups.user_sketch (red-team rt30, finding 2). The sketches stay
-- readable (the stats views merge them as the caller). What a teacher can
-- no longer learn from real rollup rows is shown in
-- test/pgtap_superuser/sketch_key_rollups.sql (rollup rows are the DBA's to
-- make: run_rollups is not the application's).
-- Runs as the application login (tenancy_test_app) inside one transaction that
-- is rolled back, so it leaves nothing behind and can run any number of times.
BEGIN;
SELECT plan(14);

SELECT 'skey-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS owner_id, gen_random_uuid() AS teacher_id
\gset
SELECT tenancy.create_organization(:'run', 'Sketch Key School', :'owner_id') AS org \gset

-- No privilege of any kind, through tenancy_app or PUBLIC.
SELECT ok(NOT has_table_privilege('tenancy.sketch_key',
                                  'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
          'the application login holds no privilege on tenancy.sketch_key');
SELECT ok(NOT has_any_column_privilege('tenancy.sketch_key', 'SELECT, INSERT, UPDATE, REFERENCES'),
          'nor on any of its columns');
SELECT ok(NOT has_function_privilege('tenancy.sketch_key_replace()', 'EXECUTE'),
          'nor may it execute its trigger function');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class
           WHERE oid = 'tenancy.sketch_key'::regclass)
          AND NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = 'tenancy.sketch_key'::regclass),
          'row level security enabled and forced, no policy');
-- The sketches themselves stay readable, as the other figures.
SELECT ok(has_column_privilege('tenancy.file_rollups', 'user_sketch', 'SELECT')
          AND has_column_privilege('tenancy.event_rollups', 'user_sketch', 'SELECT'),
          'the rollups'' user_sketch columns stay readable (the stats views merge them)');

SELECT tenancy.set_context(:'org', :'owner_id') AS role_owner \gset
INSERT INTO tenancy.members (user_id, role) VALUES (:'teacher_id', 'teacher');
SELECT throws_ok('SELECT key FROM tenancy.sketch_key', '42501', NULL, 'owner: reading the key is refused');
SELECT throws_ok('SELECT count(*) FROM tenancy.sketch_key', '42501', NULL, 'owner: even counting keys is refused');

SELECT tenancy.set_context(:'org', :'teacher_id') AS role_teacher \gset
SELECT throws_ok('SELECT key FROM tenancy.sketch_key', '42501', NULL, 'teacher: reading the key is refused');
SELECT throws_ok($$INSERT INTO tenancy.sketch_key (key) VALUES ('\x00000000000000000000000000000000')$$,
                 '42501', NULL, 'teacher: a key of its own choosing is refused');
SELECT throws_ok('INSERT INTO tenancy.sketch_key DEFAULT VALUES', '42501', NULL,
                 'teacher: a new key (which would split the sketches) is refused');
SELECT throws_ok('DELETE FROM tenancy.sketch_key', '42501', NULL, 'teacher: deleting the key is refused');
SELECT throws_ok('TRUNCATE tenancy.sketch_key', '42501', NULL, 'teacher: truncating the key is refused');

SELECT tenancy.clear_context();
SELECT throws_ok('SELECT key FROM tenancy.sketch_key', '42501', NULL,
                 'without a context: reading the key is refused');
SELECT is(:'role_owner' || '/' || :'role_teacher', 'owner/teacher', 'the contexts were the members''');

SELECT * FROM finish();
ROLLBACK;
