-------------------------------------------------------------------------------
-- tenancy.check() (1.6): as in 1.5, and (14) the log's months not kept ahead
-- of the clock, which the scheduled run_rollups() does when it runs as the
-- log's owner and its maintenance succeeds (a failure there is only a
-- WARNING since 1.6's library), or rows left waiting in its default partition.
-------------------------------------------------------------------------------
-- For check() (14): whether the log's default partition (whatever its name:
-- the catalog's partdefid) holds rows that maintenance would move to a month
-- of their own. Invoker's rights, and false unless the caller may read the
-- partition: a query of it in check() itself would fail for a DBA who may
-- not (privileges are checked when a statement starts, whatever its WHERE
-- clause). Executable by everyone, as it tells nothing the caller could not
-- read: a DBA granted check() needs no grant of it.
CREATE FUNCTION tenancy.file_access_log_rows_waiting()
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    default_partition regclass;
    waiting boolean := false;
BEGIN
    SELECT nullif(partdefid, 0)::regclass INTO default_partition
    FROM pg_partitioned_table WHERE partrelid = to_regclass('tenancy.file_access_log');
    IF default_partition IS NOT NULL AND has_table_privilege(default_partition, 'SELECT') THEN
        EXECUTE format('SELECT EXISTS (SELECT FROM ONLY %s WHERE at >= %L AND at < %L)',
                       default_partition, '0001-01-01 00:00:00+00', '10000-01-01 00:00:00+00')
        INTO waiting;
    END IF;
    RETURN waiting;
END
$$;
GRANT EXECUTE ON FUNCTION tenancy.file_access_log_rows_waiting() TO PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.check()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH app_tables AS (
    -- Ordinary and partitioned tables of the application (not partitions).
    SELECT c.oid, c.oid::regclass AS tbl, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
           n.nspname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
), tenant_tables AS (
    -- Tables that look like tenant data: a uuid tenant-like column, or protected.
    SELECT t.*, coalesce(p.tenant_column, a.attname) AS tenant_column, p.relid IS NOT NULL AS protected
    FROM app_tables t
    LEFT JOIN tenancy.protected_tables p ON p.relid = t.oid
    LEFT JOIN LATERAL (
        SELECT attname FROM pg_attribute
        WHERE attrelid = t.oid AND attnum > 0 AND NOT attisdropped AND atttypid = 'uuid'::regtype
          AND attname IN ('organization_id', 'org_id', 'tenant_id', 'school_id')
        ORDER BY attnum LIMIT 1) a ON true
    WHERE p.relid IS NOT NULL OR a.attname IS NOT NULL
), live_tenant_tables AS (
    -- Those whose tenant column is still there (a dropped one is finding 6).
    SELECT * FROM tenant_tables t
    WHERE EXISTS (SELECT FROM pg_attribute WHERE attrelid = t.oid AND attname = t.tenant_column
                  AND NOT attisdropped)
), app_members AS (
    -- tenancy_app and every role that is a member of it, directly or not.
    WITH RECURSIVE members(roleid) AS (
        SELECT 'tenancy_app'::regrole::oid
        UNION
        SELECT m.member FROM pg_auth_members m JOIN members ON m.roleid = members.roleid)
    SELECT roleid FROM members
), app_roles AS (
    -- Every role whose policies and privileges the application gets: those
    -- members, and every role they in turn belong to (pg_database_owner
    -- included, for a login that owns the database). Superusers are members
    -- of every role; finding (4) reports them instead.
    SELECT r.oid AS roleid FROM pg_roles r
    WHERE EXISTS (SELECT FROM app_members m JOIN pg_roles mr ON mr.oid = m.roleid
                  WHERE NOT mr.rolsuper AND pg_has_role(m.roleid, r.oid, 'MEMBER'))
), tenant_partitions AS (
    -- Partitions, at any depth, of tenant tables: a query on a partition
    -- itself applies its own policies, not its partitioned table's.
    SELECT p.oid, p.tbl, p.relrowsecurity, p.relforcerowsecurity
    FROM (SELECT c.oid, c.oid::regclass AS tbl, c.relrowsecurity, c.relforcerowsecurity,
                 pg_partition_root(c.oid)::oid AS root
          FROM pg_class c WHERE c.relispartition
          OFFSET 0) p  -- the root once per partition, then a hash join
    JOIN live_tenant_tables t ON t.oid = p.root
), tenant_views AS (
    -- Views and materialized views that read a tenant table or one of its
    -- partitions, directly or through other views.
    WITH RECURSIVE reads(oid, source) AS (
        SELECT oid, tbl FROM live_tenant_tables
        UNION
        SELECT oid, tbl FROM tenant_partitions
        UNION
        SELECT rw.ev_class, reads.source
        FROM reads
        JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = reads.oid
                        AND d.classid = 'pg_rewrite'::regclass
        JOIN pg_rewrite rw ON rw.oid = d.objid
        JOIN pg_class v ON v.oid = rw.ev_class AND v.relkind IN ('v', 'm')
        WHERE rw.ev_class <> reads.oid)
    SELECT DISTINCT ON (v.oid) v.oid, v.oid::regclass AS view, v.relkind, v.relowner,
           coalesce((SELECT option_value::boolean FROM pg_options_to_table(v.reloptions)
                     WHERE option_name = 'security_invoker'), false) AS security_invoker,
           r.source AS reads
    FROM reads r JOIN pg_class v ON v.oid = r.oid AND v.relkind IN ('v', 'm')
    ORDER BY v.oid, r.source::text
), inheritance_parents AS (
    -- Plain tables a tenant table inherits from, unless protected themselves.
    SELECT t.oid AS child, t.tbl, i.inhparent AS oid
    FROM live_tenant_tables t
    JOIN pg_inherits i ON i.inhrelid = t.oid
    JOIN pg_class parent ON parent.oid = i.inhparent AND parent.relkind = 'r'
    WHERE i.inhparent NOT IN (SELECT relid FROM tenancy.protected_tables)
), app_grantees AS (
    SELECT roleid FROM app_roles UNION SELECT 0::oid  -- 0: PUBLIC
), app_reachable AS (
    -- Which of those the application can read or write directly: one of its
    -- roles (or PUBLIC) holds a table or column privilege on it, or owns it.
    -- Read from the ACLs, with the grantees to revoke from, rather than with
    -- a privilege check per role and relation, which is what made this slow.
    SELECT c.oid,
           (SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                            ELSE quote_ident(a.grantee::regrole::text) END, ', ')
            FROM aclexplode(c.relacl) a
            WHERE a.grantee IN (SELECT roleid FROM app_grantees)) AS grantees
    FROM pg_class c
    WHERE c.oid IN (SELECT oid FROM tenant_partitions UNION SELECT oid FROM tenant_views
                    UNION SELECT oid FROM inheritance_parents)
      AND (c.relowner IN (SELECT roleid FROM app_roles)
           -- predefined roles that read or write every table without a grant
           OR EXISTS (SELECT FROM app_roles
                      WHERE roleid IN ('pg_read_all_data'::regrole, 'pg_write_all_data'::regrole))
           OR EXISTS (SELECT FROM aclexplode(c.relacl) a
                      WHERE a.grantee IN (SELECT roleid FROM app_grantees)
                        AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
           OR EXISTS (SELECT FROM pg_attribute att, aclexplode(att.attacl) a
                      WHERE att.attrelid = c.oid AND att.attacl IS NOT NULL
                        AND a.grantee IN (SELECT roleid FROM app_grantees)))
), reachable_views AS (
    -- Views of tenant tables the application reaches: by privilege, or
    -- through a view it reaches that runs as its owner (not security_invoker),
    -- which reads the next one with the owner's rights.
    WITH RECURSIVE reached(oid) AS (
        SELECT oid FROM app_reachable WHERE oid IN (SELECT oid FROM tenant_views)
        UNION
        SELECT inner_view.oid
        FROM reached
        JOIN tenant_views outer_view ON outer_view.oid = reached.oid AND NOT outer_view.security_invoker
        JOIN pg_rewrite rw ON rw.ev_class = outer_view.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
                        AND d.refclassid = 'pg_class'::regclass
        JOIN tenant_views inner_view ON inner_view.oid = d.refobjid AND inner_view.oid <> outer_view.oid)
    SELECT oid FROM reached
), app_policies AS (
    SELECT p.polrelid::regclass AS tbl, p.polname, p.polqual, p.polwithcheck
    FROM pg_policy p
    WHERE p.polroles && ARRAY(SELECT roleid FROM app_roles UNION SELECT 0::oid)
), policy_functions AS (
    -- Functions a policy calls, found in its stored expression tree.
    SELECT DISTINCT ap.tbl, ap.polname, f[1]::oid AS funcid
    FROM app_policies ap,
         regexp_matches(tenancy.strip_sublinks(coalesce(ap.polqual::text, '')
                                               || coalesce(ap.polwithcheck::text, '')),
                        ':(?:funcid|opfuncid) (\d+)', 'g') AS f
)
-- (1) Tenant-like tables without row level security, or not forced.
SELECT 'error', t.tbl::text,
       CASE WHEN NOT t.relrowsecurity THEN 'tenant table without row level security'
            ELSE 'row level security is not forced (the owner bypasses it)' END,
       format('SELECT tenancy.protect(%L, %L);', t.tbl::text, t.tenant_column)
FROM live_tenant_tables t
WHERE NOT (t.relrowsecurity AND t.relforcerowsecurity)
UNION ALL
-- (2) Policies for the application that call risky functions (functions of
-- pg_catalog, the built-in operators, are PostgreSQL's own and not listed).
SELECT CASE WHEN pr.provolatile = 'v' THEN 'error' ELSE 'warning' END,
       format('policy %I on %s', pf.polname, pf.tbl),
       format('calls %s, which is %s', pr.oid::regprocedure,
              concat_ws(' and ',
                        CASE WHEN NOT pr.proleakproof THEN 'not LEAKPROOF' END,
                        CASE WHEN pr.provolatile = 'v' THEN 'VOLATILE (evaluated per row)' END)),
       'Use STABLE, LEAKPROOF functions in policies (like tenancy.current_org_id()), or wrap the call in (SELECT …).'
FROM policy_functions pf JOIN pg_proc pr ON pr.oid = pf.funcid
WHERE pr.pronamespace <> 'pg_catalog'::regnamespace
  AND (NOT pr.proleakproof OR pr.provolatile = 'v')
UNION ALL
-- (3) SECURITY DEFINER functions without a pinned search_path.
SELECT 'error', p.oid::regprocedure::text,
       'SECURITY DEFINER function without a pinned search_path',
       format('ALTER ROUTINE %s SET search_path = pg_catalog, pg_temp;', p.oid::regprocedure)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')
  -- Routines of other extensions are theirs to fix (and come back on update).
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e'
                  AND d.refobjid <> (SELECT oid FROM pg_extension WHERE extname = 'pg_tenancy'))
UNION ALL
-- (4) Roles in tenancy_app that bypass row level security, and roles that do
-- which an application login can SET ROLE to (it belongs to them).
SELECT 'error', r.rolname::text,
       CASE WHEN r.rolsuper THEN 'superuser member of tenancy_app (bypasses row level security)'
            ELSE 'BYPASSRLS member of tenancy_app' END,
       format('ALTER ROLE %I NOSUPERUSER NOBYPASSRLS;', r.rolname)
FROM pg_roles r
WHERE r.oid IN (SELECT roleid FROM app_members) AND (r.rolsuper OR r.rolbypassrls)
UNION ALL
SELECT 'error', r.rolname::text,
       format('%s role that application logins belong to (SET ROLE %I bypasses row level security)',
              CASE WHEN r.rolsuper THEN 'superuser' ELSE 'BYPASSRLS' END, r.rolname),
       format('REVOKE %I FROM %s;', r.rolname,
              (SELECT string_agg(DISTINCT quote_ident(m.member::regrole::text), ', ')
               FROM pg_auth_members m
               WHERE m.roleid = r.oid AND m.member IN (SELECT roleid FROM app_roles)))
FROM pg_roles r
WHERE r.oid IN (SELECT roleid FROM app_roles) AND r.oid NOT IN (SELECT roleid FROM app_members)
  AND (r.rolsuper OR r.rolbypassrls)
UNION ALL
-- (5) Tenant tables without an index that leads with the tenant column.
SELECT 'warning', t.tbl::text,
       format('no index leads with the tenant column "%s": every tenant read scans the table', t.tenant_column),
       format('CREATE INDEX ON %s (%I);', t.tbl, t.tenant_column)
FROM live_tenant_tables t
WHERE NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a
                  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = t.oid AND a.attname = t.tenant_column)
  -- The log's partitions have indexes of their own: finding (12).
  AND t.oid <> 'tenancy.file_access_log'::regclass
  -- A partitioned table without an index of its own: each partition's.
  AND NOT (t.relkind = 'p'
           AND NOT EXISTS (SELECT FROM pg_partition_tree(t.oid) pt
                           WHERE pt.isleaf
                             AND NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a
                                             ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                             WHERE i.indrelid = pt.relid
                                               AND a.attname = t.tenant_column)))
UNION ALL
-- (6) Protected tables changed since protection.
SELECT 'error', p.relid::text, d.finding, d.fix
FROM tenancy.protected_tables p
CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = p.relid
                   AND attname = p.tenant_column AND NOT attisdropped) AS has_column,
           format('(%I = tenancy.current_org_id())', p.tenant_column) AS isolation_expr,
           format('SELECT tenancy.protect(%L, %L);', p.relid::text, p.tenant_column) AS reprotect) s
CROSS JOIN LATERAL (
    -- The isolation policy refers to its column by number: after a rename it
    -- names the new one.
    SELECT substring(pg_get_expr(polqual, polrelid)
                     from '^\((.*) = tenancy\.current_org_id\(\)\)$') AS renamed_to
    FROM pg_policy WHERE polrelid = p.relid AND polname = tenancy.isolation_policy_name()
    UNION ALL SELECT NULL LIMIT 1) r
CROSS JOIN LATERAL (
    SELECT format('tenant column "%s" was renamed to %s', p.tenant_column, r.renamed_to) AS finding,
           format('DO $fix$ BEGIN PERFORM tenancy.unprotect(%L); PERFORM tenancy.protect(%L, %L); END $fix$;',
                  p.relid::text, p.relid::text, trim(both '"' from r.renamed_to)) AS fix
    WHERE NOT s.has_column AND r.renamed_to IS NOT NULL
    UNION ALL
    SELECT format('tenant column "%s" was dropped (re-add it and protect again, or unprotect)',
                  p.tenant_column) AS finding,
           format('SELECT tenancy.unprotect(%L);', p.relid::text) AS fix
    WHERE NOT s.has_column AND r.renamed_to IS NULL
    UNION ALL
    SELECT format('isolation policy %I was removed', tenancy.isolation_policy_name()), s.reprotect
    WHERE s.has_column AND NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = p.relid
                                       AND polname = tenancy.isolation_policy_name())
    UNION ALL
    SELECT format('isolation policy %I was altered', tenancy.isolation_policy_name()),
           format('DROP POLICY %I ON %s; %s', tenancy.isolation_policy_name(), p.relid, s.reprotect)
    WHERE s.has_column AND EXISTS (
        SELECT FROM pg_policy WHERE polrelid = p.relid AND polname = tenancy.isolation_policy_name()
          AND (pg_get_expr(polqual, polrelid) IS DISTINCT FROM s.isolation_expr
               OR pg_get_expr(polwithcheck, polrelid) IS DISTINCT FROM s.isolation_expr
               OR polcmd <> '*' OR NOT polpermissive))
    UNION ALL
    SELECT format('policy %I also admits rows for the application (permissive policies add up)', pol.polname),
           format('Make it AS RESTRICTIVE, or drop it: DROP POLICY %I ON %s;', pol.polname, p.relid)
    FROM pg_policy pol
    WHERE s.has_column AND pol.polrelid = p.relid AND pol.polpermissive
      AND pol.polname <> tenancy.isolation_policy_name()
      AND pol.polroles && ARRAY(SELECT roleid FROM app_roles UNION SELECT 0::oid)
    UNION ALL
    SELECT 'tenant column no longer defaults to tenancy.current_org_id()', s.reprotect
    WHERE s.has_column
      AND NOT EXISTS (SELECT FROM pg_attrdef d JOIN pg_attribute a
                      ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                      WHERE d.adrelid = p.relid AND a.attname = p.tenant_column
                        AND pg_get_expr(d.adbin, d.adrelid) = 'tenancy.current_org_id()')) d
UNION ALL
-- (7) Partitions of tenant tables that the application reaches directly,
-- without row level security of their own: reading the partition skips its
-- partitioned table's policies. With RLS on and no policy of its own, the
-- partition shows nothing by itself and everything through its parent.
SELECT 'error', tp.tbl::text,
       'partition readable directly by the application without row level security (its partitioned table''s policies do not apply to it)',
       format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;', tp.tbl)
FROM tenant_partitions tp JOIN app_reachable ar ON ar.oid = tp.oid
WHERE NOT (tp.relrowsecurity AND tp.relforcerowsecurity)
UNION ALL
-- (8) Tenant tables that inherit from a plain table the application can
-- reach: a query on the parent reads their rows under the parent's policies,
-- not theirs (a protected parent is fine).
SELECT 'error', ip.tbl::text,
       format('inherits from %s: a query on it reads this table''s rows without this table''s policies',
              ip.oid::regclass),
       format('ALTER TABLE %s NO INHERIT %s;', ip.tbl, ip.oid::regclass)
FROM inheritance_parents ip JOIN app_reachable ar ON ar.oid = ip.oid
UNION ALL
-- (9) Materialized views of tenant tables the application can read: their
-- rows were stored by whoever refreshed them, under that one's policies.
SELECT 'error', tv.view::text,
       format('materialized view of tenant table %s readable by the application (its rows were stored without the reader''s policies)', tv.reads),
       concat_ws(' ',
                 CASE WHEN ar.grantees IS NOT NULL
                      THEN format('REVOKE ALL ON %s FROM %s;', tv.view, ar.grantees) END,
                 CASE WHEN tv.relowner IN (SELECT roleid FROM app_roles)
                      THEN format('ALTER MATERIALIZED VIEW %s OWNER TO %s;', tv.view,
                                  (SELECT c.relowner::regrole::text FROM pg_class c
                                   WHERE c.oid = tv.reads::oid)) END)
FROM tenant_views tv JOIN app_reachable ar ON ar.oid = tv.oid
WHERE tv.relkind = 'm'
UNION ALL
-- (10) Views of tenant tables the application reaches (directly, or through
-- views run as their owners) that run as an owner who bypasses row level
-- security.
SELECT 'error', tv.view::text,
       format('view of tenant table %s runs as its owner %s, who bypasses row level security',
              tv.reads, tv.relowner::regrole),
       format('ALTER VIEW %s SET (security_invoker = true);', tv.view)
FROM tenant_views tv JOIN reachable_views rv ON rv.oid = tv.oid
JOIN pg_roles o ON o.oid = tv.relowner
WHERE tv.relkind = 'v' AND (o.rolsuper OR o.rolbypassrls) AND NOT tv.security_invoker
UNION ALL
-- (11) pg_tenancy's own triggers disabled, or its guards no longer ENABLE
-- ALWAYS (firing under session_replication_role = replica too). A data-only
-- pg_restore --disable-triggers leaves them plain ENABLE, for one.
SELECT 'error', format('trigger %I on %s', tg.tgname, tg.tgrelid::regclass),
       CASE WHEN tg.tgenabled = 'D' THEN 'pg_tenancy trigger is disabled'
            ELSE 'pg_tenancy guard trigger does not fire under session_replication_role = replica' END,
       format('ALTER TABLE %s ENABLE %sTRIGGER %I;', tg.tgrelid::regclass,
              CASE WHEN w.always THEN 'ALWAYS ' ELSE '' END, tg.tgname)
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid AND c.relnamespace = 'tenancy'::regnamespace
CROSS JOIN LATERAL (
    SELECT tg.tgname IN ('file_access_log_append_only', 'file_access_log_no_truncate',
                         'files_truncate_versions', 'organizations_truncate_cleanup') AS always) w
WHERE NOT tg.tgisinternal
  AND (EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
               AND d.deptype = 'e'
               AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_tenancy'))
       -- The log's partitions are not members (pg_dump must save them).
       OR c.oid IN (SELECT relid FROM pg_partition_tree('tenancy.file_access_log')))
  AND (tg.tgenabled = 'D' OR (w.always AND tg.tgenabled <> 'A'))
UNION ALL
SELECT 'error', format('event trigger %I', e.evtname),
       CASE WHEN e.evtenabled = 'D' THEN 'pg_tenancy event trigger is disabled'
            ELSE 'pg_tenancy event trigger does not fire under session_replication_role = replica' END,
       format('ALTER EVENT TRIGGER %I ENABLE ALWAYS;', e.evtname)
FROM pg_event_trigger e
WHERE e.evtname = 'pg_tenancy_file_access_log_ddl_guard' AND e.evtenabled <> 'A'
UNION ALL
-- (12) Each partition of the log needs its own TRUNCATE guard (statement
-- triggers are not cloned from the log), its own btree (the partitioned log
-- has none: an index on it would break the restore of dumped months), and
-- to be logged.
SELECT f.severity, format('partition %s of tenancy.file_access_log', pt.relid::regclass),
       f.finding, f.fix
FROM pg_partition_tree('tenancy.file_access_log') pt
JOIN pg_class c ON c.oid = pt.relid
CROSS JOIN LATERAL (
    SELECT 'error' AS severity,
           'partition has no TRUNCATE guard: a TRUNCATE of it removes audit rows' AS finding,
           format('CREATE TRIGGER file_access_log_no_truncate BEFORE TRUNCATE ON %1$s'
                  ' FOR EACH STATEMENT EXECUTE FUNCTION tenancy.file_access_log_guard();'
                  ' ALTER TABLE %1$s ENABLE ALWAYS TRIGGER file_access_log_no_truncate;',
                  pt.relid::regclass) AS fix
    WHERE NOT EXISTS (SELECT FROM pg_trigger g
                      WHERE g.tgrelid = pt.relid AND (g.tgtype & 32) <> 0
                        AND g.tgfoid = 'tenancy.file_access_log_guard()'::regprocedure)
    UNION ALL
    SELECT 'error', 'partition is unlogged: its audit rows are lost in a crash',
           format('ALTER TABLE %s SET LOGGED;', pt.relid::regclass)
    WHERE c.relpersistence = 'u'
    UNION ALL
    SELECT 'warning',
           'partition has no index that leads with "organization_id": per-organization and per-file reads scan it',
           format('CREATE INDEX ON %s (organization_id, file_id, at);', pt.relid::regclass)
    WHERE NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a
                      ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                      WHERE i.indrelid = pt.relid AND a.attname = 'organization_id')) f
WHERE pt.level > 0
UNION ALL
-- (13) The log taken out of the extension: the extension's dependency no
-- longer keeps it, and the DDL guard, which knows it as the extension's, no
-- longer keeps its months from being dropped or detached.
SELECT 'error', 'tenancy.file_access_log',
       'the file access log is no longer a member of the extension pg_tenancy: nothing keeps its partitions from being dropped',
       'ALTER EXTENSION pg_tenancy ADD TABLE tenancy.file_access_log;'
WHERE to_regclass('tenancy.file_access_log') IS NOT NULL
  AND NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = to_regclass('tenancy.file_access_log') AND d.deptype = 'e')
UNION ALL
-- (14) The log's months not kept ahead of the clock: no partition covers
-- this month or the next (UTC) while maintenance made months before, or
-- rows already wait in the default partition. Appends then go to the
-- default partition, and maintenance moves them out later, holding it
-- ACCESS EXCLUSIVE. (A fresh install that has logged nothing yet is fine.)
SELECT 'warning', 'tenancy.file_access_log',
       'no partition of the file access log covers this month or the next: its appends go to the default partition (is tenancy.run_rollups() scheduled, as the log''s owner, and does its maintenance succeed?)',
       'SELECT tenancy.maintain_file_access_log();'
FROM (SELECT count(*) FILTER (WHERE NOT is_default) AS months,
             count(*) FILTER (WHERE NOT is_default AND from_at <= now() AND now() < to_at) AS this_month,
             count(*) FILTER (WHERE NOT is_default AND from_at <= m.next_month AND m.next_month < to_at)
                 AS next_month
      FROM tenancy.file_access_log_partitions(),
           (SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
                   AT TIME ZONE 'UTC' AS next_month) m) p
WHERE (p.this_month = 0 OR p.next_month = 0)
  AND (p.months > 0
       OR (SELECT pg_relation_size(nullif(partdefid, 0)) > 0 FROM pg_partitioned_table
           WHERE partrelid = to_regclass('tenancy.file_access_log')))
UNION ALL
-- ... and rows that wait in the default partition for their month (a month
-- whose creation fails or whose name is taken). Only a role that reads the
-- default partition's rows sees them: a superuser (forced row level
-- security with no policy hides them from its owner too).
SELECT 'warning', 'tenancy.file_access_log',
       'the default partition of the file access log holds rows of months that have no partition of their own: maintenance has not moved them (see its WARNINGs in the server log)',
       'SELECT tenancy.maintain_file_access_log();'
WHERE tenancy.file_access_log_rows_waiting()
$$;
COMMENT ON FUNCTION tenancy.check() IS
    'Findings that undermine tenant isolation, with severity and fix; zero rows when all is well.';
