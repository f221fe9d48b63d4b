-- The tenant context as an application sees it: set_context, the getters,
-- clear_context, and the errors of bad input. Fixtures are made by the
-- superuser with fixed ids so that the output is stable.
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-00000000000a', 'north-school', 'North School'),
    ('00000000-0000-4000-a000-00000000000b', 'south-school', 'South School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-00000000000a', '00000000-0000-4000-b000-0000000000a1', 'owner'),
    ('00000000-0000-4000-a000-00000000000a', '00000000-0000-4000-b000-0000000000a2', 'teacher'),
    ('00000000-0000-4000-a000-00000000000a', '00000000-0000-4000-b000-0000000000a3', 'student'),
    ('00000000-0000-4000-a000-00000000000b', '00000000-0000-4000-b000-0000000000b1', 'owner'),
    ('00000000-0000-4000-a000-00000000000b', '00000000-0000-4000-b000-0000000000b3', 'student');

\c - tenancy_test_app
SELECT current_user, tenancy.current_org_id(), tenancy.current_user_id(),
       tenancy.current_member_role();

-- The role comes from tenancy.members, never from the caller.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a2');
SELECT tenancy.current_org_id(), tenancy.current_user_id(), tenancy.current_member_role();
SELECT slug FROM tenancy.organizations;
SELECT user_id, role FROM tenancy.members ORDER BY user_id;
COMMIT;
-- Transaction-local: gone after COMMIT, NULL and never ''.
SELECT tenancy.current_org_id() IS NULL AS org_null,
       tenancy.current_user_id() IS NULL AS user_null,
       tenancy.current_member_role() IS NULL AS role_null;

-- A student sees the staff and itself, not other students.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000b',
                           '00000000-0000-4000-b000-0000000000b3');
SELECT user_id, role FROM tenancy.members ORDER BY user_id;
ROLLBACK;

-- Session context survives COMMIT until clear_context().
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1', false);
BEGIN; COMMIT;
SELECT tenancy.current_member_role();
SELECT tenancy.clear_context();
SELECT tenancy.current_member_role();

-- A session context follows the membership (1.14 library): it is read again
-- before the first query of each later transaction. The owner, in a context
-- of its own for one transaction, makes the teacher an admin: the teacher's
-- session context is an admin's from the next transaction on.
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a2', false);
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
UPDATE tenancy.members SET role = 'admin' WHERE user_id = '00000000-0000-4000-b000-0000000000a2';
COMMIT;
-- (Also where no query runs first: a PL/pgSQL expression.)
DO $$BEGIN RAISE NOTICE 'role: %', tenancy.current_member_role(); END$$;
SELECT tenancy.current_member_role();
-- Deactivated (or removed), it has no context any more: a WARNING says so,
-- and no member is visible. A rollback to a savepoint, which puts settings
-- back as they were, does not put the context back; a transaction that rolls
-- back does, and the next one ends the context again.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
UPDATE tenancy.members SET deactivated_at = now() WHERE user_id = '00000000-0000-4000-b000-0000000000a2';
COMMIT;
BEGIN;
SAVEPOINT before_first_query;
SELECT tenancy.current_org_id(), tenancy.current_member_role();
ROLLBACK TO before_first_query;
SELECT tenancy.current_org_id(), tenancy.current_member_role(),
       (SELECT count(*) FROM tenancy.members) AS members_visible;
ROLLBACK;
SELECT count(*) AS members_visible FROM tenancy.members;
SELECT tenancy.current_org_id(), tenancy.current_member_role();
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
UPDATE tenancy.members SET role = 'teacher', deactivated_at = NULL
WHERE user_id = '00000000-0000-4000-b000-0000000000a2';
COMMIT;

-- Outside a transaction block a transaction-local context lasts one statement.
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT tenancy.current_org_id();
-- A procedure that commits (a batch, one organization per transaction)
-- cannot run inside BEGIN, and its context serves it up to its COMMIT: the
-- warning comes once per CALL or DO block (before the 1.21 library, once per
-- set_context: a batch filled the log).
CREATE PROCEDURE pg_temp.count_own_files() LANGUAGE plpgsql AS $$
BEGIN
    FOR batch IN 1..3 LOOP
        PERFORM tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                                    '00000000-0000-4000-b000-0000000000a1');
        RAISE NOTICE 'batch %: files seen: %', batch, (SELECT count(*) FROM tenancy.files);
        COMMIT;
        RAISE NOTICE 'after COMMIT, the organization: %', tenancy.current_org_id();
    END LOOP;
END
$$;
CALL pg_temp.count_own_files();
CALL pg_temp.count_own_files();
DO $$
BEGIN
    PERFORM tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                                '00000000-0000-4000-b000-0000000000a1');
    RAISE NOTICE 'role in the DO block: %', tenancy.current_member_role();
END
$$;
-- Ending the context under a query that reads tenant rows is refused, as
-- changing it is (1.22 library): a procedure's loop, which COMMIT reads on
-- to keep it (it failed there), and the statement that ends it.
CREATE PROCEDURE pg_temp.clear_in_loop() LANGUAGE plpgsql AS $$
DECLARE
    member record;
BEGIN
    PERFORM tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                                '00000000-0000-4000-b000-0000000000a1');
    FOR member IN SELECT user_id FROM tenancy.members ORDER BY user_id LOOP
        PERFORM tenancy.clear_context();
        COMMIT;
    END LOOP;
END
$$;
\set VERBOSITY terse
CALL pg_temp.clear_in_loop();
\set VERBOSITY default
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT count(*) FROM (SELECT tenancy.clear_context() FROM tenancy.members) cleared;
ROLLBACK;
-- A statement that sets it once per row warns once (before the 1.22
-- library, once per row).
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1') AS role
FROM generate_series(1, 3);

-- Bad input: each a clear error with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT tenancy.set_context('not-a-uuid', '00000000-0000-4000-b000-0000000000a1');
\set VERBOSITY default
SELECT tenancy.set_context(NULL, '00000000-0000-4000-b000-0000000000a1');
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a', NULL);
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1', NULL);
-- Unknown organization and non-member read the same: nothing is revealed.
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000ff',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000b',
                           '00000000-0000-4000-b000-0000000000a1');
-- A failed set_context leaves no context behind.
SELECT tenancy.current_org_id();

-- Forging: the setting that carries the context is superuser-only.
SET tenancy.context = '00000000-0000-4000-a000-00000000000b/00000000-0000-4000-b000-0000000000a1/owner';
SELECT set_config('tenancy.context', '00000000-0000-4000-a000-00000000000b/00000000-0000-4000-b000-0000000000a1/owner', true);
SET tenancy.require_context = off;
SET tenancy.org_id = '00000000-0000-4000-a000-00000000000b';

-- Deactivated members and deleted organizations: no context.
\c - postgres
UPDATE tenancy.members SET deactivated_at = now()
WHERE user_id = '00000000-0000-4000-b000-0000000000a3';
\c - tenancy_test_app
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a3');
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000b',
                           '00000000-0000-4000-b000-0000000000b1');
SELECT tenancy.delete_organization('00000000-0000-4000-a000-00000000000b');
SELECT count(*) AS organizations_left FROM tenancy.organizations;
COMMIT;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000b',
                           '00000000-0000-4000-b000-0000000000b1');

-- Only an owner deletes, and only its own organization.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a2');
SELECT tenancy.delete_organization('00000000-0000-4000-a000-00000000000a');
ROLLBACK;
SELECT tenancy.delete_organization(NULL);

-- Strict mode: without a context, access to a tenant table is an error.
\c - postgres
ALTER ROLE tenancy_test_app IN DATABASE tenancy_regression SET tenancy.require_context = on;
\c - tenancy_test_app
SHOW tenancy.require_context;
SELECT count(*) FROM tenancy.members;
-- record_file_access too (1.14 library: before, the error came from its
-- internal query, shown as its CONTEXT).
SELECT tenancy.record_file_access(gen_random_uuid());
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT count(*) FROM tenancy.members;
COMMIT;
\c - postgres
ALTER ROLE tenancy_test_app IN DATABASE tenancy_regression RESET tenancy.require_context;
-- Superusers bypass RLS, so strict mode leaves them alone.
SET tenancy.require_context = on;
SELECT count(*) FROM tenancy.members;
RESET tenancy.require_context;

-- Session contexts refused for a login whose connections a pool shares
-- (tenancy.allow_session_context, superuser only, per login; 1.22 library):
-- a forgotten clear_context() would hand the context to the next client.
\c - postgres
ALTER ROLE tenancy_test_app IN DATABASE tenancy_regression SET tenancy.allow_session_context = off;
\c - tenancy_test_app
SHOW tenancy.allow_session_context;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1', false);
SELECT tenancy.current_org_id();
SET tenancy.allow_session_context = on;
SELECT set_config('tenancy.allow_session_context', 'on', false);
-- The transaction's context is as before.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1', true);
COMMIT;
\c - postgres
ALTER ROLE tenancy_test_app IN DATABASE tenancy_regression RESET tenancy.allow_session_context;

-- A WITH HOLD cursor's stored rows are read only under the context they
-- were read in (1.23 library): they went to whoever FETCHed next, another
-- organization's request on a pooled connection, or a member removed since.
-- (As the superuser with SET ROLE, so that one session both holds the
-- cursor and removes the member.)
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-00000000000c', 'west-school', 'West School');
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES ('00000000-0000-4000-a000-00000000000c', '00000000-0000-4000-b000-0000000000c1', 'owner');
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
DECLARE north_members CURSOR WITH HOLD FOR
    SELECT user_id, role FROM tenancy.members ORDER BY user_id;
FETCH 1 FROM north_members;
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000c',
                           '00000000-0000-4000-b000-0000000000c1');
FETCH 1 FROM north_members;
ROLLBACK;
FETCH 1 FROM north_members;
-- Nor by the ways that run no utility statement (1.24 library): a PL/pgSQL
-- FETCH from a refcursor, or an Execute message of the extended protocol
-- naming the cursor, read the stored rows under another context (red-team
-- review of 1.23). Between transactions and under another context the
-- cursor is shut, as PostgreSQL shuts a portal whose run failed.
CREATE FUNCTION pg_temp.read_cursor(cursor_name text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    rows refcursor := cursor_name;
    member record;
BEGIN
    FETCH rows INTO member;
    RETURN member.role;
END
$$;
\set VERBOSITY terse
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000c',
                           '00000000-0000-4000-b000-0000000000c1');
SELECT pg_temp.read_cursor('north_members');
ROLLBACK;
SELECT pg_temp.read_cursor('north_members');
MOVE 1 IN north_members;
-- Under its own context again: open, by set_context or by a FETCH.
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT pg_temp.read_cursor('north_members');
SELECT tenancy.clear_context();
SELECT pg_temp.read_cursor('north_members');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
FETCH ALL FROM north_members;
COMMIT;
SELECT pg_temp.read_cursor('north_members');
-- Nor once a rollback to a savepoint that set its context put another
-- back: the cursor is shut again (review of 1.24; it stayed open, and a
-- PL/pgSQL FETCH read it under the context put back).
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
DECLARE north_again CURSOR WITH HOLD FOR
    SELECT user_id, role FROM tenancy.members ORDER BY user_id;
COMMIT;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000c',
                           '00000000-0000-4000-b000-0000000000c1');
SAVEPOINT under_north;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
SELECT pg_temp.read_cursor('north_again');
ROLLBACK TO under_north;
SELECT tenancy.current_org_id();
SELECT pg_temp.read_cursor('north_again');
ROLLBACK;
CLOSE north_again;
-- A cursor closed and declared again by name in one query string (whose
-- statements share a start time, the portal's creation time) is known by
-- the context of the later one (review of 1.24: it kept the first one's,
-- and West's rows were read under North's context). The session context
-- is West's; the first cursor is declared under North's.
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000c',
                           '00000000-0000-4000-b000-0000000000c1', false) \; BEGIN \; SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a', '00000000-0000-4000-b000-0000000000a1') \; DECLARE twice CURSOR WITH HOLD FOR SELECT organization_id FROM tenancy.members \; COMMIT \; CLOSE twice \; DECLARE twice CURSOR WITH HOLD FOR SELECT organization_id FROM tenancy.members;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a1');
FETCH ALL FROM twice;
ROLLBACK;
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000c',
                           '00000000-0000-4000-b000-0000000000c1');
FETCH ALL FROM twice;
ROLLBACK;
CLOSE twice;
SELECT tenancy.clear_context();
\set VERBOSITY default
CLOSE north_members;
-- A session context's member removed: the next FETCH ends the context (its
-- WARNING) and is refused.
RESET ROLE;
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES ('00000000-0000-4000-a000-00000000000a', '00000000-0000-4000-b000-0000000000a9', 'admin');
SET ROLE tenancy_test_app;
SELECT tenancy.set_context('00000000-0000-4000-a000-00000000000a',
                           '00000000-0000-4000-b000-0000000000a9', false);
BEGIN;
DECLARE admin_view CURSOR WITH HOLD FOR SELECT user_id, role FROM tenancy.members ORDER BY user_id;
COMMIT;
FETCH 1 FROM admin_view;
-- A later transaction under the session context: its membership checked
-- before the first query opens the cursor for a PL/pgSQL FETCH too (1.24
-- library, review of 1.24).
SELECT pg_temp.read_cursor('admin_view');
RESET ROLE;
DELETE FROM tenancy.members WHERE user_id = '00000000-0000-4000-b000-0000000000a9';
SET ROLE tenancy_test_app;
FETCH 1 FROM admin_view;
CLOSE admin_view;
SELECT tenancy.current_org_id() IS NULL AS context_ended;
RESET ROLE;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-00000000000c';
