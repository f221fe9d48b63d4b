#!/usr/bin/env bash
# Builds and runs the pure-C++ unit tests (GoogleTest via CMake/CTest).
# TENANCY_SANITIZE=ON builds them with ASan and UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
build="build/cmake${TENANCY_SANITIZE:+-sanitize}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTENANCY_SANITIZE="${TENANCY_SANITIZE:-OFF}" >/dev/null
cmake --build "$build" -j"$(nproc)" --target tenancy_unit_tests >/dev/null
cd "$build" && ctest --output-on-failure "$@"
