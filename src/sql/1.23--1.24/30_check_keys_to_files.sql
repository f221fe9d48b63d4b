-------------------------------------------------------------------------------
-- check() finding 28 (red-team review of 1.23): a foreign key from a table
-- the application writes to tenancy.files. PostgreSQL checks a key past row
-- level security, so a member who knows the id of a file they may not see
-- (a classmate's private file) learns that it exists from whether the
-- INSERT succeeds (23503 for a made-up id), and, with ON DELETE NO ACTION or
-- RESTRICT, keeps its owner from deleting it. Finding 18 suggests keys
-- paired on the tenant column; they keep organizations apart, but files are
-- finer than the organization.
--
-- Gone once the table has a RESTRICTIVE policy for INSERT (or ALL) whose
-- WITH CHECK reads tenancy.files (under the caller's policies: only visible
-- files pass) and the key's ON DELETE is CASCADE, SET NULL or SET DEFAULT.
-- A warning whose fix is the policy and the key's action to give.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.check_keys_to_files()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
WITH keys AS (
    SELECT k.conname, k.conrelid, k.confdeltype,
           -- The referencing column of files.id.
           (SELECT a.attname FROM unnest(k.conkey, k.confkey) u(mine, theirs)
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.mine
            JOIN pg_attribute f ON f.attrelid = k.confrelid AND f.attnum = u.theirs
            WHERE f.attname = 'id') AS file_column,
           EXISTS (SELECT FROM pg_policy p
                   WHERE p.polrelid = k.conrelid AND NOT p.polpermissive
                     AND p.polcmd IN ('a', '*')
                     AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%tenancy.files%') AS checked
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE k.contype = 'f' AND k.confrelid = 'tenancy.files'::regclass
      AND n.nspname <> 'tenancy'
      AND has_table_privilege('tenancy_app', k.conrelid, 'INSERT, UPDATE')
)
SELECT 'warning', conrelid::regclass::text,
       format('foreign key %I references tenancy.files, which PostgreSQL checks past row level security: a member can tell that a file they may not see exists by referencing its id%s',
              conname,
              CASE WHEN confdeltype IN ('a', 'r')
                   THEN ', and keep its owner from deleting it (ON DELETE '
                        || CASE confdeltype WHEN 'a' THEN 'NO ACTION' ELSE 'RESTRICT' END || ')'
                   ELSE '' END),
       concat_ws(' ',
           CASE WHEN NOT checked AND file_column IS NOT NULL
                THEN format('CREATE POLICY %I ON %s AS RESTRICTIVE FOR INSERT TO tenancy_app WITH CHECK (%I IS NULL OR EXISTS (SELECT FROM tenancy.files f WHERE f.organization_id = tenancy.current_org_id() AND f.id = %I));',
                            left(conname, 50) || '_visible', conrelid::regclass, file_column, file_column) END,
           CASE WHEN confdeltype IN ('a', 'r')
                THEN format('-- and give %I ON DELETE CASCADE (or SET NULL)', conname) END)
FROM keys
WHERE NOT checked OR confdeltype IN ('a', 'r')
ORDER BY 2, 3
$$;
COMMENT ON FUNCTION tenancy.check_keys_to_files() IS
    'Finding (28) of tenancy.check(): foreign keys to tenancy.files from tables the application writes, which tell members of files they may not see.';
GRANT EXECUTE ON FUNCTION tenancy.check_keys_to_files() TO PUBLIC;

-- (check()'s body is SQL-standard: the text replaced is as PostgreSQL
-- deparses it.)
SELECT tenancy.replace_in_function('tenancy.check()',
    $old$    FROM tenancy.check_text_tenant_columns() check_text_tenant_columns(severity, object, finding, fix);
END$old$,
    $new$    FROM tenancy.check_text_tenant_columns() check_text_tenant_columns(severity, object, finding, fix)
 UNION ALL
  SELECT * FROM tenancy.check_keys_to_files();
END$new$);
