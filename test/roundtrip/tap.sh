# TAP for the round-trip scripts (sourced): `check DESCRIPTION COMMAND…` runs
# the command and prints "ok N - …" or "not ok N - …"; `ok DESCRIPTION` and
# `not_ok DESCRIPTION` print one outcome the script decided itself; `failed`
# is 1 after any failure, for the script's exit status.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() {
  local description="$1"
  shift
  if "$@"; then ok "$description"; else not_ok "$description"; fi
}
