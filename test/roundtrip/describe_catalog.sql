-- Everything the extension defines, in a form two databases can be compared
-- with by diff: functions, types, tables and columns, constraints, indexes,
-- triggers, policies, views, grants, event triggers and dump configuration.
-- Columns are listed by name: a later version's full install script may
-- order them differently from the upgrade path, which is not a difference.
-- With -v skip_runtime_partitions=true the log's partitions made at run time
-- (months, and the old table an upgrade keeps) are left out: an upgraded
-- database has them and a fresh install does not. A dump and its restore
-- are compared with them.
\pset footer off
\if :{?skip_runtime_partitions}
\else
\set skip_runtime_partitions false
\endif
CREATE TEMP TABLE runtime_partitions AS
WITH partitions AS (
    SELECT relid AS oid FROM pg_partition_tree('tenancy.file_access_log') WHERE level > 0
    EXCEPT
    SELECT objid FROM pg_depend WHERE classid = 'pg_class'::regclass AND deptype = 'e')
SELECT oid FROM partitions WHERE :skip_runtime_partitions
UNION ALL
SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM partitions)
  AND :skip_runtime_partitions;
SELECT 'function' AS kind, p.oid::regprocedure::text AS name,
       concat_ws(' ', p.prorettype::regtype, p.provolatile, p.proparallel,
                 CASE WHEN p.proleakproof THEN 'leakproof' END,
                 CASE WHEN p.prosecdef THEN 'secdef' END,
                 CASE WHEN p.proisstrict THEN 'strict' END,
                 p.proconfig::text, p.proacl::text, md5(p.prosrc), p.probin) AS detail
FROM pg_proc p WHERE p.pronamespace = 'tenancy'::regnamespace
UNION ALL
SELECT 'type', t.oid::regtype::text,
       concat_ws(' ', t.typtype, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                                  FROM pg_enum WHERE enumtypid = t.oid))
FROM pg_type t WHERE t.typnamespace = 'tenancy'::regnamespace AND t.typtype IN ('e', 'c', 'd')
  AND NOT EXISTS (SELECT FROM pg_class c WHERE c.reltype = t.oid)
UNION ALL
SELECT 'relation', c.oid::regclass::text,
       -- No ACL is the owner's default one (a restore writes it so).
       concat_ws(' ', c.relkind, c.relrowsecurity, c.relforcerowsecurity,
                 coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char",
                                               c.relowner))::text,
                 c.reloptions::text)
FROM pg_class c WHERE c.relnamespace = 'tenancy'::regnamespace
  AND c.oid NOT IN (SELECT oid FROM runtime_partitions)
UNION ALL
SELECT 'column', a.attrelid::regclass::text || '.' || a.attname,
       concat_ws(' ', format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                 a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attacl::text)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = 'tenancy'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  AND c.oid NOT IN (SELECT oid FROM runtime_partitions)
UNION ALL
SELECT 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'tenancy'::regnamespace
  AND conrelid NOT IN (SELECT oid FROM runtime_partitions)
UNION ALL
SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'tenancy'::regnamespace AND c.oid NOT IN (SELECT oid FROM runtime_partitions)
UNION ALL
SELECT 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid) || ' ' || tgenabled::text
FROM pg_trigger t WHERE NOT tgisinternal
  AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'tenancy'::regnamespace)
  AND tgrelid NOT IN (SELECT oid FROM runtime_partitions)
UNION ALL
SELECT 'policy', tablename || '.' || policyname,
       concat_ws(' ', permissive, roles::text, cmd, qual, with_check)
FROM pg_policies WHERE schemaname = 'tenancy'
UNION ALL
SELECT 'view', c.oid::regclass::text, md5(pg_get_viewdef(c.oid))
FROM pg_class c WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind = 'v'
UNION ALL
SELECT 'event trigger', evtname, concat_ws(' ', evtevent, evtfoid::regproc, evtenabled::text, evttags::text)
FROM pg_event_trigger
UNION ALL
SELECT 'dump config', cfg::regclass::text, cond
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond)
WHERE e.extname = 'pg_tenancy'
UNION ALL
SELECT 'schema', nspname, nspacl::text FROM pg_namespace WHERE nspname = 'tenancy'
UNION ALL
SELECT 'member of extension', pg_describe_object(classid, objid, objsubid), ''
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_tenancy')
ORDER BY 1, 2, 3;
