-- Errors raised from C++ reach the client whole: a message, detail or hint
-- longer than the error barrier's fixed buffers (1024 bytes for the message
-- and detail, 512 for the hint) is not cut. Until the 1.26 library they were
-- cut at a byte count: a detail naming a key's issuer of up to 1000
-- characters lost its end, and a multibyte character cut in two sent text
-- that is not valid UTF-8.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_tenancy;
RESET client_min_messages;

-- SQLSTATE, length in characters, whether it is valid in the database's
-- encoding, and its end, of a statement's error message and detail.
CREATE FUNCTION error_texts(statement text,
                            OUT state text, OUT message_length int, OUT message_end text,
                            OUT detail_length int, OUT detail_end text, OUT valid boolean)
LANGUAGE plpgsql AS $$
DECLARE
    message text;
    detail text;
BEGIN
    EXECUTE statement;
    state := 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
    message_length := length(message);
    message_end := right(message, 30);
    detail_length := length(detail);
    detail_end := right(detail, 30);
    BEGIN
        -- convert_to() checks its text: 22021 for a byte sequence not valid in UTF-8.
        valid := convert_to(message, 'UTF8') IS NOT NULL AND convert_to(detail, 'UTF8') IS NOT NULL;
    EXCEPTION WHEN character_not_in_repertoire THEN
        valid := false;
    END;
END $$;

-- A message of 1,600 bytes (an algorithm name of 700 two-byte letters): whole,
-- ending with the quote that closes the name.
SELECT * FROM error_texts(format('SELECT tenancy.context_public_key_usable(%L, %L)',
                                 repeat('é', 700), 'x'));

-- A message of 1,300 bytes (a JWK's "kid" of x and 600 two-byte letters): whole, not
-- cut inside a letter.
SELECT * FROM error_texts(format('SELECT tenancy.jwks_keys(%L)',
    jsonb_build_object('keys', jsonb_build_array(
        jsonb_build_object('kty', 'oct', 'k', 'AAAA', 'kid', 'x' || repeat('é', 600))))));

-- A token refused by a key whose issuer has 1000 characters: the detail
-- names it whole and ends with its closing quote and period.
CREATE EXTENSION pgcrypto;
INSERT INTO tenancy.context_signing_keys (key_id, secret, issuer)
VALUES ('long-issuer', convert_to('abcdefghabcdefghabcdefghabcdefgh', 'UTF8'),
        'https://' || repeat('i', 992));
CREATE FUNCTION base64url(bytes bytea) RETURNS text LANGUAGE sql AS $$
    SELECT translate(rtrim(replace(encode(bytes, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;
CREATE FUNCTION hs256_token(payload jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT signing_input || '.' || base64url(hmac(convert_to(signing_input, 'UTF8'),
                                                  convert_to('abcdefghabcdefghabcdefghabcdefgh', 'UTF8'),
                                                  'sha256'))
    FROM (SELECT base64url(convert_to('{"alg":"HS256","kid":"long-issuer"}', 'UTF8')) || '.' ||
                 base64url(convert_to(payload::text, 'UTF8')) AS signing_input) s
$$;
SELECT * FROM error_texts(format('SELECT tenancy.set_context_signed(%L, %L)',
    gen_random_uuid(),
    hs256_token(jsonb_build_object('sub', gen_random_uuid(), 'iss', 'another issuer',
                                   'exp', extract(epoch FROM now() + interval '1 hour')::bigint))));


-- Bad input gets its own SQLSTATE, not that of a rule it was taken to break.
-- A NULL role is 23502 (the NOT NULL constraint) for every member, the last
-- active owner too: before 1.26 the last-owner guard took it for a demotion
-- (42501 "cannot remove, demote or deactivate the last owner").
SELECT tenancy.create_organization('null-role', 'Null role', '00000000-0000-4000-8000-00000000000a')
    AS null_role_org \gset
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES (:'null_role_org', '00000000-0000-4000-8000-00000000000b', 'student');
SELECT user_id, (error_texts(format('UPDATE tenancy.members SET role = NULL WHERE organization_id = %L AND user_id = %L',
                                    :'null_role_org', user_id))).state
FROM tenancy.members WHERE organization_id = :'null_role_org' ORDER BY user_id;
-- Demoting the last owner is still refused.
SELECT (error_texts(format('UPDATE tenancy.members SET role = %L WHERE organization_id = %L AND role = %L',
                           'admin', :'null_role_org', 'owner'))).state;
DELETE FROM tenancy.organizations WHERE id = :'null_role_org';

-- A distinct sketch whose registers are all at their highest (only a crafted
-- one) counts the largest bigint, not a negative number (before the 1.26
-- library the estimate past 2^63 wrapped to -9223372036854775808).
SELECT r AS register,
       tenancy.sketch_distinct_count('\x0101'::bytea || decode(repeat(to_hex(r), 4096), 'hex')) AS users
FROM unnest(ARRAY[50, 51, 52, 53]) r;

DELETE FROM tenancy.context_signing_keys WHERE key_id = 'long-issuer';
DROP FUNCTION error_texts(text), hs256_token(jsonb), base64url(bytea);
DROP EXTENSION pgcrypto;
