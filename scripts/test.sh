#!/usr/bin/env bash
# Builds with warnings as errors and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
cmake --preset default -DBUILD_TESTING=ON
cmake --build --preset default -j"$(nproc)"
ctest --preset default -j1
