#!/usr/bin/env bash
# Logical replication of the extension's tables, as the README's Dump and
# restore says (run by scripts/run-tests.sh with the cluster's
# PGHOST/PGPORT/PGUSER exported; the cluster has wal_level = logical): a
# publisher database and a subscriber database, both with the extension, the
# log published through its root. The publisher's organization deletion and
# purge remove log rows, which the subscriber applies: its append-only guard
# fires in the apply worker too (ENABLE ALWAYS), and before the 1.25 library
# it refused them, so the subscription stopped for good at the first
# deletion (crash hunt of 1.24). Then:
#   - the subscriber has the publisher's organizations, files and log rows;
#   - its apply worker met no error;
#   - the application still cannot delete log rows on either side.
# Prints TAP.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bindir="$(dirname "$(command -v "${PG_BINDIR:-/usr/lib/postgresql/15/bin}/psql")")"
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)
pub=tenancy_lr_pub sub=tenancy_lr_sub slot=tenancy_lr_slot
source "$here/tap.sh"

cleanup() {
  "${psql[@]}" -d "$sub" -c "ALTER SUBSCRIPTION tenancy_lr DISABLE" \
    -c "ALTER SUBSCRIPTION tenancy_lr SET (slot_name = NONE)" -c "DROP SUBSCRIPTION tenancy_lr" \
    >/dev/null 2>&1
  "${psql[@]}" -d "$pub" -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1
  "${psql[@]}" -d postgres -c "DROP DATABASE IF EXISTS $pub" -c "DROP DATABASE IF EXISTS $sub" \
    >/dev/null 2>&1
}
trap cleanup EXIT

# counts DB: organizations, files and log rows, as the superuser sees them.
counts() {
  "${psql[@]}" -At -d "$1" -c "SELECT (SELECT count(*) FROM tenancy.organizations) || ' '
    || (SELECT count(*) FROM tenancy.files) || ' ' || (SELECT count(*) FROM tenancy.file_access_log)"
}

# caught_up: the subscriber shows what the publisher has (waits up to 30 s).
caught_up() {
  local i want
  want="$(counts "$pub")"
  for ((i = 0; i < 300; i++)); do
    [[ "$(counts "$sub")" == "$want" ]] && return 0
    sleep 0.1
  done
  echo "# publisher: $want, subscriber: $(counts "$sub")"
  return 1
}

echo "1..6"
cleanup
"${psql[@]}" -d postgres -c "CREATE DATABASE $pub" -c "CREATE DATABASE $sub" >/dev/null
for db in "$pub" "$sub"; do
  "${psql[@]}" -d "$db" -c "CREATE EXTENSION pg_tenancy" >/dev/null
done
# One cluster: the slot is made first (CREATE SUBSCRIPTION cannot make it
# in a database of its own cluster without waiting for itself).
"${psql[@]}" -d "$pub" >/dev/null <<SQL
CREATE PUBLICATION tenancy_lr FOR TABLE tenancy.organizations, tenancy.members, tenancy.files,
    tenancy.file_versions, tenancy.events, tenancy.file_access_log
    WITH (publish_via_partition_root = true);
SELECT pg_create_logical_replication_slot('$slot', 'pgoutput');
SQL
"${psql[@]}" -d "$sub" -c "CREATE SUBSCRIPTION tenancy_lr
    CONNECTION 'host=$PGHOST port=$PGPORT user=$PGUSER dbname=$pub'
    PUBLICATION tenancy_lr WITH (create_slot = false, slot_name = '$slot')" >/dev/null

"${psql[@]}" -d "$pub" >/dev/null <<'SQL'
SELECT tenancy.maintain_file_access_log();
INSERT INTO tenancy.organizations (id, slug, name) VALUES
    ('e1000000-0000-4000-8000-000000000001', 'lr-stays', 'Stays'),
    ('e1000000-0000-4000-8000-000000000002', 'lr-goes', 'Goes');
INSERT INTO tenancy.members (organization_id, user_id, role) VALUES
    ('e1000000-0000-4000-8000-000000000001', 'e2000000-0000-4000-8000-000000000001', 'owner'),
    ('e1000000-0000-4000-8000-000000000002', 'e2000000-0000-4000-8000-000000000002', 'owner');
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('e1000000-0000-4000-8000-000000000001', 'e2000000-0000-4000-8000-000000000001');
INSERT INTO tenancy.files (path, name, size_bytes) SELECT 's/' || g, 's' || g, g FROM generate_series(1, 3) g;
COMMIT;
BEGIN;
SELECT tenancy.set_context('e1000000-0000-4000-8000-000000000002', 'e2000000-0000-4000-8000-000000000002');
INSERT INTO tenancy.files (path, name, size_bytes) SELECT 'g/' || g, 'g' || g, g FROM generate_series(1, 4) g;
COMMIT;
RESET ROLE;
-- Old rows in the default partition's stead: a month of their own, which
-- the purge below empties row by row (a month it drops whole is DDL, which
-- logical replication does not carry: the subscriber purges its own).
INSERT INTO tenancy.file_access_log (organization_id, file_id, action, at)
SELECT 'e1000000-0000-4000-8000-000000000001', f.id, 'view', now() - interval '400 days'
FROM tenancy.files f WHERE f.organization_id = 'e1000000-0000-4000-8000-000000000001';
SQL
check "the subscriber has the publisher's organizations, files and log rows" caught_up

"${psql[@]}" -d "$pub" >/dev/null <<'SQL'
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('e1000000-0000-4000-8000-000000000002', 'e2000000-0000-4000-8000-000000000002');
SELECT tenancy.delete_organization('e1000000-0000-4000-8000-000000000002');
COMMIT;
RESET ROLE;
SET client_min_messages = warning;
SELECT count(*) >= 0 AS ran FROM tenancy.run_rollups();  -- the purge takes counted rows only
SELECT tenancy.purge_file_access_log(interval '300 days');
SQL
check "after the publisher's deletion and purge, the subscriber has what the publisher has" caught_up
check "the subscriber's log keeps none of the deleted organization's rows" \
  test "$("${psql[@]}" -At -d "$sub" -c "SELECT count(*) FROM tenancy.file_access_log
      WHERE organization_id = 'e1000000-0000-4000-8000-000000000002'")" = 0
check "the subscriber's apply worker met no error" \
  test "$("${psql[@]}" -At -d "$sub" -c "SELECT apply_error_count FROM pg_stat_subscription_stats
      WHERE subname = 'tenancy_lr'")" = 0
for db in "$pub" "$sub"; do
  check "$db: the log stays append-only outside replication" \
    test "$("${psql[@]}" -At -d "$db" -c "DO \$\$ BEGIN DELETE FROM tenancy.file_access_log;
        RAISE EXCEPTION 'deleted';
      EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused'; END \$\$" 2>&1 |
      grep -c 'NOTICE:  refused')" = 1
done
exit "$failed"
