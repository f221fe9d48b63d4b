-------------------------------------------------------------------------------
-- Sign-up where the login must prove its users (red-team review of 1.23):
-- under tenancy.require_signed_context, set_context() and
-- member_organizations() were refused, but create_organization() still made
-- whichever user the application named the owner of a new organization,
-- which then showed in that user's organization picker. It is refused there
-- too now, and create_organization_signed(slug, name, token) makes the user a
-- token proves the owner, the token checked as set_context_signed checks it.
-------------------------------------------------------------------------------

-- The sign-up itself, as create_organization() did it until 1.24. Internal:
-- the two sign-up functions run it as the extension's owner.
CREATE FUNCTION tenancy.insert_organization(slug text, name text, owner_id uuid)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id uuid;
BEGIN
    IF slug !~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' THEN
        RAISE EXCEPTION 'invalid organization slug "%"', slug
            USING ERRCODE = '22023',
                  HINT = 'Use 1 to 63 lowercase letters, digits and inner hyphens.';
    END IF;
    IF length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must have 1 to 200 characters'
            USING ERRCODE = '22023';
    END IF;
    IF btrim(name, E' \t\n\r\f\013') = '' THEN
        RAISE EXCEPTION 'organization name must not be blank'
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO tenancy.organizations AS o (slug, name)
        VALUES (insert_organization.slug, insert_organization.name)
        RETURNING o.id INTO new_id;
    INSERT INTO tenancy.members (organization_id, user_id, role)
        VALUES (new_id, owner_id, 'owner');
    RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION tenancy.insert_organization(text, text, uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.insert_organization(text, text, uuid) IS
    'Internal (create_organization, create_organization_signed): checks the slug and name, inserts the organization and its first owner, returns its id.';

CREATE OR REPLACE FUNCTION tenancy.create_organization(slug text, name text, owner_id uuid)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF slug IS NULL OR name IS NULL OR owner_id IS NULL THEN
        RAISE EXCEPTION 'slug, name and owner_id must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- As set_context() is refused: the login must prove its users (1.24).
    PERFORM tenancy.refuse_named_user('tenancy.create_organization()',
                                      'tenancy.create_organization_signed(slug, name, token)');
    RETURN tenancy.insert_organization(slug, name, owner_id);
END
$$;
COMMENT ON FUNCTION tenancy.create_organization(text, text, uuid) IS
    'Sign-up: creates an organization with its owner; returns its id. Needs no context; refused where tenancy.require_signed_context is on.';

CREATE FUNCTION tenancy.create_organization_signed(slug text, name text, token text)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    owner_id uuid;
BEGIN
    IF slug IS NULL OR name IS NULL OR token IS NULL THEN
        RAISE EXCEPTION 'slug, name and token must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    -- On its own: a refused token's error then shows no query as its CONTEXT.
    owner_id := tenancy.verified_token_user(token);
    RETURN tenancy.insert_organization(slug, name, owner_id);
END
$$;
REVOKE ALL ON FUNCTION tenancy.create_organization_signed(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.create_organization_signed(text, text, text) TO tenancy_app;
COMMENT ON FUNCTION tenancy.create_organization_signed(text, text, text) IS
    'Sign-up with a context token: creates an organization whose first owner is the user the token proves (checked as set_context_signed checks it); returns its id. Needs no context.';
