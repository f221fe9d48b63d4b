-------------------------------------------------------------------------------
-- The DDL guard fires on ALTER INDEX too: PostgreSQL lets ALTER INDEX …
-- RENAME rename a table (for compatibility), and the log's default partition
-- keeps its name (the 1.7 library refuses renaming or moving it).
-------------------------------------------------------------------------------
DROP EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard;
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE', 'ALTER INDEX')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
