-------------------------------------------------------------------------------
-- storage_use(lock => true) took an advisory lock on a key the README gave
-- (a hash of 'pg_tenancy storage_use ' and the organization's id). Any
-- session could take that key for any organization: it held up that
-- school's quota checks, and so its uploads, for as long as it liked, and
-- pg_try_advisory_xact_lock told it when the school was uploading (red-team
-- review of 1.24). Now the lock is one no SQL statement can name, taken by
-- the library for the context's organization only. (pg_locks, which every
-- role reads, still shows it: one who knows an organization's id can tell
-- when it checks its quota.)
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.lock_context_storage()
    RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_lock_context_storage';
REVOKE ALL ON FUNCTION tenancy.lock_context_storage() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.lock_context_storage() IS
    'Internal (tenancy.storage_use(lock => true)): the context''s organization''s turn to check its quota, to the end of the transaction; an object lock of tenancy.organizations that no SQL statement names.';

SELECT tenancy.replace_in_function('tenancy.storage_use(boolean)',
    $old$        PERFORM pg_advisory_xact_lock(hashtextextended('pg_tenancy storage_use ' || org::text, 0));
$old$,
    $new$        PERFORM tenancy.lock_context_storage();
$new$);
