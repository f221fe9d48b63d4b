-- A session context follows the membership (1.14 library): before the first
-- query of each later transaction, and before a getter answers, the member
-- is read again in tenancy.members. What that must not do:
--   - turn a transaction-local context, brought back by the rollback of a
--     savepoint or of a PL/pgSQL exception block, into a session one that
--     outlives COMMIT (and reaches the pool's next client);
--   - end the session context beneath a transaction-local one;
--   - rewrite a context a function's SET clause gives (for the session: it
--     outlived the function and the transaction);
--   - change the role under an open cursor (its read gone stale with a
--     savepoint's rollback): 55000, as set_context refuses;
--   - take a default that RESET ALL brings back (a role's setting a superuser
--     made) as set in the transaction.
-- Runs as the superuser postgres (the context works the same for it); the
-- fixtures are deleted at the end.
SET client_min_messages = error;
SELECT plan(11);

SELECT gen_random_uuid() AS org, gen_random_uuid() AS owner, gen_random_uuid() AS admin,
       gen_random_uuid() AS teacher
\gset
INSERT INTO tenancy.organizations (id, slug, name)
VALUES (:'org', 'alignment-' || left(md5(random()::text), 10), 'Alignment School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org', :'owner', 'owner'), (:'org', :'admin', 'admin'), (:'org', :'teacher', 'teacher');
-- For the PL/pgSQL block below.
SELECT set_config('alignment.org', :'org', false), set_config('alignment.teacher', :'teacher', false)
\gset ignored_

-- A transaction-local context whose member's role changes in the same
-- transaction, then a set_context for another member in an exception block
-- that rolls back: the local context comes back as it was set, and COMMIT
-- ends it.
BEGIN;
SELECT tenancy.set_context(:'org', :'admin') AS ignored \gset
UPDATE tenancy.members SET role = 'teacher' WHERE organization_id = :'org' AND user_id = :'admin';
DO $$
BEGIN
    PERFORM tenancy.set_context(current_setting('alignment.org')::uuid,
                                current_setting('alignment.teacher')::uuid);
    RAISE EXCEPTION 'rolled back';
EXCEPTION WHEN raise_exception THEN NULL;
END
$$;
SELECT tenancy.current_member_role()::text AS local_role \gset
UPDATE tenancy.members SET role = 'admin' WHERE organization_id = :'org' AND user_id = :'admin';
COMMIT;
SELECT is(:'local_role'::text, 'admin',
          'a local context brought back by an exception block keeps the role it was set with');
SELECT is(current_setting('tenancy.context'), '',
          'and it ends at COMMIT: no session context left behind');

-- A session context beneath a transaction-local one whose member is
-- deactivated meanwhile, with a savepoint rolled back: the session context
-- is back after COMMIT.
SELECT tenancy.set_context(:'org', :'owner', false) AS ignored \gset
BEGIN;
SELECT tenancy.set_context(:'org', :'teacher') AS ignored \gset
UPDATE tenancy.members SET deactivated_at = now() WHERE organization_id = :'org' AND user_id = :'teacher';
SAVEPOINT s;
SELECT tenancy.set_context(:'org', :'admin') AS ignored \gset
ROLLBACK TO s;
SELECT tenancy.current_member_role()::text AS under_local \gset
UPDATE tenancy.members SET deactivated_at = NULL WHERE organization_id = :'org' AND user_id = :'teacher';
COMMIT;
SELECT is(:'under_local'::text, 'teacher', 'the local context is back after the rollback to the savepoint');
SELECT is(tenancy.current_user_id(), :'owner'::uuid, 'after COMMIT the session context is the owner''s again');
SELECT is(tenancy.current_member_role()::text, 'owner', '... with its role');

-- A context a function's SET clause gives is taken as set (a superuser's
-- function), and ends with the function.
SELECT tenancy.clear_context() AS ignored \gset
SELECT format('CREATE FUNCTION pg_temp.as_admin() RETURNS text LANGUAGE plpgsql'
              ' SET tenancy.context = %L AS $f$BEGIN RETURN tenancy.current_member_role(); END$f$',
              :'org' || '/' || :'admin' || '/admin') AS make_function \gset
:make_function;
UPDATE tenancy.members SET role = 'teacher' WHERE organization_id = :'org' AND user_id = :'admin';
BEGIN;
SELECT pg_temp.as_admin() AS function_role \gset
COMMIT;
SELECT is(:'function_role'::text, 'admin', 'a function''s SET clause gives its context as set');
SELECT is(current_setting('tenancy.context'), '', 'which ends with the function: nothing left after COMMIT');
UPDATE tenancy.members SET role = 'admin' WHERE organization_id = :'org' AND user_id = :'admin';

-- An application login's cursor over members under a session context; a
-- set_context of the same context in a savepoint (allowed under the cursor)
-- reads the membership there; another session demotes the member; the
-- savepoint rolls back, so that read is stale: the next FETCH reads it again
-- and refuses to go on under another role.
SELECT dblink_connect('alignment_dba', format('host=%s port=%s dbname=%s user=postgres',
                                              :'host', :'port', current_database()))
    AS ignored \gset
SET ROLE tenancy_test_app;
SELECT tenancy.set_context(:'org', :'admin', false) AS ignored \gset
BEGIN;
DECLARE c CURSOR FOR SELECT user_id FROM tenancy.members;
FETCH 1 FROM c \gset first_
SAVEPOINT s;
SELECT tenancy.set_context(:'org', :'admin', false) AS ignored \gset
SELECT dblink_exec('alignment_dba', format('UPDATE tenancy.members SET role = %L WHERE user_id = %L',
                                           'teacher', :'admin')) AS ignored \gset
ROLLBACK TO s;
-- An intended error: psql must not stop on it (it prints an ERROR line).
\set ON_ERROR_STOP 0
FETCH 1 FROM c \gset second_
\set ON_ERROR_STOP 1
\set cursor_error :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET ROLE;
SELECT is(:'cursor_error'::text, '55000', 'the cursor does not go on under the new role');
SELECT is(tenancy.current_member_role()::text, 'teacher', 'the next transaction has the new role');
SELECT tenancy.clear_context() AS ignored \gset
SELECT dblink_disconnect('alignment_dba') AS ignored \gset
UPDATE tenancy.members SET role = 'admin' WHERE organization_id = :'org' AND user_id = :'admin';

-- A login whose role setting (a superuser's) gives it a context with a role
-- its member no longer has: read again at its first query, and again after
-- RESET ALL brings the default back within a transaction.
CREATE ROLE tenancy_test_defaulted LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;
SELECT format('ALTER ROLE tenancy_test_defaulted SET tenancy.context = %L',
              :'org' || '/' || :'admin' || '/owner') AS set_default \gset
:set_default;
SELECT dblink_connect('alignment_defaulted',
                      format('host=127.0.0.1 port=%s dbname=%s user=tenancy_test_defaulted password=tenancy-test',
                             :'port', current_database())) AS ignored \gset
SELECT is((SELECT r FROM dblink('alignment_defaulted', 'SELECT tenancy.current_member_role()::text') AS t(r text)),
          'admin', 'a role default''s context is read again at the session''s first query');
SELECT dblink_exec('alignment_defaulted', 'BEGIN; RESET ALL') AS ignored \gset
SELECT is((SELECT r FROM dblink('alignment_defaulted', 'SELECT tenancy.current_member_role()::text') AS t(r text)),
          'admin', '... and again when RESET ALL brings it back in a transaction');
SELECT dblink_exec('alignment_defaulted', 'COMMIT') AS ignored \gset
SELECT dblink_disconnect('alignment_defaulted') AS ignored \gset
DROP ROLE tenancy_test_defaulted;

DELETE FROM tenancy.organizations WHERE id = :'org';
SELECT tenancy.clear_context() AS ignored \gset
SELECT * FROM finish();
