-- The extension's trigger functions read columns of its own tables as their
-- declared types (uuids by pointer). Attached by a superuser to another table
-- whose columns are nullable or of another type, they refuse with an error
-- instead of reading a NULL or an integer as a pointer: until the 1.26
-- library each statement below crashed the backend (SIGSEGV in
-- uuid_from_datum, found by the AddressSanitizer run), and with it every
-- session of the cluster.
\c - postgres
SET client_min_messages = warning;
\set VERBOSITY terse
CREATE SCHEMA misuse_test;

-- organizations_audit_cleanup and organizations_record_deletion on a copy
-- of tenancy.organizations without its NOT NULLs.
CREATE TABLE misuse_test.orgs AS SELECT * FROM tenancy.organizations WITH NO DATA;
INSERT INTO misuse_test.orgs (slug, name) VALUES ('misuse', 'Misuse');
CREATE TRIGGER cleanup AFTER DELETE ON misuse_test.orgs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.organizations_audit_cleanup();
DELETE FROM misuse_test.orgs;
DROP TRIGGER cleanup ON misuse_test.orgs;
CREATE TRIGGER record BEFORE DELETE ON misuse_test.orgs
    FOR EACH ROW EXECUTE FUNCTION tenancy.organizations_record_deletion();
DELETE FROM misuse_test.orgs;
DROP TRIGGER record ON misuse_test.orgs;

-- files_audit and files_before_update on a copy of tenancy.files without
-- its NOT NULLs.
CREATE TABLE misuse_test.files AS SELECT * FROM tenancy.files WITH NO DATA;
CREATE TRIGGER audit AFTER INSERT ON misuse_test.files REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.files_audit();
INSERT INTO misuse_test.files DEFAULT VALUES;
DROP TRIGGER audit ON misuse_test.files;
-- At the highest version, a new version is refused naming the file by its id
-- (NULL here): the old library read that NULL as a uuid.
INSERT INTO misuse_test.files (version) VALUES (2147483647);
CREATE TRIGGER before_update BEFORE UPDATE ON misuse_test.files
    FOR EACH ROW EXECUTE FUNCTION tenancy.files_before_update();
UPDATE misuse_test.files SET path = 'changed';

-- events_lock_organization where organization_id is no uuid.
CREATE TABLE misuse_test.events (organization_id bigint, kind text);
CREATE TRIGGER lock BEFORE INSERT ON misuse_test.events
    FOR EACH ROW EXECUTE FUNCTION tenancy.events_lock_organization();
INSERT INTO misuse_test.events VALUES (1, 'x');

-- A column of a type read the same way is taken: varchar for text, as a
-- DBA's ALTER COLUMN ... TYPE varchar(n) makes it (the 1.25 library took it;
-- the first 1.26 library refused every write of files with 42804).
BEGIN;
ALTER TABLE tenancy.files ALTER COLUMN checksum TYPE varchar(128);
SELECT tenancy.create_organization('varchar-files', 'Varchar files', '00000000-0000-4000-8000-0000000000f1') AS org \gset
INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes, checksum)
VALUES (:'org', '00000000-0000-4000-8000-0000000000f1', 'a.txt', 'a.txt', 1, 'abc');
UPDATE tenancy.files SET checksum = 'def' WHERE organization_id = :'org';
SELECT version, checksum FROM tenancy.files WHERE organization_id = :'org';
ROLLBACK;

-- The backend is still there.
SELECT 'alive' AS backend;
DROP SCHEMA misuse_test CASCADE;
