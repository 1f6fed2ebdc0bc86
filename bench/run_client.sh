#!/usr/bin/env bash
# The C++ SDK benchmark and its Node peer on the same session JWT, in one run (about a minute):
#
#   bench/run_client.sh [extra benchmark flags, e.g. --benchmark_filter=Cache]
#
#   1. builds `tessera` and `tessera_client_bench` in Release (build-sdk, or $TESSERA_BUILD_DIR);
#   2. starts a real `tessera serve` on 127.0.0.1:0 with a fresh SQLite file in a temp dir, creates
#      a project and signs a user up (password, two custom claims) to get a session JWT;
#   3. runs the Node peer (bench/node_peer/verify_local.mjs: the official `stytch` SDK, pinned,
#      sessions.authenticateJwtLocal) on that JWT;
#   4. runs tessera_client_bench on the same JWT (the SDK fetches the server's JWKS once, before
#      timing): AuthenticateJwtLocal with the verified cache off vs bare OpenSSL, the cache hit,
#      1 vs 2 threads, and what the revocation feed's check adds with 0, 5 000 and 150 000 live
#      entries; eight repetitions randomly interleaved, medians reported;
#   5. prints a Markdown table, with the machine and its load before and after.
#
# The server is stopped on exit, whatever happens. docs/benchmarks.md records the figures.
# Environment: TESSERA_JOBS (build jobs, default 2), TESSERA_BUILD_DIR (default build-sdk).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${TESSERA_JOBS:-2}
build=${TESSERA_BUILD_DIR:-build-sdk}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$jobs" --target tessera tessera_client_bench
if [ ! -d bench/node_peer/node_modules/stytch ]; then
  (cd bench/node_peer && npm ci --no-audit --no-fund)
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

# Never let a developer's TESSERA_* settings point the benchmark at a real database. `env` execs
# the binary, so the server's PID is the one `$!` reports.
unset_tessera=()
for name in $(env | grep -o '^TESSERA_[A-Z0-9_]*' || true); do unset_tessera+=(-u "$name"); done
tessera() { env "${unset_tessera[@]}" "$build/tessera" "$@"; }

db="sqlite:$work/tessera.db"
project=$(tessera projects create --database "$db" --json)
project_id=$(json_field project_id <<<"$project")
secret=$(json_field secret <<<"$project")
env "${unset_tessera[@]}" "$build/tessera" serve --database "$db" --listen 127.0.0.1:0 \
  --access-log off --argon2-memory-kib 1024 --argon2-iterations 1 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q '"listening"' "$work/serve.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
port=$(grep -o '"address":"[^"]*"' "$work/serve.log" | head -1 | sed 's/.*:\([0-9]*\)"$/\1/')
[ -n "$port" ] || { echo "tessera serve did not listen:"; cat "$work/serve.log"; exit 1; }
base="http://127.0.0.1:$port"

signup=$(curl -sf -u "$project_id:$secret" -H 'Content-Type: application/json' \
  -d '{"email":"bench@example.com","password":"correct-Horse-battery-staple-91-Quokka",
       "session_duration_minutes":60,"session_custom_claims":{"plan":"team","locale":"en-GB"}}' \
  "$base/v1/passwords")
jwt=$(json_field session_jwt <<<"$signup")

export TESSERA_BENCH_BASE_URL=$base TESSERA_BENCH_PROJECT_ID=$project_id
export TESSERA_BENCH_SECRET=$secret TESSERA_BENCH_JWT=$jwt

echo "machine: $(nproc) cores,$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load before: $load_before"
echo "session JWT: ${#jwt} bytes from $base"

echo; echo "== Node peer: stytch authenticateJwtLocal =="
node bench/node_peer/verify_local.mjs 5 1 | tee "$work/node.out"

echo; echo "== C++ SDK: tessera_client_bench =="
"$build/bench/tessera_client_bench" --benchmark_min_time=0.2 --benchmark_repetitions=8 \
  --benchmark_enable_random_interleaving=true --benchmark_display_aggregates_only=true "$@" \
  | tee "$work/cpp.out"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load after: $load_after"

# RESULT key=value lines from both runs.
get() { grep -h "^RESULT $1=" "$work/node.out" "$work/cpp.out" | tail -1 | cut -d= -f2; }
fmt() { [ -n "$2" ] && printf "$1" "$2" || printf "n/a"; }
calc() { python3 -c "import sys; v=[float(x) for x in sys.argv[2:]]; print($1)" "$@" 2>/dev/null || true; }

local_ops=$(get local_ops_per_s); local_ns=$(get local_ns_per_op)
bare_ops=$(get bare_ops_per_s); bare_ns=$(get bare_ns_per_op)
paired=$(get paired_ratio); separate=$(get separate_ratio)
hit_ops=$(get hit_ops_per_s); hit_ns=$(get hit_ns_per_op)
local2=$(get local_ops_per_s_2t); bare2=$(get bare_ops_per_s_2t)
scaling=$(get local_scaling); bare_scaling=$(get bare_scaling)
node_ops=$(get node_ops_per_s); node_us=$(get node_us_per_op)
node_ratio=""; [ -n "$node_ops" ] && [ -n "$bare_ops" ] && node_ratio=$(calc 'v[0]/v[1]' "$node_ops" "$bare_ops")

echo
echo "| Measured (same JWT, ${#jwt} bytes, RS256) | ops/s | ns/op | vs bare OpenSSL | target |"
echo "|---|---:|---:|---:|---|"
echo "| (a) C++ SDK \`AuthenticateJwtLocal\`, verified cache off, 1 thread | $(fmt %.0f "$local_ops") | $(fmt %.0f "$local_ns") | $(fmt %.3f "$paired") paired, $(fmt %.3f "$separate") separate | ≥ 0.85 |"
echo "| (b) bare OpenSSL \`EVP_DigestVerifyInit\` + \`EVP_DigestVerify\`, 1 thread | $(fmt %.0f "$bare_ops") | $(fmt %.0f "$bare_ns") | 1 | |"
echo "| (c) C++ SDK verified-cache hit, 1 thread | $(fmt %.0f "$hit_ops") | $(fmt %.1f "$hit_ns") | | ≤ 300 ns |"
echo "| (d) (a) on 2 threads (total) | $(fmt %.0f "$local2") | | scaling $(fmt %.3f "$scaling") | ≥ 1.8 |"
echo "| (d) paired phases: (a) on 1 thread, then on 2 threads (total) | $(fmt %.0f "$(get paired_scaling_1t_per_s)") → $(fmt %.0f "$(get paired_scaling_2t_per_s)") | | scaling $(fmt %.3f "$(get paired_scaling)") | ≥ 1.8 |"
echo "| (b) on 2 threads (total), for reference | $(fmt %.0f "$bare2") | | scaling $(fmt %.3f "$bare_scaling") | |"
echo "| CPU time per op, 1 → 2 threads: (a) | | $(fmt %.0f "$(get local_cpu_ns_1t)") → $(fmt %.0f "$(get local_cpu_ns_2t)") | | |"
echo "| CPU time per op, 1 → 2 threads: (b) | | $(fmt %.0f "$(get bare_cpu_ns_1t)") → $(fmt %.0f "$(get bare_cpu_ns_2t)") | | |"
echo "| (e) Node \`stytch\` $(get node_stytch_version) \`authenticateJwtLocal\` ($(get node_version)) | $(fmt %.0f "$node_ops") | $(fmt %.0f "$(calc 'v[0]*1000' "$node_us")") ($(fmt %.1f "$node_us") µs) | $(fmt %.3f "$node_ratio") | |"
echo
echo "| Revocation feed check (BM_PairedFeedOverhead) | without the feed, ns/op | with it, ns/op | overhead | target |"
echo "|---|---:|---:|---:|---|"
for entries in 0 5000 150000; do
  for path in nocache hit; do
    label="verified cache off"; [ "$path" = hit ] && label="verified-cache hit"
    o=$(get "feed_overhead_${entries}_${path}")
    pct=""; [ -n "$o" ] && pct=$(calc 'v[0]*100' "$o")
    echo "| (f) $entries entries, $label | $(fmt %.1f "$(get "feed_overhead_${entries}_${path}_no_feed_ns")") | $(fmt %.1f "$(get "feed_overhead_${entries}_${path}_feed_ns")") | $(fmt %+.2f%% "$pct") | ≤ 5% |"
  done
done
echo "| (f) verified-cache hit with the feed (150 000 entries), 1 → 2 threads (total) | $(fmt %.0f "$(get feed_hit_ops_per_s)") → $(fmt %.0f "$(get feed_hit_ops_per_s_2t)") ops/s | | scaling $(fmt %.3f "$(get feed_hit_scaling)") (without the feed: $(fmt %.3f "$(calc 'v[1]/v[0]' "$hit_ops" "$(get hit_ops_per_s_2t)")")) | |"
echo
echo "load: $load_before before, $load_after after"
