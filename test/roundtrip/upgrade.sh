#!/usr/bin/env bash
# Upgrade test (run by scripts/run-tests.sh with the cluster's environment):
# for every installable version older than the default one, install it, load
# data, ALTER EXTENSION pg_tenancy UPDATE, and check that
#   - the extension is at the default version,
#   - its catalog (functions, tables, columns, constraints, indexes, triggers,
#     policies, views, grants, dump configuration) equals a fresh install's,
#   - the data is unchanged, and the upgraded database still works.
# New versions are picked up from pg_available_extension_versions: nothing to
# edit here when 1.2 comes. Prints TAP.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bindir="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source "$here/tap.sh"
differs() {  # differs A B: prints the diff as TAP comments when they differ
  [[ -s "$1" && -s "$2" ]] || { echo "# empty description"; return 0; }
  diff -u "$1" "$2" >"$work/diff" && return 1
  sed 's/^/# /' "$work/diff" | head -40
  return 0
}

default="$("${psql[@]}" -At -d postgres -c \
  "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_tenancy'")"
mapfile -t older < <("${psql[@]}" -At -d postgres -c \
  "SELECT version FROM pg_available_extension_versions
   WHERE name = 'pg_tenancy' AND version <> '$default' ORDER BY string_to_array(version, '.')::int[]")
# (The fresh install, four per older version, two per refused upgrade below.)
echo "1..$((7 + 4 * ${#older[@]}))"

"${psql[@]}" -d postgres -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS tenancy_upgrade_fresh" -c "CREATE DATABASE tenancy_upgrade_fresh" >/dev/null
if "${psql[@]}" -d tenancy_upgrade_fresh -c "CREATE EXTENSION pg_tenancy" >/dev/null &&
   "${psql[@]}" -At -d tenancy_upgrade_fresh -v skip_runtime_partitions=true -f "$here/describe_catalog.sql" >"$work/catalog.fresh"; then
  ok "fresh install of $default"
else
  not_ok "fresh install of $default"
fi

for version in "${older[@]}"; do
  db="tenancy_upgrade_from_${version//./_}"
  "${psql[@]}" -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  if "${psql[@]}" -d "$db" -c "CREATE EXTENSION pg_tenancy VERSION '$version'" \
       -f "$here/fixture.sql" >/dev/null &&
     "${psql[@]}" -d "$db" -c "CREATE TABLE public.upgrade_columns AS
       SELECT c.oid::regclass::text AS tbl, a.attname::text AS col
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relnamespace = 'tenancy'::regnamespace AND c.relkind IN ('r', 'p')
         AND a.attnum > 0 AND NOT a.attisdropped" >/dev/null &&
     "${psql[@]}" -At -d "$db" -f "$here/compare_kept_data.sql" >"$work/data.before" &&
     "${psql[@]}" -d "$db" -c "ALTER EXTENSION pg_tenancy UPDATE" >/dev/null &&
     [[ "$("${psql[@]}" -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_tenancy'")" == "$default" ]]; then
    ok "$version with data -> ALTER EXTENSION pg_tenancy UPDATE -> $default"
  else
    not_ok "$version with data -> ALTER EXTENSION pg_tenancy UPDATE -> $default"
  fi
  "${psql[@]}" -At -d "$db" -v skip_runtime_partitions=true -f "$here/describe_catalog.sql" \
    >"$work/catalog.upgraded"
  if differs "$work/catalog.fresh" "$work/catalog.upgraded"; then
    not_ok "upgraded from $version: same catalog as a fresh $default install"
  else
    ok "upgraded from $version: same catalog as a fresh $default install"
  fi
  # The columns of before, in the tables of before: what the new version adds
  # is not a difference in the kept data.
  "${psql[@]}" -At -d "$db" -f "$here/compare_kept_data.sql" >"$work/data.after"
  if differs "$work/data.before" "$work/data.after"; then
    not_ok "upgraded from $version: every row kept"
  else
    ok "upgraded from $version: every row kept"
  fi
  # Still works: new rows roll up exactly once on top of the old state.
  works="$("${psql[@]}" -At -d "$db" <<'SQL'
SET ROLE tenancy_test_app;
BEGIN;
SELECT tenancy.set_context('d0000000-0000-4000-8000-00000000000b', 'd1000000-0000-4000-8000-000000000003');
SELECT 'tracked' FROM tenancy.track('after_upgrade', 1);
COMMIT;
RESET ROLE;
SELECT sum(rows_read) FROM tenancy.run_rollups();
SELECT events FROM tenancy.event_rollups WHERE kind = 'after_upgrade';
-- The buckets the old version's runs merged into hold every raw event.
SELECT sum(events) = (SELECT count(*) FROM tenancy.events WHERE kind = 'lesson_viewed')
FROM tenancy.event_rollups WHERE kind = 'lesson_viewed';
-- Views (1.24): the hours counted before the update hold none (the fixture
-- has a view row); rebuild_rollups() recounts them.
SELECT sum(views) FROM tenancy.file_rollups;
SELECT count(*) FROM tenancy.rebuild_rollups();
SELECT sum(views) = (SELECT count(*) FROM tenancy.file_access_log WHERE action = 'view') AND sum(views) > 0
FROM tenancy.file_rollups;
SQL
)"
  # Hours a 1.24 or later schema counted hold their views already.
  views_before=0
  [[ "$(printf '%s\n' 1.24 "$version" | sort -V | head -1)" == 1.24 ]] && views_before=1
  if [[ "$(tr '\n' ' ' <<<"$works")" == "student tracked 1 1 t $views_before 2 t " ]]; then
    ok "upgraded from $version: context, tracking and rollups work"
  else
    echo "# got: $works"
    not_ok "upgraded from $version: context, tracking and rollups work"
  fi
  "${psql[@]}" -d postgres -c "DROP DATABASE $db" >/dev/null
done
"${psql[@]}" -d postgres -c "DROP DATABASE tenancy_upgrade_fresh" >/dev/null

# refused_until VERSION MAKE ERROR UNDO WHAT: an upgrade from VERSION, after the
# DBA's MAKE, refuses with ERROR and changes nothing; after UNDO it goes through.
refused_until() {
  local from="$1" make="$2" error="$3" undo="$4" what="$5" db=tenancy_upgrade_refused refused
  "${psql[@]}" -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  "${psql[@]}" -d "$db" -c "CREATE EXTENSION pg_tenancy VERSION '$from'" -c "$make" >/dev/null
  refused="$("${psql[@]}" -d "$db" -c "ALTER EXTENSION pg_tenancy UPDATE" 2>&1)"
  if [[ "$refused" == *"ERROR:  $error"* &&
        "$("${psql[@]}" -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_tenancy'")" == "$from" ]]; then
    ok "$from -> $default refused while $what, nothing changed"
  else
    echo "# got: $refused"
    not_ok "$from -> $default refused while $what, nothing changed"
  fi
  if "${psql[@]}" -d "$db" -c "$undo" -c "ALTER EXTENSION pg_tenancy UPDATE" >/dev/null; then
    ok "$from -> $default once that is undone"
  else
    not_ok "$from -> $default once that is undone"
  fi
  "${psql[@]}" -d postgres -c "DROP DATABASE $db" >/dev/null
}

# 1.5 replaces the log by a partitioned table. What a DBA built on the old one
# (a view here) would stay with the old rows.
refused_until 1.4 "CREATE VIEW public.recent_reads AS SELECT * FROM tenancy.file_access_log" \
  "tenancy.file_access_log has objects of yours that 1.5 cannot carry over: view public.recent_reads" \
  "DROP VIEW public.recent_reads" "a view reads the log"
# 1.24 keeps slugs unique with a partial index, which no foreign key can
# reference: the refusal names the DBA's key to organizations(slug).
refused_until 1.23 "CREATE TABLE public.school_sites (slug text REFERENCES tenancy.organizations (slug))" \
  "foreign keys reference tenancy.organizations(slug): school_sites_slug_fkey on public.school_sites" \
  "DROP TABLE public.school_sites" "a foreign key references the slug"
# 1.24 adds views to the file rollups: a column of the DBA's of that name is
# named in the refusal rather than failing the upgrade with a bare 42701.
refused_until 1.23 "ALTER TABLE tenancy.file_rollups_deferred ADD COLUMN views integer" \
  "pg_tenancy 1.24 adds a column views to tables that have one of yours: tenancy.file_rollups_deferred.views" \
  "ALTER TABLE tenancy.file_rollups_deferred DROP COLUMN views" "a column of the DBA's is named views"
exit $failed
