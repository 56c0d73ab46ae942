#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for the tests: Debian's postgresql package, a fresh cluster in its own
# folder, reachable only through a unix socket in that folder (no TCP port to collide with anything else).
#
#   scripts/postgres.sh start DIR   installs postgresql if missing, creates and starts a cluster in DIR (which must
#                                   be empty or missing), creates the database dfc_test and prints its Npgsql
#                                   connection string on standard output
#   scripts/postgres.sh stop DIR    stops that server and removes DIR
#
# Safe to run again: start does nothing but print the connection string when the server in DIR already runs.
# PostgreSQL refuses to run as root, so as root the server runs as the postgres user that the package creates.
set -euo pipefail

usage() { echo "usage: scripts/postgres.sh start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
command=$1
dir=$2

# Runs a PostgreSQL program as the user that owns the cluster.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $found ]] && echo "$found"
}

install_postgres() {
  bin_dir >/dev/null && return 0
  if [[ $(id -u) -ne 0 ]]; then
    echo "postgres: please install: postgresql (sudo apt-get install postgresql)" >&2
    exit 1
  fi
  echo "postgres: installing postgresql" >&2
  apt-get update -qq
  # The package's own cluster is not needed; only its programs and the postgres user are.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

start() {
  install_postgres
  local bin connection
  bin=$(bin_dir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  connection="Host=$dir;Username=postgres;Database=dfc_test"
  if [[ -f $dir/data/postmaster.pid ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "$connection"
    return 0
  fi

  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  # trust: the socket lives in a folder only its owner (and root) can enter.
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h "$dir" -U postgres dfc_test
  echo "$connection"
}

stop() {
  [[ -d $dir ]] || return 0
  local bin
  if bin=$(bin_dir) && [[ -f $dir/data/postmaster.pid ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case $command in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
