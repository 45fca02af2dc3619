#!/usr/bin/env bash
# Runs the OTP benchmarks and prints the markdown table README shows.
#
#   tests/bench/run.sh                 # full run: 5 repetitions, about 4 minutes
#   tests/bench/run.sh --smoke         # a few seconds: every row once (CTest bench_smoke)
#
# Then the first self-test of fresh processes (self_test_cold.py: the default
# link and LD_BIND_NOW=1, and what it adds to the first operations), --cold-runs
# processes each (30; 2 in a smoke run; 0 leaves it out).
#
# Options: --build-dir DIR (default build/ci, the ci preset's; the binaries are
# DIR/tests/bench/mfakit_bench{,_evp}), --bench PATH, --bench-evp PATH,
# --repetitions N (5), --min-time SECONDS (0.2), --filter REGEX,
# --out-dir DIR (where the JSON and bench.md go; default a temp dir),
# --expect-peers a,b,c (rows that must be there; default liboath,libcotp,botan2),
# --python PATH, --cold-runs N, --fail-on-target (exit 2 when a speed target is missed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

build_dir="$root/build/ci"
bench="" bench_evp="" out_dir="" filter="" python="python3"
repetitions=5 min_time=0.2 smoke=0 fail_on_target="" cold_runs=""
expect_peers="liboath,libcotp,botan2"
cmdline="tests/bench/run.sh $*"
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --bench) bench="$2"; shift ;;
    --bench-evp) bench_evp="$2"; shift ;;
    --repetitions) repetitions="$2"; shift ;;
    --min-time) min_time="$2"; shift ;;
    --filter) filter="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --expect-peers) expect_peers="$2"; shift ;;
    --python) python="$2"; shift ;;
    --cold-runs) cold_runs="$2"; shift ;;
    --fail-on-target) fail_on_target="--fail-on-target" ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 64 ;;
  esac
  shift
done
bench="${bench:-$build_dir/tests/bench/mfakit_bench}"
bench_evp="${bench_evp:-$build_dir/tests/bench/mfakit_bench_evp}"
for b in "$bench" "$bench_evp"; do
  if [ ! -x "$b" ]; then
    echo "run.sh: $b not found; build it first (cmake --workflow --preset ci, or -DMFAKIT_BUILD_BENCHMARKS=ON)" >&2
    exit 1
  fi
done
if [ -z "$out_dir" ]; then
  out_dir="$(mktemp -d)"
  trap 'rm -rf "$out_dir"' EXIT
fi
mkdir -p "$out_dir"

args=(--benchmark_format=json)
if ((smoke)); then
  # every row once and briefly: this checks the correctness gates and the
  # report, not speed
  args+=(--benchmark_min_time=0.002 --benchmark_repetitions=1)
else
  args+=(--benchmark_min_time="$min_time" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true)
fi
if [ -n "$filter" ]; then args+=(--benchmark_filter="$filter"); fi

"$bench" "${args[@]}" --benchmark_out="$out_dir/bench.json" --benchmark_out_format=json >/dev/null
"$bench_evp" "${args[@]}" --benchmark_out="$out_dir/bench_evp.json" --benchmark_out_format=json >/dev/null

if [ -z "$cold_runs" ]; then
  if ((smoke)); then cold_runs=2; else cold_runs=30; fi
fi
report=(--expect-peers "$expect_peers" --command "$cmdline")
if ((cold_runs > 0)); then
  "$python" "$here/self_test_cold.py" --runs "$cold_runs" --json "$out_dir/self_test_cold.json" "$bench" \
    first first:bind-now added >/dev/null
  report+=(--cold "$out_dir/self_test_cold.json")
fi
if ((smoke)); then report+=(--smoke); fi
if [ -n "$fail_on_target" ]; then report+=("$fail_on_target"); fi
set +e
"$python" "$here/report.py" "${report[@]}" "$out_dir/bench.json" "$out_dir/bench_evp.json" | tee "$out_dir/bench.md"
status=${PIPESTATUS[0]}
set -e
exit "$status"
