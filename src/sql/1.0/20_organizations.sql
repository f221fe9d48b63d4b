-------------------------------------------------------------------------------
-- Organizations and members. Keys of tenant tables lead with organization_id
-- so the schema can later be distributed by tenant.
-------------------------------------------------------------------------------
CREATE TABLE tenancy.organizations (
    id                  uuid        NOT NULL DEFAULT gen_random_uuid(),
    slug                text        NOT NULL,
    name                text        NOT NULL,
    storage_quota_bytes bigint      NOT NULL DEFAULT 10737418240,  -- 10 GiB
    event_retention     interval    NOT NULL DEFAULT interval '365 days',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_pkey PRIMARY KEY (id),
    CONSTRAINT organizations_slug_key UNIQUE (slug),
    CONSTRAINT organizations_slug_format
        CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
    CONSTRAINT organizations_name_length CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT organizations_quota_nonnegative CHECK (storage_quota_bytes >= 0),
    CONSTRAINT organizations_retention_positive CHECK (event_retention > interval '0')
);
COMMENT ON TABLE tenancy.organizations IS 'One row per tenant (school).';

CREATE TABLE tenancy.members (
    organization_id uuid                NOT NULL,
    user_id         uuid                NOT NULL,
    role            tenancy.member_role NOT NULL,
    created_at      timestamptz         NOT NULL DEFAULT now(),
    updated_at      timestamptz         NOT NULL DEFAULT now(),
    deactivated_at  timestamptz,
    CONSTRAINT members_pkey PRIMARY KEY (organization_id, user_id),
    CONSTRAINT members_organization_fkey FOREIGN KEY (organization_id)
        REFERENCES tenancy.organizations (id) ON DELETE CASCADE
);
-- set_context looks members up by (organization_id, user_id): the primary key.
-- "Which schools is this user in" is the login screen's question:
CREATE INDEX members_user_idx ON tenancy.members (user_id);
COMMENT ON TABLE tenancy.members IS
    'Who belongs to which organization, with which role. deactivated_at set: no context can be set.';

-- Keeps updated_at honest and the organization from losing its last owner.
-- SECURITY DEFINER so that the count sees every owner row, not only those the
-- caller's policies show. The organization row is locked first, so two
-- owners demoting each other at once cannot both succeed.
CREATE FUNCTION tenancy.members_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    org_exists boolean;
    other_owners bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.organization_id <> OLD.organization_id OR NEW.user_id <> OLD.user_id THEN
            RAISE EXCEPTION 'a membership cannot move to another organization or user'
                USING ERRCODE = '42501';
        END IF;
        NEW.updated_at := now();
        IF NEW.role = 'owner' AND NEW.deactivated_at IS NULL THEN
            RETURN NEW;
        END IF;
    END IF;
    IF OLD.role <> 'owner' OR OLD.deactivated_at IS NOT NULL THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;

    -- An active owner is being removed, demoted or deactivated.
    SELECT true INTO org_exists FROM tenancy.organizations
        WHERE id = OLD.organization_id FOR UPDATE;
    IF NOT FOUND THEN
        -- The organization itself is being deleted (cascade): let it go.
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    SELECT count(*) INTO other_owners FROM tenancy.members
        WHERE organization_id = OLD.organization_id AND user_id <> OLD.user_id
          AND role = 'owner' AND deactivated_at IS NULL;
    IF other_owners = 0 THEN
        RAISE EXCEPTION 'cannot remove, demote or deactivate the last owner of an organization'
            USING ERRCODE = '42501',
                  HINT = 'Make another member owner first, or delete the organization.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE TRIGGER members_guard
    BEFORE UPDATE OR DELETE ON tenancy.members
    FOR EACH ROW EXECUTE FUNCTION tenancy.members_guard();

CREATE FUNCTION tenancy.organizations_touch() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER organizations_touch
    BEFORE UPDATE ON tenancy.organizations
    FOR EACH ROW EXECUTE FUNCTION tenancy.organizations_touch();

-------------------------------------------------------------------------------
-- Policies. Everything tenancy_app can reach has RLS enabled and forced.
-- Without a context current_org_id() is NULL and every policy is false.
-- Role and user getters are wrapped in (SELECT …): each becomes an init plan
-- evaluated once per statement, so a policy costs no function call per row.
-- organization_id = tenancy.current_org_id() stays a plain call: it is the
-- index condition (evaluated once per scan), and planning it evaluates the
-- STABLE getter for the estimate, which loads the library before the
-- executor starts, so the strict-mode check (an executor hook) is in place.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.organizations FORCE ROW LEVEL SECURITY;

CREATE POLICY organizations_select ON tenancy.organizations
    FOR SELECT TO tenancy_app
    USING (id = tenancy.current_org_id());
CREATE POLICY organizations_update ON tenancy.organizations
    FOR UPDATE TO tenancy_app
    USING (id = tenancy.current_org_id()
           AND (SELECT tenancy.current_member_role()) IN ('owner', 'admin'))
    WITH CHECK (id = tenancy.current_org_id());
CREATE POLICY organizations_delete ON tenancy.organizations
    FOR DELETE TO tenancy_app
    USING (id = tenancy.current_org_id() AND (SELECT tenancy.current_member_role()) = 'owner');

ALTER TABLE tenancy.members ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.members FORCE ROW LEVEL SECURITY;

-- Students see their own row and the staff; staff see everyone.
CREATE POLICY members_select ON tenancy.members
    FOR SELECT TO tenancy_app
    USING (organization_id = tenancy.current_org_id()
           AND ((SELECT tenancy.current_member_role()) <> 'student'
                OR user_id = (SELECT tenancy.current_user_id())
                OR role <> 'student'));
-- Admins and owners manage members; only owners touch owner rows.
CREATE POLICY members_insert ON tenancy.members
    FOR INSERT TO tenancy_app
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND (SELECT tenancy.current_member_role()) IN ('owner', 'admin')
                AND (role <> 'owner' OR (SELECT tenancy.current_member_role()) = 'owner'));
CREATE POLICY members_update ON tenancy.members
    FOR UPDATE TO tenancy_app
    USING (organization_id = tenancy.current_org_id()
           AND (SELECT tenancy.current_member_role()) IN ('owner', 'admin')
           AND (role <> 'owner' OR (SELECT tenancy.current_member_role()) = 'owner'))
    WITH CHECK (organization_id = tenancy.current_org_id()
                AND (role <> 'owner' OR (SELECT tenancy.current_member_role()) = 'owner'));
CREATE POLICY members_delete ON tenancy.members
    FOR DELETE TO tenancy_app
    USING (organization_id = tenancy.current_org_id()
           AND (SELECT tenancy.current_member_role()) IN ('owner', 'admin')
           AND (role <> 'owner' OR (SELECT tenancy.current_member_role()) = 'owner'));

-------------------------------------------------------------------------------
-- Organization lifecycle.
-------------------------------------------------------------------------------
-- Sign-up: anyone with tenancy_app may create an organization and becomes
-- (through owner_id) its first owner. SECURITY DEFINER: there is no context
-- yet, so the policies would refuse both inserts.
CREATE FUNCTION tenancy.create_organization(slug text, name text, owner_id uuid)
    RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    new_id uuid;
BEGIN
    IF slug IS NULL OR name IS NULL OR owner_id IS NULL THEN
        RAISE EXCEPTION 'slug, name and owner_id must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF slug !~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$' THEN
        RAISE EXCEPTION 'invalid organization slug "%"', slug
            USING ERRCODE = '22023',
                  HINT = 'Use 1 to 63 lowercase letters, digits and inner hyphens.';
    END IF;
    IF length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must have 1 to 200 characters'
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO tenancy.organizations AS o (slug, name)
        VALUES (create_organization.slug, create_organization.name)
        RETURNING o.id INTO new_id;
    INSERT INTO tenancy.members (organization_id, user_id, role)
        VALUES (new_id, owner_id, 'owner');
    RETURN new_id;
END
$$;

-- Owner only, in that organization's context (a superuser may always).
-- Everything of the organization goes with it (ON DELETE CASCADE).
CREATE FUNCTION tenancy.delete_organization(org_id uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    -- Under RLS the row is visible and deletable only to its owner; any
    -- other case reads as "not found", whether or not the org exists.
    DELETE FROM tenancy.organizations WHERE id = org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'only an owner of organization % can delete it', org_id
            USING ERRCODE = '42501',
                  HINT = 'Set the context to that organization as its owner first.';
    END IF;
END
$$;
