-------------------------------------------------------------------------------
-- Types and the tenant context (src/context.cpp).
-------------------------------------------------------------------------------
CREATE TYPE tenancy.member_role AS ENUM ('owner', 'admin', 'teacher', 'student');

-- The getters are what every policy calls, once per row where no index is
-- used: C, STABLE, PARALLEL SAFE (parallel workers inherit the context) and
-- LEAKPROOF (they read no argument, so they cannot leak a row).
CREATE FUNCTION tenancy.current_org_id() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE LEAKPROOF
    AS 'MODULE_PATHNAME', 'tenancy_current_org_id';

CREATE FUNCTION tenancy.current_user_id() RETURNS uuid
    LANGUAGE C STABLE PARALLEL SAFE LEAKPROOF
    AS 'MODULE_PATHNAME', 'tenancy_current_user_id';

CREATE FUNCTION tenancy.current_member_role() RETURNS tenancy.member_role
    LANGUAGE C STABLE PARALLEL SAFE LEAKPROOF
    AS 'MODULE_PATHNAME', 'tenancy_current_member_role';

-- The membership check reads tenancy.members through its primary key
-- directly (C), past RLS by construction: no SECURITY DEFINER needed.
CREATE FUNCTION tenancy.set_context(org_id uuid, user_id uuid)
    RETURNS tenancy.member_role
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'tenancy_set_context';

CREATE FUNCTION tenancy.set_context(org_id uuid, user_id uuid, is_local boolean)
    RETURNS tenancy.member_role
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'tenancy_set_context';

CREATE FUNCTION tenancy.clear_context() RETURNS void
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'tenancy_clear_context';

COMMENT ON FUNCTION tenancy.set_context(uuid, uuid) IS
    'Sets the tenant context for the current transaction after checking membership; returns the member''s role.';
COMMENT ON FUNCTION tenancy.set_context(uuid, uuid, boolean) IS
    'Sets the tenant context; is_local => false keeps it for the session.';
