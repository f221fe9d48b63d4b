-- rls_read_path: the dataset, loaded as the superuser with set-based SQL.
-- psql variables: orgs, members (per organization), staff (members 1..staff
-- are staff: 1 owner, 2 admins, the rest teachers; the others are students).
--
-- Every uuid is computable from integers, so pgbench scripts can pick a row
-- with \set and name it in SQL:
--   organization n      md5('org' || n)::uuid
--   member k of org n   md5('user' || n || '-' || k)::uuid
\set ON_ERROR_STOP on

-- Foreign-key and guard triggers off for the load: the rows are valid by
-- construction, and a million row-by-row FK checks would triple the time.
SET session_replication_role = replica;
-- Copies below read their source from block 0, so both tables get the same
-- physical order (by organization, then member).
SET synchronize_seqscans = off;

INSERT INTO tenancy.organizations (id, slug, name)
SELECT md5('org' || n)::uuid, 'school-' || n, 'School ' || n
FROM generate_series(1, :orgs) AS n;

INSERT INTO tenancy.members (organization_id, user_id, role)
SELECT md5('org' || n)::uuid,
       md5('user' || n || '-' || k)::uuid,
       CASE WHEN k = 1 THEN 'owner'
            WHEN k <= 3 THEN 'admin'
            WHEN k <= :staff THEN 'teacher'
            ELSE 'student' END::tenancy.member_role
FROM generate_series(1, :orgs) AS n
CROSS JOIN LATERAL generate_series(1, :members) AS k;

RESET session_replication_role;

-- The hand-written alternative: the same rows, keys and indexes, isolated
-- the way applications usually do it by hand, with settings the application
-- sets itself (SET LOCAL / set_config) and a policy that reads them. The
-- policy is members_select's access rule (students see the staff and
-- themselves), written as such policies usually are, current_setting()
-- called in the expression, so both sides enforce the same thing and return
-- the same rows (rls_read_path.sh checks that).
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE bench.members_handwritten
    (LIKE tenancy.members INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO bench.members_handwritten SELECT * FROM tenancy.members;
ALTER TABLE bench.members_handwritten
    ADD CONSTRAINT members_handwritten_pkey PRIMARY KEY (organization_id, user_id);
CREATE INDEX members_handwritten_user_idx ON bench.members_handwritten (user_id);
-- tenancy.members's indexes grew by random-order inserts; rebuild them by
-- sort, as the copy's were, so both sides have indexes of the same shape.
REINDEX TABLE tenancy.members;

ALTER TABLE bench.members_handwritten ENABLE ROW LEVEL SECURITY;
ALTER TABLE bench.members_handwritten FORCE ROW LEVEL SECURITY;
CREATE POLICY members_select ON bench.members_handwritten
    FOR SELECT
    USING (organization_id = current_setting('bench.org_id')::uuid
           AND (current_setting('bench.role') <> 'student'
                OR user_id = current_setting('bench.user_id')::uuid
                OR role <> 'student'));
GRANT USAGE ON SCHEMA bench TO tenancy_app;
GRANT SELECT ON bench.members_handwritten TO tenancy_app;

-- Statistics from a large sample, the same on both tables: the planner's
-- choices (generic plans included) must not change from run to run, or
-- between the two tables, with ANALYZE's random sample.
ALTER TABLE tenancy.members ALTER COLUMN organization_id SET STATISTICS 1000,
    ALTER COLUMN user_id SET STATISTICS 1000, ALTER COLUMN role SET STATISTICS 1000;
ALTER TABLE bench.members_handwritten ALTER COLUMN organization_id SET STATISTICS 1000,
    ALTER COLUMN user_id SET STATISTICS 1000, ALTER COLUMN role SET STATISTICS 1000;
VACUUM (FREEZE, ANALYZE) tenancy.organizations, tenancy.members, bench.members_handwritten;

-- Everything in shared buffers before the first measurement.
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT count(pg_prewarm(c.oid))
FROM pg_class c
WHERE c.oid IN ('tenancy.organizations'::regclass, 'tenancy.members'::regclass,
                'bench.members_handwritten'::regclass)
   OR c.oid IN (SELECT indexrelid FROM pg_index
                WHERE indrelid IN ('tenancy.organizations'::regclass, 'tenancy.members'::regclass,
                                   'bench.members_handwritten'::regclass))
\gset prewarm_
\echo loaded: :orgs organizations x :members members
SELECT pg_size_pretty(pg_total_relation_size('tenancy.members')) AS members_size,
       pg_size_pretty(pg_total_relation_size('bench.members_handwritten')) AS handwritten_size
\gset
\echo tenancy.members :members_size, bench.members_handwritten :handwritten_size (with indexes)

-- Signed contexts (1.15): a key, and tokens for the members the in-server
-- loop visits (set_context_inserver.sql), minted with pgcrypto as an
-- identity provider would mint them (exp: 2100-01-01).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
INSERT INTO tenancy.context_signing_keys (key_id, secret)
VALUES ('bench', convert_to('the benchmark''s signing secret, 32 bytes or more', 'UTF8'))
ON CONFLICT (key_id) DO NOTHING;
CREATE FUNCTION bench.b64url(data bytea) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT translate(replace(encode(data, 'base64'), E'\n', ''), '+/=', '-_') $$;
CREATE TABLE bench.context_tokens (n integer PRIMARY KEY, org_id uuid NOT NULL, token text NOT NULL);
INSERT INTO bench.context_tokens (n, org_id, token)
SELECT g, org_id, signing_input || '.' ||
       bench.b64url(public.hmac(convert_to(signing_input, 'UTF8'),
                                convert_to('the benchmark''s signing secret, 32 bytes or more', 'UTF8'),
                                'sha256'))
FROM (SELECT g, md5('org' || (g % :orgs + 1))::uuid AS org_id,
             bench.b64url(convert_to('{"alg":"HS256","typ":"JWT"}', 'UTF8')) || '.' ||
             bench.b64url(convert_to(format('{"sub":"%s","exp":4102444800}',
                 md5('user' || (g % :orgs + 1) || '-' || (g / :orgs % :members + 1))::uuid), 'UTF8'))
                 AS signing_input
      FROM generate_series(0, 9999) AS g) AS minted;
GRANT SELECT ON bench.context_tokens TO tenancy_app;
