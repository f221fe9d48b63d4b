-------------------------------------------------------------------------------
-- The DDL guard fires on ALTER SCHEMA, FUNCTION, ROUTINE, AGGREGATE,
-- SEQUENCE, OPERATOR CLASS and OPERATOR FAMILY too: the 1.10 library refuses
-- renaming or moving any of the extension's objects (tables, views,
-- sequences, functions, aggregates, types, operator classes: … RENAME TO,
-- … SET SCHEMA), the columns, indexes and constraints of its tables, and its
-- schema, outside the extension's own scripts; and renaming or moving a month
-- of the log (moved, it could be dropped with its schema). Its code names
-- them: after a rename every file write, rollup run and purge failed.
-------------------------------------------------------------------------------
-- Found by its function: a superuser may have renamed it (check() reports
-- that since 1.10); it comes back under its own name.
DO $$
DECLARE
    guard name;
BEGIN
    FOR guard IN SELECT evtname FROM pg_catalog.pg_event_trigger
                 WHERE evtfoid = 'tenancy.file_access_log_ddl_guard()'::pg_catalog.regprocedure LOOP
        EXECUTE format('DROP EVENT TRIGGER %I', guard);
    END LOOP;
END
$$;
CREATE EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ON ddl_command_start
    WHEN TAG IN ('DROP TABLE', 'ALTER TABLE', 'ALTER INDEX', 'ALTER TYPE', 'ALTER VIEW',
                 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER EXTENSION',
                 'ALTER SCHEMA', 'ALTER FUNCTION', 'ALTER ROUTINE', 'ALTER AGGREGATE',
                 'ALTER SEQUENCE', 'ALTER OPERATOR CLASS', 'ALTER OPERATOR FAMILY')
    EXECUTE FUNCTION tenancy.file_access_log_ddl_guard();
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
