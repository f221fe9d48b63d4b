# Throwaway PostgreSQL clusters for tests, the demo and benchmarks.
# Source this file; it defines functions and sets no traps of its own.
#
#   cluster_start NAME PORT [XID_EPOCH]   starts a primary in a fresh temp dir
#                             (its transaction ids in that epoch: pg_resetwal -e)
#   cluster_start_standby NAME PORT PRIMARY_NAME   a hot standby of it
#   cluster_stop NAME         stops it and removes its directory
#   cluster_psql NAME [psql args…]   psql as the superuser postgres
#
# initdb and postgres refuse to run as root: as root the server runs as the
# `postgres` OS user, and clients (psql, pg_prove, pg_regress) run as root.

PG_CONFIG="${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}"
PG_BINDIR="$("$PG_CONFIG" --bindir)"

declare -gA CLUSTER_DIR=() CLUSTER_PORT=()

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cluster_make_dir() {
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/pg_tenancy.$1.XXXXXX")"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  echo "$dir"
}

cluster_configure() {
  local dir="$1" port="$2"
  cat >> "$dir/data/postgresql.conf" <<CONF
# --- pg_tenancy throwaway cluster ---
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_cron'
cron.database_name = '${CLUSTER_CRON_DATABASE:-tenancy_test}'
cron.use_background_workers = on
max_worker_processes = 24
max_prepared_transactions = 4
max_parallel_workers_per_gather = 2
# logical: test/roundtrip/logical_replication.sh subscribes one database to another.
wal_level = logical
max_wal_senders = 8
hot_standby = on
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
log_line_prefix = '%m [%p] %u@%d '
CONF
}

cluster_start() {
  local name="$1" port="$2" epoch="${3:-}" dir
  dir="$(cluster_make_dir "$name")"
  CLUSTER_DIR[$name]="$dir"
  CLUSTER_PORT[$name]="$port"
  as_server_user "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; return 1; }
  # Local sockets trust; TCP asks for a password, which dblink needs to let
  # a non-superuser open a second connection in the concurrency tests.
  as_server_user tee "$dir/data/pg_hba.conf" >/dev/null <<HBA
local all         all                 trust
local replication all                 trust
host  replication all  127.0.0.1/32   trust
host  all         all  127.0.0.1/32   scram-sha-256
HBA
  cluster_configure "$dir" "$port"
  # A cluster whose transaction ids are past another's, as README's restore
  # into another cluster asks (before its first start: nothing to lose).
  if [[ -n "$epoch" ]]; then
    as_server_user "$PG_BINDIR/pg_resetwal" -e "$epoch" -D "$dir/data" >"$dir/resetwal.log" 2>&1 ||
      { cat "$dir/resetwal.log" >&2; return 1; }
  fi
  cluster_launch "$name"
}

cluster_start_standby() {
  local name="$1" port="$2" primary="$3" dir
  dir="$(cluster_make_dir "$name")"
  CLUSTER_DIR[$name]="$dir"
  CLUSTER_PORT[$name]="$port"
  as_server_user "$PG_BINDIR/pg_basebackup" -h "${CLUSTER_DIR[$primary]}" \
    -p "${CLUSTER_PORT[$primary]}" -U postgres -D "$dir/data" -R -X stream --checkpoint=fast \
    >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; return 1; }
  cluster_configure "$dir" "$port"
  cluster_launch "$name"
}

cluster_launch() {
  local name="$1" dir="${CLUSTER_DIR[$1]}"
  as_server_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
}

cluster_stop() {
  local name="$1" dir="${CLUSTER_DIR[$1]:-}"
  [[ -n "$dir" && -d "$dir/data" ]] || return 0
  as_server_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  if [[ -z "${KEEP_CLUSTER:-}" ]]; then rm -rf "$dir"; fi
  unset "CLUSTER_DIR[$name]"
}

cluster_stop_all() {
  local name
  for name in "${!CLUSTER_DIR[@]}"; do cluster_stop "$name"; done
}

# Prints lines of the server log that no test run should produce.
cluster_log_problems() {
  local dir="${CLUSTER_DIR[$1]}"
  # "could not" is for the server's own failures (files, sockets, processes).
  # Failures provoked on purpose: sql/analytics.sql deletes an organization
  # under REPEATABLE READ while a run adds to it (serialization),
  # sql/log_partitions.sql purges while another session holds the rollup
  # state row (55P03), and sql/file_audit.sql checks a quota under
  # REPEATABLE READ and SERIALIZABLE after another upload committed (40001).
  # test/pgtap_superuser/rollup_state_guards.sql drops its own database WITH
  # (FORCE) right after disconnecting from it: a backend still on its way out
  # may find its client gone ("could not send data to client").
  # Resource leaks PostgreSQL reports at the end of a (sub)transaction:
  # "relcache reference leak", "snapshot … still active", "… not closed", etc.
  grep -E 'PANIC|TRAP:|terminated by signal|server process .* was terminated|WARNING:  .*(leak|not closed|still active|still referenced)|WARNING:  problem in|could not' \
    "$dir/server.log" |
    # The isolation specs (test/isolation/, databases tenancy_iso_*) provoke
    # serialization failures (40001) on purpose.
    grep -v -e '@tenancy_iso_[a-z_]* ERROR:  could not serialize access due to ' |
    grep -v -e '@tenancy_regression ERROR:  could not serialize access due to concurrent update' \
      -e '@tenancy_regression ERROR:  could not obtain lock on row in relation "rollup_state"' \
      -e "@tenancy_regression ERROR:  tenancy.maintain_file_access_log() could not lock the file access log's default partition" \
      -e "@tenancy_regression ERROR:  could not serialize access due to a concurrent change of the organization's stored bytes" \
      -e '@tenancy_first_runs [A-Z]*:  could not send data to client' || true
}

cluster_psql() {
  local name="$1"
  shift
  "$PG_BINDIR/psql" -X -v ON_ERROR_STOP=1 -q -h "${CLUSTER_DIR[$name]}" \
    -p "${CLUSTER_PORT[$name]}" -U postgres "$@"
}

cluster_env() {
  export PGHOST="${CLUSTER_DIR[$1]}" PGPORT="${CLUSTER_PORT[$1]}" PGUSER=postgres
}
