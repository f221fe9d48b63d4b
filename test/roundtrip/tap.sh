# TAP for the round-trip scripts (sourced): `check DESCRIPTION COMMAND…` runs
# the command and prints "ok N - …" or "not ok N - …"; `failed` is 1 after
# any failure, for the script's exit status.
n=0 failed=0
check() {
  local description="$1"
  shift
  n=$((n + 1))
  if "$@"; then echo "ok $n - $description"; else echo "not ok $n - $description"; failed=1; fi
}
