-------------------------------------------------------------------------------
-- A context whose user is proven by a signed token (src/context_token.cpp).
--
-- set_context(org_id, user_id) trusts the application's login to have
-- authenticated the user: SQL that runs as the login (an injection) can take
-- any member's context. set_context_signed(org_id, token) takes the user from
-- a JSON Web Token signed (HS256) with a key in context_signing_keys, which
-- the application's login cannot read: the identity provider's token passed
-- through, or one the backend mints per request. With the setting
-- tenancy.require_signed_context on for the login (superuser only, per role),
-- set_context() is refused and a token is the only way to a context.
--
-- Keys are rows, not a setting: a setting from postgresql.conf is a plain
-- placeholder, which any login can SHOW, in a session that has not loaded
-- the library yet. Superusers only (no grants, RLS forced with no policy);
-- the library reads them directly, as it reads members.
-------------------------------------------------------------------------------
CREATE TABLE tenancy.context_signing_keys (
    key_id     text        NOT NULL,
    secret     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT context_signing_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT context_signing_keys_key_id_format CHECK (key_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    -- RFC 7518 §3.2: an HS256 key of at least 256 bits.
    CONSTRAINT context_signing_keys_secret_length
        CHECK (octet_length(secret) BETWEEN 32 AND 1024)
);

ALTER TABLE tenancy.context_signing_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.context_signing_keys FORCE ROW LEVEL SECURITY;
REVOKE ALL ON tenancy.context_signing_keys FROM PUBLIC;

-- A restore without them would refuse every token.
SELECT pg_catalog.pg_extension_config_dump('tenancy.context_signing_keys', '');

COMMENT ON TABLE tenancy.context_signing_keys IS
    'HS256 keys that sign context tokens (tenancy.set_context_signed); superusers only.';

CREATE FUNCTION tenancy.set_context_signed(org_id uuid, token text, is_local boolean DEFAULT true)
    RETURNS tenancy.member_role
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'tenancy_set_context_signed';
REVOKE ALL ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) TO tenancy_app;

COMMENT ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) IS
    'Sets the tenant context for the user a signed token (HS256 JWT, claim sub) proves, after checking membership; returns the role.';
