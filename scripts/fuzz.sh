#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) in build-fuzz and runs each one for
# SECONDS (default 30) starting from its committed seed corpus (fuzz/corpus/<target>/).
#
#   scripts/fuzz.sh [SECONDS]
#
# The corpus is copied into a fresh temporary directory first, so new inputs the fuzzer finds
# never land in the repository. Exits non-zero when the build fails or any target crashes, leaks,
# hits undefined behaviour, times out or breaks one of its invariants; the failing input and the
# log are then kept and their paths printed. Prints the executions of each target.
#
# Environment: TESSERA_JOBS (parallel build jobs, default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
jobs=${TESSERA_JOBS:-$(nproc)}
targets=(jwt_verify jwks rbac_policy revocation_feed)

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS]   (a positive whole number, default 30)" >&2
  exit 2
fi

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DTESSERA_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/%/_fuzz}"

work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-fuzz.XXXXXX")
fuzzer_pid=
failed=0
cleanup() {
  # The fuzzer runs in the foreground, but an interrupted script must not leave it behind.
  if [ -n "$fuzzer_pid" ] && kill -0 "$fuzzer_pid" 2>/dev/null; then
    kill "$fuzzer_pid" 2>/dev/null || true
    wait "$fuzzer_pid" 2>/dev/null || true
  fi
  if [ "$failed" = 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Leaks fail the run; UB already aborts (-fno-sanitize-recover=all), this adds its stack trace.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  seeds=$(find "$dir/corpus" -type f | wc -l)
  echo "fuzz: $t for ${seconds}s from $seeds seeds"
  status=0
  # -timeout: an input that takes seconds is a denial-of-service bug, so it fails the run too.
  build-fuzz/fuzz/"${t}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=20000 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" >"$dir/log" 2>&1 &
  fuzzer_pid=$!
  wait "$fuzzer_pid" || status=$?
  fuzzer_pid=
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $status); log: $dir/log; failing input(s):" >&2
    find "$dir/artifacts" -type f >&2
    tail -60 "$dir/log" >&2
    summary+=("$t: FAILED after ${execs:-?} executions")
  else
    summary+=("$t: ${execs:-?} executions in ${seconds}s (${rate:-?}/s), corpus $seeds -> $corpus")
  fi
done

printf 'fuzz: %s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
  echo "fuzz: failures found; inputs and logs kept under $work" >&2
  exit 1
fi
