-- protect() called a materialized view "a view", with a view's hint
-- (security_invoker), which a materialized view does not have: it holds the
-- rows its owner read when it was refreshed, under no row level security.
SELECT tenancy.replace_in_function('tenancy.protect(regclass,name)',
    $old$    IF rel.relkind IN ('v', 'm') THEN
        RAISE EXCEPTION '% is a view; protect the tables it reads', tbl
            USING ERRCODE = '42809',
                  HINT = 'Views read under the caller''s policies with security_invoker = true.';
    END IF;
$old$,
    $new$    IF rel.relkind = 'v' THEN
        RAISE EXCEPTION '% is a view; protect the tables it reads', tbl
            USING ERRCODE = '42809',
                  HINT = 'Views read under the caller''s policies with security_invoker = true.';
    END IF;
    IF rel.relkind = 'm' THEN
        RAISE EXCEPTION '% is a materialized view; protect the tables it reads', tbl
            USING ERRCODE = '42809',
                  HINT = 'A materialized view holds the rows its owner read, under no row level '
                         'security: grant it to no application role (check() reports one it can read).';
    END IF;
$new$);
