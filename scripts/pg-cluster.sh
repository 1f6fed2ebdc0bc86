#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests: loopback only, in a temporary directory, on a free
# port, owned by the `postgres` user (when run as root), removed by `stop`.
#
#   scripts/pg-cluster.sh start DIR   # prints the libpq URL and writes it to DIR/url
#   scripts/pg-cluster.sh stop DIR    # stops the server and removes DIR and the cluster
#   scripts/pg-cluster.sh pause DIR   # stops the server (fast shutdown), keeping its data
#   scripts/pg-cluster.sh resume DIR  # starts it again on the same port (tests of an outage)
#
# DIR only records where the cluster is (DIR/cluster) and its URL (DIR/url). The cluster itself
# lives in a fresh directory of its own under /tmp: DIR is usually inside a build tree whose
# parents the `postgres` user may not be allowed to enter (a clone in `mktemp -d` is 0700).
#
# Authentication is `trust` on 127.0.0.1 and the socket in the cluster's directory: the cluster
# lives only as long as a test run, is reachable only from this machine, and holds only test data.
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
  # From / so that the tools do not complain about a working directory they cannot enter.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Prints a log to stderr and fails, so a test log shows why the cluster did not come up.
fail_with() {
  echo "$0: $1" >&2
  [ -f "${2:-}" ] && sed 's/^/  /' "$2" >&2
  exit 1
}

cluster_of() {
  [ -f "$dir/cluster" ] || { echo "$0: no cluster in $dir" >&2; exit 1; }
  cat "$dir/cluster"
}

# fsync stays on: the kill -9 tests rely on committed data being durable.
server_start() {
  local cluster=$1 port=$2
  as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$cluster -c max_connections=200 -c shared_buffers=64MB" \
    >/dev/null || fail_with "the server did not start" "$cluster/server.log"
}

case "$cmd" in
  start)
    # A cluster left behind by an interrupted run is stopped and removed first.
    [ -f "$dir/cluster" ] || [ -d "$dir/data" ] && "$0" stop "$dir"
    mkdir -p "$dir"
    cluster=$(mktemp -d /tmp/tessera-pg.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$cluster"
    echo "$cluster" >"$dir/cluster"
    port=$(/usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    as_owner "$bindir/initdb" -D "$cluster/data" -U postgres -A trust --no-sync -E UTF8 \
      >"$cluster/initdb.log" 2>&1 || fail_with "initdb failed" "$cluster/initdb.log"
    server_start "$cluster" "$port"
    as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
      -c "CREATE DATABASE tessera" >/dev/null || fail_with "could not create the database" "$cluster/server.log"
    url="postgresql://postgres@127.0.0.1:$port/tessera"
    echo "$url" >"$dir/url"
    echo "$url"
    ;;
  stop)
    if [ -d "$dir/data" ]; then # the layout before the cluster moved out of DIR
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/cluster" ]; then
      cluster=$(cat "$dir/cluster")
      if [ -d "$cluster/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$cluster/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
      fi
      case "$cluster" in */tessera-pg.*) rm -rf "$cluster" ;; esac
    fi
    rm -rf "$dir"
    ;;
  pause)
    cluster=$(cluster_of)
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -m fast -w -t 30 stop >/dev/null
    ;;
  resume)
    cluster=$(cluster_of)
    [ -f "$dir/url" ] || { echo "$0: no URL in $dir" >&2; exit 1; }
    port=$(sed -E 's#^.*:([0-9]+)/[^/]*$#\1#' "$dir/url")
    server_start "$cluster" "$port"
    ;;
  *)
    usage
    ;;
esac
