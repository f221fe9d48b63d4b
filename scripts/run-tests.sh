#!/usr/bin/env bash
# `make test`: installs what is missing, builds, installs, runs the unit tests,
# pg_regress, pgTAP (primary, then a hot standby of it) and the isolation specs
# against throwaway clusters, stops them, prints one summary line, and exits
# non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

scripts/install-deps.sh || exit 1
scripts/build-install.sh || exit 1
source scripts/cluster.sh

PORT="${TENANCY_TEST_PORT:-55432}"
failures=()
trap 'cluster_stop_all' EXIT

# --- unit tests ---------------------------------------------------------------
unit_log="$(mktemp)"
if scripts/unit-tests.sh >"$unit_log" 2>&1; then
  unit_summary="$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$unit_log" | awk '{print $6-$1"/"$6}')"
else
  cat "$unit_log"
  unit_summary="FAILED"
  failures+=(unit)
fi
echo "unit: $unit_summary"

# --- throwaway cluster ----------------------------------------------------------
cluster_start primary "$PORT" || exit 1
cluster_env primary
cluster_psql primary -c "CREATE DATABASE tenancy_test" || exit 1
cluster_psql primary -d tenancy_test -f test/setup_test_database.sql || exit 1

# --- pg_regress ------------------------------------------------------------------
regress_log="$(mktemp)"
make -s installcheck >"$regress_log" 2>&1
regress_rc=$?
cat "$regress_log"
regress_summary="$(grep -Eo 'All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed' "$regress_log" | tail -1)"
if [[ $regress_rc -ne 0 ]]; then
  failures+=(regress)
  [[ -f regression.diffs ]] && head -200 regression.diffs
fi

# --- pgTAP (as the non-superuser application login) ---------------------------
run_pg_prove() {
  local name="$1" user="$2"
  shift 2
  PGPASSWORD=tenancy-test pg_prove --norc -h "${CLUSTER_DIR[$name]}" \
    -p "${CLUSTER_PORT[$name]}" -U "$user" -d tenancy_test "$@"
}
export TENANCY_TEST_TCP_PORT="$PORT"
pgtap_log="$(mktemp)"
run_pg_prove primary tenancy_test_app \
  --set "tcp_port=$PORT" test/pgtap/*.sql 2>&1 | tee "$pgtap_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || failures+=(pgtap)
pgtap_summary="$(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$pgtap_log" | tail -1)"

# --- pgTAP as the superuser: rollups (run_rollups is the DBA's), pg_cron --------
super_log="$(mktemp)"
run_pg_prove primary postgres --set "host=${CLUSTER_DIR[primary]}" --set "port=$PORT" \
  test/pgtap_superuser/*.sql 2>&1 | tee "$super_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || failures+=(pgtap-superuser)
super_summary="$(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$super_log" | tail -1)"

# --- isolation specs (isolationtester, test/isolation/: a fresh database each) ---
isolation_log="$(mktemp)"
scripts/isolation-tests.sh "${CLUSTER_DIR[primary]}" "$PORT" 2>&1 | tee "$isolation_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || failures+=(isolation)
isolation_summary="$(grep -Eo '^isolation [0-9]+/[0-9]+$' "$isolation_log" | tail -1 | cut -d' ' -f2)"

# --- dump/restore (into this cluster and into a new one), upgrade and logical replication round trips ---
roundtrip_log="$(mktemp)"
{ test/roundtrip/dump_restore.sh && test/roundtrip/upgrade.sh && test/roundtrip/logical_replication.sh &&
  TENANCY_OTHER_CLUSTER_PORT=$((PORT + 2)) test/roundtrip/other_cluster.sh; } 2>&1 | tee "$roundtrip_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || failures+=(roundtrip)
roundtrip_summary="$(grep -c '^ok ' "$roundtrip_log")/$(grep -Ec '^(not )?ok ' "$roundtrip_log")"

# --- hot standby: reads work with a context ----------------------------------------
standby_log="$(mktemp)"
cluster_psql primary -d tenancy_test -f test/standby/prepare_primary.sql >/dev/null &&
  cluster_start_standby standby $((PORT + 1)) primary &&
  { run_pg_prove standby tenancy_test_app test/standby/reads_on_standby.sql &&
    run_pg_prove standby postgres test/standby/superuser_on_standby.sql; } 2>&1 | tee "$standby_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || failures+=(standby)
standby_summary="$(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$standby_log" | awk -F'[=, ]+' '{f+=$2; t+=$4} END {print "Files=" f ", Tests=" t}')"

# --- server logs -----------------------------------------------------------------
for name in primary standby; do
  [[ -n "${CLUSTER_DIR[$name]:-}" ]] || continue
  problems="$(cluster_log_problems "$name")"
  if [[ -n "$problems" ]]; then
    echo "unexpected lines in the $name server log:" >&2
    echo "$problems" >&2
    failures+=("$name-log")
  fi
done

summary="unit ${unit_summary:-?}; pg_regress ${regress_summary:-?}; pgTAP app ${pgtap_summary:-?}; pgTAP superuser ${super_summary:-?}; isolation ${isolation_summary:-?}; dump/restore+upgrade ${roundtrip_summary:-?}; standby ${standby_summary:-?}"
if ((${#failures[@]})); then
  echo "make test: FAIL (${failures[*]}) - $summary"
  exit 1
fi
echo "make test: PASS - $summary"
