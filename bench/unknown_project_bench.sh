#!/usr/bin/env bash
# What requests naming made-up projects cost a node: the unauthenticated JWKS route
# (GET /v1/sessions/jwks/<random project id>) under wrk, for one or more builds of tessera.
#
#   bench/unknown_project_bench.sh [--duration S] [--connections N] BIN...
#
# For each BIN (default: build/tessera): a throw-away SQLite database, one server, and two wrk runs
# of S seconds (default 10) with N connections (default 64): every request naming the same
# made-up project, then every request naming a new one. After each run, the store reads of
# projects the server made (its /metrics counter). Prints one Markdown row per build and run:
# requests/s, p50, p99, store reads per request. Builds run one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=10
connections=64
bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    -*) sed -n '2,12p' "$0" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || bins=("$root/build/tessera")
command -v wrk >/dev/null || scripts/install-deps.sh

work=$(mktemp -d /tmp/tessera-unknown.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# "same": one made-up id throughout. "new": every request a fresh one (each wrk thread numbers
# its own, with its own prefix), so no cache of any kind could answer it twice.
cat >"$work/same.lua" <<'EOF'
wrk.path = "/v1/sessions/jwks/project-test-00000000-dead-4000-8000-000000000000"
EOF
cat >"$work/new.lua" <<'EOF'
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", threads)
end
local counter = 0
request = function()
  counter = counter + 1
  local id = string.format("project-test-%08x-0000-4000-8000-%012x", prefix, counter)
  return wrk.format("GET", "/v1/sessions/jwks/" .. id)
end
EOF

reads() {  # address
  curl -s "http://$1/metrics" |
    sed -n 's/^tessera_store_operation_duration_seconds_count{operation="get_project"} //p' |
    head -1
}

echo "| build | made-up ids | requests/s | p50 | p99 | store reads per request |"
echo "|---|---|---:|---:|---:|---:|"
for bin in "${bins[@]}"; do
  rm -f "$work"/t.db*
  "$bin" projects create --database "sqlite:$work/t.db" --master-key-file "$work/k" >/dev/null
  "$bin" serve --database "sqlite:$work/t.db" --master-key-file "$work/k" \
    --listen 127.0.0.1:0 --access-log off 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q '"listening"' "$work/serve.err" && break; sleep 0.1; done
  address=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$work/serve.err" | head -1)
  for mode in same new; do
    before=$(reads "$address"); before=${before:-0}
    wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/$mode.lua" \
      "http://$address/" >"$work/wrk.out"
    after=$(reads "$address"); after=${after:-0}
    /usr/bin/python3 - "$bin" "$mode" "$work/wrk.out" "$before" "$after" <<'PY'
import re, sys
bin_, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
before, after = float(sys.argv[4]), float(sys.argv[5])
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
total = int(re.search(r"(\d+) requests in", text).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", text, re.M))
what = "one, repeated" if mode == "same" else "a new one each"
print(f"| {bin_} | {what} | {rps:,.0f} | {lat['50']} | {lat['99']} | "
      f"{(after - before) / total:.3f} |")
PY
  done
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
