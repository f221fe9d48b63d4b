-------------------------------------------------------------------------------
-- file_versions loses its foreign key to files. The files triggers are the
-- only writer of versions, and write them only for a row they have just
-- updated (and so hold locked): the key's check, a query per version row,
-- proved nothing and was most of what a content update cost. What the key's
-- ON DELETE CASCADE did, the files triggers now do themselves: a DELETE of
-- files removes the files' versions (src/file_audit.cpp, audit_deletes), and
-- a TRUNCATE of files truncates file_versions.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.file_versions DROP CONSTRAINT file_versions_file_fkey;

CREATE TRIGGER files_truncate_versions
    AFTER TRUNCATE ON tenancy.files
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.files_audit_delete();
-- ALWAYS: a TRUNCATE applied under session_replication_role = replica (a
-- logical replication subscriber) takes the versions along as well; the
-- foreign key used to refuse such a TRUNCATE outright.
ALTER TABLE tenancy.files ENABLE ALWAYS TRIGGER files_truncate_versions;

-------------------------------------------------------------------------------
-- The log has no primary key (appends stay cheap), so for logical replication
-- it identifies rows by their whole content: without this, a publication that
-- publishes deletes would make purge_file_access_log and the deletion of an
-- organization fail. Costs nothing unless wal_level = logical.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.file_access_log REPLICA IDENTITY FULL;
