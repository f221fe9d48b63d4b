-------------------------------------------------------------------------------
-- protect() warns of every key that reaches across tenants, foreign keys
-- included (tenancy.protected_key_problems, which check() finding (18) reads
-- too): a foreign key from one protected table to another that does not
-- match tenant column to tenant column lets a tenant reference another's
-- rows. Patched in the catalog's body (1.4's), the key loop only; the
-- upgrade stops if the body is not the one expected.
-------------------------------------------------------------------------------
DO $$
DECLARE
    body text := (SELECT prosrc FROM pg_catalog.pg_proc
                  WHERE oid = 'tenancy.protect(regclass, name)'::pg_catalog.regprocedure);
    key_loop constant text := $old$    -- Tables that cannot be distributed by tenant later.
    FOR con IN SELECT conname, contype FROM pg_constraint
               WHERE conrelid = tbl AND contype IN ('p', 'u')
                 AND NOT (SELECT attnum FROM pg_attribute
                          WHERE attrelid = tbl AND attname = tenant_column) = ANY (conkey) LOOP
        RAISE WARNING '% "%" of % does not include the tenant column "%"',
                      CASE con.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END,
                      con.conname, tbl, tenant_column
            USING HINT = 'Such a table cannot be distributed by tenant later; lead the key with the tenant column.';
    END LOOP;
$old$;
BEGIN
    IF position(key_loop IN body) = 0 THEN
        RAISE EXCEPTION 'tenancy.protect() is not the body 1.9 installed'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it with the 1.9 scripts before upgrading.';
    END IF;
    body := replace(body, key_loop, $new$    -- Keys that reach across tenants: without the tenant column (the table
    -- cannot be distributed by tenant later, and tells one tenant another's
    -- values), or (1.10) foreign keys to or from protected tables that do
    -- not match tenant column to tenant column.
    FOR con IN SELECT problem, hint FROM tenancy.protected_key_problems(tbl, tenant_column)
               ORDER BY severity DESC, constraint_name LOOP
        RAISE WARNING '%', con.problem USING HINT = con.hint;
    END LOOP;
$new$);
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION tenancy.protect(tbl regclass, tenant_column name DEFAULT %L)'
        '    RETURNS void'
        '    LANGUAGE plpgsql'
        '    SET search_path = pg_catalog, pg_temp'
        '    AS %L', 'organization_id', body);
END
$$;

-- A DBA who is not a superuser reads the protected tables' records for
-- check() with pg_read_all_data (README), which does not pass row level
-- security: without a policy, check()'s findings about protected tables
-- came back empty for it, as if all were well.
CREATE POLICY protected_tables_read ON tenancy.protected_tables
    FOR SELECT TO pg_read_all_data USING (true);
