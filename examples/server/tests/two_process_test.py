#!/usr/bin/env python3
"""Two server processes on one database (SQLite file or PostgreSQL), as
behind a load balancer: same database, sealing key, JWT secret and clock.

  - a user given to only one process logs in on the other (users in the db);
  - a JWT from one is accepted by the other; setup on one, enable on the other;
  - a refresh token issued by one is rotated by the other, and its reuse on
    the first revokes the family;
  - a logout on one ends the token on the other (within the session cache's
    1 s, which the test waits out);
  - 32 + 32 parallel verifies with one backup code, half on each process:
    exactly one 200; the same with one TOTP code; no 5xx.

    two_process_test.py --server PATH [--store sqlite | postgres:CONNINFO] [--workdir DIR]
"""
import argparse
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Server, Clock, check, expect, totp  # noqa: E402


def parallel(calls):
    results = [None] * len(calls)

    def run(i):
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def run(a, b, clock, users):
    (ea, pa), (eb, pb) = users["shared"], users["only_b"]
    # a user only process B was started with can log in on A: users live in the database
    other = expect(a.request("POST", "/api/auth", {"email": eb, "password": pb}), 200, "login on A of B's user")
    expect(b.request("GET", "/api/v1/me/mfa/status", token=other["token"]), 200, "B accepts A's token")

    body = expect(a.request("POST", "/api/auth", {"email": ea, "password": pa}), 200, "login on A")
    token, refresh = body["token"], body["refresh_token"]
    expect(b.request("GET", "/api/v1/me/mfa/status", token=token), 200, "A's token on B")
    secret = expect(b.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 200, "setup on B")["secret"]
    codes = expect(a.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, clock.now())}, token=token),
                   200, "enable on A with B's secret")["backupCodes"]
    clock.advance(30)
    for srv, name in ((a, "A"), (b, "B")):
        st = expect(srv.request("GET", "/api/v1/me/mfa/status", token=token), 200, f"status on {name}")
        check(st["totpEnabled"] and st["backupCodesRemaining"] == 10, f"{name} sees TOTP enabled: {st}")

    # refresh: issued by A, rotated by B, reuse on A revokes the family
    body = expect(b.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 200, "B rotates A's refresh token")
    expect(a.request("GET", "/api/v1/me/mfa/status", token=body["token"]), 200, "A accepts B's new token")
    expect(a.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 401, "reuse of the old one on A")
    expect(b.request("POST", "/api/auth/refresh", {"refresh_token": body["refresh_token"]}), 401,
           "the family is revoked on B too")

    time.sleep(1.2)
    expect(b.request("GET", "/api/v1/me/mfa/status", token=body["token"]), 401,
           "the revoked family's access token too, on B after the cache second")

    # logout on A ends the token on B (B may trust its cache for up to 1 s)
    gone = other["token"]
    expect(b.request("GET", "/api/v1/me/mfa/status", token=gone), 200, "B has seen the token")
    expect(a.request("POST", "/api/auth/logout", token=gone), 200, "logout on A")
    expect(a.request("GET", "/api/v1/me/mfa/status", token=gone), 401, "dead on A at once")
    time.sleep(1.2)
    expect(b.request("GET", "/api/v1/me/mfa/status", token=gone), 401, "dead on B after the cache second")

    # 32 + 32 verifies with one backup code: exactly one wins
    def challenges(n):
        got = parallel([lambda i=i: (a if i % 2 else b).request("POST", "/api/auth", {"email": ea, "password": pa})
                        for i in range(n)])
        for r in got:
            check(r[0] == 200 and r[1].get("mfa_required"), f"a challenge: {r[0]} {r[1]}")
        return [r[1]["mfa_token"] for r in got]

    tokens = challenges(64)
    code = codes[3]
    got = parallel([lambda i=i: (a if i < 32 else b).request(
        "POST", "/api/auth/mfa/verify", {"mfaToken": tokens[i], "code": code, "type": "backup"}) for i in range(64)])
    statuses = [r[0] for r in got]
    check(statuses.count(200) == 1, f"64 verifies with one backup code on two servers: one 200 ({statuses})")
    check(all(s in (200, 401, 429) for s in statuses), f"no 5xx: {sorted(set(statuses))}")
    token = [r[1] for r in got if r[0] == 200][0]["token"]  # (the first login's family was revoked above)
    st = expect(a.request("GET", "/api/v1/me/mfa/status", token=token), 200, "status")
    check(st["backupCodesRemaining"] == 9, f"the code is spent once: {st}")

    # the same with one TOTP code (a fresh step; past any throttle delay)
    clock.advance(60)
    tokens = challenges(64)
    code = totp(secret, clock.now())
    got = parallel([lambda i=i: (b if i < 32 else a).request(
        "POST", "/api/auth/mfa/verify", {"mfaToken": tokens[i], "code": code}) for i in range(64)])
    statuses = [r[0] for r in got]
    check(statuses.count(200) == 1, f"64 verifies with one TOTP code on two servers: one 200 ({statuses})")
    check(all(s in (200, 401, 429) for s in statuses), f"no 5xx: {sorted(set(statuses))}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--store", default="sqlite")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="mfakit-two-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = f"sqlite:{os.path.join(work, 'shared.sqlite')}" if args.store == "sqlite" else args.store
    clock = Clock(os.path.join(work, "clock"))
    suffix = secrets.token_hex(4)
    users = {"shared": (f"shared-{suffix}@example.com", "pw " + secrets.token_hex(8)),
             "only_b": (f"onlyb-{suffix}@example.com", "pw " + secrets.token_hex(8))}
    common = ["--listen", "127.0.0.1:0", "--db", db, "--key-file", os.path.join(work, "sealing.key"),
              "--jwt-secret", "two-process-" + secrets.token_hex(16), "--issuer", "Two",
              "--clock-offset-file", clock.path, "--insecure-fast-kdf",
              "--kdf-share", "64", "--kdf-max-wait-ms", "60000",  # 64 verifies at once from one address: all queued
              "--user", ":".join(users["shared"])]
    started = time.time()
    a = Server(args.server, common, work, "a")
    b = Server(args.server, common + ["--user", ":".join(users["only_b"])], work, "b")
    try:
        run(a, b, clock, users)
    except Exception as e:  # noqa: BLE001
        a.stop()
        b.stop()
        print(f"FAIL after {h.checks} checks: {e}\n--- a ---\n{a.log()[-3000:]}\n--- b ---\n{b.log()[-3000:]}")
        return 1
    codes = (a.stop(), b.stop())
    check(codes == (0, 0), f"both exit 0 ({codes})")
    for srv in (a, b):
        log = srv.log()
        check(users["shared"][1] not in log and users["only_b"][1] not in log, "no password in the logs")
    print(f"PASS: {h.checks} checks, two servers on {db.split(':')[0]} in {time.time() - started:.1f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
