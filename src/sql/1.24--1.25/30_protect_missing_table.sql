-- protect() of an OID that names no relation (999999::oid::regclass) said
-- that its tenant column did not exist (42703): now 42P01, as PostgreSQL says
-- of a missing relation (crash hunt of 1.24).
SELECT tenancy.replace_in_function('tenancy.protect(regclass, name)',
    $old$    SELECT * INTO rel FROM pg_class WHERE oid = tbl;
$old$,
    $new$    SELECT * INTO rel FROM pg_class WHERE oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
$new$);
