-- tenancy.file_access_log is append-only for everyone (DESIGN.md: "written
-- only by the extension's triggers and functions, append-only for everyone";
-- access rules: "nobody updates or deletes").
--   * The application, whatever its member role, cannot UPDATE, DELETE,
--     TRUNCATE, INSERT, MERGE or lock log rows (42501 permission denied), nor
--     purge them (purge_file_access_log is not granted to it), nor switch the
--     guard off (it neither owns the table nor may set session_replication_role).
--   * For the table owner and superusers the guard triggers do the work; this
--     file runs as the application login and cannot act as them, so it asserts
--     in the catalog that the guards exist, call the C guard, and are ENABLED
--     ALWAYS (they fire under session_replication_role = replica as well) for
--     UPDATE, DELETE and TRUNCATE. The superuser attempts themselves are in
--     the pg_regress test sql/file_audit.sql.
--   * Rows outlive their file; work on files only appends.
-- Runs as the application login (tenancy_test_app) inside one transaction
-- that is rolled back: nothing is left behind, reruns never collide.
BEGIN;
SELECT plan(73);

-------------------------------------------------------------------------------
-- The guard, in the catalog.
-------------------------------------------------------------------------------
SELECT has_trigger('tenancy', 'file_access_log', 'file_access_log_append_only',
                   'the row guard trigger file_access_log_append_only exists on tenancy.file_access_log');
SELECT has_trigger('tenancy', 'file_access_log', 'file_access_log_no_truncate',
                   'the TRUNCATE guard trigger file_access_log_no_truncate exists on tenancy.file_access_log');
SELECT results_eq(
    $$SELECT tgname::text COLLATE "default", tgenabled::text,
             (tgtype & 1) <> 0 AS for_each_row, (tgtype & 2) <> 0 AS before,
             (tgtype & 4) <> 0 AS on_insert, (tgtype & 8) <> 0 AS on_delete,
             (tgtype & 16) <> 0 AS on_update, (tgtype & 32) <> 0 AS on_truncate,
             tgfoid = 'tenancy.file_access_log_guard()'::regprocedure AS calls_guard
      FROM pg_trigger
      WHERE tgrelid = 'tenancy.file_access_log'::regclass AND NOT tgisinternal
        AND tgname IN ('file_access_log_append_only', 'file_access_log_no_truncate')
      ORDER BY tgname$$,
    $$VALUES ('file_access_log_append_only', 'A', true,  true, false, true,  true,  false, true),
             ('file_access_log_no_truncate', 'A', false, true, false, false, false, true,  true)$$,
    'the guards are BEFORE UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE, call file_access_log_guard, and are ENABLED ALWAYS');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = 'tenancy.file_access_log'::regclass AND NOT tgisinternal
                    AND tgenabled = 'A' AND (tgtype & 2) <> 0 AND (tgtype & 16) <> 0
                    AND tgfoid = 'tenancy.file_access_log_guard()'::regprocedure),
          'UPDATE of the log is guarded by a BEFORE trigger that is ENABLED ALWAYS (fires under replica too)');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = 'tenancy.file_access_log'::regclass AND NOT tgisinternal
                    AND tgenabled = 'A' AND (tgtype & 2) <> 0 AND (tgtype & 8) <> 0
                    AND tgfoid = 'tenancy.file_access_log_guard()'::regprocedure),
          'DELETE from the log is guarded by a BEFORE trigger that is ENABLED ALWAYS (fires under replica too)');
SELECT ok(EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgrelid = 'tenancy.file_access_log'::regclass AND NOT tgisinternal
                    AND tgenabled = 'A' AND (tgtype & 2) <> 0 AND (tgtype & 32) <> 0
                    AND tgfoid = 'tenancy.file_access_log_guard()'::regprocedure),
          'TRUNCATE of the log is guarded by a BEFORE trigger that is ENABLED ALWAYS (fires under replica too)');
SELECT is((SELECT count(*) FROM pg_trigger
           WHERE tgrelid = 'tenancy.file_access_log'::regclass AND tgenabled = 'D'),
          0::bigint,
          'no trigger on the log is disabled');
SELECT results_eq(
    $$SELECT l.lanname::text COLLATE "default", p.prosrc COLLATE "default", p.prosecdef
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.oid = 'tenancy.file_access_log_guard()'::regprocedure$$,
    $$VALUES ('c', 'tenancy_file_access_log_guard', false)$$,
    'the guard is the C function tenancy_file_access_log_guard (no SQL body anyone could replace)');
SELECT results_eq(
    $$SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'tenancy.file_access_log'::regclass$$,
    $$VALUES (true, true)$$,
    'row level security is enabled and forced on the log');
SELECT results_eq(
    $$SELECT polname::text COLLATE "default", polcmd::text FROM pg_policy
      WHERE polrelid = 'tenancy.file_access_log'::regclass ORDER BY polname$$,
    $$VALUES ('file_access_log_select', 'r')$$,
    'the log has a SELECT policy and no policy that would let anyone write rows');

-------------------------------------------------------------------------------
-- Privileges: the application may read, and nothing else.
-------------------------------------------------------------------------------
SELECT ok(has_table_privilege('tenancy_app', 'tenancy.file_access_log', 'SELECT'),
          'tenancy_app may SELECT the log (rows filtered by policy)');
SELECT ok(NOT has_table_privilege('tenancy_app', 'tenancy.file_access_log', 'UPDATE'),
          'tenancy_app has no UPDATE privilege on the log');
SELECT ok(NOT has_table_privilege('tenancy_app', 'tenancy.file_access_log', 'DELETE'),
          'tenancy_app has no DELETE privilege on the log');
SELECT ok(NOT has_table_privilege('tenancy_app', 'tenancy.file_access_log', 'TRUNCATE'),
          'tenancy_app has no TRUNCATE privilege on the log');
SELECT ok(NOT has_table_privilege('tenancy_app', 'tenancy.file_access_log', 'INSERT'),
          'tenancy_app has no INSERT privilege on the log (rows are appended by the extension)');
SELECT ok(NOT has_any_column_privilege('tenancy_app', 'tenancy.file_access_log', 'UPDATE')
          AND NOT has_any_column_privilege('tenancy_app', 'tenancy.file_access_log', 'INSERT'),
          'tenancy_app has no column-level UPDATE or INSERT privilege on the log either');
SELECT ok(NOT has_table_privilege(current_user, 'tenancy.file_access_log', 'UPDATE')
          AND NOT has_table_privilege(current_user, 'tenancy.file_access_log', 'DELETE')
          AND NOT has_table_privilege(current_user, 'tenancy.file_access_log', 'TRUNCATE')
          AND NOT has_table_privilege(current_user, 'tenancy.file_access_log', 'INSERT')
          AND NOT has_any_column_privilege(current_user, 'tenancy.file_access_log', 'UPDATE'),
          'the application login has no INSERT, UPDATE, DELETE or TRUNCATE privilege on the log');
SELECT is((SELECT count(*)
           FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
           WHERE c.oid = 'tenancy.file_access_log'::regclass AND a.grantee <> c.relowner
             AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
          0::bigint,
          'no role but the table owner holds INSERT, UPDATE, DELETE or TRUNCATE on the log (PUBLIC included)');
SELECT is((SELECT count(*)
           FROM pg_attribute t, aclexplode(t.attacl) a
           WHERE t.attrelid = 'tenancy.file_access_log'::regclass AND t.attacl IS NOT NULL
             AND a.privilege_type IN ('INSERT', 'UPDATE')),
          0::bigint,
          'no column of the log grants INSERT or UPDATE to anyone');
SELECT ok(NOT has_function_privilege('tenancy_app', 'tenancy.purge_file_access_log(interval)', 'EXECUTE'),
          'tenancy_app has no EXECUTE on purge_file_access_log');
SELECT ok(NOT has_function_privilege(current_user, 'tenancy.purge_file_access_log(interval)', 'EXECUTE'),
          'the application login has no EXECUTE on purge_file_access_log');
SELECT is((SELECT count(*)
           FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
           WHERE p.oid = 'tenancy.purge_file_access_log(interval)'::regprocedure
             AND a.grantee <> p.proowner),
          0::bigint,
          'purge_file_access_log is granted to no role but its owner (PUBLIC included)');
SELECT ok(NOT has_function_privilege('tenancy_app', 'tenancy.organizations_audit_cleanup()', 'EXECUTE')
          AND NOT has_function_privilege('tenancy_app', 'tenancy.files_audit_delete()', 'EXECUTE')
          AND NOT has_function_privilege('tenancy_app', 'tenancy.file_access_log_guard()', 'EXECUTE'),
          'tenancy_app cannot execute the audit trigger functions (the SECURITY DEFINER ones included)');
SELECT results_eq(
    $$SELECT pg_has_role(current_user, c.relowner, 'MEMBER'), pg_has_role('tenancy_app', c.relowner, 'MEMBER')
      FROM pg_class c WHERE c.oid = 'tenancy.file_access_log'::regclass$$,
    $$VALUES (false, false)$$,
    'neither the application login nor tenancy_app owns the log (an owner could disable triggers)');
SELECT results_eq(
    $$SELECT rolname::text COLLATE "default", rolsuper, rolbypassrls FROM pg_roles
      WHERE rolname IN (current_user, 'tenancy_app') ORDER BY rolname$$,
    format($$VALUES ('tenancy_app', false, false), (%L, false, false)$$, current_user),
    'the application roles are neither superuser nor BYPASSRLS');

-------------------------------------------------------------------------------
-- Fixtures: A (owner, admin, teacher, student) with files and log rows;
-- B (owner) with one file.
-------------------------------------------------------------------------------
SELECT 'appendonly-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_admin,
       gen_random_uuid() AS a_teacher, gen_random_uuid() AS a_student,
       gen_random_uuid() AS b_owner,
       gen_random_uuid() AS s_file, gen_random_uuid() AS t_file, gen_random_uuid() AS b_file
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Append School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Append School B', :'b_owner') AS org_b \gset
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_a', :'a_admin', 'admin'), (:'org_a', :'a_teacher', 'teacher'), (:'org_a', :'a_student', 'student');
SELECT tenancy.set_context(:'org_a', :'a_student') AS ctx \gset
INSERT INTO tenancy.files (id, path, name, size_bytes, visibility)
VALUES (:'s_file', 'append/s', 's', 10, 'org');
UPDATE tenancy.files SET size_bytes = 20 WHERE id = :'s_file';
SELECT tenancy.set_context(:'org_a', :'a_teacher') AS ctx \gset
INSERT INTO tenancy.files (id, path, name, size_bytes, visibility)
VALUES (:'t_file', 'append/t', 't', 30, 'staff');
SELECT tenancy.record_file_access(:'s_file') AS done \gset
SELECT tenancy.set_context(:'org_b', :'b_owner') AS ctx \gset
INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (:'b_file', 'append/b', 'b', 5);
SELECT tenancy.record_file_access(:'b_file') AS done \gset

-- The log as A's owner sees it now (all of A's rows).
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
CREATE TEMP TABLE log_before AS SELECT * FROM tenancy.file_access_log;
SELECT is((SELECT count(*) FROM log_before), 4::bigint,
          'fixtures: A''s log holds 4 rows (2 uploads, 1 update, 1 download)');

-------------------------------------------------------------------------------
-- Every member role of A tries to rewrite history: 42501 each time.
-------------------------------------------------------------------------------
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
SELECT throws_ok('UPDATE tenancy.file_access_log SET bytes = 0',
                 '42501', 'permission denied for table file_access_log',
                 'owner: UPDATE of the log is refused with permission denied');
SELECT throws_ok('DELETE FROM tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'owner: DELETE from the log is refused with permission denied');
SELECT throws_ok('TRUNCATE tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'owner: TRUNCATE of the log is refused with permission denied');
SELECT throws_ok(format($$INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action)
                          VALUES (%L, %L, %L, 'download')$$, :'org_a', :'s_file', :'a_student'),
                 '42501', 'permission denied for table file_access_log',
                 'owner: INSERT of a forged log row is refused with permission denied');
SELECT throws_ok($$WITH gone AS (DELETE FROM tenancy.file_access_log RETURNING id) SELECT count(*) FROM gone$$,
                 '42501', 'permission denied for table file_access_log',
                 'owner: DELETE from the log inside a writable CTE is refused');
SELECT throws_ok($$MERGE INTO tenancy.file_access_log l USING (VALUES (1)) s(x) ON true
                   WHEN MATCHED THEN UPDATE SET bytes = 0$$,
                 '42501', 'permission denied for table file_access_log',
                 'owner: MERGE ... UPDATE of the log is refused');
SELECT throws_ok($$MERGE INTO tenancy.file_access_log l USING (VALUES (1)) s(x) ON true
                   WHEN MATCHED THEN DELETE$$,
                 '42501', 'permission denied for table file_access_log',
                 'owner: MERGE ... DELETE from the log is refused');
SELECT throws_ok('SELECT id FROM tenancy.file_access_log FOR UPDATE',
                 '42501', 'permission denied for table file_access_log',
                 'owner: locking log rows FOR UPDATE is refused (no UPDATE privilege)');
SELECT throws_ok($$SELECT tenancy.purge_file_access_log('1 microsecond')$$,
                 '42501', 'permission denied for function purge_file_access_log',
                 'owner: purge_file_access_log is refused with permission denied');

SELECT tenancy.set_context(:'org_a', :'a_admin') AS ctx \gset
SELECT throws_ok('UPDATE tenancy.file_access_log SET bytes = 0',
                 '42501', 'permission denied for table file_access_log',
                 'admin: UPDATE of the log is refused with permission denied');
SELECT throws_ok('DELETE FROM tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'admin: DELETE from the log is refused with permission denied');
SELECT throws_ok('TRUNCATE tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'admin: TRUNCATE of the log is refused with permission denied');
SELECT throws_ok(format($$INSERT INTO tenancy.file_access_log (organization_id, file_id, action)
                          VALUES (%L, %L, 'view')$$, :'org_a', :'t_file'),
                 '42501', 'permission denied for table file_access_log',
                 'admin: INSERT of a log row is refused with permission denied');
SELECT throws_ok($$SELECT tenancy.purge_file_access_log('1 day')$$,
                 '42501', 'permission denied for function purge_file_access_log',
                 'admin: purge_file_access_log is refused with permission denied');

SELECT tenancy.set_context(:'org_a', :'a_teacher') AS ctx \gset
SELECT throws_ok('UPDATE tenancy.file_access_log SET bytes = 0 WHERE user_id = tenancy.current_user_id()',
                 '42501', 'permission denied for table file_access_log',
                 'teacher: UPDATE of the own log rows is refused with permission denied');
SELECT throws_ok('DELETE FROM tenancy.file_access_log WHERE user_id = tenancy.current_user_id()',
                 '42501', 'permission denied for table file_access_log',
                 'teacher: DELETE of the own log rows is refused with permission denied');
SELECT throws_ok('TRUNCATE tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'teacher: TRUNCATE of the log is refused with permission denied');
SELECT throws_ok(format($$INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action)
                          VALUES (%L, %L, %L, 'download')$$, :'org_a', :'t_file', :'a_teacher'),
                 '42501', 'permission denied for table file_access_log',
                 'teacher: INSERT of a log row is refused with permission denied');

SELECT tenancy.set_context(:'org_a', :'a_student') AS ctx \gset
SELECT throws_ok('UPDATE tenancy.file_access_log SET bytes = 0 WHERE user_id = tenancy.current_user_id()',
                 '42501', 'permission denied for table file_access_log',
                 'student: UPDATE of the own log rows is refused with permission denied');
SELECT throws_ok('DELETE FROM tenancy.file_access_log WHERE user_id = tenancy.current_user_id()',
                 '42501', 'permission denied for table file_access_log',
                 'student: DELETE of the own log rows is refused with permission denied');
SELECT throws_ok('TRUNCATE tenancy.file_access_log',
                 '42501', 'permission denied for table file_access_log',
                 'student: TRUNCATE of the log is refused with permission denied');
SELECT throws_ok(format($$INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action)
                          VALUES (%L, %L, %L, 'download')$$, :'org_a', :'s_file', :'a_student'),
                 '42501', 'permission denied for table file_access_log',
                 'student: INSERT of a log row is refused with permission denied');
SELECT throws_ok($$SELECT tenancy.purge_file_access_log('1 day')$$,
                 '42501', 'permission denied for function purge_file_access_log',
                 'student: purge_file_access_log is refused with permission denied');

-- No member role can switch the guard off.
SELECT throws_ok('ALTER TABLE tenancy.file_access_log DISABLE TRIGGER file_access_log_append_only',
                 '42501', NULL,
                 'the application cannot disable the row guard trigger (not the table owner)');
SELECT throws_ok('ALTER TABLE tenancy.file_access_log DISABLE TRIGGER ALL',
                 '42501', NULL,
                 'the application cannot disable all triggers of the log');
SELECT throws_ok('DROP TRIGGER file_access_log_no_truncate ON tenancy.file_access_log',
                 '42501', NULL,
                 'the application cannot drop the TRUNCATE guard trigger');
SELECT throws_ok('ALTER TABLE tenancy.file_access_log NO FORCE ROW LEVEL SECURITY',
                 '42501', NULL,
                 'the application cannot stop forcing row level security on the log');
SELECT throws_ok('SET session_replication_role = replica',
                 '42501', NULL,
                 'the application cannot set session_replication_role (replica mode)');
SELECT throws_ok($$SELECT set_config('session_replication_role', 'replica', true)$$,
                 '42501', NULL,
                 'the application cannot set session_replication_role through set_config either');

-------------------------------------------------------------------------------
-- None of it changed a row.
-------------------------------------------------------------------------------
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
SELECT set_eq(
    'SELECT * FROM tenancy.file_access_log',
    'SELECT * FROM log_before',
    'after every refused attempt A''s log is exactly as before, row for row');
SELECT tenancy.set_context(:'org_b', :'b_owner') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.file_access_log), 2::bigint,
          'after every refused attempt B''s log still holds its 2 rows');

-------------------------------------------------------------------------------
-- Work on files only appends; rows outlive their file.
-------------------------------------------------------------------------------
SELECT tenancy.set_context(:'org_a', :'a_student') AS ctx \gset
UPDATE tenancy.files SET size_bytes = 25, checksum = 'x' WHERE id = :'s_file';
UPDATE tenancy.files SET deleted_at = now() WHERE id = :'s_file';
UPDATE tenancy.files SET deleted_at = NULL WHERE id = :'s_file';
SELECT tenancy.record_file_access(:'s_file', 'view', 1) AS done \gset
DELETE FROM tenancy.files WHERE id = :'s_file';
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.files WHERE id = :'s_file'), 0::bigint,
          'fixture: the student''s file is gone (hard delete)');
SELECT is((SELECT count(*) FROM (SELECT * FROM log_before EXCEPT ALL SELECT * FROM tenancy.file_access_log) missing),
          0::bigint,
          'every log row from before (the deleted file''s upload, update and download included) is still there, unchanged');
SELECT results_eq(
    $$SELECT l.action::text, l.user_id FROM tenancy.file_access_log l
      WHERE l.id > (SELECT max(id) FROM log_before) ORDER BY l.id$$,
    format($$VALUES ('update', %1$L::uuid), ('delete', %1$L::uuid), ('restore', %1$L::uuid),
                    ('view', %1$L::uuid), ('delete', %1$L::uuid)$$, :'a_student'),
    'update, soft delete, restore, read and hard delete each appended one row, in order, with the student as actor');
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE file_id = :'s_file'), 8::bigint,
          'the deleted file keeps all 8 of its log rows (rows outlive their file)');

-- Deleting organization B takes B's log with it, and nothing of A's.
SELECT tenancy.set_context(:'org_b', :'b_owner') AS ctx \gset
SELECT lives_ok(format('SELECT tenancy.delete_organization(%L)', :'org_b'),
                'owner of B: delete_organization of B succeeds');
SELECT tenancy.set_context(:'org_a', :'a_owner') AS ctx \gset
SELECT is((SELECT count(*) FROM (SELECT * FROM log_before EXCEPT ALL SELECT * FROM tenancy.file_access_log) missing),
          0::bigint,
          'deleting another organization removed none of A''s log rows');
SELECT is((SELECT count(*) FROM tenancy.file_access_log), 9::bigint,
          'A''s log holds its 9 rows after B was deleted');

-------------------------------------------------------------------------------
-- The log's partitions (1.5): each carries the guards, none is open to the
-- application, and an event trigger keeps them from being dropped or
-- detached.
-------------------------------------------------------------------------------
SELECT ok((SELECT count(*) FROM pg_partition_tree('tenancy.file_access_log') WHERE level = 1) >= 1,
          'the log has partitions (at least its default one)');
SELECT is((SELECT count(*) FROM pg_partition_tree('tenancy.file_access_log') t
           WHERE t.level = 1
             AND NOT EXISTS (SELECT FROM pg_trigger g
                             WHERE g.tgrelid = t.relid AND g.tgname = 'file_access_log_append_only'
                               AND g.tgenabled = 'A' AND g.tgparentid <> 0
                               AND g.tgfoid = 'tenancy.file_access_log_guard()'::regprocedure)),
          0::bigint, 'every partition has the row guard, cloned from the log, ENABLED ALWAYS');
SELECT is((SELECT count(*) FROM pg_partition_tree('tenancy.file_access_log') t
           WHERE t.level = 1
             AND NOT EXISTS (SELECT FROM pg_trigger g
                             WHERE g.tgrelid = t.relid AND g.tgname = 'file_access_log_no_truncate'
                               AND g.tgenabled = 'A' AND (g.tgtype & 32) <> 0
                               AND g.tgfoid = 'tenancy.file_access_log_guard()'::regprocedure)),
          0::bigint, 'every partition has its own TRUNCATE guard (statement triggers are not cloned), ENABLED ALWAYS');
SELECT is((SELECT count(*) FROM pg_partition_tree('tenancy.file_access_log') t
           WHERE t.level = 1
             AND (has_table_privilege('tenancy_app', t.relid, 'SELECT')
                  OR has_table_privilege('tenancy_app', t.relid, 'INSERT')
                  OR has_table_privilege('tenancy_app', t.relid, 'UPDATE')
                  OR has_table_privilege('tenancy_app', t.relid, 'DELETE')
                  OR has_table_privilege('tenancy_app', t.relid, 'TRUNCATE'))),
          0::bigint, 'tenancy_app has no privilege on any partition: it reads the log through its policy only');
SELECT is((SELECT count(*) FROM pg_partition_tree('tenancy.file_access_log') t
           JOIN pg_class c ON c.oid = t.relid
           WHERE t.level = 1 AND NOT (c.relrowsecurity AND c.relforcerowsecurity)),
          0::bigint, 'row level security is enabled and forced on every partition (no policy: nothing shows)');
SELECT throws_ok('SELECT count(*) FROM tenancy.file_access_log_default', '42501', NULL,
                 'reading the default partition directly: permission denied');
SELECT throws_ok('DELETE FROM tenancy.file_access_log_default', '42501', NULL,
                 'deleting from the default partition: permission denied');
SELECT throws_ok('DROP TABLE tenancy.file_access_log_default', '42501', NULL,
                 'dropping the default partition: refused');
SELECT results_eq(
    $$SELECT evtevent::text COLLATE "default", evtenabled::text, evtfoid::regproc::text COLLATE "default",
             evttags::text COLLATE "default"
      FROM pg_event_trigger WHERE evtname = 'pg_tenancy_file_access_log_ddl_guard'$$,
    $$VALUES ('ddl_command_start', 'A', 'tenancy.file_access_log_ddl_guard', '{"DROP TABLE","ALTER TABLE","ALTER INDEX","ALTER TYPE","ALTER VIEW","ALTER MATERIALIZED VIEW","ALTER FOREIGN TABLE","ALTER EXTENSION","ALTER SCHEMA","ALTER FUNCTION","ALTER ROUTINE","ALTER AGGREGATE","ALTER SEQUENCE","ALTER OPERATOR CLASS","ALTER OPERATOR FAMILY"}')$$,
    'the event trigger guarding the partitions fires ALWAYS at the start of DROP TABLE and ALTER TABLE, INDEX, TYPE, VIEW, MATERIALIZED VIEW, FOREIGN TABLE, EXTENSION, SCHEMA, FUNCTION, ROUTINE, AGGREGATE, SEQUENCE, OPERATOR CLASS and OPERATOR FAMILY');

SELECT * FROM finish();
ROLLBACK;
