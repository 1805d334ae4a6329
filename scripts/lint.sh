#!/usr/bin/env bash
# Static analysis of exporter/: cppcheck, then clang-tidy with the checked-in
# .clang-tidy. Both must report nothing. Needs a configured build directory
# with compile_commands.json (the default preset writes one); usage:
#   scripts/lint.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "$0: no $build/compile_commands.json; run cmake --preset default" >&2
  exit 2
fi

# Bug and portability classes only: the style class flags choices STYLE.md
# makes on purpose (const references in loops, shadowed names in lambdas).
cppcheck --enable=warning,performance,portability --std=c++17 \
  --language=c++ --inline-suppr --error-exitcode=1 --quiet \
  --suppress=missingIncludeSystem -I exporter exporter/

# run-clang-tidy exits non-zero on any finding (WarningsAsErrors: '*').
run-clang-tidy-14 -p "$build" -quiet -j"$(nproc)" "$PWD/exporter/" \
  > "$build/clang-tidy.log" 2>&1 || {
  grep -E "(error|warning):" "$build/clang-tidy.log" >&2 || cat "$build/clang-tidy.log" >&2
  echo "$0: clang-tidy found problems (above)" >&2
  exit 1
}
echo "lint: cppcheck and clang-tidy clean on exporter/"
