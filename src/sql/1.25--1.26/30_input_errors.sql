-- Two refusals that said too much or the wrong thing (review of 1.25's errors).

-- The sign-up's slug refusal quoted the whole slug: a 10 MB slug from a form
-- made a 10 MB message, in the client's error and in the server log. It quotes
-- the first 63 characters (the longest valid slug) and "..." after them.
SELECT tenancy.replace_in_function('tenancy.insert_organization(text, text, uuid)',
    $old$        RAISE EXCEPTION 'invalid organization slug "%"', slug
$old$,
    $new$        RAISE EXCEPTION 'invalid organization slug "%"', CASE WHEN length(slug) > 63 THEN left(slug, 63) || '...' ELSE slug END
$new$);

-- unprotect() of an OID that names no relation said "… is not protected by
-- pg_tenancy" (22023), where protect() says 42P01 since 1.25, as PostgreSQL
-- does of a missing relation. On the refusal's own line: the line numbers of
-- the function's CONTEXT lines stay.
SELECT tenancy.replace_in_function('tenancy.unprotect(regclass)',
    $old$        RAISE EXCEPTION '% is not protected by pg_tenancy', tbl USING ERRCODE = '22023';
$old$,
    $new$        IF NOT EXISTS (SELECT FROM pg_class WHERE oid = tbl) THEN RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01'; END IF; RAISE EXCEPTION '% is not protected by pg_tenancy', tbl USING ERRCODE = '22023';
$new$);
