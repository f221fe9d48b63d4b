
-- An HS256, HS384 or HS512 row whose secret is a public key (review of 1.25,
-- h_jwt): the table refused one in PEM ("-----BEGIN",
-- context_signing_keys_secret_not_pem) and took it in any other form: its DER
-- bytes, the PEM's base64 body without its lines (as Keycloak's console shows
-- a realm's public key), hex, or a JSON Web Key. HS256 is the algorithm
-- column's default, so INSERT (key_id, secret) with the identity provider's
-- public key pasted in made such a row, and whoever had the public key
-- (anyone: it is published) signed HS256 tokens for any user with it: the
-- "alg" confusion the library itself never makes. Refused now, with 22023
-- saying which form it is, as public keys are checked.
CREATE FUNCTION tenancy.context_secret_usable(secret bytea)
    RETURNS boolean
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'tenancy_context_secret_usable';
REVOKE ALL ON FUNCTION tenancy.context_secret_usable(bytea) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.context_secret_usable(bytea) IS
    'Whether an HMAC secret of tenancy.context_signing_keys is no public key (in DER, base64, hex, or a JWK); raises 22023 saying which form it is.';

-- A row that already holds one stops the update, naming it: it lets anyone
-- sign tokens for any user, and a constraint added NOT VALID would leave it
-- working.
DO $check$
DECLARE
    k record;
    found text[];
BEGIN
    FOR k IN SELECT s.key_id, s.secret FROM tenancy.context_signing_keys s
             WHERE s.secret IS NOT NULL ORDER BY s.key_id LOOP
        BEGIN
            PERFORM tenancy.context_secret_usable(k.secret);
        EXCEPTION WHEN invalid_parameter_value THEN
            found := found || k.key_id;
        END;
    END LOOP;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'context signing keys hold a public key as their secret: %',
                        array_to_string(found, ', ')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Whoever has the public key (it is published) can sign tokens these keys take, for any user.',
                  HINT = 'Delete these rows, or give each its public key in PEM as public_key, with its algorithm and no secret; then update again.';
    END IF;
END
$check$;

ALTER TABLE tenancy.context_signing_keys
    ADD CONSTRAINT context_signing_keys_secret_not_public_key
        CHECK (tenancy.context_secret_usable(secret));
-- The extension's own, not a DBA's addition.
SELECT tenancy.replace_in_function('tenancy.extension_table_additions()',
    $old$context_signing_keys_public_key,context_signing_keys_claims_format}'),$old$,
    $new$context_signing_keys_public_key,context_signing_keys_claims_format,context_signing_keys_secret_not_public_key}'),$new$);
