-- Context tokens signed with PS256, ES384 and EdDSA (1.17; also as RFC 9864
-- names it, Ed25519 and Ed448), and with RS384, RS512, PS384, PS512, ES512,
-- HS384 and HS512 (1.18), keys from a JWK Set. Keys and tokens made once
-- with Python's cryptography (RSA 2048, P-384, Ed25519, Ed448; exp
-- 2100-01-01, issuer and audience named).
\set org '00000000-0000-4000-a000-0000000000d0'
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'org', 'algorithm-school', 'Algorithm School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org', '00000000-0000-4000-b000-0000000000d1', 'owner'),
    (:'org', '00000000-0000-4000-b000-0000000000d3', 'student');
\set ps256_student 'eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.szlKAECZTAWeT9vYT8-T-nx8gXjQdv9J9Sgy1XRyuu3rfv67YcvJClBp5D3Rfmd-jk5JG87jsEYkMot99nKmtoOKYXBVKk4GjKHlJjl1iIsMGSelGXHJ8GSuHr5can4zMg_gTV65KQHIgXDOzCtrj76yT3MlFJEdbBbLv-t2eeh2tD1e4-ZhMw1uPaJ9-61TsbYFjUWfITIYNwSTxssitIqdRjQJWTfHj8nWcNHs2dTT--MpREmtkrmIdNZOO49cEqg8C1uYKVnuk623LynI5mTxfinf0VoFIU7br825RCx420-vwOdXao8JCg_cYaWc2rAm0T04ipuGgea7eFJlRA'
\set rs256_same_key_student 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.n-qaiv7ym_np6cbHxaqeNyMzeL1buulfQD5LraqNXPYLv5A9YW9kpxZMd5JvWJ_zY20pt2_hq9g2wNc0gMtSbM-IveZpvnezGN5d7iO06qL6OYBl5xpFk4DxNLDYuELLfJ9dHRWPDRe9bGZPK_bo9iO6FIBjk2tJcusYkBDYQ_eX4iX3vQAy3xDZwiMuZIMEhY7VGDZAO1r6K0ZcveL8B2NFeCX7u0_gFMU5_4IPIziOeWWPHNsh9UuuVGsQ6X0j0Jjd0V6E0BFqsCiOocjCNTIU6JOrHmy6auqhlodu2EHvkln15czDhpOeSo-hmRIibUylHbhnRzWrw2Mj12aVtw'
\set es384_owner 'eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.CscxXYSI-ks_cyOKTUZ1puFaqwxLB3x661p2vxUzHMNxqCwaOPoxhPHzNtnRbQ53pqWa6XuqcsjOV1Oh9IhRaAApsVQ2NDBp3_iy9vYNcTDn6Uy4APLy6jV67XLafNnK'
\set es384_sha256_owner 'eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.9_hPlVZmZ8iFAovOFEZlNK_muuKV9wqlpy2zbeub-h_OqUqpHnLGvwxJKiFkCCRFKae9XuyRuYMKn-FboQ1I2lvY4tLBd4F7n49GGInqVxRhXAMD4aTkBNPvqu8i4Xqp'
\set ed25519_student 'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.BKhzf6BZM_kHkIGqmsYG3QsO1fKR4TkgOf3IVPfrgzfHlZgCy2aTsMA29Nv820z6ik8ZND3_XGBSTfQpYd21BQ'
\set ed448_owner 'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.YVSBmvT9HPsZYQTXSQOE8ytMBJ3DsB13tBIEH7zCcErbUj1yyNXut_KVd8L1fIPkfyh7bwKg7TOArjZNdN64LUS3xcf7u_QsuykBZB3Sc6fs4aE6J-eDcX2_mXRctYwHD-0UcUMnIjR1YoPLS4l15yMA'
\set ed25519_rfc9864_student 'eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZDMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.r3uWZ6-glAdk4BW15ZNMMCFpaUedFJJujDuzxWzbIwGx1zTi6rQEhfO__brengdopWEkUebmXsidnvLMMUQtDA'
\set jwks '{"keys": [{"kty": "RSA", "use": "sig", "alg": "PS256", "kid": "idp-ps256", "n": "tAqdOyHgXw4u48ngwaYi8w5ctWm9ZGUKP1vCiMiGcEUwjTJYvXOTZOcmGD0j1n9yL43bHTaotevC5f-_eajQUUKymeaZX5mdoyo5i9sXsp-IncNq03IQBKRf8hmdM6NuSz2Bzi293sM2tS9D0frb80NsuVk9G9v2ztSo-mqOd__Rb9asb1jfXwyx_WBiZzZQJrcp6mmZmTj7-o2OMiki8HyaMxuI-WyemfroRXUymM3DpcYKNDMz1Gf0dImXj9TrpNpfyPrwuMShxwu9p5sskDwqqYFiwJtNSnVSI8t0Ua2cIw4TnsT3qU9GWFVQ_oE-1XfDe_6y-UAJy_XWuUM-8Q", "e": "AQAB"}, {"kty": "EC", "crv": "P-384", "kid": "idp-es384", "x": "VkJPe3oWw8gZtUwoYyFWcH2nTHds_OuyfUJ4ceVMUpfJiJDINffpkEorwzsJlMYB", "y": "RbMkY6xbVMs27TRGB6lkKJcn7GHPJBUslYbiGlOY5SL4zsbojXM-SXQ6UplMtnWp"}, {"kty": "OKP", "crv": "Ed25519", "kid": "idp-ed25519", "x": "0g-QBpFsXO8VCDLgqZeYtQcZ-oUxINYwlk1l902Q0IQ"}, {"kty": "OKP", "crv": "Ed448", "kid": "idp-ed448", "x": "tjYDxGSFGt37jMOjP71KS-kehedbPtrCn6ai0gauK3mjAE7RY5Zzx6-IHhiA5zkreMuHJPoVpIiA"}, {"kty": "OKP", "crv": "X25519", "kid": "idp-x25519", "use": "enc", "x": "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"}]}'

-- A provider's JWK Set: an RSA key for PS256, keys on P-384, Ed25519 and
-- Ed448, and a key agreement key (X25519), passed over. Each PEM is the one
-- the private key's own library writes.
SELECT key_id, algorithm, public_key = CASE key_id
         WHEN 'idp-ps256' THEN $pem$-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtAqdOyHgXw4u48ngwaYi
8w5ctWm9ZGUKP1vCiMiGcEUwjTJYvXOTZOcmGD0j1n9yL43bHTaotevC5f+/eajQ
UUKymeaZX5mdoyo5i9sXsp+IncNq03IQBKRf8hmdM6NuSz2Bzi293sM2tS9D0frb
80NsuVk9G9v2ztSo+mqOd//Rb9asb1jfXwyx/WBiZzZQJrcp6mmZmTj7+o2OMiki
8HyaMxuI+WyemfroRXUymM3DpcYKNDMz1Gf0dImXj9TrpNpfyPrwuMShxwu9p5ss
kDwqqYFiwJtNSnVSI8t0Ua2cIw4TnsT3qU9GWFVQ/oE+1XfDe/6y+UAJy/XWuUM+
8QIDAQAB
-----END PUBLIC KEY-----
$pem$
         WHEN 'idp-es384' THEN $pem$-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEVkJPe3oWw8gZtUwoYyFWcH2nTHds/Ouy
fUJ4ceVMUpfJiJDINffpkEorwzsJlMYBRbMkY6xbVMs27TRGB6lkKJcn7GHPJBUs
lYbiGlOY5SL4zsbojXM+SXQ6UplMtnWp
-----END PUBLIC KEY-----
$pem$
         WHEN 'idp-ed25519' THEN $pem$-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA0g+QBpFsXO8VCDLgqZeYtQcZ+oUxINYwlk1l902Q0IQ=
-----END PUBLIC KEY-----
$pem$
         WHEN 'idp-ed448' THEN $pem$-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAtjYDxGSFGt37jMOjP71KS+kehedbPtrCn6ai0gauK3mjAE7R
Y5Zzx6+IHhiA5zkreMuHJPoVpIiA
-----END PUBLIC KEY-----
$pem$ END AS same_pem
FROM tenancy.jwks_keys(:'jwks') ORDER BY key_id;
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key, issuer, audience)
SELECT key_id, algorithm, public_key, 'https://idp.example/', 'https://api.school.example'
FROM tenancy.jwks_keys(:'jwks');

\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'ps256_student');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'es384_owner');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'ed25519_student');
SELECT tenancy.current_user_id(), tenancy.current_member_role();
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'ed448_owner', false);
COMMIT;
SELECT tenancy.current_member_role() AS session_context;
SELECT tenancy.clear_context();
-- RFC 9864's "Ed25519" (EdDSA on that curve, named in full): the EdDSA
-- row's Ed25519 key verifies it.
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'ed25519_rfc9864_student');
ROLLBACK;
-- A key serves the algorithm of its row only: the RSA key of the PS256 row
-- verifies no RS256 token (PKCS #1 v1.5) of it; ES384 is SHA-384 over P-384,
-- not SHA-256.
SELECT tenancy.set_context_signed(:'org', :'rs256_same_key_student');
SELECT tenancy.set_context_signed(:'org', :'es384_sha256_owner');
-- The same key under RS256 takes its own row.
\c - postgres
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key, issuer, audience)
SELECT 'idp-rs256', 'RS256', public_key, issuer, audience
FROM tenancy.context_signing_keys WHERE key_id = 'idp-ps256';
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'rs256_same_key_student');
ROLLBACK;

\c - postgres
-- Keys that do not fit their algorithm, and algorithms not taken.
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
VALUES ('p256-as-es384', 'ES384', $pem$-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBsKR/QbkQ3X9qkKbC0xyhmNV9cII
jolNmPZ04X5s3W2OafMjcg0j8XWDOFhQELEKgESHBMEJ5t0togzu9FS2rQ==
-----END PUBLIC KEY-----
$pem$);
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'ed25519-as-ps256', 'PS256', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-ed25519';
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'p384-as-eddsa', 'EdDSA', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-es384';
-- An Ed25519 key of small order (the identity: R = identity, S = 0 would
-- sign every token), through the table and through a JWK.
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('identity', 'EdDSA', $pem$
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
-----END PUBLIC KEY-----
$pem$);
SELECT * FROM tenancy.jwks_keys('{"kty": "OKP", "crv": "Ed25519", "x": "7P_______________________________________38"}');
\set VERBOSITY terse
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'es256k', 'ES256K', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-ps256';
\set VERBOSITY default
-- The same RSA key listed for RS256 and for PS256, with no kid: its RFC 7638
-- thumbprint names no algorithm, so the second row's key id adds it.
SELECT key_id, algorithm FROM tenancy.jwks_keys(jsonb_build_object('keys', jsonb_build_array(
    (:'jwks'::jsonb -> 'keys' -> 0) - 'kid' - 'alg',
    (:'jwks'::jsonb -> 'keys' -> 0) - 'kid',
    (:'jwks'::jsonb -> 'keys' -> 0) - 'kid')));
-- One JWK whose "alg" and curve disagree.
SELECT * FROM tenancy.jwks_keys(:'jwks'::jsonb -> 'keys' -> 2 || '{"alg": "ES384"}');
SELECT * FROM tenancy.jwks_keys(:'jwks'::jsonb -> 'keys' -> 1 || '{"alg": "EdDSA"}');
-- check() (finding 23) names keys of every public-key algorithm that name no audience.
UPDATE tenancy.context_signing_keys SET audience = NULL WHERE key_id IN ('idp-ed448', 'idp-ps256');
SELECT object, finding FROM tenancy.check_signing_keys();
DELETE FROM tenancy.context_signing_keys WHERE key_id LIKE 'idp-%';
DELETE FROM tenancy.organizations WHERE id = :'org';

-- The rest of RFC 7518's algorithms (1.18): RS384, RS512, PS384 and PS512
-- with one RSA key (a row each), ES512 on P-521, HS384 and HS512 secrets of
-- at least the digest's size. Made once with Python's cryptography, as above.
\set org18 '00000000-0000-4000-a000-0000000000e0'
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'org18', 'digest-school', 'Digest School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    (:'org18', '00000000-0000-4000-b000-0000000000e1', 'owner'),
    (:'org18', '00000000-0000-4000-b000-0000000000e3', 'student');
\set rs384_student 'eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.Y7SQ2gmM8OCIp3vRBBxUj3q0T8K31L1365j2LKnBRwQadKg3EO3mhbT1dLWy_IRm0cjXzv5VS6l_UFM6vlZLlmOfEcKBwn84a_kxOZah_N5hQqHV0az5BC0l4zKI-1sgoNqiSxnVDG_3vVbP24E9ODNmGTYUYAT8D3gV4vgeJ86VnJy2EBZWX46jP6Du1--erT-nPH8nm_SEFHw780TsNGl49dgxwCCzccb3bZSItahPG27tLMy-7o6bpcZXJ1vy4d3y17cq2qr_01Pbe4BkbAUqbNJCJnuiMd0QqYV9ypCtiIiEy_4gaomSKqZMn_l1gcBStJLPoKdCHn-yb70PUw'
\set rs512_owner 'eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.DrpJEueEQ-r0f7EeGqogEZeyLec-0_EzpZhAzFcTjwNq08OTis1rj7pAr8bYv4KaOOkT11a11z1fmhvheLCQWWWH8KMSp_uXCtDFWqobIUMBPhOGCUJEHxysrv4WzcdSyRmLEJgEP9CVg1CbjaDP8OsPDtQgWUSRisZX9MdpTILnDeji3Ou9Ug-h8O6wMh9mdsSAk-sQEoMlwvO4iPM7vEy0V8DeBiaANwHX0hblwlTXBGesM5pIqkvyLPU7lIOxRsCQXPmAfMpgbp7wcDR0SSh-XkPrTzdq7xxzsJi7SXrAqOhgnubg3rOlCPsfGNY3N38ZyRV46Wo88nTPNjhwsg'
\set ps384_student 'eyJhbGciOiJQUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.QCWhWza7zgBp22lM8PKGsK1rn8z5cYHYR4vhfDN3UUkSHeeH0z1u14ARgjVKZzONlv3U_NFedBdLJaB5VCQroIvMisz4Jj2r6xKbkkyVet1zOaV2_ONesDl7c5leJSZY53tkIp-qOaZJZ46bb4tWoFjA5Df0m0T7-lbHt3z5r7koR7puI9dYj_OJMuQ_7f8ThjMflQh4_N2xyWxoWWUnPHRA8TmEv5pMH6BgHL1qa1-uRkEEW743HcnHNsAjC-UMlTbQmWmPqwnZxr-P4-w5DY9c9zmiUy_OkvDDccy5U_DazZQkboloSlnrQqcD1y1KXp5b_oFu0MIh_fxnSQRAsg'
\set ps512_owner 'eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.Ce3wC_jPNCb6jLBH2xpYxlmFCxpGnYyZIzrHG_gthVlTgFu3mu6tUqXjcJPwCh8tPEPSf9vB5jqxJirPQSpXry-64Gw-kjyvo1EYIKCrT4ZAIEoYv5UlgZy2aqNCyJIUz5UUQfMw1VvsrKQE8rWX-ioGcitNwYchWSXgbaWo-ZeHFPJfpS1ZCiX2Fw_GOJMiXv6jqah0Pm8emomNoIwVe4sBknlvHlbN-CEw6R0UxtiqM5XA38KfWZoERTVArv9hrIbsmz3t0OSMiCKNYn23jFPS9WVX1og3eXLDqI1EO2wQDlO_yyykSTA2lIF4mec8Q8H3B8iIU2Wv_xlW5tfjyg'
\set es512_student 'eyJhbGciOiJFUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.AN0sBsdpXb9VAvWZOTebJits6zV54X-ObJivaMAnT8M7oqi9q5yLCLdCT5jCbOlkyC3tHjjDgsH-TESqAbCak1pfAbW-zRxQstBbZV3oE7EyOtDNA9SI9AdMDmQQvd9Q-Q4hlPOOX10EUd4Jwv9hEa9lfNFjoWL-Pf1zbEfXsZ71lpFS'
\set hs384_owner 'eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.huIS3TZQk72Cfqlwo08XkgK7oTeNWxyfIQFPN1vp12HXoNnuFOH4M0-Xdkl_O58o'
\set hs512_student 'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.-656XgWgYL4glOGzKnL0ejGx5iWTnt_WTlN4iY1UFH8hhKlG_QXpzbxqRqiQDi6iji1wqb1Azy29D0K7AtMFzg'
\set rs384_signed_as_rs512 'eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.NM9oFp98EC4Y4rKeaoTJDc8QilNT_pkmpyT391ZduQoIjGyMClyoXKUHbKrJqahjRwssiNMu1toIQpI-HpYpB3uN1OIIQ7aaUcDSggbLF1Fk0IjxMQoALyhMSPBq4DbofHr_SrHFlssDQFkUhuvqJ5cvSXZXSDP4h-qRKAbqy4h7pzqiKO-nT22IDkWnJOpMwQ0dh2KUnVEzhdnMCZRHZQnnMHCAvCi-Srz-5Lh2oCsaZcCZn7tRsaoIB-pv-DIfUu0Xhp9rCY_Oup1Fexma57kz65PF3SSNJ6dZVBU3WmZaa7l8xUy5IbnMmnqqO151VfDcmc5OOH6nSJQgQNmX1A'
\set ps512_signed_as_ps384 'eyJhbGciOiJQUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.fh3G_o-1QwcnWThXVkcIhrhbYwUwbJFXDp6vCLfegID5b2qy1h9jZe1q-P4utfypA-fVGAFTvZYuGwKj1d6X2Dlk0iIeZ50nZSG0lTGPc_wiTXVj7fs1xROtU37A7h5JmHwAE51jiYBBDC2BTHQf6C8mGpbYz0mQVtLGDEQIepo9yqpjohPaNNbKR4bbvF6XSv8ASv70aM9ghZYsyYf0qHrDlovWBog419DQhMwB0z6DaGLUTBuDQ8iPkZWnxI8rRTtzbrXsCfAJqlqf1hD10siO01xp6JZrkkcBaDDaeOv6R-f1KWO19QrK9t4IBS_2Y760wozusGc7RVdWJHzmlQ'
\set es512_over_sha384 'eyJhbGciOiJFUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTMiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.AaSfUatSkXpI5xjs-vvaHhLPx1cnBp6iQIj7-RRttvwUWv3qTDvwZLEw1esWnssnSwj-0OnwzzAVem5eupadM0kvAOTqTwZNXkJMKICHtTKoLuERAgggAl5knAdj1FDYy_Xj6D9t2aKZWTO39dd7ZTNmFlACmnVvgHBzpdubcaxmVdB2'
\set hs384_with_hs512_secret 'eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.rM4Cmvqd2kk6tcuCbAsRo2LOaSsDBQTdlnhtALl9lzs2EJXUjTIPU6U0ExQTI7x8'
\set jwks18 '{"keys": [{"kty": "RSA", "use": "sig", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB", "alg": "RS384", "kid": "idp-rs384"}, {"kty": "RSA", "use": "sig", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB", "alg": "RS512", "kid": "idp-rs512"}, {"kty": "RSA", "use": "sig", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB", "alg": "PS384", "kid": "idp-ps384"}, {"kty": "RSA", "use": "sig", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB", "alg": "PS512", "kid": "idp-ps512"}, {"kty": "EC", "crv": "P-521", "use": "sig", "kid": "idp-es512", "x": "AEcHl7lmbPQ0uepPP4RgL6g7JMT_rrWnY92IExcfVtU0Jag2pPP1Kl2Owo6J6r2jG49ATRT1yqmBs9h6dtZ_IRkc", "y": "AWGQGrOT5l2b4Twq00mN9_IiZgXRfQy-qjyY8uSrB3t9o4_XzdrGEXpExQPabYZxqc_7Z5i0nWbym4osvUqARGpW"}]}'
\set secret48 'a 48-byte HS384 secret for the regression tests.'
\set secret64 'a 64-byte HS512 secret for the regression tests of pg_tenancy 1.'
SELECT key_id, algorithm, public_key = CASE WHEN algorithm = 'ES512' THEN $pem$-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQARweXuWZs9DS56k8/hGAvqDskxP+u
tadj3YgTFx9W1TQlqDak8/UqXY7CjonqvaMbj0BNFPXKqYGz2Hp21n8hGRwBYZAa
s5PmXZvhPCrTSY338iJmBdF9DL6qPJjy5KsHe32jj9fN2sYRekTFA9pthnGpz/tn
mLSdZvKbiiy9SoBEalY=
-----END PUBLIC KEY-----
$pem$ ELSE $pem$-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs9NXY1QWZ7orqc9KLS5z
K5pZ1nM+LznfLXFKFcZ81WZMuYDiHspBl//U+Hhvmm3IjyI4JXNGzzgk8qlHH3jZ
oGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh/M5FtKUaZPCKu
V7XAZb13UT0kbDM+kFfRJShVqo8tC2mRrl+PpVhTvzTHNkmbUqAdqDZcCDIT+G6e
ByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9+kHBP4U7z/J4BM
qxV19wU4WI2pctnIs3vAshF+68T+0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurL
ywIDAQAB
-----END PUBLIC KEY-----
$pem$ END AS same_pem
FROM tenancy.jwks_keys(:'jwks18') ORDER BY key_id;
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key, issuer, audience)
SELECT key_id, algorithm, public_key, 'https://idp.example/', 'https://api.school.example'
FROM tenancy.jwks_keys(:'jwks18');
-- A 200-byte secret is longer than SHA-512's block: HMAC hashes it first.
\set secret200 'a secret longer than SHA-512''s 128-byte block, which HMAC hashes first: a secret longer than SHA-512''s 128-byte block, which HMAC hashes first: a secret longer than SHA-512''s 128-byte block, which HMA'
\set hs512_long_secret_owner 'eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwZTEiLCJleHAiOjQxMDI0NDQ4MDAsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUvIiwiYXVkIjoiaHR0cHM6Ly9hcGkuc2Nob29sLmV4YW1wbGUifQ.v-r17e3qqEYJ92wxTWBUGgS-5i2IX2k3we80Z4foLF6qDwvIkf6RGhbmbksMx6lP0uchI_WWXvkgQEOeZAq8kA'
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret, issuer, audience) VALUES
    ('hs384', 'HS384', convert_to(:'secret48', 'UTF8'), 'https://idp.example/', 'https://api.school.example'),
    ('hs512', 'HS512', convert_to(:'secret64', 'UTF8'), 'https://idp.example/', 'https://api.school.example'),
    ('hs512-long', 'HS512', convert_to(:'secret200', 'UTF8'), 'https://idp.example/', 'https://api.school.example');
-- RFC 7518 §3.2: a secret at least as long as the digest (48 and 64 bytes);
-- an HMAC row holds a secret, never a public key.
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret)
VALUES ('hs384-short', 'HS384', convert_to(left(:'secret48', 47), 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret)
VALUES ('hs512-short', 'HS512', convert_to(:'secret48', 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'hs512-public', 'HS512', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-rs512';
-- Keys that do not fit: a P-521 key for ES384, an RSA key for ES512.
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'p521-as-es384', 'ES384', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-es512';
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
SELECT 'rsa-as-es512', 'ES512', public_key FROM tenancy.context_signing_keys WHERE key_id = 'idp-rs384';

\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'rs384_student');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'rs512_owner');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'ps384_student');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'ps512_owner');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'es512_student');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'hs384_owner');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'hs512_student');
SELECT tenancy.current_user_id(), tenancy.current_member_role();
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org18', :'hs512_long_secret_owner');
ROLLBACK;
-- The digest counts: a header that says RS384 over an RS512 signature, PS512
-- over a PS384 one, ES512 over SHA-384; HS384 computed with the HS512 row's
-- secret (no HS384 row holds it).
SELECT tenancy.set_context_signed(:'org18', :'rs384_signed_as_rs512');
SELECT tenancy.set_context_signed(:'org18', :'ps512_signed_as_ps384');
SELECT tenancy.set_context_signed(:'org18', :'es512_over_sha384');
SELECT tenancy.set_context_signed(:'org18', :'hs384_with_hs512_secret');
\c - postgres
-- check() (finding 23) names public keys only, of every algorithm.
UPDATE tenancy.context_signing_keys SET audience = NULL WHERE key_id IN ('idp-es512', 'idp-ps512', 'hs512');
SELECT object, finding FROM tenancy.check_signing_keys();
DELETE FROM tenancy.context_signing_keys WHERE key_id LIKE 'idp-%' OR key_id LIKE 'hs%';
DELETE FROM tenancy.organizations WHERE id = :'org18';

-- A refused row no longer shows its secret (1.17): PostgreSQL's "Failing
-- row contains (…)" is replaced by a DETAIL that says why it is not shown.
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('short', convert_to('31 bytes of a secret, not more.', 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES (NULL, convert_to(repeat('s', 40), 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('hs-2026', convert_to(repeat('s', 40), 'UTF8'));
UPDATE tenancy.context_signing_keys SET audience = 'caf' || chr(233) WHERE key_id = 'hs-2026';
-- The same SQLSTATE and constraint name as PostgreSQL's own check.
DO $$
DECLARE
    constraint_name text;
BEGIN
    UPDATE tenancy.context_signing_keys SET key_id = 'with space' WHERE key_id = 'hs-2026';
EXCEPTION WHEN check_violation THEN
    GET STACKED DIAGNOSTICS constraint_name = CONSTRAINT_NAME;
    RAISE NOTICE 'check_violation (%) on %', SQLSTATE, constraint_name;
END
$$;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'hs-2026';

-- A 1.17 library under a 1.16 schema (between make install and ALTER
-- EXTENSION UPDATE): the keys its table refuses are passed over, saying so,
-- so that a scheduled refresh keeps the others (an RS256 key here).
SELECT current_database() AS db \gset
CREATE DATABASE tenancy_algorithms_116;
\c tenancy_algorithms_116
SET client_min_messages = warning;
CREATE EXTENSION pg_tenancy VERSION '1.16';
RESET client_min_messages;
SELECT key_id, algorithm FROM tenancy.jwks_keys(jsonb_build_object('keys',
    (:'jwks'::jsonb -> 'keys') || jsonb_build_array((:'jwks'::jsonb -> 'keys' -> 0) || '{"kid": "idp-rs256", "alg": "RS256"}')));
ALTER EXTENSION pg_tenancy UPDATE TO '1.17';
SELECT key_id, algorithm FROM tenancy.jwks_keys(:'jwks') ORDER BY key_id;
-- And a 1.18 library under a 1.17 schema: RS384, RS512, PS384, PS512 and
-- ES512 keys wait for the update to 1.18, and tokens of them (and of HS384
-- and HS512) find no key.
SELECT key_id, algorithm FROM tenancy.jwks_keys(jsonb_build_object('keys',
    (:'jwks18'::jsonb -> 'keys') || (:'jwks'::jsonb -> 'keys' -> 0)));
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret)
VALUES ('hs512-on-1.17', 'HS512', convert_to(:'secret64', 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret)
VALUES ('hs256-on-1.17', convert_to(:'secret64', 'UTF8'));
SELECT tenancy.set_context_signed(:'org18', :'hs512_student');
SELECT tenancy.set_context_signed(:'org18', :'rs512_owner');
-- The same RSA key listed for RS384 and then for RS256, with no kid: under
-- 1.17 the RS256 entry alone is taken, under its thumbprint; after the
-- update it keeps it, and the RS384 entry takes the thumbprint with its
-- algorithm (key ids go to the older algorithms first, whatever the order).
\set rsa_twice '{"keys": [{"kty": "RSA", "alg": "RS384", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB"}, {"kty": "RSA", "alg": "RS256", "n": "s9NXY1QWZ7orqc9KLS5zK5pZ1nM-LznfLXFKFcZ81WZMuYDiHspBl__U-Hhvmm3IjyI4JXNGzzgk8qlHH3jZoGRpALDQd8CQwIxC84TSNa1AT17F1bpcXJHnfJVmafMtUbHjAHh_M5FtKUaZPCKuV7XAZb13UT0kbDM-kFfRJShVqo8tC2mRrl-PpVhTvzTHNkmbUqAdqDZcCDIT-G6eByXBwPYmTBPSzgCt1aTU9EkaeRxpdt9bUrVeHCbur1wOy7LfE9-kHBP4U7z_J4BMqxV19wU4WI2pctnIs3vAshF-68T-0EnZKf5lLcXqcmI4D0ssgLOM3dut74A7gurLyw", "e": "AQAB"}]}'
SELECT key_id, algorithm FROM tenancy.jwks_keys(:'rsa_twice');
ALTER EXTENSION pg_tenancy UPDATE TO '1.18';
SELECT key_id, algorithm FROM tenancy.jwks_keys(:'rsa_twice');
SELECT key_id, algorithm FROM tenancy.jwks_keys(:'jwks18') ORDER BY key_id;
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret)
VALUES ('hs512-on-1.18', 'HS512', convert_to(:'secret64', 'UTF8'));
\c :"db"
DROP DATABASE tenancy_algorithms_116;
