-- Creating and deleting organizations through the application role.
\c - tenancy_test_app
SELECT tenancy.create_organization('east-school', 'East School',
                                   '00000000-0000-4000-b000-0000000000e1') IS NOT NULL AS created;
-- Without a context the new organization is invisible.
SELECT count(*) FROM tenancy.organizations;


-- Bad input.
SELECT tenancy.create_organization('east-school', 'Again', '00000000-0000-4000-b000-0000000000e2');
SELECT tenancy.create_organization('East School', 'Bad slug', '00000000-0000-4000-b000-0000000000e2');
SELECT tenancy.create_organization('-dash', 'Bad slug', '00000000-0000-4000-b000-0000000000e2');
-- A slug of any length is quoted up to 63 characters (the longest valid one)
-- and "..." (1.26: the whole of it before, a 10 MB message for a 10 MB slug).
SELECT tenancy.create_organization(repeat('ab', 5000000), 'Bad slug', '00000000-0000-4000-b000-0000000000e2');
SELECT tenancy.create_organization('west-school', '', '00000000-0000-4000-b000-0000000000e2');
-- A name of white space only is refused as an empty one is (1.14).
SELECT tenancy.create_organization('west-school', E' \t\n ', '00000000-0000-4000-b000-0000000000e2');
SELECT tenancy.create_organization(NULL, 'No slug', '00000000-0000-4000-b000-0000000000e2');
SELECT tenancy.create_organization('west-school', 'West', NULL);

-- The app cannot insert organizations directly, nor members without a context.
INSERT INTO tenancy.organizations (slug, name) VALUES ('sneaky', 'Sneaky');
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES (gen_random_uuid(), gen_random_uuid(), 'owner');
-- (organization_id defaults from the context: without one it is NULL, and the
-- policy would refuse the row; since the 1.21 library an INSERT into the
-- extension's tables without a context says so.)
INSERT INTO tenancy.members (user_id, role) VALUES (gen_random_uuid(), 'teacher');
-- So does one into files or events, one that would insert no row, and an
-- upsert; EXPLAIN without ANALYZE runs nothing and says nothing.
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('a/b.txt', 'b.txt', 1);
INSERT INTO tenancy.events (kind) VALUES ('login');
INSERT INTO tenancy.events (kind) SELECT 'login' WHERE false;
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('a/b.txt', 'b.txt', 1)
ON CONFLICT (organization_id, path) DO UPDATE SET size_bytes = 2;
EXPLAIN (COSTS OFF) INSERT INTO tenancy.events (kind) VALUES ('login');
-- An INSERT in a writable CTE, and a MERGE that may insert, are refused the
-- same way; an UPDATE or DELETE in one reaches no row, as it would alone.
WITH logged AS (INSERT INTO tenancy.events (kind) VALUES ('login') RETURNING id)
SELECT count(*) FROM logged;
MERGE INTO tenancy.events e USING (SELECT 'login' AS kind) s ON false
WHEN NOT MATCHED THEN INSERT (kind) VALUES (s.kind);
WITH renamed AS (UPDATE tenancy.files SET name = name RETURNING id),
     removed AS (DELETE FROM tenancy.files WHERE false RETURNING id)
SELECT (SELECT count(*) FROM renamed) AS renamed, (SELECT count(*) FROM removed) AS removed;
-- A role of the DBA's outside tenancy_app, with a policy of its own, is left
-- to its policy (here, an INSERT of no row goes through).
\c - postgres
BEGIN;
CREATE ROLE tenancy_regress_loader;
GRANT USAGE ON SCHEMA tenancy TO tenancy_regress_loader;
GRANT INSERT ON tenancy.events TO tenancy_regress_loader;
CREATE POLICY events_loader ON tenancy.events FOR INSERT TO tenancy_regress_loader WITH CHECK (true);
SET LOCAL ROLE tenancy_regress_loader;
SELECT tenancy.current_org_id() IS NULL AS no_context;  -- (loads the library in this session)
INSERT INTO tenancy.events (organization_id, user_id, kind)
SELECT gen_random_uuid(), gen_random_uuid(), 'loaded' WHERE false;
ROLLBACK;
\c - tenancy_test_app

-- The last owner stays.
\c - postgres
SELECT id AS east FROM tenancy.organizations WHERE slug = 'east-school' \gset
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e1');
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES (:'east', '00000000-0000-4000-b000-0000000000e2', 'admin');
SAVEPOINT attempt;
UPDATE tenancy.members SET role = 'admin' WHERE user_id = '00000000-0000-4000-b000-0000000000e1';
ROLLBACK TO attempt;
DELETE FROM tenancy.members WHERE user_id = '00000000-0000-4000-b000-0000000000e1';
ROLLBACK TO attempt;
UPDATE tenancy.members SET deactivated_at = now() WHERE user_id = '00000000-0000-4000-b000-0000000000e1';
ROLLBACK;

-- An admin cannot make itself owner, nor touch the owner. (The owner adds
-- the admin without naming the organization: it defaults from the context,
-- 1.13.)
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e1');
INSERT INTO tenancy.members (user_id, role)
VALUES ('00000000-0000-4000-b000-0000000000e2', 'admin')
RETURNING organization_id = :'east' AS context_organization, role;
COMMIT;
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e2');
SAVEPOINT attempt;
UPDATE tenancy.members SET role = 'owner' WHERE user_id = '00000000-0000-4000-b000-0000000000e2';
ROLLBACK TO attempt;
-- The owner row is not the admin's to delete: policies hide it (0 rows).
DELETE FROM tenancy.members WHERE user_id = '00000000-0000-4000-b000-0000000000e1';
SELECT user_id, role FROM tenancy.members ORDER BY user_id;
ROLLBACK;

-- The owner renames the organization; a blank name is refused (1.14).
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e1');
UPDATE tenancy.organizations SET name = 'East High' RETURNING slug, name;
SAVEPOINT attempt;
UPDATE tenancy.organizations SET name = '   ';
ROLLBACK TO attempt;
SELECT name FROM tenancy.organizations;
ROLLBACK;

-- Two owners: one may step down.
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e1');
UPDATE tenancy.members SET role = 'owner' WHERE user_id = '00000000-0000-4000-b000-0000000000e2';
UPDATE tenancy.members SET role = 'teacher' WHERE user_id = '00000000-0000-4000-b000-0000000000e1';
SELECT user_id, role FROM tenancy.members ORDER BY user_id;
ROLLBACK;

-- Deleting the organization takes its members with it.
BEGIN;
SELECT tenancy.set_context(:'east', '00000000-0000-4000-b000-0000000000e1');
SELECT tenancy.delete_organization(:'east');
COMMIT;
\c - postgres
SELECT count(*) AS members_left FROM tenancy.members WHERE organization_id = :'east';

-- Two owners demoting each other at once, under REPEATABLE READ: each
-- snapshot still shows the other as an owner, so counting alone let both
-- through and left the organization without one. The guard locks the other
-- owners' rows before counting them (1.4): the second is a serialization
-- failure. Two sessions through dblink.
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000000e9', 'two-owners', 'Two Owners');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000e9', '00000000-0000-4000-b000-0000000000e1', 'owner'),
    ('00000000-0000-4000-a000-0000000000e9', '00000000-0000-4000-b000-0000000000e2', 'owner');
CREATE EXTENSION dblink;
CREATE FUNCTION pg_temp.owner_session(name text, owner uuid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_connect(name, format('host=%s port=%s dbname=%s',
        split_part(current_setting('unix_socket_directories'), ',', 1),
        current_setting('port'), current_database()));
    PERFORM dblink_exec(name, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
    PERFORM * FROM dblink(name, format('SELECT tenancy.set_context(%L, %L)',
                                       '00000000-0000-4000-a000-0000000000e9', owner)) AS t(role text);
    RETURN name;
END
$$;
SELECT pg_temp.owner_session('first', '00000000-0000-4000-b000-0000000000e1'),
       pg_temp.owner_session('second', '00000000-0000-4000-b000-0000000000e2');
SELECT dblink_exec('first', $$UPDATE tenancy.members SET role = 'admin'
                             WHERE user_id = '00000000-0000-4000-b000-0000000000e2'$$);
SELECT dblink_exec('first', 'COMMIT');
SELECT dblink_exec('second', $$UPDATE tenancy.members SET role = 'admin'
                              WHERE user_id = '00000000-0000-4000-b000-0000000000e1'$$, false);
SELECT dblink_error_message('second');
SELECT dblink_exec('second', 'ROLLBACK');
SELECT dblink_disconnect('first'), dblink_disconnect('second');
DROP EXTENSION dblink;
SELECT user_id, role FROM tenancy.members
WHERE organization_id = '00000000-0000-4000-a000-0000000000e9' ORDER BY user_id;
