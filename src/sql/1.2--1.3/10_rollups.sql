-------------------------------------------------------------------------------
-- The rollup tables lose their foreign keys to organizations. run_rollups is
-- their only writer; the key's check was a query per bucket row, a fifth of a
-- run that writes tens of thousands of buckets. What the key did is done per
-- run and per organization instead (src/rollups.cpp, src/file_audit.cpp):
--   - run_rollups locks the organizations it writes for (FOR KEY SHARE, in
--     one statement), and skips the buckets of one that is gone;
--   - deleting an organization deletes its rollups in organizations_audit_cleanup,
--     on the latest snapshot as the key's ON DELETE CASCADE did, so a run that
--     committed meanwhile leaves nothing behind;
--   - TRUNCATE of organizations takes the rollups along (below).
-------------------------------------------------------------------------------
ALTER TABLE tenancy.event_rollups DROP CONSTRAINT event_rollups_organization_fkey;
ALTER TABLE tenancy.file_rollups DROP CONSTRAINT file_rollups_organization_fkey;

-- TRUNCATE of organizations takes the rollups along, as the foreign keys
-- did (they made it cascade, or refuse without CASCADE). The function runs as
-- the caller (not SECURITY DEFINER): truncating the rollups takes the
-- caller's own TRUNCATE privilege on them, as the cascade did. ALWAYS, as
-- files_truncate_versions: a TRUNCATE applied under
-- session_replication_role = replica takes them along too.
CREATE FUNCTION tenancy.organizations_truncate_cleanup() RETURNS trigger
    LANGUAGE C AS 'MODULE_PATHNAME', 'tenancy_organizations_audit_cleanup';
CREATE TRIGGER organizations_truncate_cleanup
    AFTER TRUNCATE ON tenancy.organizations
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.organizations_truncate_cleanup();
ALTER TABLE tenancy.organizations ENABLE ALWAYS TRIGGER organizations_truncate_cleanup;

-- A run updates the buckets of the hours it touches again and again (every
-- minute under pg_cron, the current hour's). With room left on each page the
-- new row version stays on it (a HOT update): no index entry per update, and
-- the conflict check of the next run meets no dead entries. Applies to pages
-- written from now on; VACUUM FULL applies it to the existing ones.
ALTER TABLE tenancy.event_rollups SET (fillfactor = 70);
ALTER TABLE tenancy.file_rollups SET (fillfactor = 70);
REVOKE ALL ON FUNCTION tenancy.organizations_truncate_cleanup() FROM PUBLIC;
