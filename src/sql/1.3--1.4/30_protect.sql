-------------------------------------------------------------------------------
-- protect() refuses a table of another extension (42809), as the README said
-- it did: that extension creates, updates and drops it, policies included;
-- and a generated tenant column (0A000) with a message of its own, where
-- ALTER … SET DEFAULT failed with a bare 42601.
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.protect(tbl regclass, tenant_column name DEFAULT 'organization_id')
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    rel pg_catalog.pg_class%ROWTYPE;
    schema_name name;
    column_type oid;
    known tenancy.protected_tables%ROWTYPE;
    current_default text;
    wanted_default constant text := 'tenancy.current_org_id()';
    index_name name;
    privilege text;
    granted_now text[] := '{}';
    sequences regclass[] := '{}';
    seq regclass;
    con record;
    schema_granted boolean;
BEGIN
    IF tbl IS NULL OR tenant_column IS NULL THEN
        RAISE EXCEPTION 'tbl and tenant_column must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_class WHERE oid = tbl;
    schema_name := (SELECT nspname FROM pg_namespace WHERE oid = rel.relnamespace);

    -- What can be protected: an ordinary or partitioned table of the application.
    IF schema_name IN ('pg_catalog', 'information_schema') OR schema_name LIKE 'pg\_toast%' THEN
        RAISE EXCEPTION '% is a system table and cannot be protected', tbl
            USING ERRCODE = '42501';
    END IF;
    IF schema_name = 'tenancy' THEN
        RAISE EXCEPTION '% belongs to pg_tenancy, which protects it already', tbl
            USING ERRCODE = '42809';
    END IF;
    IF EXISTS (SELECT FROM pg_depend WHERE classid = 'pg_class'::regclass AND objid = tbl
               AND deptype = 'e') THEN
        RAISE EXCEPTION '% belongs to extension %, which creates and updates it', tbl,
                        (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = tbl AND d.deptype = 'e')
            USING ERRCODE = '42809';
    END IF;
    IF rel.relkind IN ('v', 'm') THEN
        RAISE EXCEPTION '% is a view; protect the tables it reads', tbl
            USING ERRCODE = '42809',
                  HINT = 'Views read under the caller''s policies with security_invoker = true.';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF rel.relispartition THEN
        RAISE EXCEPTION '% is a partition; protect its partitioned table', tbl
            USING ERRCODE = '42809';
    END IF;
    IF rel.relpersistence = 't' THEN
        RAISE EXCEPTION '% is a temporary table and cannot be protected', tbl
            USING ERRCODE = '42809';
    END IF;
    SELECT atttypid INTO column_type FROM pg_attribute
        WHERE attrelid = tbl AND attname = tenant_column AND attnum > 0 AND NOT attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of % does not exist', tenant_column, tbl
            USING ERRCODE = '42703',
                  HINT = 'Pass the tenant column: tenancy.protect(tbl, tenant_column => ''…'').';
    END IF;
    IF column_type <> 'uuid'::regtype THEN
        RAISE EXCEPTION 'column "%" of % is of type %, not uuid', tenant_column, tbl,
                        format_type(column_type, NULL)
            USING ERRCODE = '42804';
    END IF;
    IF (SELECT attgenerated FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_column) <> '' THEN
        RAISE EXCEPTION 'column "%" of % is a generated column', tenant_column, tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'The tenant column takes its value from the context (a default), which a generated column cannot have.';
    END IF;

    SELECT * INTO known FROM tenancy.protected_tables WHERE relid = tbl;
    IF FOUND AND known.tenant_column <> tenant_column THEN
        RAISE EXCEPTION '% is protected with tenant column "%"', tbl, known.tenant_column
            USING ERRCODE = '22023', HINT = 'Unprotect it first.';
    END IF;

    SELECT pg_get_expr(adbin, adrelid) INTO current_default FROM pg_attrdef
        WHERE adrelid = tbl
          AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_column);

    -- Row level security, enabled and forced (owners too).
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);

    -- The isolation policy: all commands, for the application role. A policy
    -- of that name that says something else is not ours to adopt or replace.
    IF EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl AND polname = tenancy.isolation_policy_name()
               AND (pg_get_expr(polqual, polrelid) IS DISTINCT FROM format('(%I = tenancy.current_org_id())', tenant_column)
                    OR pg_get_expr(polwithcheck, polrelid) IS DISTINCT FROM format('(%I = tenancy.current_org_id())', tenant_column)
                    OR polcmd <> '*' OR NOT polpermissive
                    OR polroles <> ARRAY['tenancy_app'::regrole::oid])) THEN
        RAISE EXCEPTION 'policy "%" on % exists with another definition', tenancy.isolation_policy_name(), tbl
            USING ERRCODE = '42710',
                  HINT = 'Drop or rename it; protect() creates the isolation policy itself.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl
                   AND polname = tenancy.isolation_policy_name()) THEN
        EXECUTE format('CREATE POLICY %I ON %s AS PERMISSIVE FOR ALL TO tenancy_app'
                       ' USING (%I = tenancy.current_org_id())'
                       ' WITH CHECK (%I = tenancy.current_org_id())',
                       tenancy.isolation_policy_name(), tbl, tenant_column, tenant_column);
    END IF;

    -- The tenant column defaults to the context.
    IF current_default IS DISTINCT FROM wanted_default THEN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT tenancy.current_org_id()',
                       tbl, tenant_column);
    END IF;

    -- An index that leads with the tenant column.
    IF NOT EXISTS (SELECT FROM pg_index i
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                   WHERE i.indrelid = tbl AND a.attname = tenant_column) THEN
        -- PostgreSQL picks a free name; read it back for unprotect().
        EXECUTE format('CREATE INDEX ON %s (%I)', tbl, tenant_column);
        SELECT c.relname INTO index_name FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = tbl AND a.attname = tenant_column;
    END IF;

    -- Grants: what the application needs and did not have yet.
    schema_granted := NOT has_schema_privilege('tenancy_app', rel.relnamespace, 'USAGE');
    IF schema_granted THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO tenancy_app', schema_name);
    END IF;
    FOREACH privilege IN ARRAY ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] LOOP
        IF NOT EXISTS (SELECT FROM pg_class c, aclexplode(c.relacl) a
                       WHERE c.oid = tbl AND a.grantee = 'tenancy_app'::regrole
                         AND a.privilege_type = privilege) THEN
            EXECUTE format('GRANT %s ON %s TO tenancy_app', privilege, tbl);
            granted_now := granted_now || privilege;
        END IF;
    END LOOP;
    -- Sequences behind serial and identity columns, for INSERT.
    FOR seq IN SELECT d.objid::regclass FROM pg_depend d
               JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
               WHERE d.refobjid = tbl AND d.classid = 'pg_class'::regclass
                 AND d.deptype IN ('a', 'i') LOOP
        IF NOT has_sequence_privilege('tenancy_app', seq, 'USAGE') THEN
            EXECUTE format('GRANT USAGE ON SEQUENCE %s TO tenancy_app', seq);
            sequences := sequences || seq;
        END IF;
    END LOOP;

    -- Tables that cannot be distributed by tenant later.
    FOR con IN SELECT conname, contype FROM pg_constraint
               WHERE conrelid = tbl AND contype IN ('p', 'u')
                 AND NOT (SELECT attnum FROM pg_attribute
                          WHERE attrelid = tbl AND attname = tenant_column) = ANY (conkey) LOOP
        RAISE WARNING '% "%" of % does not include the tenant column "%"',
                      CASE con.contype WHEN 'p' THEN 'primary key' ELSE 'unique constraint' END,
                      con.conname, tbl, tenant_column
            USING HINT = 'Such a table cannot be distributed by tenant later; lead the key with the tenant column.';
    END LOOP;

    IF known.relid IS NULL THEN
        INSERT INTO tenancy.protected_tables
            (relid, tenant_column, rls_was_enabled, rls_was_forced, previous_default,
             default_set, created_index, granted, granted_sequences, granted_schema_usage)
        VALUES (tbl, tenant_column, rel.relrowsecurity, rel.relforcerowsecurity,
                CASE WHEN current_default IS DISTINCT FROM wanted_default THEN current_default END,
                current_default IS DISTINCT FROM wanted_default,
                index_name, granted_now, sequences, schema_granted);
    ELSE
        -- Protecting again re-applies what was missing; remember that too.
        UPDATE tenancy.protected_tables
        SET created_index = coalesce(created_index, index_name),
            default_set = default_set OR current_default IS DISTINCT FROM wanted_default,
            granted = ARRAY(SELECT DISTINCT unnest(granted || granted_now)),
            granted_sequences = ARRAY(SELECT DISTINCT unnest(granted_sequences || sequences)),
            granted_schema_usage = granted_schema_usage OR schema_granted
        WHERE relid = tbl;
    END IF;
END
$$;
