-- The tenant context under REPEATABLE READ, SERIALIZABLE and PREPARE
-- TRANSACTION (1.15 library; from a review of the isolation levels).
--   - set_context reads the member in the latest committed state; under a
--     transaction snapshot a membership granted after the snapshot (a
--     promotion, a new member) would read rows as they were before it, in an
--     order of events no serial run allows: refused with 40001, as a foreign
--     key check refuses;
--   - a member gone since the snapshot is refused as before (42501);
--   - PREPARE TRANSACTION keeps a session context even through ROLLBACK
--     PREPARED: refused (0A000); a transaction-local one is fine.
-- Runs as the superuser postgres (the context works the same for it); the
-- other transaction is a dblink session. Needs max_prepared_transactions > 0
-- (scripts/cluster.sh). Fixtures are deleted at the end.
SET client_min_messages = error;
SELECT plan(11);

SELECT gen_random_uuid() AS org, gen_random_uuid() AS owner, gen_random_uuid() AS student,
       gen_random_uuid() AS newcomer
\gset
INSERT INTO tenancy.organizations (id, slug, name)
VALUES (:'org', 'isolation-' || left(md5(random()::text), 10), 'Isolation School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org', :'owner', 'owner'), (:'org', :'student', 'student');
SELECT dblink_connect('isolation_dba', format('host=%s port=%s dbname=%s user=postgres',
                                              :'host', :'port', current_database()))
    AS ignored \gset

-- A student promoted after this transaction's snapshot was taken.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 1 AS snapshot_taken \gset
SELECT dblink_exec('isolation_dba', format('UPDATE tenancy.members SET role = %L WHERE user_id = %L',
                                           'admin', :'student')) AS ignored \gset
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'org', :'student'), '40001',
                 'could not serialize access due to a concurrent change of tenancy.members',
                 'REPEATABLE READ: a role granted after the snapshot is refused with 40001');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT is(tenancy.set_context(:'org', :'student')::text, 'admin',
          'the retry, with a snapshot taken after the change, has the new role');
ROLLBACK;

-- A member added after the snapshot, under SERIALIZABLE.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT 1 AS snapshot_taken \gset
SELECT dblink_exec('isolation_dba', format('INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, %L, %L)',
                                           :'org', :'newcomer', 'teacher')) AS ignored \gset
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'org', :'newcomer'), '40001', NULL,
                 'SERIALIZABLE: a member added after the snapshot is refused with 40001');
ROLLBACK;

-- A member deactivated after the snapshot: refused as any non-member.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 1 AS snapshot_taken \gset
SELECT dblink_exec('isolation_dba', format('UPDATE tenancy.members SET deactivated_at = now() WHERE user_id = %L',
                                           :'newcomer')) AS ignored \gset
SELECT throws_ok(format('SELECT tenancy.set_context(%L, %L)', :'org', :'newcomer'), '42501', NULL,
                 'REPEATABLE READ: a member deactivated after the snapshot is refused with 42501');
ROLLBACK;

-- The transaction's own change, in the statement that sets the context (a
-- new organization's owner): no concurrent change, no 40001.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT is(tenancy.set_context(tenancy.create_organization('isolation-own-' || left(md5(random()::text), 8),
                                                          'Own change', :'newcomer'),
                              :'newcomer')::text,
          'owner', 'REPEATABLE READ: a membership the statement itself made is no concurrent change');
ROLLBACK;

-- Nothing changed: set_context works under both.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT 1 AS snapshot_taken \gset
SELECT is(tenancy.set_context(:'org', :'owner')::text, 'owner',
          'SERIALIZABLE: an unchanged membership gives its context');
COMMIT;

-- PREPARE TRANSACTION after a session context: refused, nothing prepared,
-- no context left.
\set ON_ERROR_STOP 0
BEGIN;
SELECT tenancy.set_context(:'org', :'owner', false) AS ignored \gset
PREPARE TRANSACTION 'tenancy_isolation_session';
\set ON_ERROR_STOP 1
SELECT is((SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'tenancy_isolation_session'), 0::bigint,
          'PREPARE TRANSACTION after set_context(..., false) is refused');
SELECT is(tenancy.current_user_id(), NULL, '... and leaves no session context');

-- A transaction-local context: prepared, and gone from the session.
BEGIN;
SELECT tenancy.set_context(:'org', :'owner') AS ignored \gset
INSERT INTO tenancy.events (kind) VALUES ('prepared');
PREPARE TRANSACTION 'tenancy_isolation_local';
SELECT is((SELECT count(*) FROM pg_prepared_xacts WHERE gid = 'tenancy_isolation_local'), 1::bigint,
          'a transaction with a local context can be prepared');
SELECT is(tenancy.current_user_id(), NULL, '... and the session has no context after PREPARE');
COMMIT PREPARED 'tenancy_isolation_local';
SELECT is((SELECT count(*) FROM tenancy.events WHERE organization_id = :'org' AND kind = 'prepared'),
          1::bigint, '... and its rows are there after COMMIT PREPARED');

SELECT dblink_disconnect('isolation_dba') AS ignored \gset
DELETE FROM tenancy.organizations WHERE id = :'org';
SELECT * FROM finish();
