#!/usr/bin/env bash
# Restore into another cluster, as the README says (Dump and restore): a
# database with rolled-up analytics and rows the rollups have not counted
# yet is dumped from the test cluster (run by scripts/run-tests.sh with its
# PGHOST/PGPORT/PGUSER exported) and restored into a second, new cluster
# whose transaction ids were put past the source's before its first start
# (pg_resetwal -e). Then:
#   - with the schemas restored and no row yet, as when pg_cron's job (whose
#     table comes early in a dump) runs at the start of the restore,
#     run_rollups() runs and keeps no state row, so that the dump's goes in;
#   - with the raw rows restored and not yet their organizations (a dump
#     restores events and the log before organizations), a run reads them,
#     writes nothing, and keeps no state row either;
#   - restored but for the rollup state (the dump's last table), as when
#     pg_cron's job runs in the middle of the restore, run_rollups() refuses
#     (55000) to start a fresh state that would count the restored rows again;
#   - with the state restored, run_rollups() refuses it (55000) and offers
#     its adoption;
#   - adopted, the next run counts the rows the source had not counted, once:
#     the rollups equal the source's after its own next run;
#   - a row written in the new cluster is counted once;
#   - the new cluster's server log holds nothing unexpected.
# Prints TAP.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../scripts/cluster.sh"
psql=("$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1)
src=tenancy_other_src dst=tenancy_other_dst
port="${TENANCY_OTHER_CLUSTER_PORT:-$((${PGPORT:-5432} + 2))}"
work="$(mktemp -d)"
trap 'cluster_stop other; rm -rf "$work"' EXIT
source "$here/tap.sh"
other() {  # psql in the new cluster
  "${psql[@]}" -h "${CLUSTER_DIR[other]}" -p "$port" -U postgres "$@"
}
same() {  # same EXPECTED ACTUAL
  [[ "$1" == "$2" ]] && return 0
  echo "# expected: $1"
  echo "# got:      $2"
  return 1
}
# The rollups' counts, as text (the float sums aside: rounding).
rollups_sql="SELECT organization_id, hour, kind, events, value_count FROM tenancy.event_rollups
             ORDER BY 1, 2, 3;
             SELECT organization_id, hour, uploads, downloads, bytes_uploaded, bytes_downloaded
             FROM tenancy.file_rollups ORDER BY 1, 2;"
# Rows the rollups have not counted: eight events and a read, after the last run.
not_counted_sql="SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000a', 'd1000000-0000-4000-8000-000000000000');
SELECT tenancy.track('after_the_dump', g) FROM generate_series(1, 8) g;
SELECT tenancy.record_file_access(id) FROM tenancy.files WHERE path = 'north/5';
COMMIT;
RESET ROLE;"

echo "1..12"
"${psql[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $src" \
  -c "CREATE DATABASE $src" >/dev/null || exit 1
"${psql[@]}" -d "$src" -c "CREATE EXTENSION pg_tenancy" -f "$here/fixture.sql" -f "$here/app_schema.sql" \
  -f "$here/log_months.sql" -c "$not_counted_sql" >/dev/null || exit 1
# The source's ids well past those a new cluster reaches by the end of the
# restore (a fresh test cluster has used fewer than a thousand): without the
# new epoch, the restored state would not be adoptable.
"${psql[@]}" -d "$src" >/dev/null <<'SQL' || exit 1
SELECT 'SELECT pg_current_xact_id()' FROM generate_series(1, 5000) \gexec
SQL
check "pg_dump -Fc of a database with rollups and rows not yet counted" \
  "$PG_BINDIR/pg_dump" -Fc -d "$src" -f "$work/dump"
# The README's epoch, after the dump: one past the source's current one.
epoch="$("${psql[@]}" -At -d "$src" -c "SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint >> 32) + 1")"
new_cluster() {
  CLUSTER_CRON_DATABASE=postgres cluster_start other "$port" "$epoch" &&
    other -d postgres -f "$here/../setup_test_database.sql" >/dev/null &&
    other -d postgres -c "CREATE DATABASE $dst" >/dev/null
}
check "a new cluster whose transaction ids are in epoch $epoch (pg_resetwal -e before its first start)" new_cluster
restore() {  # restore LIST [pg_restore options…]: the dump's entries in that list
  local list="$1"
  shift
  env PGOPTIONS="-c session_replication_role=replica" \
    "$PG_BINDIR/pg_restore" --exit-on-error -h "${CLUSTER_DIR[other]}" -p "$port" -U postgres \
    -d "$dst" -L "$list" "$@" "$work/dump"
}
"$PG_BINDIR/pg_restore" -l "$work/dump" >"$work/all.list" || exit 1
grep -v ' TABLE DATA tenancy rollup_state ' "$work/all.list" >"$work/but_state.list"
grep ' TABLE DATA tenancy rollup_state ' "$work/all.list" >"$work/state.list" || exit 1
empty_run_keeps_no_state() {
  restore "$work/all.list" --section=pre-data &&
    other -d "$dst" -c "SELECT tenancy.run_rollups()" >/dev/null &&
    same 0 "$(other -At -d "$dst" -c "SELECT count(*) FROM tenancy.rollup_state")"
}
check "with the schemas restored, a run that finds nothing to count keeps no state row" \
  empty_run_keeps_no_state
grep -E ' TABLE DATA tenancy (events|file_access_log[a-z0-9_]*) ' "$work/but_state.list" >"$work/raw.list"
grep -v -F -x -f "$work/raw.list" "$work/but_state.list" >"$work/rest.list"
raw_rows_alone_keep_no_state() {
  local read
  restore "$work/raw.list" --section=data &&
    read="$(other -At -d "$dst" -c "SELECT sum(rows_read) FROM tenancy.run_rollups()")" &&
    [[ "$read" -gt 0 ]] && same 0 "$(other -At -d "$dst" -c "SELECT count(*) FROM tenancy.rollup_state")" ||
    { echo "# rows read: ${read:-none}"; return 1; }
}
check "with the raw rows restored and not their organizations, a run reads them, writes nothing and keeps no state row" \
  raw_rows_alone_keep_no_state
check "pg_restore of the rest of the data (session_replication_role = replica), all but the rollup state" \
  restore "$work/rest.list" --section=data --section=post-data
refused_without_state() {
  local out
  out="$(other -d "$dst" -c "SELECT tenancy.run_rollups()" 2>&1)" && { echo "# ran: $out"; return 1; }
  grep -q 'the rollup state is missing' <<<"$out" || { echo "# got: $out"; return 1; }
  same 0 "$(other -At -d "$dst" -c "SELECT count(*) FROM tenancy.rollup_state")"
}
check "run_rollups() in the middle of the restore refuses to start a fresh state over the restored rollups" \
  refused_without_state
check "pg_restore of the rollup state, the dump's last table (no run kept one in its way)" restore "$work/state.list"
refused_with_adoption() {
  local out
  out="$(other -d "$dst" -c "SELECT tenancy.run_rollups()" 2>&1)" && { echo "# ran: $out"; return 1; }
  grep -q 'the rollup state was taken in another cluster' <<<"$out" &&
    grep -q 'adopt the state as a superuser' <<<"$out" || { echo "# got: $out"; return 1; }
}
check "run_rollups() refuses the state taken in the source cluster, offering its adoption" refused_with_adoption
counted_once() {
  local read again
  read="$(other -At -d "$dst" -c "UPDATE tenancy.rollup_state SET cluster_id = NULL" \
    -c "SELECT sum(rows_read) FROM tenancy.run_rollups()")" &&
    again="$(other -At -d "$dst" -c "SELECT sum(rows_read) FROM tenancy.run_rollups()")" &&
    same "9 0" "$read $again"
}
check "adopted: the next run counts the nine rows the source had not counted, and the one after nothing" counted_once
same_rollups() {
  "${psql[@]}" -d "$src" -c "SELECT tenancy.run_rollups()" >/dev/null &&
    "${psql[@]}" -At -d "$src" -c "$rollups_sql" >"$work/rollups.src" &&
    other -At -d "$dst" -c "$rollups_sql" >"$work/rollups.dst" &&
    [[ -s "$work/rollups.src" ]] && diff -u "$work/rollups.src" "$work/rollups.dst" >"$work/diff" ||
    { sed 's/^/# /' "$work/diff" | head -20; return 1; }
}
check "the restored rollups equal the source's after its own next run (each row counted once)" same_rollups
new_rows_counted() {
  local read
  read="$(other -At -d "$dst" -c "$not_counted_sql" -c "SELECT sum(rows_read) FROM tenancy.run_rollups()" |
    tail -1)" && same 9 "$read"
}
check "rows written in the new cluster are counted by the next run" new_rows_counted
log_clean() {
  local problems
  problems="$(cluster_log_problems other)"
  [[ -z "$problems" ]] || { sed 's/^/# /' <<<"$problems"; return 1; }
}
check "the new cluster's server log has nothing unexpected" log_clean
"${psql[@]}" -d postgres -c "DROP DATABASE $src" >/dev/null
exit $failed
