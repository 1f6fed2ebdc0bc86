#!/usr/bin/env bash
# Load test of `tessera serve` with wrk, against an nginx static response measured in the same run.
#
#   bench/server_bench.sh [--duration SECONDS] [--connections N] [--database URL] [--label TEXT]
#
# Starts (and always stops) a throw-away tessera on SQLite in a temporary directory and an nginx on
# loopback answering a static 200, creates a project, a password user and a session, then runs wrk
# (2 threads, 64 connections by default) against:
#   nginx static 200                 the ceiling
#   POST /v1/sessions/authenticate   by session token
#   POST /v1/sessions/authenticate   by session JWT
#   POST /v1/passwords/authenticate  Argon2id with the server's default parameters
# and prints requests/s, p50, p99 and the ratio to nginx as a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

duration=10
connections=64
database=""
label="sqlite, 1 node"
server_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --server-arg) server_args+=("$2"); shift 2 ;;
    *) echo "usage: $0 [--duration S] [--connections N] [--database URL] [--label TEXT]" >&2; exit 2 ;;
  esac
done

bin=${TESSERA_BIN:-$root/build/tessera}
if [ ! -x "$bin" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build --target tessera
fi
command -v wrk >/dev/null && command -v nginx >/dev/null || scripts/install-deps.sh

work=$(mktemp -d /tmp/tessera-bench.XXXXXX)
tessera_pid=""
nginx_conf="$work/nginx.conf"
cleanup() {
  [ -n "$tessera_pid" ] && kill -TERM "$tessera_pid" 2>/dev/null && wait "$tessera_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && nginx -c "$nginx_conf" -p "$work" -s stop 2>/dev/null || true
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
db=${database:-sqlite:$work/tessera.db}
key_args=(--master-key-file "$work/master.key")
"$bin" projects create --database "$db" "${key_args[@]}" --json >"$work/project.json"
"$bin" serve --database "$db" "${key_args[@]}" --listen 127.0.0.1:0 \
  --access-log "$work/access.log" "${server_args[@]}" 2>"$work/serve.err" &
tessera_pid=$!
for _ in $(seq 1 100); do
  grep -q '"listening"' "$work/serve.err" 2>/dev/null && break
  sleep 0.1
done
address=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/serve.err" | head -1)
[ -n "$address" ] || { cat "$work/serve.err" >&2; exit 1; }

# A user and a session to authenticate, and the wrk scripts (bodies are fixed per run).
/usr/bin/python3 - "$work" "$address" <<'PY'
import base64, json, sys, urllib.request
work, address = sys.argv[1], sys.argv[2]
p = json.load(open(f"{work}/project.json"))
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
    with open(f"{work}/{name}.lua", "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.path = {json.dumps(path)}\n")
        f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["Authorization"] = "Basic {auth}"\n')
        f.write('response = function(status, headers, body)\n'
                '  if status ~= 200 then wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1) end\n'
                'end\n')
script("token", "/v1/sessions/authenticate", {"session_token": r["session_token"]})
script("jwt", "/v1/sessions/authenticate", {"session_jwt": r["session_jwt"]})
script("password", "/v1/passwords/authenticate", {"email": email, "password": password})
PY

run_wrk() {  # name url [script]
  local name=$1 url=$2 script=${3:-}
  local args=(-t2 "-c$connections" "-d${duration}s" --latency --timeout 30s)
  [ -n "$script" ] && args+=(-s "$script")
  wrk "${args[@]}" "$url" >"$work/$name.wrk"
}

run_wrk nginx "http://127.0.0.1:$nginx_port/"
run_wrk token "http://$address/v1/sessions/authenticate" "$work/token.lua"
run_wrk jwt "http://$address/v1/sessions/authenticate" "$work/jwt.lua"
run_wrk password "http://$address/v1/passwords/authenticate" "$work/password.lua"

/usr/bin/python3 - "$work" "$label" "$connections" "$duration" <<'PY'
import re, sys
work, label, connections, duration = sys.argv[1:5]
def parse(name):
    text = open(f"{work}/{name}.wrk").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return rps, lat.get("50", "?"), lat.get("99", "?"), int(non2xx.group(1)) if non2xx else 0, \
        errors.group(0) if errors else ""
base = parse("nginx")[0]
print(f"\n### {label}: wrk -t2 -c{connections} -d{duration}s\n")
print("| target | requests/s | p50 | p99 | ratio to nginx | non-2xx |")
print("|---|---:|---:|---:|---:|---:|")
for name, title in [("nginx", "nginx static 200"), ("token", "authenticate by token"),
                    ("jwt", "authenticate by JWT"), ("password", "passwords/authenticate")]:
    rps, p50, p99, bad, errors = parse(name)
    print(f"| {title} | {rps:,.0f} | {p50} | {p99} | {rps / base:.2f} | {bad} |")
    if errors:
        print(f"<!-- {title}: {errors} -->")
PY
