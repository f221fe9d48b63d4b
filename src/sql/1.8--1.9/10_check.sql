-------------------------------------------------------------------------------
-- tenancy.check() (1.9): the findings of 1.6, and (15) rollups that have
-- waited more than an hour for their organization's row (1.8's deferral).
--
-- Until 1.8 every version that added a finding restated check()'s whole body.
-- From 1.9 check() is the union of pieces, each a function of its own, and a
-- version that adds findings adds a piece and restates only the union:
--   tenancy.check_configuration()  findings (1) to (14): the catalog's
--                                  isolation settings and the log's months;
--   tenancy.check_rollups()        finding (15).
-- check() keeps its OID (CREATE OR REPLACE), and with it the grants a DBA
-- gave on it. Its callers run the pieces with their own rights: the pieces
-- are everyone's, and tell nothing the caller could not read itself.
-------------------------------------------------------------------------------

-- Findings (1) to (14): 1.6's body of check(), taken from the catalog rather
-- than written out here a fifth time.
DO $$
BEGIN
    EXECUTE format(
        'CREATE FUNCTION tenancy.check_configuration()'
        '    RETURNS TABLE (severity text, object text, finding text, fix text)'
        '    LANGUAGE sql STABLE'
        '    SET search_path = pg_catalog, pg_temp'
        '    AS %L',
        (SELECT prosrc FROM pg_catalog.pg_proc WHERE oid = 'tenancy.check()'::pg_catalog.regprocedure));
END
$$;
COMMENT ON FUNCTION tenancy.check_configuration() IS
    'Findings (1) to (14) of tenancy.check(): isolation settings in the catalog, and the file access log''s months.';
GRANT EXECUTE ON FUNCTION tenancy.check_configuration() TO PUBLIC;

-- The open transactions whose hold on organizations' rows makes a rollup run
-- defer them (an update or delete, or a FOR UPDATE lock: not a KEY SHARE,
-- SHARE or NO KEY UPDATE lock), each once: pid NULL for a prepared
-- transaction. Read from the row versions' headers as the organizations'
-- owner; nothing waits. VOLATILE: holders come and go within a statement.
-- The DBA's (no grant).
CREATE FUNCTION tenancy.organization_row_holders(ids uuid[])
    RETURNS TABLE (organization_id uuid, pid integer, transaction xid)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_organization_row_holders';
REVOKE ALL ON FUNCTION tenancy.organization_row_holders(uuid[]) FROM PUBLIC;

-- (15) Rollups that have waited more than an hour for their organization.
-- A run defers an organization's buckets while another transaction holds
-- its row, and the next run that can lock the row merges them. Waiting an
-- hour means that a transaction has held the row that long (named here, by
-- pid or prepared transaction), or that no run has come since (pg_cron's job
-- gone or failing). Only a role that reads the deferred tables sees this
-- finding: a superuser (forced row level security with no policy, as for
-- finding (14)'s rows); for any other caller the piece returns nothing.
CREATE FUNCTION tenancy.check_rollups()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF NOT (has_table_privilege('tenancy.event_rollups_deferred', 'SELECT')
            AND has_table_privilege('tenancy.file_rollups_deferred', 'SELECT')
            AND has_table_privilege('tenancy.rollups_waiting', 'SELECT')
            AND has_function_privilege('tenancy.organization_row_holders(uuid[])', 'EXECUTE')) THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH waiting AS (
        SELECT w.organization_id, min(w.waiting_since) AS since, sum(w.buckets) AS buckets
        FROM tenancy.rollups_waiting w
        GROUP BY w.organization_id
        HAVING min(w.waiting_since) < now() - interval '1 hour'
    ), holders AS (
        SELECT h.organization_id,
               string_agg(CASE WHEN h.pid IS NOT NULL
                               THEN format('pid %s (transaction %s, open since %s)',
                                           h.pid, h.transaction, a.xact_start)
                               ELSE format('prepared transaction %L (transaction %s)',
                                           p.gid, h.transaction) END,
                          ', ' ORDER BY h.pid, h.transaction::text::bigint) AS who,
               string_agg(CASE WHEN h.pid IS NOT NULL
                               THEN format('SELECT pg_terminate_backend(%s);', h.pid)
                               ELSE format('ROLLBACK PREPARED %L;', p.gid) END,
                          ' ' ORDER BY h.pid, h.transaction::text::bigint) AS last_resort
        FROM tenancy.organization_row_holders(ARRAY(SELECT organization_id FROM waiting)) h
        LEFT JOIN pg_stat_activity a ON a.pid = h.pid
        LEFT JOIN pg_prepared_xacts p ON h.pid IS NULL AND p.transaction = h.transaction
        -- (A transaction with no backend that is not prepared has just ended.)
        WHERE h.pid IS NOT NULL OR p.gid IS NOT NULL
        GROUP BY h.organization_id
    )
    SELECT 'warning'::text,
           format('organization %s', w.organization_id),
           CASE WHEN h.who IS NOT NULL
                THEN format('the rollups of this organization (%s buckets) have waited since %s for its row, which %s holds',
                            w.buckets, w.since, h.who)
                ELSE format('the rollups of this organization (%s buckets) have waited since %s, and no transaction holds its row now: no rollup run has come since',
                            w.buckets, w.since)
           END,
           CASE WHEN h.who IS NOT NULL
                THEN format('end that transaction (COMMIT or ROLLBACK in its session; as a last resort: %s), then SELECT tenancy.run_rollups();',
                            h.last_resort)
                ELSE 'SELECT tenancy.run_rollups();'
           END
    FROM waiting w
    LEFT JOIN holders h USING (organization_id)
    ORDER BY w.organization_id;
END
$$;
COMMENT ON FUNCTION tenancy.check_rollups() IS
    'Finding (15) of tenancy.check(): rollups waiting more than an hour for their organization''s row.';
GRANT EXECUTE ON FUNCTION tenancy.check_rollups() TO PUBLIC;

-- (16) The event trigger that keeps the extension's functions from being
-- replaced (1.9, 20_ddl_guard.sql) disabled, firing only for origin
-- sessions, or gone.
-- (17) The log's guards and the files audit as triggers of the extension's
-- own functions, looked up by function and event rather than by name (the
-- by-name findings of 1.4 missed a trigger dropped, or renamed and then
-- enabled for origin sessions only): each missing, or not enabled as it must
-- be (the log's guards ALWAYS, also under session_replication_role =
-- replica). And triggers of other functions that fire BEFORE a row of the
-- log is written or changed: they can change or drop audit rows.
CREATE FUNCTION tenancy.check_guards()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH own_functions AS (
    -- By the C symbol they call (and SECURITY DEFINER or not), not by name:
    -- one renamed is still the extension's, a new one of its name is not.
    SELECT p.oid, p.prosrc AS symbol, p.prosecdef
    FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_tenancy'
    WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
), expected (tbl, function, symbol, definer, kind, events, always, what, create_it) AS (
    -- kind: tgtype's ROW (1) and BEFORE (2) bits; events: its INSERT (4),
    -- DELETE (8), UPDATE (16) and TRUNCATE (32) bits, all needed.
    VALUES
    ('tenancy.file_access_log', 'file_access_log_guard', 'tenancy_file_access_log_guard', false, 3, 24, true,
     'the guard that keeps its rows from being updated or deleted',
     'CREATE TRIGGER file_access_log_append_only BEFORE UPDATE OR DELETE ON tenancy.file_access_log FOR EACH ROW EXECUTE FUNCTION tenancy.file_access_log_guard(); ALTER TABLE tenancy.file_access_log ENABLE ALWAYS TRIGGER file_access_log_append_only;'),
    ('tenancy.file_access_log', 'file_access_log_guard', 'tenancy_file_access_log_guard', false, 2, 32, true,
     'the guard that keeps it from being truncated',
     'CREATE TRIGGER file_access_log_no_truncate BEFORE TRUNCATE ON tenancy.file_access_log FOR EACH STATEMENT EXECUTE FUNCTION tenancy.file_access_log_guard(); ALTER TABLE tenancy.file_access_log ENABLE ALWAYS TRIGGER file_access_log_no_truncate;'),
    ('tenancy.files', 'files_audit', 'tenancy_files_audit', false, 0, 4, false, 'the audit of its INSERTs',
     'CREATE TRIGGER files_audit_insert AFTER INSERT ON tenancy.files REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenancy.files_audit();'),
    ('tenancy.files', 'files_audit', 'tenancy_files_audit', false, 0, 16, false, 'the audit of its UPDATEs',
     'CREATE TRIGGER files_audit_update AFTER UPDATE ON tenancy.files REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenancy.files_audit();'),
    ('tenancy.files', 'files_audit_delete', 'tenancy_files_audit', true, 0, 8, false, 'the audit of its DELETEs',
     'CREATE TRIGGER files_audit_delete AFTER DELETE ON tenancy.files REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tenancy.files_audit_delete();'),
    ('tenancy.files', 'files_before_update', 'tenancy_files_before_update', false, 3, 16, false,
     'the versioning of its content updates',
     'CREATE TRIGGER files_before_update BEFORE UPDATE ON tenancy.files FOR EACH ROW EXECUTE FUNCTION tenancy.files_before_update();')
), found AS (
    -- The trigger that does it, enabled as it must be if one is.
    SELECT e.*, t.tgname, t.tgenabled
    FROM expected e
    LEFT JOIN LATERAL (
        SELECT t.tgname, t.tgenabled
        FROM pg_trigger t JOIN own_functions f ON f.oid = t.tgfoid
        WHERE t.tgrelid = to_regclass(e.tbl) AND f.symbol = e.symbol AND f.prosecdef = e.definer
          AND (t.tgtype & 3) = e.kind AND (t.tgtype & e.events) = e.events
        ORDER BY (t.tgenabled = 'A' OR (NOT e.always AND t.tgenabled = 'O')) DESC, t.tgname
        LIMIT 1) t ON true
    WHERE to_regclass(e.tbl) IS NOT NULL
)
SELECT 'error', format('table %s', f.tbl),
       CASE WHEN f.tgname IS NULL
            THEN format('%s (a trigger calling tenancy.%s()) is missing', f.what, f.function)
            ELSE format('%s (trigger %I) is not %s', f.what, f.tgname,
                        CASE WHEN f.always THEN 'ENABLE ALWAYS' ELSE 'enabled' END) END,
       CASE WHEN f.tgname IS NULL THEN f.create_it
            ELSE format('ALTER TABLE %s ENABLE %sTRIGGER %I;', f.tbl,
                        CASE WHEN f.always THEN 'ALWAYS ' ELSE '' END, f.tgname) END
FROM found f
WHERE f.tgname IS NULL OR NOT (f.tgenabled = 'A' OR (NOT f.always AND f.tgenabled = 'O'))
UNION ALL
-- (A trigger made on the log is cloned to each month: reported once, on the
-- log, where it can be dropped.)
SELECT 'warning', format('trigger %I on %s', t.tgname, t.tgrelid::regclass),
       'a trigger that is not pg_tenancy''s fires before rows of the file access log are written or changed: it can change or drop audit rows',
       format('DROP TRIGGER %I ON %s;', t.tgname, t.tgrelid::regclass)
FROM pg_trigger t
WHERE t.tgrelid IN (SELECT relid FROM pg_partition_tree('tenancy.file_access_log'))
  AND (t.tgtype & 2) <> 0 AND (t.tgtype & 28) <> 0 AND NOT t.tgisinternal AND t.tgparentid = 0
  AND t.tgfoid NOT IN (SELECT oid FROM own_functions)
  AND to_regclass('tenancy.file_access_log') IS NOT NULL
UNION ALL
SELECT 'error', 'event trigger pg_tenancy_function_guard',
       CASE WHEN e.evtname IS NULL THEN 'pg_tenancy event trigger is missing: the extension''s functions (its guards among them) can be replaced'
            WHEN e.evtenabled = 'D' THEN 'pg_tenancy event trigger is disabled'
            WHEN e.evtenabled = 'R' THEN 'pg_tenancy event trigger fires only under session_replication_role = replica'
            ELSE 'pg_tenancy event trigger does not fire under session_replication_role = replica' END,
       CASE WHEN e.evtname IS NULL
            THEN 'CREATE EVENT TRIGGER pg_tenancy_function_guard ON ddl_command_end WHEN TAG IN (''CREATE FUNCTION'', ''CREATE PROCEDURE'') EXECUTE FUNCTION tenancy.function_guard(); ALTER EVENT TRIGGER pg_tenancy_function_guard ENABLE ALWAYS; ALTER EXTENSION pg_tenancy ADD EVENT TRIGGER pg_tenancy_function_guard;'
            ELSE 'ALTER EVENT TRIGGER pg_tenancy_function_guard ENABLE ALWAYS;' END
FROM (SELECT 1) one
LEFT JOIN pg_event_trigger e ON e.evtname = 'pg_tenancy_function_guard'
WHERE e.evtname IS NULL OR e.evtenabled <> 'A'
$$;
COMMENT ON FUNCTION tenancy.check_guards() IS
    'Findings (16) and (17) of tenancy.check(): the event trigger that keeps the extension''s functions from being replaced, the log''s guards and the files audit as triggers, and triggers of others before the log''s rows.';
GRANT EXECUTE ON FUNCTION tenancy.check_guards() TO PUBLIC;

-- A SQL-standard body: the pieces are bound when check() is made, by OID,
-- not looked up by name when it runs (a function of the same name put in
-- front of one, after renaming it, would otherwise stand in for it).
CREATE OR REPLACE FUNCTION tenancy.check()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM tenancy.check_configuration()
    UNION ALL
    SELECT * FROM tenancy.check_rollups()
    UNION ALL
    SELECT * FROM tenancy.check_guards();
END;
