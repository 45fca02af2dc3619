#!/usr/bin/env bash
# CTest fuzz_run_long_merge: run-long.sh must report an input that only the
# merge build's sanitizer catches, keep it, and exit non-zero.
#
# A campaign may fuzz with a UBSan-only build and merge with the ASan one
# (--merge-build-dir). libFuzzer's -merge=1 outlives a crash: it restarts
# past the input and exits 0. Before this test's fix, run-long.sh then said
# "ok", replaced the corpus with the merged set (without that input) and kept
# no artifact. Here a toy harness overflows the heap by one byte on inputs
# that start "BUG": ASan reports it, a UBSan-only build runs on.
#
#   tests/fuzz/run_long_test.sh CLANGXX
# Runs in a throwaway directory; never touches tests/fuzz/corpus.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cxx="${1:-clang++}"
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/root/tests/fuzz/corpus/toy" "$t/ubsan/tests/fuzz" "$t/asan/tests/fuzz" "$t/cwd"
cp "$here/run-long.sh" "$t/root/tests/fuzz/run-long.sh"
cat > "$t/toy.cpp" <<'CPP'
#include <cstdint>
#include <cstdlib>
#include <cstring>
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) {
  if (n >= 3 && std::memcmp(d, "BUG", 3) == 0) {
    auto* p = static_cast<volatile char*>(std::malloc(4));
    volatile char c = p[4];
    (void)c;
    std::free(const_cast<char*>(p));
  }
  return 0;
}
CPP
"$cxx" -g -O1 -fsanitize=fuzzer,undefined -fno-sanitize-recover=all "$t/toy.cpp" -o "$t/ubsan/tests/fuzz/fuzz_toy"
"$cxx" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all "$t/toy.cpp" -o "$t/asan/tests/fuzz/fuzz_toy"
printf 'hello' > "$t/root/tests/fuzz/corpus/toy/seed-ok"
printf 'BUG!' > "$t/root/tests/fuzz/corpus/toy/seed-bug"

cd "$t/cwd"
set +e
"$t/root/tests/fuzz/run-long.sh" 0.001 --build-dir "$t/ubsan" --merge-build-dir "$t/asan" --until-total 2000 > "$t/run.log" 2>&1
rc=$?
set -e
row=$(grep '^| toy' "$t/run.log" | tail -1 || true)
echo "run-long.sh exit status $rc; its row: $row"
fail=0
[ "$rc" != 0 ] || { echo "FAIL: exit status 0 although the merge crashed"; fail=1; }
[[ "$row" == *CRASH* ]] || { echo "FAIL: the row does not say CRASH"; fail=1; }
grep -lq '^BUG' "$t/root/tests/fuzz/corpus/toy"/* || { echo "FAIL: the crashing input left the corpus"; fail=1; }
[ -n "$(find "$t/ubsan/tests/fuzz/artifacts-long" -name 'toy-merge-crash-*' 2>/dev/null)" ] ||
  { echo "FAIL: no crash artifact in artifacts-long/"; fail=1; }
[ -z "$(ls "$t/cwd")" ] || { echo "FAIL: stray files in the caller's directory: $(ls "$t/cwd")"; fail=1; }
((fail == 0)) && echo "run_long_test: ok"
exit $fail
