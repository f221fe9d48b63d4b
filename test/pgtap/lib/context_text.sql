-- context(): the context as the getters report it, 'org/user/role', with
-- NULL parts spelled NULL (never '').
CREATE FUNCTION pg_temp.context() RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(tenancy.current_org_id()::text, 'NULL') || '/'
        || coalesce(tenancy.current_user_id()::text, 'NULL') || '/'
        || coalesce(tenancy.current_member_role()::text, 'NULL')
$$;
