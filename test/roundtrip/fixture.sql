-- Data for the dump/restore and upgrade round trips: two schools with
-- members, files (with versions and reads), events and rolled-up analytics,
-- written the way the application writes them. Runs as the superuser; the
-- application part switches to the login tenancy_test_app. Uses only what
-- version 1.0 has, so the upgrade test can load it into every version.
\set ON_ERROR_STOP 1
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('d0000000-0000-4000-8000-00000000000a', 'dump-north', 'Dump North'),
    ('d0000000-0000-4000-8000-00000000000b', 'dump-south', 'Dump South');
INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT o, ('d1000000-0000-4000-8000-0000000000' || lpad(u::text, 2, '0'))::uuid,
       (ARRAY['owner', 'admin', 'teacher', 'student', 'student'])[u % 5 + 1]::tenancy.member_role
FROM unnest(ARRAY['d0000000-0000-4000-8000-00000000000a',
                  'd0000000-0000-4000-8000-00000000000b']::uuid[]) o,
     generate_series(0, 19) u;

SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000a',
                           'd1000000-0000-4000-8000-000000000000');
INSERT INTO tenancy.files (path, name, size_bytes, visibility)
SELECT 'north/' || g, 'file ' || g, g * 100, (ARRAY['private', 'staff', 'org'])[g % 3 + 1]::tenancy.file_visibility
FROM generate_series(1, 50) g;
UPDATE tenancy.files SET size_bytes = size_bytes + 1, checksum = 'v2' WHERE path LIKE 'north/1%';
UPDATE tenancy.files SET deleted_at = now() WHERE path = 'north/2';
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path LIKE 'north/3%';
SELECT tenancy.track((ARRAY['login', 'quiz_submitted'])[g % 2 + 1], CASE WHEN g % 2 = 1 THEN g END)
FROM generate_series(1, 200) g;
COMMIT;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000b',
                           'd1000000-0000-4000-8000-000000000003');
INSERT INTO tenancy.files (path, name, size_bytes) VALUES ('south/a', 'a', 1), ('south/b', 'b', 2);
SELECT tenancy.track('lesson_viewed', g) FROM generate_series(1, 30) g;
COMMIT;
RESET ROLE;
-- A log row dated past next month (written by hand, or a clock set wrong):
-- the upgrade to 1.5 keeps it with the old rows.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT organization_id, id, 'view', now() + interval '100 days'
FROM tenancy.files ORDER BY id LIMIT 1;
SELECT count(*) > 0 AS rolled_up FROM tenancy.run_rollups();
-- A second run merges into buckets the first one wrote (updates, not
-- inserts): on the older versions, through their rollups' foreign keys.
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000b',
                           'd1000000-0000-4000-8000-000000000003');
SELECT tenancy.track('lesson_viewed', g) FROM generate_series(31, 40) g;
COMMIT;
RESET ROLE;
SELECT count(*) > 0 AS rolled_up_again FROM tenancy.run_rollups();
-- A context signing key (1.15), where the version has them: a restore
-- without it would refuse every token.
DO $$
BEGIN
    IF to_regclass('tenancy.context_signing_keys') IS NOT NULL THEN
        EXECUTE $k$INSERT INTO tenancy.context_signing_keys (key_id, secret)
                   VALUES ('dump-key', convert_to(repeat('dump secret ', 4), 'UTF8'))$k$;
        -- A public key: its check calls a function of the extension, which the
        -- restore's CREATE EXTENSION makes before the rows come. With an
        -- issuer and an audience, as a provider's key should have (1.16's
        -- check() warns of one without), and a key id of a Cognito kid's
        -- characters (1.16 and later; 1.15 takes no "/").
        IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'tenancy.context_signing_keys'::regclass
                                              AND attname = 'public_key') THEN
            EXECUTE format($k$INSERT INTO tenancy.context_signing_keys
                                  (key_id, algorithm, public_key, issuer, audience)
                       VALUES (%L, 'ES256', '-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIaH0EUtAc1xnHpB6ZI/yBz5Qa8ub
EJ/AgOurLNuGXyz3+YJV0hiOxNBP+X4eILesJTaPJJaqr6qOn0uZbPC/Ew==
-----END PUBLIC KEY-----', 'https://idp.example/', 'https://api.school.example')$k$,
                CASE WHEN EXISTS (SELECT FROM pg_proc WHERE proname = 'jwks_keys'
                                    AND pronamespace = 'tenancy'::regnamespace)
                     THEN 'eu-west-1/dump+es256=' ELSE 'dump-es256' END);
        END IF;
        -- An Ed25519 key (RFC 8037's), where the keys' check takes EdDSA (1.17).
        IF EXISTS (SELECT FROM pg_constraint WHERE conname = 'context_signing_keys_algorithm'
                      AND pg_get_constraintdef(oid) LIKE '%EdDSA%') THEN
            EXECUTE $k$INSERT INTO tenancy.context_signing_keys
                                  (key_id, algorithm, public_key, issuer, audience)
                       VALUES ('dump-ed25519', 'EdDSA', '-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
-----END PUBLIC KEY-----', 'https://idp.example/', 'https://api.school.example')$k$;
        END IF;
        -- An HS512 secret of 64 bytes (the least it takes), where the keys'
        -- checks take HS512 (1.18: its length check runs on restore).
        IF EXISTS (SELECT FROM pg_constraint WHERE conname = 'context_signing_keys_algorithm'
                      AND pg_get_constraintdef(oid) LIKE '%HS512%') THEN
            EXECUTE $k$INSERT INTO tenancy.context_signing_keys (key_id, algorithm, secret)
                       VALUES ('dump-hs512', 'HS512', convert_to(repeat('64 bytes', 8), 'UTF8'))$k$;
        END IF;
    END IF;
END
$$;
-- An organization deleted, where the version records deletions (1.24): its
-- record in tenancy.organization_deletions is data, and comes back with a
-- dump.
DO $$
BEGIN
    IF to_regclass('tenancy.organization_deletions') IS NOT NULL THEN
        PERFORM tenancy.create_organization('dump-gone', 'Dump Gone',
                                            'd1000000-0000-4000-8000-0000000000ff');
        DELETE FROM tenancy.organizations WHERE slug = 'dump-gone';
    END IF;
END
$$;
