#!/bin/sh
# What a host pays to compile mfakit: three translation units built in one run,
# each reported with its CPU seconds (user + system), peak RSS and its ratio to
# the floor measured in the same run.
#   service  <mfakit/service.hpp>, and setup, enable, begin_login and
#            complete_login called on a service<memory_store>
#   umbrella <mfakit/mfakit.hpp> only
#   floor    fmt's and OpenSSL's headers only (what mfakit cannot go below)
#
# Usage: tests/bench/compile_time.sh [-O2] [--report DIR]
#   CXX       compilers to run, space separated (default: g++ and clang++ when found)
#   RUNS      compilations per TU and compiler, in rounds that take the three
#             TUs in turn (so a slower minute slows all three); the median is
#             printed (default 5)
#   --report  also writes -ftime-report (g++) and -ftime-trace (clang++) output to DIR
#   MFAKIT_INCLUDE  the headers to measure (default: this checkout's include/),
#             on a plain -I path: another commit's, to compare in one sitting
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
opt=-O2
report=""
while [ $# -gt 0 ]; do
  case "$1" in
    -O*) opt=$1 ;;
    --report) report=$2; shift ;;
    *) echo "usage: $0 [-O2] [--report DIR]" >&2; exit 2 ;;
  esac
  shift
done
runs=${RUNS:-5}
include=${MFAKIT_INCLUDE:-$root/include}
if [ -z "${CXX:-}" ]; then
  CXX=""
  for c in g++ clang++; do command -v "$c" >/dev/null 2>&1 && CXX="$CXX $c"; done
fi
[ -x /usr/bin/time ] || { echo "compile_time.sh: /usr/bin/time (GNU time) is needed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/service.cpp" <<'EOF'
#include <mfakit/service.hpp>
int main() {
  mfakit::memory_store store;
  mfakit::flow_config cfg(mfakit::secret_box::unsafe_plaintext());
  mfakit::service svc(store, std::move(cfg));
  auto s = svc.setup("alice", "alice@example.com");
  auto e = svc.enable("alice", "123456");
  auto b = svc.begin_login("alice");
  auto l = svc.complete_login("token", "123456");
  return (s ? 1 : 0) + (e ? 2 : 0) + (b ? 4 : 0) + (l ? 8 : 0);
}
EOF
cat >"$work/umbrella.cpp" <<'EOF'
#include <mfakit/mfakit.hpp>
int main() { return 0; }
EOF
cat >"$work/floor.cpp" <<'EOF'
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
int main() { return 0; }
EOF

[ -n "$report" ] && mkdir -p "$report"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-10s %-8s %10s %10s %10s\n' compiler tu cpu_s peak_mb x_floor
for cxx in $CXX; do
  name=$(basename "$cxx")
  : >"$work/samples"
  i=0
  while [ "$i" -lt "$runs" ]; do
    for tu in service umbrella floor; do
      /usr/bin/time -f '%U %S %M' -o "$work/time" \
        "$cxx" -std=c++20 "$opt" -I"$include" -c "$work/$tu.cpp" -o "$work/$tu.o"
      set -- $(cat "$work/time")
      echo "$tu $(echo "$1 $2" | awk '{ printf "%.2f", $1 + $2 }') $3" >>"$work/samples"
    done
    i=$((i + 1))
  done
  floor_cpu=$(awk '$1 == "floor" { print $2 }' "$work/samples" | median)
  for tu in service umbrella floor; do
    cpu=$(awk -v t="$tu" '$1 == t { print $2 }' "$work/samples" | median)
    rss=$(awk -v t="$tu" '$1 == t { print $3 }' "$work/samples" | median)
    printf '%-10s %-8s %10.2f %10d %10.1f\n' "$name" "$tu" "$cpu" "$(awk -v r="$rss" 'BEGIN { printf "%d", r / 1024 }')" \
      "$(awk -v a="$cpu" -v b="$floor_cpu" 'BEGIN { print a / b }')"
    if [ -n "$report" ]; then
      case "$name" in
        clang*)
          "$cxx" -std=c++20 "$opt" -I"$include" -ftime-trace -c "$work/$tu.cpp" -o "$work/$tu.o"
          cp "$work/$tu.json" "$report/$name-$tu.json" ;;
        *)
          "$cxx" -std=c++20 "$opt" -I"$include" -ftime-report -c "$work/$tu.cpp" -o "$work/$tu.o" \
            2>"$report/$name-$tu.ftime-report.txt" ;;
      esac
    fi
  done
done
