#!/usr/bin/env bash
# rls_read_path: what row level security costs on the read path.
#
# Dataset (rls_read_path/load.sql): 1,000 organizations x 1,000 members =
# 1,000,000 tenancy.members rows, and bench.members_handwritten, a copy with
# the same rows, keys and indexes protected by a hand-written policy.
# Everything fits in shared buffers and is prewarmed.
#
# Variants of each query shape, random organization and member in every
# transaction, pgbench -n -M prepared -c BENCH_CLIENTS -j BENCH_THREADS:
#   limit        the upper bound: role bench_bypass (BYPASSRLS, so no policy
#                applies, and its privilege checks are those of an ordinary
#                role, not a superuser's) reading tenancy.members with the
#                tenant filter written into the query: organization_id = $1.
#   pg_tenancy   role bench_app (IN ROLE tenancy_app) reading
#                tenancy.members under its policies, with no tenant filter
#                in the query: the policy adds organization_id =
#                tenancy.current_org_id() and the role rule.
#   handwritten  role bench_app reading bench.members_handwritten, whose
#                policy is the same rule written with current_setting():
#                what an application typically does without pg_tenancy.
#   limit_copy   the limit's query on bench.members_handwritten: the
#                hand-written variant's upper bound. Each ratio compares two
#                reads of the same physical table, and in a run both tables
#                get about the same share of the transactions, so neither is
#                favoured by warmer CPU caches.
#
# Fairness:
# - Every transaction is  BEGIN; <setup>; <query>; COMMIT;  and <setup> is
#   one statement, the same in all variants of a shape but for the role it
#   takes (rls_read_path/setup_*.pgbench): it computes the uuids, calls
#   tenancy.set_context AND the set_config calls of the hand-written
#   variant. Each variant pays for both although it uses at most one, so the
#   ratios compare the query path alone, not the context setup, which is
#   measured on its own (set_context rows). The query text is the same too,
#   except that the limit variant writes the tenant filter the policy adds.
# - All variants of a shape run in the same pgbench runs, interleaved
#   transaction by transaction (see lib/common.sh), so noise hits them alike.
# - The setup also sets plan_cache_mode = force_generic_plan: every variant
#   executes a plan made once, which is what -M prepared is for. Without it
#   the limit's queries, whose parameters the planner may look at, can be
#   re-planned on every execution (PostgreSQL keeps choosing custom plans
#   for the student page, for one), a cost that is not the query path; the
#   policy queries have no parameters and are planned once anyway.
# - Because the setup and four round trips are in every transaction, a ratio
#   understates the relative cost of the policy for the query alone; the
#   absolute difference per transaction (µs) is printed too.
# - Before timing, each variant's transaction is run once per sample through
#   psql and all must return the same rows, and once more for a second in
#   pgbench, counting rows; the plans (EXPLAIN ANALYZE of the generic plan)
#   are written to $BENCH_OUT/plans.txt.
#
# Shapes:
#   point          one member by user_id (the PK is (organization_id,
#                  user_id); there is also an index on user_id), as the owner
#   page           the first 50 members ORDER BY user_id, as the owner
#   student_page   the same page as a student, who sees the staff and their
#                  own row only: ~750 rows filtered out per page, so the
#                  policy's filter runs on every one of them (the per-row
#                  cost of the policy).
# and set_context: BEGIN; SELECT tenancy.set_context(org, user); COMMIT; vs
# the same with two set_config calls, by pgbench and in one statement
# (µs per call in the server, round trips excluded).
#
# Time: 4 mixes x BENCH_ROUNDS (8) x BENCH_SECONDS (6), plus the load, the
# checks and the warm-up: about four minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=test/bench/lib/common.sh
source "$here/lib/common.sh"
src="$here/rls_read_path"

ORGS="${BENCH_RLS_ORGS:-1000}"
MEMBERS="${BENCH_RLS_MEMBERS:-1000}"
STAFF=63 # per organization: 1 owner, 2 admins, 60 teachers; the rest are students
TARGET=">= 0.95"
APP=bench_app       # IN ROLE tenancy_app (created by test/bench/lib/template.sql)
BYPASS=bench_bypass # BYPASSRLS, IN ROLE tenancy_app
RUNNER=bench_runner # pgbench's login for mixes: IN ROLE bench_app, bench_bypass
vars=(-D "orgs=$ORGS" -D "members=$MEMBERS" -D "staff=$STAFF")

# --- dataset ---------------------------------------------------------------------
bench_log "loading $ORGS organizations x $MEMBERS members"
start=$SECONDS
bench_psql -v orgs="$ORGS" -v members="$MEMBERS" -v staff="$STAFF" -f "$src/load.sql" >&2
bench_log "loaded in $((SECONDS - start)) s"

# --- pgbench scripts: setup + query + COMMIT ----------------------------------------
shapes=(point page student_page)
variants="limit pg_tenancy limit_copy handwritten"
declare -A setup_of=([point]=setup_staff [page]=setup_staff [student_page]=setup_student)
declare -A role_of=([limit]=$BYPASS [pg_tenancy]=$APP [limit_copy]=$BYPASS [handwritten]=$APP)
declare -A query_of=([limit]=limit [pg_tenancy]=tenancy [limit_copy]=limit_copy [handwritten]=handwritten)
# What each variant is measured against.
declare -A base_of=([pg_tenancy]=limit [handwritten]=limit_copy)

# The setup of VARIANT of SHAPE, its role filled in.
setup_for() {
  sed -e "s/{{role}}/${role_of[$2]}/g" "$src/${setup_of[$1]}.pgbench"
}

mkdir -p "$BENCH_OUT/scripts"
mixes=()
for shape in "${shapes[@]}"; do
  members_of_mix=()
  for variant in $variants; do
    script="$BENCH_OUT/scripts/$shape.$variant.pgbench"
    {
      setup_for "$shape" "$variant"
      cat "$src/$shape.${query_of[$variant]}.sql"
      echo 'COMMIT;'
    } >"$script"
    members_of_mix+=("$shape.$variant=$script")
  done
  bench_mix "$shape" "$RUNNER" "${members_of_mix[@]}" -- "${vars[@]}"
  mixes+=("$shape")
done
bench_mix set_context "$APP" \
  "set_context.pg_tenancy=$src/set_context.tenancy.pgbench" \
  "set_context.set_config=$src/set_context.set_config.pgbench" -- "${vars[@]}"
mixes+=(set_context)

# --- same rows in every variant; plans ------------------------------------------------
# One variant's transaction through psql, as pgbench's login, for
# organization O and member T: the setup without its \set lines (psql's -v
# gives o and t), then the query as a prepared statement with the generic
# plan, as pgbench -M prepared ends up running it.
run_in_psql() {
  local shape="$1" variant="$2" o="$3" t="$4" mode="$5" query
  # shellcheck disable=SC2016 # $1… are the prepared statement's parameters
  query="$(sed -E 's/:org_id/$1/g; s/:target_id/$2/g; s/:ctx_user_id/$3/g; s/;[[:space:]]*$//' \
    "$src/$shape.${query_of[$variant]}.sql")"
  {
    setup_for "$shape" "$variant" | grep -v '^\\set'
    echo "PREPARE q(uuid, uuid, uuid) AS $query;"
    if [[ "$mode" == explain ]]; then
      echo "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE q(:'org_id', :'target_id', :'ctx_user_id');"
    else
      echo "EXECUTE q(:'org_id', :'target_id', :'ctx_user_id');"
    fi
    echo "COMMIT;"
  } | bench_psql -U "$RUNNER" -v o="$o" -v t="$t" -A -t
}

bench_log "checking that the variants return the same rows"
declare -A samples=([point]="1:1 537:200 $ORGS:$MEMBERS" [page]="1:1 537:200 $ORGS:$MEMBERS"
  [student_page]="1:$((STAFF + 1)) 537:200 $ORGS:$MEMBERS")
plans="$BENCH_OUT/plans.txt"
echo "# Generic plans of each variant's query (EXPLAIN ANALYZE of the first sample)" >"$plans"
for shape in "${shapes[@]}"; do
  for sample in ${samples[$shape]}; do
    o="${sample%%:*}" t="${sample##*:}"
    expected="$(run_in_psql "$shape" limit "$o" "$t" result)"
    rows="$(grep -c . <<<"$expected" || true)"
    case "$shape" in
      point) want=1 ;;
      *) want=50 ;;
    esac
    [[ "$rows" == "$want" ]] || bench_die "$shape o=$o t=$t: the limit variant returned $rows rows, expected $want"
    for variant in $variants; do
      [[ "$variant" == limit ]] && continue
      got="$(run_in_psql "$shape" "$variant" "$o" "$t" result)"
      if [[ "$got" != "$expected" ]]; then
        diff <(echo "$expected") <(echo "$got") >&2 || true
        bench_die "$shape o=$o t=$t: $variant returned other rows than limit"
      fi
    done
  done
  sample="${samples[$shape]%% *}"
  for variant in $variants; do
    {
      echo
      echo "## $shape.$variant (role ${role_of[$variant]}, o=${sample%%:*} t=${sample##*:})"
      cat "$src/$shape.${query_of[$variant]}.sql"
      run_in_psql "$shape" "$variant" "${sample%%:*}" "${sample##*:}" explain
    } >>"$plans"
  done
done
# Isolation is really in force for the application's role, and really
# bypassed for the limit's.
visible="$(bench_psql -U "$APP" -A -t -c "BEGIN" \
  -c "SELECT tenancy.set_context(md5('org1')::uuid, md5('user1-1')::uuid)" \
  -c "SELECT count(*) FROM tenancy.members" -c "COMMIT" | sed -n 2p)"
[[ "$visible" == "$MEMBERS" ]] || bench_die "$APP sees $visible members of one organization, expected $MEMBERS"
visible="$(bench_psql -U "$RUNNER" -A -t -c "SELECT count(*) FROM tenancy.members")"
[[ "$visible" == 0 ]] || bench_die "$RUNNER without a context sees $visible members, expected 0"
visible="$(bench_psql -U "$RUNNER" -A -t -c "BEGIN" -c "SET LOCAL ROLE $BYPASS" \
  -c "SELECT count(*) FROM tenancy.members" -c "COMMIT")"
[[ "$visible" == "$((ORGS * MEMBERS))" ]] || bench_die "$BYPASS sees $visible members, expected $((ORGS * MEMBERS))"

# The same, the way pgbench runs it (roles switched per transaction, plans
# cached across transactions): a short run of each shape's variants, where
# a query that returns another number of rows than expected aborts the run.
for shape in "${shapes[@]}"; do
  want=50
  [[ "$shape" == point ]] && want=1
  checks=()
  for variant in $variants; do
    script="$BENCH_OUT/scripts/$shape.$variant.check.pgbench"
    {
      setup_for "$shape" "$variant"
      echo "SELECT count(*) AS n FROM ($(sed -E 's/;[[:space:]]*$//' "$src/$shape.${query_of[$variant]}.sql")) AS q"
      printf '%s\n' '\gset' "\\if :n != $want" 'SELECT 1 / 0 AS wrong_number_of_rows;' '\endif' 'COMMIT;'
    } >"$script"
    checks+=("check.$shape.$variant=$script")
  done
  bench_mix "check.$shape" "$RUNNER" "${checks[@]}" -- "${vars[@]}"
  BENCH_SECONDS=1 bench_run_mix "check.$shape" check >/dev/null
done

# --- measure -------------------------------------------------------------------------
bench_log "measuring ${#mixes[@]} mixes: $BENCH_ROUNDS rounds of ${BENCH_SECONDS} s, -c $BENCH_CLIENTS -j $BENCH_THREADS"
bench_measure "${mixes[@]}"

# In-server cost of set_context, three times, median.
calls=100000
inserver=()
for round in 1 2 3; do
  line="$(bench_psql -U "$APP" -v orgs="$ORGS" -v members="$MEMBERS" -v calls="$calls" \
    -f "$src/set_context_inserver.sql" | grep '^inserver ')"
  inserver+=("${line#inserver }")
  bench_log "in-server round $round: bare/set_config/set_context/bare over tokens/set_context_signed seconds ${line#inserver }"
done

# --- rows --------------------------------------------------------------------------
declare -A what=(
  [point]="point lookup WHERE user_id = \$1, owner context"
  [page]="first page ORDER BY user_id LIMIT 50, owner context"
  [student_page]="first page ORDER BY user_id LIMIT 50 as a student (~750 rows filtered out)"
)
compared() { # BASE KEY: "latency K vs B µs, +D µs/txn"
  printf 'latency %s vs %s µs/txn (%s)' "$(bench_latency "$2")" "$(bench_latency "$1")" "$(bench_extra_us "$1" "$2")"
}
declare -A against=(
  [pg_tenancy]="LIMIT (BYPASSRLS, organization_id = \$1 in the query)"
  [handwritten]="LIMIT on the same copy"
)
for shape in "${shapes[@]}"; do
  for variant in pg_tenancy handwritten; do
    key="$shape.$variant" base="$shape.${base_of[$variant]}"
    target="-"
    [[ "$variant" == pg_tenancy ]] && target="$TARGET"
    bench_row "rls_read_path.$key" "$(bench_ratio "$base" "$key")" "$target" \
      "${what[$shape]}: $variant vs ${against[$variant]}; $(compared "$base" "$key")"
  done
done
bench_row "rls_read_path.set_context.pgbench" \
  "$(bench_ratio set_context.set_config set_context.pg_tenancy)" "-" \
  "BEGIN; set_context(org, user); COMMIT vs the same with 2x set_config; $(compared set_context.set_config set_context.pg_tenancy)"

per_call_us() { # SECONDS BARE_SECONDS -> µs per call, the bare loop subtracted
  awk -v a="$1" -v b="$2" -v n="$calls" 'BEGIN { printf "%.6f", (a - b) * 1e6 / n }'
}
ctx_values=() cfg_values=() ratio_values=() signed_values=() signed_ratio_values=()
for line in "${inserver[@]}"; do
  read -r bare cfg ctx token_bare signed <<<"$line"
  ctx_values+=("$(per_call_us "$ctx" "$bare")")
  cfg_values+=("$(per_call_us "$cfg" "$bare")")
  signed_values+=("$(per_call_us "$signed" "$token_bare")")
  ratio_values+=("$(awk -v a="$cfg" -v b="$ctx" 'BEGIN { printf "%.6f", a / b }')")
  signed_ratio_values+=("$(awk -v a="${ctx_values[-1]}" -v b="${signed_values[-1]}" 'BEGIN { printf "%.6f", a / b }')")
done
ctx_us="$(printf '%.2f' "$(bench_median "${ctx_values[@]}")")"
cfg_us="$(printf '%.2f' "$(bench_median "${cfg_values[@]}")")"
ratio="$(printf '%.3f' "$(bench_median "${ratio_values[@]}")")"
bench_row "rls_read_path.set_context.inserver" "$ratio" "-" \
  "one statement of $calls calls, as $APP: set_context ${ctx_us} µs/call vs 2x set_config ${cfg_us} µs/call (argument computation subtracted)"
signed_us="$(printf '%.2f' "$(bench_median "${signed_values[@]}")")"
bench_row "rls_read_path.set_context_signed.inserver" \
  "$(printf '%.3f' "$(bench_median "${signed_ratio_values[@]}")")" "-" \
  "one statement of $calls calls over 10,000 HS256 tokens, as $APP: set_context_signed ${signed_us} µs/call vs set_context ${ctx_us} µs/call (1.15)"
