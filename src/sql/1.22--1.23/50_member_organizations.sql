-- The organizations a user belongs to, for the application's organization
-- picker after sign-in, before it can set a context: without one,
-- organizations and members show no rows (or 42501 under
-- tenancy.require_context), and each application wrote a SECURITY DEFINER
-- function of its own, which under tenancy.require_signed_context had to
-- check the token itself (migration review of 1.22). Active memberships
-- only (a deactivated member cannot get a context), by name.
--   member_organizations(user_id)          the user the application names, as
--                                          set_context trusts it to; refused
--                                          where require_signed_context is on;
--   member_organizations_signed(token)     the user a signed token proves, as
--                                          set_context_signed proves it.
CREATE FUNCTION tenancy.verified_token_user(token text)
    RETURNS uuid
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'tenancy_verified_token_user';
REVOKE ALL ON FUNCTION tenancy.verified_token_user(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.verified_token_user(text) IS
    'Internal (tenancy.member_organizations_signed): the user a context token proves, checked as set_context_signed checks it (28000 otherwise).';

CREATE FUNCTION tenancy.refuse_named_user(what text, instead text)
    RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'tenancy_refuse_named_user';
REVOKE ALL ON FUNCTION tenancy.refuse_named_user(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.refuse_named_user(text, text) IS
    'Internal (member_organizations): 42501 where tenancy.require_signed_context is on, as set_context() is refused.';

CREATE FUNCTION tenancy.organizations_of_member(member uuid)
    RETURNS TABLE (organization_id uuid, slug text, name text, role tenancy.member_role)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT o.id, o.slug, o.name, m.role
FROM tenancy.members m JOIN tenancy.organizations o ON o.id = m.organization_id
WHERE m.user_id = member AND m.deactivated_at IS NULL
ORDER BY o.name, o.id
$$;
REVOKE ALL ON FUNCTION tenancy.organizations_of_member(uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.organizations_of_member(uuid) IS
    'Internal (member_organizations, member_organizations_signed): a user''s active memberships with their organizations, read as the caller (the extension''s owner for those two).';

CREATE FUNCTION tenancy.member_organizations(user_id uuid)
    RETURNS TABLE (organization_id uuid, slug text, name text, role tenancy.member_role)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'user_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- As set_context() is refused: the login must prove its users. Asked of
    -- the library, whose setting the login cannot change (before it is
    -- loaded, the setting is a placeholder anyone may SET).
    PERFORM tenancy.refuse_named_user('tenancy.member_organizations()',
                                      'tenancy.member_organizations_signed(token)');
    RETURN QUERY SELECT * FROM tenancy.organizations_of_member(user_id);
END
$$;
REVOKE ALL ON FUNCTION tenancy.member_organizations(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.member_organizations(uuid) TO tenancy_app;
COMMENT ON FUNCTION tenancy.member_organizations(uuid) IS
    'The organizations a user is an active member of (id, slug, name, role), for choosing one before set_context; needs no context; refused where tenancy.require_signed_context is on.';

CREATE FUNCTION tenancy.member_organizations_signed(token text)
    RETURNS TABLE (organization_id uuid, slug text, name text, role tenancy.member_role)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    member uuid;
BEGIN
    IF token IS NULL THEN
        RAISE EXCEPTION 'token must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- On its own: a refused token's error then shows no query as its CONTEXT.
    member := tenancy.verified_token_user(token);
    RETURN QUERY SELECT * FROM tenancy.organizations_of_member(member);
END
$$;
REVOKE ALL ON FUNCTION tenancy.member_organizations_signed(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.member_organizations_signed(text) TO tenancy_app;
COMMENT ON FUNCTION tenancy.member_organizations_signed(text) IS
    'The organizations the user a signed context token proves is an active member of (id, slug, name, role), for choosing one before set_context_signed; needs no context.';
