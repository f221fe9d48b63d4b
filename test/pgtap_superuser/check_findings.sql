-- tenancy.check() (src/sql/1.0--1.1/20_check.sql): one row per thing in the
-- database that undermines tenant isolation, with severity, object, finding
-- and fix. Each kind of finding is provoked here on objects of this file,
-- then fixed, and must then be gone:
--   (1) a table with a uuid organization_id / org_id / tenant_id / school_id
--       column without row level security, or with RLS not forced: error;
--   (2) a policy for the application (tenancy_app, a member of it, or PUBLIC)
--       calling a user-defined function that is not LEAKPROOF: warning; a
--       VOLATILE one: error;
--   (3) a SECURITY DEFINER function without a pinned search_path: error;
--   (4) a role with BYPASSRLS (or superuser) that is a member of tenancy_app,
--       directly or through another role: error;
--   (5) a protected or tenant table without an index leading with the tenant
--       column: warning;
--   (6) a protected table changed since: isolation policy dropped, tenant
--       column default dropped or replaced, tenant column dropped or
--       renamed, a permissive policy for a role an application login
--       belongs to: error;
--   (7) a partition of a tenant table the application reaches directly,
--       without row level security of its own: error;
--   (8) a tenant table inheriting from another table: error;
--   (9) a materialized view of a tenant table the application can read;
--   (10) a view of one run as an owner who bypasses RLS: error;
--   (11) pg_tenancy's own triggers disabled, or its guards not ENABLE
--       ALWAYS: error.
-- The fix column is checked by running it: where a finding's fix is SQL,
-- executing it must succeed and clear the finding. Every finding in the
-- database has a non-empty fix.
--
-- Runs as the superuser postgres (check() is the DBA's). Other files may
-- leave objects in the database, so assertions are about this file's objects
-- only: a schema with a random name, roles with a random suffix. Everything
-- happens in one transaction that is rolled back (roles included: CREATE
-- ROLE is transactional).
SET client_min_messages = error;
-- A snapshot taken before the transaction below, whose own id it does not
-- see: finding 19's state "taken before this transaction" (a state stored
-- by a run in the transaction sees its id as in progress, and whether the
-- ids then continue depends on other sessions' commits since).
SELECT pg_current_snapshot() AS snapshot_before \gset
BEGIN;
SELECT plan(235);

SELECT 'app_' || substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS s,
       substr(md5(random()::text || clock_timestamp()::text), 1, 10) AS r \gset
CREATE SCHEMA :"s";
SET LOCAL search_path = :"s", public;

-------------------------------------------------------------------------------
-- Helpers.
-------------------------------------------------------------------------------
-- The findings about one object: 'severity: finding' lines, sorted; '' if none.
CREATE FUNCTION pg_temp.findings(obj text) RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(string_agg(severity || ': ' || finding, E'\n' ORDER BY severity, finding), '')
    FROM tenancy.check() WHERE object = obj
$$;
CREATE FUNCTION pg_temp.has_finding(obj text, sev text, pattern text) RETURNS boolean
    LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM tenancy.check()
                   WHERE object = obj AND severity = sev AND finding LIKE pattern
                     AND nullif(btrim(fix), '') IS NOT NULL)
$$;
-- Runs every distinct fix listed for an object; 'ok', or the errors.
CREATE FUNCTION pg_temp.apply_fixes(obj text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    fixes text[];
    one text;
    errors text[] := '{}';
BEGIN
    SELECT array_agg(DISTINCT fix ORDER BY fix) INTO fixes FROM tenancy.check() WHERE object = obj;
    IF fixes IS NULL THEN
        RETURN 'no findings';
    END IF;
    FOREACH one IN ARRAY fixes LOOP
        BEGIN
            EXECUTE one;
        EXCEPTION WHEN OTHERS THEN
            errors := errors || format('%s -> %s: %s', one, SQLSTATE, SQLERRM);
        END;
    END LOOP;
    RETURN coalesce(nullif(array_to_string(errors, E'\n'), ''), 'ok');
END
$$;

-------------------------------------------------------------------------------
-- Baseline: pg_tenancy's own objects and a freshly protected table are clean.
-- The other files log file access without a run_rollups() to make the log's
-- months, which finding (14) would report: maintenance first.
-------------------------------------------------------------------------------
SELECT cmp_ok(tenancy.maintain_file_access_log(), '>=', 0, 'baseline: the log''s months made');
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object LIKE 'tenancy.%' OR object LIKE 'policy % on tenancy.%' OR object = 'tenancy_app'),
          0::bigint, 'baseline: no finding about pg_tenancy''s own objects or tenancy_app');
CREATE TABLE clean (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('clean');
SELECT is(pg_temp.findings(:'s' || '.clean'), '', 'baseline: a freshly protected table has no finding');

-------------------------------------------------------------------------------
-- (1) Tenant-like tables without row level security, or with it not forced.
-------------------------------------------------------------------------------
CREATE TABLE t_org (id integer, organization_id uuid, PRIMARY KEY (id, organization_id));
CREATE TABLE t_tenant (tenant_id uuid);
CREATE INDEX ON t_tenant (tenant_id);
CREATE TABLE t_orgid (org_id uuid);
CREATE INDEX ON t_orgid (org_id);
CREATE TABLE t_school (school_id uuid, id integer);
CREATE INDEX ON t_school (school_id);
CREATE TABLE t_enabled (organization_id uuid);
CREATE INDEX ON t_enabled (organization_id);
ALTER TABLE t_enabled ENABLE ROW LEVEL SECURITY;
CREATE TABLE t_part (organization_id uuid, at date) PARTITION BY RANGE (at);
CREATE TABLE t_part_1 PARTITION OF t_part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE INDEX ON t_part (organization_id);
-- Not a tenant table: no tenant-like column.
CREATE TABLE t_owner (owner_id uuid);
-- (1.23) A tenant table too: a uuid tenant-like column named in camelCase
-- (an ORM's). A text or varchar one is finding 27's (below): a warning.
CREATE TABLE t_text (organization_id text);
CREATE TABLE t_camel ("orgId" uuid);
CREATE INDEX ON t_camel ("orgId");
CREATE TABLE t_varchar ("tenantId" varchar(36));
CREATE INDEX ON t_varchar ("tenantId");
GRANT SELECT ON t_text, t_camel, t_varchar, t_owner TO tenancy_app;
-- Not reachable, no index: the DBA's, neither finding (1) nor (5).
CREATE TABLE t_dba_noindex (organization_id uuid, note text);
-- The application reaches those tables (since 1.10 a table it cannot reach,
-- by no privilege of its roles or PUBLIC, is the DBA's own and not reported).
GRANT SELECT ON t_org, t_tenant, t_orgid, t_school, t_enabled, t_part TO tenancy_app;
CREATE TABLE t_dba_only (organization_id uuid PRIMARY KEY);

SELECT is(pg_temp.findings(:'s' || '.t_org'),
          'error: tenant table without row level security' || E'\n' ||
          'warning: no index leads with the tenant column "organization_id": every tenant read scans the table',
          '(1) organization_id uuid, no RLS, no index: an error and a warning');
SELECT ok(pg_temp.has_finding(:'s' || '.t_tenant', 'error', 'tenant table without row level security'),
          '(1) a tenant_id uuid column without RLS: error');
SELECT ok(pg_temp.has_finding(:'s' || '.t_orgid', 'error', 'tenant table without row level security'),
          '(1) an org_id uuid column without RLS: error');
SELECT ok(pg_temp.has_finding(:'s' || '.t_school', 'error', 'tenant table without row level security'),
          '(1) a school_id uuid column without RLS: error');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.t_school'),
          format('SELECT tenancy.protect(%L, %L);', :'s' || '.t_school', 'school_id'),
          '(1) the fix protects the table with its tenant column');
SELECT ok(pg_temp.has_finding(:'s' || '.t_enabled', 'error', '%not forced%'),
          '(1) RLS enabled but not forced: error');
SELECT is(pg_temp.findings(:'s' || '.t_enabled'),
          'error: row level security is not forced (the owner bypasses it)',
          '(1) RLS enabled but not forced: that is the only finding');
SELECT ok(pg_temp.has_finding(:'s' || '.t_part', 'error', 'tenant table without row level security'),
          '(1) a partitioned tenant table without RLS: error');
SELECT is(pg_temp.findings(:'s' || '.t_part_1'), '', '(1) its partition is not reported on its own');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object = :'s' || '.t_owner'), 0::bigint,
          '(1) an unrelated uuid column is not a tenant table');
SELECT is(pg_temp.findings(:'s' || '.t_dba_only'), '',
          '(1) a tenant table the application cannot reach is the DBA''s: not reported (1.10)');
SELECT is(pg_temp.findings(:'s' || '.t_dba_noindex'), '',
          '(5) nor its missing index (1.23)');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.t_camel'),
          format('SELECT tenancy.protect(%L, %L);', :'s' || '.t_camel', 'orgId'),
          '(1) a camelCase "orgId" uuid column: protected by its name (1.23)');
SELECT is(pg_temp.apply_fixes(:'s' || '.t_camel'), 'ok', '(1) its fix runs');
SELECT is(pg_temp.findings(:'s' || '.t_camel'), '', '(1) and leaves no finding');
-- (27) A text or varchar column named like a tenant column, in a table the
-- application reaches without row level security (1.23): a warning, whose
-- fix is advice (it may hold codes, not organization ids).
SELECT is(pg_temp.findings(:'s' || '.t_text'),
          'warning: column "organization_id" is of type text and named like a tenant column, and the application reaches the table without row level security: if it holds organization ids, every member of every organization reads and writes all its rows',
          '(27) a text organization_id: a warning, and no other finding');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.t_text'),
          format('-- if organization_id holds organization ids: ALTER TABLE %1$s ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid; SELECT tenancy.protect(%1$L, %2$L); otherwise rename the column, or revoke the table from the application',
                 :'s' || '.t_text', 'organization_id'),
          '(27) its fix is advice: convert and protect if it holds organization ids');
SELECT ok(pg_temp.has_finding(:'s' || '.t_varchar', 'warning', 'column "tenantId" is of type character varying and named like a tenant column%'),
          '(27) a varchar "tenantId" too');
ALTER TABLE t_varchar ALTER COLUMN "tenantId" TYPE uuid USING "tenantId"::uuid;
SELECT tenancy.protect('t_varchar', 'tenantId') AS ignored \gset
SELECT is(pg_temp.findings(:'s' || '.t_varchar'), '', '(27) converted and protected: no finding');
REVOKE ALL ON t_text FROM tenancy_app;
SELECT is(pg_temp.findings(:'s' || '.t_text'), '', '(27) nor once the application cannot reach it');
DROP TABLE t_text, t_camel, t_varchar;

-- (28) A foreign key to tenancy.files from a table the application writes
-- (1.24): PostgreSQL checks keys past row level security, so a member tells
-- a file they may not see from a made-up id, and keeps it from deletion.
CREATE TABLE t_notes (organization_id uuid NOT NULL, id integer NOT NULL, file_id uuid,
    PRIMARY KEY (organization_id, id),
    CONSTRAINT t_notes_file FOREIGN KEY (organization_id, file_id)
        REFERENCES tenancy.files (organization_id, id));
SELECT tenancy.protect('t_notes') AS ignored \gset
SELECT is(pg_temp.findings(:'s' || '.t_notes'),
          'warning: foreign key t_notes_file references tenancy.files, which PostgreSQL checks past row level security: a member can tell that a file they may not see exists by referencing its id, and keep its owner from deleting it (ON DELETE NO ACTION)',
          '(28) a key to files from a protected table: a warning');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.t_notes'),
          format('CREATE POLICY t_notes_file_visible ON %s AS RESTRICTIVE FOR INSERT TO tenancy_app WITH CHECK (file_id IS NULL OR EXISTS (SELECT FROM tenancy.files f WHERE f.organization_id = tenancy.current_org_id() AND f.id = file_id)); -- and give t_notes_file ON DELETE CASCADE (or SET NULL)',
                 :'s' || '.t_notes'),
          '(28) its fix: a policy that admits visible files only, and the key''s ON DELETE');
SELECT split_part(fix, ' -- ', 1) AS policy FROM tenancy.check() WHERE object = :'s' || '.t_notes' \gset
SELECT lives_ok(:'policy', '(28) the fix''s policy runs');
SELECT ok(pg_temp.has_finding(:'s' || '.t_notes', 'warning', '% (ON DELETE NO ACTION)'),
          '(28) with the policy, still the deletion its key holds up');
ALTER TABLE t_notes DROP CONSTRAINT t_notes_file,
    ADD CONSTRAINT t_notes_file FOREIGN KEY (organization_id, file_id)
        REFERENCES tenancy.files (organization_id, id) ON DELETE CASCADE;
SELECT is(pg_temp.findings(:'s' || '.t_notes'), '', '(28) the policy and ON DELETE CASCADE: no finding');
DROP TABLE t_notes;

-- (29) The rollups have not run for more than an hour (1.25, operations
-- review of 1.24): the scheduled job stopped or fails. Every run stamps the
-- state; without a state, raw rows older than an hour tell.
-- (A run in this transaction leaves its own rows, and so makes no state:
-- one is written here, as a run 59 minutes ago left it.)
DELETE FROM tenancy.rollup_state;
INSERT INTO tenancy.rollup_state (last_snapshot, last_run_at, runs)
VALUES (pg_current_snapshot(), now() - interval '59 minutes', 1);
SELECT is(pg_temp.findings('tenancy.run_rollups()'), '', '(29) a run within the hour: no finding');
UPDATE tenancy.rollup_state SET last_run_at = now() - interval '3 days';
SELECT ok(pg_temp.has_finding('tenancy.run_rollups()', 'warning',
                              'no rollup run has come since % (3 days ago): the analytics views stop at that hour%'),
          '(29) no run for 3 days: a warning, with its age');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = 'tenancy.run_rollups()'),
          'SELECT tenancy.run_rollups(); -- then see that a job runs it every minute: SELECT tenancy.schedule_rollups(); in pg_cron''s database (README, Install), and cron.job_run_details for its failures',
          '(29) its fix: a run, and the job');
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups() \gset
SELECT is((SELECT last_run_at FROM tenancy.rollup_state), now(), '(29) a run stamps the state');
SELECT is(pg_temp.findings('tenancy.run_rollups()'), '', '(29) gone after a run');
DELETE FROM tenancy.rollup_state;
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000029a1', 'cf-rollups-29', 'Finding 29');
INSERT INTO tenancy.events (organization_id, kind, at)
VALUES ('00000000-0000-4000-a000-0000000029a1', 'probe', now() - interval '2 hours');
SELECT ok(pg_temp.has_finding('tenancy.run_rollups()', 'warning',
                              'events or file access log rows written more than an hour ago have never been rolled up%'),
          '(29) no state, and an event two hours old: a warning');
-- The application sees no state (row level security), but it sees its own
-- organization's old event: the finding must not say to it that no run came.
INSERT INTO tenancy.members (organization_id, user_id, role)
VALUES ('00000000-0000-4000-a000-0000000029a1', '00000000-0000-4000-b000-0000000029a1', 'owner');
INSERT INTO tenancy.rollup_state (last_snapshot, last_run_at, runs)
VALUES (pg_current_snapshot(), now(), 1);
SET LOCAL ROLE tenancy_test_app;
SELECT tenancy.set_context('00000000-0000-4000-a000-0000000029a1',
                           '00000000-0000-4000-b000-0000000029a1') AS ignored \gset
SELECT is((SELECT count(*) FROM tenancy.events WHERE at < now() - interval '1 hour'), 1::bigint,
          '(29) the application sees its organization''s event two hours old');
SELECT is((SELECT count(*) FROM tenancy.check_rollups_running()), 0::bigint,
          '(29) not for the application, which cannot see the state the run just stamped');
SELECT tenancy.clear_context() AS ignored \gset
RESET ROLE;
DELETE FROM tenancy.organizations WHERE id = '00000000-0000-4000-a000-0000000029a1';

-------------------------------------------------------------------------------
-- (2) Policies for the application that call risky functions. They are
-- RESTRICTIVE: an extra PERMISSIVE policy on a protected table is a finding
-- of its own (it widens what the isolation policy admits).
-------------------------------------------------------------------------------
SELECT 'cf_other_' || :'r' AS role_other, 'cf_direct_' || :'r' AS role_direct,
       'cf_mid_' || :'r' AS role_mid, 'cf_indirect_' || :'r' AS role_indirect,
       'cf_super_' || :'r' AS role_super, 'cf_outside_' || :'r' AS role_outside \gset
CREATE ROLE :"role_other" NOLOGIN;

CREATE FUNCTION org_stable() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT tenancy.current_org_id() $$;
CREATE FUNCTION org_volatile() RETURNS uuid LANGUAGE sql VOLATILE
    AS $$ SELECT tenancy.current_org_id() $$;
CREATE FUNCTION org_leakproof() RETURNS uuid LANGUAGE sql STABLE LEAKPROOF
    AS $$ SELECT tenancy.current_org_id() $$;
CREATE FUNCTION uuid_same(a uuid, b uuid) RETURNS boolean LANGUAGE sql VOLATILE
    AS $$ SELECT a = b $$;
CREATE OPERATOR === (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = uuid_same);
CREATE TABLE pol_t (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('pol_t');
CREATE POLICY p_stable ON pol_t AS RESTRICTIVE FOR SELECT TO tenancy_app USING (organization_id = org_stable());
CREATE POLICY p_volatile ON pol_t AS RESTRICTIVE FOR INSERT TO tenancy_app WITH CHECK (organization_id = org_volatile());
CREATE POLICY p_member ON pol_t AS RESTRICTIVE FOR SELECT TO tenancy_test_app USING (organization_id = org_stable());
CREATE POLICY p_public ON pol_t AS RESTRICTIVE FOR SELECT USING (organization_id = org_stable());
CREATE POLICY p_operator ON pol_t AS RESTRICTIVE FOR SELECT TO tenancy_app
    USING (organization_id OPERATOR(:"s".===) tenancy.current_org_id());
CREATE POLICY p_leakproof ON pol_t AS RESTRICTIVE FOR SELECT TO tenancy_app USING (organization_id = org_leakproof());
CREATE POLICY p_other ON pol_t AS RESTRICTIVE FOR SELECT TO :"role_other" USING (organization_id = org_volatile());
-- The advice of the finding: wrap the call in (SELECT …), an init plan that
-- is evaluated once, without any row.
CREATE POLICY p_wrapped ON pol_t AS RESTRICTIVE FOR SELECT TO tenancy_app USING (organization_id = (SELECT org_volatile()));

SELECT is(pg_temp.findings(format('policy p_stable on %I.pol_t', :'s')),
          format('warning: calls %I.org_stable(), which is not LEAKPROOF', :'s'),
          '(2) a policy to tenancy_app calling a STABLE function that is not LEAKPROOF: warning');
SELECT is(pg_temp.findings(format('policy p_volatile on %I.pol_t', :'s')),
          format('error: calls %I.org_volatile(), which is not LEAKPROOF and VOLATILE (evaluated per row)', :'s'),
          '(2) a WITH CHECK calling a VOLATILE function: error');
SELECT ok(pg_temp.has_finding(format('policy p_member on %I.pol_t', :'s'), 'warning', '%org_stable()%'),
          '(2) a policy to a member of tenancy_app counts');
SELECT ok(pg_temp.has_finding(format('policy p_public on %I.pol_t', :'s'), 'warning', '%org_stable()%'),
          '(2) a policy to PUBLIC counts');
SELECT ok(pg_temp.has_finding(format('policy p_operator on %I.pol_t', :'s'), 'error', '%uuid_same(uuid,uuid)%VOLATILE%'),
          '(2) a user-defined operator''s VOLATILE function: error');
SELECT is(pg_temp.findings(format('policy p_leakproof on %I.pol_t', :'s')), '',
          '(2) a STABLE LEAKPROOF function: no finding');
SELECT is(pg_temp.findings(format('policy p_other on %I.pol_t', :'s')), '',
          '(2) a policy for a role outside tenancy_app: no finding');
SELECT is(pg_temp.findings(format('policy p_wrapped on %I.pol_t', :'s')), '',
          '(2) the call wrapped in (SELECT …), as the finding advises: no finding');
SELECT is(pg_temp.findings(:'s' || '.pol_t'), '', '(2) the table itself has no finding');

-------------------------------------------------------------------------------
-- (3) SECURITY DEFINER functions without a pinned search_path.
-------------------------------------------------------------------------------
CREATE FUNCTION sd_bare() RETURNS integer LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;
CREATE FUNCTION sd_bare(x integer) RETURNS integer LANGUAGE sql SECURITY DEFINER AS $$ SELECT x $$;
CREATE PROCEDURE sd_proc() LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;
CREATE FUNCTION sd_pinned() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$ SELECT 1 $$;
CREATE FUNCTION sd_empty() RETURNS integer LANGUAGE sql SECURITY DEFINER
    SET search_path = '' AS $$ SELECT 1 $$;
CREATE FUNCTION invoker() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;

SELECT is(pg_temp.findings(:'s' || '.sd_bare()'), 'error: SECURITY DEFINER function without a pinned search_path',
          '(3) a SECURITY DEFINER function without SET search_path: error');
SELECT ok(pg_temp.has_finding(:'s' || '.sd_bare(integer)', 'error', 'SECURITY DEFINER%'),
          '(3) each overload is reported');
SELECT ok(pg_temp.has_finding(:'s' || '.sd_proc()', 'error', 'SECURITY DEFINER%'),
          '(3) a SECURITY DEFINER procedure is reported');
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object IN (:'s' || '.sd_pinned()', :'s' || '.sd_empty()', :'s' || '.invoker()')), 0::bigint,
          '(3) pinned search_path (even empty) or SECURITY INVOKER: no finding');

-------------------------------------------------------------------------------
-- (4) Roles in tenancy_app that bypass row level security.
-------------------------------------------------------------------------------
CREATE ROLE :"role_direct" NOLOGIN BYPASSRLS IN ROLE tenancy_app;
CREATE ROLE :"role_mid" NOLOGIN IN ROLE tenancy_app;
CREATE ROLE :"role_indirect" NOLOGIN BYPASSRLS IN ROLE :"role_mid";
CREATE ROLE :"role_super" NOLOGIN SUPERUSER IN ROLE tenancy_app;
CREATE ROLE :"role_outside" NOLOGIN BYPASSRLS;

SELECT is(pg_temp.findings(:'role_direct'), 'error: BYPASSRLS member of tenancy_app',
          '(4) a BYPASSRLS role granted tenancy_app: error');
SELECT is(pg_temp.findings(:'role_indirect'), 'error: BYPASSRLS member of tenancy_app',
          '(4) a BYPASSRLS role in tenancy_app through another role: error');
SELECT is(pg_temp.findings(:'role_super'), 'error: superuser member of tenancy_app (bypasses row level security)',
          '(4) a superuser member of tenancy_app: error');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object IN (:'role_mid', :'role_outside')), 0::bigint,
          '(4) a member without BYPASSRLS, or a BYPASSRLS role outside tenancy_app: no finding');

-------------------------------------------------------------------------------
-- (5) Tenant tables without an index that leads with the tenant column.
-------------------------------------------------------------------------------
CREATE TABLE idx_prot (organization_id uuid, id integer);
SELECT tenancy.protect('idx_prot');
SELECT is(pg_temp.findings(:'s' || '.idx_prot'), '', '(5) protected with its index: no finding');
SELECT format('DROP INDEX %I.%I', :'s', created_index) AS drop_idx_prot
FROM tenancy.protected_tables WHERE relid = 'idx_prot'::regclass \gset
:drop_idx_prot;
CREATE TABLE idx_second (id integer, organization_id uuid);
ALTER TABLE idx_second ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE INDEX ON idx_second (id, organization_id);
GRANT SELECT ON idx_second TO tenancy_app;  -- (a table the application reaches)
CREATE TABLE idx_school (school_id uuid, id integer);
SELECT tenancy.protect('idx_school', 'school_id');
DROP INDEX idx_school_school_id_idx;

SELECT is(pg_temp.findings(:'s' || '.idx_prot'),
          'warning: no index leads with the tenant column "organization_id": every tenant read scans the table',
          '(5) a protected table whose tenant index was dropped: warning');
SELECT is(pg_temp.findings(:'s' || '.idx_second'),
          'warning: no index leads with the tenant column "organization_id": every tenant read scans the table',
          '(5) a tenant table whose index has the tenant column second: warning');
SELECT is(pg_temp.findings(:'s' || '.idx_school'),
          'warning: no index leads with the tenant column "school_id": every tenant read scans the table',
          '(5) a table protected on school_id: the warning names school_id');

-------------------------------------------------------------------------------
-- (6) Protected tables changed since protection.
-------------------------------------------------------------------------------
CREATE TABLE alt_policy (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
CREATE TABLE alt_default (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
CREATE TABLE alt_other_default (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
CREATE TABLE alt_column (organization_id uuid NOT NULL, id integer PRIMARY KEY);
CREATE TABLE alt_noforce (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('alt_policy'), tenancy.protect('alt_default'), tenancy.protect('alt_other_default'),
       tenancy.protect('alt_column'), tenancy.protect('alt_noforce');
DROP POLICY tenancy_isolation ON alt_policy;
ALTER TABLE alt_default ALTER COLUMN organization_id DROP DEFAULT;
ALTER TABLE alt_other_default ALTER COLUMN organization_id SET DEFAULT gen_random_uuid();
ALTER TABLE alt_column DROP COLUMN organization_id CASCADE;
ALTER TABLE alt_noforce NO FORCE ROW LEVEL SECURITY;

SELECT is(pg_temp.findings(:'s' || '.alt_policy'), 'error: isolation policy tenancy_isolation was removed',
          '(6) the isolation policy dropped: error');
SELECT is(pg_temp.findings(:'s' || '.alt_default'),
          'error: tenant column no longer defaults to tenancy.current_org_id()',
          '(6) the tenant column default dropped: error');
SELECT is(pg_temp.findings(:'s' || '.alt_other_default'),
          'error: tenant column no longer defaults to tenancy.current_org_id()',
          '(6) the tenant column default replaced: error');
SELECT ok(pg_temp.has_finding(:'s' || '.alt_column', 'error',
          'tenant column "organization_id" was dropped (re-add it and protect again, or unprotect)'),
          '(6) the tenant column dropped: error');
SELECT is(pg_temp.findings(:'s' || '.alt_noforce'),
          'error: row level security is not forced (the owner bypasses it)',
          '(6) a protected table whose RLS is no longer forced: error');

-------------------------------------------------------------------------------
-- Every finding, here and anywhere in the database, comes with a fix.
-------------------------------------------------------------------------------
SELECT cmp_ok((SELECT count(*) FROM tenancy.check()
               WHERE object LIKE '%' || :'s' || '.%' OR object LIKE 'cf\_%\_' || :'r'), '>=', 25::bigint,
              'all the findings above are present at once');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE fix IS NULL OR btrim(fix) = ''), 0::bigint,
          'every finding has a non-empty fix');
SELECT is((SELECT count(*) FROM tenancy.check() WHERE severity NOT IN ('error', 'warning')
                                                   OR object IS NULL OR finding IS NULL), 0::bigint,
          'every finding has a severity of error or warning, an object and a finding');

-------------------------------------------------------------------------------
-- Fixes.
-------------------------------------------------------------------------------
-- (1) Running each fix (tenancy.protect) clears the table's findings.
SELECT is(pg_temp.apply_fixes(:'s' || '.t_org'), 'ok', '(1) fix t_org: the fixes run');
SELECT is(pg_temp.findings(:'s' || '.t_org'), '', '(1) fix t_org: no finding left');
SELECT ok(EXISTS (SELECT FROM tenancy.protected_tables WHERE relid = 't_org'::regclass),
          '(1) fix t_org: the table is protected');
SELECT is(pg_temp.apply_fixes(:'s' || '.t_tenant') || pg_temp.apply_fixes(:'s' || '.t_orgid')
          || pg_temp.apply_fixes(:'s' || '.t_school') || pg_temp.apply_fixes(:'s' || '.t_enabled')
          || pg_temp.apply_fixes(:'s' || '.t_part'),
          'okokokokok', '(1) fix the other tenant tables: the fixes run');
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object IN (:'s' || '.t_tenant', :'s' || '.t_orgid', :'s' || '.t_school',
                            :'s' || '.t_enabled', :'s' || '.t_part')), 0::bigint,
          '(1) fix the other tenant tables: no finding left');
SELECT is((SELECT tenant_column::text FROM tenancy.protected_tables WHERE relid = 't_school'::regclass), 'school_id',
          '(1) fix t_school: protected on school_id');

-- (2) Replace the policies' functions, drop a policy, mark a function LEAKPROOF.
ALTER POLICY p_stable ON pol_t USING (organization_id = org_leakproof());
SELECT is(pg_temp.findings(format('policy p_stable on %I.pol_t', :'s')), '',
          '(2) fix: a policy changed to a LEAKPROOF function has no finding left');
DROP POLICY p_volatile ON pol_t;
SELECT is(pg_temp.findings(format('policy p_volatile on %I.pol_t', :'s')), '',
          '(2) fix: a dropped policy has no finding left');
SELECT ok(pg_temp.has_finding(format('policy p_member on %I.pol_t', :'s'), 'warning', '%org_stable()%'),
          '(2) the other policies calling org_stable() are still reported');
ALTER FUNCTION org_stable() LEAKPROOF;
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object IN (format('policy p_member on %I.pol_t', :'s'),
                                                                  format('policy p_public on %I.pol_t', :'s'))),
          0::bigint, '(2) fix: org_stable() made LEAKPROOF clears the policies that call it');
CREATE OR REPLACE FUNCTION uuid_same(a uuid, b uuid) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT a = b $$;
SELECT is(pg_temp.findings(format('policy p_operator on %I.pol_t', :'s')),
          format('warning: calls %I.uuid_same(uuid,uuid), which is not LEAKPROOF', :'s'),
          '(2) the operator''s function made STABLE: error down to warning');
DROP POLICY p_operator ON pol_t;
SELECT is((SELECT count(*) FROM tenancy.check() WHERE object LIKE 'policy % on ' || :'s' || '.pol_t'
                                                  AND object <> format('policy p_wrapped on %I.pol_t', :'s')),
          0::bigint, '(2) fix: no policy finding left on the table');

-- (3) Running the fix (ALTER FUNCTION … SET search_path) clears it.
SELECT is(pg_temp.apply_fixes(:'s' || '.sd_bare()'), 'ok', '(3) fix sd_bare(): the fix runs');
SELECT is(pg_temp.findings(:'s' || '.sd_bare()'), '', '(3) fix sd_bare(): no finding left');
SELECT ok(pg_temp.has_finding(:'s' || '.sd_bare(integer)', 'error', 'SECURITY DEFINER%'),
          '(3) the other overload is still reported');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'sd_bare()'::regprocedure),
          ARRAY['search_path=pg_catalog, pg_temp'], '(3) fix sd_bare(): search_path pinned to pg_catalog, pg_temp');
SELECT is(pg_temp.apply_fixes(:'s' || '.sd_bare(integer)'), 'ok', '(3) fix sd_bare(integer): the fix runs');
SELECT is(pg_temp.apply_fixes(:'s' || '.sd_proc()'), 'ok', '(3) fix of a procedure: the fix runs');
-- (Whatever the fix did, pin the procedure's search_path by hand, so that the
-- assertions below are about the other objects.)
ALTER PROCEDURE sd_proc() SET search_path = pg_catalog, pg_temp;
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object IN (:'s' || '.sd_bare(integer)', :'s' || '.sd_proc()')), 0::bigint,
          '(3) no SECURITY DEFINER finding left');

-- (4) NOBYPASSRLS (the fix), REVOKE, NOSUPERUSER.
SELECT is(pg_temp.apply_fixes(:'role_direct'), 'ok', '(4) fix the direct member: the fix runs');
SELECT is(pg_temp.findings(:'role_direct'), '', '(4) fix the direct member: no finding left');
SELECT ok(NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = :'role_direct'),
          '(4) fix the direct member: it no longer bypasses RLS');
REVOKE :"role_mid" FROM :"role_indirect";
SELECT is(pg_temp.findings(:'role_indirect'), '', '(4) fix the indirect member by REVOKE: no finding left');
SELECT is(pg_temp.apply_fixes(:'role_super'), 'ok', '(4) fix the superuser member: the fix runs');
SELECT is(pg_temp.findings(:'role_super'), '', '(4) fix the superuser member: no finding left');

-- (5) Running the fix (CREATE INDEX) clears it.
SELECT is(pg_temp.apply_fixes(:'s' || '.idx_prot') || pg_temp.apply_fixes(:'s' || '.idx_second')
          || pg_temp.apply_fixes(:'s' || '.idx_school'), 'okokok', '(5) fix: the fixes run');
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object IN (:'s' || '.idx_prot', :'s' || '.idx_second', :'s' || '.idx_school')), 0::bigint,
          '(5) fix: no finding left');
SELECT is((SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
           WHERE i.indrelid = 'idx_school'::regclass AND a.attname = 'school_id'), 1::bigint,
          '(5) fix: the index leads with school_id');

-- (6) Protecting again restores policy and default; a dropped column is
-- fixed by its own suggested fix, or at the least by unprotect.
SELECT is(pg_temp.apply_fixes(:'s' || '.alt_policy') || pg_temp.apply_fixes(:'s' || '.alt_default')
          || pg_temp.apply_fixes(:'s' || '.alt_other_default') || pg_temp.apply_fixes(:'s' || '.alt_noforce'),
          'okokokok', '(6) fix: protecting again runs');
SELECT is((SELECT count(*) FROM tenancy.check()
           WHERE object IN (:'s' || '.alt_policy', :'s' || '.alt_default', :'s' || '.alt_other_default',
                            :'s' || '.alt_noforce')), 0::bigint,
          '(6) fix: no finding left on the re-protected tables');
SELECT ok(EXISTS (SELECT FROM pg_policy WHERE polrelid = 'alt_policy'::regclass AND polname = 'tenancy_isolation'),
          '(6) fix: the isolation policy is back');
SELECT is((SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'alt_other_default'::regclass),
          'tenancy.current_org_id()', '(6) fix: the tenant column defaults to the context again');
SELECT is((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'alt_noforce'::regclass), true,
          '(6) fix: row level security is forced again');
SELECT is(pg_temp.apply_fixes(:'s' || '.alt_column'), 'ok',
          '(6) tenant column dropped: the suggested fixes run');
SELECT is(pg_temp.findings(:'s' || '.alt_column'), '',
          '(6) tenant column dropped: the suggested fixes leave no finding');
-- The suggested fix is unprotect(): the table is no longer protected.
SELECT ok(NOT EXISTS (SELECT FROM tenancy.protected_tables WHERE relid = 'alt_column'::regclass),
          '(6) tenant column dropped: after unprotect the table is no longer protected');

-------------------------------------------------------------------------------
-- 1.4: what the application reaches around the policies.
-------------------------------------------------------------------------------
-- (6) A policy for a role an application login belongs to (not a member of
-- tenancy_app, but a role above one) adds up with the isolation policy too.
SELECT 'cf_readers_' || :'r' AS role_readers, 'cf_login_' || :'r' AS role_login \gset
CREATE ROLE :"role_login" NOLOGIN IN ROLE tenancy_app;
CREATE ROLE :"role_readers" NOLOGIN;
GRANT :"role_readers" TO :"role_login";
CREATE TABLE via_group (organization_id uuid NOT NULL, v int);
CREATE INDEX ON via_group (organization_id);
SELECT tenancy.protect('via_group');
CREATE POLICY group_reads ON via_group TO :"role_readers" USING (true);
SELECT ok(pg_temp.has_finding(:'s' || '.via_group', 'error', 'policy group_reads also admits rows%'),
          '(6) a permissive policy for a role an application login belongs to: error');
DROP POLICY group_reads ON via_group;
-- (6) ... pg_database_owner too, for a member of tenancy_app that owns the
-- database (1.13 finds these roles by walking pg_auth_members up from the
-- members, no longer by pg_has_role() for every pair).
-- The owner is reached through a role the member belongs to (a first draft
-- of 1.13 looked at the members alone).
SELECT current_database() AS cf_db, (SELECT datdba::regrole FROM pg_database WHERE datname = current_database()) AS cf_db_owner,
       'cf_owner_' || :'r' AS role_owner \gset
CREATE ROLE :"role_owner" NOLOGIN;
GRANT :"role_owner" TO :"role_login";
ALTER DATABASE :"cf_db" OWNER TO :"role_owner";
CREATE POLICY owner_reads ON via_group TO pg_database_owner USING (true);
SELECT ok(pg_temp.has_finding(:'s' || '.via_group', 'error', 'policy owner_reads also admits rows%'),
          '(6) a permissive policy for pg_database_owner, when a role an application role belongs to owns the database: error');
DROP POLICY owner_reads ON via_group;
ALTER DATABASE :"cf_db" OWNER TO :"cf_db_owner";

-- (6) A renamed tenant column is reported as renamed; the fix protects the
-- table under the new name (it no longer suggests unprotect, which opened it).
CREATE TABLE renamed_col (organization_id uuid NOT NULL, v int);
CREATE INDEX ON renamed_col (organization_id);
SELECT tenancy.protect('renamed_col');
ALTER TABLE renamed_col RENAME organization_id TO org_uuid;
SELECT is(pg_temp.findings(:'s' || '.renamed_col'),
          'error: tenant column "organization_id" was renamed to org_uuid',
          '(6) a renamed tenant column: error, named');
SELECT is(pg_temp.apply_fixes(:'s' || '.renamed_col'), 'ok', '(6) renamed: the fix runs');
SELECT is(pg_temp.findings(:'s' || '.renamed_col'), '', '(6) renamed: no finding left');
SELECT is((SELECT tenant_column::text FROM tenancy.protected_tables WHERE relid = 'renamed_col'::regclass),
          'org_uuid', '(6) renamed: protected under the new name');

-- (7) Partitions the application can read directly, without RLS of their own.
CREATE TABLE parted (organization_id uuid NOT NULL, v int) PARTITION BY HASH (organization_id);
CREATE TABLE parted_0 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE INDEX ON parted (organization_id);
SELECT tenancy.protect('parted');
SELECT is(pg_temp.findings(:'s' || '.parted_0'), '', '(7) a partition the application cannot reach: no finding');
GRANT SELECT ON parted_0 TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.parted_0', 'error', 'partition readable directly%'),
          '(7) a partition the application can read directly, without RLS: error');
REVOKE SELECT ON parted_0 FROM tenancy_app;
GRANT pg_read_all_data TO :"role_readers";
SELECT ok(pg_temp.has_finding(:'s' || '.parted_1', 'error', 'partition readable directly%'),
          '(7) a partition the application reads through pg_read_all_data: error');
REVOKE pg_read_all_data FROM :"role_readers";
GRANT SELECT ON parted_0 TO tenancy_app;
SELECT is(pg_temp.apply_fixes(:'s' || '.parted_0'), 'ok', '(7) the fix runs');
SELECT is(pg_temp.findings(:'s' || '.parted_0'), '', '(7) no finding left');

-- (8) A tenant table that inherits from a plain table the application can read.
CREATE TABLE plain_parent (v int);
CREATE TABLE heir (organization_id uuid NOT NULL, v int);
CREATE INDEX ON heir (organization_id);
SELECT tenancy.protect('heir');
ALTER TABLE heir INHERIT plain_parent;
SELECT is(pg_temp.findings(:'s' || '.heir'), '', '(8) a parent the application cannot read: no finding');
GRANT SELECT ON plain_parent TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.heir', 'error', 'inherits from %'),
          '(8) a tenant table with an inheritance parent: error');
SELECT is(pg_temp.apply_fixes(:'s' || '.heir'), 'ok', '(8) the fix runs');
SELECT is(pg_temp.findings(:'s' || '.heir'), '', '(8) no finding left');

-- (9) A materialized view of a tenant table that the application can read.
CREATE MATERIALIZED VIEW clean_counts AS SELECT organization_id, count(*) FROM heir GROUP BY 1;
GRANT SELECT ON clean_counts TO :"role_readers";
SELECT ok(pg_temp.has_finding(:'s' || '.clean_counts', 'error', 'materialized view of tenant table%'),
          '(9) a materialized view of a tenant table the application can read: error');
SELECT is(pg_temp.apply_fixes(:'s' || '.clean_counts'), 'ok', '(9) the fix runs');
SELECT is(pg_temp.findings(:'s' || '.clean_counts'), '', '(9) no finding left');

-- (10) A view of a tenant table, owned by the superuser, without
-- security_invoker, that the application can read.
CREATE VIEW heir_view AS SELECT * FROM heir;
SELECT is(pg_temp.findings(:'s' || '.heir_view'), '', '(10) a view the application cannot read: no finding');
GRANT SELECT ON heir_view TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.heir_view', 'error', 'view of tenant table % runs as its owner %'),
          '(10) a view run as an owner who bypasses RLS, readable by the application: error');
SELECT is(pg_temp.apply_fixes(:'s' || '.heir_view'), 'ok', '(10) the fix runs');
SELECT is(pg_temp.findings(:'s' || '.heir_view'), '', '(10) no finding left');

-- (10) Reached through another view: a view the application reads, owned by
-- a role that does not bypass RLS but runs as that owner, reads an inner view
-- that runs as the superuser. The inner one is the leak.
SELECT 'cf_plain_' || :'r' AS role_plain \gset
CREATE ROLE :"role_plain" NOLOGIN;
GRANT USAGE ON SCHEMA :"s" TO :"role_plain";
CREATE VIEW inner_view AS SELECT * FROM heir;
GRANT SELECT ON inner_view TO :"role_plain";
CREATE VIEW middle_view AS SELECT * FROM inner_view;
ALTER VIEW middle_view OWNER TO :"role_plain";
GRANT SELECT ON middle_view TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.inner_view', 'error', 'view of tenant table % runs as its owner %'),
          '(10) a view reached through another view run as its owner: error');
SELECT is(pg_temp.findings(:'s' || '.middle_view'), '',
          '(10) the outer view, run as an owner who does not bypass RLS: no finding');
-- A grant on one column is enough to read through a view.
CREATE VIEW column_view AS SELECT organization_id, v FROM heir;
GRANT SELECT (v) ON column_view TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.column_view', 'error', 'view of tenant table %'),
          '(10) a view the application reads through a column grant: error');
-- security_invoker spelled as 1 is security_invoker.
CREATE VIEW invoker_view WITH (security_invoker = 1) AS SELECT * FROM heir;
GRANT SELECT ON invoker_view TO tenancy_app;
SELECT is(pg_temp.findings(:'s' || '.invoker_view'), '', '(10) security_invoker = 1: no finding');
DROP VIEW middle_view, inner_view, column_view, invoker_view;

-- (8) A tenant table inheriting from a protected tenant table: the parent's
-- isolation policy covers the child's rows; nothing to report.
CREATE TABLE heir_archive (organization_id uuid NOT NULL, v int);
CREATE INDEX ON heir_archive (organization_id);
SELECT tenancy.protect('heir_archive');
ALTER TABLE heir_archive INHERIT heir;
SELECT is(pg_temp.findings(:'s' || '.heir_archive'), '', '(8) inheriting from a protected table: no finding');

-- (4) An application login that belongs to a superuser role can SET ROLE to it.
SELECT 'cf_su_' || :'r' AS role_su \gset
CREATE ROLE :"role_su" NOLOGIN SUPERUSER;
GRANT :"role_su" TO :"role_login";
SELECT ok(pg_temp.has_finding(:'role_su', 'error', 'superuser role that application logins belong to%'),
          '(4) a superuser role an application login belongs to: error');
SELECT is(pg_temp.apply_fixes(:'role_su'), 'ok', '(4) the fix runs');
SELECT is(pg_temp.findings(:'role_su'), '', '(4) no finding left');

-- (11) pg_tenancy's own guard trigger turned into a plain ENABLE one (what a
-- data-only pg_restore --disable-triggers leaves behind), or disabled.
ALTER TABLE tenancy.file_access_log ENABLE TRIGGER file_access_log_append_only;
SELECT is(pg_temp.findings('trigger file_access_log_append_only on tenancy.file_access_log'),
          'error: pg_tenancy guard trigger does not fire under session_replication_role = replica',
          '(11) the log''s guard trigger no longer ENABLE ALWAYS: error');
ALTER TABLE tenancy.files DISABLE TRIGGER files_audit_insert;
SELECT is(pg_temp.findings('trigger files_audit_insert on tenancy.files'),
          'error: pg_tenancy trigger is disabled', '(11) an audit trigger disabled: error');
SELECT is(pg_temp.apply_fixes('trigger file_access_log_append_only on tenancy.file_access_log')
          || ' ' || pg_temp.apply_fixes('trigger files_audit_insert on tenancy.files'), 'ok ok',
          '(11) the fixes run');
SELECT is((SELECT string_agg(tgname || '=' || tgenabled::text, ', ' ORDER BY tgname) FROM pg_trigger
           WHERE tgname IN ('file_access_log_append_only', 'files_audit_insert')
             AND tgrelid IN ('tenancy.file_access_log'::regclass, 'tenancy.files'::regclass)),
          'file_access_log_append_only=A, files_audit_insert=O', '(11) the triggers are as installed again');
-- The log's partitions are not extension members, and are checked as well:
-- their clone of the row guard (back to ALWAYS with its parent's) and their
-- own TRUNCATE guard.
SELECT is((SELECT count(*) FROM pg_trigger
           WHERE tgrelid IN (SELECT relid FROM pg_partition_tree('tenancy.file_access_log'))
             AND tgenabled <> 'A'), 0::bigint, '(11) every trigger of the log''s partitions is ALWAYS again');
ALTER TABLE tenancy.file_access_log_default DISABLE TRIGGER file_access_log_no_truncate;
SELECT is(pg_temp.findings('trigger file_access_log_no_truncate on tenancy.file_access_log_default'),
          'error: pg_tenancy trigger is disabled', '(11) a partition''s TRUNCATE guard disabled: error');
SELECT is(pg_temp.apply_fixes('trigger file_access_log_no_truncate on tenancy.file_access_log_default'),
          'ok', '(11) its fix runs');
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE;
SELECT is(pg_temp.findings('event trigger pg_tenancy_file_access_log_ddl_guard'),
          'error: pg_tenancy event trigger does not fire under session_replication_role = replica',
          '(11) the event trigger guarding the log''s partitions no longer ALWAYS: error');
SELECT is(pg_temp.apply_fixes('event trigger pg_tenancy_file_access_log_ddl_guard'), 'ok',
          '(11) its fix runs');
SELECT is(pg_temp.findings('tenancy.file_access_log'), '',
          '(5) the partitioned log, indexed per partition: no finding');
-- (13) The log taken out of the extension, which lets its months be dropped.
-- (The DDL guard refuses it since 1.9: set aside for the test.)
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
ALTER EXTENSION pg_tenancy DROP TABLE tenancy.file_access_log;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
SELECT is(pg_temp.findings('tenancy.file_access_log'),
          'error: the file access log is no longer a member of the extension pg_tenancy: nothing keeps its partitions from being dropped',
          '(13) the log out of the extension: error');
SELECT is(pg_temp.apply_fixes('tenancy.file_access_log'), 'ok', '(13) its fix runs');
SELECT is(pg_temp.findings('tenancy.file_access_log'), '', '(13) no finding left');

-- (14) The log's months not kept ahead of the clock: next month's partition
-- gone (the DDL guard set aside for it), as if maintenance had stopped.
SELECT is(pg_temp.findings('tenancy.file_access_log'), '', '(14) months ahead: no finding');
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
DO $$
BEGIN
    EXECUTE (SELECT format('DROP TABLE %s', partition) FROM tenancy.file_access_log_partitions()
             WHERE from_at = (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
                             AT TIME ZONE 'UTC');
END
$$;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
SELECT is(pg_temp.findings('tenancy.file_access_log'),
          'warning: no partition of the file access log covers next month yet: from then on its appends would go to the default partition (is tenancy.run_rollups() scheduled, as a superuser, and does its maintenance succeed?)',
          '(14) next month without a partition: warning, naming next month (1.10)');
SELECT is(pg_temp.apply_fixes('tenancy.file_access_log'), 'ok', '(14) its fix runs');
SELECT is(pg_temp.findings('tenancy.file_access_log'), '', '(14) no finding left');
-- ... and a row waiting in the default partition for a month that has none.
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
VALUES (gen_random_uuid(), gen_random_uuid(), 'view', '2013-03-03 03:00+00');
SELECT is(pg_temp.findings('tenancy.file_access_log'),
          'warning: the default partition of the file access log holds rows of months that have no partition of their own: maintenance has not moved them yet (it has not run since, run_rollups() found the log busy and left them to a later run, or making their month failed, with a WARNING in the server log)',
          '(14) a row waiting in the default partition: warning');
SELECT is(pg_temp.apply_fixes('tenancy.file_access_log'), 'ok', '(14) its fix runs');
SELECT is(pg_temp.findings('tenancy.file_access_log'), '', '(14) no finding left: the row has its month');
-- With no month at all (maintenance never ran) and a row of this month in
-- the default partition, both are reported; maintenance clears both.
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
DO $$
DECLARE
    month regclass;
BEGIN
    FOR month IN SELECT partition FROM tenancy.file_access_log_partitions() WHERE NOT is_default LOOP
        EXECUTE format('DROP TABLE %s', month);
    END LOOP;
END
$$;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
VALUES (gen_random_uuid(), gen_random_uuid(), 'view', now());
SELECT is(pg_temp.findings('tenancy.file_access_log'),
          'warning: no partition of the file access log covers this month: its appends go to the default partition (is tenancy.run_rollups() scheduled, as a superuser, and does its maintenance succeed?)'
          || E'\n' ||
          'warning: the default partition of the file access log holds rows of months that have no partition of their own: maintenance has not moved them yet (it has not run since, run_rollups() found the log busy and left them to a later run, or making their month failed, with a WARNING in the server log)',
          '(14) no month at all and a row waiting: both warnings');
SELECT is(pg_temp.apply_fixes('tenancy.file_access_log'), 'ok', '(14) its fix runs');
SELECT is(pg_temp.findings('tenancy.file_access_log'), '', '(14) no finding left: the months are made');
-- (16) The event trigger that keeps the extension's functions from being
-- replaced (1.9), disabled.
ALTER EVENT TRIGGER pg_tenancy_function_guard DISABLE;
SELECT is(pg_temp.findings('event trigger pg_tenancy_function_guard'),
          'error: pg_tenancy event trigger is disabled', '(16) the function guard disabled: error');
SELECT is(pg_temp.apply_fixes('event trigger pg_tenancy_function_guard'), 'ok', '(16) its fix runs');
SELECT is(pg_temp.findings('event trigger pg_tenancy_function_guard'), '', '(16) no finding left');
-- (17) The log's guards and the files audit, found by function and event.
SELECT is(pg_temp.findings('table tenancy.file_access_log') || pg_temp.findings('table tenancy.files'), '',
          '(17) guards and audit triggers in place: no finding');
DROP TRIGGER file_access_log_append_only ON tenancy.file_access_log;
SELECT is(pg_temp.findings('table tenancy.file_access_log'),
          'error: the guard that keeps its rows from being updated or deleted (a trigger calling tenancy.file_access_log_guard()) is missing',
          '(17) the log''s row guard dropped: error');
SELECT is(pg_temp.apply_fixes('table tenancy.file_access_log'), 'ok', '(17) its fix runs');
SELECT is(pg_temp.findings('table tenancy.file_access_log'), '', '(17) no finding left');
-- Renamed, then enabled for origin sessions only: the by-name finding (11)
-- no longer sees it.
ALTER TRIGGER file_access_log_append_only ON tenancy.file_access_log RENAME TO zz_renamed;
ALTER TABLE tenancy.file_access_log ENABLE TRIGGER zz_renamed;
SELECT is(pg_temp.findings('table tenancy.file_access_log'),
          'error: the guard that keeps its rows from being updated or deleted (trigger zz_renamed) is not ENABLE ALWAYS',
          '(17) the row guard renamed and not ALWAYS: error');
SELECT is(pg_temp.apply_fixes('table tenancy.file_access_log'), 'ok', '(17) its fix runs');
SELECT is(pg_temp.findings('table tenancy.file_access_log'), '', '(17) no finding left');
ALTER TRIGGER zz_renamed ON tenancy.file_access_log RENAME TO file_access_log_append_only;
-- Disabled, it is reported by (11) and (17) alike, with one fix.
ALTER TABLE tenancy.files DISABLE TRIGGER files_audit_update;
SELECT is(pg_temp.apply_fixes('table tenancy.files'), 'ok', '(17) a files audit trigger disabled: its fix runs');
SELECT is(pg_temp.findings('table tenancy.files'), '', '(17) ... and no finding is left');
DROP TRIGGER files_audit_update ON tenancy.files;
SELECT is(pg_temp.findings('table tenancy.files'),
          'error: the audit of its UPDATEs (a trigger calling tenancy.files_audit()) is missing',
          '(17) the files audit of UPDATEs dropped: error');
SELECT is(pg_temp.apply_fixes('table tenancy.files'), 'ok', '(17) its fix runs');
SELECT is(pg_temp.findings('table tenancy.files'), '', '(17) no finding left');
-- A DBA's trigger that fires before audit rows are written.
CREATE FUNCTION pg_temp.swallow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TRIGGER a_swallow BEFORE INSERT ON tenancy.file_access_log
    FOR EACH ROW EXECUTE FUNCTION pg_temp.swallow();
SELECT is(pg_temp.findings('trigger a_swallow on tenancy.file_access_log'),
          'warning: a trigger that is not pg_tenancy''s fires before rows of the file access log are written or changed: it can change or drop audit rows',
          '(17) a BEFORE trigger of the DBA''s on the log: warning');
SELECT is(pg_temp.apply_fixes('trigger a_swallow on tenancy.file_access_log'), 'ok', '(17) its fix runs');
SELECT is(pg_temp.findings('trigger a_swallow on tenancy.file_access_log'), '', '(17) no finding left');
-- check() calls its pieces by OID: a function put in the place of one
-- (the real one renamed: since 1.10 the DDL guard refuses that, set aside
-- here as a superuser could) does not stand in for it.
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard DISABLE;
SELECT count(*) AS findings_before FROM tenancy.check() \gset
ALTER FUNCTION tenancy.check_configuration() RENAME TO check_configuration_real;
CREATE FUNCTION tenancy.check_configuration()
    RETURNS TABLE (severity text, object text, finding text, fix text)
    LANGUAGE sql AS 'SELECT NULL::text, NULL::text, NULL::text, NULL::text WHERE false';
SELECT is((SELECT count(*) FROM tenancy.check()), :findings_before::bigint,
          'check() still runs its own pieces after one is renamed and another takes its name');
DROP FUNCTION tenancy.check_configuration();
ALTER FUNCTION tenancy.check_configuration_real() RENAME TO check_configuration;
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard ENABLE ALWAYS;
-- A DBA who is no superuser, granted check() (and what it calls that is not
-- everyone's), still runs it: (14)'s helper is everyone's.
SELECT 'cf_dba_' || :'r' AS role_dba \gset
CREATE ROLE :"role_dba" NOLOGIN IN ROLE pg_read_all_data;
GRANT USAGE ON SCHEMA tenancy TO :"role_dba";
GRANT EXECUTE ON FUNCTION tenancy.check(), tenancy.file_access_log_partitions() TO :"role_dba";
SET ROLE :"role_dba";
SELECT lives_ok('SELECT count(*) FROM tenancy.check()', 'a DBA granted check(), no superuser, runs it');
RESET ROLE;

-- ... and, with pg_read_all_data as the README says, the findings about
-- protected tables (1.10: tenancy.protected_tables has a policy for
-- pg_read_all_data; before, its forced row level security hid every row, and
-- such a DBA was told all was well).
CREATE TABLE t_seen (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('t_seen') AS ignored \gset
DROP POLICY tenancy_isolation ON t_seen;
SET ROLE :"role_dba";
SELECT is(pg_temp.findings(:'s' || '.t_seen'), 'error: isolation policy tenancy_isolation was removed',
          'a DBA with pg_read_all_data, no superuser, sees a protected table''s findings');
RESET ROLE;
DROP TABLE t_seen;
-- The rollup functions are a superuser's: a role whom the rollup state's row
-- level security hides it from is refused (1.10; purge_events() returned 0).
GRANT EXECUTE ON FUNCTION tenancy.purge_events(), tenancy.run_rollups(boolean),
    tenancy.purge_file_access_log(interval) TO :"role_dba";
SET ROLE :"role_dba";
SELECT throws_ok('SELECT tenancy.purge_events()', '42501',
                 'permission denied for function tenancy.purge_events',
                 'purge_events() refuses a caller who cannot see the rollup state');
SELECT throws_ok('SELECT * FROM tenancy.run_rollups()', '42501',
                 'permission denied for function tenancy.run_rollups', 'so does run_rollups()');
SELECT throws_ok($$SELECT tenancy.purge_file_access_log('1 day')$$, '42501',
                 'permission denied for function tenancy.purge_file_access_log',
                 'and purge_file_access_log()');
RESET ROLE;

-------------------------------------------------------------------------------
-- (18) Keys of protected tables that reach across tenants (1.10): a foreign
-- key between protected tables that does not pair the tenant columns (an
-- error), a unique key without the tenant column unless it is generated (a
-- warning). Each fix runs.
-------------------------------------------------------------------------------
CREATE TABLE k_lessons (organization_id uuid NOT NULL, id integer NOT NULL, title text,
                        PRIMARY KEY (organization_id, id), UNIQUE (id), UNIQUE (title));
CREATE TABLE k_grades (organization_id uuid NOT NULL, id serial, lesson_id integer
                           REFERENCES k_lessons (id) ON DELETE CASCADE DEFERRABLE,
                       PRIMARY KEY (organization_id, id));
CREATE TABLE k_serial (id bigserial PRIMARY KEY, organization_id uuid NOT NULL);
CREATE TABLE k_notes (organization_id uuid NOT NULL, id integer, lesson_id integer
                          REFERENCES k_lessons (id) ON DELETE SET NULL,
                      PRIMARY KEY (organization_id, id));
-- A tree: the parent's organization in a column of its own, paired with the
-- referenced tenant column (the fix puts the tenant column in its place).
CREATE TABLE k_tree (organization_id uuid NOT NULL, id integer NOT NULL, parent_org uuid, parent integer,
                     PRIMARY KEY (organization_id, id),
                     FOREIGN KEY (parent_org, parent) REFERENCES k_tree (organization_id, id));
CREATE TABLE k_users (organization_id uuid NOT NULL, id integer NOT NULL, email text,
                      PRIMARY KEY (organization_id, id));
-- (1.23) ON UPDATE SET NULL would null the tenant column too once the key
-- pairs it: the fix leaves that action out.
CREATE TABLE k_mats (organization_id uuid NOT NULL, id integer, lesson_id integer
                         REFERENCES k_lessons (id) ON UPDATE SET NULL ON DELETE SET NULL,
                     PRIMARY KEY (organization_id, id));
CREATE UNIQUE INDEX k_users_email ON k_users (email);
CREATE UNIQUE INDEX k_users_id_incl ON k_users (id) INCLUDE (organization_id);
SELECT tenancy.protect('k_lessons') AS ignored \gset
SELECT tenancy.protect('k_grades') AS ignored \gset
SELECT tenancy.protect('k_serial') AS ignored \gset
SELECT tenancy.protect('k_tree') AS ignored \gset
SELECT tenancy.protect('k_notes') AS ignored \gset
SELECT tenancy.protect('k_mats') AS ignored \gset
SELECT tenancy.protect('k_users') AS ignored \gset
SELECT is(pg_temp.findings(:'s' || '.k_grades'),
          format('error: foreign key "k_grades_lesson_id_fkey" of %s.k_grades references %s.k_lessons without matching its tenant column to that table''s: it reaches across tenants', :'s', :'s'),
          '(18) a foreign key between protected tables without the tenant columns: error');
SELECT is(pg_temp.findings(:'s' || '.k_lessons'),
          format('warning: unique constraint "k_lessons_id_key" of %1$s.k_lessons does not include the tenant column "organization_id"' || E'\n' ||
                 'warning: unique constraint "k_lessons_title_key" of %1$s.k_lessons does not include the tenant column "organization_id"', :'s'),
          '(18) unique keys without the tenant column: warnings');
SELECT is(pg_temp.findings(:'s' || '.k_serial'),
          format('warning: primary key "k_serial_pkey" of %s.k_serial does not include the tenant column "organization_id"', :'s'),
          '(18) a serial key without the tenant column: a warning too (a tenant may write it)');
SELECT is(pg_temp.findings(:'s' || '.k_tree'),
          format('error: foreign key "k_tree_parent_org_parent_fkey" of %1$s.k_tree references %1$s.k_tree without matching its tenant column to that table''s: it reaches across tenants', :'s'),
          '(18) a self-reference through another organization column: error');
SELECT is(pg_temp.findings(:'s' || '.k_users'),
          format('warning: unique index "k_users_email" of %1$s.k_users does not include the tenant column "organization_id"' || E'\n' ||
                 'warning: unique index "k_users_id_incl" of %1$s.k_users does not include the tenant column "organization_id"', :'s'),
          '(18) unique indexes (no constraint) without the tenant column, INCLUDE not counted: warnings');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.k_lessons' AND finding LIKE '%k_lessons_title_key%'),
          'Lead unique constraint "k_lessons_title_key" with the tenant column: a unique key on (organization_id, title) instead (the foreign keys that reference it move to the new key first).',
          '(18) a unique key''s fix is advice (its foreign keys move first)');
SELECT is(pg_temp.apply_fixes(:'s' || '.k_grades'), 'ok', '(18) the foreign key''s fix runs');
SELECT is(pg_temp.apply_fixes(:'s' || '.k_notes'), 'ok', '(18) an ON DELETE SET NULL foreign key''s fix runs');
SELECT is(pg_temp.apply_fixes(:'s' || '.k_tree'), 'ok', '(18) the self-reference''s fix runs');
SELECT ok((SELECT fix FROM tenancy.check() WHERE object = :'s' || '.k_mats' AND severity = 'error')
          LIKE '%ON DELETE SET NULL (lesson_id); -- % needs a key on those columns; its ON UPDATE SET NULL is left out (NO ACTION): on a key that pairs the tenant columns it would set the tenant column too%',
          '(18) an ON UPDATE SET NULL key''s fix leaves that action out, and says why (1.23)');
SELECT is(pg_temp.apply_fixes(:'s' || '.k_mats'), 'ok', '(18) and runs');
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'k_mats'::regclass AND contype = 'f'),
          'FOREIGN KEY (organization_id, lesson_id) REFERENCES k_lessons(organization_id, id) ON DELETE SET NULL (lesson_id)',
          '(18) the key no longer sets the tenant column on an update of the lesson''s id');
ALTER TABLE k_lessons DROP CONSTRAINT k_lessons_id_key, DROP CONSTRAINT k_lessons_title_key;
SELECT is(pg_temp.findings(:'s' || '.k_grades') || pg_temp.findings(:'s' || '.k_lessons')
          || pg_temp.findings(:'s' || '.k_tree') || pg_temp.findings(:'s' || '.k_notes'), '',
          '(18) no finding left');
SELECT is((SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname)::text
           FROM pg_constraint WHERE conrelid IN ('k_grades'::regclass, 'k_tree'::regclass, 'k_notes'::regclass)
                                AND contype = 'f'),
          '{"FOREIGN KEY (organization_id, lesson_id) REFERENCES k_lessons(organization_id, id) ON DELETE CASCADE DEFERRABLE","FOREIGN KEY (organization_id, lesson_id) REFERENCES k_lessons(organization_id, id) ON DELETE SET NULL (lesson_id)","FOREIGN KEY (organization_id, parent) REFERENCES k_tree(organization_id, id)"}',
          '(18) the foreign keys now pair the tenant columns, their actions kept (SET NULL of the other columns only)');
DROP TABLE k_grades, k_notes, k_mats, k_lessons, k_serial, k_tree, k_users;

-------------------------------------------------------------------------------
-- (24) Organizations without an active owner (1.23): imported without one,
-- or its owner deactivated by a superuser's import. The application can give
-- it none.
-------------------------------------------------------------------------------
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('c2400000-0000-4000-8000-000000000001', 'cf-no-owner-' || :'r', 'No owner'),
       ('c2400000-0000-4000-8000-000000000002', 'cf-owned-' || :'r', 'Owned');
INSERT INTO tenancy.members (organization_id, user_id, role, deactivated_at)
VALUES ('c2400000-0000-4000-8000-000000000001', 'c2410000-0000-4000-8000-000000000001', 'admin', NULL),
       ('c2400000-0000-4000-8000-000000000001', 'c2410000-0000-4000-8000-000000000002', 'owner', now()),
       ('c2400000-0000-4000-8000-000000000002', 'c2410000-0000-4000-8000-000000000003', 'owner', NULL);
SELECT is(pg_temp.findings(format('organization c2400000-0000-4000-8000-000000000001 (cf-no-owner-%s)', :'r')),
          'warning: the organization has no active owner: nobody can add owners or delete it through the application',
          '(24) an organization whose only owner is deactivated: warning');
SELECT is(pg_temp.findings(format('organization c2400000-0000-4000-8000-000000000002 (cf-owned-%s)', :'r')), '',
          '(24) one with an active owner: none');
UPDATE tenancy.members SET deactivated_at = NULL
WHERE organization_id = 'c2400000-0000-4000-8000-000000000001' AND role = 'owner';
SELECT is(pg_temp.findings(format('organization c2400000-0000-4000-8000-000000000001 (cf-no-owner-%s)', :'r')), '',
          '(24) gone once the owner is active again');

-------------------------------------------------------------------------------
-- (25) Roles granted a protected table that no policy on it admits (1.23): a
-- job's role left out of tenancy_app reads no row and gets no error.
-------------------------------------------------------------------------------
-- (The logins here get finding 21's preload warning too: only 25's are read.)
CREATE FUNCTION pg_temp.grant_findings(obj text) RETURNS text
    LANGUAGE sql AS $$
    SELECT coalesce(string_agg(severity || ': ' || finding, E'\n' ORDER BY finding), '')
    FROM tenancy.check_protected_grantees() WHERE object = obj
$$;
SELECT 'cf_worker_' || :'r' AS role_worker, 'cf_reporter_' || :'r' AS role_reporter,
       'cf_jobs_app_' || :'r' AS role_jobs_app \gset
CREATE ROLE :"role_worker" LOGIN;
CREATE ROLE :"role_reporter" LOGIN;
CREATE ROLE :"role_jobs_app" LOGIN IN ROLE tenancy_app;
CREATE TABLE g_jobs (organization_id uuid NOT NULL, id integer, PRIMARY KEY (organization_id, id));
SELECT tenancy.protect('g_jobs') AS ignored \gset
GRANT SELECT, UPDATE ON g_jobs TO :"role_worker", :"role_reporter", :"role_jobs_app";
CREATE POLICY reporter_reads ON g_jobs FOR SELECT TO :"role_reporter" USING (true);
SELECT is(pg_temp.grant_findings('role ' || :'role_worker'),
          format('warning: %s holds SELECT, UPDATE on %s.g_jobs, a protected table, but is not a member of tenancy_app and no policy on the table applies to it: it reads and changes no row there, and its inserts fail',
                 :'role_worker', :'s'),
          '(25) a login granted a protected table, outside tenancy_app, with no policy: warning');
SELECT is(pg_temp.grant_findings('role ' || :'role_reporter') || pg_temp.grant_findings('role ' || :'role_jobs_app'), '',
          '(25) not for a role a policy of its own admits, nor for a member of tenancy_app');
-- Through a group role: reported for the login that inherits the grant, not
-- for a group whose logins are all the application's.
SELECT 'cf_group_' || :'r' AS role_group, 'cf_group_app_' || :'r' AS role_group_app,
       'cf_noinherit_' || :'r' AS role_noinherit \gset
CREATE ROLE :"role_group" NOLOGIN;
CREATE ROLE :"role_group_app" LOGIN IN ROLE tenancy_app, :"role_group";
CREATE ROLE :"role_noinherit" LOGIN NOINHERIT IN ROLE :"role_group";
GRANT DELETE ON g_jobs TO :"role_group";
SELECT is(pg_temp.grant_findings('role ' || :'role_group') || pg_temp.grant_findings('role ' || :'role_group_app')
          || pg_temp.grant_findings('role ' || :'role_noinherit'), '',
          '(25) a group of application logins, and a NOINHERIT member that does not get its privileges: none');
ALTER ROLE :"role_noinherit" INHERIT;
SELECT ok(pg_temp.grant_findings('role ' || :'role_noinherit') LIKE 'warning: % holds DELETE on %g_jobs%',
          '(25) the member that inherits the group''s DELETE: warning');
SELECT is(pg_temp.apply_fixes('role ' || :'role_worker'), 'ok', '(25) its fix (GRANT tenancy_app) runs');
SELECT is(pg_temp.grant_findings('role ' || :'role_worker'), '', '(25) and clears it');
DROP TABLE g_jobs;

-------------------------------------------------------------------------------
-- (19) A rollup state taken in another cluster (1.10). Here the ids go on
-- from the state's, as after pg_upgrade: the fix adopts it.
-------------------------------------------------------------------------------
-- The state as a run before this transaction would have left it (a run
-- that finds nothing to count keeps none: the 1.20 library).
INSERT INTO tenancy.rollup_state (last_snapshot) VALUES (:'snapshot_before') ON CONFLICT DO NOTHING;
UPDATE tenancy.rollup_state SET cluster_id = (SELECT system_identifier + 1 FROM pg_control_system()),
                                last_snapshot = :'snapshot_before';
SELECT is(pg_temp.findings('tenancy.rollup_state'),
          'error: the rollup state was taken in another cluster: tenancy.run_rollups() and the purges refuse it (55000), and with them the scheduled job, which also keeps the log''s months ahead',
          '(19) a state from another cluster: error');
SELECT throws_ok('SELECT * FROM tenancy.run_rollups()', '55000',
                 'the rollup state was taken in another cluster', '(19) run_rollups() refuses it');
SELECT ok((SELECT fix LIKE 'UPDATE tenancy.rollup_state SET cluster_id = NULL; -- if pg_upgrade made this cluster from that one, or the dump was restored into a new cluster whose transaction ids were put past%'
           FROM tenancy.check() WHERE object = 'tenancy.rollup_state'),
          '(19) ids continue here: the fix adopts the state');
SELECT is(pg_temp.apply_fixes('tenancy.rollup_state'), 'ok', '(19) its fix runs');
SELECT is(pg_temp.findings('tenancy.rollup_state'), '', '(19) no finding left');

-- The event triggers are found by the function they run (1.10): renamed and
-- disabled by a superuser, each is still reported, and its fix names it.
ALTER EVENT TRIGGER pg_tenancy_file_access_log_ddl_guard RENAME TO quiet_ddl;
ALTER EVENT TRIGGER quiet_ddl DISABLE;
ALTER EVENT TRIGGER pg_tenancy_function_guard RENAME TO quiet_functions;
ALTER EVENT TRIGGER quiet_functions DISABLE;
SELECT is(pg_temp.findings('event trigger quiet_ddl'), 'error: pg_tenancy event trigger is disabled',
          '(11) the DDL guard renamed and disabled: still reported');
SELECT is(pg_temp.findings('event trigger pg_tenancy_function_guard'), 'error: pg_tenancy event trigger is disabled',
          '(16) the function guard renamed and disabled: still reported');
SELECT is(pg_temp.apply_fixes('event trigger quiet_ddl') || pg_temp.apply_fixes('event trigger pg_tenancy_function_guard'),
          'okok', '(11, 16) their fixes run');
SELECT is((SELECT string_agg(evtname || '=' || evtenabled::text, ', ' ORDER BY evtname) FROM pg_event_trigger
           WHERE evtname IN ('quiet_ddl', 'quiet_functions')),
          'quiet_ddl=A, quiet_functions=A', '(11, 16) both fire ALWAYS again');
ALTER EVENT TRIGGER quiet_ddl RENAME TO pg_tenancy_file_access_log_ddl_guard;
ALTER EVENT TRIGGER quiet_functions RENAME TO pg_tenancy_function_guard;

-------------------------------------------------------------------------------
-- (20) What a DBA added to the extension's own tables (1.11): a dump does not
-- save it. Each addition is reported with the statement that makes it again;
-- undone, then made again by those statements in their order (as in a
-- restored database), the same additions are listed.
-------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM tenancy.extension_table_additions()), 0::bigint,
          '(20) nothing added to the extension''s tables yet');
ALTER TABLE tenancy.events ADD COLUMN cf_source text NOT NULL DEFAULT 'web';
ALTER TABLE tenancy.files ADD COLUMN cf_class text COLLATE "C";
CREATE INDEX cf_files_class ON tenancy.files (organization_id, cf_class) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX cf_members_user_org ON tenancy.members (user_id, organization_id);
ALTER TABLE tenancy.members REPLICA IDENTITY USING INDEX cf_members_user_org;
ALTER TABLE tenancy.organizations ADD CONSTRAINT cf_name_not_blank CHECK (btrim(name) <> '') NOT VALID;
ALTER TABLE tenancy.files ADD CONSTRAINT cf_files_member FOREIGN KEY (organization_id, owner_id)
    REFERENCES tenancy.members (organization_id, user_id) NOT VALID;
CREATE FUNCTION cf_touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER cf_files_touch BEFORE INSERT ON tenancy.files FOR EACH ROW EXECUTE FUNCTION cf_touch();
ALTER TABLE tenancy.files ENABLE ALWAYS TRIGGER cf_files_touch;
CREATE RULE cf_notify AS ON UPDATE TO tenancy.rollup_state DO ALSO NOTIFY cf_rollups;
CREATE POLICY cf_monitoring ON tenancy.events AS RESTRICTIVE FOR SELECT TO pg_monitor, pg_read_all_data
    USING (kind <> 'secret');
ALTER TABLE tenancy.file_versions SET (fillfactor = 90);
ALTER TABLE tenancy.events ALTER COLUMN kind SET STATISTICS 500, ALTER COLUMN kind SET (n_distinct = 50);
ALTER TABLE tenancy.files ALTER COLUMN name SET STORAGE MAIN;
SELECT is((SELECT string_agg(kind || ' ' || name, ', ') FROM tenancy.extension_table_additions()),
          'column cf_source, column cf_class, default cf_source, index cf_files_class, index cf_members_user_org, '
          'constraint cf_name_not_blank, trigger cf_files_touch, rule cf_notify, policy cf_monitoring, '
          'storage parameter fillfactor=90, replica identity USING INDEX cf_members_user_org, '
          'column setting kind SET (n_distinct=50), column setting kind SET STATISTICS 500, '
          'column setting name SET STORAGE MAIN, constraint cf_files_member',
          '(20) each addition, in the order to make them again (columns first, foreign keys last)');
SELECT is(pg_temp.findings('tenancy.events'),
          'warning: a default was added to column "cf_source" of tenancy.events, an extension table: a dump does not save it, and a restore leaves it out' || E'\n' ||
          'warning: column "cf_source" was added to tenancy.events, an extension table: a dump saves its values but a restore makes the table without it, so the table''s rows fail to load' || E'\n' ||
          'warning: column setting "kind SET (n_distinct=50)" was added to tenancy.events, an extension table: a dump does not save it, and a restore leaves it out' || E'\n' ||
          'warning: column setting "kind SET STATISTICS 500" was added to tenancy.events, an extension table: a dump does not save it, and a restore leaves it out' || E'\n' ||
          'warning: policy "cf_monitoring" was added to tenancy.events, an extension table: a dump does not save it, and a restore leaves it out',
          '(20) the findings: warnings');
SELECT is((SELECT string_agg(fix, E'\n' ORDER BY fix) FROM tenancy.check() WHERE finding LIKE '%"cf_source"%'),
          'ALTER TABLE tenancy.events ADD COLUMN cf_source text NOT NULL; -- in the restored database, step before_data (README, Dump and restore)' || E'\n' ||
          'ALTER TABLE tenancy.events ALTER COLUMN cf_source SET DEFAULT ''web''::text; -- in the restored database, step after_data (README, Dump and restore)',
          '(20) a column comes before the rows, its default after');
SELECT is((SELECT fix FROM tenancy.check() WHERE finding LIKE 'policy "cf_monitoring"%'),
          'CREATE POLICY cf_monitoring ON tenancy.events AS RESTRICTIVE FOR SELECT TO pg_monitor, pg_read_all_data USING ((kind <> ''secret''::text)); -- in the restored database, step after_data (README, Dump and restore)',
          '(20) a policy''s fix makes it again after the rows');
-- Undoes them, as in a database that CREATE EXTENSION has just made.
CREATE FUNCTION pg_temp.cf_undo() RETURNS void LANGUAGE sql AS $$
ALTER TABLE tenancy.events DROP COLUMN cf_source, ALTER COLUMN kind SET STATISTICS -1,
    ALTER COLUMN kind RESET (n_distinct);
ALTER TABLE tenancy.files DROP COLUMN cf_class, DROP CONSTRAINT cf_files_member, ALTER COLUMN name SET STORAGE EXTENDED;
DROP TRIGGER cf_files_touch ON tenancy.files;
ALTER TABLE tenancy.members REPLICA IDENTITY DEFAULT;
DROP INDEX tenancy.cf_members_user_org;
ALTER TABLE tenancy.organizations DROP CONSTRAINT cf_name_not_blank;
DROP RULE cf_notify ON tenancy.rollup_state;
DROP POLICY cf_monitoring ON tenancy.events;
ALTER TABLE tenancy.file_versions RESET (fillfactor);
$$;
CREATE TEMP TABLE cf_additions AS SELECT row_number() OVER () AS n, * FROM tenancy.extension_table_additions();
-- Undone ...
SELECT pg_temp.cf_undo();
SELECT is((SELECT count(*) FROM tenancy.extension_table_additions()), 0::bigint, '(20) undone: nothing listed');
-- ... then made again by the statements, in their order.
DO $$
DECLARE
    one text;
BEGIN
    FOR one IN SELECT statement FROM cf_additions ORDER BY n LOOP
        EXECUTE one;
    END LOOP;
END
$$;
SELECT is((SELECT array_agg(row(a.*)::text) FROM tenancy.extension_table_additions() a),
          (SELECT array_agg(row(table_name, kind, name, statement, restore_step)::text ORDER BY n) FROM cf_additions),
          '(20) made again by their statements: the same additions');
SELECT pg_temp.cf_undo();
SELECT is((SELECT count(*) FROM tenancy.extension_table_additions()), 0::bigint, '(20) no finding left');
-- A column whose type a restore makes only after the rows (a domain that
-- calls a function of the DBA's): manual, and said so. A type that needs
-- nothing of the DBA's is an entry of the dump to restore first. A
-- publication of an extension table comes back after the rest.
CREATE FUNCTION cf_valid_code(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT length($1) > 2';
CREATE DOMAIN cf_code AS text CHECK (cf_valid_code(VALUE));
CREATE TYPE cf_level AS ENUM ('low', 'high');
ALTER TABLE tenancy.organizations ADD COLUMN cf_code cf_code, ADD COLUMN cf_level cf_level[];
SET LOCAL client_min_messages = error;  -- (wal_level is not logical here)
CREATE PUBLICATION cf_files FOR TABLE tenancy.files (organization_id, id, path) WHERE (size_bytes > 0);
SELECT is((SELECT string_agg(kind || ' ' || restore_step || ': ' || statement, E'\n') FROM tenancy.extension_table_additions()),
          format('type early_types: ; 1247 %2$s ' || E'\n' ||
                 'column before_data: ALTER TABLE tenancy.organizations ADD COLUMN cf_level %1$s.cf_level[]' || E'\n' ||
                 'publication after_post_data: ALTER PUBLICATION cf_files ADD TABLE tenancy.files (organization_id, id, path) WHERE ((size_bytes > 0))' || E'\n' ||
                 'column manual: ALTER TABLE tenancy.organizations ADD COLUMN cf_code %1$s.cf_code', :'s',
                 'cf_level'::regtype::oid),
          '(20) the DBA''s enum an added array column needs is an early entry (by catalog and OID); a column of a domain that calls the DBA''s function is manual; a publication comes last');
SELECT ok(pg_temp.has_finding('tenancy.organizations', 'warning',
                              'column "cf_code" was added to tenancy.organizations, an extension table, of a type that a restore makes only after the table''s rows%the restore recipe cannot bring the column back%'),
          '(20) ... and check() says the recipe cannot bring that column back');
-- A generated column on the log that calls a function of the DBA's cannot
-- wait for the rows either: the dump's months have it.
ALTER TABLE tenancy.file_access_log ADD COLUMN cf_valid boolean GENERATED ALWAYS AS (cf_valid_code(file_id::text)) STORED;
SELECT ok(pg_temp.has_finding('tenancy.file_access_log', 'warning',
                              'generated column "cf_valid" was added to tenancy.file_access_log, an extension table, with an expression that needs something of the DBA''s%the restore recipe cannot bring it back%')
          AND (SELECT restore_step FROM tenancy.extension_table_additions() WHERE name = 'cf_valid') = 'manual',
          '(20) a generated column on the log that calls the DBA''s function: manual, and said so');
ALTER TABLE tenancy.file_access_log DROP COLUMN cf_valid;
ALTER TABLE tenancy.organizations DROP COLUMN cf_code, DROP COLUMN cf_level;
DROP PUBLICATION cf_files;
SELECT is((SELECT count(*) FROM tenancy.extension_table_additions()), 0::bigint, '(20) nothing left');

-- Unprotecting a tenant table brings finding (1) back (and its fix).
SELECT tenancy.unprotect('clean');
SELECT is(pg_temp.findings(:'s' || '.clean'), '',
          'an unprotected tenant table that unprotect took the grants of is not reported');
GRANT SELECT ON clean TO tenancy_app;
SELECT ok(pg_temp.has_finding(:'s' || '.clean', 'error', 'tenant table without row level security'),
          'an unprotected tenant table the application reaches is reported again');

-- (21) An application login whose sessions do not load pg_tenancy from
-- their first statement: its LOCK TABLE guard is not in place until then.
SELECT 'cf_app_' || :'r' AS role_app, current_database() AS db \gset
CREATE ROLE :"role_app" LOGIN IN ROLE tenancy_app;
SELECT is(pg_temp.findings('role ' || :'role_app'),
          format('warning: sessions of %s, an application login, do not load pg_tenancy from their first statement (session_preload_libraries): until one calls a pg_tenancy function, it can lock organizations, members, files or a protected table and stall every tenant', :'role_app'),
          '(21) an application login without session_preload_libraries: warning');
SELECT is((SELECT fix FROM tenancy.check() WHERE object = 'role ' || :'role_app'),
          format('ALTER ROLE %I IN DATABASE %I SET session_preload_libraries = ''pg_tenancy'';', :'role_app', :'db'),
          '(21) its fix sets it for the role in this database');
-- The role's own list (for every database) is kept in the fix, split as
-- PostgreSQL splits it (a quoted item keeps its spaces and commas), and the
-- fix runs and leaves no finding.
ALTER ROLE :"role_app" SET session_preload_libraries = 'auto_explain', '/opt/my libs, v2/x';
SELECT is((SELECT fix FROM tenancy.check() WHERE object = 'role ' || :'role_app'),
          format('ALTER ROLE %I IN DATABASE %I SET session_preload_libraries = ''auto_explain'', ''/opt/my libs, v2/x'', ''pg_tenancy'';', :'role_app', :'db'),
          '(21) the fix keeps what the role loads already, item by item');
SELECT is(pg_temp.apply_fixes('role ' || :'role_app'), 'ok', '(21) its fix runs');
SELECT is(pg_temp.findings('role ' || :'role_app'), '', '(21) no finding left');
-- The database's setting serves every role without one of its own, and so
-- does ALTER ROLE ALL's; a role's own setting wins over them, as PostgreSQL
-- reads them. A path to the library counts as the library.
ALTER ROLE :"role_app" IN DATABASE :"db" RESET session_preload_libraries;
ALTER ROLE :"role_app" RESET session_preload_libraries;
ALTER DATABASE :"db" SET session_preload_libraries = '$libdir/pg_tenancy';
SELECT is(pg_temp.findings('role ' || :'role_app'), '', '(21) the database''s setting serves the role');
ALTER DATABASE :"db" RESET session_preload_libraries;
ALTER ROLE ALL SET session_preload_libraries = '/usr/lib/postgresql/15/lib/pg_tenancy.so';
SELECT is(pg_temp.findings('role ' || :'role_app'), '', '(21) so does ALTER ROLE ALL''s, a path to the library');
ALTER ROLE :"role_app" SET session_preload_libraries = 'auto_explain';
SELECT ok(pg_temp.has_finding('role ' || :'role_app', 'warning', 'sessions of % do not load pg_tenancy%'),
          '(21) the role''s own setting wins over those');
ALTER ROLE ALL RESET session_preload_libraries;
-- A caller who may read the preload settings but not the server's files, and
-- whose own value came from a session (or role, or database) setting, cannot
-- tell the server's value: the logins that would fall back to it are left
-- out, not given a fix that could drop the server's other libraries. (Its
-- SELECT on pg_file_settings alone, without EXECUTE on the function behind
-- it, is no error.) A superuser reads the server's files.
ALTER ROLE :"role_app" RESET session_preload_libraries;
SELECT 'cf_mon_' || :'r' AS role_mon \gset
CREATE ROLE :"role_mon" NOLOGIN IN ROLE pg_read_all_settings;
GRANT SELECT ON pg_catalog.pg_file_settings TO :"role_mon";
GRANT USAGE ON SCHEMA tenancy TO :"role_mon";
SET session_preload_libraries = 'auto_explain';
SET ROLE :"role_mon";
SELECT is((SELECT count(*) FROM tenancy.check_preload() WHERE object = 'role ' || :'role_app'), 0::bigint,
          '(21) the server''s value unknown to the caller: the login is left out');
RESET ROLE;
SELECT is((SELECT count(*) FROM tenancy.check_preload() WHERE object = 'role ' || :'role_app'), 1::bigint,
          '(21) a superuser reads the server''s value from its files: reported');
RESET session_preload_libraries;

-- What remains of this file's objects: the wrapped policy only (see above).
SELECT is((SELECT string_agg(object, ', ' ORDER BY object) FROM tenancy.check()
           WHERE (object LIKE '%' || :'s' || '.%' OR object LIKE 'cf\_%\_' || :'r')
             AND object NOT IN (:'s' || '.clean', format('policy p_wrapped on %I.pol_t', :'s'))),
          NULL, 'no other finding about this file''s objects is left');

SELECT * FROM finish();
ROLLBACK;
