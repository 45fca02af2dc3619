#!/usr/bin/env bash
# Load figures for the demo server beside the Node.js baseline, in the same run:
#   examples/server/bench/load.sh [-d SECONDS] [--server PATH] [--skip-node] [--only yardstick,thousand,logins]
# Runs the shared yardstick (../shared/bench/node-baseline/load.sh: wrk -t2 -c32 on GET status and on
# POST enable -> 409) for the baseline and for this server, then 1,000 keep-alive connections on both,
# then full logins (real scrypt cost + TOTP) on this server with GET status load beside them.
# Prints markdown tables. Needs wrk (apt-get install wrk), node and npm (the baseline's
# `npm ci` runs once, into /tmp/node-baseline), python3. The server binary defaults to
# build/ci/examples/server/mfakit_demo_server (cmake --preset ci && cmake --build build/ci
# --target mfakit_demo_server). Figures move with the machine's load: compare ratios from one run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
baseline=${MFAKIT_NODE_BASELINE:-$root/../shared/bench/node-baseline}
server=$root/build/ci/examples/server/mfakit_demo_server
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --server) server=$2; shift 2;;
    -d|--only|--login-users|--login-clients) args+=("$1" "$2"); shift 2;;
    --skip-node) args+=("$1"); shift;;
    *) echo "usage: load.sh [-d SECONDS] [--server PATH] [--skip-node] [--only LIST]" >&2; exit 2;;
  esac
done
command -v wrk >/dev/null || { echo "wrk missing (apt-get install -y wrk)" >&2; exit 2; }
[ -x "$server" ] || { echo "no server at $server (build it, or pass --server PATH)" >&2; exit 2; }
[ -x "$baseline/load.sh" ] || { echo "no baseline at $baseline (set MFAKIT_NODE_BASELINE)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # 1,000 connections on each side
exec python3 "$here/bench.py" --server "$server" --baseline-dir "$baseline" "${args[@]}"
