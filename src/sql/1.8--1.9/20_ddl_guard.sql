-------------------------------------------------------------------------------
-- The DDL guard fires on ALTER TYPE too: the 1.9 library refuses renaming a
-- value of the extension's enums (ALTER TYPE tenancy.file_action RENAME
-- VALUE changes what every audit row says), as it refuses changing the type
-- of, dropping or renaming one of the log's own columns (ALTER TABLE).
-------------------------------------------------------------------------------
DROP EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard;
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE', 'ALTER INDEX', 'ALTER TYPE')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
