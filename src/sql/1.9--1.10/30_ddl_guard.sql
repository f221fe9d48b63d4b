-------------------------------------------------------------------------------
-- The DDL guard fires on ALTER SCHEMA too: the 1.10 library refuses renaming
-- or moving the extension's tables and views (ALTER TABLE, VIEW,
-- MATERIALIZED VIEW, FOREIGN TABLE or INDEX … RENAME TO, … SET SCHEMA) and
-- renaming its schema, outside the extension's scripts. Its statements name
-- them: after a rename every file write, rollup run and purge failed.
-------------------------------------------------------------------------------
DROP EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard;
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE', 'ALTER INDEX', 'ALTER TYPE', 'ALTER VIEW',
                 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER EXTENSION',
                 'ALTER SCHEMA')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
