-------------------------------------------------------------------------------
-- The rest of RFC 7518 §3.1's signature algorithms: HS384 and HS512 (HMAC
-- with SHA-384 and SHA-512), RS384 and RS512 (RSA PKCS #1 v1.5), PS384 and
-- PS512 (RSA-PSS), ES512 (ECDSA on P-521). Keycloak, Azure AD B2C, Okta and
-- Auth0 let a tenant pick them; a realm set to RS512 or a backend that mints
-- HS512 tokens no longer needs another algorithm for its context tokens.
-- The library (src/core/token_signature.cpp) knows them; the table's checks
-- let them in. Existing rows pass the wider checks.
-------------------------------------------------------------------------------
ALTER TABLE tenancy.context_signing_keys
    DROP CONSTRAINT context_signing_keys_algorithm,
    ADD CONSTRAINT context_signing_keys_algorithm
        CHECK (algorithm IN ('HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384',
                             'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA')),
    -- An HMAC algorithm has a shared secret, the others the issuer's public
    -- key: a key serves one algorithm only (a public key is never taken for
    -- a secret).
    DROP CONSTRAINT context_signing_keys_material,
    ADD CONSTRAINT context_signing_keys_material CHECK (
        CASE WHEN algorithm IN ('HS256', 'HS384', 'HS512') THEN secret IS NOT NULL AND public_key IS NULL
             ELSE public_key IS NOT NULL AND secret IS NULL END),
    -- RFC 7518 §3.2: a key at least as long as the hash's output (HS256 256
    -- bits, HS384 384, HS512 512).
    DROP CONSTRAINT context_signing_keys_secret_length,
    ADD CONSTRAINT context_signing_keys_secret_length
        CHECK (octet_length(secret) BETWEEN CASE algorithm WHEN 'HS384' THEN 48
                                                           WHEN 'HS512' THEN 64
                                                           ELSE 32 END
                                        AND 1024);

COMMENT ON TABLE tenancy.context_signing_keys IS
    'Keys that verify context tokens (tenancy.set_context_signed): HS256/HS384/HS512 secrets, RS256/RS384/RS512/PS256/PS384/PS512/ES256/ES384/ES512/EdDSA public keys; superusers only.';
COMMENT ON FUNCTION tenancy.context_public_key_usable(text, text) IS
    'Whether a PEM public key can verify context tokens of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA; raises 22023 saying why not.';
COMMENT ON FUNCTION tenancy.set_context_signed(uuid, text, boolean) IS
    'Sets the tenant context for the user a signed token (JWT: any JWS algorithm of RFC 7518 but none, or EdDSA; claim sub) proves, after checking membership; returns the role.';
COMMENT ON FUNCTION tenancy.jwks_keys(jsonb) IS
    'The signing keys of a JWK Set (or one JWK: RSA, EC on P-256, P-384 or P-521, Ed25519 or Ed448) as rows for tenancy.context_signing_keys: key_id (the kid), algorithm, public_key in PEM.';

-------------------------------------------------------------------------------
-- Upgrade scripts change a function by one of its lines through this helper
-- instead of restating the whole function: the text replaced must occur
-- exactly once in the installed definition, or the upgrade stops (a DBA
-- changed the function, or it is not the version this script expects).
-- Internal: no grants.
-------------------------------------------------------------------------------
CREATE FUNCTION tenancy.replace_in_function(fn regprocedure, old_text text, new_text text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    definition constant text := pg_get_functiondef(fn);
BEGIN
    IF (length(definition) - length(replace(definition, old_text, ''))) / length(old_text) <> 1 THEN
        RAISE EXCEPTION '% is not the function the extension installed', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restore it from the extension''s scripts before upgrading.';
    END IF;
    EXECUTE replace(definition, old_text, new_text);
END
$$;
REVOKE ALL ON FUNCTION tenancy.replace_in_function(regprocedure, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.replace_in_function(regprocedure, text, text) IS
    'Internal, for upgrade scripts: replaces the one occurrence of a text in a function''s definition (55000 if it occurs other than once).';

-- Finding (23) of check() names every row with a public key: any algorithm
-- but HS256, HS384 and HS512.
SELECT tenancy.replace_in_function('tenancy.check_signing_keys()',
    $old$WHERE k.algorithm <> 'HS256' AND k.audience IS NULL$old$,
    $new$WHERE k.public_key IS NOT NULL AND k.audience IS NULL$new$);
COMMENT ON FUNCTION tenancy.check_signing_keys() IS
    'Finding (23) of tenancy.check(): public-key (RS*, PS*, ES*, EdDSA) context signing keys that name no audience.';
