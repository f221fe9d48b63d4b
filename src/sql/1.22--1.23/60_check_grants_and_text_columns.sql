-- (25) Logins granted a protected table that no policy on it admits: not
-- members of tenancy_app (whose isolation policy it is), not superusers or
-- BYPASSRLS, not its owner, and no policy of the table names them, PUBLIC
-- or a role they are a member of. Row level security, forced, then gives
-- them no row and refuses their inserts: a login left out of tenancy_app
-- when an application moved to pg_tenancy, or a background job's, "works"
-- and does nothing (migration review of 1.22). Table and column privileges,
-- granted to the login or to a role whose privileges it inherits (as
-- PostgreSQL grants them: a NOINHERIT login does not get its roles'); a
-- role no such login has is not reported (a group of the application's
-- logins). Grants to PUBLIC are left out (they name no one). Invoker's
-- rights: the protected tables the caller sees.
CREATE FUNCTION tenancy.check_protected_grantees()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH outside_logins AS (
    SELECT r.oid, r.rolname FROM pg_roles r
    WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolbypassrls
      AND NOT pg_has_role(r.oid, 'tenancy_app', 'MEMBER')
), grants AS (
    SELECT p.relid, c.relowner, a.grantee, a.privilege_type
    FROM tenancy.protected_tables p
    JOIN pg_class c ON c.oid = p.relid
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE') AND a.grantee <> 0
    UNION
    SELECT p.relid, c.relowner, a.grantee, a.privilege_type
    FROM tenancy.protected_tables p
    JOIN pg_class c ON c.oid = p.relid
    JOIN pg_attribute att ON att.attrelid = p.relid AND att.attacl IS NOT NULL
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    WHERE a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE') AND a.grantee <> 0
), held AS (
    SELECT DISTINCT g.relid, l.oid AS login, l.rolname, g.grantee, g.privilege_type
    FROM grants g
    JOIN outside_logins l ON l.oid <> g.relowner AND pg_has_role(l.oid, g.grantee, 'USAGE')
    WHERE NOT EXISTS (SELECT FROM pg_policy pol
                      WHERE pol.polrelid = g.relid
                        AND (0::oid = ANY (pol.polroles)
                             OR EXISTS (SELECT FROM unnest(pol.polroles) AS pr(oid)
                                        WHERE pg_has_role(l.oid, pr.oid, 'MEMBER'))))
)
SELECT 'warning', format('role %s', quote_ident(h.rolname)),
       format('%s holds %s on %s, a protected table, but is not a member of tenancy_app and no policy on the table applies to it: it reads and changes no row there, and its inserts fail',
              quote_ident(h.rolname),
              string_agg(DISTINCT h.privilege_type, ', ' ORDER BY h.privilege_type), h.relid::regclass),
       format('GRANT tenancy_app TO %I; -- if it is one of the application''s logins; otherwise revoke what %s holds on %s, or give it a policy of its own',
              h.rolname,
              string_agg(DISTINCT CASE WHEN h.grantee = h.login THEN 'it' ELSE quote_ident(h.grantee::regrole::text) END,
                         ', '),
              h.relid::regclass)
FROM held h
GROUP BY h.rolname, h.relid
ORDER BY h.rolname, h.relid::regclass::text
$$;
COMMENT ON FUNCTION tenancy.check_protected_grantees() IS
    'Finding (25) of tenancy.check(): logins granted a protected table that no policy on it admits (not members of tenancy_app).';
GRANT EXECUTE ON FUNCTION tenancy.check_protected_grantees() TO PUBLIC;

-- (27) Tables the application reaches without row level security whose
-- column of type text or varchar is named like a tenant column (a legacy
-- import's org_id text, an ORM's "tenantId" varchar). Finding (1) takes uuid
-- columns only: a text one may hold codes rather than organization ids, and
-- its conversion would fail, or succeed and hide the rows from every
-- tenant whose ids they are not (diff review of 1.23). A warning, whose fix
-- is advice. Reached: a privilege of tenancy_app or PUBLIC (the roles the
-- application's logins belong to besides are finding (1)'s to walk, for
-- tenant tables).
CREATE FUNCTION tenancy.check_text_tenant_columns()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT 'warning', c.oid::regclass::text,
       format('column "%s" is of type %s and named like a tenant column, and the application reaches the table without row level security: if it holds organization ids, every member of every organization reads and writes all its rows',
              a.attname, format_type(a.atttypid, NULL)),
       format('-- if %1$I holds organization ids: ALTER TABLE %2$s ALTER COLUMN %1$I TYPE uuid USING %1$I::uuid; SELECT tenancy.protect(%3$L, %4$L); otherwise rename the column, or revoke the table from the application',
              a.attname, c.oid::regclass, c.oid::regclass::text, a.attname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN LATERAL (SELECT attname, atttypid FROM pg_attribute
              WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                AND atttypid IN ('text'::regtype, 'character varying'::regtype)
                AND lower(replace(attname, '_', '')) IN ('organizationid', 'orgid', 'tenantid', 'schoolid')
              ORDER BY attnum LIMIT 1) a ON true
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenancy') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
  AND has_table_privilege('tenancy_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
  -- A uuid tenant column as well: finding (1)'s.
  AND NOT EXISTS (SELECT FROM pg_attribute u
                  WHERE u.attrelid = c.oid AND u.attnum > 0 AND NOT u.attisdropped
                    AND u.atttypid = 'uuid'::regtype
                    AND lower(replace(u.attname, '_', '')) IN ('organizationid', 'orgid', 'tenantid', 'schoolid'))
ORDER BY 2
$$;
COMMENT ON FUNCTION tenancy.check_text_tenant_columns() IS
    'Finding (27) of tenancy.check(): tables the application reaches without row level security whose text or varchar column is named like a tenant column.';
GRANT EXECUTE ON FUNCTION tenancy.check_text_tenant_columns() TO PUBLIC;

-- check() gains these pieces and finding 24's (20_check_and_protect.sql).
-- Its body is SQL-standard (BEGIN ATOMIC): replace_in_function works on the
-- text PostgreSQL deparses it to.
SELECT tenancy.replace_in_function('tenancy.check()',
    $old$    FROM tenancy.check_signing_keys() check_signing_keys(severity, object, finding, fix);
END$old$,
    $new$    FROM tenancy.check_signing_keys() check_signing_keys(severity, object, finding, fix)
 UNION ALL
  SELECT * FROM tenancy.check_organization_owners()
 UNION ALL
  SELECT * FROM tenancy.check_protected_grantees()
 UNION ALL
  SELECT * FROM tenancy.check_text_tenant_columns();
END$new$);
