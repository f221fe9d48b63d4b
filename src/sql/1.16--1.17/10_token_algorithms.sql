-------------------------------------------------------------------------------
-- More of the algorithms identity providers sign with: PS256 (RSA-PSS:
-- Keycloak, Okta, Auth0 and ForgeRock offer it), ES384 (ECDSA on P-384) and
-- EdDSA (Ed25519 or Ed448, RFC 8037). A key still serves one algorithm: an
-- RSA key in an RS256 row verifies no PS256 token (the same key under both
-- takes two rows). The library (src/core/token_signature.cpp) knows them; the
-- table's check lets them in. Existing rows pass the wider check.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.context_signing_keys
    DROP CONSTRAINT context_signing_keys_algorithm,
    ADD CONSTRAINT context_signing_keys_algorithm
        CHECK (algorithm IN ('HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'));

COMMENT ON TABLE tenancy.context_signing_keys IS
    'Keys that verify context tokens (tenancy.set_context_signed): HS256 secrets, RS256/PS256/ES256/ES384/EdDSA public keys; superusers only.';
COMMENT ON FUNCTION tenancy.context_public_key_usable(text, text) IS
    'Whether a PEM public key can verify context tokens of RS256, PS256, ES256, ES384 or EdDSA; raises 22023 saying why not.';
COMMENT ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) IS
    'Sets the tenant context for the user a signed token (JWT: HS256, RS256, PS256, ES256, ES384 or EdDSA; claim sub) proves, after checking membership; returns the role.';
COMMENT ON FUNCTION tenancy.jwks_keys(jsonb) IS
    'The signing keys of a JWK Set (or one JWK: RSA, EC on P-256 or P-384, Ed25519 or Ed448) as rows for tenancy.context_signing_keys: key_id (the kid), algorithm, public_key in PEM.';

-- Finding (23) of check(), for every public-key algorithm: an identity
-- provider's key of any of them signs its other applications' tokens too.
CREATE OR REPLACE FUNCTION tenancy.check_signing_keys()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- As check_signed_contexts: the current role's flag, and two statements.
    IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'warning'::text, format('context signing key %s', k.key_id),
           format('the %s key names no audience: set_context_signed() takes every token it '
                  'verifies that has a subject and an expiry, also the identity provider''s '
                  'tokens for its other applications', k.algorithm),
           format('UPDATE tenancy.context_signing_keys SET audience = ''<this API''''s audience>'''
                  '%s WHERE key_id = %L',
                  CASE WHEN k.issuer IS NULL THEN ', issuer = ''<the provider''''s issuer>''' ELSE '' END,
                  k.key_id)
    FROM tenancy.context_signing_keys k
    WHERE k.algorithm <> 'HS256' AND k.audience IS NULL
    ORDER BY k.key_id;
END
$$;
COMMENT ON FUNCTION tenancy.check_signing_keys() IS
    'Finding (23) of tenancy.check(): public-key (RS256, PS256, ES256, ES384, EdDSA) context signing keys that name no audience.';
