-------------------------------------------------------------------------------
-- A teacher reads the log rows of the files it can see, and (1.9) only those
-- written since the file was created. Ids are the application's to choose
-- (INSERT (id) is granted): a new file that took the id of a hard-deleted one
-- would otherwise show that file's whole history, a student's private file
-- included, to any teacher who can see the new one. A file's upload row is
-- stamped with its transaction's start, as the file's created_at (which the
-- application cannot set), so the file's own rows all qualify.
-------------------------------------------------------------------------------
ALTER POLICY file_access_log_select ON tenancy.file_access_log
    USING (organization_id = tenancy.current_org_id()
           AND (tenancy.current_member_role() IN ('owner', 'admin')
                OR user_id = tenancy.current_user_id()
                OR (tenancy.current_member_role() = 'teacher'
                    AND EXISTS (SELECT 1 FROM tenancy.files f
                                WHERE f.organization_id = file_access_log.organization_id
                                  AND f.id = file_access_log.file_id
                                  AND f.created_at <= file_access_log.at))));
