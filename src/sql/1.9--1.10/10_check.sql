-------------------------------------------------------------------------------
-- tenancy.check() (1.10): two pieces more, and two findings of
-- check_configuration() corrected.
--   tenancy.check_protected_keys()  finding (18): keys of protected tables
--                                   that reach across tenants;
--   tenancy.check_rollup_state()    finding (19): a rollup state taken in
--                                   another cluster.
-------------------------------------------------------------------------------

-- Keys of a table (being) protected that reach across tenants, for protect()'s
-- warnings and check()'s findings alike:
--   - a primary key or unique constraint without the tenant column: the
--     table cannot be distributed by tenant later, and a tenant learns
--     whether another holds a value (a unique violation, ON CONFLICT), unless
--     every column of it is generated (serial, identity);
--   - a foreign key between it and a protected table (either way, itself
--     included) that does not match tenant column to tenant column: foreign
--     key checks do not apply row level security, so a tenant references
--     another's rows, learns which exist, and keeps the other from deleting
--     them (or, with ON DELETE CASCADE or SET NULL, has them write its rows).
-- tbl's tenant column is tenant_column (protect() calls this before it
-- records the table); the other tables' come from tenancy.protected_tables.
-- Inherited constraints (of partitions) are their parent's.
CREATE FUNCTION tenancy.protected_key_problems(tbl regclass, tenant_column name)
    RETURNS TABLE (table_name regclass, constraint_name name, severity text,
                   problem text, hint text, fix text, generated_key boolean)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH tenants(relid, attnum) AS (
    SELECT p.relid, a.attnum
    FROM tenancy.protected_tables p
    JOIN pg_attribute a ON a.attrelid = p.relid AND a.attname = p.tenant_column AND NOT a.attisdropped
    WHERE p.relid <> tbl
    UNION ALL
    SELECT tbl, a.attnum FROM pg_attribute a
    WHERE a.attrelid = tbl AND a.attname = tenant_column AND NOT a.attisdropped
), key_columns AS (
    SELECT c.oid, string_agg(quote_ident(a.attname), ', ' ORDER BY k.n) AS columns,
           bool_and(a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false))
               AS generated
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    LEFT JOIN pg_attrdef d ON d.adrelid = c.conrelid AND d.adnum = k.attnum
    WHERE c.conrelid = tbl AND c.contype IN ('p', 'u')
    GROUP BY c.oid
)
SELECT c.conrelid::regclass, c.conname, 'warning',
       format('%s "%s" of %s does not include the tenant column "%s"',
              CASE c.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END,
              c.conname, c.conrelid::regclass, tenant_column),
       'Such a table cannot be distributed by tenant later; lead the key with the tenant column.',
       format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I %s (%I, %s); -- lead the key with the tenant column: a tenant otherwise learns whether another holds a value',
              c.conrelid::regclass, c.conname, c.conname,
              CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, tenant_column, k.columns),
       k.generated
FROM pg_constraint c
JOIN tenants t ON t.relid = c.conrelid
JOIN key_columns k ON k.oid = c.oid
WHERE c.conrelid = tbl AND c.contype IN ('p', 'u') AND c.conparentid = 0
  AND NOT t.attnum = ANY (c.conkey)
UNION ALL
SELECT c.conrelid::regclass, c.conname, 'error',
       format('foreign key "%s" of %s references %s without matching its tenant column to that table''s: it reaches across tenants',
              c.conname, c.conrelid::regclass, c.confrelid::regclass),
       'Foreign key checks do not apply row level security: one tenant could reference another''s rows, learn which exist, and keep it from deleting them. Include the tenant columns in the key.',
       format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s); -- %s needs a key on those columns',
              c.conrelid::regclass, c.conname, c.conname,
              (SELECT string_agg(quote_ident(attname), ', ' ORDER BY n)
               FROM (SELECT a.attname, 0 AS n FROM pg_attribute a
                     WHERE a.attrelid = c.conrelid AND a.attnum = src.attnum
                     UNION ALL
                     SELECT a.attname, k.n FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                     WHERE k.attnum <> src.attnum) cols),
              c.confrelid::regclass,
              (SELECT string_agg(quote_ident(attname), ', ' ORDER BY n)
               FROM (SELECT a.attname, 0 AS n FROM pg_attribute a
                     WHERE a.attrelid = c.confrelid AND a.attnum = dst.attnum
                     UNION ALL
                     SELECT a.attname, k.n FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
                     WHERE k.attnum <> dst.attnum) cols),
              c.confrelid::regclass),
       false
FROM pg_constraint c
JOIN tenants src ON src.relid = c.conrelid
JOIN tenants dst ON dst.relid = c.confrelid
WHERE c.contype = 'f' AND c.conparentid = 0 AND (c.conrelid = tbl OR c.confrelid = tbl)
  AND NOT EXISTS (SELECT FROM generate_subscripts(c.conkey, 1) i
                  WHERE c.conkey[i] = src.attnum AND c.confkey[i] = dst.attnum)
$$;
COMMENT ON FUNCTION tenancy.protected_key_problems(regclass, name) IS
    'Keys of a protected table that reach across tenants (protect()''s warnings, check() finding 18).';
GRANT EXECUTE ON FUNCTION tenancy.protected_key_problems(regclass, name) TO PUBLIC;

-- (18) Keys of protected tables that reach across tenants: foreign keys
-- (errors), and primary keys and unique constraints without the tenant
-- column unless their columns are all generated (warnings; protect() warns
-- of those too). Each foreign key once, on the table that has it. Invoker's
-- rights: the protected tables the caller reads.
CREATE FUNCTION tenancy.check_protected_keys()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT DISTINCT k.severity, k.table_name::text, k.problem, k.fix
FROM tenancy.protected_tables p
CROSS JOIN LATERAL tenancy.protected_key_problems(p.relid, p.tenant_column) k
WHERE k.table_name = p.relid AND NOT k.generated_key
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
