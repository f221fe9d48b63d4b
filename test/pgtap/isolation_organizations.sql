-- tenancy.organizations under row level security: who reads, updates and
-- deletes which organization (DESIGN.md, access rules table):
--   student, teacher: read own org;  admin: read, update;  owner: also delete;
--   nobody inserts directly (tenancy.create_organization does that);
--   one org never sees or touches another.
-- Runs as the application login (tenancy_test_app) inside one transaction that
-- is rolled back, so it leaves nothing behind and can run any number of times.
BEGIN;
SELECT plan(57);

-- Statement helper: run a command and return how many rows it affected, so
-- that an UPDATE or DELETE that row level security hides can be asserted to
-- affect 0 rows (it does not raise an error).
\ir lib/rows_affected.sql

-------------------------------------------------------------------------------
-- Fixtures: two schools, A with one member of each role, B with an owner.
-------------------------------------------------------------------------------
SELECT 'orgs-' || left(md5(random()::text || clock_timestamp()::text), 12) AS run,
       gen_random_uuid() AS a_owner, gen_random_uuid() AS a_admin,
       gen_random_uuid() AS a_teacher, gen_random_uuid() AS a_student,
       gen_random_uuid() AS b_owner
\gset
SELECT tenancy.create_organization(:'run' || '-a', 'Isolation School A', :'a_owner') AS org_a \gset
SELECT tenancy.create_organization(:'run' || '-b', 'Isolation School B', :'b_owner') AS org_b \gset

SELECT tenancy.set_context(:'org_a', :'a_owner') AS fixture_role \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_a', :'a_admin', 'admin'),
    (:'org_a', :'a_teacher', 'teacher'),
    (:'org_a', :'a_student', 'student');

-------------------------------------------------------------------------------
-- student of A
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_student')::text, 'student',
          'set_context returns the role of a student member');
SELECT results_eq(
    'SELECT id, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text)', :'org_a', 'Isolation School A'),
    'student: SELECT shows exactly the own organization and no other');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b'), 0::bigint,
          'student: another organization is invisible even when asked for by id');
SELECT throws_ok(
    format($$INSERT INTO tenancy.organizations (slug, name) VALUES (%L, 'Forged')$$,
           :'run' || '-student'),
    '42501', NULL,
    'student: INSERT into organizations is refused (organizations are created by create_organization only)');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by student' WHERE id = %L$$, :'org_a')),
          0::bigint,
          'student: UPDATE of the own organization affects no row (students may not update it)');
SELECT is((SELECT name FROM tenancy.organizations WHERE id = :'org_a'), 'Isolation School A',
          'student: the own organization is unchanged after the refused UPDATE');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by A student' WHERE id = %L$$, :'org_b')),
          0::bigint,
          'student: UPDATE of another organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_a')),
          0::bigint,
          'student: DELETE of the own organization affects no row (only owners delete)');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_a'), 1::bigint,
          'student: the own organization still exists after the refused DELETE');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_b')),
          0::bigint,
          'student: DELETE of another organization affects no row');

-------------------------------------------------------------------------------
-- teacher of A
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_teacher')::text, 'teacher',
          'set_context returns the role of a teacher member');
SELECT results_eq(
    'SELECT id, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text)', :'org_a', 'Isolation School A'),
    'teacher: SELECT shows exactly the own organization and no other');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b'), 0::bigint,
          'teacher: another organization is invisible even when asked for by id');
SELECT throws_ok(
    format($$INSERT INTO tenancy.organizations (slug, name) VALUES (%L, 'Forged')$$,
           :'run' || '-teacher'),
    '42501', NULL,
    'teacher: INSERT into organizations is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by teacher' WHERE id = %L$$, :'org_a')),
          0::bigint,
          'teacher: UPDATE of the own organization affects no row (teachers may not update it)');
SELECT is((SELECT name FROM tenancy.organizations WHERE id = :'org_a'), 'Isolation School A',
          'teacher: the own organization is unchanged after the refused UPDATE');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by A teacher' WHERE id = %L$$, :'org_b')),
          0::bigint,
          'teacher: UPDATE of another organization affects no row');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_a')),
          0::bigint,
          'teacher: DELETE of the own organization affects no row (only owners delete)');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_a'), 1::bigint,
          'teacher: the own organization still exists after the refused DELETE');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_b')),
          0::bigint,
          'teacher: DELETE of another organization affects no row');

-------------------------------------------------------------------------------
-- admin of A
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_admin')::text, 'admin',
          'set_context returns the role of an admin member');
SELECT results_eq(
    'SELECT id, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text)', :'org_a', 'Isolation School A'),
    'admin: SELECT shows exactly the own organization and no other');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b'), 0::bigint,
          'admin: another organization is invisible even when asked for by id');
SELECT throws_ok(
    format($$INSERT INTO tenancy.organizations (slug, name) VALUES (%L, 'Forged')$$,
           :'run' || '-admin'),
    '42501', NULL,
    'admin: INSERT into organizations is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by admin' WHERE id = %L$$, :'org_a')),
          1::bigint,
          'admin: UPDATE of the own organization''s name affects its row');
SELECT is((SELECT name FROM tenancy.organizations WHERE id = :'org_a'), 'Renamed by admin',
          'admin: the own organization carries the new name');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by A admin' WHERE id = %L$$, :'org_b')),
          0::bigint,
          'admin: UPDATE of another organization affects no row');
SELECT throws_ok(
    format('UPDATE tenancy.organizations SET id = %L WHERE id = %L', gen_random_uuid(), :'org_a'),
    '42501', NULL,
    'admin: changing the organization id is refused');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_a')),
          0::bigint,
          'admin: DELETE of the own organization affects no row (only owners delete)');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_a'), 1::bigint,
          'admin: the own organization still exists after the refused DELETE');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_b')),
          0::bigint,
          'admin: DELETE of another organization affects no row');

-------------------------------------------------------------------------------
-- owner of A
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_a', :'a_owner')::text, 'owner',
          'set_context returns the role of an owner member');
SELECT results_eq(
    'SELECT id, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text)', :'org_a', 'Renamed by admin'),
    'owner: SELECT shows exactly the own organization and no other');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b'), 0::bigint,
          'owner: another organization is invisible even when asked for by id');
SELECT throws_ok(
    format($$INSERT INTO tenancy.organizations (slug, name) VALUES (%L, 'Forged')$$,
           :'run' || '-owner'),
    '42501', NULL,
    'owner: INSERT into organizations is refused');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by owner', slug = %L WHERE id = %L$$,
              :'run' || '-a2', :'org_a')),
          1::bigint,
          'owner: UPDATE of the own organization''s name and slug affects its row');
SELECT results_eq(
    format('SELECT slug, name FROM tenancy.organizations WHERE id = %L', :'org_a'),
    format('VALUES (%L::text, %L::text)', :'run' || '-a2', 'Renamed by owner'),
    'owner: the own organization carries the new slug and name');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by A owner' WHERE id = %L$$, :'org_b')),
          0::bigint,
          'owner: UPDATE of another organization affects no row');
SELECT throws_ok(
    format('UPDATE tenancy.organizations SET id = %L WHERE id = %L', :'org_b', :'org_a'),
    '42501', NULL,
    'owner: the own organization cannot take the id of another organization');
SELECT is(pg_temp.rows_affected(format(
              'DELETE FROM tenancy.organizations WHERE id = %L', :'org_b')),
          0::bigint,
          'owner: DELETE of another organization affects no row');
SELECT is(pg_temp.rows_affected('DELETE FROM tenancy.organizations'), 1::bigint,
          'owner: an unqualified DELETE reaches the own organization only');
SELECT is((SELECT count(*) FROM tenancy.organizations), 0::bigint,
          'owner: the own organization is gone after the owner''s DELETE');

-------------------------------------------------------------------------------
-- B saw none of it, and B's own owner still has it all.
-------------------------------------------------------------------------------
SELECT is(tenancy.set_context(:'org_b', :'b_owner')::text, 'owner',
          'the owner of B can still set a context in B');
SELECT results_eq(
    'SELECT id, slug, name FROM tenancy.organizations',
    format('VALUES (%L::uuid, %L::text, %L::text)', :'org_b', :'run' || '-b', 'Isolation School B'),
    'B is unchanged by every UPDATE and DELETE attempted from A');
SELECT is(pg_temp.rows_affected(format(
              $$UPDATE tenancy.organizations SET name = 'Renamed by B owner' WHERE id = %L$$, :'org_a')),
          0::bigint,
          'owner of B: UPDATE of the (deleted) organization A affects no row');

-------------------------------------------------------------------------------
-- B's non-owner roles: read their own org, never A's rows; only the owner
-- deletes (checked on B, which still exists).
-------------------------------------------------------------------------------
SELECT gen_random_uuid() AS b_admin, gen_random_uuid() AS b_teacher, gen_random_uuid() AS b_student \gset
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org_b', :'b_admin', 'admin'),
    (:'org_b', :'b_teacher', 'teacher'),
    (:'org_b', :'b_student', 'student');

SELECT is(tenancy.set_context(:'org_b', :'b_student')::text, 'student',
          'a student of B gets a student context');
SELECT is((SELECT count(*) FROM tenancy.organizations), 1::bigint,
          'student of B: SELECT shows one organization');
SELECT is((SELECT id FROM tenancy.organizations), :'org_b'::uuid,
          'student of B: the one organization shown is B');

SELECT is(tenancy.set_context(:'org_b', :'b_teacher')::text, 'teacher',
          'a teacher of B gets a teacher context');
SELECT is((SELECT array_agg(id) FROM tenancy.organizations), ARRAY[:'org_b'::uuid],
          'teacher of B: SELECT shows B only');

SELECT is(tenancy.set_context(:'org_b', :'b_admin')::text, 'admin',
          'an admin of B gets an admin context');
SELECT is((SELECT array_agg(id) FROM tenancy.organizations), ARRAY[:'org_b'::uuid],
          'admin of B: SELECT shows B only');
SELECT throws_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_b'),
    '42501', NULL,
    'admin of B: tenancy.delete_organization of the own organization is refused (owner only)');

SELECT is(tenancy.set_context(:'org_b', :'b_owner')::text, 'owner',
          'the owner of B gets an owner context');
SELECT is((SELECT count(*) FROM tenancy.organizations WHERE id = :'org_b'), 1::bigint,
          'B still exists after its admin''s refused delete_organization');
SELECT lives_ok(
    format('SELECT tenancy.delete_organization(%L)', :'org_b'),
    'owner of B: tenancy.delete_organization of the own organization succeeds');
SELECT is((SELECT count(*) FROM tenancy.organizations), 0::bigint,
          'owner of B: B is gone after delete_organization');

SELECT * FROM finish();
ROLLBACK;
