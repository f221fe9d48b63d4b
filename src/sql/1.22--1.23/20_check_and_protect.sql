-------------------------------------------------------------------------------
-- check() and protect() for a DBA moving an application's own tenant tables
-- and hand-written policies to pg_tenancy (migration review of 1.22).
-------------------------------------------------------------------------------

-- Finding (18)'s fix kept a foreign key's ON UPDATE SET NULL or SET DEFAULT
-- as it was. Once the key pairs the tenant columns, such an action sets the
-- tenant column too (PostgreSQL 15 takes a column list for ON DELETE only):
-- a referencing row lost its organization (NULL: no tenant sees it) when the
-- referenced key changed. The fix leaves the action out (NO ACTION) and says
-- why.
SELECT tenancy.replace_in_function('tenancy.protected_key_problems(regclass,name)',
    $old$              CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                 WHEN 'n' THEN ' ON UPDATE SET NULL' WHEN 'd' THEN ' ON UPDATE SET DEFAULT'
                                 ELSE '' END,$old$,
    $new$              CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE'
                                 ELSE '' END,$new$);
SELECT tenancy.replace_in_function('tenancy.protected_key_problems(regclass,name)',
    $old$%s%s%s%s; -- %s needs a key on those columns',$old$,
    $new$%s%s%s%s; -- %s needs a key on those columns%s',$new$);
SELECT tenancy.replace_in_function('tenancy.protected_key_problems(regclass,name)',
    $old$              f.confrelid::regclass)
FROM foreign_keys f$old$,
    $new$              f.confrelid::regclass,
              CASE WHEN f.confupdtype IN ('n', 'd')
                   THEN format('; its ON UPDATE SET %s is left out (NO ACTION): on a key that pairs the tenant columns it would set the tenant column too, and PostgreSQL 15 takes no column list for ON UPDATE',
                               CASE f.confupdtype WHEN 'n' THEN 'NULL' ELSE 'DEFAULT' END)
                   ELSE '' END)
FROM foreign_keys f$new$);

-- protect(): a text tenant column gets the conversion as its hint, and
-- permissive policies of the table that also admit the application are
-- warned of. They add up with the isolation policy (OR): a context of one
-- organization reads and writes what they admit of the others. check()
-- reports them (finding 6), but a migration that protects its tables before
-- it drops their old policies was told nothing until then.
SELECT tenancy.replace_in_function('tenancy.protect(regclass,name)',
    $old$                        format_type(column_type, NULL)
            USING ERRCODE = '42804';$old$,
    $new$                        format_type(column_type, NULL)
            USING ERRCODE = '42804',
                  HINT = format('Convert it first, if its values are uuids: ALTER TABLE %s ALTER COLUMN %I TYPE uuid USING %I::uuid;',
                                tbl, tenant_column, tenant_column);$new$);
SELECT tenancy.replace_in_function('tenancy.protect(regclass,name)',
    $old$        RAISE WARNING '%', con.problem USING HINT = con.hint;
    END LOOP;
$old$,
    $new$        RAISE WARNING '%', con.problem USING HINT = con.hint;
    END LOOP;
    -- (1.23) Permissive policies that apply to the application: to
    -- tenancy_app, PUBLIC, or a role one of its logins belongs to.
    FOR con IN SELECT pol.polname FROM pg_policy pol
               WHERE pol.polrelid = tbl AND pol.polpermissive
                 AND pol.polname <> tenancy.isolation_policy_name()
                 AND (0::oid = ANY (pol.polroles)
                      OR EXISTS (SELECT FROM unnest(pol.polroles) AS r(oid), pg_roles m
                                 WHERE pg_has_role(m.oid, 'tenancy_app', 'MEMBER') AND NOT m.rolsuper
                                   AND pg_has_role(m.oid, r.oid, 'MEMBER')))
               ORDER BY pol.polname LOOP
        RAISE WARNING 'policy "%" on % also admits rows for the application: permissive policies add up, so a context reads and writes what it admits of other organizations', con.polname, tbl
            USING HINT = format('Make it AS RESTRICTIVE (a rule inside the organization), or drop it: DROP POLICY %I ON %s;',
                                con.polname, tbl);
    END LOOP;
$new$);

-- check(): tenant-like uuid columns named in camelCase (an ORM's "orgId",
-- "organizationId", "tenantId", "schoolId") are looked for too (a text one
-- is finding 27's, a warning: a text column of such a name may hold codes
-- rather than organization ids). Finding (5), a missing index, is left out
-- for a table the application cannot reach, as finding (1) has been since
-- 1.10.
SELECT tenancy.replace_in_function('tenancy.check_configuration()',
    $old$          AND attname IN ('organization_id', 'org_id', 'tenant_id', 'school_id')$old$,
    $new$          AND lower(replace(attname, '_', '')) IN ('organizationid', 'orgid', 'tenantid', 'schoolid')$new$);
SELECT tenancy.replace_in_function('tenancy.check_configuration()',
    $old$  -- The log's partitions have indexes of their own: finding (12).
  AND t.oid <> 'tenancy.file_access_log'::regclass$old$,
    $new$  -- The log's partitions have indexes of their own: finding (12).
  AND t.oid <> 'tenancy.file_access_log'::regclass
  -- (1.23) a table the application does not reach is the DBA's own
  AND (t.protected OR t.oid IN (SELECT oid FROM app_reachable))$new$);

-- (24) Organizations without an active owner. The application cannot give
-- them one (only owners touch owner rows) nor delete them: one imported
-- without its owner, or whose owner a superuser removed (the last-owner rule
-- holds for the application's statements). Invoker's rights: the
-- organizations the caller sees (a superuser: all).
CREATE FUNCTION tenancy.check_organization_owners()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT 'warning', format('organization %s (%s)', o.id, o.slug),
       'the organization has no active owner: nobody can add owners or delete it through the application',
       format('INSERT INTO tenancy.members (organization_id, user_id, role) VALUES (%L, ''<the owner''''s user id>'', ''owner''); -- as a superuser; or promote a member: UPDATE tenancy.members SET role = ''owner'' WHERE organization_id = %L AND user_id = ''<its user id>''; or reactivate an owner: UPDATE tenancy.members SET deactivated_at = NULL WHERE organization_id = %L AND role = ''owner'';',
              o.id, o.id, o.id)
FROM tenancy.organizations o
WHERE NOT EXISTS (SELECT FROM tenancy.members m
                  WHERE m.organization_id = o.id AND m.role = 'owner' AND m.deactivated_at IS NULL)
ORDER BY o.slug
$$;
COMMENT ON FUNCTION tenancy.check_organization_owners() IS
    'Finding (24) of tenancy.check(): organizations without an active owner.';
GRANT EXECUTE ON FUNCTION tenancy.check_organization_owners() TO PUBLIC;
