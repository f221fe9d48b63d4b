-------------------------------------------------------------------------------
-- tenancy.check() (1.10): two pieces more, and two findings of
-- check_configuration() corrected.
--   tenancy.check_protected_keys()  finding (18): keys of protected tables
--                                   that reach across tenants;
--   tenancy.check_rollup_state()    finding (19): a rollup state taken in
--                                   another cluster.
-------------------------------------------------------------------------------

-- Keys of protected tables that reach across tenants, for protect()'s
-- warnings and check()'s finding (18) alike:
--   - a primary key, unique constraint or unique index without the tenant
--     column: a tenant learns whether another holds a value (a unique
--     violation, ON CONFLICT), and, for a serial or identity key (which a
--     tenant may also write: explicit values, OVERRIDING SYSTEM VALUE),
--     takes ids that make another's inserts fail; the table cannot be
--     distributed by tenant later either;
--   - a foreign key from a protected table to a protected table or to one of
--     the extension's tenant tables (files, members), itself included, that
--     does not pair tenant column with tenant column: foreign key checks do
--     not apply row level security, so a tenant references another's rows,
--     learns which exist, and keeps the other from deleting them (or, with
--     ON DELETE CASCADE or SET NULL, has them write its rows). A reference to
--     tenancy.organizations by another column than the tenant column (to
--     another organization) is the application's design, not reported.
-- tbl NULL: every protected table (check()); otherwise the keys of tbl, whose
-- tenant column is tenant_column (protect() calls this before it records
-- the table), and the foreign keys of protected tables to it. One pass over
-- the constraints either way. Inherited constraints (of partitions) are their
-- parent's.
CREATE FUNCTION tenancy.protected_key_problems(tbl regclass DEFAULT NULL, tenant_column name DEFAULT NULL)
    RETURNS TABLE (table_name regclass, constraint_name name, severity text,
                   problem text, hint text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH protected(relid, attnum, attname) AS (
    SELECT p.relid, a.attnum, a.attname
    FROM tenancy.protected_tables p
    JOIN pg_attribute a ON a.attrelid = p.relid AND a.attname = p.tenant_column AND NOT a.attisdropped
    WHERE tbl IS NULL OR p.relid <> tbl
    UNION ALL
    SELECT tbl, a.attnum, a.attname FROM pg_attribute a
    WHERE a.attrelid = tbl AND a.attname = tenant_column AND NOT a.attisdropped
), referenced(relid, attnum, attname) AS (
    SELECT * FROM protected
    UNION ALL
    SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a
    WHERE a.attrelid IN ('tenancy.files'::regclass, 'tenancy.members'::regclass)
      AND a.attname = 'organization_id'
), unique_keys AS (
    -- Constraints, and unique indexes that back none.
    SELECT c.conrelid AS relid, c.conname AS name, c.conkey::int2[] AS columns,
           CASE c.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END AS kind
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u') AND c.conparentid = 0
    UNION ALL
    -- (Key columns only: INCLUDE columns are not part of the uniqueness.)
    SELECT i.indrelid, x.relname, (i.indkey::int2[])[0:i.indnkeyatts - 1], 'unique index'
    FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
    WHERE i.indisunique
      AND NOT EXISTS (SELECT FROM pg_constraint c
                      WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
      AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
), foreign_keys AS (
    SELECT c.oid, c.conrelid, c.confrelid, c.conname, c.conkey, c.confkey, c.confmatchtype,
           c.confupdtype, c.confdeltype, c.confdelsetcols, c.condeferrable, c.condeferred,
           src.attname AS src_tenant, src.attnum AS src_attnum,
           dst.attname AS dst_tenant, dst.attnum AS dst_attnum,
           array_position(c.confkey, dst.attnum) AS dst_position
    FROM pg_constraint c
    JOIN protected src ON src.relid = c.conrelid
    JOIN referenced dst ON dst.relid = c.confrelid
    WHERE c.contype = 'f' AND c.conparentid = 0
      AND (tbl IS NULL OR c.conrelid = tbl OR c.confrelid = tbl)
      AND NOT EXISTS (SELECT FROM generate_subscripts(c.conkey, 1) i
                      WHERE c.conkey[i] = src.attnum AND c.confkey[i] = dst.attnum)
)
SELECT k.relid::regclass, k.name, 'warning',
       format('%s "%s" of %s does not include the tenant column "%s"', k.kind, k.name,
              k.relid::regclass, t.attname),
       'Such a table cannot be distributed by tenant later, and a tenant learns whether another holds a value (or, for a serial key, takes ids another needs); lead the key with the tenant column.',
       -- Advice, not a statement to run as is: the foreign keys that
       -- reference the key move to the new one first, and its options
       -- (DEFERRABLE, INCLUDE, storage) are the DBA's to carry over.
       format('Lead %s "%s" with the tenant column: a unique key on (%I, %s) instead (the foreign keys that reference it move to the new key first).',
              k.kind, k.name, t.attname,
              (SELECT string_agg(coalesce(quote_ident(a.attname), 'expression'), ', ' ORDER BY n)
               FROM unnest(k.columns) WITH ORDINALITY u(attnum, n)
               LEFT JOIN pg_attribute a ON a.attrelid = k.relid AND a.attnum = u.attnum))
FROM unique_keys k
JOIN protected t ON t.relid = k.relid
WHERE (tbl IS NULL OR k.relid = tbl) AND NOT t.attnum = ANY (k.columns)
UNION ALL
SELECT f.conrelid::regclass, f.conname, 'error',
       format('foreign key "%s" of %s references %s without matching its tenant column to that table''s: it reaches across tenants',
              f.conname, f.conrelid::regclass, f.confrelid::regclass),
       'Foreign key checks do not apply row level security: one tenant could reference another''s rows, learn which exist, and keep it from deleting them. Pair the tenant columns in the key.',
       -- Where the key references the other table's tenant column, this
       -- table's takes the place of the column paired with it; otherwise both
       -- tenant columns lead. MATCH, the actions and DEFERRABLE are kept, from
       -- the catalog; ON DELETE SET NULL or SET DEFAULT keeps to the columns
       -- it set (not the tenant column, which is NOT NULL).
       format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s)%s%s%s%s; -- %s needs a key on those columns',
              f.conrelid::regclass, f.conname, f.conname,
              (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY n)
               FROM (SELECT CASE WHEN u.n = f.dst_position THEN f.src_attnum ELSE u.attnum END, u.n
                     FROM unnest(f.conkey) WITH ORDINALITY u(attnum, n)
                     UNION ALL
                     SELECT f.src_attnum, 0 WHERE f.dst_position IS NULL) cols(attnum, n)
               JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = cols.attnum),
              f.confrelid::regclass,
              (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY n)
               FROM (SELECT u.attnum, u.n FROM unnest(f.confkey) WITH ORDINALITY u(attnum, n)
                     UNION ALL
                     SELECT f.dst_attnum, 0 WHERE f.dst_position IS NULL) cols(attnum, n)
               JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = cols.attnum),
              CASE f.confmatchtype WHEN 'f' THEN ' MATCH FULL' ELSE '' END,
              CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                 WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT'
                                 ELSE '' END,
              CASE WHEN f.confdeltype IN ('n', 'd')
                   THEN format(' ON DELETE SET %s (%s)', CASE f.confdeltype WHEN 'n' THEN 'NULL' ELSE 'DEFAULT' END,
                               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY n)
                                FROM unnest(coalesce(f.confdelsetcols, f.conkey)) WITH ORDINALITY u(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = u.attnum
                                WHERE u.attnum <> f.src_attnum
                                  AND (f.dst_position IS NULL OR n <> f.dst_position
                                       OR f.confdelsetcols IS NOT NULL)))
                   ELSE CASE f.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                                           ELSE '' END END,
              CASE WHEN f.condeferrable
                   THEN ' DEFERRABLE' || CASE WHEN f.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
                   ELSE '' END,
              f.confrelid::regclass)
FROM foreign_keys f
$$;
COMMENT ON FUNCTION tenancy.protected_key_problems(regclass, name) IS
    'Keys of protected tables that reach across tenants (protect()''s warnings, check() finding 18).';
GRANT EXECUTE ON FUNCTION tenancy.protected_key_problems(regclass, name) TO PUBLIC;

-- (18) Keys of protected tables that reach across tenants: foreign keys
-- (errors), and primary keys, unique constraints and unique indexes without
-- the tenant column (warnings; protect() warns of both). Invoker's rights:
-- the protected tables the caller reads.
CREATE FUNCTION tenancy.check_protected_keys()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT k.severity, k.table_name::text, k.problem, k.fix FROM tenancy.protected_key_problems() k
$$;
COMMENT ON FUNCTION tenancy.check_protected_keys() IS
    'Finding (18) of tenancy.check(): keys of protected tables that reach across tenants.';
GRANT EXECUTE ON FUNCTION tenancy.check_protected_keys() TO PUBLIC;

-- (19) A rollup state taken in another cluster: run_rollups() and
-- rebuild_rollups() refuse it (55000), and pg_cron's job fails with them,
-- and with it the maintenance that keeps the log's months ahead. After
-- pg_upgrade (whose cluster continues the transaction ids) the DBA adopts
-- the state; after a restore from another cluster's dump there is no safe
-- adoption yet (README, Dump and restore). Seen by those who see the state
-- row: superusers.
CREATE FUNCTION tenancy.check_rollup_state()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF NOT (has_table_privilege('tenancy.rollup_state', 'SELECT')
            AND NOT row_security_active('tenancy.rollup_state')
            AND has_function_privilege('pg_control_system()', 'EXECUTE')) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'error'::text, 'tenancy.rollup_state'::text,
           'the rollup state was taken in another cluster: tenancy.run_rollups() refuses it (55000), and with it the scheduled job, which also keeps the log''s months ahead'::text,
           CASE WHEN pg_snapshot_xmin(pg_current_snapshot()) >= pg_snapshot_xmax(s.last_snapshot)
                THEN 'UPDATE tenancy.rollup_state SET cluster_id = NULL; -- only if pg_upgrade made this cluster from that one (its transaction ids continue the state''s, as they do here); after a restore from another cluster''s dump, see README, Dump and restore'
                ELSE '-- a dump of another cluster: see README, Dump and restore' END
    FROM tenancy.rollup_state s, pg_control_system() c
    WHERE s.cluster_id IS NOT NULL AND s.cluster_id <> c.system_identifier;
END
$$;
COMMENT ON FUNCTION tenancy.check_rollup_state() IS
    'Finding (19) of tenancy.check(): a rollup state taken in another cluster.';
GRANT EXECUTE ON FUNCTION tenancy.check_rollup_state() TO PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.check()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT * FROM tenancy.check_configuration()
    UNION ALL
    SELECT * FROM tenancy.check_rollups()
    UNION ALL
    SELECT * FROM tenancy.check_guards()
    UNION ALL
    SELECT * FROM tenancy.check_protected_keys()
    UNION ALL
    SELECT * FROM tenancy.check_rollup_state();
END;
