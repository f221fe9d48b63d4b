-- Run by scripts/bench.sh as the superuser in bench_template, the database
-- every benchmark's own database is copied from: the extension, and the
-- cluster-wide logins the benchmarks run as (no password: the throwaway
-- cluster trusts its unix socket).
CREATE EXTENSION pg_tenancy;

-- The application's login, as a DBA would create it (DESIGN.md).
CREATE ROLE bench_app LOGIN IN ROLE tenancy_app;
-- The same grants, but past every policy: what "no RLS at all" costs, with
-- the privilege checks of an ordinary login rather than a superuser's.
CREATE ROLE bench_bypass LOGIN BYPASSRLS IN ROLE tenancy_app;
