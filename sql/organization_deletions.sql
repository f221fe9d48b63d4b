-- Each organization's deletion is on record (1.24): tenancy.organization_deletions
-- gets one row per organization deleted, whatever the path, in the deleting
-- transaction; the application cannot read it. Organizations of this file
-- have slugs gone-…, and each query of the records reads theirs only (other
-- files delete organizations too).
\c - postgres
CREATE SCHEMA deletions_test;
-- An organization with a bit of everything: members (one deactivated),
-- files (one with a second version, one soft-deleted), reads and events.
CREATE FUNCTION deletions_test.school(slug text, owner uuid, students int, files int) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    org uuid := tenancy.create_organization(slug, initcap(replace(slug, '-', ' ')), owner);
BEGIN
    INSERT INTO tenancy.members (organization_id, user_id, role)
    SELECT org, gen_random_uuid(), 'student' FROM generate_series(1, students);
    UPDATE tenancy.members SET deactivated_at = now()
    WHERE organization_id = org AND user_id = (SELECT user_id FROM tenancy.members
                                               WHERE organization_id = org AND role = 'student'
                                               ORDER BY user_id LIMIT 1);
    PERFORM tenancy.set_context(org, owner);
    INSERT INTO tenancy.files (path, name, size_bytes)              -- an upload each
    SELECT 'f/' || g, 'f' || g, g FROM generate_series(1, files) g;
    UPDATE tenancy.files SET size_bytes = 100 WHERE path = 'f/1';   -- a version, an update
    UPDATE tenancy.files SET deleted_at = now() WHERE path = 'f/2'; -- a delete
    PERFORM tenancy.record_file_access(id) FROM tenancy.files
    WHERE organization_id = org AND deleted_at IS NULL;
    PERFORM tenancy.track('login') FROM generate_series(1, students);
    PERFORM tenancy.clear_context();
    RETURN org;
END
$$;
CREATE VIEW deletions_test.gone AS
SELECT slug, name, deleted_by_user_id, deleted_by_session_user, deleted_by_current_user,
       deleted_by_statement, member_rows, file_rows, file_version_rows,
       file_access_log_rows, event_rows
FROM tenancy.organization_deletions WHERE slug LIKE 'gone-%' ORDER BY id;
BEGIN;  -- (set_context in a transaction block: its context ends with it)
SELECT deletions_test.school('gone-owner', '00000000-0000-4000-b000-00000000d001', 3, 4) AS owner_org \gset
SELECT deletions_test.school('gone-one', '00000000-0000-4000-b000-00000000d002', 1, 2) AS one \gset
SELECT deletions_test.school('gone-two', '00000000-0000-4000-b000-00000000d003', 2, 3) AS two \gset
SELECT deletions_test.school('gone-cte', '00000000-0000-4000-b000-00000000d004', 0, 1) AS cte \gset
SELECT deletions_test.school('gone-merge', '00000000-0000-4000-b000-00000000d005', 0, 0) AS merged \gset
SELECT deletions_test.school('gone-role', '00000000-0000-4000-b000-00000000d006', 0, 0) AS role_org \gset
COMMIT;
SELECT count(*) AS records FROM deletions_test.gone;

-- The owner deletes the organization through the application's login: the
-- record names the context's user and the login, and counts what went with
-- the organization (4 members, one deactivated; 4 files, one soft-deleted;
-- 1 version; 4 uploads, 1 update, 1 delete and 3 reads in the log; 3 events).
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context(:'owner_org', '00000000-0000-4000-b000-00000000d001');
-- A deletion that fails (not an owner's) or is rolled back leaves no record.
SAVEPOINT attempt;
\set VERBOSITY sqlstate
SELECT tenancy.delete_organization(:'one');
\set VERBOSITY default
ROLLBACK TO attempt;
SELECT tenancy.delete_organization(:'owner_org');
-- The application reads nothing of it, in or out of the transaction.
SAVEPOINT attempt;
SELECT count(*) FROM tenancy.organization_deletions;
ROLLBACK TO attempt;
COMMIT;
SELECT count(*) FROM tenancy.organization_deletions;
INSERT INTO tenancy.organization_deletions (organization_id, slug, name, created_at,
    deleted_by_session_user, deleted_by_current_user, deleted_by_statement,
    member_rows, file_rows, file_version_rows)
VALUES (gen_random_uuid(), 'gone-forged', 'Forged', now(), 'x', 'x', 'delete', 0, 0, 0);
DELETE FROM tenancy.organization_deletions;
\c - postgres
\x on
SELECT * FROM deletions_test.gone;
\x off
SELECT organization_id = :'owner_org' AS same_id, created_at < deleted_at AS created_before,
       deleted_at <= now() AS deleted_before_now
FROM tenancy.organization_deletions WHERE slug = 'gone-owner';

-- Rolled back, whole or to a savepoint: no record. A subtransaction that is
-- released keeps it, and a rollback of the outer transaction then takes it.
BEGIN;
DELETE FROM tenancy.organizations WHERE id = :'one';
SELECT slug, member_rows, file_access_log_rows FROM deletions_test.gone WHERE slug = 'gone-one';
ROLLBACK;
BEGIN;
SAVEPOINT s;
DELETE FROM tenancy.organizations WHERE id = :'one';
ROLLBACK TO s;
SELECT count(*) AS after_rollback_to_savepoint FROM deletions_test.gone WHERE slug = 'gone-one';
SAVEPOINT s;
DELETE FROM tenancy.organizations WHERE id = :'one';
RELEASE s;
SELECT count(*) AS after_release FROM deletions_test.gone WHERE slug = 'gone-one';
ROLLBACK;
SELECT count(*) AS after_rollback FROM deletions_test.gone WHERE slug = 'gone-one';

-- A superuser's DELETE of several organizations in one statement: a record
-- each, each with its own counts; no context, so no user.
DELETE FROM tenancy.organizations WHERE id IN (:'one', :'two');
-- A writable CTE, and a MERGE.
WITH removed AS (DELETE FROM tenancy.organizations WHERE id = :'cte' RETURNING slug)
SELECT slug FROM removed;
MERGE INTO tenancy.organizations o USING (SELECT :'merged'::uuid AS id) s ON o.id = s.id
WHEN MATCHED THEN DELETE;
-- A superuser in an owner's context, as the application's login (SET ROLE):
-- session_user and current_user differ.
BEGIN;
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context(:'role_org', '00000000-0000-4000-b000-00000000d006');
SELECT tenancy.delete_organization(:'role_org');
COMMIT;
SELECT * FROM deletions_test.gone;
SELECT count(*) AS rows_left FROM tenancy.file_access_log
WHERE organization_id IN (:'owner_org', :'one', :'two', :'cte', :'merged', :'role_org');

-- An organization deleted, restored with its id and deleted again has two
-- records, each with the counts of its own deletion.
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'one', 'gone-one', 'Gone One again');
INSERT INTO tenancy.events (organization_id, kind) VALUES (:'one', 'restored');
DELETE FROM tenancy.organizations WHERE id = :'one';
SELECT name, member_rows, event_rows FROM tenancy.organization_deletions
WHERE organization_id = :'one' ORDER BY id;

-- TRUNCATE tenancy.organizations CASCADE records every organization, with
-- its members, files and versions; the log and the events stay (0).
BEGIN;
SELECT deletions_test.school('gone-truncated', '00000000-0000-4000-b000-00000000d007', 1, 2) AS truncated \gset
COMMIT;
BEGIN;
TRUNCATE tenancy.organizations CASCADE;
SELECT slug, deleted_by_statement, member_rows, file_rows, file_version_rows,
       file_access_log_rows, event_rows
FROM deletions_test.gone WHERE deleted_by_statement = 'truncate';
SELECT count(*) = (SELECT count(*) FROM tenancy.organization_deletions
                   WHERE deleted_by_statement = 'truncate') AS one_record_per_organization
FROM tenancy.organization_deletions WHERE deleted_by_statement = 'truncate';
SELECT count(*) > 0 AS log_rows_stay FROM tenancy.file_access_log WHERE organization_id = :'truncated';
ROLLBACK;
DELETE FROM tenancy.organizations WHERE id = :'truncated';

-- Under session_replication_role = replica (a restore) nothing is recorded,
-- as the deletion's other triggers do not fire.
BEGIN;
SELECT deletions_test.school('gone-replica', '00000000-0000-4000-b000-00000000d008', 0, 0) AS replica \gset
COMMIT;
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tenancy.members WHERE organization_id = :'replica';
DELETE FROM tenancy.organizations WHERE id = :'replica';
SELECT count(*) AS recorded FROM deletions_test.gone WHERE slug = 'gone-replica';
ROLLBACK;

-- A DBA's BEFORE INSERT trigger on the records that skips them (RETURN NULL):
-- the deletion goes through, unrecorded (it failed with an internal error,
-- XX000 "SpiConnection::copied_value: no such row", crash review of 1.24).
BEGIN;
SELECT deletions_test.school('gone-skipped', '00000000-0000-4000-b000-00000000d009', 1, 2) AS skipped \gset
CREATE FUNCTION deletions_test.skip() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER skip BEFORE INSERT ON tenancy.organization_deletions
    FOR EACH ROW EXECUTE FUNCTION deletions_test.skip();
DELETE FROM tenancy.organizations WHERE id = :'skipped';
SELECT count(*) AS recorded FROM deletions_test.gone WHERE slug = 'gone-skipped';
SELECT count(*) AS left_behind FROM tenancy.organizations WHERE id = :'skipped';
SELECT count(*) AS log_rows_left FROM tenancy.file_access_log WHERE organization_id = :'skipped';
ROLLBACK;

-- A superuser may delete records (retention, a request to erase).
DELETE FROM tenancy.organization_deletions WHERE slug LIKE 'gone-%';
DELETE FROM tenancy.organizations WHERE id = :'replica';
SELECT slug FROM deletions_test.gone;
DELETE FROM tenancy.organization_deletions WHERE slug LIKE 'gone-%';
DROP SCHEMA deletions_test CASCADE;
