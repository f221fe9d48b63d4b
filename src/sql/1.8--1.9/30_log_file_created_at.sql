-------------------------------------------------------------------------------
-- Which file a log row is about, when an id was used twice. Ids are the
-- application's to choose (INSERT (id) is granted), and a new file may take
-- the id of a hard-deleted one. The log knew files by id only, so a teacher
-- who could see the new file read the old one's whole history (a student's
-- private file's, say). Each row now also records the file's created_at as
-- it was when the row was written (the 1.9 library writes it; rows written
-- before have NULL), and a teacher reads a row only if it is the created_at
-- of the file it sees. A file keeps its created_at for life (the files
-- trigger restores it on every update), and two files of one id have the
-- same one only if made by one transaction (its start time).
--
-- Adding a column without a default only changes the catalog: no row is
-- rewritten. It takes the log's ACCESS EXCLUSIVE lock for that moment, as
-- the policy change does.
-------------------------------------------------------------------------------
-- A DBA's own column of that name: adopted if it is a timestamptz (the 1.9
-- library, loaded before the upgrade, has been filling it so), else the
-- upgrade stops and says so.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_attribute
               WHERE attrelid = 'tenancy.file_access_log'::pg_catalog.regclass
                 AND attname = 'file_created_at' AND NOT attisdropped
                 AND atttypid <> 'pg_catalog.timestamptz'::pg_catalog.regtype) THEN
        RAISE EXCEPTION 'tenancy.file_access_log already has a column file_created_at of another type'
            USING ERRCODE = '42701',
                  HINT = 'Rename or drop that column (it is not the extension''s), then upgrade.';
    END IF;
END
$$;
ALTER TABLE tenancy.file_access_log ADD COLUMN IF NOT EXISTS file_created_at timestamptz;
COMMENT ON COLUMN tenancy.file_access_log.file_created_at IS
    'The created_at of the file the row is about, when the row was written (NULL before 1.9): tells a file from an earlier one of the same id.';

ALTER POLICY file_access_log_select ON tenancy.file_access_log
    USING (organization_id = tenancy.current_org_id()
           AND (tenancy.current_member_role() IN ('owner', 'admin')
                OR user_id = tenancy.current_user_id()
                OR (tenancy.current_member_role() = 'teacher'
                    AND EXISTS (SELECT 1 FROM tenancy.files f
                                WHERE f.organization_id = file_access_log.organization_id
                                  AND f.id = file_access_log.file_id
                                  AND (file_access_log.file_created_at IS NULL
                                       OR file_access_log.file_created_at = f.created_at)))));
