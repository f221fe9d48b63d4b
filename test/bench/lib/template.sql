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
-- pgbench's login where one run mixes variants of both: each transaction
-- takes its variant's role first (set_config('role', …, true), i.e.
-- SET LOCAL ROLE). BYPASSRLS is not inherited: bench_runner itself has
-- bench_app's privileges and no more.
CREATE ROLE bench_runner LOGIN IN ROLE bench_app, bench_bypass;
