#!/usr/bin/env bash
# One command for the demo: installs the Debian packages it needs (if any are
# missing; uses sudo when not root), builds mfakit_demo_server and starts it
# on http://127.0.0.1:8080/ with a SQLite database, a sealing key and a JWT
# secret kept in the build directory, so enrolled users and their sessions
# survive a restart.
#
#   examples/server/run-demo.sh [server options...]      e.g. --listen 127.0.0.1:9000
#
# Environment: MFAKIT_DEMO_BUILD_DIR (default build/demo), MFAKIT_DEMO_PORT.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${MFAKIT_DEMO_BUILD_DIR:-$root/build/demo}
state="$build/demo-state"

packages=(build-essential cmake ninja-build pkg-config libssl-dev libfmt-dev
  libsqlite3-dev libpq-dev libboost1.81-dev libqrencode-dev libpng-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "run-demo: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMFAKIT_BUILD_EXAMPLES=ON -DMFAKIT_BUILD_TESTS=OFF -DMFAKIT_INSTALL=OFF >/dev/null
cmake --build "$build" --target mfakit_demo_server

mkdir -p "$state"
chmod 700 "$state"
if [ ! -s "$state/jwt.secret" ]; then
  (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/jwt.secret")
fi
echo "run-demo: open the URL below; log in as alice@example.com / correct horse alice (Ctrl-C stops)"
exec "$build/examples/server/mfakit_demo_server" --listen "127.0.0.1:${MFAKIT_DEMO_PORT:-8080}" \
  --db "sqlite:$state/demo.sqlite" --key-file "$state/sealing.key" --jwt-secret-file "$state/jwt.secret" \
  --issuer "mfakit demo" --demo-users "$@"
