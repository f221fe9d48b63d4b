-- Installing the extension: schema, role, and what PUBLIC can reach.
CREATE EXTENSION pg_tenancy;

SELECT extname, extversion, extrelocatable, nspname AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'pg_tenancy';

-- The application role: no login, no superuser, never bypasses RLS.
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
FROM pg_roles WHERE rolname = 'tenancy_app';

-- Every table of the schema has RLS enabled and forced.
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'tenancy' AND c.relkind IN ('r', 'p')
ORDER BY c.relname;

-- Keys of tenant tables lead with organization_id.
SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE connamespace = 'tenancy'::regnamespace AND contype IN ('p', 'f', 'u')
ORDER BY 1, 2;
-- Slugs are unique through a partial index (1.24), so that slug is no key
-- column and a slug change does not hold up the organization's writes.
SELECT indexrelid::regclass AS index, indisunique, pg_get_expr(indpred, indrelid) AS predicate
FROM pg_index WHERE indrelid = 'tenancy.organizations'::regclass AND indpred IS NOT NULL;

-- The getters: C, STABLE, PARALLEL SAFE, LEAKPROOF.
SELECT proname, provolatile, proparallel, proleakproof, prosecdef
FROM pg_proc WHERE pronamespace = 'tenancy'::regnamespace AND proname LIKE 'current\_%'
ORDER BY proname;

-- What tenancy_app may execute; PUBLIC only the getters.
SELECT p.oid::regprocedure AS function,
       has_function_privilege('tenancy_app', p.oid, 'EXECUTE') AS app,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
FROM pg_proc p WHERE p.pronamespace = 'tenancy'::regnamespace
ORDER BY p.oid::regprocedure::text;

-- The audit triggers keep per-backend caches (enum labels, column numbers,
-- identity sequences, compiled checks): fill them in this session...
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000000e1', 'cache-warm', 'Cache warm');
INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
VALUES ('00000000-0000-4000-a000-0000000000e1', gen_random_uuid(), 'a', 'a', 1);
UPDATE tenancy.files SET size_bytes = 2;

-- DROP EXTENSION leaves the cluster role; a second CREATE reuses it.
DROP EXTENSION pg_tenancy;
SELECT count(*) AS tenancy_app_roles FROM pg_roles WHERE rolname = 'tenancy_app';
CREATE EXTENSION pg_tenancy;
SELECT extname FROM pg_extension WHERE extname = 'pg_tenancy';

-- ...and the same session writes correct rows into the new extension's
-- tables, whose types, columns and sequences all have new OIDs.
INSERT INTO tenancy.organizations (id, slug, name)
VALUES ('00000000-0000-4000-a000-0000000000e1', 'cache-warm', 'Cache warm');
INSERT INTO tenancy.files (organization_id, owner_id, path, name, size_bytes)
VALUES ('00000000-0000-4000-a000-0000000000e1', gen_random_uuid(), 'a', 'a', 1);
UPDATE tenancy.files SET size_bytes = 2;
SELECT id, action, bytes FROM tenancy.file_access_log ORDER BY id;
SELECT version, path, size_bytes FROM tenancy.file_versions;
DELETE FROM tenancy.organizations;
