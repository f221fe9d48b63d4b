#!/usr/bin/env bash
# `make demo`: installs what is missing, builds and installs the extension,
# starts a throwaway cluster, loads two schools, shows what each context sees
# and that cross-school attempts fail, then stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build-install.sh
source scripts/cluster.sh
trap 'cluster_stop_all' EXIT

CLUSTER_CRON_DATABASE=tenancy_demo cluster_start demo "${TENANCY_DEMO_PORT:-55700}"
cluster_psql demo -c "CREATE DATABASE tenancy_demo"
cluster_psql demo -d tenancy_demo <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION pg_tenancy;
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_app') THEN
    CREATE ROLE demo_app LOGIN IN ROLE tenancy_app;
  END IF;
END $$;
SQL
echo "pg_tenancy demo: PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), cluster in ${CLUSTER_DIR[demo]}"
cluster_psql demo -d tenancy_demo -f test/demo/school.sql
echo
echo "pg_tenancy demo: done; the cluster is stopped and removed."
