#!/usr/bin/env bash
# Stops the cluster start-postgres.sh started, and removes it.
#   stop-postgres.sh DIR
set -euo pipefail
dir=${1:?usage: stop-postgres.sh DIR}
[ -d "$dir" ] || exit 0
bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/pg_ctl" ] && bindir=$d
done
[ -n "$bindir" ] || { echo "stop-postgres: pg_ctl not found" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then as_owner() { runuser -u postgres -- "$@"; }; else as_owner() { "$@"; }; fi

exec 9>"$dir.lock"
flock -w 50 9
if as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
fi
rm -rf "$dir"
rm -f "$dir.lock"
echo "stop-postgres: stopped and removed $dir"
