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
#                                     runs of every mix
#   BENCH_CLIENTS BENCH_THREADS       pgbench -c and -j
#
# The row protocol: a benchmark prints its results on stdout, one line each,
#   name | ratio | target | what was compared
# where target is ">= X", "<= X" or "-" (no target, for information), and
# everything else (progress, diagnostics) goes to stderr.
#
# How variants are compared: the variants that are compared with each other
# form a mix, and one pgbench run executes the whole mix, each transaction
# picking one of its scripts at random (pgbench -f a -f b …, equal weights).
# The machine's noise (other processes, frequency changes, a neighbour's
# compile) then falls on all variants alike instead of on whichever ran at a
# bad moment. Each script's mean transaction latency comes from pgbench's
# per-transaction log (-l, microseconds); a ratio is base latency / variant
# latency, which is the throughput ratio (> 1: the variant is faster). Every
# mix runs BENCH_ROUNDS times (after a warm-up run that is not counted), the
# mixes in turn, and a ratio is the median over the runs of the ratio within
# a run.

: "${BENCH_NAME:?run benchmarks through scripts/bench.sh (make bench)}"
: "${BENCH_OUT:?run benchmarks through scripts/bench.sh (make bench)}"
: "${PGBENCH:?}" "${PSQL:?}"
BENCH_SECONDS="${BENCH_SECONDS:-6}"
BENCH_ROUNDS="${BENCH_ROUNDS:-8}"
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

# --- mixes -------------------------------------------------------------------------
#   bench_mix NAME ROLE KEY=SCRIPT… [-- pgbench args…]
#       registers a mix: pgbench logs in as ROLE and runs the scripts, each
#       known by its KEY from then on.
#   bench_measure NAME…
#       the warm-up run of each mix, then BENCH_ROUNDS rounds of one run of
#       each mix. Results: BENCH_LAT[KEY.ROUND], mean latency in µs.
declare -gA BENCH_MIX_ROLE=() BENCH_MIX_KEYS=() BENCH_MIX_SCRIPTS=() BENCH_MIX_ARGS=() BENCH_LAT=()

bench_mix() {
  local name="$1" role="$2" keys=() scripts=()
  shift 2
  while (($#)) && [[ "$1" != -- ]]; do
    keys+=("${1%%=*}")
    scripts+=("${1#*=}")
    shift
  done
  (($#)) && shift
  BENCH_MIX_ROLE[$name]="$role"
  BENCH_MIX_KEYS[$name]="${keys[*]}"
  BENCH_MIX_SCRIPTS[$name]="$(printf '%q ' "${scripts[@]}")"
  BENCH_MIX_ARGS[$name]="$(printf '%q ' "$@")"
}

# bench_run_mix NAME LABEL: one pgbench run of the mix; prints, per script in
# order, its mean latency in µs. Any failed or aborted transaction is an
# error: a benchmark that measures failures measures nothing.
bench_run_mix() {
  local name="$1" label="$2" scripts args fargs=() script dir log failed
  eval "scripts=(${BENCH_MIX_SCRIPTS[$name]})"
  eval "args=(${BENCH_MIX_ARGS[$name]})"
  for script in "${scripts[@]}"; do fargs+=(-f "$script"); done
  dir="$BENCH_OUT/pgbench/$name.$label"
  rm -rf "$dir"
  mkdir -p "$dir"
  log="$dir/summary.txt"
  if ! (cd "$dir" && "$PGBENCH" -n -M prepared -c "$BENCH_CLIENTS" -j "$BENCH_THREADS" \
    -T "$BENCH_SECONDS" -l -U "${BENCH_MIX_ROLE[$name]}" "${fargs[@]}" "${args[@]}" >"$log" 2>&1); then
    cat "$log" >&2
    bench_die "pgbench failed: mix $name"
  fi
  failed="$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$log")"
  if [[ "${failed:-0}" != 0 ]] || ! grep -q '^tps = ' "$log"; then
    cat "$log" >&2
    bench_die "pgbench reported failed transactions or no result: mix $name"
  fi
  # Log lines: client_id transaction_no latency_us script_no epoch epoch_us
  cat "$dir"/pgbench_log.* | awk -v n="${#scripts[@]}" '
    $3 ~ /^[0-9]+$/ { sum[$4] += $3; count[$4]++ }
    END {
      for (i = 0; i < n; i++) {
        if (count[i] == 0) { print "no transactions of script " i > "/dev/stderr"; exit 1 }
        printf "%.3f\n", sum[i] / count[i]
      }
    }'
  rm -f "$dir"/pgbench_log.*
}

bench_measure() {
  local mixes=("$@") n=$# round i name keys values j line saved="$BENCH_SECONDS"
  BENCH_SECONDS=2
  for name in "${mixes[@]}"; do bench_run_mix "$name" warmup >/dev/null || exit 1; done
  BENCH_SECONDS="$saved"
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for ((i = 0; i < n; i++)); do
      name="${mixes[$(((i + round - 1) % n))]}"
      read -r -a keys <<<"${BENCH_MIX_KEYS[$name]}"
      mapfile -t values < <(bench_run_mix "$name" "$round")
      ((${#values[@]} == ${#keys[@]})) || exit 1
      line="round $round/$BENCH_ROUNDS  $(printf '%-13s' "$name")"
      for ((j = 0; j < ${#keys[@]}; j++)); do
        BENCH_LAT[${keys[$j]}.$round]="${values[$j]}"
        line+="  ${keys[$j]#"$name".} $(printf '%.1f' "${values[$j]}")"
      done
      bench_log "$line µs"
    done
  done
}

bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) exit 1
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_over_rounds BASE KEY AWK_EXPR: median over the rounds of AWK_EXPR
# computed from b (BASE's latency) and k (KEY's) of the same run.
bench_over_rounds() {
  local base="$1" key="$2" expr="$3" round values=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    values+=("$(awk -v b="${BENCH_LAT[$base.$round]}" -v k="${BENCH_LAT[$key.$round]}" \
      "BEGIN { printf \"%.6f\", $expr }")")
  done
  bench_median "${values[@]}"
}

# Throughput of KEY relative to BASE: median of latency(BASE) / latency(KEY).
bench_ratio() { printf '%.3f' "$(bench_over_rounds "$1" "$2" 'b / k')"; }

# Extra time per transaction of KEY over BASE, in µs (median, signed).
bench_extra_us() { printf '%+.1f' "$(bench_over_rounds "$1" "$2" 'k - b')"; }

# Median latency of KEY, in µs.
bench_latency() {
  local key="$1" round values=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do values+=("${BENCH_LAT[$key.$round]}"); done
  printf '%.0f' "$(bench_median "${values[@]}")"
}
