#!/usr/bin/env bash
# The rate of `tessera users import` on SQLite for pre-hashed bcrypt lines (nothing is hashed at
# import), the figure docs/benchmarks.md records ("User import"). Target: >= 5 000 users/s.
#
#   bench/import_bench.sh [lines] [runs] [extra import flags, e.g. --batch-size 2000]
#
# Builds `tessera` in Release (build-bench), writes a file of `lines` users (default 1 000 000;
# each with a bcrypt hash, a name and metadata, as an Auth0 export becomes), then imports it into
# a fresh database `runs` times (default 3), printing each run's wall time, rate, CPU time and peak
# RSS, the median rate, and the load average before and after. A re-run of the file's first
# 100 000 lines over the full database (every line skipped, as when an import is run again) is
# timed too. Everything lives in a temporary directory, removed at exit.
#
# Environment: TESSERA_JOBS (parallel build jobs, default: number of cores), TESSERA_BENCH_DIR (where
# the database goes; default a temporary directory under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-1000000}
runs=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
jobs=${TESSERA_JOBS:-$(nproc)}

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j "$jobs" --target tessera >/dev/null
bin=$PWD/build-bench/tessera

dir=$(mktemp -d "${TESSERA_BENCH_DIR:-/tmp}/tessera-import-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# A bcrypt hash of "imported-password-1" at cost 10 (Auth0's), made by python3-bcrypt:
# bcrypt.hashpw(b"imported-password-1", bcrypt.gensalt(10)). Its cost does not matter here.
hash='$2b$10$K8TmZw6VoWNWLsBbHH37UufWXp4oDGHx6qDvAMmsjbsiYzfy3V2nC'
awk -v n="$lines" -v h="$hash" 'BEGIN {
  for (i = 0; i < n; i++)
    printf "{\"email\":\"user%d@example.com\",\"hash_type\":\"bcrypt\",\"hash\":\"%s\",\"name\":{\"first_name\":\"User\",\"last_name\":\"%d\"},\"trusted_metadata\":{\"plan\":\"free\"},\"external_id\":\"legacy-%d\",\"set_email_verified\":true}\n", i, h, i, i
}' > "$dir/users.jsonl"

echo "machine: $(nproc) cores,$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
echo "file: $lines lines, $(du -h "$dir/users.jsonl" | cut -f1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
rates=()
for run in $(seq 1 "$runs"); do
  rm -f "$dir"/db*
  project=$("$bin" projects create --database "sqlite:$dir/db" --json |
            sed -E 's/.*"project_id":"([^"]+)".*/\1/')
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S %M" -o "$dir/time" "$bin" users import --database "sqlite:$dir/db" \
    --project "$project" --file "$dir/users.jsonl" --progress off "$@" > "$dir/summary"
  end=$(date +%s.%N)
  read -r user sys rss < "$dir/time"
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
  rate=$(awk -v n="$lines" -v s="$secs" 'BEGIN {printf "%d", n / s}')
  rates+=("$rate")
  printf 'run %d: %s s, %d users/s, cpu %s s user + %s s sys, peak RSS %d MiB, %s\n' \
    "$run" "$secs" "$rate" "$user" "$sys" $((rss / 1024)) "$(cat "$dir/summary")"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median: $median users/s"

head -n 100000 "$dir/users.jsonl" > "$dir/again.jsonl"
again=$(wc -l < "$dir/again.jsonl")
start=$(date +%s.%N)
"$bin" users import --database "sqlite:$dir/db" --project "$project" --file "$dir/again.jsonl" \
  --progress off "$@" > "$dir/summary"
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
printf 're-run of %d lines (every line skipped): %s s, %d lines/s, %s\n' "$again" "$secs" \
  "$(awk -v n="$again" -v s="$secs" 'BEGIN {printf "%d", n / s}')" "$(cat "$dir/summary")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
