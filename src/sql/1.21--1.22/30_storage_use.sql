-- What an organization stores, for the storage provider's quota check at
-- an upload. The README's recipe (sum(size_bytes) in an owner's or admin's
-- context) could not be followed in the uploader's own request: a student
-- or teacher sees only some of the files, and taking an admin's context is
-- impersonation (app developer review of 1.21). Any member of the context's
-- organization gets the organization's totals, and nothing about another
-- organization. With lock => true it also locks the organization's row
-- (FOR NO KEY UPDATE) to the end of the transaction, so that uploads that
-- check and insert in one transaction take turns and cannot both pass the
-- check; file writes (FOR KEY SHARE) do not wait for it.
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
        PERFORM FROM tenancy.organizations o WHERE o.id = org FOR NO KEY UPDATE;
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
    'The context''s organization: its storage quota, the bytes of its files (soft-deleted ones too) and of their superseded versions; lock => true locks its row to the end of the transaction, for a quota check and an upload that take turns.';
