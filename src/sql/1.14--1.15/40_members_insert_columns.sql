-------------------------------------------------------------------------------
-- The application adds members naming who, where and in which role; when is
-- the database's (from a review of bad input). Until 1.15 INSERT was granted
-- on every column of members, so the application could write any created_at
-- or updated_at (an 'infinity' too), where files and events have column
-- grants. ON CONFLICT … DO UPDATE still needs only UPDATE (role,
-- deactivated_at).
-------------------------------------------------------------------------------
REVOKE INSERT ON tenancy.members FROM tenancy_app;
GRANT INSERT (organization_id, user_id, role, deactivated_at) ON tenancy.members TO tenancy_app;
