-------------------------------------------------------------------------------
-- The DDL guard fires on more statements: the 1.9 library refuses changing
-- the type of, dropping or renaming one of the log's own columns, and
-- renaming a value of the extension's enums (ALTER TYPE tenancy.file_action
-- RENAME VALUE changes what every audit row says). PostgreSQL lets ALTER
-- VIEW, ALTER MATERIALIZED VIEW and ALTER FOREIGN TABLE rename a table's
-- columns, and ALTER TYPE … RENAME ATTRIBUTE its row type's: all of them.
-- And ALTER EXTENSION pg_tenancy DROP of the log, of the extension's types
-- or of this event trigger: the guard knows them by their extension, and
-- would let them be rewritten and added back.
-------------------------------------------------------------------------------
DROP EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard;
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE', 'ALTER INDEX', 'ALTER TYPE', 'ALTER VIEW',
                 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER EXTENSION')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;

-------------------------------------------------------------------------------
-- The extension's functions are replaced only by its own scripts. The guards
-- are functions (file_access_log_guard, the files audit): CREATE OR REPLACE
-- by the owner with one that does nothing would switch the append-only log
-- and the audit off while their triggers stay enabled. At ddl_command_end,
-- so that the error undoes the replacement (check() finding 16 reports this
-- event trigger disabled).
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.function_guard() RETURNS event_trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'tenancy_function_guard';
REVOKE ALL ON FUNCTION tenancy.function_guard() FROM PUBLIC;
CREATE EVENT TRIGGER pg_tenancy_function_guard ON ddl_command_end
    WHEN TAG IN ('CREATE FUNCTION', 'CREATE PROCEDURE')
    EXECUTE FUNCTION tenancy.function_guard();
ALTER EVENT TRIGGER pg_tenancy_function_guard ENABLE ALWAYS;
