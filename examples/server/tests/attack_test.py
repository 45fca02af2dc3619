#!/usr/bin/env python3
"""The demo server under attack, over real sockets (the session, KDF and setup attacks at the real scrypt cost):

  takeover     a session from before TOTP was enabled ends with the enable; its refresh token is refused;
               regenerate and disable ask a password-only session for a code; a family lives 30 days from
               its login, however often it rotates; a password change ends the old sessions
  checks_first enable with a malformed, wrong or throttled code and a backup code on a throttled login run
               no scrypt (the KDF pool's exit line counts the jobs it ran)
  kdf_fair     another user's login is answered in about its quiet time while 14 networks send failing
               logins and a logged-in user floods enable; beyond the wait bound: 503 + Retry-After at once
  setup_flood  status throughput under 64 connections of one user's setup stays within 2x of its quiet figure
  drip         connections dripping headers cannot lock others out (the one with least progress makes room);
               the header timeout and the minimum data rate close them before the request timeout
  rehash       a login rehashes an older-cost password hash at today's cost; failing checks of the cheaper
               hash take as long as the others
  dual_stack   on a [::] listener, --trusted-proxy 127.0.0.1 matches its v4-mapped peers; IPv6 clients
               are counted per /64
  lockout      wrong passwords from one network do not lock the owner out on another; the account cap
               still holds; the TOTP delay is capped (--totp-max-delay-s)
  refresh_flood  made-up refresh tokens are limited per address and answered without SQLite's write lock
  jwt_wipe     the raw JWT signature of a signed or verified token is not left in memory
  body_limit   request bodies over 16 KiB are refused (413), bodies a passkey registration needs are not

    attack_test.py --server PATH [--workdir DIR] [--only NAME,...] [--store postgres:CONNINFO]
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Server, Clock, check, expect, jwt_claims, totp, memory_holds, post_from  # noqa: E402

SECRET = "attack-secret-" + "0123456789abcdef" * 2
ALICE = ("alice@example.com", "alice password")
BOB = ("bob@example.com", "bob password")
CAROL = ("carol@example.com", "carol password")
STORE = None  # --store: the database of the session tests (default: SQLite in the work dir)


def start(binary, work, name, extra=None, fast=True, clock=None, users=(ALICE, BOB, CAROL), db=None,
          listen="127.0.0.1:0"):
    args = ["--listen", listen, "--db", db or STORE or f"sqlite:{os.path.join(work, name + '.sqlite')}",
            "--key-file", os.path.join(work, name + ".key"), "--jwt-secret", SECRET, "--issuer", "Test"]
    for u in users:
        args += ["--user", f"{u[0]}:{u[1]}"]
    if fast:
        args.append("--insecure-fast-kdf")
    if clock is not None:
        args += ["--clock-offset-file", clock.path]
    return Server(binary, args + (extra or []), work, name)


def login(srv, who, timeout=60):
    return srv.request("POST", "/api/auth", {"email": who[0], "password": who[1]}, timeout=timeout)


def status(srv, token):
    return srv.request("GET", "/api/v1/me/mfa/status", token=token)


def refresh(srv, token):
    return srv.request("POST", "/api/auth/refresh", {"refresh_token": token})


def enable_totp(srv, token, at):
    setup = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 200, "setup")
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(setup["secret"], at)},
                              token=token), 200, "enable")
    return setup["secret"], body["backupCodes"]


def mfa_login(srv, who, secret, at):
    challenge = expect(login(srv, who), 200, f"password step of {who[0]}")
    check(challenge.get("mfa_required"), "a challenge")
    return expect(srv.request("POST", "/api/auth/mfa/verify",
                              {"mfaToken": challenge["mfa_token"], "code": totp(secret, at), "type": "totp"}),
                  200, "the TOTP step")


# --- 1. sessions that outlive the second factor -------------------------------------------------------------

def test_takeover(binary, work):
    clock = Clock(os.path.join(work, "takeover-clock"))
    srv = start(binary, work, "takeover", fast=False, clock=clock)
    try:
        # the attacker logs in with a stolen password before the victim enables TOTP
        thief = expect(login(srv, ALICE), 200, "the thief's password login")
        check(jwt_claims(thief["token"]).get("amr") == ["pwd"], f"a password login says amr [pwd] "
              f"({jwt_claims(thief['token']).get('amr')})")
        victim = expect(login(srv, ALICE), 200, "the victim's login")
        secret, _ = enable_totp(srv, victim["token"], clock.now())
        expect(status(srv, thief["token"]), 401, "the thief's access token after the enable")
        expect(refresh(srv, thief["refresh_token"]), 401, "the thief's old refresh token after the enable")
        expect(status(srv, victim["token"]), 200, "the session that enabled TOTP goes on")
        rotated = expect(refresh(srv, victim["refresh_token"]), 200, "and its refresh token rotates")
        check(jwt_claims(rotated["token"]).get("amr") == ["pwd"], "a rotation keeps the login's amr")
        # a password-only session may not regenerate or disable without a code while TOTP is on
        for path in ("/api/v1/me/mfa/backup-codes/regenerate", "/api/v1/me/mfa/totp/disable"):
            expect(srv.request("POST", path, {"password": ALICE[1]}, token=rotated["token"]), 403,
                   f"{path} with the password alone from a password-only session")
        clock.advance(30)
        wrong = "000000" if totp(secret, clock.now()) != "000000" else "111111"
        expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate",
                           {"password": ALICE[1], "code": wrong}, token=rotated["token"]), 401,
               "regenerate with a wrong code")
        clock.advance(60)
        fresh = expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate",
                                   {"password": ALICE[1], "code": totp(secret, clock.now())},
                                   token=rotated["token"]), 200, "regenerate with the password and a fresh code")
        check(len(fresh["backupCodes"]) == 10, "ten new codes")
        # the thief, with the password only: a challenge, and no session
        got = expect(login(srv, ALICE), 200, "the thief's new password login")
        check(got.get("mfa_required") and "token" not in got, "the password alone now gives a challenge only")
        # an MFA login's session: amr [pwd, otp], may regenerate with the password; other sessions end
        clock.advance(30)
        mfa = mfa_login(srv, ALICE, secret, clock.now())
        check(jwt_claims(mfa["token"]).get("amr") == ["pwd", "otp"], "an MFA login says amr [pwd, otp]")
        expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": ALICE[1]},
                           token=mfa["token"]), 200, "regenerate from a session that passed TOTP")
        expect(status(srv, rotated["token"]), 401, "the regenerate ended the other sessions")
        expect(status(srv, mfa["token"]), 200, "but not its own")
        expect(srv.request("POST", "/api/v1/me/mfa/totp/disable", {"password": ALICE[1]}, token=mfa["token"]),
               200, "disable from a session that passed TOTP")
        expect(status(srv, mfa["token"]), 200, "the disabling session goes on")
        # an absolute lifetime: 30 days from the login, whatever the rotations
        start_pair = expect(login(srv, BOB), 200, "bob's login")
        token = start_pair["refresh_token"]
        for day in (10, 10, 9):
            clock.advance(day * 24 * 3600)
            token = expect(refresh(srv, token), 200, f"a rotation on day {day}")["refresh_token"]
        clock.advance(2 * 24 * 3600)
        expect(refresh(srv, token), 401, "day 31 of the family: refused although it rotated on day 29")
    finally:
        check(srv.stop() == 0, "exit 0")
    if STORE is not None:
        return
    # a password change (a new --user password) ends every session of the old one; the same password does not
    srv = start(binary, work, "takeover", fast=False, clock=clock)
    try:
        kept = expect(login(srv, CAROL), 200, "carol's login")
    finally:
        check(srv.stop() == 0, "exit 0")
    srv = start(binary, work, "takeover", fast=False, clock=clock)
    try:
        expect(status(srv, kept["token"]), 200, "a restart with the same password keeps the sessions")
    finally:
        check(srv.stop() == 0, "exit 0")
    srv = start(binary, work, "takeover", fast=False, clock=clock,
                users=(ALICE, BOB, (CAROL[0], "carol's new password")))
    try:
        expect(status(srv, kept["token"]), 401, "a new password ends the old sessions (access token)")
        expect(refresh(srv, kept["refresh_token"]), 401, "a new password ends the old sessions (refresh token)")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 2. the KDF pool under attack ---------------------------------------------------------------------------

def test_kdf_fair(binary, work):
    srv = start(binary, work, "kdffair", fast=False, extra=["--kdf-threads", "1"])
    try:
        quiet = []
        for _ in range(3):
            got = post_from(srv.port, "127.0.1.1", "/api/auth", {"email": BOB[0], "password": BOB[1]})
            check(got[0] == 200, f"a quiet login of bob ({got[0]})")
            quiet.append(got[3])
        normal = max(quiet)
        carol = expect(login(srv, CAROL), 200, "carol's login")
        expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=carol["token"]), 200, "carol's setup")
        stop = threading.Event()
        answers = []
        lock = threading.Lock()

        def failing_logins(net):
            i = 0
            while not stop.is_set():
                got = post_from(srv.port, f"127.0.{net}.1", "/api/auth",
                                {"email": f"nobody{net}-{i}@example.com", "password": "guess"})
                with lock:
                    answers.append((got[0], got[2].get("Retry-After") if got[2] else None, got[3], net))
                i += 1
                if got[0] != 401:  # an attacker that ignored Retry-After would use its address's budget up
                    time.sleep(min(5, int(got[2].get("Retry-After", "1"))) if got[2] else 1)

        def enable_flood():
            while not stop.is_set():
                got = post_from(srv.port, "127.0.20.1", "/api/v1/me/mfa/totp/enable", {"code": "12"},
                                token=carol["token"])
                with lock:
                    answers.append((got[0], got[2].get("Retry-After") if got[2] else None, got[3], 20))
                if got[0] != 400:
                    time.sleep(0.05)  # a fast flood, not one that runs the test machine out of ports

        def own_logins():
            while not stop.is_set():
                got = post_from(srv.port, "127.0.20.1", "/api/auth", {"email": CAROL[0], "password": CAROL[1]})
                if got[0] == 429:  # her address's budget is spent (refused checks count): she waits as told;
                    # spinning on 429s (22,000 in a run) took the test machine's cores from the server's scrypt
                    time.sleep(min(5, int(got[2].get("Retry-After", "1"))) if got[2] else 1)

        attackers = [threading.Thread(target=failing_logins, args=(n,)) for n in range(2, 16)]
        attackers += [threading.Thread(target=enable_flood) for _ in range(4)] + [threading.Thread(target=own_logins)]
        for t in attackers:
            t.start()
        # until every attacking network has had a check run (it has then wasted work: the pool knows it)
        deadline = time.time() + 120
        seen = set()
        while time.time() < deadline and len(seen) < 14:
            time.sleep(0.2)
            with lock:
                seen = {a[3] for a in answers if a[0] == 401 and a[3] != 20}
        check(len(seen) == 14, f"every attacking network was answered 401 at least once ({len(seen)})")
        under = []
        try:
            for _ in range(4):
                got = post_from(srv.port, "127.0.1.1", "/api/auth", {"email": BOB[0], "password": BOB[1]})
                under.append((got[0], got[3]) if got[0] == 200 else (got[0], got[3], got[1]))
                time.sleep(1)
        finally:
            stop.set()
            for t in attackers:
                t.join()
        limit = 4 * normal + 3.0  # a running check to finish, then its own, on a CPU the attackers share
        check(all(u[0] == 200 for u in under), f"bob's logins under attack all 200: {under}")
        check(max(u[1] for u in under) <= limit,
              f"and within about their quiet time: worst {max(u[1] for u in under):.2f} s, quiet {normal:.2f} s "
              f"(limit {limit:.2f} s)")
        print(f"  kdf_fair: bob's login quiet {normal:.2f} s, under attack {', '.join(f'{u[1]:.2f}' for u in under)} s "
              f"(bound {limit:.2f} s)")
        refused = [a for a in answers if a[0] == 503]
        check(len(refused) > 0, f"the attack met the wait bound: 503s ({len(answers)} answers)")
        check(all(a[1] is not None and int(a[1]) >= 1 for a in refused), "every 503 has a Retry-After")
        fast_refusals = sorted(a[2] for a in refused)
        check(statistics.median(fast_refusals) < 1.0,
              f"and comes at once, not after a wait (median {statistics.median(fast_refusals):.2f} s)")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 3. setup floods ----------------------------------------------------------------------------------------

def wrk_rate(port, token, seconds=3, conns=8):
    """Requests per second of GET status over `conns` keep-alive connections (wrk)."""
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "-H", f"Authorization: Bearer {token}",
                          f"http://127.0.0.1:{port}/api/v1/me/mfa/status"], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    rate = [x for x in out.splitlines() if x.startswith("Requests/sec:")]
    check(rate, f"wrk printed a rate: {out[-300:]}")
    bad = [x for x in out.splitlines() if "Non-2xx" in x]
    check(not bad, f"every status answer was 200 ({bad})")
    return float(rate[0].split()[1])


FLOOD = r'''
import http.client, os, sys, threading, time
os.nice(19)  # the attacker's own CPU is not the server's: the machine's is shared here
port, token, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
codes = {}
def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    end = time.time() + seconds
    while time.time() < end:
        try:
            c.request("POST", "/api/v1/me/mfa/totp/setup", headers={"Authorization": "Bearer " + token})
            r = c.getresponse(); r.read()
            codes[r.status] = codes.get(r.status, 0) + 1
        except OSError:
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
t = [threading.Thread(target=run) for _ in range(64)]
[x.start() for x in t]; [x.join() for x in t]
print(codes)
'''


def test_checks_first(binary, work):
    """Refusals the code decides cost no scrypt: enable with a malformed, wrong or throttled code, and a backup
    code on a live challenge of a throttled account, queue nothing on the KDF pool (its exit line counts the
    jobs it ran: the three password and enable checks below, no more)."""
    clock = Clock(os.path.join(work, "first-clock"))
    srv = start(binary, work, "first", clock=clock, extra=["--kdf-threads", "1"])
    try:
        alice = expect(login(srv, ALICE), 200, "a password login (KDF job 1)")
        setup = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=alice["token"]), 200, "setup")
        enable = "/api/v1/me/mfa/totp/enable"
        expect(srv.request("POST", enable, {"code": "12"}, token=alice["token"]), 422, "enable, a malformed code")
        expect(srv.request("POST", enable, {"code": totp(setup["secret"], clock.now() + 600)}, token=alice["token"]),
               422, "enable, a wrong code")
        got = srv.request("POST", enable, {"code": totp(setup["secret"], clock.now())}, token=alice["token"])
        check(got[0] == 429, f"enable right after the failure: throttled ({got[0]})")
        clock.advance(30)
        codes = expect(srv.request("POST", enable, {"code": totp(setup["secret"], clock.now())},
                                   token=alice["token"]), 200, "enable (KDF job 2: the backup codes)")["backupCodes"]
        challenge = expect(login(srv, ALICE), 200, "the password step (KDF job 3)")
        expect(srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": challenge["mfa_token"],
                                                            "code": totp(setup["secret"], clock.now() + 600)}),
               401, "a wrong TOTP code")
        got = srv.request("POST", "/api/auth/mfa/verify",
                          {"mfaToken": challenge["mfa_token"], "code": codes[0], "type": "backup"})
        check(got[0] == 429, f"a backup code right after the failure: throttled ({got[0]})")
    finally:
        code = srv.stop()
    log = srv.log()
    line = log[log.find("stopped;"):][:300]
    check(code == 0 and "kdf pool 1 threads" in line and ", 3 run;" in line,
          "the KDF pool ran the password checks and the enable only: " + line)


def test_setup_flood(binary, work):
    if shutil.which("wrk") is None:
        check(False, "wrk is installed (.ci/install-deps)")
    srv = start(binary, work, "setupflood", fast=False, extra=["--no-access-log"])
    try:
        bob = expect(login(srv, BOB), 200, "bob's login")
        carol = expect(login(srv, CAROL), 200, "carol's login")
        wrk_rate(srv.port, bob["token"], 1)  # warm-up
        quiet = wrk_rate(srv.port, bob["token"])
        flood = subprocess.Popen([sys.executable, "-c", FLOOD, str(srv.port), carol["token"], "6"],
                                 stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        under = wrk_rate(srv.port, bob["token"])
        codes = flood.communicate(timeout=60)[0]
        check(under >= quiet / 2, f"status under a setup flood within 2x of quiet: {under:.0f} vs {quiet:.0f} req/s "
              f"(flood answers {codes.strip()})")
        # one user's setup hands back its pending secret for a while
        a = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=carol["token"]), 200, "setup")
        b = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=carol["token"]), 200, "setup again")
        check(a["secret"] == b["secret"], "the same pending secret within --setup-reuse-ms")
    finally:
        check(srv.stop() == 0, "exit 0")
    srv = start(binary, work, "setupflood2", extra=["--setup-reuse-ms", "0"])
    try:
        carol = expect(login(srv, CAROL), 200, "carol's login")
        a = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=carol["token"]), 200, "setup")
        b = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=carol["token"]), 200, "setup again")
        check(a["secret"] != b["secret"], "--setup-reuse-ms 0: a new secret each time")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 4. slow senders ----------------------------------------------------------------------------------------

def test_drip(binary, work):
    srv = start(binary, work, "drip", extra=["--max-connections", "100", "--request-timeout-ms", "20000",
                                            "--header-timeout-ms", "3000", "--idle-timeout-ms", "60000"])
    try:
        t0 = time.time()
        drips = []
        for a in range(4):  # 4 addresses, 25 connections each (their cap): every slot taken
            for _ in range(25):
                s = socket.create_connection(("127.0.0.1", srv.port), source_address=(f"127.0.0.{11 + a}", 0))
                s.sendall(b"GET /api/v1/me/mfa/status HTTP/1.1\r\n")
                drips.append(s)
        stop = threading.Event()

        def drip():
            while not stop.is_set():
                for s in drips:
                    try:
                        s.send(b"X")
                    except OSError:
                        pass
                time.sleep(0.3)

        dripper = threading.Thread(target=drip)
        dripper.start()
        time.sleep(0.3)
        served = 0
        for _ in range(100):
            try:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=2, source_address=("127.0.0.20", 0))
                s.sendall(b"GET /api/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1.1 404"):
                    served += 1
                s.close()
            except OSError:
                pass
        check(served >= 95, f"with every slot held by dripping connections, {served} of 100 others were served")
        # the header timeout (3 s), not the request timeout (20 s), ends the drippers that are left
        deadline = t0 + 6
        open_left = 0
        for s in drips:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                while s.recv(4096):
                    pass
            except socket.timeout:
                open_left += 1
            except OSError:
                pass
        stop.set()
        dripper.join()
        check(open_left == 0, f"dripping headers closed by the 3 s header timeout ({open_left} still open after 6 s)")
        for s in drips:
            s.close()
        # a body at 10 bytes per second: below the minimum rate, closed long before the request timeout
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 4000\r\n\r\n")
        t1 = time.time()
        closed = None
        s.settimeout(0.1)
        while time.time() - t1 < 15 and closed is None:
            try:
                s.send(b"x")
                if s.recv(1) == b"":
                    closed = time.time() - t1
            except socket.timeout:
                pass
            except OSError:
                closed = time.time() - t1
        s.close()
        check(closed is not None and closed < 8, f"a body below the minimum rate is closed early "
              f"({'open after 15 s' if closed is None else f'{closed:.1f} s'}, request timeout 20 s)")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 5. older password hashes -------------------------------------------------------------------------------

def old_hash(password):
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=16, r=8, p=1, dklen=32)
    return f"scrypt$4$8$1${salt.hex()}${digest.hex()}"


def test_rehash(binary, work):
    path = os.path.join(work, "rehash.sqlite")
    dave = ("dave@example.com", "dave password")
    srv = start(binary, work, "rehash", fast=False, users=(ALICE, dave), db=f"sqlite:{path}")
    srv.stop()
    db = sqlite3.connect(path)
    db.execute("UPDATE mfakit_users SET password_hash = ? WHERE email = ?", (old_hash(dave[1]), dave[0]))
    db.commit()
    db.close()
    srv = start(binary, work, "rehash", fast=False, users=(ALICE,), db=f"sqlite:{path}")
    try:
        def timed(who):
            t0 = time.time()
            got = login(srv, who)
            return got[0], time.time() - t0

        cheap = [timed((dave[0], "wrong")) for _ in range(3)]
        unknown = [timed((f"nobody{i}@example.com", "wrong")) for i in range(3)]
        check(all(c == 401 for c, _ in cheap + unknown), "wrong passwords: 401")
        c_med, u_med = statistics.median(t for _, t in cheap), statistics.median(t for _, t in unknown)
        check(c_med >= 0.6 * u_med, f"a failing check of an older, cheaper hash takes as long as the others "
              f"({c_med * 1000:.0f} ms vs {u_med * 1000:.0f} ms)")
        expect(login(srv, dave), 200, "dave's right password against the old hash")
    finally:
        check(srv.stop() == 0, "exit 0")
    db = sqlite3.connect(path)
    stored = db.execute("SELECT password_hash FROM mfakit_users WHERE email = ?", (dave[0],)).fetchone()[0]
    db.close()
    check(stored.startswith("scrypt$17$8$1$"), f"rehashed at today's cost on that login ({stored[:16]})")
    srv = start(binary, work, "rehash", fast=False, users=(ALICE,), db=f"sqlite:{path}")
    try:
        expect(login(srv, dave), 200, "the new hash checks out")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 6. dual-stack listeners, IPv6 /64 ----------------------------------------------------------------------

def test_dual_stack(binary, work):
    srv = start(binary, work, "dualstack", listen="[::]:0", extra=["--trusted-proxy", "127.0.0.1"])
    try:
        def via(xff, who):
            return srv.request("POST", "/api/auth", {"email": who[0], "password": who[1]},
                               headers={"X-Forwarded-For": xff})

        for i in range(20):
            expect(via("203.0.113.7", (f"p{i}@example.com", "x")), 401, f"failure {i + 1} of 203.0.113.7")
        expect(via("203.0.113.7", BOB), 429, "203.0.113.7 is limited")
        expect(via("203.0.113.8", BOB), 200, "another client behind the proxy (a v4-mapped peer) is not")
        expect(login(srv, BOB), 200, "nor the proxy itself")
        log = srv.log()
        check("peer=203.0.113.7" in log and "::ffff:" not in log, "the log names clients, never a v4-mapped form")
        for i in range(20):
            expect(via("2001:db8::1", (f"q{i}@example.com", "x")), 401, f"failure {i + 1} of 2001:db8::1")
        expect(via("2001:db8::2", BOB), 429, "another address of the same IPv6 /64 is limited too")
        expect(via("2001:db8:0:1::1", BOB), 200, "another /64 is not")
        expect(via("::ffff:203.0.113.8", BOB), 200, "a v4-mapped X-Forwarded-For entry is its IPv4 client")
        expect(via("::ffff:203.0.113.7", BOB), 429, "the limited client in its v4-mapped form")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 7. lockouts ----------------------------------------------------------------------------------------------

def test_lockout(binary, work):
    clock = Clock(os.path.join(work, "lockout-clock"))
    srv = start(binary, work, "lockout", clock=clock, extra=["--account-max-failures", "12",
                                                            "--totp-max-delay-s", "60"])
    try:
        def attempt(source, who):
            got = post_from(srv.port, source, "/api/auth", {"email": who[0], "password": who[1]})
            return got[0], int(got[2].get("Retry-After", "0")) if got[2] else 0

        for i in range(8):
            code, wait = attempt("127.0.0.2", (ALICE[0], "wrong"))
            check(code in (401, 429), f"wrong password {i + 1}: {code}")
            clock.advance(wait + 1)
        code, _ = attempt("127.0.0.2", ALICE)
        check(code == 429, f"alice is locked for the guessing network ({code})")
        code, _ = attempt("127.0.1.2", ALICE)
        check(code == 200, f"the owner on another network logs in ({code})")
        # the account's cap over all networks: 12 failures from 4 networks (3 each, none locked alone)
        for net in range(2, 6):
            for _ in range(3):
                code, wait = attempt(f"127.0.{net}.9", (BOB[0], "wrong"))
                check(code == 401, f"a wrong password from network {net}: 401 ({code})")
        code, wait = attempt("127.0.6.9", (BOB[0], "wrong"))
        code, wait = attempt("127.0.7.9", BOB)
        check(code == 429 and wait >= 1, f"past the account cap, bob is locked on every network ({code})")
        # the TOTP delay is capped
        carol = expect(login(srv, CAROL), 200, "carol's login")
        secret, _ = enable_totp(srv, carol["token"], clock.now())
        waits = []
        for _ in range(10):
            clock.advance(30)
            ch = expect(login(srv, CAROL), 200, "password step")
            good = totp(secret, clock.now())
            wrong = "000000" if good != "000000" else "111111"
            got = srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": ch["mfa_token"], "code": wrong})
            again = srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": ch["mfa_token"], "code": wrong})
            for g in (got, again):
                if g[2].get("Retry-After"):
                    waits.append(int(g[2]["Retry-After"]))
            clock.advance(max(waits[-1:] or [0]) + 1)
        check(waits and max(waits) <= 60 and max(waits) >= 32,
              f"TOTP delays grow and stop at --totp-max-delay-s 60: {waits}")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 8. refresh floods ------------------------------------------------------------------------------------------

def test_refresh_flood(binary, work):
    path = os.path.join(work, "rflood.sqlite")
    srv = start(binary, work, "rflood", db=f"sqlite:{path}")
    try:
        codes = [post_from(srv.port, "127.0.0.2", "/api/auth/refresh", {"refresh_token": os.urandom(32).hex()})[0]
                 for _ in range(101)]
        check(codes[:100] == [401] * 100 and codes[100] == 429, f"100 made-up refresh tokens, then 429: "
              f"{sorted(set(codes))} last {codes[-1]}")
        pair = expect(login(srv, BOB), 200, "bob's login")
        # another writer holds SQLite's write lock: an unknown token is still answered at once
        db = sqlite3.connect(path, isolation_level=None, timeout=1)
        db.execute("BEGIN IMMEDIATE")
        try:
            got = post_from(srv.port, "127.0.0.3", "/api/auth/refresh", {"refresh_token": os.urandom(32).hex()},
                            timeout=30)
        finally:
            db.execute("ROLLBACK")
            db.close()
        check(got[0] == 401 and got[3] < 1.0, f"an unknown token while the write lock is held: 401 at once "
              f"({got[0]} in {got[3]:.2f} s)")
        expect(refresh(srv, pair["refresh_token"]), 200, "a real refresh token still rotates")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 9. JWT signatures in memory --------------------------------------------------------------------------------

def test_jwt_wipe(binary, work):
    srv = start(binary, work, "jwtwipe", extra=["--threads", "1", "--session-cache-ms", "0"])
    try:
        if h.sanitized(binary) or memory_holds(srv.proc.pid, b"no such bytes") is None:
            check(True, "a sanitizer build (shadow memory, quarantine), or memory not readable here: skipped")
            return
        found = 0
        for _ in range(3):
            token = expect(login(srv, BOB), 200, "login (a token signed)")["token"]
            for _ in range(3):
                expect(status(srv, token), 200, "status (the token verified)")
            sig = base64.urlsafe_b64decode(token.split(".")[2] + "=")
            time.sleep(0.1)
            if memory_holds(srv.proc.pid, sig[16:]):
                found += 1
        check(found == 0, f"the raw signature's bytes were left in memory for {found} of 3 tokens")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- 10. body limit ----------------------------------------------------------------------------------------------

def test_body_limit(binary, work):
    srv = start(binary, work, "body")
    try:
        big = {"email": "x@example.com", "password": "p" * (20 * 1024)}
        expect(srv.request("POST", "/api/auth", big), 413, "a 20 KiB body")
        room = {"email": "x@example.com", "password": "p" * (15 * 1024)}
        expect(srv.request("POST", "/api/auth", room), 400, "a 15 KiB body (a passkey registration's room) is read")
    finally:
        check(srv.stop() == 0, "exit 0")
    srv = start(binary, work, "body2", extra=["--max-body-bytes", "65536"])
    try:
        expect(srv.request("POST", "/api/auth", big), 400, "--max-body-bytes 65536: a 20 KiB body is read")
    finally:
        check(srv.stop() == 0, "exit 0")


TESTS = {"takeover": test_takeover, "kdf_fair": test_kdf_fair, "checks_first": test_checks_first,
         "setup_flood": test_setup_flood, "drip": test_drip,
         "rehash": test_rehash, "dual_stack": test_dual_stack, "lockout": test_lockout,
         "refresh_flood": test_refresh_flood, "jwt_wipe": test_jwt_wipe, "body_limit": test_body_limit}
SESSION_TESTS = ["takeover", "lockout"]  # the ones run again on PostgreSQL (--store)


def main():
    global STORE
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--only", default="")
    ap.add_argument("--store", default=None)
    args = ap.parse_args()
    if shutil.which("oathtool") is None:
        print("FAIL: oathtool is not installed (see .ci/install-deps)")
        return 1
    STORE = args.store
    if STORE and STORE.startswith("postgres:"):
        subprocess.run(["psql", STORE[len("postgres:"):], "-qc",
                        "DROP TABLE IF EXISTS mfakit_records, mfakit_users, mfakit_refresh_tokens, "
                        "mfakit_revoked_tokens, mfakit_login_throttle"], check=True, capture_output=True)
    work = args.workdir or tempfile.mkdtemp(prefix="mfakit-attack-test-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    started = time.time()
    names = [n for n in args.only.split(",") if n] or (SESSION_TESTS if STORE else list(TESTS))
    for name in names:
        t0 = time.time()
        try:
            TESTS[name](args.server, work)
        except Exception as e:  # noqa: BLE001
            logs = ""
            for f in sorted(os.listdir(work)):
                if f.endswith(".stderr"):
                    with open(os.path.join(work, f), errors="replace") as fh:
                        logs += f"--- {f} ---\n" + fh.read()[-3000:]
            print(f"FAIL in {name} after {h.checks} checks: {e}\n{logs}")
            return 1
        print(f"ok {name} ({time.time() - t0:.1f} s)")
    print(f"PASS: {h.checks} checks in {time.time() - started:.1f} s")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
