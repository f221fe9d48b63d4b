-------------------------------------------------------------------------------
-- An UPDATE that sets the role of the last active owner to NULL was refused
-- as a demotion ("cannot remove, demote or deactivate the last owner", 42501)
-- before the NOT NULL constraint could say what was wrong (23502), which it
-- says for every other member (review of 1.25's errors). The guard now
-- lets a NULL role through to the constraint, which refuses it after the
-- BEFORE triggers; the rest is 1.4's definition, line for line (the line
-- numbers of its CONTEXT lines are unchanged).
-------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.members_guard() RETURNS trigger
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
        IF NEW.role IS NULL OR (NEW.role = 'owner' AND NEW.deactivated_at IS NULL) THEN
            RETURN NEW;
        END IF;
    END IF;
    IF OLD.role <> 'owner' OR OLD.deactivated_at IS NOT NULL THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;

    -- An active owner is being removed, demoted or deactivated. NO KEY
    -- UPDATE: guards take turns and a deletion waits, but the KEY SHARE locks
    -- of transactions writing events (below) do not block it.
    SELECT true INTO org_exists FROM tenancy.organizations
        WHERE id = OLD.organization_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        -- The organization itself is being deleted (cascade): let it go.
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    PERFORM FROM tenancy.members
        WHERE organization_id = OLD.organization_id AND user_id <> OLD.user_id
          AND role = 'owner' AND deactivated_at IS NULL
        FOR SHARE;
    GET DIAGNOSTICS other_owners = ROW_COUNT;
    IF other_owners = 0 THEN
        RAISE EXCEPTION 'cannot remove, demote or deactivate the last owner of an organization'
            USING ERRCODE = '42501',
                  HINT = 'Make another member owner first, or delete the organization.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
