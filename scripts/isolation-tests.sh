#!/usr/bin/env bash
# The isolation suite: PostgreSQL's isolationtester specs of test/isolation/
# (races between concurrent sessions), against a running cluster.
#
#   scripts/isolation-tests.sh SOCKET_DIR PORT [SPEC…]
#
# Makes the template database tenancy_iso_template once (test/isolation/template.sql:
# the extension and the application login), then runs each spec (all of
# test/isolation/specs/ by default) with pg_isolation_regress --use-existing in
# a fresh database tenancy_iso_SPEC copied from it: a log month partition
# cannot be dropped and some specs need an empty rollup state, so no spec may
# see another's leftovers. Drops the databases, shows the diffs of the specs
# that failed, prints `isolation PASSED/TOTAL` and exits non-zero on any
# failure. The isolation tester ships with postgresql-server-dev-15 (PGXS).
set -uo pipefail
cd "$(dirname "$0")/.."

if (($# < 2)); then
  echo "usage: $0 SOCKET_DIR PORT [SPEC...]" >&2
  exit 2
fi
host="$1" port="$2"
shift 2

PG_CONFIG="${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}"
bindir="$("$PG_CONFIG" --bindir)"
regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress"
[[ -x "$regress" ]] || { echo "isolation: $regress is missing (postgresql-server-dev-15)" >&2; exit 1; }

specs=("$@")
if ((${#specs[@]} == 0)); then
  for f in test/isolation/specs/*.spec; do specs+=("$(basename "$f" .spec)"); done
fi

# (Without the NOTICEs of DROP DATABASE IF EXISTS; the specs' own NOTICEs are output.)
psql=(env PGOPTIONS="-c client_min_messages=warning"
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres -d postgres)
template=tenancy_iso_template
out="$(mktemp -d "${TMPDIR:-/tmp}/pg_tenancy.isolation.XXXXXX")"

"${psql[@]}" -c "DROP DATABASE IF EXISTS $template" -c "CREATE DATABASE $template" &&
  "${psql[@]}" -d "$template" -f test/isolation/template.sql ||
  { echo "isolation: could not make the template database" >&2; exit 1; }

passed=0 failed=()
for spec in "${specs[@]}"; do
  db="tenancy_iso_$spec"
  if ! "${psql[@]}" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE $template"; then
    failed+=("$spec")
    continue
  fi
  # pg_regress writes results/ and regression.diffs into the output dir.
  if "$regress" --use-existing --host="$host" --port="$port" --user=postgres --dbname="$db" \
      --inputdir=test/isolation --outputdir="$out/$spec" "$spec" >"$out/$spec.log" 2>&1; then
    passed=$((passed + 1))
    # pg_regress 15 prints "test SPEC ... ok  N ms".
    grep -E '^test ' "$out/$spec.log"
  else
    failed+=("$spec")
    cat "$out/$spec.log"
    [[ -f "$out/$spec/regression.diffs" ]] && cat "$out/$spec/regression.diffs"
  fi
  "${psql[@]}" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
done
"${psql[@]}" -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" || true

if ((${#failed[@]})); then
  echo "isolation: failed: ${failed[*]} (outputs kept in $out)"
else
  rm -rf "$out"
fi
echo "isolation $passed/${#specs[@]}"
((${#failed[@]} == 0))
