#!/usr/bin/env python3
"""Turns the JSON of mfakit_bench (and mfakit_bench_evp) into the markdown
tables README shows: absolute times, ratios to mfakit, the stated targets
and whether they are met.

Times are CPU times (per benchmark: the median of the repetitions when there
are any), so other processes on the machine inflate them less than wall
time. Exit status: 1 when a benchmark reported an error (a correctness gate
failed) or an expected row is missing; the targets only print a verdict
unless --fail-on-target is given (speed is never a CI test).
"""
import argparse
import json
import sys

ALGS = ["SHA1", "SHA256", "SHA512"]
ALG_TITLE = {"SHA1": "SHA-1", "SHA256": "SHA-256", "SHA512": "SHA-512"}
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# What each implementation does per call (from reading their sources / APIs).
NOTES = {
    "ours": "mfakit, lean engine (default): pad states kept, 2 compressions per candidate, no heap",
    "evp": "mfakit's EVP engine (detail::evp_counter_mac, the MFAKIT_USE_EVP_HMAC path): EVP_MAC keyed once, EVP_MAC_CTX_dup per candidate",
    "hmac_oneshot": "naive baseline: OpenSSL HMAC() per candidate (fetch + key schedule every time)",
    "liboath": "oath_totp_validate4 / oath_hotp_generate: full HMAC with key schedule per candidate",
    "libcotp": "get_totp_at x3 / get_hotp: base32 decode + gcrypt HMAC open/setkey per candidate, malloc'd string",
    "botan2": "Botan::TOTP/HOTP built per call (MAC lookup by name + key); HMAC re-absorbs the padded key: 4 compressions per candidate",
    "ours_evp_build": "cross-check: the library compiled with MFAKIT_USE_EVP_HMAC (mfakit_bench_evp)",
    "proto1_engine": "prototype step 1: new lean_counter_mac::mac (bswap stores, blocks laid out once, 1 wipe)",
    "proto2_in_place_key": "step 1 + key schedule built in place (no result<otp_key> moves)",
    "proto3_verify_loop": "steps 1-2 + one engine dispatch and scratch per verify, integer compare",
    "proto4_batched": "steps 1-3 + candidates computed 4 at a time (SHA-1/256) so compressions overlap",
}
PEERS = ["liboath", "libcotp", "botan2"]
MAIN_IMPLS = ["ours", "evp", "hmac_oneshot"] + PEERS
PROTO_IMPLS = ["proto1_engine", "proto2_in_place_key", "proto3_verify_loop", "proto4_batched"]
# Compressions a TOTP verify of a +-1 window needs: 2 for the key pads, 2 per candidate.
VERIFY_COMPRESSIONS = 8
VERIFY_TARGET = 1.5
BACKUP_SET_TARGET_MS = 300.0
BACKUP_GUESS_TARGET_MS = 30.0


def load(paths):
    rows, errors, context = {}, [], {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        for k, v in data.get("context", {}).items():
            context.setdefault(k, v)
        if "mfakit_hmac_engine" in data.get("context", {}):
            context.setdefault("engines", []).append(data["context"]["mfakit_hmac_engine"])
        singles = {}
        for b in data.get("benchmarks", []):
            name = b.get("run_name") or b["name"]
            if b.get("error_occurred"):
                errors.append(f"{name}: {b.get('error_message', 'error')}")
                continue
            scale = UNIT_NS[b.get("time_unit", "ns")]
            entry = {"ns": b["cpu_time"] * scale, "counters": {k: v for k, v in b.items() if isinstance(v, (int, float))}}
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    rows[name] = entry
            else:
                singles.setdefault(name, []).append(entry)
        for name, entries in singles.items():
            if name not in rows:  # no aggregates: the median of the runs
                entries.sort(key=lambda e: e["ns"])
                rows[name] = entries[len(entries) // 2]
    return rows, errors, context


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def get(rows, op, impl, alg):
    r = rows.get(f"{op}/{impl}/{alg}")
    return None if r is None else r["ns"]


def allocs(rows, op, impl):
    vals = []
    for alg in ALGS:
        r = rows.get(f"{op}/{impl}/{alg}")
        if r is not None and "allocs" in r["counters"]:
            vals.append(int(round(r["counters"]["allocs"])))
    if not vals:
        return "n/a"
    return str(vals[0]) if len(set(vals)) == 1 else "/".join(str(v) for v in vals)


def compare_table(rows, op, impls, title, ref="ours", show_allocs=True):
    present = [i for i in impls if any(get(rows, op, i, a) is not None for a in ALGS)]
    if not present:
        return []
    out = [f"**{title}**", ""]
    head = "| implementation | " + " | ".join(ALG_TITLE[a] for a in ALGS)
    head += " | heap allocs/op |" if show_allocs else " |"
    out.append(head + " what it does per call |")
    out.append("|---" * (len(ALGS) + 1 + (1 if show_allocs else 0) + 1) + "|")
    for impl in present:
        cells = []
        for alg in ALGS:
            t = get(rows, op, impl, alg)
            r = get(rows, op, ref, alg)
            if t is None:
                cells.append("–")
            elif r is None or impl == ref:
                cells.append(fmt_time(t))
            else:
                cells.append(f"{fmt_time(t)} ({t / r:.2f}x)")
        line = f"| {impl} | " + " | ".join(cells)
        line += f" | {allocs(rows, op, impl)} |" if show_allocs else " |"
        out.append(line + f" {NOTES.get(impl, '')} |")
    out.append("")
    return out


def compress(rows, alg):
    r = rows.get(f"compress/openssl/{alg}")
    return None if r is None else r["ns"]


def target_rows(rows):
    out, verdicts = [], []
    for alg in ALGS:
        c = compress(rows, alg)
        for impl, label in (("ours", "mfakit today"), ("proto4_batched", "with the proposed patch")):
            t = get(rows, "totp_verify", impl, alg)
            if c is None or t is None:
                continue
            ratio = t / (VERIFY_COMPRESSIONS * c)
            ok = ratio <= VERIFY_TARGET
            if impl == "ours":
                verdicts.append(ok)
            out.append(
                f"| TOTP verify {ALG_TITLE[alg]}, ±1, no match, key schedule included ({label}) "
                f"| {fmt_time(t)} = {ratio:.2f} × 8 compressions ({fmt_time(VERIFY_COMPRESSIONS * c)}) "
                f"| ≤ {VERIFY_TARGET}x | {'yes' if ok else '**NO**'} |")
    for name, label, limit in (("backup/digest_set10/default_cost", "backup codes: digest a set of 10", BACKUP_SET_TARGET_MS),
                               ("backup/match_guess/default_cost", "backup codes: check one guess (10 digests)", BACKUP_GUESS_TARGET_MS)):
        r = rows.get(name)
        if r is None:
            continue
        ms = r["ns"] / 1e6
        ok = ms <= limit
        verdicts.append(ok)
        out.append(f"| {label}, scrypt N=2^14 r=8 p=1, one core | {ms:.1f} ms | ≤ {limit:.0f} ms | {'yes' if ok else '**NO**'} |")
    if out:
        out = ["**Targets**", "", "| target | measured | limit | met |", "|---|---|---|---|"] + out + [""]
    return out, verdicts


def peer_ratio_table(rows):
    out = ["**Every implementation relative to mfakit** (time / mfakit's time; > 1 means mfakit is faster)", "",
           "| implementation | operation | " + " | ".join(ALG_TITLE[a] for a in ALGS) + " |",
           "|---|---|" + "---|" * len(ALGS)]
    any_row = False
    for op, label in (("totp_verify", "TOTP verify ±1, key schedule included"),
                      ("totp_verify_prepared", "TOTP verify ±1, prepared key"),
                      ("hotp", "HOTP generate, key schedule included"),
                      ("hotp_prepared", "HOTP generate, prepared key")):
        for impl in MAIN_IMPLS[1:]:
            cells = []
            for alg in ALGS:
                t, r = get(rows, op, impl, alg), get(rows, op, "ours", alg)
                cells.append("–" if t is None or r is None else f"{t / r:.2f}x")
            if all(c == "–" for c in cells):
                continue
            any_row = True
            out.append(f"| {impl} | {label} | " + " | ".join(cells) + " |")
    return (out + [""]) if any_row else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="+")
    ap.add_argument("--command", default="", help="the command line to print under the tables")
    ap.add_argument("--expect-peers", default="", help="comma-separated peers whose rows must be present")
    ap.add_argument("--smoke", action="store_true", help="only check the rows (timings of a smoke run mean nothing)")
    ap.add_argument("--fail-on-target", action="store_true")
    args = ap.parse_args()

    rows, errors, ctx = load(args.json)
    problems = list(errors)
    expected_impls = ["ours", "evp", "hmac_oneshot"] + [p for p in args.expect_peers.split(",") if p]
    for impl in expected_impls:
        for op in ("totp_verify", "hotp"):
            for alg in ALGS:
                if f"{op}/{impl}/{alg}" not in rows:
                    problems.append(f"missing row {op}/{impl}/{alg}")
    for alg in ALGS:
        if f"compress/openssl/{alg}" not in rows:
            problems.append(f"missing row compress/openssl/{alg}")
    for name in ("backup/digest_set10/default_cost", "backup/match_guess/default_cost"):
        if name not in rows:
            problems.append(f"missing row {name}")
    if "evp" in ctx.get("engines", []):
        for alg in ALGS:
            if f"totp_verify/ours_evp_build/{alg}" not in rows:
                problems.append(f"missing row totp_verify/ours_evp_build/{alg}")

    out = []
    if args.smoke:
        out.append(f"bench smoke run: {len(rows)} rows, peers: {ctx.get('peers', '') or 'none'}")
    else:
        out += ["### Benchmarks", ""]
        out.append(f"CPU time per operation, median of the repetitions. Machine: {ctx.get('num_cpus', '?')} CPUs at "
                   f"{ctx.get('mhz_per_cpu', '?')} MHz, load average at start {ctx.get('load_avg', '?')}; "
                   f"OpenSSL {ctx.get('openssl', '?')}; mfakit engine: {ctx.get('mfakit_hmac_engine', '?')}; "
                   f"peers: {ctx.get('peers', '') or 'none'}.")
        out.append("")
        tgt, _ = target_rows(rows)
        out += tgt
        out += compare_table(rows, "totp_verify", MAIN_IMPLS,
                             "TOTP verify, window ±1, wrong code, key schedule included (one verify from raw key bytes)")
        out += compare_table(rows, "totp_verify_prepared", ["ours", "evp", "botan2"],
                             "TOTP verify, window ±1, wrong code, key prepared once (otp_key / evp_counter_mac / Botan object)")
        out += compare_table(rows, "hotp", MAIN_IMPLS, "HOTP generate, key schedule included")
        out += compare_table(rows, "hotp_prepared", ["ours", "evp", "botan2"], "HOTP generate, key prepared once")
        out += compare_table(rows, "key_schedule", ["ours", "evp", "proto2_in_place_key"], "Key schedule alone (otp_key::make)")
        out += peer_ratio_table(rows)
        comp = [f"| {ALG_TITLE[a]} | {fmt_time(compress(rows, a))} | {fmt_time(8 * compress(rows, a))} |"
                for a in ALGS if compress(rows, a) is not None]
        if comp:
            out += ["**One block compression** (SHA1_Transform / SHA256_Transform on 64 bytes, SHA512_Transform on 128; "
                    "chained, so this is the latency of one compression)", "",
                    "| hash | one compression | 8 compressions |", "|---|---|---|"] + comp + [""]
        out += compare_table(rows, "totp_verify", ["ours"] + PROTO_IMPLS,
                             "Prototype of the proposed hmac.hpp/otp.hpp patch (tests/bench/proto_lean.hpp), TOTP verify ±1, key schedule included",
                             show_allocs=False)
        out += compare_table(rows, "totp_verify_prepared", ["ours"] + [p for p in PROTO_IMPLS if p != "proto2_in_place_key"],
                             "Prototype, TOTP verify ±1, prepared key", show_allocs=False)
        cross = []
        for op in ("totp_verify", "totp_verify_prepared", "hotp"):
            for alg in ALGS:
                a, b = get(rows, op, "evp", alg), get(rows, op, "ours_evp_build", alg)
                if a is not None and b is not None:
                    cross.append(f"| {op} {ALG_TITLE[alg]} | {fmt_time(a)} | {fmt_time(b)} |")
        if cross:
            out += ["**Cross-check of the evp rows** (bench copy of the verify loop over detail::evp_counter_mac, "
                    "against the library compiled with MFAKIT_USE_EVP_HMAC in mfakit_bench_evp)", "",
                    "| operation | evp (mfakit_bench) | ours_evp_build (mfakit_bench_evp) |", "|---|---|---|"] + cross + [""]
        parts = sorted(k for k in rows if k.startswith("part/"))
        if parts:
            out += ["**Pieces of a SHA-1 verify, timed alone**", "", "| piece | time |", "|---|---|"]
            out += [f"| {k.split('/')[1]} | {rows[k]['ns']:.1f} ns |" for k in parts] + [""]
        mem = [f"| sizeof(mfakit::otp_key) | {ctx['sizeof_otp_key']} bytes |"] if "sizeof_otp_key" in ctx else []
        for a in ALGS:
            if f"sizeof_lean_mac_{a}" in ctx:
                mem.append(f"| lean engine state, {ALG_TITLE[a]} (two pad states) | {ctx[f'sizeof_lean_mac_{a}']} bytes |")
        if "sizeof_evp_counter_mac" in ctx:
            mem.append(f"| sizeof(detail::evp_counter_mac) (+ its EVP_MAC_CTX on the heap) | {ctx['sizeof_evp_counter_mac']} bytes |")
        for impl in ("ours", "evp"):
            for op in ("totp_verify", "totp_verify_prepared"):
                r = rows.get(f"{op}/{impl}/SHA1")
                if r is not None and "allocs" in r["counters"]:
                    mem.append(f"| heap allocations per {op} ({impl}, SHA-1) | {int(r['counters']['allocs'])} "
                               f"(peak {int(r['counters'].get('heap_peak_B', 0))} bytes live) |")
        if mem:
            out += ["**Memory**", "", "| what | size |", "|---|---|"] + mem + [""]
        if args.command:
            out += ["Produced by:", "", "```", args.command, "```", ""]

    if problems:
        out.append("PROBLEMS:")
        out += [f"- {p}" for p in problems]
    print("\n".join(out))
    _, verdicts = target_rows(rows)
    if problems:
        return 1
    if args.fail_on_target and not all(verdicts):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
