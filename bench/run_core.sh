#!/usr/bin/env bash
# Builds the core benchmark in Release (build-bench) and runs it; ends in well under a minute.
#
#   bench/run_core.sh [extra benchmark flags, e.g. --benchmark_filter=RS256]
#
# Eight repetitions of every benchmark, randomly interleaved so that a burst of load from elsewhere
# on the machine spreads over all benchmarks instead of landing on one; the median is reported and
# used for the full/bare ratios printed at the end. docs/benchmarks.md records the figures.
#
# Environment: TESSERA_JOBS (parallel build jobs, default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${TESSERA_JOBS:-$(nproc)}

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j "$jobs" --target tessera_core_bench

# Benchmark figures mean little without the machine and how busy it was.
echo "machine: $(nproc) cores,$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
build-bench/bench/tessera_core_bench --benchmark_min_time=0.2 --benchmark_repetitions=8 \
  --benchmark_enable_random_interleaving=true --benchmark_display_aggregates_only=true "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
