-------------------------------------------------------------------------------
-- Identity providers publish their token keys as a JWK Set (RFC 7517, the
-- document at the "jwks_uri" of their discovery document), not in PEM.
-- jwks_keys() turns one into rows for context_signing_keys
-- (src/json_web_keys.cpp): the RS256 and ES256 signing keys, each with its
-- "kid" as key_id (the RFC 7638 thumbprint when it has none, or one the
-- table would refuse), which tokens name in their header and
-- set_context_signed tries first. Keys for other uses in the set
-- (encryption, other algorithms) are passed over; a key meant to sign that
-- cannot serve (RSA under 2048 bits) is passed over with a WARNING naming
-- it; a private or secret key, and one JWK given alone that cannot serve,
-- are refused (22023).
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.jwks_keys(jwks jsonb)
    RETURNS TABLE (key_id text, algorithm text, public_key text)
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3
    AS 'MODULE_PATHNAME', 'tenancy_jwks_keys';
REVOKE ALL ON FUNCTION tenancy.jwks_keys(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.jwks_keys(jsonb) IS
    'The RS256 and ES256 signing keys of a JWK Set (or one JWK) as rows for tenancy.context_signing_keys: key_id (the kid), algorithm, public_key in PEM.';

-- Key ids are the providers' "kid"s now: Cognito's are standard base64
-- ("+", "/", "="). The new format is a superset of 1.15's, so existing rows
-- pass.
ALTER TABLE tenancy.context_signing_keys
    DROP CONSTRAINT context_signing_keys_key_id_format,
    ADD CONSTRAINT context_signing_keys_key_id_format CHECK (key_id ~ '^[A-Za-z0-9._+/=-]{1,64}$');
