#!/usr/bin/env bash
# rollups: what tenancy.run_rollups() costs, against
#   (1) the floor: SELECT count(*) over the same new rows, found the same way
#       (txid not visible in the last run's snapshot);
#   (2) the SQL recipe users write by hand (rollups/recipe.sql): INSERT …
#       SELECT … GROUP BY … ON CONFLICT DO UPDATE, with percentile_cont and
#       count(DISTINCT), over the same rows;
#   (3) 10,000 new rows on top of 5,000,000 rolled up vs 10,000 rows on an
#       empty history: the cost must follow the new rows, not the history.
# 1,000,000 events over 1,000 organizations, every one using all 5 kinds, in
# the 3 whole hours before the current one (15,000 hourly buckets; the row
# prints the count). Each time is the median of 5 runs, each rolled back so all start
# from the same state (lib/statement_ms.sql).
# Targets: (1) <= 2x the floor; (2) >= 2x faster than the recipe; (3) <= 1.5x.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib/common.sh"
dir="$here/rollups"
reps=5
export PGOPTIONS="-c timezone=UTC"

ms() { bench_psql -At -c "SELECT round(bench.statement_ms(\$bench\$$1\$bench\$, $reps)::numeric, 1)"; }
run_sql='SELECT * FROM tenancy.run_rollups(wait => true)'
# The state row appears with the first run; before it, a snapshot that saw nothing.
floor_sql="SELECT count(*) FROM tenancy.events,
  (SELECT coalesce((SELECT last_snapshot FROM tenancy.rollup_state), '3:3:') AS snap) s
  WHERE txid >= pg_snapshot_xmin(s.snap) AND NOT pg_visible_in_snapshot(txid, s.snap)"


bench_log "loading 1,000 organizations and 1,000,000 events"
bench_psql -f "$dir/load.sql"
bench_psql -c "SELECT bench.add_events(1000000, 3)" -c "VACUUM ANALYZE"

# The floor runs in one backend, as run_rollups() does: a parallel plan (two
# workers, a bitmap scan through the txid BRIN) would compare three processes
# with one, and whether the planner picks it moved this figure from 1.5 to 5.
buckets="$(bench_psql -At -c "SELECT bench.new_event_buckets()")"
floor_ms="$(PGOPTIONS="${PGOPTIONS:-} -c max_parallel_workers_per_gather=0" ms "$floor_sql")"
run_ms="$(ms "$run_sql")"
recipe_ms="$(ms "$(cat "$dir/recipe.sql")")"
bench_row "rollups.1m.vs_floor" "$(awk -v r="$run_ms" -v f="$floor_ms" 'BEGIN { printf "%.2f", r / f }')" "<= 2" \
  "run_rollups() over 1,000,000 new events ($buckets buckets): $run_ms ms vs count(*) of the same new rows in one backend $floor_ms ms"
bench_row "rollups.1m.recipe_vs_run" "$(awk -v r="$run_ms" -v s="$recipe_ms" 'BEGIN { printf "%.2f", s / r }')" ">= 2" \
  "SQL recipe (GROUP BY + percentile_cont + count(DISTINCT) + ON CONFLICT) $recipe_ms ms / run_rollups() $run_ms ms"

bench_log "rolling up 5,000,000 events of history"
bench_psql -c "SELECT * FROM tenancy.run_rollups(wait => true)" >/dev/null
bench_psql -c "SELECT bench.add_events(4000000, 3)" -c "SELECT * FROM tenancy.run_rollups(wait => true)" \
  -c "VACUUM ANALYZE" >/dev/null
bench_psql -c "SELECT bench.add_events(10000, 1)" -c "ANALYZE tenancy.events"
history_ms="$(ms "$run_sql")"

empty_db="${PGDATABASE}_empty"
bench_psql -d postgres -c "DROP DATABASE IF EXISTS $empty_db" -c "CREATE DATABASE $empty_db TEMPLATE bench_template"
PGDATABASE="$empty_db" bench_psql -f "$dir/load.sql" >/dev/null
PGDATABASE="$empty_db" bench_psql -c "SELECT bench.add_events(10000, 1)" -c "VACUUM ANALYZE"
empty_ms="$(PGDATABASE="$empty_db" ms "$run_sql")"
bench_psql -d postgres -c "DROP DATABASE $empty_db"
bench_row "rollups.10k.history_vs_empty" "$(awk -v h="$history_ms" -v e="$empty_ms" 'BEGIN { printf "%.2f", h / e }')" "<= 1.5" \
  "run_rollups() of 10,000 new events on 5,000,000 rolled up: $history_ms ms vs on an empty history: $empty_ms ms"
