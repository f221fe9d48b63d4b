-- A context proven by a signed token (1.15): tenancy.set_context_signed, its
-- keys, and tenancy.require_signed_context. Tokens are minted here with
-- pgcrypto's HMAC, as an identity provider (or the backend) would mint them,
-- with fixed times so that the output is stable: 4102444800 is 2100-01-01.
CREATE EXTENSION pgcrypto;
CREATE SCHEMA token_test;
GRANT USAGE ON SCHEMA token_test TO PUBLIC;
CREATE FUNCTION token_test.b64url(data bytea) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT translate(replace(encode(data, 'base64'), E'\n', ''), '+/=', '-_') $$;
CREATE FUNCTION token_test.mint(claims text, secret text,
                                header text DEFAULT '{"alg":"HS256","typ":"JWT"}')
    RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT signing_input || '.' ||
           token_test.b64url(hmac(convert_to(signing_input, 'UTF8'), convert_to(secret, 'UTF8'),
                                  'sha256'))
    FROM (SELECT token_test.b64url(convert_to(header, 'UTF8')) || '.' ||
                 token_test.b64url(convert_to(claims, 'UTF8')) AS signing_input) AS token $$;

INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000c0', 'signed-school', 'Signed School');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('00000000-0000-4000-a000-0000000000c0', '00000000-0000-4000-b000-0000000000c1', 'owner'),
    ('00000000-0000-4000-a000-0000000000c0', '00000000-0000-4000-b000-0000000000c3', 'student');

\set org '00000000-0000-4000-a000-0000000000c0'
\set secret 'the identity provider''s secret, 32 bytes or more'
SELECT token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800}',
                       :'secret') AS student_token \gset
SELECT token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800,"role":"authenticated"}',
                       :'secret') AS owner_token \gset

\c - tenancy_test_app
-- No key yet: a clear error, not a refusal of the token.
SELECT tenancy.set_context_signed(:'org', :'student_token');
\c - postgres
-- Keys: superusers only; at least 32 bytes (RFC 7518). (Terse: the DETAIL of
-- a refused row shows it, with the time it was made.)
\set VERBOSITY terse
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('short', 'too short');
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('with space', convert_to(:'secret', 'UTF8'));
\set VERBOSITY default
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('idp-2026', convert_to(:'secret', 'UTF8'));

\c - tenancy_test_app
-- The organizations a user is an active member of, without a context
-- (1.23): the application's picker after sign-in. A deactivated membership
-- is left out; the application reads no other member's rows by it.
SELECT * FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000c1');
SELECT tenancy.current_org_id() IS NULL AS still_no_context;
SELECT * FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000ff');
SELECT * FROM tenancy.member_organizations(NULL);
\c - postgres
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('00000000-0000-4000-a000-0000000000c9', 'another-school', 'Another School');
INSERT INTO tenancy.members (organization_id, user_id, role, deactivated_at) VALUES
    ('00000000-0000-4000-a000-0000000000c9', '00000000-0000-4000-b000-0000000000c1', 'owner', NULL),
    ('00000000-0000-4000-a000-0000000000c9', '00000000-0000-4000-b000-0000000000c3', 'teacher', now());
\c - tenancy_test_app
SELECT slug, name, role FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000c1');
SELECT slug, name, role FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000c3');
\c - postgres
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000c9';
\c - tenancy_test_app
-- The user is the token's subject; the role comes from tenancy.members.
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'student_token');
SELECT tenancy.current_org_id(), tenancy.current_user_id(), tenancy.current_member_role();
SELECT user_id, role FROM tenancy.members ORDER BY user_id;
COMMIT;
SELECT tenancy.current_user_id() IS NULL AS ended_with_the_transaction;
-- Claims beyond ASCII, written as \u escapes (as PyJWT writes them), are
-- read in any database encoding.
BEGIN;
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"name":"Jos\u00e9 \u5f20 \ud83d\ude00"}',
                    :'secret'));
ROLLBACK;
-- is_local => false: for the session, as set_context(…, false).
SELECT tenancy.set_context_signed(:'org', :'owner_token', false);
SELECT tenancy.current_member_role();
SELECT tenancy.clear_context();
-- A session context a token gave ends with the token: from the first
-- transaction that begins once its "exp" has passed (terse: the detail says
-- when).
SELECT token_test.mint(format('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":%s}',
                              ceil(extract(epoch FROM clock_timestamp())) + 4),
                       :'secret') AS short_token \gset
SELECT tenancy.set_context_signed(:'org', :'short_token', false);
SELECT tenancy.current_member_role() AS before_expiry;
SELECT pg_sleep(5);
\set VERBOSITY terse
SELECT tenancy.current_member_role() AS after_expiry;
\set VERBOSITY default
SELECT tenancy.current_member_role() AS still_none;
-- The keys are not the application's to read or change.
SELECT count(*) FROM tenancy.context_signing_keys;
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('mine', convert_to(:'secret', 'UTF8'));
DELETE FROM tenancy.context_signing_keys;

-- Every way a token fails to prove a user: 28000, saying which.
BEGIN;
-- signed with another key
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}',
                    'a guessed secret that is long enough, but wrong'));
ROLLBACK;
-- changed after signing (the student's payload with the owner's id)
SELECT tenancy.set_context_signed(:'org',
    split_part(:'student_token', '.', 1) || '.' ||
    token_test.b64url(convert_to('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', 'UTF8')) ||
    '.' || split_part(:'student_token', '.', 3));
-- "alg": "none" and other algorithms
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', :'secret',
                    '{"alg":"none"}'));
-- as RFC 7515 writes an unsecured token: its signature empty
SELECT tenancy.set_context_signed(:'org',
    token_test.b64url(convert_to('{"alg":"none"}', 'UTF8')) || '.' ||
    token_test.b64url(convert_to('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', 'UTF8')) || '.');
-- an HS256 header with no signature
SELECT tenancy.set_context_signed(:'org', split_part(:'student_token', '.', 1) || '.' ||
                                          split_part(:'student_token', '.', 2) || '.');
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', :'secret',
                    '{"alg":"HS1024"}'));
-- a header that asks for extensions ("crit", RFC 7515): none is understood
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', :'secret',
                    '{"alg":"HS256","crit":["b64"],"b64":false}'));
-- expired (2020-09-13), not valid yet, without an expiry
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":1600000000}', :'secret'));
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","nbf":4000000000,"exp":4102444800}', :'secret'));
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1"}', :'secret'));
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":"4102444800"}', :'secret'));
-- a subject that is no user id, and a claim named twice
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"auth0|123456","exp":4102444800}', :'secret'));
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"sub":"00000000-0000-4000-b000-0000000000c1"}', :'secret'));
-- not a token
SELECT tenancy.set_context_signed(:'org', 'not a token');
SELECT tenancy.set_context_signed(:'org', 'a.b.c');
SELECT tenancy.set_context_signed(:'org', :'student_token' || '=');
SELECT tenancy.set_context_signed(:'org', repeat('a', 9000) || '.b.c');
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('[1,2]', :'secret'));
-- NULLs
SELECT tenancy.set_context_signed(NULL, :'student_token');
SELECT tenancy.set_context_signed(:'org', NULL);
SELECT tenancy.set_context_signed(:'org', :'student_token', NULL);
-- a good token for an organization the user is not a member of: 42501, as set_context
SELECT tenancy.set_context_signed('00000000-0000-4000-a000-00000000000a', :'student_token');
-- nothing was set by any of these
SELECT tenancy.current_user_id() IS NULL AS no_context;

-- A key removed is refused at once; a second key lets keys be rotated.
\c - postgres
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('idp-2027', convert_to('the next secret, also 32 bytes or more', 'UTF8'));
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'idp-2026';
SELECT token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800}',
                       'the next secret, also 32 bytes or more') AS next_student_token \gset
\c - tenancy_test_app
SELECT tenancy.set_context_signed(:'org', :'student_token');
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'next_student_token');
ROLLBACK;

-- RS256 and ES256 (identity providers that sign with a private key: Auth0,
-- Clerk, Firebase, Cognito, Keycloak's default): the table holds the
-- issuer's public key (PEM), which verifies without being a secret. Keys and
-- tokens made once with openssl (RSA 2048, P-256; exp: 2100-01-01).
\set rs256_student_token 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwYzMiLCJleHAiOjQxMDI0NDQ4MDB9.cTJouk5LobYKDM2IbxGnUdSXpV_FmEggz09v5VbnFXCxNhnEHdkC55xTu4ZCSd-iYHYDVQtsz70e6V5LS1r3nJfxsGdbopy-XsmqaYh4_g_LDd6I3wOgkq63MDCEHr3SfWBxtZ7b_HIGs4moNlkg99ZLs2gfRqp6O5T3gD-BdGF6tcA1xykvhVnDgblfTOwHPSEqXXTK3ZFRtExt8fwgg_afO3ZWI3DQEilVgHW_ukbzG8ffOeC0vv5DjEjhhvKlpczpQBGJ1eSFwk1eaKuSZHSloIPB-qoUMb-YAxQC9n1tfT6nff87y7gANnB4C08la1tlcOXgwN-SzlhZKXgmLQ'
\set es256_owner_token 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwYzEiLCJleHAiOjQxMDI0NDQ4MDB9.GuOnT1mEahQEVU30SMGzo1OejZKUKY4TgW2y5_iBS0GK0Vrk_oAB5EE-wOhUptSv5sKHP-53FaTWeaGOGRRwig'
\c - postgres
-- The identity provider's RSA key, and another RSA key, used below.
SELECT $pem$
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmi4/wzGMxfhecvwLBPqI
eQnQG2D7bc6hS52WUJrDXUiLpzhQy1qz71PZ163Og3ejng4XPBUB4eSlpKINDqri
SFw1hfjxqdEBmfOWQaEem5bWlG1aI/OtFMsycgW1+onZs+wa5/0D7d2ysJfhnwuT
0OnL3AdLF7e4W2w4VxFck4AaNY4TWR2Rl6cMLZ0WFlDhblzTQh0Tsd8JqAgT3JAa
89/03aiT/9jSriVSZPt5gsAOfvobcqlDW8jHD/QEtSyFpL2mYOrBHEBWrxTeAEIi
zOCrpTRfzF5+kz6CJal6uJ9PP24uNMdayf5KXRH8WhKGaSnYhyipFU99ZtFNheo/
UwIDAQAB
-----END PUBLIC KEY-----
$pem$ AS rsa_pem, $pem$
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA6a0V83PghnEdHiqB6krs
UySpYi/cQsPXzrqHEvjmOJ4IPPAEg6KMgOchgCDbm5PpUdObpEFoZbu1ugoq6Blj
o6Qj9JjN+f4Ti1QMVxLdhgkCthkb7p/RO4y67pcHb63uVQwBDbM6r6M4XtRTnPxK
TazOI0e2ofwlse4ZkiAfk806QAWwTDwTV3fs6s5Mqa/jV/IdhitG8UCgpy5J4jOk
IORFG7a6THIhDmiS9JX76SNsWAKRUpQwdfRDJzMy7spKb5Iz/xFLE00rqZBZNH0B
x1U0KS05ViYK3r5wcGhMiMbH3C0UnYUgZXqNHdiMPsCNl2WTXVs+xKkeacEA6OUb
TQIDAQAB
-----END PUBLIC KEY-----
$pem$ AS other_rsa_pem \gset
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('idp-rsa', 'RS256', :'rsa_pem');
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('idp-ec', 'ES256', $pem$
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIaH0EUtAc1xnHpB6ZI/yBz5Qa8ub
EJ/AgOurLNuGXyz3+YJV0hiOxNBP+X4eILesJTaPJJaqr6qOn0uZbPC/Ew==
-----END PUBLIC KEY-----
$pem$);
-- A key that cannot verify its algorithm's tokens is refused, saying why.
-- (The check behind it names an unknown algorithm in quotes, an empty one too.)
SELECT tenancy.context_public_key_usable('', '');
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('short-rsa', 'RS256', $pem$
-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDC7UJqVr0XRntjBEJFRal65VHx
whqZBU0CpysUF9Au4xBXVTzx1NUjpstevxb/Uc6quy1T++TUOI0LUM1JRDbhW6oE
+ZBGNyGV+VKZJaIzQcRr2QCQJ9e3T7uGcTuozGgdX/w7BWqMewJFw7S33uObJQjv
KFJ0Myp0dKdzKyizJQIDAQAB
-----END PUBLIC KEY-----
$pem$);
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('p384', 'ES256', $pem$
-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE4RLrTXBKxZ3Q3SsVbRAxZHBez8O77Rhn
7u6BoQYQbVXc7QY7Oo78lVNX/VHESxB3HwD6WHB8Lrcd7WIezpEKmHSKLd7ssPr8
AzB1rvzYH+pAkwpWt6Kbv9/aBLEHUhhy
-----END PUBLIC KEY-----
$pem$);
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('rsa-as-ec', 'ES256', :'rsa_pem');
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('not-pem', 'RS256', 'not a key');
-- Keys OpenSSL's checks refuse (anyone could forge tokens they verify): an
-- RSA exponent of 1, an EC point at infinity; and a huge exponent.
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('rsa-e1', 'RS256', $pem$
-----BEGIN PUBLIC KEY-----
MIIBIDANBgkqhkiG9w0BAQEFAAOCAQ0AMIIBCAKCAQEA6a0V83PghnEdHiqB6krs
UySpYi/cQsPXzrqHEvjmOJ4IPPAEg6KMgOchgCDbm5PpUdObpEFoZbu1ugoq6Blj
o6Qj9JjN+f4Ti1QMVxLdhgkCthkb7p/RO4y67pcHb63uVQwBDbM6r6M4XtRTnPxK
TazOI0e2ofwlse4ZkiAfk806QAWwTDwTV3fs6s5Mqa/jV/IdhitG8UCgpy5J4jOk
IORFG7a6THIhDmiS9JX76SNsWAKRUpQwdfRDJzMy7spKb5Iz/xFLE00rqZBZNH0B
x1U0KS05ViYK3r5wcGhMiMbH3C0UnYUgZXqNHdiMPsCNl2WTXVs+xKkeacEA6OUb
TQIBAQ==
-----END PUBLIC KEY-----
$pem$);
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('ec-infinity', 'ES256', $pem$
-----BEGIN PUBLIC KEY-----
MBkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDAgAA
-----END PUBLIC KEY-----
$pem$);
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('rsa-big-e', 'RS256', $pem$
-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAQEA6a0V83PghnEdHiqB6krs
UySpYi/cQsPXzrqHEvjmOJ4IPPAEg6KMgOchgCDbm5PpUdObpEFoZbu1ugoq6Blj
o6Qj9JjN+f4Ti1QMVxLdhgkCthkb7p/RO4y67pcHb63uVQwBDbM6r6M4XtRTnPxK
TazOI0e2ofwlse4ZkiAfk806QAWwTDwTV3fs6s5Mqa/jV/IdhitG8UCgpy5J4jOk
IORFG7a6THIhDmiS9JX76SNsWAKRUpQwdfRDJzMy7spKb5Iz/xFLE00rqZBZNH0B
x1U0KS05ViYK3r5wcGhMiMbH3C0UnYUgZXqNHdiMPsCNl2WTXVs+xKkeacEA6OUb
TQKCAQEA6a0V83PghnEdHiqB6krsUySpYi/cQsPXzrqHEvjmOJ4IPPAEg6KMgOch
gCDbm5PpUdObpEFoZbu1ugoq6Bljo6Qj9JjN+f4Ti1QMVxLdhgkCthkb7p/RO4y6
7pcHb63uVQwBDbM6r6M4XtRTnPxKTazOI0e2ofwlse4ZkiAfk806QAWwTDwTV3fs
6s5Mqa/jV/IdhitG8UCgpy5J4jOkIORFG7a6THIhDmiS9JX76SNsWAKRUpQwdfRD
JzMy7spKb5Iz/xFLE00rqZBZNH0Bx1U0KS05ViYK3r5wcGhMiMbH3C0UnYUgZXqN
HdiMPsCNl2WTXVs+xKkeacEA6OUbSw==
-----END PUBLIC KEY-----
$pem$);
-- One PEM block and nothing else: not a key with garbage after it, nor
-- a private key before its public key (which would be dumped with the rows).
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('trailing', 'RS256', :'other_rsa_pem' || E'garbage\x01 here\n');
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('private-first', 'RS256', $pem$
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDprRXzc+CGcR0e
KoHqSuxTJKliL9xCw9fOuocS+OY4ngg88ASDooyA5yGAINubk+lR05ukQWhlu7W6
CiroGWOjpCP0mM35/hOLVAxXEt2GCQK2GRvun9E7jLrulwdvre5VDAENszqvozhe
1FOc/EpNrM4jR7ah/CWx7hmSIB+TzTpABbBMPBNXd+zqzkypr+NX8h2GK0bxQKCn
LkniM6Qg5EUbtrpMciEOaJL0lfvpI2xYApFSlDB19EMnMzLuykpvkjP/EUsTTSup
kFk0fQHHVTQpLTlWJgrevnBwaEyIxsfcLRSdhSBleo0d2Iw+wI2XZZNdWz7EqR5p
wQDo5RtNAgMBAAECggEACIGJPJ6jNagFOOvjMfW4Ou6PgkhFURWmU86GZcwACJLE
45lfdxgCDujBV210XdCfvAX8ssxbhUu0ucKIMIEVsQc9WwUuhw/jz9aNyT2hwrDh
Rsk//9euQU5GH7LWGnXPKL/Fg6Vai+1gR+0CsVw3RP/Dusg8snjM00VCuQb77BO8
LX0LYzcx0OD7kR5L7eU7xkpTQHRR67hw+BkhznSypsTnngcvYNPyJtYL+l10F9ky
GKx9HmL2UdXEkgNNXi8nJg9KKioHOWGSUqupaYtQeTZQbmq0Bm4++taYZ2SQzFvx
NJ/C7qnwg4wXPhFa3wqNMUOpHv8Ozmv9wx/GGFe1AQKBgQD5Hot+EP/fxSyUGbdI
GNOYZyKZX5dSFqE+yM3b8djZanQ74xa5j92CAd5emvLjZTdr6YvgdVmLi63U8egD
WrBFVySoyTjGQNRYbTO06QHaOvx1xNtdNB5bw7aRh8jG0WBLIXj/vKjH49Xff2sd
fe9qgdos/yXWKkeYZmqMNHv8dQKBgQDwIVifDyzlRRLlje2cwSd9CpjsPn1hiKQz
n9NDDxPDIRvn8NADT4or4p/hNGWfPlULDDuxPg6zKpDyRD636wKcqNIiUbnOzRBh
HgQfh5U1JEG7TwlQQAFEBag7J3IsgaplqUIfWWJbhfTnl6rMoPx3Jkd+zqae9UBz
vIUGzmaoeQKBgQCDlwjkDKK8VvDXQkY4RTTwGfqCvaW27NE70uI6viNnpP3E7I2C
c2X0WHxXyM1oJH0D+ZezdwlX1u55v1Zo/yyBVCi/J5tfzbrdAsH/W91ooyPcKaIe
N3uZyWXUtb7uloag6Qt7OvKEs+qzZiD0sSMYRYMzpYsc97Rd4iuB5+9eSQKBgAS1
UqyDuqigKxevKbqKGwEbpRX0v7aa3EVa2+STthp8WrS4hwuZkqb7oZDj2x49NaOq
0LzP76/ZpM/rQKOQixORR9V+brs8UBbnZMNNgEJzfIp0qUUWjC/OQJcwVc/Dlxi5
Md+1e/U5cizcT3AFtA2OBZbZ7HBvdJ0QVDdm8qJZAoGAfgpyCYD5S/7N8jthwMVD
zJB8Od+feLIMKxdu5KBWwCi6xtKXeCF6AlmwpsD6h98kpAreeUnAltXbyioKy6bD
XkFyUu2xrTA0B+xUAPTIjRNBIZHHwAyVSnFoDk+sXq3XxbosM5qULwtGAwin55Zw
BMSsECH2bz+D/MDh19GDARk=
-----END PRIVATE KEY-----$pem$ || :'other_rsa_pem');
-- An HS256 secret that is a PEM text (a public key taken for a secret).
\set VERBOSITY terse
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('pem-secret', convert_to(:'rsa_pem', 'UTF8'));
\set VERBOSITY default
-- Nor in any other form (1.26; before, taken: whoever had the public key,
-- anyone, signed HS256 tokens for any user with it): the PEM's body without
-- its lines (as Keycloak's console shows a realm's public key), its DER
-- bytes, hex, a JSON Web Key. A secret as providers make them is taken.
SELECT regexp_replace(:'rsa_pem', '-----[A-Z ]+-----|\s', '', 'g') AS rsa_body \gset
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('body-secret', convert_to(:'rsa_body', 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret) VALUES ('der-secret', decode(:'rsa_body', 'base64'));
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('hex-secret', convert_to(encode(decode(:'rsa_body', 'base64'), 'hex'), 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('jwk-secret', convert_to('{"kty": "RSA", "e": "AQAB", "n": "mi4_wzGMxfhecvwLBPqIeQnQG2D7bc6hS52WUJrDXUiL"}', 'UTF8'));
-- The whole PEM text in base64 (a Kubernetes secret's data, an environment
-- variable), taken until the review of 1.26.
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('base64-pem-secret', convert_to(encode(convert_to(:'rsa_pem', 'UTF8'), 'base64'), 'UTF8'));
-- An HMAC key's own JWK is no public key: said so, with how to take its "k".
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('oct-jwk-secret', convert_to('{"kty": "oct", "k": "dGhlIGlkZW50aXR5IHByb3ZpZGVyJ3Mgc2VjcmV0LCAzMiBieXRlcyBvciBtb3Jl"}', 'UTF8'));
SELECT tenancy.context_secret_usable(convert_to(:'secret', 'UTF8')) AS secret_usable;
\set VERBOSITY terse
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret) VALUES ('rsa-secret', 'RS256', convert_to(repeat('k', 40), 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('other', 'ES256K', 'x');
\set VERBOSITY default
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'rs256_student_token');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'es256_owner_token');
ROLLBACK;
-- An RS256 signature under a header that says HS256 is refused; and so is
-- the classic confusion, HS256 "signed" with the public key as the secret
-- (a public key is never taken for a secret).
SELECT tenancy.set_context_signed(:'org', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTQwMDAtYjAwMC0wMDAwMDAwMDAwYzEiLCJleHAiOjQxMDI0NDQ4MDB9.QhcxtuMBzb8upoUsthcWc7zhXTewqoBKTodmOJiyzOtvfitDPChFbZ2bkkJsaqUlDp1wG8iryFRwhI0aUZGx1FN3hlDvphgQWm6vdOrF0L5-Alzrfis0QOBfs_ORg1x1nYD7dis6b4j6be575enOjqIKtAp0eUGSSXRCM2I0kaJi9wClLNiV0bLAlfTg-qBREfNohqnd-_40B0NE_Mlufpch2OJ2W72RuC39czNlC-7EBe3IvNGhQPys2pSiXEr95ZJiFSzlF-NTrBPp8hcrlBQgdtyLh9SZECJ8LPWzRu_CU38MTAqXRhUXk-PcN-wTRuATv9NHB57cyxBHEH_fcQ');
SELECT tenancy.set_context_signed(:'org',
    token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800}', :'rsa_pem'));
-- A certificate's key serves too (Auth0 and Firebase publish certificates):
-- the RSA key's certificate in place of the key.
\c - postgres
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'idp-rsa';
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key) VALUES ('idp-rsa-certificate', 'RS256', $pem$
-----BEGIN CERTIFICATE-----
MIIDCTCCAfGgAwIBAgIUbG9HhDU+ahHTzvIzr2f18gFOXIUwDQYJKoZIhvcNAQEL
BQAwEzERMA8GA1UEAwwIdGVzdC1pZHAwIBcNMjYxMjAxMDM1NDE0WhgPMjEyNjEx
MDcwMzU0MTRaMBMxETAPBgNVBAMMCHRlc3QtaWRwMIIBIjANBgkqhkiG9w0BAQEF
AAOCAQ8AMIIBCgKCAQEAmi4/wzGMxfhecvwLBPqIeQnQG2D7bc6hS52WUJrDXUiL
pzhQy1qz71PZ163Og3ejng4XPBUB4eSlpKINDqriSFw1hfjxqdEBmfOWQaEem5bW
lG1aI/OtFMsycgW1+onZs+wa5/0D7d2ysJfhnwuT0OnL3AdLF7e4W2w4VxFck4Aa
NY4TWR2Rl6cMLZ0WFlDhblzTQh0Tsd8JqAgT3JAa89/03aiT/9jSriVSZPt5gsAO
fvobcqlDW8jHD/QEtSyFpL2mYOrBHEBWrxTeAEIizOCrpTRfzF5+kz6CJal6uJ9P
P24uNMdayf5KXRH8WhKGaSnYhyipFU99ZtFNheo/UwIDAQABo1MwUTAdBgNVHQ4E
FgQUo6VfZH/Q7dNYzoe5bKCMB7AHHpswHwYDVR0jBBgwFoAUo6VfZH/Q7dNYzoe5
bKCMB7AHHpswDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAB4ps
I5KI5tFUB7h1nPeMMwOaAIFzHODTd4DRlvVn5BKgUODVmMaUPjJzYNibN3phr2/m
L22i8Zza+jNofWr7XU+Te8RbvzpxebewtCvOc5t2QMzBpEl2MEILhvLOET8V64Q5
NUWtmEj/AgxcD4uET1smoQbembfYrKXNWCt+3aUXrEX9QlA2frCX8iKN4X71MJ1m
8ZXDpRsE3W2HaKAoq1wGHC4XDjnrOBUdeRG9IiNC/0es9mLR8bHkgFT3ipXjdI1n
JYO0ePJMoPIA4ZzTiG0/vKzJ4pfzq5XQ7qeGiMuHh10A3RcOm5PshzWYOWYTVFfp
Xft80zfQ6u+7LyfatQ==
-----END CERTIFICATE-----
$pem$);
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'rs256_student_token');
ROLLBACK;
-- A signature changed in its last byte.
SELECT tenancy.set_context_signed(:'org',
    left(:'es256_owner_token', -2) || CASE WHEN right(:'es256_owner_token', 2) = 'AA' THEN 'AQ' ELSE 'AA' END);

\set app_secret 'the school app''s secret, 32 bytes or more'
-- A key may ask for an issuer and an audience ("iss", "aud"): an identity
-- provider signs every application's tokens with one key.
\c - postgres
INSERT INTO tenancy.context_signing_keys (key_id, secret, issuer, audience)
    VALUES ('idp-school-app', convert_to(:'app_secret', 'UTF8'),
            'https://idp.example/', 'school-app');
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":"school-app"}',
    :'app_secret'));
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":["grades-api","school-app"]}',
    :'app_secret'));
ROLLBACK;
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":"grades-api"}',
    :'app_secret'));
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"aud":"school-app"}',
    :'app_secret'));
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":[["school-app"]]}',
    :'app_secret'));
-- An array of audiences holds strings only (RFC 7519).
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":["school-app",1]}',
    :'app_secret'));
-- One row of a key is one grant: the same secret in a second row with
-- another audience serves that audience too, whatever the rows' order.
\c - postgres
INSERT INTO tenancy.context_signing_keys (key_id, secret, issuer, audience)
    VALUES ('idp-grades-api', convert_to(:'app_secret', 'UTF8'),
            'https://idp.example/', 'grades-api');
UPDATE tenancy.context_signing_keys SET created_at = created_at WHERE key_id = 'idp-school-app';
\c - tenancy_test_app
BEGIN;
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":"grades-api"}',
    :'app_secret'));
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', token_test.mint(
    '{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800,"iss":"https://idp.example/","aud":"school-app"}',
    :'app_secret'));
ROLLBACK;
-- Issuers and audiences are printable ASCII without a backslash (claims
-- are compared as text; a non-ASCII one would match in one spelling only).
\c - postgres
\set VERBOSITY terse
INSERT INTO tenancy.context_signing_keys (key_id, secret, audience)
    VALUES ('accented', convert_to(repeat('x', 40), 'UTF8'), 'école');
INSERT INTO tenancy.context_signing_keys (key_id, secret, audience)
    VALUES ('backslash', convert_to(repeat('x', 40), 'UTF8'), '\u00e9cole');
\set VERBOSITY default
\c - tenancy_test_app

-- tenancy.require_signed_context (superuser only, per role): set_context()
-- is refused, a token is the only way in.
\c - postgres
ALTER ROLE tenancy_test_app SET tenancy.require_signed_context = on;
\c - tenancy_test_app
SELECT tenancy.current_user_id();  -- the library is loaded: the setting is its own
SET tenancy.require_signed_context = off;
SELECT set_config('tenancy.require_signed_context', 'off', false);
BEGIN;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000000c0',
                           '00000000-0000-4000-b000-0000000000c1');
ROLLBACK;
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'next_student_token');
ROLLBACK;
-- With tenancy.allow_session_context off (1.22 library), a token gives no
-- session context either.
\c - postgres
SET tenancy.allow_session_context = off;
SET ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'next_student_token', false);
RESET ROLE;
RESET tenancy.allow_session_context;
-- The organizations of a user, for the application's picker before it sets
-- a context (1.23): here only those of the user a token proves. A login that
-- sets the setting off before the library is loaded (it is then a
-- placeholder anyone may set) is refused all the same.
\c - tenancy_test_app
SET tenancy.require_signed_context = off;
SELECT * FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000c1');
SHOW tenancy.require_signed_context;
SELECT * FROM tenancy.member_organizations('00000000-0000-4000-b000-0000000000c1');
SELECT slug, name, role FROM tenancy.member_organizations_signed(:'owner_token');
SELECT slug, name, role FROM tenancy.member_organizations_signed(:'next_student_token');
SELECT * FROM tenancy.member_organizations_signed('a.b.c');
SELECT * FROM tenancy.member_organizations_signed(NULL);
-- Sign-up likewise (1.24): create_organization() names its owner and is
-- refused; create_organization_signed() makes the token's user the owner.
SELECT tenancy.create_organization('signed-up-school', 'Signed Up', '00000000-0000-4000-b000-0000000000c1');
SELECT tenancy.create_organization_signed('signed-up-school', 'Signed Up', :'next_student_token') IS NOT NULL
    AS created;
SELECT slug, name, role FROM tenancy.member_organizations_signed(:'next_student_token')
WHERE slug = 'signed-up-school';
SELECT tenancy.create_organization_signed('signed-up-school', 'Again', :'next_student_token');
SELECT tenancy.create_organization_signed('another-school', 'Another', 'a.b.c');
SELECT tenancy.create_organization_signed('another-school', 'Another', NULL);
SELECT tenancy.create_organization_signed('Not A Slug', 'Another', :'next_student_token');
-- Keys from an identity provider's JWK Set (1.16): tenancy.jwks_keys()
-- gives the RS256 and ES256 signing keys as rows, with their "kid" as
-- key_id; its encryption key is passed over. The same public keys as above,
-- in the JWK form providers publish.
\c - postgres
\set jwks '{"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "jwks-rsa", "n": "mi4_wzGMxfhecvwLBPqIeQnQG2D7bc6hS52WUJrDXUiLpzhQy1qz71PZ163Og3ejng4XPBUB4eSlpKINDqriSFw1hfjxqdEBmfOWQaEem5bWlG1aI_OtFMsycgW1-onZs-wa5_0D7d2ysJfhnwuT0OnL3AdLF7e4W2w4VxFck4AaNY4TWR2Rl6cMLZ0WFlDhblzTQh0Tsd8JqAgT3JAa89_03aiT_9jSriVSZPt5gsAOfvobcqlDW8jHD_QEtSyFpL2mYOrBHEBWrxTeAEIizOCrpTRfzF5-kz6CJal6uJ9PP24uNMdayf5KXRH8WhKGaSnYhyipFU99ZtFNheo_Uw", "e": "AQAB"}, {"kty": "EC", "crv": "P-256", "kid": "jwks-ec", "x": "IaH0EUtAc1xnHpB6ZI_yBz5Qa8ubEJ_AgOurLNuGXyw", "y": "9_mCVdIYjsTQT_l-HiC3rCU2jySWqq-qjp9LmWzwvxM"}, {"kty": "RSA", "use": "enc", "kid": "enc-1", "n": "mi4_wzGMxfhecvwLBPqIeQnQG2D7bc6hS52WUJrDXUiLpzhQy1qz71PZ163Og3ejng4XPBUB4eSlpKINDqriSFw1hfjxqdEBmfOWQaEem5bWlG1aI_OtFMsycgW1-onZs-wa5_0D7d2ysJfhnwuT0OnL3AdLF7e4W2w4VxFck4AaNY4TWR2Rl6cMLZ0WFlDhblzTQh0Tsd8JqAgT3JAa89_03aiT_9jSriVSZPt5gsAOfvobcqlDW8jHD_QEtSyFpL2mYOrBHEBWrxTeAEIizOCrpTRfzF5-kz6CJal6uJ9PP24uNMdayf5KXRH8WhKGaSnYhyipFU99ZtFNheo_Uw", "e": "AQAB", "alg": "RSA-OAEP"}]}'
SELECT key_id, algorithm, md5(public_key) FROM tenancy.jwks_keys(:'jwks');
-- The PEM is the key's own (the one inserted by hand above).
SELECT public_key = (SELECT ltrim(public_key, E'\n') FROM tenancy.context_signing_keys
                     WHERE key_id = 'idp-ec') AS same_pem
FROM tenancy.jwks_keys(:'jwks') WHERE algorithm = 'ES256';
BEGIN;
DELETE FROM tenancy.context_signing_keys WHERE algorithm <> 'HS256';
INSERT INTO tenancy.context_signing_keys (key_id, algorithm, public_key)
    SELECT key_id, algorithm, public_key FROM tenancy.jwks_keys(:'jwks');
-- check() (finding 23): a provider's key that names no audience takes its
-- tokens for every application of the provider.
SELECT severity, object, finding, fix FROM tenancy.check() WHERE object LIKE 'context signing key %';
UPDATE tenancy.context_signing_keys SET audience = 'https://api.school.example' WHERE key_id = 'jwks-ec';
SELECT object FROM tenancy.check_signing_keys();
SET LOCAL ROLE tenancy_test_app;
SELECT count(*) AS seen_by_others FROM tenancy.check_signing_keys();
RESET ROLE;
UPDATE tenancy.context_signing_keys SET audience = NULL WHERE key_id = 'jwks-ec';
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'rs256_student_token');
SELECT tenancy.set_context_signed(:'org', :'es256_owner_token');
ROLLBACK;
-- One JWK alone; with no "kid", its RFC 7638 thumbprint is the key id.
SELECT key_id, algorithm FROM tenancy.jwks_keys((:'jwks'::jsonb -> 'keys' -> 1) - 'kid');
-- In a set: the same key twice is one row; another key under a kid already
-- taken, or under a kid the table would refuse (":"), gets its thumbprint;
-- a key whose "key_ops" lack "verify" is passed over; one that cannot serve
-- is passed over with a WARNING naming it, so that the others still come.
SELECT key_id, algorithm FROM tenancy.jwks_keys(jsonb_build_object('keys', jsonb_build_array(
    :'jwks'::jsonb -> 'keys' -> 0,
    :'jwks'::jsonb -> 'keys' -> 0,
    (:'jwks'::jsonb -> 'keys' -> 1) || '{"kid": "jwks-rsa"}',
    (:'jwks'::jsonb -> 'keys' -> 0) || '{"kid": "public:hydra.openid.id-token", "alg": null}',
    (:'jwks'::jsonb -> 'keys' -> 0) || '{"kid": "ops", "use": null, "key_ops": ["encrypt"]}',
    '{"kid": "legacy-1024", "kty": "RSA", "n": "AQAB", "e": "AQAB"}'::jsonb)));
-- What cannot serve is refused, naming the key (22023).
\set VERBOSITY default
SELECT * FROM tenancy.jwks_keys('[]');
SELECT * FROM tenancy.jwks_keys('{"keys": "none"}');
SELECT * FROM tenancy.jwks_keys('{"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]}');
SELECT * FROM tenancy.jwks_keys(:'jwks'::jsonb -> 'keys' -> 2);
SELECT * FROM tenancy.jwks_keys(jsonb_build_object('keys', jsonb_build_array(
    :'jwks'::jsonb -> 'keys' -> 0 || '{"d": "AQAB"}')));
SELECT * FROM tenancy.jwks_keys('{"kid": "small", "kty": "RSA", "n": "AQAB", "e": "AQAB"}');
SELECT * FROM tenancy.jwks_keys(:'jwks'::jsonb -> 'keys' -> 1 || '{"y": "AQAB"}');
SELECT * FROM tenancy.jwks_keys(:'jwks'::jsonb -> 'keys' -> 1 || '{"alg": "RS256"}');
SELECT * FROM tenancy.jwks_keys('{"kty": "oct", "k": "c2VjcmV0"}');
SELECT * FROM tenancy.jwks_keys('{"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}');
SELECT * FROM tenancy.jwks_keys('{"kty": "RSA", "n": 1, "e": "AQAB"}');
\set VERBOSITY terse
-- Key ids as providers write their "kid"s (Cognito's are base64: + / =).
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('eu-west-1/Ab+c=', convert_to(repeat('a provider key ', 4), 'UTF8'));
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('no:colon', convert_to(repeat('a provider key ', 4), 'UTF8'));
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'eu-west-1/Ab+c=';

-- A session context ends once the key that verified its token is deleted or
-- changed (1.16): a DBA who revokes a leaked key ends what it opened, at
-- each session's next transaction. The token names its key ("kid").
\set VERBOSITY default
\set revocable_secret 'a key that will be revoked, 32 bytes or more'
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('revocable/2026', convert_to(:'revocable_secret', 'UTF8'));
SELECT token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c3","exp":4102444800}',
                       :'revocable_secret', '{"alg":"HS256","kid":"revocable/2026"}')
       AS revocable_token \gset
SET ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'revocable_token', false);
RESET ROLE;
-- Another key added, and the key read again in each transaction: the context stays.
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('unrelated', convert_to(repeat('an unrelated key ', 3), 'UTF8'));
SELECT tenancy.current_user_id(), tenancy.current_member_role();
-- The key changed in place (here its issuer): the context ends.
UPDATE tenancy.context_signing_keys SET issuer = 'https://idp.example/' WHERE key_id = 'revocable/2026';
SELECT tenancy.current_user_id() IS NULL AS ended;
-- Deleted: the same.
UPDATE tenancy.context_signing_keys SET issuer = NULL WHERE key_id = 'revocable/2026';
SET ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'revocable_token', false);
RESET ROLE;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'revocable/2026';
SELECT tenancy.current_user_id() IS NULL AS ended;
-- A utility statement checks the key too: a parallel index build runs the
-- index expression in parallel mode (leader and workers), where the context
-- can be neither checked nor ended.
CREATE TABLE token_test.indexed (id int) WITH (parallel_workers = 2);
INSERT INTO token_test.indexed SELECT generate_series(1, 1000);
CREATE FUNCTION token_test.role_seen(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$ BEGIN
        IF x = 1 THEN RAISE NOTICE 'the index expression sees the role %', tenancy.current_member_role(); END IF;
        RETURN x;
    END $$;
SET max_parallel_maintenance_workers = 2;
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('revocable/2026', convert_to(:'revocable_secret', 'UTF8'));
SET ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'revocable_token', false);
RESET ROLE;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'revocable/2026';
\set VERBOSITY terse
CREATE INDEX ON token_test.indexed ((token_test.role_seen(id)));
\set VERBOSITY default
RESET max_parallel_maintenance_workers;
-- SET TRANSACTION must come before the transaction's first query; with a
-- session context in place, it still does (the check comes with the query).
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('revocable/2026', convert_to(:'revocable_secret', 'UTF8'));
SET ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'revocable_token', false);
RESET ROLE;
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SET TRANSACTION READ ONLY;
SELECT tenancy.current_member_role(), current_setting('transaction_isolation') AS isolation;
COMMIT;
-- So does a LOCK: it takes no snapshot, and the check does not take one for it.
BEGIN;
LOCK TABLE token_test.indexed IN ROW EXCLUSIVE MODE;
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SELECT current_setting('transaction_isolation') AS isolation;
COMMIT;
-- A statement that builds an index over several transactions keeps the
-- context it was checked with (a parallel build, here with the key standing).
SET max_parallel_maintenance_workers = 2;
\set VERBOSITY terse
CREATE INDEX CONCURRENTLY indexed_concurrently ON token_test.indexed ((token_test.role_seen(id)));
\set VERBOSITY default
RESET max_parallel_maintenance_workers;
-- A function's SET clause may give a context in a parallel query.
CREATE FUNCTION token_test.as_owner(x int) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET tenancy.context = '00000000-0000-4000-a000-0000000000c0/00000000-0000-4000-b000-0000000000c1/owner'
    AS $$ BEGIN RETURN tenancy.current_member_role(); END $$;
BEGIN;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SELECT token_test.as_owner(id) AS role_in_function, count(*) FROM token_test.indexed GROUP BY 1;
SELECT tenancy.current_member_role() AS role_after;
COMMIT;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'revocable/2026';
SELECT tenancy.current_member_role() AS after_deletion;
-- A context for the transaction ends with it anyway: within it, a key
-- deleted meanwhile changes nothing.
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('revocable/2026', convert_to(:'revocable_secret', 'UTF8'));
BEGIN;
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context_signed(:'org', :'revocable_token');
RESET ROLE;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'revocable/2026';
SELECT tenancy.current_member_role();
COMMIT;
DELETE FROM tenancy.context_signing_keys WHERE key_id = 'unrelated';
\c - postgres
-- check() (finding 22): a login that must prove its users while no key is
-- set gets no context at all.
SELECT * FROM tenancy.check_signed_contexts();
DELETE FROM tenancy.context_signing_keys;
-- Left out for others (the keys are a superuser's to read), with no error.
SET ROLE tenancy_test_app;
SELECT count(*) AS findings FROM tenancy.check_signed_contexts();
RESET ROLE;
SELECT severity, object, fix FROM tenancy.check()
WHERE finding LIKE 'tenancy.require_signed_context is on%';
-- The most specific setting counts: off for the login in this database.
SELECT current_database() AS db \gset
ALTER ROLE tenancy_test_app IN DATABASE :"db" SET tenancy.require_signed_context = off;
SELECT count(*) AS findings FROM tenancy.check_signed_contexts();
ALTER ROLE tenancy_test_app IN DATABASE :"db" RESET tenancy.require_signed_context;
ALTER ROLE tenancy_test_app RESET tenancy.require_signed_context;
SELECT count(*) AS findings FROM tenancy.check_signed_contexts();
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000000c0' OR slug = 'signed-up-school';

-- In a LATIN1 database, a token whose claims hold characters LATIN1 lacks
-- (\u escapes) is read as in any other (before, 22P05 from the JSON parser).
SELECT token_test.mint('{"sub":"00000000-0000-4000-b000-0000000000c1","exp":4102444800,"name":"Jos\u00e9 \u5f20"}',
                       'a LATIN1 database''s secret, 32 bytes or more') AS latin1_token \gset
CREATE DATABASE tenancy_signed_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c tenancy_signed_latin1
SET client_min_messages = warning;
CREATE EXTENSION pg_tenancy;
INSERT INTO tenancy.context_signing_keys (key_id, secret)
    VALUES ('latin1', convert_to('a LATIN1 database''s secret, 32 bytes or more', 'LATIN1'));
INSERT INTO tenancy.organizations (id, slug, name) VALUES (:'org', 'latin1-school', 'LATIN1 School');
INSERT INTO tenancy.members (organization_id, user_id, role)
    VALUES (:'org', '00000000-0000-4000-b000-0000000000c1', 'owner');
BEGIN;
SELECT tenancy.set_context_signed(:'org', :'latin1_token');
ROLLBACK;
\c :"db"
DROP DATABASE tenancy_signed_latin1;
DROP SCHEMA token_test CASCADE;
DROP EXTENSION pgcrypto;
