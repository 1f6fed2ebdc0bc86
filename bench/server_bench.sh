#!/usr/bin/env bash
# Load test of `tessera serve` with wrk, against an nginx static response measured in the same run.
#
#   bench/server_bench.sh [--store sqlite|postgres] [--nodes N] [--duration S] [--connections N]
#                         [--server-arg ARG]... [--skip-password] [--baseline-bin PATH]
#
# Starts (and always stops) throw-away servers in a temporary directory: tessera on SQLite, or N
# tessera nodes sharing a throw-away PostgreSQL cluster (scripts/pg-cluster.sh), and an nginx on
# loopback answering a static 200. Creates a project, a password user and a session, then runs wrk
# (64 connections by default, split evenly over the nodes, one wrk process per node, all at once):
#   nginx static 200                 the ceiling (2 wrk threads, all connections)
#   POST /v1/sessions/authenticate   by session token
#   POST /v1/sessions/authenticate   by session JWT
#   POST /v1/passwords/authenticate  Argon2id with the server's default parameters
# and prints requests/s (summed over nodes), p50 and p99 (the worst node's) and the ratio to nginx
# as a Markdown table.
#
# --baseline-bin PATH (SQLite only) also starts another build of tessera on its own database and
# measures token authenticate on both builds in the same run, alternating (this build, the other,
# this, the other), to show what a change costs: the table gains a row for the other build and the
# ratio of this build's rate to it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

store=sqlite
nodes=1
duration=10
connections=64
password=1
server_args=()
baseline_bin=
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --server-arg) server_args+=("$2"); shift 2 ;;
    --skip-password) password=0; shift ;;
    --baseline-bin) baseline_bin=$2; shift 2 ;;
    *) sed -n '2,22p' "$0" >&2; exit 2 ;;
  esac
done
case "$store" in sqlite|postgres) ;; *) echo "--store must be sqlite or postgres" >&2; exit 2 ;; esac
[ "$store" = sqlite ] && [ "$nodes" -ne 1 ] && { echo "SQLite serves one node" >&2; exit 2; }
[ -n "$baseline_bin" ] && [ "$store" != sqlite ] && { echo "--baseline-bin needs --store sqlite" >&2; exit 2; }
[ -z "$baseline_bin" ] || [ -x "$baseline_bin" ] || { echo "not executable: $baseline_bin" >&2; exit 2; }

bin=${TESSERA_BIN:-$root/build/tessera}
if [ ! -x "$bin" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build --target tessera
fi
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/install-deps.sh

work=$(mktemp -d /tmp/tessera-bench.XXXXXX)
chmod 755 "$work"
pids=()
nginx_conf="$work/nginx.conf"
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && nginx -c "$nginx_conf" -p "$work" -s stop 2>/dev/null || true
  [ -d "$work/pg" ] && scripts/pg-cluster.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# --- nginx: the ceiling ---------------------------------------------------------------------------
nginx_port=$(free_port)
cat >"$nginx_conf" <<EOF
worker_processes $(nproc);
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '{"status_code":200}'; }
  }
}
EOF
nginx -c "$nginx_conf" -p "$work"

# --- tessera --------------------------------------------------------------------------------------
if [ "$store" = postgres ]; then
  db=$(scripts/pg-cluster.sh start "$work/pg")
  label="PostgreSQL, $nodes node(s)"
else
  db="sqlite:$work/tessera.db"
  label="SQLite, 1 node"
fi
# start_servers BIN DATABASE TAG: `projects create` and N nodes of BIN; sets `addresses` and
# `first_pid` (the first node's process, whose CPU time the comparison reads).
start_servers() {
  local bin=$1 db=$2 tag=$3
  local key_args=(--master-key-file "$work/$tag.master.key")
  "$bin" projects create --database "$db" "${key_args[@]}" --json >"$work/$tag.project.json"
  addresses=()
  first_pid=
  for n in $(seq 1 "$nodes"); do
    "$bin" serve --database "$db" "${key_args[@]}" --listen 127.0.0.1:0 \
      --access-log "$work/$tag.access-$n.log" "${server_args[@]}" 2>"$work/$tag.serve-$n.err" &
    pids+=($!)
    [ -n "$first_pid" ] || first_pid=$!
    for _ in $(seq 1 100); do
      grep -q '"listening"' "$work/$tag.serve-$n.err" 2>/dev/null && break
      sleep 0.1
    done
    local address
    address=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/$tag.serve-$n.err" | head -1)
    [ -n "$address" ] || { cat "$work/$tag.serve-$n.err" >&2; exit 1; }
    addresses+=("$address")
  done
}

# fixtures TAG ADDRESS: a user and a session to authenticate, and the wrk scripts (bodies are
# fixed per run), named TAG-token.lua and so on (no prefix for this build).
fixtures() {
  /usr/bin/python3 - "$work" "$1" "$2" <<'PY'
import base64, json, sys, urllib.request
work, tag, address = sys.argv[1], sys.argv[2], sys.argv[3]
prefix = "" if tag == "this" else tag + "-"
p = json.load(open(f"{work}/{tag}.project.json"))
auth = base64.b64encode(f"{p['project_id']}:{p['secret']}".encode()).decode()
def post(path, body):
    req = urllib.request.Request(f"http://{address}{path}", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Basic " + auth,
                                          "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
email, password = "bench@example.com", "tessera bench passphrase 2026"
r = post("/v1/passwords", {"email": email, "password": password,
                           "session_duration_minutes": 600})
def script(name, path, body):
    with open(f"{work}/{prefix}{name}.lua", "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.path = {json.dumps(path)}\n")
        f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["Authorization"] = "Basic {auth}"\n')
script("token", "/v1/sessions/authenticate", {"session_token": r["session_token"]})
script("jwt", "/v1/sessions/authenticate", {"session_jwt": r["session_jwt"]})
script("password", "/v1/passwords/authenticate", {"email": email, "password": password})
PY
}

baseline_address=
if [ -n "$baseline_bin" ]; then
  start_servers "$baseline_bin" "sqlite:$work/baseline.db" baseline
  baseline_address=${addresses[0]}
  baseline_pid=$first_pid
  fixtures baseline "$baseline_address"
fi
start_servers "$bin" "$db" this
this_pid=$first_pid
fixtures this "${addresses[0]}"

# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wrk_args() {  # threads connections
  echo "-t$1 -c$2 -d${duration}s --latency --timeout 30s"
}

run_nginx() {
  # shellcheck disable=SC2046
  wrk $(wrk_args 2 "$connections") "http://127.0.0.1:$nginx_port/" >"$work/nginx.0.wrk"
}

run_tessera() {  # name [round]
  local name=$1 round=${2:-0} per=$((connections / nodes)) threads=2 i=0
  [ "$nodes" -gt 1 ] && threads=1
  local waits=() before
  before=$(cpu_ticks "$this_pid")
  for address in "${addresses[@]}"; do
    # shellcheck disable=SC2046
    wrk $(wrk_args "$threads" "$per") -s "$work/$name.lua" "http://$address/" \
      >"$work/$name.$i.$round.wrk" &
    waits+=($!)
    i=$((i + 1))
  done
  for w in "${waits[@]}"; do wait "$w"; done
  echo $(($(cpu_ticks "$this_pid") - before)) >"$work/$name.$round.cpu"
}

run_baseline() {  # round: token authenticate on the other build
  local before
  before=$(cpu_ticks "$baseline_pid")
  # shellcheck disable=SC2046
  wrk $(wrk_args 2 "$connections") -s "$work/baseline-token.lua" "http://$baseline_address/" \
    >"$work/baseline-token.0.$1.wrk"
  echo $(($(cpu_ticks "$baseline_pid") - before)) >"$work/baseline-token.$1.cpu"
}

run_nginx
run_tessera token
if [ -n "$baseline_address" ]; then
  run_baseline 0
  run_tessera token 1
  run_baseline 1
fi
run_tessera jwt
[ "$password" = 1 ] && run_tessera password

/usr/bin/python3 - "$work" "$label" "$connections" "$duration" "$password" "$baseline_bin" \
  "$(getconf CLK_TCK)" <<'PY'
import glob, re, sys
work, label, connections, duration, password, baseline, hz = sys.argv[1:8]
def seconds(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1}[m.group(2)]
def parse(name):
    # Requests/s summed over nodes, averaged over rounds; latencies the worst seen.
    rps, p50, p99, bad = 0.0, 0.0, 0.0, 0
    paths = sorted(glob.glob(f"{work}/{name}.*.wrk"))
    rounds = len({p.rsplit(".", 2)[-2] for p in paths})
    for path in paths:
        text = open(path).read()
        rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)) / rounds
        lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))
        p50 = max(p50, seconds(lat["50"]))
        p99 = max(p99, seconds(lat["99"]))
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        bad += int(m.group(1)) if m else 0
    return rps, p50, p99, bad
def fmt(s):
    return f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.0f} us"
base = parse("nginx")[0]
print(f"\n### {label}: {connections} connections, {duration} s\n")
print("| target | requests/s | p50 | p99 | ratio to nginx | non-2xx |")
print("|---|---:|---:|---:|---:|---:|")
rows = [("nginx", "nginx static 200"), ("token", "authenticate by token"),
        ("jwt", "authenticate by JWT")]
if password == "1":
    rows.append(("password", "passwords/authenticate"))
if baseline:
    rows.insert(2, ("baseline-token", f"authenticate by token, {baseline}"))
for name, title in rows:
    rps, p50, p99, bad = parse(name)
    print(f"| {title} | {rps:,.0f} | {fmt(p50)} | {fmt(p99)} | {rps / base:.2f} | {bad} |")
def cpu_us_per_request(name):
    # The server's CPU time over the requests wrk completed, summed over rounds: unlike the rate,
    # barely moved by what else runs on the machine.
    ticks = sum(int(open(p).read()) for p in glob.glob(f"{work}/{name}.*.cpu"))
    done = sum(int(re.search(r"(\d+) requests in", open(p).read()).group(1))
               for p in glob.glob(f"{work}/{name}.*.wrk"))
    return ticks / float(hz) / done * 1e6
if baseline:
    print(f"\nToken authenticate, this build / {baseline}: "
          f"{parse('token')[0] / parse('baseline-token')[0]:.3f} in rate (two alternating rounds "
          f"each); server CPU per request {cpu_us_per_request('token'):.1f} us against "
          f"{cpu_us_per_request('baseline-token'):.1f} us")
PY
