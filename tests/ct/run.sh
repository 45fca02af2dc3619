#!/usr/bin/env bash
# The constant-time table (README.md): every target of mfakit_ct with N
# measurements each (10^7 for the figures README gives: ~4 s per 10^6 on one
# core, so about 12 minutes for the 17 targets), as markdown.
#
#   tests/ct/run.sh N [--build-dir DIR] [--bench PATH] [--target a,b,...] [--seed S]
#
# DIR defaults to build/ci (the ci preset builds the benchmarks; the binary is
# DIR/tests/ct/mfakit_ct). Run it on an otherwise idle machine: other load
# adds noise to both classes alike (the classes are interleaved at random),
# which costs sensitivity, not correctness.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if (($# < 1)) || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  sed -n '2,11p' "$0" >&2
  exit 64
fi
n="$1"; shift
build_dir="$root/build/ci" bench="" targets="all" seed=""
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$2"; shift ;;
    --bench) bench="$2"; shift ;;
    --target) targets="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done
bench="${bench:-$build_dir/tests/ct/mfakit_ct}"
if [ ! -x "$bench" ]; then
  echo "run.sh: $bench not found; build it (cmake --preset ci && cmake --build build/ci --target mfakit_ct)" >&2
  exit 1
fi
args=(--markdown --measurements "$n" --target "$targets")
[ -n "$seed" ] && args+=(--seed "$seed")
echo "<!-- tests/ct/run.sh $n: $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg) -->"
start=$(date +%s)
"$bench" "${args[@]}"
echo
echo "Threshold |t| > 4.5. $(( $(date +%s) - start )) s."
