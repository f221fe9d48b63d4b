-- Run as the superuser by scripts/run-tests.sh before pgTAP: the database the
-- pgTAP suite (and pg_cron) use, and the non-superuser logins it runs as.
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS dblink;
-- The throwaway cluster preloads pg_cron with cron.database_name = tenancy_test.
CREATE EXTENSION IF NOT EXISTS pg_cron;
CREATE EXTENSION IF NOT EXISTS pg_tenancy;

-- The application's login, as a DBA would create it (DESIGN.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_test_app') THEN
        CREATE ROLE tenancy_test_app LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;
    END IF;
    -- A second application login, for tests that need two of them.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_test_app2') THEN
        CREATE ROLE tenancy_test_app2 LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;
    END IF;
    -- A login outside tenancy_app: must reach nothing.
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_test_outsider') THEN
        CREATE ROLE tenancy_test_outsider LOGIN PASSWORD 'tenancy-test';
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO tenancy_app;

-- tenancy_test_app2 runs with strict mode on: reading a tenant table without
-- a context is an error, not an empty result (test/pgtap/no_context.sql).
ALTER ROLE tenancy_test_app2 SET tenancy.require_context = on;
