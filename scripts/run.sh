#!/usr/bin/env bash
# Installs the build dependencies, builds, and runs the exporter on this host
# with the default settings (listening on :19101). Extra arguments are passed
# to the exporter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default
cmake --build --preset default -j"$(nproc)"
exec ./build/linux_namespace_exporter "$@"
