-- The file audit at the edges of a statement (schema and library 1.9), found
-- by a review acting as a hostile application:
--   1. a statement that ends its own context (tenancy.clear_context() in a
--      RETURNING clause, or in the query around a writable CTE) is refused
--      (55000) instead of logging its rows as nobody's; a statement that
--      writes no row without a context is not;
--   2. a statement that deletes its organization (a writable CTE) before its
--      own files audit runs leaves no log row of the organization behind;
--   3. record_file_access sees what its own statement did: a file the
--      statement soft-deleted is deleted (55000), one it deleted does not
--      exist (P0002), one it inserted can be read;
--   4. a teacher does not read the history of an earlier file whose id a new
--      file took (log rows record their file's created_at);
--   5. a statement larger than work_mem is written in sorted chunks, each row
--      logged once and each version kept;
--   6. serial columns a DBA adds to the log and the versions take their
--      values without a grant to the application (1.11 library).
-- The application's statements run under SET LOCAL ROLE tenancy_test_app;
-- the checks as the superuser, who reads what the application cannot (a
-- deleted organization's rows). One transaction, rolled back.
BEGIN;
SELECT plan(31);

SELECT 'edges-' || left(md5(random()::text || clock_timestamp()::text), 10) AS run,
       gen_random_uuid() AS owner, gen_random_uuid() AS teacher, gen_random_uuid() AS student,
       gen_random_uuid() AS other_owner
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Edges A', :'owner') AS a,
       tenancy.create_organization(:'run' || '-e', 'Edges E', :'other_owner') AS e
\gset
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES (:'a', :'teacher', 'teacher'), (:'a', :'student', 'student');

-- Runs a statement as the application with a member's context: 'ok', or
-- the error's SQLSTATE and message. The context is set in the same
-- transaction (set_context's is transaction-local inside one).
CREATE FUNCTION pg_temp.app(org uuid, member uuid, sql text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL ROLE tenancy_test_app;
    PERFORM tenancy.set_context(org, member);
    EXECUTE sql;
    PERFORM tenancy.clear_context();
    RESET ROLE;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RESET ROLE;
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.app(uuid, uuid, text) TO tenancy_test_app;
-- The log rows of a file: 'action/actor' in order, actor 'none' when NULL.
CREATE FUNCTION pg_temp.logged(file uuid) RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(string_agg(action || '/' || coalesce(user_id::text, 'none'), ' ' ORDER BY id), '')
    FROM tenancy.file_access_log WHERE file_id = file
$$;

-------------------------------------------------------------------------------
-- 1. A statement that ends its own context. Since the 1.22 library
-- clear_context() refuses first (the statement reads files under row level
-- security, an open query that began under the context); the audit's own
-- refusal ("the tenant context ended while a statement that writes files
-- was running") stays behind it.
-------------------------------------------------------------------------------
SELECT gen_random_uuid() AS f1 \gset
SELECT is(pg_temp.app(:'a', :'student', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (%L, %L, %L, 10)'
              ' RETURNING tenancy.clear_context()', :'f1', :'run' || '/1', 'one')),
          '55000: cannot end the tenant context while a query that reads tenant rows is open',
          'an INSERT that clears its context in RETURNING is refused');
SELECT is(pg_temp.logged(:'f1') || (SELECT count(*) FROM tenancy.files WHERE id = :'f1'), '0',
          '... and leaves neither the file nor a log row');
SELECT is(pg_temp.app(:'a', :'student', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (%L, %L, %L, 10)',
              :'f1', :'run' || '/1', 'one')), 'ok', 'the same INSERT without it');
SELECT is(pg_temp.app(:'a', :'student', format(
              'UPDATE tenancy.files SET size_bytes = 11 WHERE id = %L RETURNING tenancy.clear_context()',
              :'f1')),
          '55000: cannot end the tenant context while a query that reads tenant rows is open',
          'a content UPDATE that clears its context in RETURNING is refused');
SELECT is(pg_temp.app(:'a', :'student', format(
              'WITH d AS (UPDATE tenancy.files SET deleted_at = now() WHERE id = %L RETURNING 1)'
              ' SELECT tenancy.clear_context() FROM (SELECT count(*) FROM d) s', :'f1')),
          '55000: cannot end the tenant context while a query that reads tenant rows is open',
          'a soft delete in a writable CTE whose outer query clears the context is refused');
SELECT is(pg_temp.app(:'a', :'student', format(
              'WITH d AS (DELETE FROM tenancy.files WHERE id = %L RETURNING 1)'
              ' SELECT tenancy.clear_context() FROM (SELECT count(*) FROM d) s', :'f1')),
          '55000: cannot end the tenant context while a query that reads tenant rows is open',
          'a DELETE in a writable CTE whose outer query clears the context is refused');
SELECT is(pg_temp.logged(:'f1') || ' ' || (SELECT version || coalesce(deleted_at::text, '')
                                            FROM tenancy.files WHERE id = :'f1')
          || ' ' || (SELECT count(*) FROM tenancy.file_versions WHERE file_id = :'f1'),
          'upload/' || :'student' || ' 1 0',
          '... and none of them changed the file, logged or kept a version');
-- The DBA, with no context, while a cursor opened under one is open but not
-- being read: its writes are not refused (only the queries executing count).
SELECT tenancy.set_context(:'a', :'owner') IS NOT NULL AS ctx \gset
DECLARE idle_cursor CURSOR FOR SELECT id FROM tenancy.files;
SELECT tenancy.clear_context() IS NULL AS cleared \gset
SELECT gen_random_uuid() AS f_dba \gset
SELECT lives_ok(format('INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes)'
                       ' VALUES (%L, %L, %L, %L, %L, 1)', :'a', :'f_dba', :'owner', :'run' || '/dba', 'dba'),
                'the DBA writes a file with no context while an idle cursor opened under one is open');
SELECT is(pg_temp.logged(:'f_dba'), 'upload/none', '... logged with no actor, as the DBA''s writes are');
CLOSE idle_cursor;
-- ... nor a statement a function runs after clearing the context, inside a
-- statement that began under one: that statement began without a context.
CREATE FUNCTION pg_temp.clear_then_write(org uuid, owner uuid, file uuid, path text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tenancy.clear_context();
    INSERT INTO tenancy.files (organization_id, id, owner_id, path, name, size_bytes)
    VALUES (org, file, owner, path, 'dba', 1);
END
$$;
SELECT tenancy.set_context(:'a', :'owner') IS NOT NULL AS ctx \gset
SELECT gen_random_uuid() AS f_dba2 \gset
SELECT lives_ok(format('SELECT pg_temp.clear_then_write(%L, %L, %L, %L)', :'a', :'owner', :'f_dba2',
                       :'run' || '/dba2'),
                'the DBA''s function clears the context, then writes: its INSERT began without one');
SELECT is(pg_temp.logged(:'f_dba2'), 'upload/none', '... logged with no actor');
-- Without a context and without a row, an UPDATE or DELETE is a no-op.
SET LOCAL ROLE tenancy_test_app;
SELECT lives_ok(format('UPDATE tenancy.files SET name = %L WHERE id = %L', 'x', :'f1'),
                'without a context, an UPDATE that writes no row is no error');
SELECT lives_ok(format('DELETE FROM tenancy.files WHERE id = %L', :'f1'),
                'without a context, a DELETE that writes no row is no error');
RESET ROLE;

-------------------------------------------------------------------------------
-- 2. An organization deleted earlier in the statement than its files' audit.
-------------------------------------------------------------------------------
SELECT is(pg_temp.app(:'e', :'other_owner', format(
              'INSERT INTO tenancy.files (path, name, size_bytes) VALUES (%L, %L, 1), (%L, %L, 2)',
              :'run' || '/e1', 'e1', :'run' || '/e2', 'e2')), 'ok', 'files of an organization');
-- ARRAY() reads the CTE first: the deletion's cleanup runs before the
-- UPDATE's audit.
SELECT is(pg_temp.app(:'e', :'other_owner', format(
              'WITH o AS (DELETE FROM tenancy.organizations WHERE id = %L RETURNING id)'
              ' UPDATE tenancy.files SET name = %L, size_bytes = size_bytes + 1'
              ' WHERE organization_id = ANY (ARRAY(SELECT id FROM o))', :'e', 'gone')),
          'ok', 'the owner deletes it and updates its files in one statement');
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE organization_id = :'e')
          + (SELECT count(*) FROM tenancy.file_versions WHERE organization_id = :'e')
          + (SELECT count(*) FROM tenancy.files WHERE organization_id = :'e'), 0::bigint,
          '... no log row, version or file of the organization is left');

-------------------------------------------------------------------------------
-- 3. record_file_access sees its own statement's writes.
-------------------------------------------------------------------------------
SELECT gen_random_uuid() AS d1, gen_random_uuid() AS d2, gen_random_uuid() AS d3 \gset
SELECT is(pg_temp.app(:'a', :'student', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES'
              ' (%L, %L, %L, 111), (%L, %L, %L, 222)',
              :'d1', :'run' || '/d1', 'd1', :'d2', :'run' || '/d2', 'd2')), 'ok', 'two files');
SELECT is(pg_temp.app(:'a', :'student', format(
              'UPDATE tenancy.files SET deleted_at = now() WHERE id = %L'
              ' RETURNING tenancy.record_file_access(id)', :'d1')),
          '55000: file ' || :'d1' || ' is deleted',
          'a download in the RETURNING of the soft delete: the file is deleted');
SELECT is(pg_temp.app(:'a', :'student', format(
              'DELETE FROM tenancy.files WHERE id = %L RETURNING tenancy.record_file_access(id, %L)',
              :'d2', 'view')),
          'P0002: file ' || :'d2' || ' does not exist',
          'a view in the RETURNING of the DELETE: the file does not exist');
SELECT is(pg_temp.app(:'a', :'student', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (%L, %L, %L, 5)'
              ' RETURNING tenancy.record_file_access(id, %L)', :'d3', :'run' || '/d3', 'd3', 'view')),
          'ok', 'a view in the RETURNING of the INSERT: the new file is read');
SELECT is(pg_temp.logged(:'d1') || ' | ' || pg_temp.logged(:'d2') || ' | ' || pg_temp.logged(:'d3'),
          'upload/' || :'student' || ' | upload/' || :'student' || ' | view/' || :'student'
          || ' upload/' || :'student',
          '... only the reads that succeeded are logged');

-------------------------------------------------------------------------------
-- 4. A new file with the id of a deleted one (1.9: log rows record their
-- file's created_at).
-------------------------------------------------------------------------------
-- A student's private file X, read and hard-deleted, then a teacher's new
-- file of the same id. One transaction has one now(), so the old file's rows
-- are written here as the superuser, with the times a teacher's transaction
-- that began before the student's would see: the old file made a second
-- after the new one's created_at (its transaction began later).
SELECT gen_random_uuid() AS x \gset
INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action, bytes, at,
                                     file_created_at)
SELECT :'a', :'x', :'student', a.action::tenancy.file_action, a.bytes, now() + interval '1 second',
       now() + interval '1 second'
FROM (VALUES ('upload', 42), ('download', 42), ('delete', NULL)) a (action, bytes);
SELECT is(pg_temp.app(:'a', :'teacher', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes, visibility)'
              ' VALUES (%L, %L, %L, 1, %L)', :'x', :'run' || '/x', 'reused', 'staff')), 'ok',
          'a teacher makes a file with the id of a student''s deleted private file');
-- A read of the new file by a transaction that began before it was made
-- (its row is dated earlier than the file) is the new file's all the same;
-- and a row from before 1.9 (no created_at) stays readable.
INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action, bytes, at,
                                     file_created_at)
VALUES (:'a', :'x', :'student', 'view', NULL, now() - interval '1 minute', now()),
       (:'a', :'x', :'student', 'view', 7, now() - interval '1 year', NULL);
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context(:'a', :'teacher') IS NOT NULL AS ctx \gset
SELECT is((SELECT string_agg(action || coalesce('/' || bytes, '') || '/'
                             || CASE WHEN user_id = :'teacher' THEN 'teacher' ELSE 'student' END,
                             ' ' ORDER BY at, id)
           FROM tenancy.file_access_log WHERE file_id = :'x'),
          'view/7/student view/student upload/1/teacher',
          '... and reads the new file''s rows (and an undated old one), not the old file''s history');
SELECT tenancy.clear_context() IS NULL AS cleared \gset
RESET ROLE;
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE file_id = :'x' AND user_id = :'teacher'
             AND file_created_at = (SELECT created_at FROM tenancy.files WHERE id = :'x')), 1::bigint,
          '... the upload the trigger wrote carries the new file''s created_at');

-------------------------------------------------------------------------------
-- 5. A statement larger than work_mem: written in sorted chunks.
-------------------------------------------------------------------------------
-- 64kB holds about a thousand buffered log rows: 5,000 rows make chunks.
SET LOCAL work_mem = '64kB';
SELECT is(pg_temp.app(:'a', :'owner', format(
              'INSERT INTO tenancy.files (path, name, size_bytes, checksum)'
              ' SELECT %L || g, %L, g, repeat(%L, 100) FROM generate_series(1, 5000) g;'
              ' UPDATE tenancy.files SET size_bytes = size_bytes + 1, checksum = repeat(%L, 100)'
              ' WHERE path LIKE %L',
              :'run' || '/bulk/', 'bulk', 'c', 'd', :'run' || '/bulk/%')), 'ok',
          'a 5,000-row INSERT and content UPDATE with work_mem = 64kB');
RESET work_mem;
SELECT is((SELECT count(*) FILTER (WHERE n_upload = 1 AND n_update = 1 AND update_bytes = f.size_bytes)
           FROM tenancy.files f
           CROSS JOIN LATERAL (
               SELECT count(*) FILTER (WHERE action = 'upload') AS n_upload,
                      count(*) FILTER (WHERE action = 'update') AS n_update,
                      max(bytes) FILTER (WHERE action = 'update') AS update_bytes
               FROM tenancy.file_access_log l
               WHERE l.organization_id = f.organization_id AND l.file_id = f.id) l
           WHERE f.path LIKE :'run' || '/bulk/%'), 5000::bigint,
          '... every file logged once uploaded and once updated, with its new size');
SELECT is((SELECT count(*) FROM tenancy.files f JOIN tenancy.file_versions v
             ON v.organization_id = f.organization_id AND v.file_id = f.id
           WHERE f.path LIKE :'run' || '/bulk/%' AND v.version = 1 AND f.version = 2
             AND v.size_bytes = f.size_bytes - 1 AND v.checksum = repeat('c', 100)
             AND v.created_by = :'owner'), 5000::bigint,
          '... and every old content kept once as version 1, by the owner');

-------------------------------------------------------------------------------
-- 6. Serial columns a DBA adds to the log and the versions (1.11 library):
-- their nextval() is the table's, as an identity's is; the application has
-- no grant on their sequences and needs none. Other defaults still run as
-- the caller: current_user is the login.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.file_access_log ADD COLUMN dba_serial serial, ADD COLUMN dba_login name DEFAULT current_user;
ALTER TABLE tenancy.file_versions ADD COLUMN dba_serial bigserial;
SELECT gen_random_uuid() AS f6 \gset
SELECT is(pg_temp.app(:'a', :'owner', format(
              'INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (%L, %L, %L, 1);'
              ' UPDATE tenancy.files SET size_bytes = 2 WHERE id = %L',
              :'f6', :'run' || '/serial', 'serial', :'f6')), 'ok',
          'a DBA''s serial columns on the log and the versions: the application writes files');
SELECT is((SELECT string_agg(action || ' ' || (dba_serial > 0) || ' ' || dba_login, ', ' ORDER BY id)
           FROM tenancy.file_access_log WHERE file_id = :'f6'),
          'upload true tenancy_test_app, update true tenancy_test_app',
          '... its log rows have the serial''s values, and current_user is the login');
SELECT is((SELECT count(*) FROM tenancy.file_versions WHERE file_id = :'f6' AND dba_serial > 0), 1::bigint,
          '... and so does the version row');
SELECT is((SELECT has_sequence_privilege('tenancy_test_app', 'tenancy.file_access_log_dba_serial_seq', 'USAGE')),
          false, '... with no grant on the sequence');
-- (Dropped, not rolled back to a savepoint: that would take pgTAP's count
-- of the tests above with it.)
ALTER TABLE tenancy.file_access_log DROP COLUMN dba_serial, DROP COLUMN dba_login;
ALTER TABLE tenancy.file_versions DROP COLUMN dba_serial;
SELECT * FROM finish();
ROLLBACK;
