#!/usr/bin/env bash
# Long fuzzing runs: every harness in turn, an equal share of HOURS each,
# starting from its committed corpus (tests/fuzz/corpus/<name>); then the
# corpus and what the run found are merged and minimised (-merge=1) and
# written back to tests/fuzz/corpus/<name>. Prints executions and coverage per
# harness, and adds the executions to tests/fuzz/executions.tsv (the running
# total README.md quotes). Crashes go to <build>/tests/fuzz/artifacts-long/.
#
#   tests/fuzz/run-long.sh HOURS [--build-dir DIR] [--merge-build-dir DIR]
#                          [--only a,b,...] [--until-total N]
#
# DIR defaults to build/fuzz (cmake --preset fuzz && cmake --build --preset
# fuzz). HOURS may be a fraction (0.05 = 3 minutes in all). --until-total N
# stops each harness once its running total reaches N executions (HOURS is
# then a cap; a harness already there is skipped). --merge-build-dir runs the
# merge with other binaries: a fast campaign fuzzes with a UBSan-only build
# (-DMFAKIT_FUZZ_SANITIZERS=undefined) and merges with the ASan + UBSan one,
# so every input the run kept is replayed under ASan. fuzz_service_model
# stops at any broken invariant (MFAKIT_FUZZ_TOLERATE, comma-separated, lists
# invariants to count instead; empty by default). Runs under nice.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if (($# < 1)) || ! [[ "$1" =~ ^[0-9]*\.?[0-9]+$ ]]; then
  sed -n '2,16p' "$0" >&2
  exit 64
fi
hours="$1"; shift
build_dir="$root/build/fuzz" merge_dir="" only="" until_total=0
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$2"; shift ;;
    --merge-build-dir) merge_dir="$2"; shift ;;
    --only) only=",$2,"; shift ;;
    --until-total) until_total="$2"; shift ;;
    *) echo "run-long.sh: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done
bin_dir="$build_dir/tests/fuzz"
merge_bin_dir="${merge_dir:-$build_dir}/tests/fuzz"
for d in "$bin_dir" "$merge_bin_dir"; do
  [ -d "$d" ] || { echo "run-long.sh: $d not found (cmake --preset fuzz && cmake --build --preset fuzz)" >&2; exit 1; }
done
[[ "$until_total" =~ ^[0-9]+$ ]] || { echo "run-long.sh: --until-total needs a whole number" >&2; exit 64; }

names=()
for c in "$here"/corpus/*/; do
  n="$(basename "$c")"
  [ -n "$only" ] && [[ "$only" != *",$n,"* ]] && continue
  if [ -x "$bin_dir/fuzz_$n" ] && [ -x "$merge_bin_dir/fuzz_$n" ]; then names+=("$n"); else echo "run-long.sh: fuzz_$n not built, skipped" >&2; fi
done
((${#names[@]})) || { echo "run-long.sh: no harness to run" >&2; exit 1; }
share=$(awk -v h="$hours" -v n="${#names[@]}" 'BEGIN { s = int(h * 3600 / n); print (s < 10 ? 10 : s) }')
artifacts="$bin_dir/artifacts-long"
mkdir -p "$artifacts"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
totals="$here/executions.tsv"
[ -f "$totals" ] || printf 'harness\texecutions\truns\tlast_run\tasan_executions\n' > "$totals"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
tolerate="${MFAKIT_FUZZ_TOLERATE:-}"  # the authorship invariants hold since the write-id fix: nothing tolerated

echo "run-long.sh: ${#names[@]} harnesses, ${share} s each ($(date -u +%Y-%m-%dT%H:%MZ))"
rows=()
for n in "${names[@]}"; do
  corpus="$here/corpus/$n" work="$tmp/$n-work" merged="$tmp/$n-merged" log="$tmp/$n.log"
  mkdir -p "$work" "$merged"
  before=$(find "$corpus" -type f | wc -l)
  env_extra=()
  [ "$n" = service_model ] && env_extra=(MFAKIT_FUZZ_TOLERATE="$tolerate")
  status=ok
  runs=()
  if ((until_total > 0)); then
    done_so_far=$(awk -v n="$n" -F'\t' '$1 == n { print $2 }' "$totals")
    left=$((until_total - ${done_so_far:-0}))
    if ((left <= 0)); then echo "run-long.sh: $n has ${done_so_far} executions already, skipped"; continue; fi
    runs=(-runs="$left")
  fi
  if ! env "${env_extra[@]}" nice -n 10 "$bin_dir/fuzz_$n" "${runs[@]}" -max_total_time="$share" -timeout=25 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$n-" "$work" "$corpus" > "$log" 2>&1; then
    status="CRASH: $(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | awk '{print $2}')
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 | awk '{print $3 " / " $5}')
  tolerated=$(grep -o 'tolerated model violation: .* x [0-9]*' "$log" | sed 's/tolerated model violation: //' | paste -sd';' - || true)
  # minimise: the committed corpus and this run's finds, into one minimal set.
  # libFuzzer's merge outlives a crash (it restarts past the input and exits
  # 0), so a sanitizer report or a restart in its log is a failure here: the
  # input is in artifacts-long/, the log beside it, and the corpus stays as
  # it was (with --merge-build-dir this is where ASan replays the run's finds)
  merge_log="$artifacts/$n-merge.log"
  if ! env "${env_extra[@]}" nice -n 10 "$merge_bin_dir/fuzz_$n" -merge=1 -timeout=25 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/$n-merge-" "$merged" "$corpus" "$work" > "$merge_log" 2>&1 ||
     grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|deadly signal|MERGE-OUTER: attempt [2-9]|fuzz check failed' "$merge_log"; then
    status="CRASH in the merge ($(basename "$merge_log"), inputs in artifacts-long/)"
  elif [ "$(find "$merged" -type f | wc -l)" -gt 0 ]; then
    find "$corpus" -type f -delete
    cp "$merged"/* "$corpus"/
    rm -f "$merge_log"
  fi
  after=$(find "$corpus" -type f | wc -l)
  execs=${execs:-0}
  # executions = all of them; asan_executions = those under ASan + UBSan (the
  # rest ran under UBSan only, and what they kept was replayed by the merge)
  asan=0
  grep -q __asan_init "$bin_dir/fuzz_$n" && asan=$execs
  # two runs at once (say, --only a and --only b) update the totals in turn
  # (the same harness must not run twice at once: its corpus is rewritten)
  exec 9> "/tmp/mfakit-fuzz-totals-$(id -u).lock"
  flock 9
  awk -v n="$n" -v e="$execs" -v a="$asan" -v d="$(date -u +%Y-%m-%d)" 'BEGIN { FS = OFS = "\t"; found = 0 }
    NR == 1 { print; next }
    $1 == n { $2 += e; $3 += 1; $4 = d; $5 += a; found = 1 }
    { print }
    END { if (!found) print n, e, 1, d, a }' "$totals" > "$tmp/totals" && cp "$tmp/totals" "$totals"
  flock -u 9
  total=$(awk -v n="$n" -F'\t' '$1 == n { print $2 }' "$totals")
  sanitizers=$([ "$asan" = 0 ] && echo UBSan || echo ASan+UBSan)
  row="| $n | $sanitizers | $share | $execs | ${rate:-?} | ${cov:-?} | $before -> $after | $total | $status${tolerated:+ (tolerated: $tolerated)} |"
  echo "$row"
  rows+=("$row")
done

echo
echo "| harness | fuzzed under | seconds (cap) | executions | exec/s | cov / ft | corpus files | executions in total | result |"
echo "|---|---|---:|---:|---:|---|---|---:|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Corpora written back to tests/fuzz/corpus/; totals in tests/fuzz/executions.tsv. Commit both."
if printf '%s\n' "${rows[@]}" | grep -q CRASH; then
  echo "run-long.sh: a harness crashed: see $artifacts" >&2
  exit 1
fi
