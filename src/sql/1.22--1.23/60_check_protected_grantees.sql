-- (25) Roles granted a protected table that no policy on it admits: not
-- members of tenancy_app (whose isolation policy it is), not superusers or
-- BYPASSRLS, not its owner (who gets a finding of its own where it matters),
-- and no policy of the table names them, PUBLIC or a role they belong to. Row
-- level security, forced, then gives them no row, and no error: a login left
-- out of tenancy_app when an application moved to pg_tenancy, or a
-- background job's, "works" and does nothing (migration review of 1.22).
-- Grants to PUBLIC are left out (they name no one). Invoker's rights: the
-- protected tables the caller sees.
CREATE FUNCTION tenancy.check_protected_grantees()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT 'warning', format('role %s', quote_ident(r.rolname)),
       format('%s holds %s on %s, a protected table, but is not a member of tenancy_app and no policy on the table applies to it: it reads and writes no row there, without an error',
              quote_ident(r.rolname), string_agg(DISTINCT g.privilege_type, ', '), g.relid::regclass),
       format('GRANT tenancy_app TO %I; -- if it is one of the application''s; otherwise REVOKE ALL ON %s FROM %I, or give it a policy of its own',
              r.rolname, g.relid::regclass, r.rolname)
FROM (SELECT p.relid, c.relowner, a.grantee, a.privilege_type
      FROM tenancy.protected_tables p
      JOIN pg_class c ON c.oid = p.relid
      CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')) g
JOIN pg_roles r ON r.oid = g.grantee
WHERE g.grantee <> g.relowner
  AND NOT r.rolsuper AND NOT r.rolbypassrls
  AND NOT pg_has_role(r.oid, 'tenancy_app', 'MEMBER')
  AND NOT EXISTS (SELECT FROM pg_policy pol
                  WHERE pol.polrelid = g.relid
                    AND (0::oid = ANY (pol.polroles)
                         OR EXISTS (SELECT FROM unnest(pol.polroles) AS pr(oid)
                                    WHERE pg_has_role(r.oid, pr.oid, 'MEMBER'))))
GROUP BY r.rolname, g.relid
ORDER BY r.rolname, g.relid::regclass::text
$$;
COMMENT ON FUNCTION tenancy.check_protected_grantees() IS
    'Finding (25) of tenancy.check(): roles granted a protected table that no policy on it admits (not members of tenancy_app).';
GRANT EXECUTE ON FUNCTION tenancy.check_protected_grantees() TO PUBLIC;

-- check() gains this piece and finding 24's (20_check_and_protect.sql).
-- Its body is SQL-standard (BEGIN ATOMIC): replace_in_function works on the
-- text PostgreSQL deparses it to.
SELECT tenancy.replace_in_function('tenancy.check()',
    $old$    FROM tenancy.check_signing_keys() check_signing_keys(severity, object, finding, fix);
END$old$,
    $new$    FROM tenancy.check_signing_keys() check_signing_keys(severity, object, finding, fix)
 UNION ALL
  SELECT * FROM tenancy.check_organization_owners()
 UNION ALL
  SELECT * FROM tenancy.check_protected_grantees();
END$new$);
