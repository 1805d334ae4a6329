#!/usr/bin/env bash
# Builds with warnings as errors and runs every test with ctest; then static
# analysis (scripts/lint.sh), the same suite under AddressSanitizer+UBSan,
# the concurrency tests under ThreadSanitizer, and a short fuzzing run of
# every fuzz target (see docs/reliability.md). NSEXP_TEST_EXTRA=0 stops
# after the default suite and the static analysis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)

# Prints how long the named stage took, for the CI log.
stage_start=$SECONDS
stage_done() {
  echo "== $1: $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

cmake --preset default -DBUILD_TESTING=ON
cmake --build --preset default -j"$jobs"
ctest --preset default -j1
stage_done "default build and suite"

# cppcheck and clang-tidy on exporter/, from the default build's
# compile_commands.json.
scripts/lint.sh build
stage_done "static analysis"

if [ "${NSEXP_TEST_EXTRA:-1}" = 0 ]; then
  exit 0
fi

# ASan+UBSan: the whole suite but the container image and the kernel
# matrix, which run the default build's binary already and take minutes
# each, the deployment artefact checks, which build nothing, and the soak,
# whose RSS bound does not hold with ASan's quarantine.
cmake --preset asan
cmake --build --preset asan -j"$jobs"
ctest --preset asan -j1 -LE 'container|kernels|deploy|soak'
stage_done "asan build and suite"

# TSan: the tests labelled "concurrency" only (the test preset selects
# them; the build preset builds only what they run).
cmake --preset tsan
cmake --build --preset tsan -j"$jobs"
ctest --preset tsan -j1
stage_done "tsan build and concurrency tests"

# libFuzzer: every target for NSEXP_FUZZ_SECONDS (60 by default), as many
# at once as there are cores.
cmake --preset fuzz
cmake --build --preset fuzz -j"$jobs"
ctest --preset fuzz -j"$jobs"
stage_done "fuzz build and runs"
