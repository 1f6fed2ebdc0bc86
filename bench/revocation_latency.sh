#!/usr/bin/env bash
# Revocation latency to local verifiers, and the revoke round trip on 1 and 3 PostgreSQL nodes.
#
#   bench/revocation_latency.sh [--revocations N] [--rate R] [--verifiers V] [--senders S]
#                               [--rounds K] [--only sqlite|postgres|nodes]
#
# Builds `tessera` and `tessera_revocation_latency` in build/ (Release, Ninja, -j2) if missing,
# then starts (and always stops, on any exit) throw-away servers in a temporary directory, on
# 127.0.0.1 only, with cheap Argon2id (--argon2-memory-kib 1024 --argon2-iterations 1, as the
# integration tests: the sessions are made by password sign-ups, whose hashing is not measured).
# Three setups, each on a fresh project:
#
#   sqlite    one node on SQLite: revokes and feed on the same node.
#   postgres  two nodes A and B on one throw-away PostgreSQL cluster (scripts/pg-cluster.sh):
#             revokes go to A, the verifiers follow B's feed.
#   nodes     revoke round trips only (no verifiers), node A alone against A, B and C, in K
#             alternating rounds (1 node, 3 nodes, 1 node, 3 nodes, ... with --rounds 2), on the
#             same cluster and in the same run; revokes go to A.
#
# In the first two, N sessions (default 1000) are signed up, then revoked by session_id at
# Poisson times (mean rate R per second, default 50) by S sender threads (default 8, one
# connection each, open loop), while V verifier threads (default 2), each with its own
# tessera::client::Client following the feed, probe the revoked sessions' JWTs every millisecond
# (and the others every 10 ms) with AuthenticateJwtLocal (bench/revocation_latency.cc says
# exactly what is timed). Each run prints its Markdown table; the script ends with a summary
# table and the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

revocations=1000
rate=50
verifiers=2
senders=8
rounds=2
only=
while [ $# -gt 0 ]; do
  case "$1" in
    --revocations) revocations=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --verifiers) verifiers=$2; shift 2 ;;
    --senders) senders=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) sed -n '2,26p' "$0" >&2; exit 2 ;;
  esac
done
case "$only" in ""|sqlite|postgres|nodes) ;; *) echo "--only must be sqlite, postgres or nodes" >&2; exit 2 ;; esac

bin=${TESSERA_BIN:-$root/build/tessera}
probe=${TESSERA_REVLAT_BIN:-$root/build/bench/tessera_revocation_latency}
if [ ! -x "$bin" ] || [ ! -x "$probe" ]; then
  [ -f build/CMakeCache.txt ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target tessera tessera_revocation_latency
fi

work=$(mktemp -d /tmp/tessera-revlat.XXXXXX)
chmod 755 "$work"
declare -A node_pid=()
child=
cleanup() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null || true
  for p in "${node_pid[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${node_pid[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -d "$work/pg" ] && scripts/pg-cluster.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cheap_argon2=(--argon2-memory-kib 1024 --argon2-iterations 1)

# in_background CMD...: runs CMD and waits for it. Bash runs a trap only once the foreground
# command has ended, so a signal during a 20-second probe would wait for it; `wait` returns at
# once, and cleanup stops the child as well.
in_background() {
  "$@" &
  child=$!
  local rc=0
  wait "$child" || rc=$?
  child=
  return "$rc"
}
declare -A node_address=()

# start_node NAME DATABASE: one `tessera serve` on a free loopback port; sets node_address[NAME].
start_node() {
  local name=$1 db=$2 err="$work/$1.err"
  : >"$err"
  "$bin" serve --database "$db" --master-key-file "$work/master.key" --listen 127.0.0.1:0 \
    --access-log off "${cheap_argon2[@]}" 2>"$err" &
  node_pid[$name]=$!
  for _ in $(seq 1 300); do
    grep -q '"listening"' "$err" 2>/dev/null && break
    kill -0 "${node_pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  node_address[$name]=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$err" | head -1)
  [ -n "${node_address[$name]}" ] || { cat "$err" >&2; exit 1; }
}

# stop_node NAME: SIGTERM (a clean stop drops the node's lease), then wait for it.
stop_node() {
  local p=${node_pid[$1]}
  kill -TERM "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset "node_pid[$1]"
}

# new_project DATABASE: exports the credentials the probe reads.
new_project() {
  "$bin" projects create --database "$1" --master-key-file "$work/master.key" --json \
    >"$work/project.json"
  TESSERA_BENCH_PROJECT_ID=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["project_id"])' "$work/project.json")
  TESSERA_BENCH_SECRET=$(/usr/bin/python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["secret"])' "$work/project.json")
  export TESSERA_BENCH_PROJECT_ID TESSERA_BENCH_SECRET
}

# sessions TAG URL COUNT: signs COUNT users up through URL; writes $work/TAG.sessions.
sessions() {
  local t0 t1
  t0=$(date +%s.%N)
  in_background "$probe" create --url "http://$2" --count "$3" --prefix "$1" \
    --out "$work/$1.sessions"
  t1=$(date +%s.%N)
  echo "$3 sessions created through http://$2 in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s" >&2
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "Start: $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(load)"
echo "Settings: $revocations revocations per run, $rate/s, $verifiers verifier(s), $senders sender(s); $(nproc) CPUs"
status=0

# run TAG ... : the probe's `run`, output kept for the summary. A non-zero exit (a failed revoke,
# a late acceptance, a revocation never refused) is remembered and makes the script fail at the end.
run() {
  local tag=$1
  shift
  in_background "$probe" run --label "$tag" --rtt-out "$work/$tag.rtt" "$@" >"$work/$tag.out" ||
    status=$?
  cat "$work/$tag.out"
}

if [ -z "$only" ] || [ "$only" = sqlite ]; then
  db="sqlite:$work/tessera.db"
  new_project "$db"
  start_node solo "$db"
  sessions sqlite "${node_address[solo]}" "$revocations"
  run "SQLite, 1 node" --sessions "$work/sqlite.sessions" --revocations "$revocations" \
    --rate "$rate" --verifiers "$verifiers" --senders "$senders" \
    --revoke-url "http://${node_address[solo]}" --feed-url "http://${node_address[solo]}" \
    --latency-out "$work/sqlite.latency"
  stop_node solo
  echo "load average $(load)"
fi

if [ -z "$only" ] || [ "$only" = postgres ] || [ "$only" = nodes ]; then
  db=$(scripts/pg-cluster.sh start "$work/pg")
  new_project "$db"
  start_node A "$db"
fi

if [ -z "$only" ] || [ "$only" = postgres ]; then
  start_node B "$db"
  sessions pg2 "${node_address[A]}" "$revocations"
  run "PostgreSQL, 2 nodes: revokes to A, feed from B" --sessions "$work/pg2.sessions" \
    --revocations "$revocations" --rate "$rate" --verifiers "$verifiers" --senders "$senders" \
    --revoke-url "http://${node_address[A]}" --feed-url "http://${node_address[B]}" \
    --latency-out "$work/pg2.latency"
  stop_node B
  echo "load average $(load)"
fi

if [ -z "$only" ] || [ "$only" = nodes ]; then
  # Every round of both kinds draws its sessions from one batch made before the first.
  sessions nodes "${node_address[A]}" $((2 * rounds * revocations))
  sleep 2.5 # any lease of a node stopped above has lapsed (a clean stop drops it anyway)
  skip=0
  for r in $(seq 1 "$rounds"); do
    run "1 node, round $r" --sessions "$work/nodes.sessions" --skip "$skip" \
      --revocations "$revocations" --rate "$rate" --verifiers 0 --senders "$senders" \
      --revoke-url "http://${node_address[A]}" --seed "$r"
    cp "$work/1 node, round $r.rtt" "$work/nodes1.$r.rtt"
    skip=$((skip + revocations))
    start_node B "$db"
    start_node C "$db"
    sleep 1 # both have renewed their leases and follow the log
    run "3 nodes, round $r" --sessions "$work/nodes.sessions" --skip "$skip" \
      --revocations "$revocations" --rate "$rate" --verifiers 0 --senders "$senders" \
      --revoke-url "http://${node_address[A]}" --seed "$r"
    cp "$work/3 nodes, round $r.rtt" "$work/nodes3.$r.rtt"
    skip=$((skip + revocations))
    stop_node B
    stop_node C
    sleep 2.5
    echo "load average $(load)"
  done
fi

/usr/bin/python3 - "$work" <<'PY'
import glob, math, re, sys
work = sys.argv[1]
def pct(xs, q):
    xs = sorted(xs)
    return xs[max(1, min(len(xs), math.ceil(q * len(xs)))) - 1] if xs else float("nan")
def load(path):
    return [float(l) for l in open(path) if l.strip()]
results = {}
for out in glob.glob(f"{work}/*.out"):
    for line in open(out):
        if line.startswith("RESULT "):
            label = re.search(r"label=(.*?) n=", line).group(1)
            results[label] = dict(re.findall(r"(\w+)=([\d.]+)", line.split(" n=", 1)[1]))
            results[label]["n"] = re.search(r" n=(\d+)", line).group(1)
rows = [(l, r) for l, r in sorted(results.items()) if not re.search(r"round \d+$", l)]
if rows:
    print("\n### Summary: revoke sent -> first local refusal\n")
    print("| setup | N | p50 | p99 | p99.9 | max | accepted > 1 s after | refused before | "
          "never refused | revoke round trip p50 / p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['n']} | {float(r['p50']):.1f} ms | {float(r['p99']):.1f} ms | "
              f"{float(r['p999']):.1f} ms | {float(r['max']):.1f} ms | {r['late']} | "
              f"{r['early']} | {r['never']} | {float(r['rtt_p50']):.2f} / {float(r['rtt_p99']):.2f} ms |")
one = [x for p in sorted(glob.glob(f"{work}/nodes1.*.rtt")) for x in load(p)]
three = [x for p in sorted(glob.glob(f"{work}/nodes3.*.rtt")) for x in load(p)]
if one and three:
    print("\n### Summary: POST /v1/sessions/revoke round trip, PostgreSQL, all rounds\n")
    print("| nodes | N | p50 | p99 | p99.9 | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, xs in (("1", one), ("3", three)):
        print(f"| {name} | {len(xs)} | {pct(xs, .5):.2f} ms | {pct(xs, .99):.2f} ms | "
              f"{pct(xs, .999):.2f} ms | {max(xs):.2f} ms |")
    print("\nBy round (a round's slowest send behind schedule shows when this process, and so "
          "probably the servers, lost the CPUs):\n")
    print("| round | 1 node p50 / p99 | 3 nodes p50 / p99 | added p99 | "
          "slowest send behind schedule, 1 node / 3 nodes |")
    print("|---|---:|---:|---:|---:|")
    r = 1
    while f"1 node, round {r}" in results and f"3 nodes, round {r}" in results:
        a, b = results[f"1 node, round {r}"], results[f"3 nodes, round {r}"]
        print(f"| {r} | {float(a['rtt_p50']):.2f} / {float(a['rtt_p99']):.2f} ms | "
              f"{float(b['rtt_p50']):.2f} / {float(b['rtt_p99']):.2f} ms | "
              f"{float(b['rtt_p99']) - float(a['rtt_p99']):+.2f} ms | "
              f"{float(a['lag_max']):.1f} / {float(b['lag_max']):.1f} ms |")
        r += 1
    print(f"\n3 nodes add {pct(three, .5) - pct(one, .5):.2f} ms at p50 and "
          f"{pct(three, .99) - pct(one, .99):.2f} ms at p99 (target: <= 20 ms at p99).")
PY
echo "End: $(date -u '+%Y-%m-%d %H:%M:%S') UTC, load average $(load)"
exit "$status"
