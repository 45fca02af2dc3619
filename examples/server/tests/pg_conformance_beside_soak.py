#!/usr/bin/env python3
"""The PostgreSQL conformance runs at SERIALIZABLE and REPEATABLE READ beside
the PostgreSQL soak, on one cluster, repeated; prints every service check's
answers by kind, summed over the runs. Not part of CI (it takes N x ~35 s).

    pg_conformance_beside_soak.py BUILD_DIR [--runs 20] [--seconds 30] [--clients 64]
                                  [--two-process] [--hogs N] [--keep-going]

BUILD_DIR is a configured and built tree (examples ON) with
mfakit_postgresql_store_test and mfakit_demo_server. The cluster is the one CTest
starts for that tree (start-postgres.sh, the same port); it is started if it
is not running and left running. Each run starts the soak (the command of
demo_server_soak_postgres), and, while it runs, the two conformance test cases
one after the other, again and again until the soak ends (at least once
each). --two-process also runs demo_server_two_process_postgres's command
beside them, and --hogs N keeps N more processes spinning on the CPU
throughout (a busier machine: the soak alone keeps two cores busy). Exit
status 0 when every conformance run and every soak passed.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"serializable": "postgres store: conformance at SERIALIZABLE\\, 64 threads",
          "repeatable read": "postgres store: conformance at REPEATABLE READ\\, 64 threads"}
KINDS = ["success", "code_mismatch", "code_replayed", "already_enabled", "storage_failure", "storage_conflict", "other"]
LINE = re.compile(r"^answers: \[(?P<loop>[a-z_]+), trial (?P<trial>\d+)(?:, (?P<faults>[^\]]*))?\] (?P<check>[^:]+): "
                  r"(?P<rest>.*)$")


def cache_value(build, name):
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    sys.exit(f"{name} not in {build}/CMakeCache.txt")


def faults_kind(faults):
    if not faults:
        return "no faults"
    f = re.sub(r", seed \d+", "", faults)
    return f.replace("(thrown)", "").replace("(an error)", "").replace(" ,", ",").strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--two-process", action="store_true")
    ap.add_argument("--hogs", type=int, default=0, help="busy loops beside everything")
    ap.add_argument("--keep-going", action="store_true", help="do not stop at the first failed run")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    port = cache_value(build, "MFAKIT_DEMO_PG_PORT")
    pg_dir = f"/tmp/mfakit-pg-{port}"
    conninfo = f"host={pg_dir} port={port} dbname=mfakit_test user=postgres"
    server = os.path.join(build, "examples/server/mfakit_demo_server")
    test = os.path.join(build, "tests/stores/mfakit_postgresql_store_test")
    for exe in (server, test):
        if not os.access(exe, os.X_OK):
            sys.exit(f"not built: {exe}")
    subprocess.run(["bash", os.path.join(HERE, "start-postgres.sh"), pg_dir, port, "mfakit_test"], check=True)
    work = os.path.join(build, "examples/server/tests/beside-soak")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, MFAKIT_CONFORMANCE_ANSWERS="1")
    log = os.path.join(pg_dir, "server.log")
    log_start = os.path.getsize(log) if os.path.exists(log) else 0
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    try:
        return repeat(args, conninfo, server, test, work, env)
    finally:
        server_log_summary(log, log_start)
        for h in hogs:
            h.kill()
            h.wait()


def server_log_summary(path, start):
    """What the cluster logged meanwhile: errors by SQLSTATE class and
    statement, and the longest run of reads one backend had canceled with
    40001 less than 5 ms apart (the adapter runs a canceled read again at once,
    up to 8 times, then answers storage_failure)."""
    if not os.path.exists(path):
        return
    with open(path, errors="replace") as f:
        f.seek(start)
        lines = f.read().splitlines()
    errors = collections.Counter()
    reads = collections.defaultdict(list)  # backend -> times (ms) of canceled reads
    stamp = re.compile(r"^\S+ (\d+):(\d+):([\d.]+) \S+ \[(\d+)\] (ERROR|FATAL|STATEMENT|DETAIL):\s+(.*)$")
    last = {}
    for line in lines:
        m = stamp.match(line)
        if not m:
            continue
        h, mi, sec, pid, what, text = m.groups()
        ms = (int(h) * 3600 + int(mi) * 60 + float(sec)) * 1000
        if what in ("ERROR", "FATAL"):
            last[pid] = (what + ": " + re.sub(r"\d+", "N", text)[:80], ms)
        elif what == "STATEMENT" and pid in last:
            err, at = last.pop(pid)
            verb = text.split()[0]
            errors[(err, verb)] += 1
            if "could not serialize" in err and verb == "SELECT":
                reads[pid].append(at)
    longest = 0
    for times in reads.values():
        run = 1
        for a, b in zip(times, times[1:]):
            run = run + 1 if b - a < 5 else 1
            longest = max(longest, run)
        longest = max(longest, 1)
    print("cluster log meanwhile:")
    for (err, verb), n in sorted(errors.items(), key=lambda kv: -kv[1]):
        print(f"  {n:7d}  {err} [{verb}]")
    print(f"  longest run of one backend's reads canceled back to back: {longest}")


def repeat(args, conninfo, server, test, work, env):

    # (level, faults, check) -> kind -> sum; and the stored counts beside them
    sums = collections.defaultdict(lambda: collections.Counter())
    runs_of = collections.Counter()
    failed_runs = []
    soak_failures = 0
    for run in range(1, args.runs + 1):
        soak = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "soak_test.py"), "--server", server, "--workdir",
             os.path.join(work, f"soak-{run}"), "--store", f"postgres:{conninfo}", "--seconds", str(args.seconds),
             "--clients", str(args.clients)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        two = None
        if args.two_process:
            two = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "two_process_test.py"), "--server", server, "--workdir",
                 os.path.join(work, f"two-{run}"), "--store", f"postgres:{conninfo}"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)  # the soak's servers start and its clients log in
        rounds = 0
        while rounds == 0 or soak.poll() is None:
            for level, case in LEVELS.items():
                t0 = time.time()
                p = subprocess.run([test, case], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                runs_of[level] += 1
                for line in p.stdout.splitlines():
                    m = LINE.match(line)
                    if not m:
                        continue
                    key = (level, faults_kind(m.group("faults")), m.group("check"))
                    c = sums[key]
                    c["checks"] += 1
                    for kind in KINDS:
                        k = re.search(rf"\b{kind} (\d+)", m.group("rest"))
                        if k:
                            c[kind] += int(k.group(1))
                    f = re.search(r"failure count (\d+)", m.group("rest"))
                    if f:
                        c["failures counted"] += int(f.group(1))
                    h = re.search(r"(\d+) from the host's store", m.group("rest"))
                    if h:
                        c["host store errors"] += int(h.group(1))
                ok = p.returncode == 0
                soak_state = "soak running" if soak.poll() is None else "soak ended"
                print(f"run {run}: {level}: {'passed' if ok else 'FAILED'} in {time.time() - t0:.1f} s ({soak_state})",
                      flush=True)
                if not ok:
                    failed_runs.append((run, level))
                    for line in p.stdout.splitlines():
                        if "broken rule" in line or "FAILED" in line or "with expansion" in line:
                            print("    " + line)
            rounds += 1
        out, _ = soak.communicate()
        soak_ok = soak.returncode == 0 and "PASS:" in out
        if not soak_ok:
            soak_failures += 1
        print(f"run {run}: soak {'passed' if soak_ok else 'FAILED'}: {out.strip().splitlines()[-1] if out else ''}",
              flush=True)
        if two is not None:
            out2, _ = two.communicate()
            verdict = [x for x in out2.splitlines() if x.startswith("PASS:") or "FAIL" in x or "Traceback" in x]
            two_ok = two.returncode == 0 and any(x.startswith("PASS:") for x in verdict)
            if not two_ok:
                soak_failures += 1
            print(f"run {run}: two processes {'passed' if two_ok else 'FAILED'}: {'; '.join(verdict)}", flush=True)
        if failed_runs and not args.keep_going:
            break

    print()
    print(f"conformance runs: {dict(runs_of)}; failed: {failed_runs or 'none'}; "
          f"soak and two-process runs failed: {soak_failures}")
    print("answers by kind, summed over the runs (level | faults | check):")
    for key in sorted(sums):
        c = sums[key]
        kinds = ", ".join(f"{k} {c[k]}" for k in KINDS if c[k])
        extra = "".join(f"; {k} {c[k]}" for k in ("failures counted", "host store errors") if k in c)
        print(f"  {key[0]} | {key[1]} | {key[2]} (x{c['checks']}): {kinds}{extra}")
    return 0 if not failed_runs and soak_failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
