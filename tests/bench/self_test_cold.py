#!/usr/bin/env python3
"""The first self-test of fresh processes: runs `BINARY --cold-self-test MODE`
(mfakit_bench, see self_test_bench.cpp) --runs times per configuration,
interleaved (so the load of a shared machine falls on every configuration
alike), and prints per timed field the median, 90th percentile, maximum and
minimum (µs), and the median count of minor page faults. A configuration is
MODE or MODE:bind-now (LD_BIND_NOW=1: every symbol resolved when the program
is loaded, as in a program linked with -z now; otherwise the dynamic linker
resolves each function at its first call, the default link).

  tests/bench/self_test_cold.py [--runs 30] [--json OUT] BINARY CONFIG...
  e.g. tests/bench/self_test_cold.py build/ci/tests/bench/mfakit_bench first first:bind-now added split
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run_once(binary, mode, bind_now):
    env = dict(os.environ)
    env.pop("LD_BIND_NOW", None)
    if bind_now:
        env["LD_BIND_NOW"] = "1"
    out = subprocess.run([binary, "--cold-self-test", mode], env=env, capture_output=True, text=True, check=True).stdout
    fields, prefix = [], ""
    for tok in out.split():
        if tok == "|":
            continue
        if tok.endswith(":"):
            prefix = tok
            continue
        name, val = tok.split("=")
        if "!FAIL" in val:
            sys.exit(f"{binary}: {name} failed")
        ns, flt = val.split("/")
        fields.append((prefix + name, int(ns), int(flt)))
    return fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("configs", nargs="+")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--json", help="write the summary here")
    args = ap.parse_args()
    configs = []
    for c in args.configs:
        spec, _, binary = c.partition("@")  # MODE[:bind-now][@OTHER_BINARY]: to compare two builds
        mode, _, opt = spec.partition(":")
        if opt not in ("", "bind-now"):
            sys.exit(f"unknown configuration {c}")
        configs.append((c, mode, opt == "bind-now", binary or args.binary))
    data = {c[0]: {} for c in configs}
    for _ in range(args.runs):
        for label, mode, bind_now, binary in configs:
            for name, ns, flt in run_once(binary, mode, bind_now):
                data[label].setdefault(name, []).append((ns, flt))
    summary = {}
    for label, mode, bind_now, _ in configs:
        print(f"{label}: {args.runs} processes, mode {mode}, "
              f"{'LD_BIND_NOW=1' if bind_now else 'lazy binding'}; µs")
        print(f"  {'':14} {'median':>8} {'p90':>8} {'max':>8} {'min':>8}  minflt")
        summary[label] = {}
        for name, vals in data[label].items():
            v = sorted(x[0] / 1e3 for x in vals)
            p90 = v[min(len(v) - 1, int(0.9 * len(v)))]
            flt = statistics.median(x[1] for x in vals)
            med = statistics.median(v)
            summary[label][name] = {"median_us": med, "p90_us": p90, "max_us": v[-1], "min_us": v[0],
                                    "minflt": flt, "runs": len(v)}
            print(f"  {name:14} {med:8.1f} {p90:8.1f} {v[-1]:8.1f} {v[0]:8.1f}  {flt:g}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"runs": args.runs, "load_avg": os.getloadavg(), "configs": summary}, f, indent=1)


if __name__ == "__main__":
    main()
