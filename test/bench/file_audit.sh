#!/usr/bin/env bash
# file_audit: what the file-audit triggers cost on writes.
#
# Dataset (file_audit/load.sql): 1,000 organizations, 100,000 files in each of
# four tables of the same shape (keys, indexes, checks, foreign keys):
#   cpp       tenancy.files with pg_tenancy's C++ triggers (version bump per
#             row without SQL; audit and version rows appended per statement)
#   none      bench.files_none: no triggers, the limit
#   plpgsql   bench.files_plpgsql: equivalent PL/pgSQL row triggers (the anchor,
#             file_audit/plpgsql_triggers.sql) writing copies of the log and
#             versions tables (same indexes)
#   sql_rows  bench.files_sql_rows: no trigger; the statement writes the same
#             audit and version rows itself (writable CTE), into its own
#             copies: what the rows cost without any trigger machinery
# Single-row INSERT and content UPDATE, one statement per transaction, as the
# superuser (no policy in the way: the trigger cost alone), variants
# interleaved in the same pgbench runs (lib/common.sh). Then a 10,000-row
# INSERT and a 10,000-row UPDATE in one statement, median of 7 rolled-back runs
# with the variants taking turns.
#
# Targets (issue): single-row throughput with the C++ triggers >= 0.8 of the
# limit; C++ overhead <= 0.5 of the PL/pgSQL overhead; the 10,000-row
# statements >= 3x faster than the PL/pgSQL row triggers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/lib/common.sh"
dir="$here/file_audit"

median() { sort -g | awk '{v[NR] = $1} END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# overhead_share BASE VARIANT ANCHOR: (variant - base) / (anchor - base) of
# the mean latencies, taken within each round, median over the rounds.
overhead_share() {
  local base="$1" variant="$2" anchor="$3" round
  printf '%.3f' "$(
    for ((round = 1; round <= BENCH_ROUNDS; round++)); do
      awk -v n="${BENCH_LAT[$base.$round]}" -v c="${BENCH_LAT[$variant.$round]}" \
        -v p="${BENCH_LAT[$anchor.$round]}" 'BEGIN { printf "%.6f\n", (c - n) / (p - n) }'
    done | median)"
}

bench_log "loading 1,000 organizations and 4 x 100,000 files"
bench_psql -f "$dir/load.sql"

for shape in insert update; do
  bench_mix "$shape" "$PGUSER" \
    "$shape.none=$dir/$shape.none.pgbench" \
    "$shape.cpp=$dir/$shape.cpp.pgbench" \
    "$shape.plpgsql=$dir/$shape.plpgsql.pgbench" \
    "$shape.sql_rows=$dir/$shape.sql_rows.pgbench"
done
bench_measure insert update

for shape in insert update; do
  none="$shape.none" cpp="$shape.cpp" plpgsql="$shape.plpgsql"
  bench_row "file_audit.$shape.cpp_vs_limit" "$(bench_ratio "$none" "$cpp")" ">= 0.8" \
    "single-row $shape: C++ triggers vs no triggers; latency $(bench_latency "$cpp") vs $(bench_latency "$none") µs/txn"
  bench_row "file_audit.$shape.plpgsql_vs_limit" "$(bench_ratio "$none" "$plpgsql")" "-" \
    "single-row $shape: PL/pgSQL triggers vs no triggers; latency $(bench_latency "$plpgsql") µs/txn"
  share="$(overhead_share "$none" "$cpp" "$plpgsql")"
  bench_row "file_audit.$shape.overhead_share" "$share" "<= 0.5" \
    "single-row $shape: C++ trigger overhead / PL/pgSQL trigger overhead (extra µs over no triggers: $(bench_extra_us "$none" "$cpp") vs $(bench_extra_us "$none" "$plpgsql"))"
  sql_rows="$shape.sql_rows"
  floor="$(overhead_share "$none" "$sql_rows" "$plpgsql")"
  bench_row "file_audit.$shape.rows_alone_share" "$floor" "-" \
    "single-row $shape: no trigger, the statement writes the same rows itself (writable CTE) / PL/pgSQL trigger overhead (extra µs: $(bench_extra_us "$none" "$sql_rows")): the floor of any trigger's share"
done

bench_log "10,000-row statements"
# Each run is one rolled-back statement (lib/statement_ms.sql). The variants
# take turns, run by run, so a checkpoint or an autovacuum falls on all of
# them alike; the figure is the median of BENCH_BULK_RUNS runs.
BENCH_BULK_RUNS="${BENCH_BULK_RUNS:-7}"
bulk_sql() {  # bulk_sql SHAPE TABLE
  case "$1" in
    insert) echo "INSERT INTO $2 (organization_id, owner_id, path, name, size_bytes)
      SELECT md5('org' || (g % 1000 + 1))::uuid, md5('owner' || (g % 1000 + 1))::uuid,
             'bulk/' || g, 'bulk ' || g, g FROM generate_series(1, 10000) g" ;;
    update) echo "UPDATE $2 t SET size_bytes = t.size_bytes + 1
      FROM generate_series(1, 10000) g
      WHERE t.organization_id = md5('org' || (g % 1000 + 1))::uuid AND t.id = md5('file' || g)::uuid" ;;
  esac
}
declare -A bulk_runs=() insert_ms=() update_ms=()
for ((run = 1; run <= BENCH_BULK_RUNS; run++)); do
  for shape in insert update; do
    for v in cpp:tenancy.files none:bench.files_none plpgsql:bench.files_plpgsql; do
      key=${v%%:*} tbl=${v#*:}
      bulk_runs[$shape.$key]+="$(bench_psql -At -c "SELECT bench.statement_ms(\$bench\$$(bulk_sql "$shape" "$tbl")\$bench\$, 1)") "
    done
  done
done
for key in cpp none plpgsql; do
  insert_ms[$key]="$(tr ' ' '\n' <<<"${bulk_runs[insert.$key]}" | grep . | median)"
  update_ms[$key]="$(tr ' ' '\n' <<<"${bulk_runs[update.$key]}" | grep . | median)"
done
for shape in insert update; do
  declare -n ms="${shape}_ms"
  bench_row "file_audit.bulk_$shape.cpp_vs_plpgsql" \
    "$(awk -v p="${ms[plpgsql]}" -v c="${ms[cpp]}" 'BEGIN { printf "%.2f", p / c }')" ">= 3" \
    "one 10,000-row $shape: PL/pgSQL row triggers / C++ triggers; $(printf '%.1f' "${ms[plpgsql]}") vs $(printf '%.1f' "${ms[cpp]}") ms (no triggers: $(printf '%.1f' "${ms[none]}") ms)"
  # The whole statement cannot be 3x faster once the triggers cost less than
  # half the statement without them; what the triggers themselves add can.
  bench_row "file_audit.bulk_$shape.overhead_plpgsql_vs_cpp" \
    "$(awk -v p="${ms[plpgsql]}" -v c="${ms[cpp]}" -v n="${ms[none]}" 'BEGIN { printf "%.2f", (p - n) / (c - n) }')" "-" \
    "one 10,000-row $shape: time the PL/pgSQL row triggers add / time the C++ triggers add; +$(awk -v p="${ms[plpgsql]}" -v n="${ms[none]}" 'BEGIN { printf "%.1f", p - n }') vs +$(awk -v c="${ms[cpp]}" -v n="${ms[none]}" 'BEGIN { printf "%.1f", c - n }') ms"
done
