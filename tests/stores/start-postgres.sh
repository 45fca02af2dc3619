#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the demo's tests, and creates a
# database in it. Idempotent: a cluster that is already running is reused.
#
#   start-postgres.sh DIR PORT DBNAME
#
# DIR holds the data directory, the log and the unix socket; the server
# listens on no TCP address at all. Trust authentication on the socket only
# (a local test cluster), fsync off (nothing in it outlives the tests). As
# root (CI), the cluster belongs to the `postgres` user (initdb refuses root);
# otherwise to the calling user. A missing PostgreSQL is an error, never a skip.
set -euo pipefail
dir=${1:?usage: start-postgres.sh DIR PORT DBNAME}
port=${2:?port}
db=${3:?database name}

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir=$d
done
if [ -z "$bindir" ]; then
  echo "start-postgres: PostgreSQL server binaries not found (apt-get install postgresql; see .ci/install-deps)" >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || { echo "start-postgres: no 'postgres' user" >&2; exit 1; }
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi

mkdir -p "$dir"
exec 9>"$dir.lock"
flock -w 60 9

chown "$owner" "$dir"
chmod 700 "$dir"
data="$dir/data"

if ! as_owner test -f "$data/PG_VERSION"; then
  rm -rf "$data"
  as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
fi

if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # -k: socket directory; listen_addresses='': no TCP.
  as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 9>&- || {  # 9>&-: the server must not inherit the lock
    echo "start-postgres: the server did not start; its log:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
  }
fi

psql=("$bindir/psql" -h "$dir" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1)
for _ in $(seq 1 50); do
  "${psql[@]}" -d postgres -tAc "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
if [ "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE $db"
fi
echo "start-postgres: running on socket $dir, port $port, database $db ($($bindir/postgres --version))"
