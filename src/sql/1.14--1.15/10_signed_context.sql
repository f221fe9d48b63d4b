-------------------------------------------------------------------------------
-- A context whose user is proven by a signed token (src/context_token.cpp).
--
-- set_context(org_id, user_id) trusts the application's login to have
-- authenticated the user: SQL that runs as the login (an injection) can take
-- any member's context. set_context_signed(org_id, token) takes the user from
-- a JSON Web Token signed (HS256, RS256 or ES256) with a key in
-- context_signing_keys, which the application's login cannot change (nor
-- read: HS256 secrets): the identity provider's token passed through, or one
-- the backend mints per request. With the setting
-- tenancy.require_signed_context on for the login (superuser only, per role),
-- set_context() is refused and a token is the only way to a context.
--
-- Keys are rows, not a setting: a setting from postgresql.conf is a plain
-- placeholder, which any login can SHOW, in a session that has not loaded
-- the library yet. Superusers only (no grants, RLS forced with no policy);
-- the library reads them directly, as it reads members.
-------------------------------------------------------------------------------
-- Whether a public key can verify tokens of an algorithm (an RSA key of
-- 2048 bits or more for RS256, a P-256 key for ES256); raises 22023 saying
-- why not, so that a refused key is explained. The keys' check below.
CREATE FUNCTION tenancy.context_public_key_usable(algorithm text, public_key text)
    RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'tenancy_context_public_key_usable';
REVOKE ALL ON FUNCTION tenancy.context_public_key_usable(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.context_public_key_usable(text, text) IS
    'Whether a PEM public key can verify context tokens of RS256 or ES256; raises 22023 saying why not.';

CREATE TABLE tenancy.context_signing_keys (
    key_id     text        NOT NULL,
    algorithm  text        NOT NULL DEFAULT 'HS256',
    secret     bytea,
    public_key text,
    -- What the key asks of a token's claims beyond its signature (NULL:
    -- nothing): an identity provider signs every application's tokens with
    -- one key, and "iss"/"aud" say which application a token is for.
    issuer     text,
    audience   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT context_signing_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT context_signing_keys_key_id_format CHECK (key_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    CONSTRAINT context_signing_keys_algorithm CHECK (algorithm IN ('HS256', 'RS256', 'ES256')),
    -- HS256 has a shared secret, the others the issuer's public key: a key
    -- serves one algorithm only (a public key is never taken for a secret).
    CONSTRAINT context_signing_keys_material CHECK (
        CASE WHEN algorithm = 'HS256' THEN secret IS NOT NULL AND public_key IS NULL
             ELSE public_key IS NOT NULL AND secret IS NULL END),
    -- RFC 7518 §3.2: an HS256 key of at least 256 bits.
    CONSTRAINT context_signing_keys_secret_length
        CHECK (octet_length(secret) BETWEEN 32 AND 1024),
    -- A PEM text is a public key (or a private one) taken for a secret: a
    -- token "signed" with the published key as its HMAC secret would pass.
    CONSTRAINT context_signing_keys_secret_not_pem
        CHECK (position('\x2d2d2d2d2d424547494e'::bytea IN secret) = 0),
    CONSTRAINT context_signing_keys_public_key
        CHECK (tenancy.context_public_key_usable(algorithm, public_key)),
    -- Printable ASCII without a backslash, as issuers' URLs and audiences
    -- are: a token's claims are compared as text, and a non-ASCII one would
    -- match in one spelling of it and not in another.
    CONSTRAINT context_signing_keys_claims_format
        CHECK (issuer ~ '^[\x20-\x5b\x5d-\x7e]+$' AND length(issuer) <= 1000
               AND audience ~ '^[\x20-\x5b\x5d-\x7e]+$' AND length(audience) <= 1000)
);

ALTER TABLE tenancy.context_signing_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenancy.context_signing_keys FORCE ROW LEVEL SECURITY;
REVOKE ALL ON tenancy.context_signing_keys FROM PUBLIC;

-- A restore without them would refuse every token.
SELECT pg_catalog.pg_extension_config_dump('tenancy.context_signing_keys', '');

COMMENT ON TABLE tenancy.context_signing_keys IS
    'Keys that verify context tokens (tenancy.set_context_signed): HS256 secrets, RS256/ES256 public keys; superusers only.';

CREATE FUNCTION tenancy.set_context_signed(org_id uuid, token text, is_local boolean DEFAULT true)
    RETURNS tenancy.member_role
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'tenancy_set_context_signed';
REVOKE ALL ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) TO tenancy_app;

COMMENT ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) IS
    'Sets the tenant context for the user a signed token (JWT: HS256, RS256 or ES256; claim sub) proves, after checking membership; returns the role.';
