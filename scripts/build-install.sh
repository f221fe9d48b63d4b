#!/usr/bin/env bash
# Builds the module with PGXS and installs it into the server's directories
# (PostgreSQL 15 has no extension_control_path). Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j"$(nproc)"
if [[ $(id -u) -eq 0 ]]; then
  make -s install >/dev/null
else
  sudo make -s install >/dev/null
fi
