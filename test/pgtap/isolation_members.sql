-- tenancy.members under row level security (DESIGN.md, access rules table):
--   student: reads own row and the staff rows (owner, admin, teacher);
--   teacher: reads all members;  admin/owner: read, insert, update, delete;
--   only owners touch owner rows; the last active owner can be neither
--   removed, demoted nor deactivated (42501); one org never sees another.
-- Then the organization lifecycle: create_organization makes the creator its
-- owner, delete_organization is for owners only and cascades to members.
-- One transaction, rolled back: nothing is left behind, reruns never collide.
BEGIN;
SELECT plan(89);

\ir lib/rows_affected.sql

-------------------------------------------------------------------------------
-- Fixtures.
--   A: owner, admin, teacher, student, student2, former (deactivated student)
--   B: owner, admin, student
-------------------------------------------------------------------------------
SELECT 'members-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_admin,
       gen_random_uuid() AS a_teacher, gen_random_uuid() AS a_student,
       gen_random_uuid() AS a_student2, gen_random_uuid() AS a_former,
       gen_random_uuid() AS b_owner, gen_random_uuid() AS b_admin,
       gen_random_uuid() AS b_student, gen_random_uuid() AS newcomer
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Members School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Members School B', :'b_owner') AS org_b \gset

SELECT tenancy.set_context(:'org_a', :'a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role, deactivated_at) VALUES
    (:'org_a', :'a_admin', 'admin', NULL),
    (:'org_a', :'a_teacher', 'teacher', NULL),
    (:'org_a', :'a_student', 'student', NULL),
    (:'org_a', :'a_student2', 'student', NULL),
    (:'org_a', :'a_former', 'student', now());
SELECT tenancy.set_context(:'org_b', :'b_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_b', :'b_admin', 'admin'),
    (:'org_b', :'b_student', 'student');

-------------------------------------------------------------------------------
-- Contexts need an active membership.
-------------------------------------------------------------------------------
SELECT throws_ok(
    format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'a_former'),
    '42501', NULL,
    'a deactivated member cannot set a context');
SELECT throws_ok(
    format('SELECT tenancy.set_context(%L, %L)', :'org_b', :'a_owner'),
    '42501', NULL,
    'the owner of A cannot set a context in B, where they are no member');

-------------------------------------------------------------------------------
-- student of A: own row and staff rows only.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_student')::text, 'student',
          'set_context returns student for a student');
SELECT set_eq(
    'SELECT user_id, role::text FROM tenancy.members',
    format($$VALUES (%L::uuid, 'owner'), (%L::uuid, 'admin'), (%L::uuid, 'teacher'), (%L::uuid, 'student')$$,
           :'a_owner', :'a_admin', :'a_teacher', :'a_student'),
    'student: SELECT shows the own row and the staff rows, no other student');
SELECT is((SELECT count(*) FROM tenancy.members WHERE user_id IN (:'a_student2', :'a_former')), 0::bigint,
          'student: other students of the own organization are invisible, even by id');
SELECT is((SELECT count(*) FROM tenancy.members WHERE organization_id = :'org_b'), 0::bigint,
          'student: members of another organization are invisible');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_a', :'newcomer'),
    '42501', NULL,
    'student: INSERT of a member is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'admin' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_student')),
          0::bigint,
          'student: promoting oneself affects no row');
SELECT is(pg_temp.rows_affected(format(
              'UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = %L', :'org_a')),
          0::bigint,
          'student: UPDATE of any member of the own organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L', :'org_a')),
          0::bigint,
          'student: DELETE of members of the own organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L', :'org_b')),
          0::bigint,
          'student: DELETE of members of another organization affects no row');
SELECT is((SELECT role::text FROM tenancy.members WHERE user_id = :'a_student'), 'student',
          'student: the own row is unchanged after the refused self-promotion');

-------------------------------------------------------------------------------
-- teacher of A: all members of A, read only.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_teacher')::text, 'teacher',
          'set_context returns teacher for a teacher');
SELECT set_eq(
    'SELECT user_id FROM tenancy.members',
    format('VALUES (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid)',
           :'a_owner', :'a_admin', :'a_teacher', :'a_student', :'a_student2', :'a_former'),
    'teacher: SELECT shows all members of the own organization, no one else');
SELECT is((SELECT count(*) FROM tenancy.members WHERE organization_id = :'org_b'), 0::bigint,
          'teacher: members of another organization are invisible');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_a', :'newcomer'),
    '42501', NULL,
    'teacher: INSERT of a member is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'teacher' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_student')),
          0::bigint,
          'teacher: UPDATE of a student''s role affects no row');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'admin' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_teacher')),
          0::bigint,
          'teacher: promoting oneself affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_student2')),
          0::bigint,
          'teacher: DELETE of a student affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L', :'org_b')),
          0::bigint,
          'teacher: DELETE of members of another organization affects no row');
SELECT set_eq(
    format($$SELECT user_id, role::text FROM tenancy.members
              WHERE user_id IN (%L, %L, %L)$$, :'a_teacher', :'a_student', :'a_student2'),
    format($$VALUES (%L::uuid, 'teacher'), (%L::uuid, 'student'), (%L::uuid, 'student')$$,
           :'a_teacher', :'a_student', :'a_student2'),
    'teacher: the teacher and both students are unchanged after the refused writes');

-------------------------------------------------------------------------------
-- admin of A: manages members, but not owner rows and not another org.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_admin')::text, 'admin',
          'set_context returns admin for an admin');
SELECT is((SELECT count(*) FROM tenancy.members), 6::bigint,
          'admin: SELECT shows all six members of the own organization');
SELECT is((SELECT count(*) FROM tenancy.members WHERE organization_id = :'org_b'), 0::bigint,
          'admin: members of another organization are invisible');
SELECT lives_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'teacher')$$,
           :'org_a', :'newcomer'),
    'admin: INSERT of a teacher into the own organization succeeds');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'owner')$$,
           :'org_a', gen_random_uuid()),
    '42501', NULL,
    'admin: INSERT of an owner is refused (only owners touch owner rows)');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'student')$$,
           :'org_b', :'newcomer'),
    '42501', NULL,
    'admin: INSERT of a member into another organization is refused');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role, created_at) VALUES (%L, %L, 'student', '2001-01-01')$$,
           :'org_a', gen_random_uuid()),
    '42501', NULL,
    'admin: INSERT naming created_at is refused (the database''s, 1.15)');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role, updated_at) VALUES (%L, %L, 'student', 'infinity')$$,
           :'org_a', gen_random_uuid()),
    '42501', NULL,
    'admin: INSERT naming updated_at is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'teacher' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_student2')),
          1::bigint,
          'admin: UPDATE of a student''s role in the own organization affects that row');
SELECT is((SELECT role::text FROM tenancy.members WHERE user_id = :'a_student2'), 'teacher',
          'admin: the updated member has the new role');
SELECT throws_ok(
    format($$UPDATE tenancy.members SET role = 'owner' WHERE organization_id = %L AND user_id = %L$$,
           :'org_a', :'a_teacher'),
    '42501', NULL,
    'admin: promoting a member to owner is refused (only owners touch owner rows)');
SELECT throws_ok(
    format($$UPDATE tenancy.members SET role = 'owner' WHERE organization_id = %L AND user_id = %L$$,
           :'org_a', :'a_admin'),
    '42501', NULL,
    'admin: promoting oneself to owner is refused');
SELECT is(pg_temp.rows_affected(format(
              'UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_owner')),
          0::bigint,
          'admin: deactivating the owner affects no row (only owners touch owner rows)');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'student' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_owner')),
          0::bigint,
          'admin: demoting the owner affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_owner')),
          0::bigint,
          'admin: DELETE of the owner affects no row');
SELECT results_eq(
    format('SELECT role::text, deactivated_at IS NULL FROM tenancy.members WHERE user_id = %L', :'a_owner'),
    $$VALUES ('owner', true)$$,
    'admin: the owner row is unchanged (still an active owner) after the refused writes');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'admin' WHERE organization_id = %L$$, :'org_b')),
          0::bigint,
          'admin: UPDATE of members of another organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L', :'org_b')),
          0::bigint,
          'admin: DELETE of members of another organization affects no row');
SELECT throws_ok(
    format('UPDATE tenancy.members SET organization_id = %L WHERE organization_id = %L AND user_id = %L',
           :'org_b', :'org_a', :'a_student'),
    '42501', NULL,
    'admin: moving a membership to another organization is refused');
SELECT throws_ok(
    format('UPDATE tenancy.members SET user_id = %L WHERE organization_id = %L AND user_id = %L',
           gen_random_uuid(), :'org_a', :'a_student'),
    '42501', NULL,
    'admin: moving a membership to another user is refused');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_former')),
          1::bigint,
          'admin: DELETE of a (deactivated) student of the own organization affects that row');
SELECT is(pg_temp.rows_affected(format(
              'UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_student')),
          1::bigint,
          'admin: deactivating a student of the own organization affects that row');
SELECT throws_ok(
    format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'a_student'),
    '42501', NULL,
    'a member deactivated by an admin can no longer set a context');
-- (the failed set_context left the admin's context in place)
SELECT is(tenancy.current_member_role()::text, 'admin',
          'a refused set_context leaves the previous context in place');
SELECT throws_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_a'),
    '42501', NULL,
    'admin: delete_organization of the own organization is refused (owner only)');

-------------------------------------------------------------------------------
-- owner of A: everything in A, owner rows included; nothing in B.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_owner')::text, 'owner',
          'set_context returns owner for an owner');
SELECT set_eq(
    'SELECT user_id FROM tenancy.members',
    format('VALUES (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid)',
           :'a_owner', :'a_admin', :'a_teacher', :'a_student', :'a_student2', :'newcomer'),
    'owner: SELECT shows all members of the own organization (after the admin''s changes), no one else');
SELECT is((SELECT count(*) FROM tenancy.members WHERE organization_id = :'org_b'), 0::bigint,
          'owner: members of another organization are invisible');
SELECT throws_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'owner')$$,
           :'org_b', :'a_owner'),
    '42501', NULL,
    'owner: INSERT of a member into another organization is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'student' WHERE organization_id = %L$$, :'org_b')),
          0::bigint,
          'owner: UPDATE of members of another organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L', :'org_b')),
          0::bigint,
          'owner: DELETE of members of another organization affects no row');

-- The last owner.
SELECT throws_ok(
    format('DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L', :'org_a', :'a_owner'),
    '42501', 'cannot remove, demote or deactivate the last owner of an organization',
    'the last owner cannot be removed');
SELECT throws_ok(
    format($$UPDATE tenancy.members SET role = 'admin' WHERE organization_id = %L AND user_id = %L$$,
           :'org_a', :'a_owner'),
    '42501', 'cannot remove, demote or deactivate the last owner of an organization',
    'the last owner cannot be demoted');
SELECT throws_ok(
    format('UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = %L AND user_id = %L',
           :'org_a', :'a_owner'),
    '42501', 'cannot remove, demote or deactivate the last owner of an organization',
    'the last owner cannot be deactivated');
SELECT throws_ok(
    format('DELETE FROM tenancy.members WHERE organization_id = %L', :'org_a'),
    '42501', 'cannot remove, demote or deactivate the last owner of an organization',
    'deleting every member at once is refused while it would remove the last owner');
SELECT results_eq(
    format($$SELECT role::text, deactivated_at IS NULL FROM tenancy.members WHERE user_id = %L$$, :'a_owner'),
    $$VALUES ('owner', true)$$,
    'the last owner is still an active owner after the refused changes');
SELECT is((SELECT count(*) FROM tenancy.members), 6::bigint,
          'the refused mass DELETE removed no member at all');

-- A second owner, then owners manage owner rows.
SELECT lives_ok(
    format($$UPDATE tenancy.members SET role = 'owner' WHERE organization_id = %L AND user_id = %L$$,
           :'org_a', :'a_admin'),
    'owner: promoting the admin to owner succeeds');
SELECT is((SELECT count(*) FROM tenancy.members WHERE role = 'owner' AND deactivated_at IS NULL), 2::bigint,
          'owner: the organization now has two active owners');
SELECT is(pg_temp.rows_affected(format(
              'UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_owner')),
          1::bigint,
          'an owner who is not the last one can be deactivated');
SELECT is(pg_temp.rows_affected(format(
              'UPDATE tenancy.members SET deactivated_at = NULL WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_owner')),
          1::bigint,
          'owner: reactivating an owner succeeds');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.members SET role = 'admin' WHERE organization_id = %L AND user_id = %L$$,
              :'org_a', :'a_admin')),
          1::bigint,
          'owner: demoting another owner (not the last) succeeds');
SELECT lives_ok(
    format($$INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, 'owner')$$,
           :'org_a', :'a_former'),
    'owner: INSERT of an owner into the own organization succeeds');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_former')),
          1::bigint,
          'owner: DELETE of another owner (not the last) succeeds');
SELECT throws_ok(
    format('DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L', :'org_a', :'a_owner'),
    '42501', 'cannot remove, demote or deactivate the last owner of an organization',
    'once the other owners are gone, the remaining owner is again the last and cannot be removed');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.members WHERE organization_id = %L AND user_id = %L',
              :'org_a', :'a_admin')),
          1::bigint,
          'owner: DELETE of an admin of the own organization succeeds');

-------------------------------------------------------------------------------
-- B saw none of A's writes.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_b', :'b_owner')::text, 'owner',
          'the owner of B gets an owner context');
SELECT results_eq(
    'SELECT m.user_id, m.role::text, m.deactivated_at IS NULL FROM tenancy.members m ORDER BY m.role',
    format($$VALUES (%L::uuid, 'owner', true), (%L::uuid, 'admin', true), (%L::uuid, 'student', true)$$,
           :'b_owner', :'b_admin', :'b_student'),
    'B''s members are exactly as created: no write from A reached them');

-------------------------------------------------------------------------------
-- create_organization: the creator becomes its only member, an owner.
-------------------------------------------------------------------------------
SELECT tenancy.create_organization(:'run' || '-c', 'Members School C', :'newcomer') AS org_c \gset
SELECT is(tenancy.set_context(:'org_c', :'newcomer')::text, 'owner',
          'create_organization: the creator can set a context in the new organization, as owner');
SELECT results_eq(
    'SELECT user_id, role::text FROM tenancy.members',
    format($$VALUES (%L::uuid, 'owner')$$, :'newcomer'),
    'create_organization: the new organization has exactly one member, its owner');
SELECT results_eq(
    'SELECT id, slug, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text, %L::text)', :'org_c', :'run' || '-c', 'Members School C'),
    'create_organization: the new organization has the given slug and name');
SELECT throws_ok(
    format($$SELECT tenancy.create_organization(%L, 'Duplicate', %L)$$, :'run' || '-c', gen_random_uuid()),
    '23505', NULL,
    'create_organization: a slug that is taken is refused');
SELECT throws_ok(
    format($$SELECT tenancy.create_organization('Not A Slug!', 'Bad slug', %L)$$, gen_random_uuid()),
    '22023', NULL,
    'create_organization: an invalid slug is refused with 22023');
SELECT throws_ok(
    $$SELECT tenancy.create_organization('some-slug', 'No owner', NULL)$$,
    '22004', NULL,
    'create_organization: a NULL owner is refused with 22004');

-------------------------------------------------------------------------------
-- delete_organization: owner only, cascades to the members.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_teacher')::text, 'teacher',
          'the teacher of A gets a teacher context');
SELECT throws_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_a'),
    '42501', NULL,
    'teacher: delete_organization is refused (owner only)');
SELECT is(tenancy.set_context(:'org_a', :'a_student2')::text, 'teacher',
          'the promoted student of A gets a teacher context');
SELECT is(tenancy.set_context(:'org_b', :'b_student')::text, 'student',
          'the student of B gets a student context');
SELECT throws_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_b'),
    '42501', NULL,
    'student: delete_organization is refused (owner only)');
SELECT is(tenancy.set_context(:'org_b', :'b_owner')::text, 'owner',
          'the owner of B gets an owner context');
SELECT throws_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_a'),
    '42501', NULL,
    'owner of B: delete_organization of A is refused (owners delete only their own organization)');
SELECT is(tenancy.set_context(:'org_a', :'a_owner')::text, 'owner',
          'the owner of A still gets an owner context: A survived every refused delete');
SELECT lives_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_a'),
    'owner of A: delete_organization of A succeeds');
SELECT is((SELECT count(*) FROM tenancy.members), 0::bigint,
          'delete_organization: no member row of A is left (cascade)');
SELECT throws_ok(
    format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'a_owner'),
    '42501', NULL,
    'set_context into a deleted organization fails, for its former owner');
SELECT throws_ok(
    format('SELECT tenancy.set_context(%L, %L)', :'org_a', :'a_teacher'),
    '42501', NULL,
    'set_context into a deleted organization fails, for its former teacher (membership cascaded away)');
SELECT is(tenancy.set_context(:'org_b', :'b_owner')::text, 'owner',
          'B is unaffected by the deletion of A: its owner still gets a context');
SELECT is((SELECT count(*) FROM tenancy.members), 3::bigint,
          'B is unaffected by the deletion of A: its three members remain');

SELECT * FROM finish();
ROLLBACK;
