-------------------------------------------------------------------------------
-- Grants: the least that works. Policies above decide which rows.
-------------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA tenancy FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.current_org_id(), tenancy.current_user_id(),
    tenancy.current_member_role() TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    tenancy.set_context(uuid, uuid),
    tenancy.set_context(uuid, uuid, boolean),
    tenancy.clear_context(),
    tenancy.create_organization(text, text, uuid),
    tenancy.delete_organization(uuid)
    TO tenancy_app;

GRANT SELECT, DELETE ON tenancy.organizations TO tenancy_app;
GRANT UPDATE (slug, name) ON tenancy.organizations TO tenancy_app;
GRANT SELECT, INSERT, DELETE ON tenancy.members TO tenancy_app;
GRANT UPDATE (role, deactivated_at) ON tenancy.members TO tenancy_app;

GRANT EXECUTE ON FUNCTION tenancy.record_file_access(uuid, tenancy.file_action, bigint)
    TO tenancy_app;
-- The app writes file metadata; version and timestamps belong to the triggers.
GRANT SELECT, DELETE ON tenancy.files TO tenancy_app;
GRANT INSERT (organization_id, id, owner_id, path, name, mime_type, size_bytes, checksum,
              visibility)
    ON tenancy.files TO tenancy_app;
GRANT UPDATE (owner_id, path, name, mime_type, size_bytes, checksum, visibility, deleted_at)
    ON tenancy.files TO tenancy_app;
-- Versions and the log are written by the extension only.
GRANT SELECT ON tenancy.file_versions, tenancy.file_access_log TO tenancy_app;

-- Analytics: the app tracks events and reads rollups through the views.
GRANT EXECUTE ON FUNCTION tenancy.track(text, double precision) TO tenancy_app;
GRANT EXECUTE ON FUNCTION
    tenancy.sketch_quantile(bytea, double precision), tenancy.sketch_distinct_count(bytea),
    tenancy.quantile_sketch_merge(bytea, bytea), tenancy.distinct_sketch_merge(bytea, bytea)
    TO PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.quantile_sketch_union(bytea),
    tenancy.distinct_sketch_union(bytea) TO PUBLIC;
-- Direct inserts name kind and value only: organization, user, time and
-- transaction come from the defaults (the context), never from the app.
GRANT SELECT ON tenancy.events TO tenancy_app;
GRANT INSERT (kind, value) ON tenancy.events TO tenancy_app;
GRANT SELECT ON tenancy.event_rollups, tenancy.file_rollups,
    tenancy.event_stats_hourly, tenancy.event_stats_daily,
    tenancy.file_stats_hourly, tenancy.file_stats_daily TO tenancy_app;
