# shellcheck shell=bash
# Helpers for the benchmark scripts in test/bench/*.sh. Source it; it defines
# functions and reads the environment that scripts/bench.sh exports:
#
#   PGHOST PGPORT PGUSER PGDATABASE   the throwaway cluster and this benchmark's
#                                     own database (a copy of a template that
#                                     has the extension; dropped afterwards)
#   PGBENCH PSQL                      client binaries of PostgreSQL 15
#   BENCH_NAME                        the script's name (rls_read_path, …)
#   BENCH_OUT                         a directory for its logs and scripts
#   BENCH_SECONDS BENCH_ROUNDS        length of one pgbench run, and how many
#                                     interleaved rounds of every variant
#   BENCH_CLIENTS BENCH_THREADS       pgbench -c and -j
#
# The row protocol: a benchmark prints its results on stdout, one line each,
#   name | ratio | target | what was compared
# where target is ">= X", "<= X" or "-" (no target, for information), and
# everything else (progress, diagnostics) goes to stderr.

: "${BENCH_NAME:?run benchmarks through scripts/bench.sh (make bench)}"
: "${BENCH_OUT:?run benchmarks through scripts/bench.sh (make bench)}"
: "${PGBENCH:?}" "${PSQL:?}"
BENCH_SECONDS="${BENCH_SECONDS:-4}"
BENCH_ROUNDS="${BENCH_ROUNDS:-5}"
BENCH_CLIENTS="${BENCH_CLIENTS:-2}"
BENCH_THREADS="${BENCH_THREADS:-2}"
mkdir -p "$BENCH_OUT"

bench_log() { echo "[$BENCH_NAME] $*" >&2; }

bench_die() {
  bench_log "ERROR: $*"
  exit 1
}

# psql as the superuser (PGUSER) on the benchmark's database.
bench_psql() { "$PSQL" -X -v ON_ERROR_STOP=1 -q "$@"; }

bench_row() {
  printf '%s | %s | %s | %s\n' "$1" "$2" "$3" "$4"
}

# bench_pgbench LOGFILE ROLE SCRIPT [pgbench args…] -> prints the tps
# (without connection time). Any failed or aborted transaction is an error:
# a benchmark that measures failures measures nothing.
bench_pgbench() {
  local log="$1" role="$2" script="$3" tps failed
  shift 3
  if ! "$PGBENCH" -n -M prepared -c "$BENCH_CLIENTS" -j "$BENCH_THREADS" \
    -T "$BENCH_SECONDS" -U "$role" -f "$script" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    bench_die "pgbench failed: -U $role -f $script"
  fi
  tps="$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$log")"
  failed="$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$log")"
  if [[ -z "$tps" || "${failed:-0}" != 0 ]]; then
    cat "$log" >&2
    bench_die "pgbench reported no tps or failed transactions: -U $role -f $script"
  fi
  echo "$tps"
}

# Variants are registered once, then measured together:
#   bench_variant KEY ROLE SCRIPT [pgbench args…]
#   bench_measure KEY…        one warm-up pass (not counted), then
#                             BENCH_ROUNDS rounds; in each round every
#                             variant runs once, the order rotating by one
#                             per round, so drift and order favour nobody.
# Results: BENCH_TPS[KEY.ROUND].
declare -gA BENCH_VARIANT_ROLE=() BENCH_VARIANT_SCRIPT=() BENCH_VARIANT_ARGS=() BENCH_TPS=()

bench_variant() {
  local key="$1" role="$2" script="$3"
  shift 3
  BENCH_VARIANT_ROLE[$key]="$role"
  BENCH_VARIANT_SCRIPT[$key]="$script"
  BENCH_VARIANT_ARGS[$key]="$(printf '%q ' "$@")"
}

# Runs variant KEY once: bench_run_variant KEY LOGFILE -> prints the tps.
bench_run_variant() {
  local key="$1" log="$2" args
  eval "args=(${BENCH_VARIANT_ARGS[$key]})"
  bench_pgbench "$log" "${BENCH_VARIANT_ROLE[$key]}" "${BENCH_VARIANT_SCRIPT[$key]}" "${args[@]}"
}

bench_measure() {
  local keys=("$@") n=$# round i key tps saved_seconds="$BENCH_SECONDS"
  mkdir -p "$BENCH_OUT/pgbench"
  BENCH_SECONDS=1
  for key in "${keys[@]}"; do
    bench_run_variant "$key" "$BENCH_OUT/pgbench/$key.warmup.log" >/dev/null
  done
  BENCH_SECONDS="$saved_seconds"
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for ((i = 0; i < n; i++)); do
      key="${keys[$(((i + round - 1) % n))]}"
      tps="$(bench_run_variant "$key" "$BENCH_OUT/pgbench/$key.$round.log")" || exit 1
      BENCH_TPS[$key.$round]="$tps"
      bench_log "round $round/$BENCH_ROUNDS  $(printf '%-28s' "$key") $(printf '%10.1f' "$tps") tps"
    done
  done
}

bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) exit 1
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median over the rounds of one variant's tps.
bench_tps() {
  local key="$1" round values=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do values+=("${BENCH_TPS[$key.$round]}"); done
  bench_median "${values[@]}"
}

# Median over the rounds of tps(KEY) / tps(BASE), each round's pair measured
# minutes apart at most: a throughput ratio, > 1 means KEY is faster.
bench_ratio() {
  local base="$1" key="$2" round values=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    values+=("$(awk -v a="${BENCH_TPS[$key.$round]}" -v b="${BENCH_TPS[$base.$round]}" \
      'BEGIN { printf "%.6f", a / b }')")
  done
  printf '%.3f' "$(bench_median "${values[@]}")"
}

# Median over the rounds of the extra time one transaction of KEY takes over
# one of BASE, in microseconds: clients / tps is the time per transaction of
# one client.
bench_extra_us() {
  local base="$1" key="$2" round values=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    values+=("$(awk -v a="${BENCH_TPS[$key.$round]}" -v b="${BENCH_TPS[$base.$round]}" \
      -v c="$BENCH_CLIENTS" 'BEGIN { printf "%.6f", (c / a - c / b) * 1e6 }')")
  done
  printf '%+.1f' "$(bench_median "${values[@]}")"
}
