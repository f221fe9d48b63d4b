-- What an organization stores, for the storage provider's quota check at
-- an upload. The README's recipe (sum(size_bytes) in an owner's or admin's
-- context) could not be followed in the uploader's own request: a student
-- or teacher sees only some of the files, and taking an admin's context is
-- impersonation (app developer review of 1.21). Any member of the context's
-- organization gets the organization's totals, and nothing about another
-- organization. With lock => true it also takes a transaction-level
-- advisory lock keyed by the organization (a hash of a text of its own, so
-- that no other waits on it: not the organization's row, which a student
-- would then hold against its owners' updates and membership changes), so
-- that uploads that check and insert in one transaction take turns and
-- cannot both pass the check. Under REPEATABLE READ the sums would come
-- from the snapshot taken before the lock was granted, which can miss
-- another upload's commit: refused there (SERIALIZABLE reports such a
-- conflict itself, 40001).
CREATE FUNCTION tenancy.storage_use(lock boolean DEFAULT false)
    RETURNS TABLE (quota_bytes bigint, file_bytes numeric, version_bytes numeric)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    org constant uuid := tenancy.current_org_id();
BEGIN
    IF lock IS NULL THEN
        RAISE EXCEPTION 'lock must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF org IS NULL THEN
        RAISE EXCEPTION 'no tenant context is set for tenancy.storage_use()'
            USING ERRCODE = '42501',
                  HINT = 'Set it at the start of the transaction, in a statement of its own: SELECT tenancy.set_context(org_id, user_id), or tenancy.set_context_signed(org_id, token).';
    END IF;
    IF lock THEN
        IF current_setting('transaction_isolation') = 'repeatable read' THEN
            RAISE EXCEPTION 'tenancy.storage_use(lock => true) cannot serve under REPEATABLE READ'
                USING ERRCODE = '0A000',
                      DETAIL = 'The transaction''s snapshot was taken before the lock was granted: it may miss an upload committed meanwhile.',
                      HINT = 'Check the quota in a READ COMMITTED transaction (the default), or SERIALIZABLE and retry on 40001.';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtextextended('pg_tenancy storage_use ' || org::text, 0));
    END IF;
    RETURN QUERY
    SELECT o.storage_quota_bytes,
           (SELECT coalesce(sum(f.size_bytes), 0) FROM tenancy.files f
            WHERE f.organization_id = org),
           (SELECT coalesce(sum(v.size_bytes), 0) FROM tenancy.file_versions v
            WHERE v.organization_id = org)
    FROM tenancy.organizations o WHERE o.id = org;
END
$$;
REVOKE ALL ON FUNCTION tenancy.storage_use(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.storage_use(boolean) TO tenancy_app;
COMMENT ON FUNCTION tenancy.storage_use(boolean) IS
    'The context''s organization: its storage quota, the bytes of its files (soft-deleted ones too) and of their superseded versions; lock => true takes an advisory lock keyed by the organization to the end of the transaction, for a quota check and an upload that take turns.';
