-------------------------------------------------------------------------------
-- Functions corrected in place. Each is patched in its catalog definition
-- (pg_get_functiondef: signature, attributes and body as installed) instead
-- of being written out again: the text replaced must occur exactly once, or
-- the upgrade stops (55000), as it would for a body that is not the one the
-- extension installed. CREATE OR REPLACE keeps each function's OID, and with
-- it grants and check()'s binding.
--
--   check_configuration() (1.6's findings):
--     (1) a tenant table without row level security is reported only if the
--         application reaches it (a privilege of its roles or PUBLIC, or owned
--         by one) or it is protected: a table of the DBA's own that the
--         application cannot read was an error whose fix, protect(), would
--         have granted it to the application;
--     (14) says which month has no partition: this one (appends go to the
--         default partition now) or the next (they will).
--   protect(): warns of every key that reaches across tenants, foreign keys
--     included (tenancy.protected_key_problems, which check() finding (18)
--     reads too).
--   purge_events(): refuses a caller whom tenancy.rollup_state's row level
--     security applies to (no policy: only superusers see the row), as the
--     1.10 library's runs, rebuilds, log purges and maintenance do. Such a
--     caller (a member of the owner's role, say) saw no state, deleted
--     nothing and returned 0: a retention job run so looked healthy.
--   check_configuration() (11) and check_guards() (16): the event triggers
--     are found by the function they run, not by name: renamed and disabled
--     by a superuser, one went unreported.
--   schedule_rollups(): without pg_cron in this database, the HINT names
--     cron.schedule_in_database() first: moving cron.database_name here, as
--     it said, stops the rollups of the database pg_cron served.
-------------------------------------------------------------------------------
DO $patches$
DECLARE
    patches text[][] := ARRAY[
        ['tenancy.check_configuration()', $old$    WHERE c.oid IN (SELECT oid FROM tenant_partitions UNION SELECT oid FROM tenant_views
                    UNION SELECT oid FROM inheritance_parents)
$old$,
         $new$    WHERE c.oid IN (SELECT oid FROM tenant_partitions UNION SELECT oid FROM tenant_views
                    UNION SELECT oid FROM inheritance_parents UNION SELECT oid FROM live_tenant_tables)
$new$],
        ['tenancy.check_configuration()', $old$FROM live_tenant_tables t
WHERE NOT (t.relrowsecurity AND t.relforcerowsecurity)
$old$,
         $new$FROM live_tenant_tables t
WHERE NOT (t.relrowsecurity AND t.relforcerowsecurity)
  -- (1.10) a table the application does not reach is the DBA's own
  AND (t.protected OR t.oid IN (SELECT oid FROM app_reachable))
$new$],
        ['tenancy.check_configuration()', $old$       'no partition of the file access log covers this month or the next: its appends go to the default partition (is tenancy.run_rollups() scheduled, as the log''s owner, and does its maintenance succeed?)',
$old$,
         $new$       CASE WHEN p.this_month = 0
            THEN 'no partition of the file access log covers this month: its appends go to the default partition (is tenancy.run_rollups() scheduled, as a superuser, and does its maintenance succeed?)'
            ELSE 'no partition of the file access log covers next month yet: from then on its appends would go to the default partition (is tenancy.run_rollups() scheduled, as a superuser, and does its maintenance succeed?)' END,
$new$],
        ['tenancy.protect(regclass,name)', $old$    -- Tables that cannot be distributed by tenant later.
    FOR con IN SELECT conname, contype FROM pg_constraint
               WHERE conrelid = tbl AND contype IN ('p', 'u')
                 AND NOT (SELECT attnum FROM pg_attribute
                          WHERE attrelid = tbl AND attname = tenant_column) = ANY (conkey) LOOP
        RAISE WARNING '% "%" of % does not include the tenant column "%"',
                      CASE con.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END,
                      con.conname, tbl, tenant_column
            USING HINT = 'Such a table cannot be distributed by tenant later; lead the key with the tenant column.';
    END LOOP;
$old$,
         $new$    -- Keys that reach across tenants: without the tenant column (the table
    -- cannot be distributed by tenant later, and tells one tenant another's
    -- values), or (1.10) foreign keys to or from protected tables that do
    -- not match tenant column to tenant column.
    FOR con IN SELECT problem, hint FROM tenancy.protected_key_problems(tbl, tenant_column)
               ORDER BY severity = 'error' DESC, constraint_name LOOP
        RAISE WARNING '%', con.problem USING HINT = con.hint;
    END LOOP;
$new$],
        ['tenancy.purge_events()', $old$BEGIN
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
$old$,
         $new$BEGIN
    IF row_security_active('tenancy.rollup_state') THEN
        RAISE EXCEPTION 'permission denied for function tenancy.purge_events'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'It reads and writes tenancy.rollup_state, which only superusers see (row level security with no policy).',
                  HINT = 'Run it as a superuser, as pg_cron''s job does.';
    END IF;
    SELECT * INTO state FROM tenancy.rollup_state FOR UPDATE;
$new$],
        ['tenancy.check_configuration()', $old$WHERE e.evtname = 'pg_tenancy_file_access_log_ddl_guard' AND e.evtenabled <> 'A'
$old$,
         $new$WHERE e.evtfoid = 'tenancy.file_access_log_ddl_guard()'::regprocedure AND e.evtenabled <> 'A'
$new$],
        ['tenancy.check_guards()', $old$LEFT JOIN pg_event_trigger e ON e.evtname = 'pg_tenancy_function_guard'
$old$,
         $new$LEFT JOIN pg_event_trigger e ON e.evtfoid = 'tenancy.function_guard()'::regprocedure
$new$],
        ['tenancy.check_guards()', $old$            ELSE 'ALTER EVENT TRIGGER pg_tenancy_function_guard ENABLE ALWAYS;' END
$old$,
         $new$            ELSE format('ALTER EVENT TRIGGER %I ENABLE ALWAYS;', e.evtname) END
$new$],
        ['tenancy.schedule_rollups(text)', $old$                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to '
                         'this database, restart PostgreSQL, then CREATE EXTENSION pg_cron.';
$old$,
         $new$                  HINT = format('If pg_cron runs in another database (cron.database_name), schedule '
                                'the run from there: SELECT cron.schedule_in_database(%L, %L, %L, %L); '
                                'otherwise add pg_cron to shared_preload_libraries, set '
                                'cron.database_name to this database, restart PostgreSQL, then '
                                'CREATE EXTENSION pg_cron.',
                                'pg_tenancy_rollups_' || current_database(), cron,
                                'SELECT * FROM tenancy.run_rollups()', current_database());
$new$]];
    definition text;
    found int;
    i int;
BEGIN
    FOR i IN 1 .. array_length(patches, 1) LOOP
        definition := pg_catalog.pg_get_functiondef(patches[i][1]::pg_catalog.regprocedure);
        found := (length(definition) - length(replace(definition, patches[i][2], '')))
                 / length(patches[i][2]);
        IF found <> 1 THEN
            RAISE EXCEPTION '% is not the function the extension installed (patch %, found % times)',
                            patches[i][1], i, found
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore it from the extension''s scripts before upgrading.';
        END IF;
        EXECUTE replace(definition, patches[i][2], patches[i][3]);
    END LOOP;
END
$patches$;
