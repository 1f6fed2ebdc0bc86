#!/usr/bin/env bash
# The one command that proves Tessera works: installs what is missing, checks formatting, builds
# and runs every test (unit, interoperability, integration, compatibility), builds and runs the
# whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer, and runs each fuzz target
# for a short time. Exits non-zero on the first failure.
#
# Environment: TESSERA_JOBS (parallel build jobs, default: number of cores),
#              TESSERA_FUZZ_SECONDS (per fuzz target, default 30), TESSERA_SKIP_ASAN=1 to skip the
#              sanitizer pass while iterating locally (CI never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${TESSERA_JOBS:-$(nproc)}

step() { printf '\n=== %s ===\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

step "format"
scripts/check-format.sh

step "npm packages for interoperability, compatibility and browser tests"
# The browser test drives Debian's chromium (install-deps.sh); playwright-core must never fetch one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for dir in tests/interop tests/compat examples/web tests/browser; do
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

step "release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [ "${TESSERA_SKIP_ASAN:-0}" != 1 ]; then
  step "ASan+UBSan build and tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTESSERA_SANITIZE=ON \
    -DTESSERA_BUILD_BENCH=OFF
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 1200
fi

step "fuzzing"
scripts/fuzz.sh "${TESSERA_FUZZ_SECONDS:-30}"

step "all tests passed"
