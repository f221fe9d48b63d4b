#!/usr/bin/env bash
# Installs what building and testing pg_tenancy needs, from Debian's packages.
# Runs `apt-get update` once, and only when a package is missing; uses sudo when
# not root. Safe to run again: it does nothing when everything is present.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
packages=(
  "postgresql-${PG_MAJOR}"
  "postgresql-server-dev-${PG_MAJOR}"
  "postgresql-${PG_MAJOR}-pgtap"
  "postgresql-${PG_MAJOR}-cron"
  libtap-parser-sourcehandler-pgtap-perl
  libboost1.81-dev
  libssl-dev
  libgtest-dev
  cmake
  g++
  clang-14
  llvm-14
)

missing=()
for pkg in "${packages[@]}"; do
  # (libboost1.81-dev, for boost::unordered_flat_map, replaces libboost-dev.)
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
