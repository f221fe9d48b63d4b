-- storage_use(lock => true) checked the quota in the transaction's
-- snapshot. Under REPEATABLE READ it was refused (the snapshot was taken
-- before the lock was granted), and SERIALIZABLE was left to report the
-- conflict itself, which it does only when every uploader is SERIALIZABLE:
-- a SERIALIZABLE upload that waited for a READ COMMITTED one summed the
-- bytes without it and stored past the quota (isolation review of 1.22).
-- Now, under either level, the sums are read again as committed now
-- (tenancy.stored_bytes(org, latest => true), the library's: PL/pgSQL reads
-- in the transaction's snapshot only), and a difference is a serialization
-- failure, 40001, to retry, as a unique index reports an insert it cannot
-- see. The check passes when no upload, deletion or version committed in
-- between, the usual case.
CREATE FUNCTION tenancy.stored_bytes(org uuid, latest boolean)
    RETURNS numeric[]
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_stored_bytes';
REVOKE ALL ON FUNCTION tenancy.stored_bytes(uuid, boolean) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.stored_bytes(uuid, boolean) IS
    'Internal (tenancy.storage_use): the bytes of an organization''s files and of their superseded versions, {files, versions}; latest => true: as committed now, past a REPEATABLE READ or SERIALIZABLE snapshot.';

SELECT tenancy.replace_in_function('tenancy.storage_use(boolean)',
    $old$    org constant uuid := tenancy.current_org_id();
$old$,
    $new$    org constant uuid := tenancy.current_org_id();
    stored numeric[];
    committed numeric[];
$new$);
SELECT tenancy.replace_in_function('tenancy.storage_use(boolean)',
    $old$    IF lock THEN
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
$old$,
    $new$    IF lock THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('pg_tenancy storage_use ' || org::text, 0));
    END IF;
    stored := tenancy.stored_bytes(org, false);
    -- (READ UNCOMMITTED is READ COMMITTED in PostgreSQL.)
    IF lock AND current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        committed := tenancy.stored_bytes(org, true);
        IF committed IS DISTINCT FROM stored THEN
            RAISE EXCEPTION 'could not serialize access due to a concurrent change of the organization''s stored bytes'
                USING ERRCODE = '40001',
                      DETAIL = format('This transaction''s snapshot sees %s bytes of files and %s of versions; %s and %s are committed now.',
                                      stored[1], stored[2], committed[1], committed[2]),
                      HINT = 'Retry the transaction (a READ COMMITTED one sees the latest bytes after the lock).';
        END IF;
    END IF;
    RETURN QUERY
    SELECT o.storage_quota_bytes, stored[1], stored[2]
    FROM tenancy.organizations o WHERE o.id = org;
$new$);
