#!/usr/bin/env bash
# Model-checks mfakit.pml with Spin: spin -a, cc pan.c, ./pan (exhaustive,
# no bitstate), then checks the verdict.
#
#   run-model.sh WORKDIR EXPECT [-DNAME=VALUE ...]
#
# EXPECT is `pass` (pan must report errors: 0 after a complete search) or
# `violation:REGEX` (pan must report errors > 0, and the assertion it names
# must match REGEX; the counterexample is replayed and its steps printed).
# The -D options go to spin (SCENARIO, BUGGY, ONLY_P1, MAXF, ... see
# mfakit.pml). SPIN and CC pick the programs (default: spin, cc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"
expect="$2"
shift 2
spin="${SPIN:-spin}"
cc="${CC:-cc}"

if ! command -v "$spin" >/dev/null 2>&1; then
  echo "run-model: '$spin' not found (apt-get install spin, or run .ci/install-deps)" >&2
  exit 1
fi

mkdir -p "$work"
cd "$work"
rm -f pan pan.* mfakit.pml.trail
cp "$here/mfakit.pml" .
start=$(date +%s.%N)
"$spin" -a "$@" mfakit.pml >spin.log 2>&1 || { cat spin.log; exit 1; }
# -O0: compiling pan.c at -O2 costs more than the search gains (2.5M states: 0.5s+3.0s
# at -O0 against 3.7s+1.9s at -O2). -w: its generated code trips -Wstringop-overflow.
# A run that expects a violation also searches for the shortest trail (-i,
# exact with -DREACH), so the counterexample printed is the short one.
cflags=(-O0 -w -DNOFAIR)
panflags=(-n)
case "$expect" in violation:*) cflags+=(-DREACH); panflags+=(-i) ;; esac
"$cc" "${cflags[@]}" -o pan pan.c
built=$(date +%s.%N)
./pan "${panflags[@]}" >pan.log 2>&1 || true
done_=$(date +%s.%N)

errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.log | head -n1)
states=$(sed -n 's/^ *\([0-9][0-9.e+]*\) states, stored.*/\1/p' pan.log | head -n1)
awk -v a="$start" -v b="$built" -v c="$done_" -v o="$*" -v s="${states:-?}" -v e="${errors:-?}" \
  'BEGIN { printf "run-model %s: %s states, errors: %s; build %.1fs, search %.1fs\n", o, s, e, b - a, c - b }'

if [ -z "$errors" ]; then
  cat pan.log
  echo "run-model: pan gave no verdict" >&2
  exit 1
fi
if grep -q "max search depth too small" pan.log; then
  cat pan.log
  echo "run-model: the search was cut short (search depth); raise -m" >&2
  exit 1
fi

case "$expect" in
  pass)
    if [ "$errors" != 0 ]; then
      grep -m1 "assertion violated" pan.log || true
      echo "--- counterexample (spin -t $*) ---"
      "$spin" -t "$@" mfakit.pml | grep -E "MSC:|assertion" || true
      echo "run-model: expected no violation" >&2
      exit 1
    fi
    ;;
  violation:*)
    pattern="${expect#violation:}"
    if [ "$errors" = 0 ]; then
      echo "run-model: expected a violation matching '$pattern', found none" >&2
      exit 1
    fi
    found=$(grep -m1 "assertion violated" pan.log || true)
    echo "$found"
    echo "--- counterexample (spin -t $*) ---"
    "$spin" -t "$@" mfakit.pml | grep -E "MSC:|assertion" || true
    if ! grep -Eq -- "$pattern" <<<"$found"; then
      echo "run-model: the violation found is not the one expected ('$pattern')" >&2
      exit 1
    fi
    ;;
  *)
    echo "run-model: EXPECT must be pass or violation:REGEX" >&2
    exit 2
    ;;
esac
