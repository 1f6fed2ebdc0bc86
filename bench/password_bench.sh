#!/usr/bin/env bash
# Password sign-in through the real server against the bare libsodium verification of the same
# hash, at the same concurrency, in the same run.
#
#   bench/password_bench.sh [--duration S] [--rounds R] [--clients "1 2 N..."] [--session]
#                           [--server-arg ARG]... [--baseline-bin PATH]
#
# Starts (and always stops) a throw-away `tessera serve` on SQLite (default options unless
# --server-arg), signs up one user with the default Argon2id parameters, and reads that user's
# stored hash back from the database. Then, for each client count N (default: 1, 2, nproc and
# 4 x nproc, without repeats) and each of R rounds (default 3), it runs, one after the other in
# an order that rotates every round:
#   bare     tessera_argon2_bench: crypto_pwhash_str_verify (libsodium) of that hash from N
#            threads of one process, for S seconds (default 10)
#   argon2   the same with --engine libargon2: libargon2, each thread in one reused region of
#            memory advised for huge pages (what the server's default engine does)
#   server   wrk with N connections on POST /v1/passwords/authenticate with the right password
#            (no session unless --session, as bench/server_bench.sh), for S seconds
#   baseline the same wrk against another build (--baseline-bin PATH), on its own database
# and prints, per N, the medians over rounds of each rate and p99, the median of the per-round
# ratios server / bare (same N, same round), the server's rate against the best bare libsodium
# rate of the run (the highest median over all N) and against bare libargon2 at the same N, and
# the CPU time per request (the server process's utime + stime over the wrk run, divided by the
# requests) against the bare CPU time per verification: on a machine busy with other work, the
# CPU ratio moves less than the rates. The load average is printed before every measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=10
rounds=3
clients=$(printf '%s\n' 1 2 "$(nproc)" "$((4 * $(nproc)))" | awk '!seen[$0]++' | tr '\n' ' ')
session=0
server_args=()
baseline_bin=
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --session) session=1; shift ;;
    --server-arg) server_args+=("$2"); shift 2 ;;
    --baseline-bin) baseline_bin=$2; shift 2 ;;
    *) sed -n '2,24p' "$0" >&2; exit 2 ;;
  esac
done
[ -z "$baseline_bin" ] || [ -x "$baseline_bin" ] || { echo "not executable: $baseline_bin" >&2; exit 2; }

build=${TESSERA_BUILD_DIR:-$root/build}
bin=${TESSERA_BIN:-$build/tessera}
bare=$build/bench/tessera_argon2_bench
if [ ! -x "$bin" ] || [ ! -x "$bare" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target tessera tessera_argon2_bench
fi
command -v wrk >/dev/null || scripts/install-deps.sh

work=$(mktemp -d /tmp/tessera-pwbench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start TAG BIN: a project and one server of BIN on its own SQLite file; sets `address`.
start() {
  local tag=$1 server_bin=$2
  local db=(--database "sqlite:$work/$tag.db" --master-key-file "$work/$tag.key")
  "$server_bin" projects create "${db[@]}" --json >"$work/$tag.project.json"
  "$server_bin" serve "${db[@]}" --listen 127.0.0.1:0 --access-log off "${server_args[@]}" \
    2>"$work/$tag.err" &
  pids+=($!)
  echo $! >"$work/$tag.pid"
  for _ in $(seq 1 100); do
    grep -q '"listening"' "$work/$tag.err" 2>/dev/null && break
    sleep 0.1
  done
  address=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/$tag.err" | head -1)
  [ -n "$address" ] || { cat "$work/$tag.err" >&2; exit 1; }
  # The user, the wrk script, and (for this build) the hash the server stored and the password.
  /usr/bin/python3 - "$work" "$tag" "$address" "$session" <<'PY'
import base64, json, sqlite3, sys, urllib.request
work, tag, address, session = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
p = json.load(open(f"{work}/{tag}.project.json"))
auth = base64.b64encode(f"{p['project_id']}:{p['secret']}".encode()).decode()
email, password = "bench@example.com", "tessera bench passphrase 2026"
req = urllib.request.Request(f"http://{address}/v1/passwords",
                             data=json.dumps({"email": email, "password": password}).encode(),
                             headers={"Authorization": "Basic " + auth,
                                      "Content-Type": "application/json"})
json.load(urllib.request.urlopen(req))
body = {"email": email, "password": password}
if session:
    body["session_duration_minutes"] = 60
with open(f"{work}/{tag}.lua", "w") as f:
    f.write('wrk.method = "POST"\nwrk.path = "/v1/passwords/authenticate"\n')
    f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    f.write(f'wrk.headers["Authorization"] = "Basic {auth}"\n')
db = sqlite3.connect(f"file:{work}/{tag}.db?mode=ro", uri=True)
(stored,) = db.execute("SELECT password_hash FROM users WHERE password_hash IS NOT NULL").fetchone()
open(f"{work}/{tag}.hash", "w").write(stored)
open(f"{work}/password", "w").write(password)
PY
}

start this "$bin"
this_address=$address
baseline_address=
if [ -n "$baseline_bin" ]; then
  start baseline "$baseline_bin"
  baseline_address=$address
fi

load() { cut -d' ' -f1-3 /proc/loadavg; }
cpu() { awk '{print $14 + $15}' "/proc/$(cat "$work/$1.pid")/stat"; }  # In clock ticks.

# measure KIND N ROUND: one measurement; its output goes to KIND.N.ROUND (and its load to .load).
measure() {
  local kind=$1 n=$2 round=$3 out="$work/$1.$2.$3"
  load >"$out.load"
  case "$kind" in
    bare | argon2)
      local engine=libsodium
      [ "$kind" = argon2 ] && engine=libargon2
      "$bare" --hash-file "$work/this.hash" --password-file "$work/password" --threads "$n" \
        --seconds "$duration" --engine "$engine" >"$out"
      ;;
    this | baseline)
      local address=$this_address threads=$((n < 2 ? n : 2))
      [ "$kind" = baseline ] && address=$baseline_address
      local before
      before=$(cpu "$kind")
      wrk -t"$threads" -c"$n" -d"${duration}s" --latency --timeout 30s -s "$work/$kind.lua" \
        "http://$address/" >"$out"
      echo "cpu_ticks=$(($(cpu "$kind") - before)) ticks_per_s=$(getconf CLK_TCK)" >>"$out"
      ;;
  esac
  printf '  %-8s N=%-3s round %s  load %s\n' "$kind" "$n" "$round" "$(cat "$out.load")" >&2
}

kinds=(bare argon2 this)
[ -n "$baseline_address" ] && kinds+=(baseline)
echo "hash: $(cut -d'$' -f2-4 "$work/this.hash")  cores: $(nproc)  duration: ${duration}s  rounds: $rounds" >&2
for n in $clients; do
  for round in $(seq 1 "$rounds"); do
    # Rotate the order every round so that no kind always runs first (or after the same one).
    k=${#kinds[@]}
    for i in $(seq 0 $((k - 1))); do
      measure "${kinds[$(((i + round) % k))]}" "$n" "$round"
    done
  done
done

/usr/bin/python3 - "$work" "$rounds" "$clients" "$baseline_bin" "$duration" "$session" <<'PY'
import re, statistics, sys
work, rounds, clients, baseline, duration, session = sys.argv[1:7]
rounds, clients = int(rounds), [int(c) for c in clients.split()]
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s)$", v)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
def read(kind, n, r):
    text = open(f"{work}/{kind}.{n}.{r}").read()
    if kind in ("bare", "argon2"):
        f = dict(re.findall(r"(\w+)=([\d.]+)", text))
        return float(f["rate"]), float(f["p99_ms"]), 0, float(f["cpu_ms_per_verify"])
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    f = dict(re.findall(r"(\w+)=([\d.]+)", text))
    cpu_ms = float(f["cpu_ticks"]) * 1e3 / float(f["ticks_per_s"]) / max(requests, 1)
    return rate, p99, (int(bad.group(1)) if bad else 0) + (1 if errors else 0), cpu_ms
kinds = ["bare", "argon2", "this"] + (["baseline"] if baseline else [])
res = {(k, n): [read(k, n, r) for r in range(1, rounds + 1)] for k in kinds for n in clients}
med = lambda xs: statistics.median(xs)
best_bare = max(med([x[0] for x in res[("bare", n)]]) for n in clients)
loads = sorted(float(open(f"{work}/{k}.{n}.{r}.load").read().split()[0])
               for k in kinds for n in clients for r in range(1, rounds + 1))
print(f"\n### passwords/authenticate{' with a session' if session == '1' else ''} vs bare "
      f"crypto_pwhash_str_verify: {duration} s x {rounds} rounds, "
      f"load average {loads[0]:.2f}-{loads[-1]:.2f}\n")
head = ("| N | bare verifies/s | bare p99 | bare CPU/verify | bare libargon2/s | libargon2 CPU/verify |"
        " server req/s | server p99 | server / bare (same N) | server / best bare |"
        " server / bare libargon2 | server CPU/req |")
rule = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
if baseline:
    head += (" baseline req/s | baseline p99 | baseline / bare | baseline / best bare |"
             " baseline / bare libargon2 | baseline CPU/req |")
    rule += "---:|---:|---:|---:|---:|---:|"
print(head)
print(rule)
bad_total = 0
for n in clients:
    bare = res[("bare", n)]
    a2 = res[("argon2", n)]
    row = (f"| {n} | {med([x[0] for x in bare]):.1f} | {med([x[1] for x in bare]):.0f} ms |"
           f" {med([x[3] for x in bare]):.1f} ms | {med([x[0] for x in a2]):.1f} |"
           f" {med([x[3] for x in a2]):.1f} ms |")
    for k in kinds[2:]:
        xs = res[(k, n)]
        ratio = med([x[0] / b[0] for x, b in zip(xs, bare)])
        ratio_a2 = med([x[0] / b[0] for x, b in zip(xs, a2)])
        rate = med([x[0] for x in xs])
        row += (f" {rate:.1f} | {med([x[1] for x in xs]):.0f} ms | **{ratio:.2f}** |"
                f" **{rate / best_bare:.2f}** | {ratio_a2:.2f} | {med([x[3] for x in xs]):.1f} ms |")
        bad_total += sum(x[2] for x in xs)
    print(row)
print(f"\nBest bare libsodium rate: {best_bare:.1f} verifies/s. Per-round rates (bare libsodium /"
      f" bare libargon2 / server"
      f"{' / baseline' if baseline else ''}):")
for n in clients:
    per = ["/".join(f"{res[(k, n)][r][0]:.1f}" for k in kinds) for r in range(rounds)]
    print(f"  N={n}: " + ", ".join(per))
if bad_total:
    print(f"\nWARNING: {bad_total} non-2xx responses or socket errors")
PY
