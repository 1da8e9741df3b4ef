#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the tests and print its URL.
# Usage: url=$(bash .ci/postgres.sh start DIR); ...; bash .ci/postgres.sh stop DIR
set -euo pipefail
action=$1
dir=$2
# a free port on the loopback interface (unless one is given)
port=${CLASSDYAD_PG_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

case "$action" in
  start)
    if [ -z "$(pg_bin)" ]; then
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    bin=$(pg_bin)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_postgres "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust" >&2
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w \
      -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start" >&2
    as_postgres "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres classdyad_test" >&2
    echo "postgresql://postgres@127.0.0.1:$port/classdyad_test"
    ;;
  stop)
    bin=$(pg_bin)
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop" >&2 || true
    ;;
esac
