-- pg_tenancy 1.0: tenant isolation, file audit and per-tenant analytics.
-- Assembled from src/sql/1.0/*.sql in file-name order; edit the pieces.
\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

-------------------------------------------------------------------------------
-- Roles. tenancy_app is cluster-wide: created when absent, never dropped by
-- DROP EXTENSION (a second database reuses it). It must never bypass RLS.
-------------------------------------------------------------------------------
DO $roles$
DECLARE
    app pg_catalog.pg_roles%ROWTYPE;
BEGIN
    SELECT * INTO app FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_app';
    IF NOT FOUND THEN
        CREATE ROLE tenancy_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    ELSIF app.rolsuper OR app.rolbypassrls THEN
        RAISE EXCEPTION 'role tenancy_app exists with SUPERUSER or BYPASSRLS'
            USING ERRCODE = '42501',
                  HINT = 'ALTER ROLE tenancy_app NOSUPERUSER NOBYPASSRLS, then retry.';
    END IF;
END
$roles$;

-- The schema is created by CREATE EXTENSION (schema = tenancy in the control
-- file). Nothing in it is for PUBLIC unless granted below.
REVOKE ALL ON SCHEMA tenancy FROM PUBLIC;
GRANT USAGE ON SCHEMA tenancy TO tenancy_app;
