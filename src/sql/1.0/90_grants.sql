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
