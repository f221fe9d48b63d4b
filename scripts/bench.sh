#!/usr/bin/env bash
# `make bench`: installs what is missing, builds, installs, starts a throwaway
# cluster on a private port, runs every benchmark test/bench/*.sh in name
# order, prints their rows as one table, writes them to build/bench/results.txt
# and stops the cluster.
#
# A benchmark is one executable script test/bench/NAME.sh (its SQL and pgbench
# files beside it, usually in test/bench/NAME/). It runs with the cluster's
# environment exported (see test/bench/lib/common.sh, which it sources) in its
# own database bench_NAME, a fresh copy of bench_template (the extension, the
# logins bench_app, bench_bypass and bench_runner), and prints rows on stdout:
#   name | ratio | target | what was compared
# Progress goes to stderr and to build/bench/NAME.log.
#
# Knobs: BENCH_SECONDS (6) per pgbench run and BENCH_ROUNDS (8), BENCH_CLIENTS
# and BENCH_THREADS (2), BENCH_ONLY=NAME[,NAME] to run some benchmarks only,
# TENANCY_BENCH_PORT (55600), KEEP_CLUSTER=1 to keep the data directory.
# Exit status: non-zero when a benchmark failed to run, or with BENCH_STRICT=1
# when a target was missed too (timings are noisy, so not by default).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root="$PWD"
export LC_ALL=C
# Nothing from the caller's libpq environment (a dev cluster's database,
# options or service) may leak into the benchmarks' connections.
unset PGDATABASE PGOPTIONS PGSERVICE PGSERVICEFILE PGPASSWORD PGPASSFILE PGAPPNAME PGTARGETSESSIONATTRS

# One `make bench` at a time on this machine: two would share the port and
# build/bench, reinstall the module under each other, and each would time the
# other's load. A second one waits (the lock is taken before the build).
lock="${TMPDIR:-/tmp}/pg_tenancy-bench.lock"
exec 9>"$lock"
if ! flock -n 9; then
  echo "make bench: waiting for the other make bench to finish ($lock)" >&2
  flock -w 1800 9 || { echo "make bench: gave up waiting for $lock" >&2; exit 1; }
fi

scripts/install-deps.sh || exit 1
scripts/build-install.sh || exit 1
source scripts/cluster.sh

PORT="${TENANCY_BENCH_PORT:-55600}"
out="$root/build/bench"

rm -rf "$out"
mkdir -p "$out"
trap 'cluster_stop_all' EXIT
trap 'exit 130' INT TERM

# --- throwaway cluster, sized so every dataset stays in shared buffers ---------------
# (9>&-: the server must not inherit, and so keep, the lock.)
cluster_start bench "$PORT" 9>&- || exit 1
as_server_user tee -a "${CLUSTER_DIR[bench]}/data/postgresql.conf" >/dev/null <<CONF
# --- make bench ---
shared_buffers = '1GB'
# pg_cron's scheduler polls its database; no benchmark uses it so far.
cron.database_name = 'postgres'
CONF
as_server_user "$PG_BINDIR/pg_ctl" -D "${CLUSTER_DIR[bench]}/data" -m fast -w restart >/dev/null 9>&- ||
  { cat "${CLUSTER_DIR[bench]}/server.log" >&2; exit 1; }
cluster_env bench
cluster_psql bench -c "CREATE DATABASE bench_template" || exit 1
cluster_psql bench -d bench_template -f test/bench/lib/template.sql || exit 1

export PGBENCH="$PG_BINDIR/pgbench" PSQL="$PG_BINDIR/psql"
export BENCH_SECONDS="${BENCH_SECONDS:-6}" BENCH_ROUNDS="${BENCH_ROUNDS:-8}"
export BENCH_CLIENTS="${BENCH_CLIENTS:-2}" BENCH_THREADS="${BENCH_THREADS:-2}"

# --- benchmarks -------------------------------------------------------------------
rows="$out/rows.txt"
: >"$rows"
failed=()
for script in test/bench/*.sh; do
  name="$(basename "$script" .sh)"
  if [[ -n "${BENCH_ONLY:-}" && ",$BENCH_ONLY," != *",$name,"* ]]; then continue; fi
  db="bench_$name"
  echo "== $name" >&2
  start=$SECONDS
  if ! cluster_psql bench -c "CREATE DATABASE $db TEMPLATE bench_template"; then
    failed+=("$name")
    continue
  fi
  PGDATABASE="$db" BENCH_NAME="$name" BENCH_OUT="$out/$name" \
    bash "$script" >"$out/$name.rows" 2> >(tee "$out/$name.log" >&2)
  rc=$?
  # Only well-formed rows count; a script that failed keeps the rows it
  # printed. A benchmark that printed none failed, whatever its status.
  if ! grep -E '^[^|]+ \| [^|]+ \| [^|]+ \| .+$' "$out/$name.rows" >>"$rows" && [[ $rc -eq 0 ]]; then
    rc=1
    echo "== $name printed no rows" >&2
  fi
  if [[ $rc -ne 0 ]]; then
    failed+=("$name")
    printf '%s | %s | %s | %s\n' "$name" "FAILED" "-" "exit status $rc, see build/bench/$name.log" >>"$rows"
  fi
  echo "== $name: $((SECONDS - start)) s" >&2
  cluster_psql bench -c "DROP DATABASE $db" || true
done

problems="$(cluster_log_problems bench)"
if [[ -n "$problems" ]]; then
  echo "unexpected lines in the server log:" >&2
  echo "$problems" >&2
  failed+=(server-log)
fi

# --- table ------------------------------------------------------------------------
# The verdict column compares the ratio with the target (">= X" or "<= X").
table="$(awk -F ' [|] ' '
  function verdict(ratio, target,   op, bound) {
    if (target !~ /^(>=|<=) *[0-9.]+$/ || ratio !~ /^[0-9.]+$/) return "";
    op = substr(target, 1, 2); bound = substr(target, 3) + 0;
    if (op == ">=") return (ratio + 0 >= bound) ? "ok" : "MISSED";
    return (ratio + 0 <= bound) ? "ok" : "MISSED";
  }
  { n++; name[n] = $1; ratio[n] = $2; target[n] = $3; what[n] = $4; v[n] = verdict($2, $3)
    if (length($1) > w1) w1 = length($1) }
  END {
    if (w1 < 9) w1 = 9
    fmt = "%-" w1 "s | %6s | %-7s | %-6s | %s\n"
    printf fmt, "benchmark", "ratio", "target", "result", "what was compared"
    line = sprintf("%" (w1 + 38) "s", ""); gsub(/ /, "-", line); print line
    for (i = 1; i <= n; i++) printf fmt, name[i], ratio[i], target[i], v[i], what[i]
  }' "$rows")"
echo
echo "$table"
{
  echo "# make bench, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "# rounds=$BENCH_ROUNDS seconds=$BENCH_SECONDS clients=$BENCH_CLIENTS threads=$BENCH_THREADS"
  echo "# name | ratio | target | what was compared"
  cat "$rows"
} >"$out/results.txt"
echo "$table" >"$out/table.txt"
echo
echo "rows written to build/bench/results.txt (the table: build/bench/table.txt)"

missed="$(grep -c ' MISSED ' <<<"$table" || true)"
if ((${#failed[@]})); then
  echo "make bench: FAILED (${failed[*]})"
  exit 1
fi
if [[ "$missed" -gt 0 ]]; then
  echo "make bench: done, $missed target(s) missed"
  [[ -n "${BENCH_STRICT:-}" ]] && exit 1
  exit 0
fi
echo "make bench: done, all targets met"
