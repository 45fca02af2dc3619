#!/usr/bin/env python3
"""Turns the JSON of mfakit_bench (and mfakit_bench_evp) into the markdown
tables README shows: absolute times, ratios to mfakit, the stated targets
and whether they are met.

Times are CPU times (per benchmark: the median of the repetitions when there
are any), so other processes on the machine inflate them less than wall
time. The one exception is thread scaling, which only wall time shows
(operations per second of all threads together); it is printed next to the
same ratio for a control that shares nothing (a bare verify_totp), which
tells how much of the second core the machine actually gave. Exit status: 1 when a benchmark reported an error (a correctness gate
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
}
PEERS = ["liboath", "libcotp", "botan2"]
MAIN_IMPLS = ["ours", "evp", "hmac_oneshot"] + PEERS
# Compressions a TOTP verify of a +-1 window needs: 2 for the key pads, 2 per candidate.
VERIFY_COMPRESSIONS = 8
VERIFY_TARGET = 1.5
BACKUP_SET_TARGET_MS = 300.0
BACKUP_GUESS_TARGET_MS = 30.0

# The flow through mfakit::service (flow_bench.cpp); each on 1 and 2 threads.
FLOW_THREADS = [1, 2]
FLOW_OPS = [
    ("flow/verify", "service::verify, TOTP accepted: load, decode, unseal (AES-256-GCM), verify, encode, compare-and-swap"),
    ("flow/verify_plaintext_box", "flow/verify through a service storing secrets unsealed (secret_box::unsafe_plaintext()): "
                                  "the difference is what sealing costs"),
    ("flow/unseal", "secret_box::open_into alone: AES-256-GCM through EVP, round robin over the users' sealed secrets"),
    ("flow/complete_login", "begin_login + complete_login, TOTP accepted (challenge created, spent, deleted)"),
    ("flow/enable", "service::enable on a pending user: unseal, verify, 10 backup codes digested at scrypt N=16 r=1 p=1"),
    ("flow/verify_totp_bare", "mfakit::verify_totp from raw key bytes, SHA-1, ±1, accepted: the reference and the control"),
]
FLOW_REFERENCE = "flow/verify_totp_bare"
FLOW_VERIFY_TARGET = 3.0      # service verify / bare verify, CPU time, 1 thread (the plain form)
FLOW_VERIFY_UNSEAL_TARGET = 3.0  # service verify / (bare verify + one unseal): the form with one unseal
FLOW_VERIFY_ABSOLUTE_NS = 1000.0  # a step-up verify through the service within 1.0 µs
FLOW_SCALING_TARGET = 0.9     # (2-thread / 1-thread ops/s) relative to the control's
FLOW_CONTROL_MIN = 1.5        # below this the machine did not give a second core: not measurable
RECORD_BYTES_TARGET = 512
SELF_TEST_ROW = "self_test/run"
SELF_TEST_TARGET_US = 100.0  # the known-answer self-test under 100 µs
RECORD_ROW = "flow/record_bytes"
RECORD_COUNTERS = [("account_SHA1_B", "account record, enabled, SHA-1 (20-byte secret), 10 backup codes"),
                   ("account_SHA512_B", "account record, enabled, SHA-512 (64-byte secret), 10 backup codes"),
                   ("challenge_B", "login challenge record")]


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
            entry = {"ns": b["cpu_time"] * scale, "real_ns": b["real_time"] * scale,
                     "counters": {k: v for k, v in b.items() if isinstance(v, (int, float))}}
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
        t = get(rows, "totp_verify", "ours", alg)
        if c is None or t is None:
            continue
        ratio = t / (VERIFY_COMPRESSIONS * c)
        ok = ratio <= VERIFY_TARGET
        verdicts.append(ok)
        out.append(
            f"| TOTP verify {ALG_TITLE[alg]}, ±1, no match, key schedule included "
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
        c = r["counters"]
        cost = (f"scrypt N=2^{int(c['scrypt_N']).bit_length() - 1} r={int(c.get('scrypt_r', 0))} p=1"
                if "scrypt_N" in c else "default cost")
        out.append(f"| {label}, {cost}, one core | {ms:.1f} ms | ≤ {limit:.0f} ms | {'yes' if ok else '**NO**'} |")
    f_out, f_verdicts = flow_target_rows(rows)
    out += f_out
    verdicts += f_verdicts
    if out:
        out = ["**Targets**", "", "| target | measured | limit | met |", "|---|---|---|---|"] + out + [""]
    return out, verdicts


def flow_row(rows, op, threads):
    return rows.get(f"{op}/threads:{threads}")


def flow_scaling(rows, op):
    """ops/s (wall clock, all threads) at 2 threads over 1 thread."""
    one, two = flow_row(rows, op, 1), flow_row(rows, op, 2)
    if one is None or two is None or not two["real_ns"]:
        return None
    return one["real_ns"] / two["real_ns"]


def flow_target_rows(rows):
    out, verdicts = [], []
    svc, bare = flow_row(rows, "flow/verify", 1), flow_row(rows, FLOW_REFERENCE, 1)
    if svc is not None and bare is not None:
        ratio = svc["ns"] / bare["ns"]
        ok = ratio <= FLOW_VERIFY_TARGET
        verdicts.append(ok)
        parts = ""
        plain, unseal = flow_row(rows, "flow/verify_plaintext_box", 1), flow_row(rows, "flow/unseal", 1)
        if plain is not None:
            parts += (f"; with secrets stored unsealed {fmt_time(plain['ns'])} = {plain['ns'] / bare['ns']:.2f}x, "
                      f"so sealing adds {fmt_time(svc['ns'] - plain['ns'])} = "
                      f"{(svc['ns'] - plain['ns']) / bare['ns']:.2f}x")
        if unseal is not None:
            parts += f" (an AES-256-GCM open alone, in a loop: {fmt_time(unseal['ns'])} = {unseal['ns'] / bare['ns']:.2f}x)"
        out.append(f"| login verify through the service (service::verify: load, unseal, verify, compare-and-swap), "
                   f"1 thread, against a bare verify_totp (SHA-1, ±1, key schedule included) "
                   f"| {fmt_time(svc['ns'])} / {fmt_time(bare['ns'])} = {ratio:.2f}x{parts} | ≤ {FLOW_VERIFY_TARGET:.0f}x "
                   f"| {'yes' if ok else '**NO**'} |")
        if unseal is not None:
            both = bare["ns"] + unseal["ns"]
            r2 = svc["ns"] / both
            ok2 = r2 <= FLOW_VERIFY_UNSEAL_TARGET
            verdicts.append(ok2)
            out.append(f"| the same against a bare verify_totp plus one unseal (the form with one unseal) "
                       f"| {fmt_time(svc['ns'])} / ({fmt_time(bare['ns'])} + {fmt_time(unseal['ns'])}) = {r2:.2f}x "
                       f"| ≤ {FLOW_VERIFY_UNSEAL_TARGET:.0f}x | {'yes' if ok2 else '**NO**'} |")
        ok3 = svc["ns"] <= FLOW_VERIFY_ABSOLUTE_NS
        verdicts.append(ok3)
        out.append(f"| the same in absolute time (depends on the machine: compare the bare verify with "
                   f"README's OTP table) | {fmt_time(svc['ns'])} | ≤ {fmt_time(FLOW_VERIFY_ABSOLUTE_NS)} "
                   f"| {'yes' if ok3 else '**NO**'} |")
    ctl = flow_scaling(rows, FLOW_REFERENCE)
    for op, label in (("flow/verify", "login verify (service::verify) scales to both cores"),
                      ("flow/complete_login", "the same for a full login (begin_login + complete_login)")):
        s = flow_scaling(rows, op)
        if s is None or ctl is None:
            continue
        rel = s / ctl
        if ctl < FLOW_CONTROL_MIN:
            verdict, ok = f"not measurable: the machine gave the control only {ctl:.2f}x", False
        else:
            ok = rel >= FLOW_SCALING_TARGET
            verdict = "yes" if ok else "**NO**"
        verdicts.append(ok)
        out.append(f"| {label}: ops/s (wall clock) at 2 threads / 1 thread, against the same "
                   f"ratio of a bare verify_totp (shares nothing) in the same run "
                   f"| {s:.2f}x, control {ctl:.2f}x: {rel:.2f} of the control "
                   f"| ≥ {FLOW_SCALING_TARGET} of the control | {verdict} |")
    rec = rows.get(RECORD_ROW)
    if rec is not None:
        for counter, label in RECORD_COUNTERS:
            if counter in rec["counters"]:
                n = int(rec["counters"][counter])
                ok = n < RECORD_BYTES_TARGET
                verdicts.append(ok)
                out.append(f"| stored {label} | {n} bytes | < {RECORD_BYTES_TARGET} bytes | {'yes' if ok else '**NO**'} |")
    return out, verdicts


def flow_table(rows):
    present = [(op, what) for op, what in FLOW_OPS if any(flow_row(rows, op, t) for t in FLOW_THREADS)]
    if not present:
        return []
    bare = flow_row(rows, FLOW_REFERENCE, 1)
    out = ["**The flow through mfakit::service** (memory_store, AES-256-GCM secret_box, default throttle, an audit hook; "
           "one service shared by the threads, distinct users per thread). CPU time per operation (at 2 threads: the "
           "CPU of both threads over all their operations); ops/s: wall clock, both threads together; vcsw / ivcsw: "
           "voluntary (blocked) / involuntary (preempted) context switches per 1000 operations at 2 threads", "",
           "| operation | CPU 1 thread | CPU 2 threads | ops/s 1 thread | ops/s 2 threads | 2 / 1 threads "
           "| vs bare verify (CPU, 1 thread) | heap allocs/op | vcsw / ivcsw per 1000 ops | what |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for op, what in present:
        one, two = flow_row(rows, op, 1), flow_row(rows, op, 2)
        cells = [fmt_time(r["ns"]) if r else "–" for r in (one, two)]
        cells += [f"{1e9 / r['real_ns']:,.0f}" if r and r["real_ns"] else "–" for r in (one, two)]
        s = flow_scaling(rows, op)
        cells.append("–" if s is None else f"{s:.2f}x")
        cells.append(f"{one['ns'] / bare['ns']:.2f}x" if one and bare else "–")
        cells.append(str(int(round(one["counters"]["allocs"]))) if one and "allocs" in one["counters"] else "n/a")
        if two and "vcsw_per_kop" in two["counters"]:
            cells.append(f"{two['counters']['vcsw_per_kop']:.2f} / {two['counters'].get('ivcsw_per_kop', 0):.2f}")
        else:
            cells.append("–")
        out.append(f"| {op} | " + " | ".join(cells) + f" | {what} |")
    out.append("")
    return out


def record_table(rows):
    rec = rows.get(RECORD_ROW)
    if rec is None:
        return []
    c = rec["counters"]
    out = ["**Stored records** (records.hpp encode(); user id a 36-character UUID; backup codes at "
           "backup_code_hasher::default_cost)", "", "| record | bytes |", "|---|---|"]
    for counter, label in RECORD_COUNTERS:
        if counter in c:
            out.append(f"| {label} | {int(c[counter])} |")
    for counter, label in (("account_key_B", "store key of an account (mfakit/account/ + hex user id)"),
                           ("challenge_key_B", "store key of a challenge (mfakit/challenge/ + SHA-256 of the token)")):
        if counter in c:
            out.append(f"| {label} | {int(c[counter])} |")
    out.append(f"| decode + encode of the SHA-1 account record (the codec work of one verify) | {fmt_time(rec['ns'])}"
               + (f", {int(round(c['allocs']))} heap allocs |" if "allocs" in c else " |"))
    out.append("")
    return out


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


COLD_ROWS = (  # (configuration, field, what): tests/bench/self_test_cold.py, see tests/bench/README.md
    ("first", "first", "first self_test() of a fresh process, default link (symbols bound lazily, at their first call)"),
    ("first:bind-now", "first", "the same with LD_BIND_NOW=1 (as a program linked with -z now: symbols bound at load)"),
    ("added", "added", "what it adds to a process's first operations: self_test() after the library's primitives "
                       "were used once (first_use below)"),
    ("added", "first_use", "for reference: the library's first operations without a self-test (an HMAC per hash, "
                           "a GCM pool keyed + seal + open, one scrypt N=16, one random draw)"),
    ("first", "openssl_init", "for reference: OpenSSL's own lazy initialisation before each of the above "
                              "(AES-256-GCM fetch, RAND_bytes, scrypt), paid with or without a self-test"),
)


def cold_verdict(med, mx):
    if mx <= SELF_TEST_TARGET_US:
        return "met"
    if med <= SELF_TEST_TARGET_US:
        return "median only"
    return "**NOT met**"


def self_test_table(rows, cold):
    r = rows.get(SELF_TEST_ROW)
    if r is None:
        return []
    us = r["ns"] / 1e3
    out = ["**Self-test** (self_test.hpp: HMAC-SHA-1/256/512 one-counter and batch paths, AES-256-GCM seal + open + "
           "forged tag, scrypt N=16 r=1 p=1, two CSPRNG draws)", "",
           "| what | median | p90 | max | target ≤ 100 µs |", "|---|---|---|---|---|",
           f"| {SELF_TEST_ROW}: every check again, warm process (CPU time, median of the repetitions) | "
           f"{fmt_time(r['ns'])} | | | {'met' if us <= SELF_TEST_TARGET_US else '**NOT met**'} |"]
    if cold:
        runs = cold.get("runs", "?")
        for config, field, label in COLD_ROWS:
            c = cold["configs"].get(config, {}).get(field)
            if c is None:
                continue
            target = cold_verdict(c["median_us"], c["max_us"]) if field in ("first", "added") else ""
            out.append(f"| {label} | {fmt_time(c['median_us'] * 1e3)} | {fmt_time(c['p90_us'] * 1e3)} | "
                       f"{fmt_time(c['max_us'] * 1e3)} | {target} |")
        load = cold.get("load_avg")
        out += ["", f"Cold rows: {runs} fresh processes of `mfakit_bench --cold-self-test` per configuration, "
                    f"interleaved, wall clock (steady_clock) around the call"
                    + (f"; load average {load[0]:.2f} when they finished" if load else "") + "."]
    return out + [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="+")
    ap.add_argument("--command", default="", help="the command line to print under the tables")
    ap.add_argument("--expect-peers", default="", help="comma-separated peers whose rows must be present")
    ap.add_argument("--smoke", action="store_true", help="only check the rows (timings of a smoke run mean nothing)")
    ap.add_argument("--fail-on-target", action="store_true")
    ap.add_argument("--cold", help="the JSON of tests/bench/self_test_cold.py (the first self-test of fresh processes)")
    args = ap.parse_args()

    rows, errors, ctx = load(args.json)
    problems = list(errors)
    cold = None
    if args.cold:
        with open(args.cold, encoding="utf-8") as f:
            cold = json.load(f)
        for config, field, _ in COLD_ROWS:
            if field not in cold.get("configs", {}).get(config, {}):
                problems.append(f"self_test_cold.py: missing {config} {field}")
    expected_impls = ["ours", "evp", "hmac_oneshot"] + [p for p in args.expect_peers.split(",") if p]
    for impl in expected_impls:
        for op in ("totp_verify", "hotp"):
            for alg in ALGS:
                if f"{op}/{impl}/{alg}" not in rows:
                    problems.append(f"missing row {op}/{impl}/{alg}")
    for alg in ALGS:
        if f"compress/openssl/{alg}" not in rows:
            problems.append(f"missing row compress/openssl/{alg}")
    for name in ("backup/digest_set10/default_cost", "backup/match_guess/default_cost", SELF_TEST_ROW):
        if name not in rows:
            problems.append(f"missing row {name}")
    for op, _ in FLOW_OPS:
        for t in FLOW_THREADS:
            if f"{op}/threads:{t}" not in rows:
                problems.append(f"missing row {op}/threads:{t}")
    if RECORD_ROW not in rows:
        problems.append(f"missing row {RECORD_ROW}")
    else:
        for counter, _ in RECORD_COUNTERS:
            if counter not in rows[RECORD_ROW]["counters"]:
                problems.append(f"missing counter {counter} of {RECORD_ROW}")
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
        out += compare_table(rows, "key_schedule", ["ours", "evp"], "Key schedule alone (otp_key::make)")
        out += peer_ratio_table(rows)
        out += flow_table(rows)
        out += record_table(rows)
        out += self_test_table(rows, cold)
        comp = [f"| {ALG_TITLE[a]} | {fmt_time(compress(rows, a))} | {fmt_time(8 * compress(rows, a))} |"
                for a in ALGS if compress(rows, a) is not None]
        if comp:
            out += ["**One block compression** (SHA1_Transform / SHA256_Transform on 64 bytes, SHA512_Transform on 128; "
                    "chained, so this is the latency of one compression)", "",
                    "| hash | one compression | 8 compressions |", "|---|---|---|"] + comp + [""]
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
