-- tenancy.file_versions and tenancy.file_access_log under row level security
-- (DESIGN.md, access rules table):
--   file_versions: as for the file (student: own and org files; teacher: own,
--     org and staff files; admin/owner: all; soft-deleted files: their owner
--     and admins/owners only);
--   file_access_log: student: own rows; teacher: rows of files they can see
--     (and their own); admin/owner: all; another organization: none;
--   both written by the extension only: the application cannot INSERT,
--   UPDATE or DELETE either table (42501);
--   tenancy.record_file_access on a file the caller cannot see fails exactly
--   like on a file that does not exist (P0002, "file <id> does not exist");
--   a statement that fails leaves no log row; the actor and organization of a
--   log row come from the context, never from the statement.
-- Runs as the application login (tenancy_test_app) inside one transaction
-- that is rolled back: nothing is left behind, reruns never collide.
BEGIN;
SELECT plan(65);

-------------------------------------------------------------------------------
-- Helpers and fixture tables (temporary: no RLS applies to them).
-------------------------------------------------------------------------------
\ir lib/labelled_fixtures.sql
-- uploader: who inserts the file (and updates its content once); owner: owner_id.
CREATE TEMP TABLE fx (
    label      text PRIMARY KEY,
    org        text NOT NULL,
    owner      text NOT NULL,
    uploader   text NOT NULL,
    visibility tenancy.file_visibility NOT NULL,
    deleted    boolean NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid());


-- What the current context sees, with labels instead of ids ('?' for an id
-- that is no fixture).
CREATE TEMP VIEW log_seen AS
SELECT coalesce(o.label, '?') AS org, coalesce(f.label, '?') AS file,
       coalesce(w.label, '?') AS actor, l.action::text AS action, l.bytes
FROM tenancy.file_access_log l
LEFT JOIN orgs o ON o.id = l.organization_id
LEFT JOIN fx f ON f.id = l.file_id
LEFT JOIN who w ON w.user_id = l.user_id;
CREATE TEMP VIEW versions_seen AS
SELECT coalesce(o.label, '?') AS org, coalesce(f.label, '?') AS file, v.version,
       v.size_bytes, coalesce(w.label, '?') AS created_by
FROM tenancy.file_versions v
LEFT JOIN orgs o ON o.id = v.organization_id
LEFT JOIN fx f ON f.id = v.file_id
LEFT JOIN who w ON w.user_id = v.created_by;

-------------------------------------------------------------------------------
-- Fixtures.
--   A: owner, admin, teacher, student, student2;  B: owner, student.
-- Every file is uploaded (size 100), then its content is updated once by its
-- uploader (size 200: one version row, one 'update' log row); s_del is then
-- soft-deleted by its owner; then reads are recorded.
-------------------------------------------------------------------------------
INSERT INTO who (label, org, role) VALUES
    ('a_owner', 'a', 'owner'), ('a_admin', 'a', 'admin'), ('a_teacher', 'a', 'teacher'),
    ('a_student', 'a', 'student'), ('a_student2', 'a', 'student'),
    ('b_owner', 'b', 'owner'), ('b_student', 'b', 'student');
SELECT 'filehist-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run \gset
INSERT INTO orgs VALUES
    ('a', tenancy.create_organization(:'run' || '-a', 'History School A', pg_temp.uid('a_owner'))),
    ('b', tenancy.create_organization(:'run' || '-b', 'History School B', pg_temp.uid('b_owner')));
SELECT pg_temp.act_as('a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT pg_temp.org('a'), user_id, role FROM who WHERE org = 'a' AND role <> 'owner';
SELECT pg_temp.act_as('b_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT pg_temp.org('b'), user_id, role FROM who WHERE org = 'b' AND role <> 'owner';

INSERT INTO fx (label, org, owner, uploader, visibility, deleted) VALUES
    ('s_priv',      'a', 'a_student',  'a_student',  'private', false),
    ('s_staff',     'a', 'a_student',  'a_student',  'staff',   false),
    ('s_org',       'a', 'a_student',  'a_student',  'org',     false),
    ('s_del',       'a', 'a_student',  'a_student',  'org',     true),
    ('s2_priv',     'a', 'a_student2', 'a_student2', 'private', false),
    ('s2_org',      'a', 'a_student2', 'a_student2', 'org',     false),
    ('s2_by_admin', 'a', 'a_student2', 'a_admin',    'private', false),
    ('t_priv',      'a', 'a_teacher',  'a_teacher',  'private', false),
    ('t_staff',     'a', 'a_teacher',  'a_teacher',  'staff',   false),
    ('ad_priv',     'a', 'a_admin',    'a_admin',    'private', false),
    ('b_org',       'b', 'b_student',  'b_student',  'org',     false);
DO $$
DECLARE
    member text;
BEGIN
    FOR member IN SELECT DISTINCT uploader FROM fx ORDER BY 1 LOOP
        PERFORM pg_temp.act_as(member);
        INSERT INTO tenancy.files (id, owner_id, path, name, size_bytes, checksum, visibility)
        SELECT id, pg_temp.uid(owner), 'fixtures/' || label, label, 100, 'v1', visibility
        FROM fx WHERE uploader = member;
        UPDATE tenancy.files SET size_bytes = 200, checksum = 'v2'
        WHERE id IN (SELECT id FROM fx WHERE uploader = member);
    END LOOP;
    PERFORM pg_temp.act_as('a_student');
    UPDATE tenancy.files SET deleted_at = now() WHERE id = pg_temp.fid('s_del');
    PERFORM tenancy.record_file_access(pg_temp.fid('s2_org'));
    PERFORM pg_temp.act_as('a_student2');
    PERFORM tenancy.record_file_access(pg_temp.fid('s_org'));
    PERFORM tenancy.record_file_access(pg_temp.fid('s_org'), 'view', 5);
    PERFORM pg_temp.act_as('a_teacher');
    PERFORM tenancy.record_file_access(pg_temp.fid('s_staff'), 'download');
    PERFORM pg_temp.act_as('a_admin');
    PERFORM tenancy.record_file_access(pg_temp.fid('s_priv'));
    PERFORM pg_temp.act_as('a_owner');
    PERFORM tenancy.record_file_access(pg_temp.fid('t_priv'), 'view');
    PERFORM pg_temp.act_as('b_owner');
    PERFORM tenancy.record_file_access(pg_temp.fid('b_org'));
END
$$;

-- The whole log, as it must be: (org, file, actor, action, bytes).
CREATE TEMP TABLE expected_log AS
SELECT org, label AS file, uploader AS actor, 'upload' AS action, 100::bigint AS bytes FROM fx
UNION ALL
SELECT org, label, uploader, 'update', 200 FROM fx
UNION ALL
VALUES ('a', 's_del',   'a_student',  'delete',   NULL::bigint),
       ('a', 's2_org',  'a_student',  'download', 200),
       ('a', 's_org',   'a_student2', 'download', 200),
       ('a', 's_org',   'a_student2', 'view',     5),
       ('a', 's_staff', 'a_teacher',  'download', 200),
       ('a', 's_priv',  'a_admin',    'download', 200),
       ('a', 't_priv',  'a_owner',    'view',     NULL),
       ('b', 'b_org',   'b_owner',    'download', 200);
-- Every file has one superseded version: version 1, size 100, by its uploader.
CREATE TEMP TABLE expected_versions AS
SELECT org, label AS file, 1 AS version, 100::bigint AS size_bytes, uploader AS created_by FROM fx;

-------------------------------------------------------------------------------
-- file_versions: as for the file.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE file IN ('s_priv', 's_staff', 's_org', 's_del', 's2_org')$$,
    'student: file_versions shows the versions of the own files (soft-deleted included) and of others'' org files, nothing else');
SELECT is((SELECT count(*) FROM tenancy.file_versions
           WHERE file_id IN (SELECT id FROM fx WHERE label IN ('s2_priv', 's2_by_admin', 't_priv', 'ad_priv'))),
          0::bigint,
          'student: versions of others'' private files are invisible, even by file id');
SELECT is((SELECT count(*) FROM tenancy.file_versions WHERE file_id = pg_temp.fid('t_staff')), 0::bigint,
          'student: versions of a staff file are invisible to a student');

SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE file IN ('s2_priv', 's2_org', 's2_by_admin', 's_org')$$,
    'student2: file_versions shows the own files'' versions and the org file''s, not a soft-deleted org file''s');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE file IN ('t_priv', 't_staff', 's_staff', 's_org', 's2_org')$$,
    'teacher: file_versions shows the versions of own, org and staff files, nothing else');
SELECT is((SELECT count(*) FROM tenancy.file_versions WHERE file_id = pg_temp.fid('s_del')), 0::bigint,
          'teacher: versions of a student''s soft-deleted file are invisible');
SELECT is((SELECT count(*) FROM tenancy.file_versions
           WHERE file_id IN (SELECT id FROM fx WHERE label IN ('s_priv', 's2_priv', 's2_by_admin', 'ad_priv'))),
          0::bigint,
          'teacher: versions of others'' private files are invisible, even by file id');

SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE org = 'a'$$,
    'admin: file_versions shows every version of the organization, soft-deleted files included, none of B');
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE org = 'a'$$,
    'owner: file_versions shows every version of the organization, none of B');
SELECT is((SELECT count(*) FROM tenancy.file_versions
           WHERE organization_id = pg_temp.org('b') OR file_id = pg_temp.fid('b_org')),
          0::bigint,
          'owner: versions of another organization''s files are invisible, by organization_id and by file id');
SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE org = 'b'$$,
    'owner of B: file_versions shows B''s versions only');
SELECT pg_temp.act_as('b_student') AS ctx \gset
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE org = 'b'$$,
    'student of B: file_versions shows the versions of the own org file');

-- created_by is whoever superseded the version, from the context.
SELECT pg_temp.act_as('a_admin') AS ctx \gset
UPDATE tenancy.files SET size_bytes = 300, checksum = 'v3' WHERE id = pg_temp.fid('s_org');
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT results_eq(
    $$SELECT version, size_bytes, created_by FROM versions_seen WHERE file = 's_org' ORDER BY version$$,
    $$VALUES (1, 100::bigint, 'a_student'), (2, 200::bigint, 'a_admin')$$,
    'a version superseded by an admin records the admin (the context user) as created_by, and its owner sees it');

-------------------------------------------------------------------------------
-- file_access_log: students their own rows; teachers rows of files they can
-- see; admins and owners all; another organization none.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_owner') AS ctx \gset
-- (the admin's content update above: one more 'update' row)
INSERT INTO expected_log VALUES ('a', 's_org', 'a_admin', 'update', 300);
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE org = 'a'$$,
    'owner: the log shows every row of the organization, with actor and organization from the context, none of B');
SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE org = 'a'$$,
    'admin: the log shows every row of the organization, none of B');

SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE actor = 'a_student'$$,
    'student: the log shows exactly the student''s own rows');
SELECT is((SELECT count(*) FROM log_seen WHERE file = 's_org' AND actor <> 'a_student'), 0::bigint,
          'student: rows of others about the student''s own file (downloads, an admin''s update) are invisible');

SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE actor = 'a_student2'$$,
    'student2: the log shows exactly the own rows (not the admin''s upload of a file the student owns)');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log
      WHERE actor = 'a_teacher' OR file IN ('t_priv', 't_staff', 's_staff', 's_org', 's2_org')$$,
    'teacher: the log shows the rows of the files the teacher can see (by anyone) and nothing else');
SELECT is((SELECT count(*) FROM log_seen WHERE file IN ('s_priv', 's2_priv', 's2_by_admin', 'ad_priv')),
          0::bigint,
          'teacher: rows of others'' private files are invisible');
SELECT is((SELECT count(*) FROM log_seen WHERE file = 's_del'), 0::bigint,
          'teacher: rows of a student''s soft-deleted file are invisible');

-- Visibility follows the file: soft-deleting s_org hides its rows from the teacher.
SELECT pg_temp.act_as('a_student') AS ctx \gset
UPDATE tenancy.files SET deleted_at = now() WHERE id = pg_temp.fid('s_org');
INSERT INTO expected_log VALUES ('a', 's_org', 'a_student', 'delete', NULL);
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is((SELECT count(*) FROM log_seen WHERE file = 's_org'), 0::bigint,
          'teacher: once a student soft-deletes a file, its log rows are hidden from the teacher');
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log
      WHERE actor = 'a_teacher' OR file IN ('t_priv', 't_staff', 's_staff', 's2_org')$$,
    'teacher: after the soft delete the log shows the rows of the remaining visible files only');
SELECT pg_temp.act_as('a_student') AS ctx \gset
UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s_org');
INSERT INTO expected_log VALUES ('a', 's_org', 'a_student', 'restore', NULL);
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is((SELECT count(*) FROM log_seen WHERE file = 's_org'), 7::bigint,
          'teacher: once restored, all 7 log rows of the file are visible to the teacher again');

-- Other organizations.
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.file_access_log
           WHERE organization_id = pg_temp.org('b') OR file_id = pg_temp.fid('b_org')),
          0::bigint,
          'owner of A: log rows of another organization are invisible, by organization_id and by file id');
SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE org = 'b'$$,
    'owner of B: the log shows B''s rows only, none of A');
SELECT pg_temp.act_as('b_student') AS ctx \gset
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE org = 'b' AND actor = 'b_student'$$,
    'student of B: the log shows the own rows only (not the owner''s download of the student''s file)');

-------------------------------------------------------------------------------
-- Written by the extension only.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT throws_ok(
    $$INSERT INTO tenancy.file_versions (organization_id, file_id, version, path, size_bytes)
      SELECT organization_id, id, 99, path, 1 FROM tenancy.files LIMIT 1$$,
    '42501', 'permission denied for table file_versions',
    'owner: INSERT into file_versions is refused (versions are written by the triggers)');
SELECT throws_ok(
    'UPDATE tenancy.file_versions SET size_bytes = 0',
    '42501', 'permission denied for table file_versions',
    'owner: UPDATE of file_versions is refused');
SELECT throws_ok(
    'DELETE FROM tenancy.file_versions',
    '42501', 'permission denied for table file_versions',
    'owner: DELETE from file_versions is refused');
SELECT throws_ok(
    $$INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action)
      VALUES (tenancy.current_org_id(), pg_temp.fid('s_org'), tenancy.current_user_id(), 'download')$$,
    '42501', 'permission denied for table file_access_log',
    'owner: INSERT into file_access_log is refused (the log is written by the extension)');
SELECT throws_ok(
    'UPDATE tenancy.file_access_log SET bytes = 0',
    '42501', 'permission denied for table file_access_log',
    'owner: UPDATE of file_access_log is refused');
SELECT throws_ok(
    'DELETE FROM tenancy.file_access_log',
    '42501', 'permission denied for table file_access_log',
    'owner: DELETE from file_access_log is refused');
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT throws_ok(
    $$INSERT INTO tenancy.file_versions (organization_id, file_id, version, path, size_bytes)
      VALUES (tenancy.current_org_id(), pg_temp.fid('s_priv'), 99, 'x', 1)$$,
    '42501', 'permission denied for table file_versions',
    'student: INSERT into file_versions (of the own file) is refused');
SELECT throws_ok(
    $$DELETE FROM tenancy.file_versions WHERE file_id = pg_temp.fid('s_priv')$$,
    '42501', 'permission denied for table file_versions',
    'student: DELETE of the own file''s versions is refused');
SELECT throws_ok(
    $$INSERT INTO tenancy.file_access_log (organization_id, file_id, user_id, action)
      VALUES (tenancy.current_org_id(), pg_temp.fid('s_org'), tenancy.current_user_id(), 'download')$$,
    '42501', 'permission denied for table file_access_log',
    'student: INSERT into file_access_log is refused');
SELECT throws_ok(
    $$UPDATE tenancy.file_access_log SET user_id = NULL WHERE user_id = tenancy.current_user_id()$$,
    '42501', 'permission denied for table file_access_log',
    'student: UPDATE of the own log rows is refused');
SELECT throws_ok(
    $$DELETE FROM tenancy.file_access_log WHERE user_id = tenancy.current_user_id()$$,
    '42501', 'permission denied for table file_access_log',
    'student: DELETE of the own log rows is refused');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_org'), 'upload')$$,
    '22023', NULL,
    'student: record_file_access cannot append an upload row (reads only)');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_org'), 'delete')$$,
    '22023', NULL,
    'student: record_file_access cannot append a delete row (reads only)');

-------------------------------------------------------------------------------
-- record_file_access: a file the caller cannot see is a file that does not
-- exist (same SQLSTATE, same message shape); it logs nothing.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT gen_random_uuid() AS nowhere \gset
SELECT throws_ok(
    format('SELECT tenancy.record_file_access(%L)', :'nowhere'),
    'P0002', format('file %s does not exist', :'nowhere'),
    'record_file_access of a nonexistent file fails with P0002 "file <id> does not exist"');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s2_priv'))$$,
    'P0002', format('file %s does not exist', pg_temp.fid('s2_priv')),
    'student: record_file_access of another student''s private file fails exactly like a nonexistent file');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('t_staff'), 'view')$$,
    'P0002', format('file %s does not exist', pg_temp.fid('t_staff')),
    'student: record_file_access of a staff file fails exactly like a nonexistent file');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('b_org'))$$,
    'P0002', format('file %s does not exist', pg_temp.fid('b_org')),
    'student: record_file_access of another organization''s org file fails exactly like a nonexistent file');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_del'))$$,
    '55000', format('file %s is deleted', pg_temp.fid('s_del')),
    'student: record_file_access of the own soft-deleted file (visible to its owner) says it is deleted');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_del'))$$,
    'P0002', format('file %s does not exist', pg_temp.fid('s_del')),
    'teacher: record_file_access of a student''s soft-deleted file fails like a nonexistent file (does not reveal it is deleted)');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_priv'), 'view', 1)$$,
    'P0002', format('file %s does not exist', pg_temp.fid('s_priv')),
    'teacher: record_file_access of a student''s private file fails exactly like a nonexistent file');
SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_del'))$$,
    '55000', format('file %s is deleted', pg_temp.fid('s_del')),
    'admin: record_file_access of a soft-deleted file of the organization says it is deleted');
SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_org'))$$,
    'P0002', format('file %s does not exist', pg_temp.fid('s_org')),
    'owner of B: record_file_access of a file of A fails exactly like a nonexistent file');
SELECT tenancy.clear_context() AS cleared \gset
-- Without a context every file is refused alike (1.23 library: 42501 saying
-- so; before, P0002 as for a file that does not exist).
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_org'))$$,
    '42501', 'no tenant context is set for tenancy.record_file_access()',
    'no context: record_file_access of an existing file is refused for want of a context');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(gen_random_uuid())$$,
    '42501', 'no tenant context is set for tenancy.record_file_access()',
    'no context: exactly as for a file that does not exist');

-- A read that is recorded: actor and organization from the context, bytes
-- default to the file size for a download.
SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT lives_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_org'))$$,
    'student2: record_file_access of another student''s org file succeeds');
INSERT INTO expected_log VALUES ('a', 's_org', 'a_student2', 'download', 300);

-------------------------------------------------------------------------------
-- A statement that fails leaves no log (or version) row.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT gen_random_uuid() AS ghost1, gen_random_uuid() AS ghost2 \gset
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (id, path, name, size_bytes)
             VALUES (%L, 'ghost/1', 'ghost1', 1), (%L, 'ghost/2', 'ghost2', -1)$$, :'ghost1', :'ghost2'),
    '23514', NULL,
    'a multi-row INSERT whose last row violates a check fails');
SELECT throws_ok(
    format($q$DO $do$ BEGIN
               INSERT INTO tenancy.files (id, path, name, size_bytes) VALUES (%L, 'ghost/3', 'ghost3', 1);
               RAISE EXCEPTION 'boom after the upload was audited';
             END $do$$q$, :'ghost1'),
    'P0001', 'boom after the upload was audited',
    'a statement that fails after its INSERT was audited fails');
SELECT throws_ok(
    $q$DO $do$ BEGIN
        UPDATE tenancy.files SET size_bytes = 999, checksum = 'ghost' WHERE id = pg_temp.fid('s_priv');
        PERFORM tenancy.record_file_access(pg_temp.fid('s_priv'));
        DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_staff');
        RAISE EXCEPTION 'boom after update, read and delete were audited';
      END $do$$q$,
    'P0001', 'boom after update, read and delete were audited',
    'a statement that fails after an audited UPDATE, read and DELETE fails');
SELECT throws_ok(
    $$SELECT tenancy.record_file_access(pg_temp.fid('s_priv'), 'download', -1)$$,
    '22023', NULL,
    'record_file_access with a negative byte count fails');
SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT throws_ok(
    $$UPDATE tenancy.files SET size_bytes = CASE WHEN id = pg_temp.fid('s_org') THEN -1 ELSE 777 END
      WHERE id IN (pg_temp.fid('s_priv'), pg_temp.fid('s_org'))$$,
    '23514', NULL,
    'an UPDATE of two files whose second row violates a check fails');
SELECT bag_eq(
    'SELECT org, file, actor, action, bytes FROM log_seen',
    $$SELECT * FROM expected_log WHERE org = 'a'$$,
    'after the failed statements the log holds exactly the rows of the statements that succeeded');
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE file_id IN (:'ghost1', :'ghost2')), 0::bigint,
          'no log row refers to a file whose INSERT failed');
SELECT set_eq(
    'SELECT org, file, version, size_bytes, created_by FROM versions_seen',
    $$SELECT * FROM expected_versions WHERE org = 'a'
      UNION ALL VALUES ('a', 's_org', 2, 200::bigint, 'a_admin')$$,
    'after the failed statements file_versions holds exactly the versions of the statements that succeeded');
SELECT results_eq(
    $$SELECT size_bytes, version, checksum FROM tenancy.files WHERE id = pg_temp.fid('s_priv')$$,
    $$VALUES (200::bigint, 2, 'v2')$$,
    'the file the failed statements updated is unchanged (size, version, checksum)');

-------------------------------------------------------------------------------
-- Actor and organization come from the context, never from the statement.
-------------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT organization_id, user_id FROM tenancy.file_access_log
      WHERE file_id = pg_temp.fid('s2_by_admin') AND action = 'upload'$$,
    format('VALUES (%L::uuid, %L::uuid)', pg_temp.org('a'), pg_temp.uid('a_admin')),
    'the upload of a file an admin inserted for a student is logged with the admin as actor, not the file''s owner');
SELECT results_eq(
    $$SELECT organization_id, user_id FROM tenancy.file_access_log
      WHERE file_id = pg_temp.fid('s_staff') AND action = 'download'$$,
    format('VALUES (%L::uuid, %L::uuid)', pg_temp.org('a'), pg_temp.uid('a_teacher')),
    'a recorded read carries the organization and the user of the reader''s context');
SELECT is((SELECT count(*) FROM tenancy.file_access_log WHERE user_id IS NULL OR organization_id <> tenancy.current_org_id()),
          0::bigint,
          'every log row of the organization has an actor and the organization of its context');
-- Switching the context inside one transaction switches the actor.
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT tenancy.record_file_access(pg_temp.fid('s2_org'), 'view') AS done \gset
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT tenancy.record_file_access(pg_temp.fid('s2_org'), 'view') AS done \gset
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT bag_eq(
    $$SELECT actor FROM log_seen WHERE file = 's2_org' AND action = 'view'$$,
    $$VALUES ('a_teacher'), ('a_student')$$,
    'two reads in one transaction under two contexts are logged with each context''s user');

SELECT * FROM finish();
ROLLBACK;
