#!/usr/bin/env bash
# CPU instructions one token authenticate costs the server, counted by callgrind: the same count
# for the same binary whatever else the machine runs, so two builds compare to the instruction.
#
#   bench/instructions_per_request.sh [--requests N1,N2] BIN...
#
# For each BIN: a throw-away SQLite database; the server under `valgrind --tool=callgrind` (one
# I/O thread, one worker, an EdDSA project, JWT reuse 60 s so that signing stays out of the
# loop); a sign-up, then N sequential token authenticates on one keep-alive connection; the
# program's total instructions.
# Done for N1 and N2 requests (default 100 and 500): the difference over N2 - N1 is the cost of
# one request, start-up and shutdown cancelled out. Background threads wake every 100 ms in both
# runs, a few hundred instructions per request at callgrind's speed.
set -eu
cd "$(dirname "$0")/.."
n1=100
n2=500
bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) n1=${2%,*}; n2=${2#*,}; shift 2 ;;
    -*) sed -n '2,13p' "$0" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || bins=("$(pwd)/build/tessera")
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 2; }

count() {  # bin work n
  local bin=$1 w=$2 n=$3 pid addr
  rm -f "$w/cg.out" "$w/err"
  valgrind --tool=callgrind --callgrind-out-file="$w/cg.out" "$bin" serve \
    --database "sqlite:$w/t.db" --master-key-file "$w/k" --listen 127.0.0.1:0 --access-log off \
    --threads 1 --workers 1 --argon2-memory-kib 1024 --argon2-iterations 1 \
    --jwt-reuse-seconds 60 2>"$w/err" &
  pid=$!
  for _ in $(seq 1 600); do grep -q '"listening"' "$w/err" && break; sleep 0.1; done
  addr=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$w/err" | head -1)
  /usr/bin/python3 - "$addr" "$w/p.json" "$n" <<'PY'
import base64, http.client, json, random, sys
addr, pj, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = json.load(open(pj))
host, port = addr.rsplit(":", 1)
auth = "Basic " + base64.b64encode(f"{p['project_id']}:{p['secret']}".encode()).decode()
c = http.client.HTTPConnection(host, int(port), timeout=300)
def post(path, body):
    c.request("POST", path, json.dumps(body),
              {"Authorization": auth, "Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, json.loads(r.read())
status, body = post("/v1/passwords", {"email": f"cg{random.randrange(10**9)}@example.com",
                                      "password": "tessera bench passphrase 2026",
                                      "session_duration_minutes": 600})
assert status == 200, body
for _ in range(n):
    status, _ = post("/v1/sessions/authenticate", {"session_token": body["session_token"]})
    assert status == 200
PY
  kill -TERM "$pid"
  wait "$pid" || true
  callgrind_annotate "$w/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}

for bin in "${bins[@]}"; do
  w=$(mktemp -d /tmp/tessera-cg.XXXXXX)
  # EdDSA: a re-mint (after a reload of the project, every 30 s) costs little, keeping counts steady.
  "$bin" projects create --database "sqlite:$w/t.db" --master-key-file "$w/k" --json \
    --jwt-algorithm EdDSA >"$w/p.json"
  a=$(count "$bin" "$w" "$n1")
  b=$(count "$bin" "$w" "$n2")
  echo "$bin: $(((b - a) / (n2 - n1))) instructions per token authenticate" \
    "($a in all at $n1 requests, $b at $n2)"
  rm -rf "$w"
done
