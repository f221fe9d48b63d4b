-- tenancy.files under row level security (DESIGN.md, access rules table):
--   student: own files, and 'org' files;
--   teacher: own, 'org' and 'staff' files; others' 'private' no;
--   admin / owner: all files of the organization;
--   soft-deleted files (deleted_at set): only their owner and admins/owners
--   (30_files.sql, files_select);
--   writes: students and teachers their own files only, admins/owners any
--   file of their organization; organization_id and owner_id default from the
--   context and cannot be forged (42501, row level security);
--   one organization never sees or touches another's files.
-- Every role x visibility x command cell is asserted, allowed and denied.
-- Runs as the application login (tenancy_test_app) inside one transaction
-- that is rolled back: nothing is left behind, reruns never collide.
BEGIN;
SELECT plan(130);

-------------------------------------------------------------------------------
-- Helpers.
-------------------------------------------------------------------------------
-- Runs a command, then undoes it; returns 'affected <n>' (rows the command
-- reached), or 'error <SQLSTATE>: <message>' when it failed. Allowed writes
-- are asserted with it without changing the fixtures for later cells.
CREATE FUNCTION pg_temp.try(command text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    outcome text;
BEGIN
    BEGIN
        EXECUTE command;
        GET DIAGNOSTICS n = ROW_COUNT;
        outcome := 'affected ' || n;
        RAISE SQLSTATE 'TUNDO';
    EXCEPTION
        WHEN SQLSTATE 'TUNDO' THEN NULL;
        WHEN OTHERS THEN outcome := 'error ' || SQLSTATE || ': ' || SQLERRM;
    END;
    RETURN outcome;
END
$$;

-- Fixture tables (temporary, outside the extension: no RLS applies).
\ir lib/labelled_fixtures.sql
-- name = path suffix = label; *_del files are soft-deleted by their owner.
CREATE TEMP TABLE fx (
    label      text PRIMARY KEY,
    org        text NOT NULL,
    owner      text NOT NULL,
    visibility tenancy.file_visibility NOT NULL,
    deleted    boolean NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid());

-- Switches the tenant context to a fixture member; returns the role.
-- The names of the files visible in the current context.
CREATE FUNCTION pg_temp.visible(labels text[]) RETURNS bigint
    LANGUAGE sql AS $$
    SELECT count(*) FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE label = ANY (labels))
$$;

-------------------------------------------------------------------------------
-- Fixtures.
--   A: owner, admin, teacher, teacher2, student, student2
--   B: owner, student
-------------------------------------------------------------------------------
INSERT INTO who (label, org, role) VALUES
    ('a_owner', 'a', 'owner'), ('a_admin', 'a', 'admin'),
    ('a_teacher', 'a', 'teacher'), ('a_teacher2', 'a', 'teacher'),
    ('a_student', 'a', 'student'), ('a_student2', 'a', 'student'),
    ('b_owner', 'b', 'owner'), ('b_student', 'b', 'student');
SELECT 'files-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run \gset
INSERT INTO orgs VALUES
    ('a', tenancy.create_organization(:'run' || '-a', 'Files School A', pg_temp.uid('a_owner'))),
    ('b', tenancy.create_organization(:'run' || '-b', 'Files School B', pg_temp.uid('b_owner')));
SELECT pg_temp.act_as('a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT pg_temp.org('a'), user_id, role FROM who WHERE org = 'a' AND role <> 'owner';
SELECT pg_temp.act_as('b_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT pg_temp.org('b'), user_id, role FROM who WHERE org = 'b' AND role <> 'owner';

INSERT INTO fx (label, org, owner, visibility, deleted) VALUES
    ('ow_priv',  'a', 'a_owner',    'private', false),
    ('ow_org',   'a', 'a_owner',    'org',     false),
    ('ad_priv',  'a', 'a_admin',    'private', false),
    ('ad_staff', 'a', 'a_admin',    'staff',   false),
    ('t_priv',   'a', 'a_teacher',  'private', false),
    ('t_staff',  'a', 'a_teacher',  'staff',   false),
    ('t_org',    'a', 'a_teacher',  'org',     false),
    ('t_del',    'a', 'a_teacher',  'staff',   true),
    ('t2_priv',  'a', 'a_teacher2', 'private', false),
    ('t2_staff', 'a', 'a_teacher2', 'staff',   false),
    ('s_priv',   'a', 'a_student',  'private', false),
    ('s_staff',  'a', 'a_student',  'staff',   false),
    ('s_org',    'a', 'a_student',  'org',     false),
    ('s_del',    'a', 'a_student',  'org',     true),
    ('s2_priv',  'a', 'a_student2', 'private', false),
    ('s2_staff', 'a', 'a_student2', 'staff',   false),
    ('s2_org',   'a', 'a_student2', 'org',     false),
    ('s2_del',   'a', 'a_student2', 'org',     true),
    ('b_priv',   'b', 'b_owner',    'private', false),
    ('b_staff',  'b', 'b_owner',    'staff',   false),
    ('b_org',    'b', 'b_student',  'org',     false);
-- Each member uploads their own files (organization and owner from the
-- context), then soft-deletes the *_del ones.
DO $$
DECLARE
    uploader text;
BEGIN
    FOR uploader IN SELECT DISTINCT owner FROM fx ORDER BY 1 LOOP
        PERFORM pg_temp.act_as(uploader);
        INSERT INTO tenancy.files (id, path, name, size_bytes, visibility)
        SELECT id, 'fixtures/' || label, label, 100, visibility FROM fx WHERE owner = uploader;
        UPDATE tenancy.files SET deleted_at = now()
        WHERE id IN (SELECT id FROM fx WHERE owner = uploader AND deleted);
    END LOOP;
END
$$;

-------------------------------------------------------------------------------
-- SELECT: who sees which file.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('s_priv'), ('s_staff'), ('s_org'), ('s_del'), ('s2_org'), ('t_org'), ('ow_org')$$,
    'student: SELECT shows exactly the own files (any visibility, soft-deleted included) and the live org files of others');
SELECT is(pg_temp.visible('{s2_priv,t_priv,t2_priv,ad_priv,ow_priv}'), 0::bigint,
          'student: private files of others are invisible, even by id');
SELECT is(pg_temp.visible('{s2_staff,t_staff,t2_staff,ad_staff}'), 0::bigint,
          'student: staff files of others are invisible to a student, even by id');
SELECT is(pg_temp.visible('{s_staff,s_priv}'), 2::bigint,
          'student: the own staff and private files are visible to their owner');
SELECT is(pg_temp.visible('{s_del}'), 1::bigint,
          'student: the own soft-deleted file stays visible to its owner');
SELECT is(pg_temp.visible('{s2_del}'), 0::bigint,
          'student: a soft-deleted org file of another student is invisible');
SELECT is((SELECT count(*) FROM tenancy.files
           WHERE organization_id = pg_temp.org('b') OR id IN (SELECT id FROM fx WHERE org = 'b')),
          0::bigint,
          'student: files of another organization are invisible, by organization_id and by id');

SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('s2_priv'), ('s2_staff'), ('s2_org'), ('s2_del'), ('s_org'), ('t_org'), ('ow_org')$$,
    'student2: SELECT shows exactly the own files and the live org files of others (not student''s private, staff or deleted)');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('t_priv'), ('t_staff'), ('t_org'), ('t_del'), ('ow_org'), ('ad_staff'), ('t2_staff'),
             ('s_staff'), ('s_org'), ('s2_staff'), ('s2_org')$$,
    'teacher: SELECT shows exactly the own files and the live org and staff files of others');
SELECT is(pg_temp.visible('{s_priv,s2_priv,t2_priv,ad_priv,ow_priv}'), 0::bigint,
          'teacher: private files of others (students, teachers, admins, owners) are invisible, even by id');
SELECT is(pg_temp.visible('{s_staff,s2_staff,t2_staff,ad_staff}'), 4::bigint,
          'teacher: staff files of others are visible to a teacher');
SELECT is(pg_temp.visible('{s_del,s2_del}'), 0::bigint,
          'teacher: soft-deleted org files of students are invisible');
SELECT is(pg_temp.visible('{t_del}'), 1::bigint,
          'teacher: the own soft-deleted file stays visible to its owner');
SELECT is((SELECT count(*) FROM tenancy.files
           WHERE organization_id = pg_temp.org('b') OR id IN (SELECT id FROM fx WHERE org = 'b')),
          0::bigint,
          'teacher: files of another organization are invisible, by organization_id and by id');

SELECT pg_temp.act_as('a_teacher2') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('t2_priv'), ('t2_staff'), ('ow_org'), ('ad_staff'), ('t_staff'), ('t_org'),
             ('s_staff'), ('s_org'), ('s2_staff'), ('s2_org')$$,
    'teacher2: SELECT shows the own files and the live org and staff files of others');
SELECT is(pg_temp.visible('{t_del}'), 0::bigint,
          'teacher2: a soft-deleted staff file of another teacher is invisible');

SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$SELECT label FROM fx WHERE org = 'a'$$,
    'admin: SELECT shows every file of the organization (all visibilities, soft-deleted included), no other');
SELECT is(pg_temp.visible('{t_del,s_del,s2_del}'), 3::bigint,
          'admin: soft-deleted files of others are visible to an admin');
SELECT is((SELECT count(*) FROM tenancy.files
           WHERE organization_id = pg_temp.org('b') OR id IN (SELECT id FROM fx WHERE org = 'b')),
          0::bigint,
          'admin: files of another organization are invisible, by organization_id and by id');

SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$SELECT label FROM fx WHERE org = 'a'$$,
    'owner: SELECT shows every file of the organization (all visibilities, soft-deleted included), no other');
SELECT is((SELECT count(*) FROM tenancy.files
           WHERE organization_id = pg_temp.org('b') OR id IN (SELECT id FROM fx WHERE org = 'b')),
          0::bigint,
          'owner: files of another organization are invisible, by organization_id and by id');

SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('b_priv'), ('b_staff'), ('b_org')$$,
    'owner of B: SELECT shows exactly the files of B');
SELECT is((SELECT count(*) FROM tenancy.files
           WHERE organization_id = pg_temp.org('a') OR id IN (SELECT id FROM fx WHERE org = 'a')),
          0::bigint,
          'owner of B: files of A are invisible, by organization_id and by id');
SELECT pg_temp.act_as('b_student') AS ctx \gset
SELECT set_eq(
    'SELECT name FROM tenancy.files',
    $$VALUES ('b_org')$$,
    'student of B: SELECT shows the own org file only (not the owner''s private or staff files)');

SELECT tenancy.clear_context() AS cleared \gset
SELECT is((SELECT count(*) FROM tenancy.files), 0::bigint,
          'no context: no file is visible at all');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
             VALUES (%L, %L, 'nocontext', 'nocontext', 1)$$, pg_temp.org('a'), pg_temp.uid('a_owner')),
    '42501', 'no tenant context is set for an insert into "files"',
    'no context: INSERT of a file is refused, even with explicit organization and owner (said plainly since the 1.21 library)');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$), 'affected 0',
          'no context: UPDATE reaches no file');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'), 'affected 0',
          'no context: DELETE reaches no file');

-------------------------------------------------------------------------------
-- INSERT: own files for everyone; for another owner only by admins/owners;
-- never into another organization.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT lives_ok(
    $$INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('new/new_s', 'new_s', 5)$$,
    'student: INSERT of an own file succeeds');
SELECT results_eq(
    $$SELECT organization_id, owner_id, visibility::text, version FROM tenancy.files WHERE name = 'new_s'$$,
    format($$VALUES (%L::uuid, %L::uuid, 'private', 1)$$, pg_temp.org('a'), pg_temp.uid('a_student')),
    'student: the new file''s organization and owner come from the context; private, version 1 by default');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (owner_id, path, name, size_bytes) VALUES (%L, 'forged/s-owner', 'x', 1)$$,
           pg_temp.uid('a_student2')),
    '42501', 'new row violates row-level security policy for table "files"',
    'student: INSERT with a forged owner_id (another student of the org) is refused by row level security');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (owner_id, path, name, size_bytes) VALUES (%L, 'forged/s-owner2', 'x', 1)$$,
           pg_temp.uid('a_teacher')),
    '42501', 'new row violates row-level security policy for table "files"',
    'student: INSERT with a forged owner_id (a teacher of the org) is refused by row level security');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, path, name, size_bytes) VALUES (%L, 'forged/s-org', 'x', 1)$$,
           pg_temp.org('b')),
    '42501', 'new row violates row-level security policy for table "files"',
    'student: INSERT with a forged organization_id (B) is refused by row level security');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
             VALUES (%L, %L, 'forged/s-both', 'x', 1)$$, pg_temp.org('b'), pg_temp.uid('b_student')),
    '42501', 'new row violates row-level security policy for table "files"',
    'student: INSERT with a forged organization_id and owner_id (a member of B) is refused by row level security');
SELECT throws_ok(
    $$INSERT INTO tenancy.files (path, name, size_bytes, version) VALUES ('forged/version', 'x', 1, 7)$$,
    '42501', NULL,
    'student: INSERT that sets version is refused (version belongs to the triggers)');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('fixtures/s2_priv', 'hijack', 1)
             ON CONFLICT (organization_id, path) DO UPDATE SET name = 'hijacked'$$),
    '42501', NULL,
    'student: an upsert on the storage key of another student''s private file cannot update that file');
SELECT is(pg_temp.try($$INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('fixtures/s_priv', 's_priv', 9)
                        ON CONFLICT (organization_id, path) DO UPDATE SET size_bytes = EXCLUDED.size_bytes$$),
          'affected 1',
          'student: an upsert on the storage key of the own file updates it');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT lives_ok(
    $$INSERT INTO tenancy.files (path, name, size_bytes, visibility) VALUES ('new/new_t', 'new_t', 5, 'staff')$$,
    'teacher: INSERT of an own staff file succeeds');
SELECT results_eq(
    $$SELECT organization_id, owner_id FROM tenancy.files WHERE name = 'new_t'$$,
    format($$VALUES (%L::uuid, %L::uuid)$$, pg_temp.org('a'), pg_temp.uid('a_teacher')),
    'teacher: the new file''s organization and owner come from the context');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (owner_id, path, name, size_bytes) VALUES (%L, 'forged/t-owner', 'x', 1)$$,
           pg_temp.uid('a_student')),
    '42501', 'new row violates row-level security policy for table "files"',
    'teacher: INSERT of a file for a student (forged owner_id) is refused by row level security');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, path, name, size_bytes) VALUES (%L, 'forged/t-org', 'x', 1)$$,
           pg_temp.org('b')),
    '42501', 'new row violates row-level security policy for table "files"',
    'teacher: INSERT with a forged organization_id (B) is refused by row level security');

SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT lives_ok(
    format($$INSERT INTO tenancy.files (owner_id, path, name, size_bytes) VALUES (%L, 'new/new_ad_for_s2', 'new_ad_for_s2', 5)$$,
           pg_temp.uid('a_student2')),
    'admin: INSERT of a file for another owner (a student) of the same organization succeeds');
SELECT results_eq(
    $$SELECT organization_id, owner_id FROM tenancy.files WHERE name = 'new_ad_for_s2'$$,
    format($$VALUES (%L::uuid, %L::uuid)$$, pg_temp.org('a'), pg_temp.uid('a_student2')),
    'admin: the file inserted for the student belongs to that student, in the admin''s organization');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
             VALUES (%L, %L, 'forged/ad-org', 'x', 1)$$, pg_temp.org('b'), pg_temp.uid('b_student')),
    '42501', 'new row violates row-level security policy for table "files"',
    'admin: INSERT into another organization (for a member of B) is refused by row level security');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, path, name, size_bytes) VALUES (%L, 'forged/ad-org2', 'x', 1)$$,
           pg_temp.org('b')),
    '42501', 'new row violates row-level security policy for table "files"',
    'admin: INSERT into another organization (owner from the context) is refused by row level security');

SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT lives_ok(
    format($$INSERT INTO tenancy.files (owner_id, path, name, size_bytes, visibility)
             VALUES (%L, 'new/new_ow_for_t', 'new_ow_for_t', 5, 'private')$$, pg_temp.uid('a_teacher')),
    'owner: INSERT of a file for another owner (a teacher) of the same organization succeeds');
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
             VALUES (%L, %L, 'forged/ow-org', 'x', 1)$$, pg_temp.org('b'), pg_temp.uid('b_owner')),
    '42501', 'new row violates row-level security policy for table "files"',
    'owner: INSERT into another organization (for its owner) is refused by row level security');

SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT throws_ok(
    format($$INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
             VALUES (%L, %L, 'forged/b-into-a', 'x', 1)$$, pg_temp.org('a'), pg_temp.uid('a_owner')),
    '42501', 'new row violates row-level security policy for table "files"',
    'owner of B: INSERT into A is refused by row level security');
SELECT is(pg_temp.try($$INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('fixtures/s_priv', 'b-same-path', 1)$$),
          'affected 1',
          'owner of B: a path used in A is free in B (storage keys are per organization)');

SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.files WHERE name = 'new_ad_for_s2' AND owner_id = tenancy.current_user_id()),
          1::bigint,
          'student2: the private file an admin inserted for them is visible to them as their own');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is((SELECT count(*) FROM tenancy.files WHERE name = 'new_ow_for_t'), 1::bigint,
          'teacher: the private file the owner inserted for them is visible to them as their own');

-------------------------------------------------------------------------------
-- UPDATE (each allowed update is undone at once).
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s_priv')$$),
          'affected 1', 'student: UPDATE of the own private file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s_del')$$),
          'affected 1', 'student: restoring the own soft-deleted file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = now() WHERE id = pg_temp.fid('s_org')$$),
          'affected 1', 'student: soft-deleting the own file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s2_org')$$),
          'affected 0', 'student: UPDATE of another student''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('t_org')$$),
          'affected 0', 'student: UPDATE of a teacher''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('ow_org')$$),
          'affected 0', 'student: UPDATE of the owner''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s2_priv')$$),
          'affected 0', 'student: UPDATE of another student''s private file reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s2_del')$$),
          'affected 0', 'student: restoring another student''s soft-deleted file reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('t_staff')$$),
          'affected 0', 'student: UPDATE of a teacher''s staff file reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$),
          'affected 5', 'student: UPDATE without WHERE reaches exactly the student''s own 5 files');
SELECT throws_ok(
    format($$UPDATE tenancy.files SET owner_id = %L WHERE id = pg_temp.fid('s_org')$$, pg_temp.uid('a_student2')),
    '42501', 'new row violates row-level security policy for table "files"',
    'student: giving the own file to another student is refused by row level security');
SELECT throws_ok(
    format($$UPDATE tenancy.files SET organization_id = %L WHERE id = pg_temp.fid('s_org')$$, pg_temp.org('b')),
    '42501', NULL,
    'student: moving the own file to another organization is refused');
SELECT throws_ok(
    $$UPDATE tenancy.files SET version = 42 WHERE id = pg_temp.fid('s_org')$$,
    '42501', NULL,
    'student: UPDATE of version is refused (version belongs to the triggers)');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'student: UPDATE of files of another organization reaches no row');
-- MERGE takes the same rules (PostgreSQL 15 raises instead of skipping a visible row it may not write).
SELECT is(pg_temp.try($$MERGE INTO tenancy.files f USING (VALUES (pg_temp.fid('s_priv'))) v(id) ON f.id = v.id
                        WHEN MATCHED THEN UPDATE SET name = 'merged'$$),
          'affected 1', 'student: MERGE ... UPDATE of the own file succeeds');
SELECT throws_ok(
    $$MERGE INTO tenancy.files f USING (VALUES (pg_temp.fid('s2_org'))) v(id) ON f.id = v.id
      WHEN MATCHED THEN UPDATE SET name = 'merged'$$,
    '42501', 'target row violates row-level security policy (USING expression) for table "files"',
    'student: MERGE ... UPDATE of another student''s org file (visible) is refused by row level security');
SELECT throws_ok(
    $$MERGE INTO tenancy.files f USING (VALUES (pg_temp.fid('s2_org'))) v(id) ON f.id = v.id
      WHEN MATCHED THEN DELETE$$,
    '42501', 'target row violates row-level security policy (USING expression) for table "files"',
    'student: MERGE ... DELETE of another student''s org file (visible) is refused by row level security');
SELECT is(pg_temp.try($$MERGE INTO tenancy.files f USING (VALUES (pg_temp.fid('s2_priv'))) v(id) ON f.id = v.id
                        WHEN MATCHED THEN DELETE$$),
          'affected 0', 'student: MERGE ... DELETE of another student''s private file matches no row');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('t_priv')$$),
          'affected 1', 'teacher: UPDATE of the own private file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('t_del')$$),
          'affected 1', 'teacher: restoring the own soft-deleted file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s_staff')$$),
          'affected 0', 'teacher: UPDATE of a student''s staff file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s_org')$$),
          'affected 0', 'teacher: UPDATE of a student''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('t2_staff')$$),
          'affected 0', 'teacher: UPDATE of another teacher''s staff file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('ad_staff')$$),
          'affected 0', 'teacher: UPDATE of an admin''s staff file (visible) reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s_priv')$$),
          'affected 0', 'teacher: UPDATE of a student''s private file reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s_del')$$),
          'affected 0', 'teacher: restoring a student''s soft-deleted file reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$),
          'affected 6', 'teacher: UPDATE without WHERE reaches exactly the teacher''s own 6 files');
SELECT throws_ok(
    format($$UPDATE tenancy.files SET owner_id = %L WHERE id = pg_temp.fid('t_staff')$$, pg_temp.uid('a_teacher2')),
    '42501', 'new row violates row-level security policy for table "files"',
    'teacher: giving the own file to another teacher is refused by row level security');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'teacher: UPDATE of files of another organization reaches no row');

SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('s2_priv')$$),
          'affected 1', 'admin: UPDATE of a student''s private file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('ow_priv')$$),
          'affected 1', 'admin: UPDATE of the owner''s private file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s_del')$$),
          'affected 1', 'admin: restoring a student''s soft-deleted file succeeds');
SELECT is(pg_temp.try(format($$UPDATE tenancy.files SET owner_id = %L WHERE id = pg_temp.fid('s2_staff')$$,
                             pg_temp.uid('a_student'))),
          'affected 1', 'admin: reassigning a file to another member of the organization succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$),
          'affected 22', 'admin: UPDATE without WHERE reaches all 22 files of the organization');
SELECT throws_ok(
    format($$UPDATE tenancy.files SET organization_id = %L WHERE id = pg_temp.fid('s2_priv')$$, pg_temp.org('b')),
    '42501', NULL,
    'admin: moving a file to another organization is refused');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'admin: UPDATE of files of another organization reaches no row');

SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id = pg_temp.fid('ad_priv')$$),
          'affected 1', 'owner: UPDATE of an admin''s private file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET visibility = 'org' WHERE id = pg_temp.fid('t2_priv')$$),
          'affected 1', 'owner: changing the visibility of a teacher''s file succeeds');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$),
          'affected 22', 'owner: UPDATE without WHERE reaches all 22 files of the organization');
SELECT throws_ok(
    format($$UPDATE tenancy.files SET organization_id = %L WHERE id = pg_temp.fid('ow_priv')$$, pg_temp.org('b')),
    '42501', NULL,
    'owner: moving a file to another organization is refused');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'owner: UPDATE of files of another organization reaches no row');

SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = 'renamed' WHERE id IN (SELECT id FROM fx WHERE org = 'a')$$),
          'affected 0', 'owner of B: UPDATE of files of A reaches no row');
SELECT is(pg_temp.try($$UPDATE tenancy.files SET name = name || '*'$$),
          'affected 3', 'owner of B: UPDATE without WHERE reaches exactly the 3 files of B');

-------------------------------------------------------------------------------
-- DELETE (each allowed delete is undone at once).
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_priv')$$),
          'affected 1', 'student: DELETE of the own file succeeds');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_del')$$),
          'affected 1', 'student: DELETE of the own soft-deleted file succeeds');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s2_org')$$),
          'affected 0', 'student: DELETE of another student''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('ow_org')$$),
          'affected 0', 'student: DELETE of the owner''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s2_priv')$$),
          'affected 0', 'student: DELETE of another student''s private file reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('t_staff')$$),
          'affected 0', 'student: DELETE of a teacher''s staff file reaches no row');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'),
          'affected 5', 'student: DELETE without WHERE reaches exactly the student''s own 5 files');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'student: DELETE of files of another organization reaches no row');

SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('t_staff')$$),
          'affected 1', 'teacher: DELETE of the own file succeeds');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_staff')$$),
          'affected 0', 'teacher: DELETE of a student''s staff file (visible) reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_org')$$),
          'affected 0', 'teacher: DELETE of a student''s org file (visible) reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('t2_staff')$$),
          'affected 0', 'teacher: DELETE of another teacher''s staff file (visible) reaches no row');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_priv')$$),
          'affected 0', 'teacher: DELETE of a student''s private file reaches no row');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'),
          'affected 6', 'teacher: DELETE without WHERE reaches exactly the teacher''s own 6 files');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'teacher: DELETE of files of another organization reaches no row');

SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('s2_priv')$$),
          'affected 1', 'admin: DELETE of a student''s private file succeeds');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('ow_priv')$$),
          'affected 1', 'admin: DELETE of the owner''s private file succeeds');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('t_del')$$),
          'affected 1', 'admin: DELETE of a teacher''s soft-deleted file succeeds');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'),
          'affected 22', 'admin: DELETE without WHERE reaches all 22 files of the organization');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'admin: DELETE of files of another organization reaches no row');

SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id = pg_temp.fid('ad_priv')$$),
          'affected 1', 'owner: DELETE of an admin''s private file succeeds');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'),
          'affected 22', 'owner: DELETE without WHERE reaches all 22 files of the organization');
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE org = 'b')$$),
          'affected 0', 'owner: DELETE of files of another organization reaches no row');

SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT is(pg_temp.try($$DELETE FROM tenancy.files WHERE id IN (SELECT id FROM fx WHERE org = 'a')$$),
          'affected 0', 'owner of B: DELETE of files of A reaches no row');
SELECT is(pg_temp.try('DELETE FROM tenancy.files'),
          'affected 3', 'owner of B: DELETE without WHERE reaches exactly the 3 files of B');

-------------------------------------------------------------------------------
-- Nothing refused (or undone) changed a file; B is untouched.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT set_eq(
    $$SELECT f.name, f.path, f.owner_id, f.visibility::text AS visibility, f.deleted_at IS NOT NULL AS deleted,
             f.version, f.size_bytes
      FROM tenancy.files f$$,
    format($$SELECT fx.label, 'fixtures/' || fx.label AS path, w.user_id, fx.visibility::text AS visibility, fx.deleted,
                    1 AS version, 100::bigint AS size_bytes
             FROM fx JOIN who w ON w.label = fx.owner WHERE fx.org = 'a'
             UNION ALL VALUES ('new_s', 'new/new_s', %L::uuid, 'private', false, 1, 5::bigint),
                              ('new_t', 'new/new_t', %L::uuid, 'staff', false, 1, 5::bigint),
                              ('new_ad_for_s2', 'new/new_ad_for_s2', %L::uuid, 'private', false, 1, 5::bigint),
                              ('new_ow_for_t', 'new/new_ow_for_t', %L::uuid, 'private', false, 1, 5::bigint)$$,
           pg_temp.uid('a_student'), pg_temp.uid('a_teacher'), pg_temp.uid('a_student2'), pg_temp.uid('a_teacher')),
    'A''s files are exactly the fixtures plus the four allowed inserts: no refused write changed a row');
SELECT pg_temp.act_as('b_owner') AS ctx \gset
SELECT set_eq(
    $$SELECT f.name, f.path, f.owner_id, f.visibility::text AS visibility, f.version FROM tenancy.files f$$,
    $$SELECT fx.label, 'fixtures/' || fx.label AS path, w.user_id, fx.visibility::text AS visibility, 1 AS version
      FROM fx JOIN who w ON w.label = fx.owner WHERE fx.org = 'b'$$,
    'B''s files are exactly as uploaded: no write from A reached them');

-------------------------------------------------------------------------------
-- Locking reads (FOR UPDATE, FOR SHARE: an ORM's pessimistic lock) return only
-- rows the caller may also update, as PostgreSQL applies the UPDATE policy to
-- them (README, what the application sees): a student reads a teacher's org
-- file, and its locking read finds no row.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
SELECT is((SELECT count(*) FROM (SELECT id FROM tenancy.files WHERE id = pg_temp.fid('t_org')) f),
          1::bigint, 'a student reads a teacher''s org file');
SELECT is((SELECT count(*) FROM (SELECT id FROM tenancy.files WHERE id = pg_temp.fid('t_org') FOR SHARE) f),
          0::bigint, 'a student''s FOR SHARE of a teacher''s org file finds no row');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is((SELECT count(*) FROM (SELECT id FROM tenancy.files WHERE id = pg_temp.fid('t_org') FOR UPDATE) f),
          1::bigint, 'its owner''s FOR UPDATE finds it');

-------------------------------------------------------------------------------
-- Effects that persist: soft delete hides a file from others, restore shows
-- it again, a hard delete removes it for everyone.
-------------------------------------------------------------------------------
SELECT pg_temp.act_as('a_student') AS ctx \gset
UPDATE tenancy.files SET deleted_at = now() WHERE id = pg_temp.fid('s_org');
SELECT is(pg_temp.visible('{s_org}'), 1::bigint,
          'after soft-deleting it, the student still sees the own file');
SELECT pg_temp.act_as('a_student2') AS ctx \gset
SELECT is(pg_temp.visible('{s_org}'), 0::bigint,
          'a soft-deleted org file is hidden from another student');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is(pg_temp.visible('{s_org}'), 0::bigint,
          'a soft-deleted org file is hidden from a teacher');
SELECT pg_temp.act_as('a_admin') AS ctx \gset
SELECT is(pg_temp.visible('{s_org}'), 1::bigint,
          'a soft-deleted org file stays visible to an admin');
SELECT pg_temp.act_as('a_student') AS ctx \gset
UPDATE tenancy.files SET deleted_at = NULL WHERE id = pg_temp.fid('s_org');
SELECT pg_temp.act_as('a_teacher') AS ctx \gset
SELECT is(pg_temp.visible('{s_org}'), 1::bigint,
          'a restored org file is visible to a teacher again');
SELECT pg_temp.act_as('a_student') AS ctx \gset
DELETE FROM tenancy.files WHERE id = pg_temp.fid('s_priv');
SELECT pg_temp.act_as('a_owner') AS ctx \gset
SELECT is(pg_temp.visible('{s_priv}'), 0::bigint,
          'a file its owner deleted is gone, for the organization''s owner too');

SELECT * FROM finish();
ROLLBACK;
