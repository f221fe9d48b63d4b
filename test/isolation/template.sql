-- The template database of the isolation specs (scripts/isolation-tests.sh copies
-- it into a fresh database per spec): the extension and the application login, as
-- test/setup_test_database.sql makes them. Sessions that stand for the application
-- run SET ROLE tenancy_test_app; the others are the superuser (the DBA, pg_cron).
CREATE EXTENSION pg_tenancy;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_test_app') THEN
        CREATE ROLE tenancy_test_app LOGIN PASSWORD 'tenancy-test' IN ROLE tenancy_app;
    END IF;
END $$;
