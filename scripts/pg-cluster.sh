#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests: loopback only, in a temporary directory, on a free
# port, owned by the `postgres` user (when run as root), removed by `stop`.
#
#   scripts/pg-cluster.sh start DIR   # prints the libpq URL and writes it to DIR/url
#   scripts/pg-cluster.sh stop DIR    # stops the server and removes DIR
#   scripts/pg-cluster.sh pause DIR   # stops the server (fast shutdown), keeping DIR and its data
#   scripts/pg-cluster.sh resume DIR  # starts it again on the same port (tests of an outage)
#
# Authentication is `trust` on 127.0.0.1 and the socket in DIR: the cluster lives only as long as
# a test run, is reachable only from this machine, and holds only test data.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
usage() { echo "usage: $0 start|stop|pause|resume DIR" >&2; exit 2; }
[ -n "$cmd" ] && [ -n "$dir" ] || usage

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ]; then
  "$(dirname "$0")/install-deps.sh"
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# fsync stays on: the kill -9 tests rely on committed data being durable.
server_start() {
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir -c max_connections=200 -c shared_buffers=64MB" >/dev/null
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1
    server_start "$port"
    as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
      -c "CREATE DATABASE tessera" >/dev/null
    url="postgresql://postgres@127.0.0.1:$port/tessera"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  pause)
    [ -d "$dir/data" ] || { echo "$0: no cluster in $dir" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    ;;
  resume)
    [ -f "$dir/url" ] || { echo "$0: no cluster in $dir" >&2; exit 1; }
    port=$(sed -E 's#^.*:([0-9]+)/[^/]*$#\1#' "$dir/url")
    server_start "$port"
    ;;
  *)
    usage
    ;;
esac
