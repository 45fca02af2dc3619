#!/usr/bin/env python3
"""A short soak: two server processes on one database, 2 x N keep-alive
clients of mixed traffic for D seconds (status, enable -> 409, logins with
backup codes racing each other across both servers, refresh rotation).

Passes when: no 5xx, no connection error or reset, every backup code that
answered 200 did so exactly once and the database agrees (backupCodesRemaining
afterwards), and the servers' memory did not keep growing (RSS at the end
within 48 MiB of the RSS a third of the way in).

    soak_test.py --server PATH [--store sqlite | postgres:CONNINFO] [--seconds 30] [--clients 64]
"""
import argparse
import collections
import http.client
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Server, Clock, check, expect, sanitized, totp  # noqa: E402


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        res = self.conn.getresponse()
        payload = res.read()
        if res.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return res.status, (json.loads(payload) if payload else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--store", default="sqlite")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--clients", type=int, default=64, help="per server")
    args = ap.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="mfakit-soak-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    db = f"sqlite:{os.path.join(work, 'soak.sqlite')}" if args.store == "sqlite" else args.store
    clock = Clock(os.path.join(work, "clock"))
    suffix = secrets.token_hex(4)
    users = [(f"soak{i}-{suffix}@example.com", "pw " + secrets.token_hex(8)) for i in range(8)]
    common = ["--listen", "127.0.0.1:0", "--db", db, "--key-file", os.path.join(work, "sealing.key"),
              "--jwt-secret", "soak-" + secrets.token_hex(16), "--issuer", "Soak", "--clock-offset-file", clock.path,
              "--insecure-fast-kdf", "--no-access-log",
              # its 64 clients share one address: the KDF pool queues them all instead of refusing
              # beyond a network's fair share (what the soak checks is that nothing fails, not the share)
              "--kdf-share", "64", "--kdf-max-wait-ms", "60000", "--session-max-inflight", "1000"]
    for u in users:
        common += ["--user", ":".join(u)]
    servers = [Server(args.server, common, work, "a"), Server(args.server, common, work, "b")]
    started = time.time()
    try:
        # every user: TOTP enabled, 10 backup codes
        codes, tokens = {}, {}
        for email, pw in users:
            body = expect(servers[0].request("POST", "/api/auth", {"email": email, "password": pw}), 200, "login")
            tokens[email] = (body["token"], body["refresh_token"])
            secret = expect(servers[1].request("POST", "/api/v1/me/mfa/totp/setup", token=body["token"]), 200,
                            "setup")["secret"]
            codes[email] = expect(servers[0].request("POST", "/api/v1/me/mfa/totp/enable",
                                                     {"code": totp(secret, clock.now())}, token=body["token"]),
                                  200, "enable")["backupCodes"]

        lock = threading.Lock()
        statuses = collections.Counter()
        errors = []
        wins = collections.Counter()  # (email, code) -> 200s
        stop = time.time() + args.seconds
        rss = {}

        def worker(n):
            srv = servers[n % 2]
            c = Client(srv.port)
            rnd = random.Random(n)
            email, pw = users[n % len(users)]
            token = tokens[email][0]
            refresh = None
            while time.time() < stop:
                r = rnd.random()
                try:
                    if r < 0.55:
                        st, _ = c.call("GET", "/api/v1/me/mfa/status", token=token)
                    elif r < 0.80:
                        st, _ = c.call("POST", "/api/v1/me/mfa/totp/enable", {"code": "000000"}, token=token)
                    elif r < 0.90:
                        if refresh is None:
                            st, body = c.call("POST", "/api/auth", {"email": email, "password": pw})
                            if st == 200 and body.get("mfa_required"):
                                code = rnd.choice(codes[email])
                                st, body = c.call("POST", "/api/auth/mfa/verify",
                                                  {"mfaToken": body["mfa_token"], "code": code, "type": "backup"})
                                if st == 200:
                                    with lock:
                                        wins[(email, code)] += 1
                                    refresh = body["refresh_token"]
                        else:
                            st, body = c.call("POST", "/api/auth/refresh", {"refresh_token": refresh})
                            refresh = body["refresh_token"] if st == 200 else None
                    else:
                        st, _ = c.call("POST", "/api/auth", {"email": email, "password": "wrong"})
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        errors.append(repr(e))
                    c = Client(srv.port)
                    continue
                with lock:
                    statuses[st] += 1

        def sampler():
            time.sleep(args.seconds / 3)
            rss["early"] = [rss_mib(s.proc.pid) for s in servers]
            while time.time() < stop - 0.5:
                time.sleep(0.25)
            rss["late"] = [rss_mib(s.proc.pid) for s in servers]

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(2 * args.clients)]
        threads.append(threading.Thread(target=sampler))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = sum(statuses.values())
        check(not errors, f"no connection errors or resets ({len(errors)}: {errors[:3]})")
        check(not any(s >= 500 for s in statuses), f"no 5xx: {dict(statuses)}")
        check(all(n == 1 for n in wins.values()), f"no backup code accepted twice: {[k for k, n in wins.items() if n > 1]}")
        for email, _ in users:
            used = sum(1 for (e, _c) in wins if e == email)
            st = expect(servers[0].request("GET", "/api/v1/me/mfa/status", token=tokens[email][0]), 200, "status")
            check(st["backupCodesRemaining"] == 10 - used,
                  f"{email}: the database agrees: {st['backupCodesRemaining']} left, {used} accepted")
        growth = [late - early for early, late in zip(rss["early"], rss["late"])]
        if sanitized(args.server):  # ASan keeps freed memory in quarantine: RSS says nothing there
            print(f"(sanitizer build: RSS {rss['early']} -> {rss['late']} MiB not checked)")
        else:
            check(all(g < 48 for g in growth), f"memory flat: RSS {rss['early']} -> {rss['late']} MiB")
    except Exception as e:  # noqa: BLE001
        for s in servers:
            s.stop()
        print(f"FAIL after {h.checks} checks: {e}\n--- a ---\n{servers[0].log()[-2000:]}\n--- b ---\n"
              f"{servers[1].log()[-2000:]}")
        return 1
    codes_exit = [s.stop() for s in servers]
    check(codes_exit == [0, 0], f"both exit 0 ({codes_exit})")
    print(f"requests: {total} in {args.seconds:.0f} s ({total / args.seconds:.0f}/s), statuses {dict(statuses)}, "
          f"backup codes accepted {len(wins)}, RSS {rss['early']} -> {rss['late']} MiB")
    print(f"PASS: {h.checks} checks, soak on {db.split(':')[0]} in {time.time() - started:.1f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
