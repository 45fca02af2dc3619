#!/usr/bin/env python3
"""The demo server's HTTP layer and host-side security, over real sockets:

  flags       bad flags exit 2 with one line on stderr
  users       demo users only on the memory store or with --demo-users, never over an existing account
  jwt         alg none / HS512 / RS256 refused, expired (also by the server's
              clock), nbf in the future, tampered claims or signature, another
              secret, unknown user, crit header, missing or garbage header: 401;
              a token signed elsewhere with the shared secret is accepted
  refresh     rotation on use; a used refresh token revokes its family;
              logout revokes; expiry after 30 days
  logout_race a logout is final at once on its process, even with requests of the token racing it
  logs        a %0A in the path or a newline in an email forges no line
  limits      per-account and per-address password limits (429 + Retry-After)
  throttle_race  parallel guesses do not slip past either limit
  sweep       expired login challenges are deleted from the database
  http        404/405, oversized body (413) and header (431) answered and the
              server keeps serving, keep-alive reuses one connection
  slowloris   connections dripping bytes are closed after the request timeout,
              idle ones after the idle timeout, others are answered meanwhile
  conns       per-address connection cap, first-byte timeout, the longest-idle connection makes room
              (of all, or of the address at its cap)
  wipe        bearer tokens of requests the parser refused, --user passwords: not left in memory
  kdf         logins queue on the bounded scrypt pool (a full queue: 503)
  verify_flood  bogus backup-code verifies never reach the scrypt pool; bad tokens limited per address
  logbuf      a stalled stderr: the log buffer stays bounded (drops counted), SIGTERM still exits
  sigterm     a request in flight is answered, the server exits 0
  shutdown    a half-sent request delays SIGTERM by 1 s at most; a second SIGTERM ends the process at once

    server_test.py --server PATH [--workdir DIR] [--only NAME,...]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Server, Clock, check, expect, sign_jwt, jwt_claims, totp, memory_holds  # noqa: E402

SECRET = "test-secret-" + "0123456789abcdef" * 2
USER = ("alice@example.com", "alice password")
OTHER = ("bob@example.com", "bob password")


def start(binary, work, name="server", extra=None, fast=True, clock=None, db=None):
    args = ["--listen", "127.0.0.1:0", "--db", db or f"sqlite:{os.path.join(work, name + '.sqlite')}",
            "--key-file", os.path.join(work, name + ".key"), "--jwt-secret", SECRET, "--issuer", "Test",
            "--user", f"{USER[0]}:{USER[1]}", "--user", f"{OTHER[0]}:{OTHER[1]}"]
    if fast:
        args.append("--insecure-fast-kdf")
    if clock is not None:
        args += ["--clock-offset-file", clock.path]
    return Server(binary, args + (extra or []), work, name)


def login(srv, who=USER, timeout=30):
    return srv.request("POST", "/api/auth", {"email": who[0], "password": who[1]}, timeout=timeout)


def tokens(srv, who=USER):
    body = expect(login(srv, who), 200, f"login of {who[0]}")
    return body["token"], body["refresh_token"]


def status(srv, token):
    return srv.request("GET", "/api/v1/me/mfa/status", token=token)


# --- flags ------------------------------------------------------------------------------------

def test_flags(binary, work):
    for bad in (["--bogus"], ["--listen", "nowhere"], ["--listen", "127.0.0.1:99999"], ["--threads", "0"],
                ["--db", "mysql://x"], ["--jwt-secret", "too short"], ["--user", "no-colon"], ["--threads"]):
        p = subprocess.run([binary] + bad, capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().split("\n")
        check(p.returncode == 2, f"{bad}: exit 2 (got {p.returncode})")
        check(len(lines) == 1 and lines[0].startswith("mfakit_demo_server: "), f"{bad}: one line ({p.stderr!r})")
    # a key file or JWT secret file others can read: one warning line each
    for mode, warned in ((0o644, True), (0o600, False)):
        key, jwt = os.path.join(work, f"flags-{mode:o}.key"), os.path.join(work, f"flags-{mode:o}.jwt")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        with open(jwt, "w") as f:
            f.write(SECRET + "\n")
        os.chmod(key, mode)
        os.chmod(jwt, mode)
        srv = Server(binary, ["--listen", "127.0.0.1:0", "--db", "memory", "--key-file", key, "--jwt-secret-file",
                              jwt, "--insecure-fast-kdf"], work, f"flags-{mode:o}")
        srv.stop()
        log = srv.log()
        for what in ("the key file", "the JWT secret file"):
            check((f"WARNING: {what} " in log and "readable by group or others" in log) == warned,
                  f"mode {mode:o}: {what} {'warned about' if warned else 'not warned about'}")
    p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "--listen HOST:PORT" in p.stdout, "--help prints the usage, exit 0")


def test_users(binary, work):
    """The published demo passwords never reach a shared database by default, and never reset an account."""
    db = f"sqlite:{os.path.join(work, 'users.sqlite')}"
    base = ["--listen", "127.0.0.1:0", "--db", db, "--key-file", os.path.join(work, "users.key"), "--jwt-secret",
            SECRET, "--insecure-fast-kdf"]
    real = ("alice@example.com", "Alice-Real-Passw0rd!")
    demo_alice, demo_bob = ("alice@example.com", "correct horse alice"), ("bob@example.com", "correct horse bob")
    a = Server(binary, base + ["--user", ":".join(real)], work, "users-a")
    try:
        expect(login(a, real), 200, "alice with the password --user gave")
        b = Server(binary, base, work, "users-b")
        b.stop()
        expect(login(a, real), 200, "a second process without --user leaves alice's password alone")
        expect(login(a, demo_alice), 401, "the demo password of alice is not set")
        expect(login(a, demo_bob), 401, "bob (a demo user) is not created on a shared database")
        c = Server(binary, base + ["--demo-users"], work, "users-c")
        c.stop()
        expect(login(a, real), 200, "--demo-users does not reset an existing alice")
        expect(login(a, demo_bob), 200, "--demo-users creates the missing bob")
    finally:
        check(a.stop() == 0, "exit 0")
    m = Server(binary, ["--listen", "127.0.0.1:0", "--db", "memory", "--jwt-secret", SECRET, "--insecure-fast-kdf"],
               work, "users-m")
    try:
        expect(login(m, demo_alice), 200, "the memory store without --user has the demo users")
    finally:
        m.stop()


# --- JWT ----------------------------------------------------------------------------------------

def test_jwt(binary, work):
    clock = Clock(os.path.join(work, "jwt-clock"))
    srv = start(binary, work, "jwt", clock=clock)
    try:
        token, _ = tokens(srv)
        expect(status(srv, token), 200, "the issued token")
        c = jwt_claims(token)
        check(c["sub"] == USER[0] and c["exp"] == c["iat"] + 3600 and c["nbf"] == c["iat"] and len(c["jti"]) == 32,
              f"claims sub, iat, nbf, exp = iat + 1 h, jti: {c}")
        now = clock.now()
        good = {"sub": USER[0], "iat": now, "exp": now + 600, "jti": "ext-" + os.urandom(8).hex()}
        expect(status(srv, sign_jwt(SECRET, good)), 200, "a token another HS256 issuer signed with the shared secret")

        def refused(tok, what):
            got, body, hdrs = status(srv, tok)
            check(got == 401, f"{what}: 401 (got {got} {body})")
            check(hdrs.get("WWW-Authenticate") == "Bearer", f"{what}: WWW-Authenticate: Bearer")

        head_none = h.b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        body_b64 = h.b64url(json.dumps(good).encode())
        refused(f"{head_none}.{body_b64}.", "alg none, no signature")
        refused(f"{head_none}.{body_b64}.{sign_jwt(SECRET, good).split('.')[2]}", "alg none with a signature")
        refused(sign_jwt(SECRET, good, {"alg": "None", "typ": "JWT"}), "alg None")
        refused(sign_jwt(SECRET, good, {"alg": "HS512", "typ": "JWT"}, alg="sha512"), "HS512")
        refused(sign_jwt(SECRET, good, {"alg": "RS256", "typ": "JWT"}), "RS256 header, HMAC signature (key confusion)")
        refused(sign_jwt(SECRET, good, {"alg": "hs256", "typ": "JWT"}), "alg in lower case")
        refused(sign_jwt(SECRET, good, {"typ": "JWT"}), "no alg")
        refused(sign_jwt(SECRET, good, {"alg": "HS256", "typ": "JWT", "crit": ["exp"]}), "crit header")
        refused(sign_jwt(SECRET, dict(good, exp=now - 1)), "expired a second ago")
        refused(sign_jwt(SECRET, dict(good, exp=now)), "exp == now")
        refused(sign_jwt(SECRET, {"sub": USER[0], "iat": now}), "no exp")
        refused(sign_jwt(SECRET, dict(good, exp="9999999999")), "exp as a string")
        refused(sign_jwt(SECRET, dict(good, nbf=now + 60)), "nbf in the future")
        refused(sign_jwt(SECRET, dict(good, sub="nobody@example.com")), "unknown user")
        refused(sign_jwt(SECRET, dict(good, sub="")), "empty sub")
        no_jti = {k: v for k, v in good.items() if k != "jti"}
        refused(sign_jwt(SECRET, no_jti), "no jti (logout could not revoke it)")
        refused(sign_jwt(SECRET, dict(good, jti="")), "empty jti")
        got = srv.request("POST", "/api/auth/logout", {}, token=sign_jwt(SECRET, no_jti))
        check(got[0] == 401, f"logout with a jti-less token: 401, not a logout that revokes nothing ({got[0]})")
        refused(sign_jwt(SECRET + "x", good), "another secret")
        head, body, sig = token.split(".")
        other = h.b64url(json.dumps(dict(jwt_claims(token), sub=OTHER[0])).encode())
        refused(f"{head}.{other}.{sig}", "claims changed (sub), signature kept")
        flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
        refused(f"{head}.{body}.{flipped}", "one signature character changed")
        refused(f"{head}.{body}.{sig}=", "padded signature")
        refused(f"{head}.{body}", "two segments")
        refused(f"{head}.{body}.{sig}.{sig}", "four segments")
        refused("garbage", "garbage")
        refused("f" * 64, "a 64-hex opaque token")
        for headers, what in (({}, "no Authorization"), ({"Authorization": "Bearer"}, "Bearer without a token"),
                              ({"Authorization": f"Basic {token}"}, "Basic scheme"),
                              ({"Authorization": "Bearer " + "a" * 5000}, "5000-character token")):
            got, _, hdrs = srv.raw_request("GET", "/api/v1/me/mfa/status", headers)
            check(got == 401 and hdrs.get("WWW-Authenticate") == "Bearer", f"{what}: 401 (got {got})")
        got, _, _ = srv.raw_request("GET", "/api/v1/me/mfa/status", {"Authorization": f"bearer {token}"})
        check(got == 200, f"the scheme is case-insensitive (got {got})")
        # the server's own token, after its hour (the test clock moves; the session cache does not skip exp)
        clock.advance(3599)
        expect(status(srv, token), 200, "the issued token at 59:59")
        clock.advance(1)
        refused(token, "the issued token after one hour")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- refresh tokens --------------------------------------------------------------------------------

def test_refresh(binary, work):
    clock = Clock(os.path.join(work, "refresh-clock"))
    srv = start(binary, work, "refresh", clock=clock)
    try:
        access, refresh = tokens(srv)
        expect(srv.request("POST", "/api/auth/refresh", {}), 400, "refresh without refresh_token")
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": "f" * 64}), 401, "an unknown refresh token")
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": access}), 401, "an access token")
        body = expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 200, "refresh")
        check(body["refresh_token"] != refresh and body["token"] != access, "rotated: a new pair")
        expect(status(srv, body["token"]), 200, "the new access token")
        expect(status(srv, access), 200, "the old access token lives until its exp")
        # a second use of the first token: reuse, the whole family is revoked
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 401, "the used refresh token")
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": body["refresh_token"]}), 401,
               "after reuse the newest token of the family is revoked too")
        # logout revokes the access token and the refresh token's family (the session)
        other, _ = tokens(srv)
        access, refresh = tokens(srv)
        r2 = expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 200, "refresh")
        expect(srv.request("POST", "/api/auth/logout", {"refresh_token": r2["refresh_token"]}, token=r2["token"]),
               200, "logout")
        expect(status(srv, r2["token"]), 401, "the logged-out access token")
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": r2["refresh_token"]}), 401,
               "the logged-out refresh token")
        expect(status(srv, other), 200, "another session of the same user is untouched")
        expect(status(srv, access), 401, "an earlier access token of the logged-out session: its family is gone")
        # expiry: 30 days
        _, refresh = tokens(srv)
        clock.advance(30 * 24 * 3600)
        expect(srv.request("POST", "/api/auth/refresh", {"refresh_token": refresh}), 401, "a 30-day-old refresh token")
        log = srv.log()
        check("auth event=refresh_reused" in log, "reuse is logged")
        check(refresh not in log and access not in log, "no token in the log")
    finally:
        check(srv.stop() == 0, "exit 0")
    db = sqlite3.connect(os.path.join(work, "refresh.sqlite"))
    hashes = [r[0] for r in db.execute("SELECT token_hash FROM mfakit_refresh_tokens")]
    db.close()
    check(all(len(x) == 64 for x in hashes) and refresh not in hashes, "the database holds only SHA-256 hashes")


def test_logout_race(binary, work):
    """A logout is final on the process that took it, even while requests with the same token race it:
    no check that ran just before the revocation committed puts the token back into the session cache."""
    srv = start(binary, work, "lrace", extra=["--session-cache-ms", "60000", "--threads", "2", "--db-threads", "4"])
    try:
        stale = 0
        for trial in range(12):
            token, _ = tokens(srv)
            stop = threading.Event()

            def spam():
                import http.client
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
                while not stop.is_set():
                    conn.request("GET", "/api/v1/me/mfa/status", headers={"Authorization": f"Bearer {token}"})
                    conn.getresponse().read()
                conn.close()

            threads = [threading.Thread(target=spam) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.03)
            got = srv.request("POST", "/api/auth/logout", {}, token=token)
            stop.set()
            for t in threads:
                t.join()
            check(got[0] == 200, f"logout {trial + 1}: 200 ({got[0]})")
            if status(srv, token)[0] != 401:
                stale += 1
        check(stale == 0, f"a logged-out token was accepted again on the same process in {stale} of 12 trials")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- logs -------------------------------------------------------------------------------------------

def test_logs(binary, work):
    srv = start(binary, work, "logs")
    try:
        forged = "audit event=enabled user=eve@example.com at=1"
        expect(srv.request("GET", "/api/x%0A" + forged.replace(" ", "%20") + "%0D%0A"), 404, "a forging path")
        out = raw_exchange(srv.port, b"GET /api/x\xc3\xa9\xe2\x80\xa8\x1b[31m/" + b"y" * 400 + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 404") or out.startswith(b"HTTP/1.1 400"), f"non-ASCII path: {out[:30]!r}")
        expect(srv.request("POST", "/api/auth", {"email": "x@example.com\n" + forged, "password": "p"}), 400,
               "a forging email (control characters: 400 before any database call)")
        expect(srv.request("POST", "/api/auth", {"email": "x@example.com\r\n" + forged, "password": "p"}), 400,
               "a forging email with CRLF")
        for bad in ("x@example.com\u0000", "\u0000", "x\u007f@example.com", "x\t@example.com"):
            expect(srv.request("POST", "/api/auth", raw=('{"email":"%s","password":"p"}' % bad).encode()), 400,
                   f"email {bad!r}: 400")
        expect(srv.request("POST", "/api/auth", {"email": "x@example.com", "password": "p"}), 401,
               "control-character emails count as no password failure (no lock)")
        p = subprocess.run([binary, "--db", "memory", "--user", "a\x01@example.com:pw"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 2, f"--user with a control character in the email: exit 2 ({p.returncode})")
        log = srv.log()
    finally:
        srv.stop()
    lines = log.split("\n")
    check(not any(line.startswith("audit event=enabled") for line in lines), "no forged audit line")
    check(all("\r" not in line for line in lines), "no carriage return in the log")
    check(any(line.startswith("http GET /api/x%0Aaudit%20event") for line in lines),
          "the path is logged as sent (percent-encoded), on its own line")
    check(any("user=x@example.com\\x0aaudit\\x20event\\x3denabled" in line for line in lines),
          "a newline, spaces and '=' in an email are escaped")
    check(all(len(line) < 700 for line in lines), "long fields are cut")


# --- password limits -----------------------------------------------------------------------------------

def test_limits(binary, work):
    clock = Clock(os.path.join(work, "limits-clock"))
    srv = start(binary, work, "limits", clock=clock)
    try:
        for i in range(4):
            expect(login(srv, (USER[0], "wrong")), 401, f"wrong password {i + 1}")
        expect(login(srv, (USER[0], "wrong")), 401, "wrong password 5 (now locked for 1 s)")
        got = login(srv, USER)
        expect(got, 429, "the right password while the account is locked")
        check(got[2].get("Retry-After") == "1", f"Retry-After: 1 ({got[2].get('Retry-After')})")
        clock.advance(2)
        expect(login(srv, (USER[0], "wrong")), 401, "wrong password 6 (locked for 2 s)")
        got = login(srv, USER)
        check(got[0] == 429 and got[2].get("Retry-After") == "2", f"locked 2 s: {got[0]} {got[2].get('Retry-After')}")
        clock.advance(3)
        expect(login(srv, USER), 200, "after the lock, the right password")
        expect(login(srv, (USER[0], "wrong")), 401, "a success cleared the count")
        expect(login(srv, USER), 200, "one failure does not lock")
        # the same rule for unknown emails (no account enumeration), and a limit per address
        for i in range(5):
            expect(login(srv, ("ghost@example.com", "x")), 401, f"unknown email {i + 1}")
        got = login(srv, ("ghost@example.com", "x"))
        expect(got, 429, "an unknown email is throttled like a known one")
        clock.advance(5)
        failures = 7 + 5  # failed checks so far from this address (throttled answers do not count)
        for i in range(failures, 20):
            expect(login(srv, (f"user{i}@example.com", "x")), 401, f"failure {i + 1} from this address")
        got = login(srv, OTHER)
        check(got[0] == 429 and int(got[2].get("Retry-After", "0")) > 200,
              f"20 failures from one address: 429 with a long Retry-After ({got[0]} {got[2].get('Retry-After')})")
        got = srv.request("POST", "/api/auth", {"email": OTHER[0], "password": OTHER[1]},
                          headers={"X-Forwarded-For": "198.51.100.9"})
        expect(got, 429, "X-Forwarded-For from an untrusted peer changes nothing")
        clock.advance(301)
        expect(login(srv, OTHER), 200, "the address window ends")
        log = srv.log()
        check("auth event=password_throttled" in log and "auth event=address_throttled" in log, "throttles are logged")
        check(USER[1] not in log and "wrong" not in log, "no password in the log")
    finally:
        check(srv.stop() == 0, "exit 0")


def test_throttle_race(binary, work):
    """Parallel guesses do not slip past the limits: the per-account check and the per-address count are
    taken before the scrypt runs, not after it."""
    clock = Clock(os.path.join(work, "race-clock"))
    # a fair share of the KDF pool as deep as the burst: this test is about the limits, not the share
    srv = start(binary, work, "race", clock=clock, extra=["--kdf-share", "64"])
    try:
        n = 40

        def burst(calls):
            out = [None] * len(calls)

            def run(i):
                out[i] = calls[i]()[0]

            threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return out

        got = burst([lambda i=i: login(srv, (USER[0], f"wrong{i}")) for i in range(n)] + [lambda: login(srv, USER)])
        check(got[-1] == 429, f"{n} parallel wrong passwords, then the right one: 429 (got {got[-1]})")
        check(got.count(401) <= 5 and set(got) <= {401, 429}, f"at most 5 checks failed, the rest 429: {got}")
        check(srv.log().count(f"password_rejected user={USER[0]}") <= 5, "at most 5 password checks ran")
        got = burst([lambda i=i: login(srv, (f"race{i}@example.com", "x")) for i in range(n)])
        check(got.count(401) <= 20 and got.count(401) + got.count(429) == n,
              f"{n} parallel guesses on other accounts: at most 20 (the address limit) checked: {got}")
        expect(login(srv, OTHER), 429, "the address is then limited")
        clock.advance(301)
        expect(login(srv, OTHER), 200, "the address window ends")
        got = burst([lambda: login(srv, OTHER) for _ in range(8)])
        check(got == [200] * 8, f"parallel logins with the right password all pass, one after another: {got}")
    finally:
        check(srv.stop() == 0, "exit 0")


def test_proxy(binary, work):
    """Behind a load balancer every request comes from its address: with --trusted-proxy the limit is per
    X-Forwarded-For client, and a client cannot pick its own address by sending the header itself."""
    srv = start(binary, work, "proxy", extra=["--trusted-proxy", "127.0.0.1"])
    try:
        def via(xff, who):
            return srv.request("POST", "/api/auth", {"email": who[0], "password": who[1]},
                               headers={"X-Forwarded-For": xff})

        for i in range(20):
            expect(via("1.2.3.4, 203.0.113.7", (f"p{i}@example.com", "x")), 401, f"failure {i + 1} of 203.0.113.7")
        expect(via("203.0.113.7", OTHER), 429, "203.0.113.7 is limited")
        expect(via("9.9.9.9, 203.0.113.7", OTHER), 429, "a forged entry left of it does not help")
        expect(via("203.0.113.8", OTHER), 200, "another client behind the same proxy is not")
        expect(via("203.0.113.7, 127.0.0.1", OTHER), 429, "a chain through a second trusted proxy")
        expect(login(srv, OTHER), 200, "the proxy itself (no header) is a client of its own")
        check("peer=203.0.113.7" in srv.log(), "the logs name the client, not the proxy")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- challenge sweeper ------------------------------------------------------------------------------------

def test_sweep(binary, work):
    clock = Clock(os.path.join(work, "sweep-clock"))
    srv = start(binary, work, "sweep", clock=clock, extra=["--sweep-interval-ms", "200"])
    try:
        token, _ = tokens(srv)
        secret = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 200, "setup")["secret"]
        expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, clock.now())}, token=token),
               200, "enable")
        for _ in range(3):
            check(expect(login(srv), 200, "password step")["mfa_required"], "a challenge")
        # passkey ceremonies: asked for without a session, so they must expire and go too
        expect(srv.request("POST", "/api/auth/passkey/login/options", {}), 200, "discoverable login options")
        expect(srv.request("POST", "/api/auth/passkey/login/options", {"email": "nobody@example.com"}), 200,
               "login options for an unknown email")
        db = sqlite3.connect(os.path.join(work, "sweep.sqlite"))

        def stored(prefix):
            end = prefix[:-1] + "0"  # '0' follows '/'
            return db.execute("SELECT count(*) FROM mfakit_records WHERE key > CAST(? AS BLOB)"
                              " AND key < CAST(? AS BLOB)", (prefix, end)).fetchone()[0]

        def challenges():
            return stored("mfakit/challenge/")

        def ceremonies():
            return stored("mfakit/ceremony/")

        check(challenges() == 3, f"3 challenges stored ({challenges()})")
        check(ceremonies() == 2, f"2 ceremonies stored ({ceremonies()})")
        time.sleep(0.6)
        check(challenges() == 3 and ceremonies() == 2, "live challenges and ceremonies are kept")
        clock.advance(301)
        deadline = time.time() + 5
        while (challenges() or ceremonies()) and time.time() < deadline:
            time.sleep(0.1)
        check(challenges() == 0, f"expired challenges are swept ({challenges()} left)")
        check(ceremonies() == 0, f"expired ceremonies are swept ({ceremonies()} left)")
        db.close()
        check("sweep expired_challenges=3 expired_ceremonies=2" in srv.log(), "the sweep is logged")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- HTTP robustness ----------------------------------------------------------------------------------------

def raw_exchange(port, data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return out


def test_http(binary, work):
    srv = start(binary, work, "http")
    try:
        token, _ = tokens(srv)
        expect(srv.request("GET", "/api/nothing"), 404, "unknown path")
        got = srv.request("GET", "/api/auth")
        check(got[0] == 405 and got[2].get("Allow") == "POST", f"GET on a POST route: 405, Allow: POST ({got[0]})")
        got = srv.request("POST", "/api/v1/me/mfa/status", {}, token=token)
        check(got[0] == 405 and got[2].get("Allow") == "GET", "POST on status: 405, Allow: GET")
        page = srv.raw_request("GET", "/", {})
        check(page[0] == 200 and b"<html" in page[1].lower() and "script-src 'self'" in
              page[2].get("Content-Security-Policy", ""), "the demo page with its CSP")
        big = b'{"email":"' + b"a" * (100 * 1024) + b'","password":"x"}'
        out = raw_exchange(srv.port, b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: " + str(len(big)).encode() + b"\r\n\r\n" + big)
        check(out.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in out, f"100 KiB body: 413 ({out[:40]!r})")
        out = raw_exchange(srv.port, b"GET /api/v1/me/mfa/status HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 16384 +
                           b"\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 431 "), f"16 KiB header: 431 ({out[:40]!r})")
        out = raw_exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 400 "), f"a broken request: 400 ({out[:40]!r})")
        chunks = b"".join(b"%x\r\n%s\r\n" % (4096, b"c" * 4096) for _ in range(20)) + b"0\r\n\r\n"
        out = raw_exchange(srv.port, b"POST /api/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
        check(out.startswith(b"HTTP/1.1 413 "), f"an 80 KiB chunked body: 413 ({out[:40]!r})")
        expect(status(srv, token), 200, "the server still answers")
        # Transfer-Encoding not ending in chunked (RFC 9112 6.3): 400 and close, the body is never taken for a
        # second request (here a smuggled logout)
        for te in (b"gzip", b"chunked, gzip", b"identity"):
            victim = expect(login(srv), 200, "login")["token"]
            inner = (b"POST /api/auth/logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + victim.encode() +
                     b"\r\nContent-Length: 0\r\n\r\n")
            out = raw_exchange(srv.port, b"POST /api/v1/me/mfa/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                               b"\r\n\r\n" + inner, timeout=2)
            check(out.startswith(b"HTTP/1.1 400 ") and out.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in out,
                  f"Transfer-Encoding: {te.decode()}: one 400, closed "
                  f"({out[:60]!r}, {out.count(b'HTTP/1.1 ')} answers)")
            expect(status(srv, victim), 200, f"TE {te.decode()}: the smuggled logout did not run")
        out = raw_exchange(srv.port, b"GET /api/v1/me/mfa/status HTTP/1.1\r\nAuthorization: Bearer " + token.encode() +
                           b"\r\n\r\n")
        check(out.startswith(b"HTTP/1.1 400 "), f"HTTP/1.1 without Host: 400 ({out[:40]!r})")
        # keep-alive: several requests on one connection, one TCP connection
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        for i in range(5):
            conn.request("GET", "/api/v1/me/mfa/status", headers={"Authorization": f"Bearer {token}"})
            res = conn.getresponse()
            res.read()
            check(res.status == 200 and res.getheader("Connection") != "close", f"keep-alive request {i + 1}")
        conn.close()
        out = raw_exchange(srv.port, b"GET /api/v1/me/mfa/status HTTP/1.0\r\nAuthorization: Bearer " + token.encode() +
                           b"\r\n\r\n")
        check(out.startswith(b"HTTP/1.0 200 "), "HTTP/1.0: answered, then closed")
        # a body-less POST (curl -X POST): an empty body, not a 400 for a missing length
        got = srv.raw_request("POST", "/api/v1/me/mfa/totp/setup", {"Authorization": f"Bearer {token}"})
        check(got[0] == 200, f"a POST with no Content-Length ({got[0]})")
    finally:
        check(srv.stop() == 0, "exit 0")


def test_slowloris(binary, work):
    srv = start(binary, work, "slowloris", extra=["--request-timeout-ms", "1000", "--idle-timeout-ms", "2500"])
    try:
        token, _ = tokens(srv)
        # 100 connections dripping a request line, one byte every 200 ms; 100 that send nothing
        drip = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", srv.port))
            s.sendall(b"GET /api/v1/me/mfa/status HTTP/1.1\r\n")
            drip.append(s)
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(100)]
        started = time.time()
        closed_at = {}
        slow = []
        while time.time() - started < 3.5:
            t0 = time.time()
            got = status(srv, token)
            slow.append(time.time() - t0)
            check(got[0] == 200, "others are answered while slow clients hold connections")
            for i, s in enumerate(drip):
                if i in closed_at:
                    continue
                try:
                    s.sendall(b"X")
                    s.setblocking(False)
                    try:
                        if s.recv(1) == b"":
                            closed_at[i] = time.time() - started
                    except BlockingIOError:
                        pass
                    s.setblocking(True)
                except OSError:
                    closed_at[i] = time.time() - started
            time.sleep(0.2)
        check(len(closed_at) == 100, f"every dripping connection was closed ({len(closed_at)} of 100)")
        check(max(closed_at.values()) < 2.5, f"within the 1 s request timeout (+ slack): {max(closed_at.values()):.2f} s")
        check(max(slow) < 1.0, f"normal requests stay fast meanwhile (worst {max(slow) * 1000:.0f} ms)")
        time.sleep(0.5)
        gone = 0
        for s in idle:
            s.settimeout(2)
            try:
                if s.recv(1) == b"":
                    gone += 1
            except OSError:
                gone += 1
            s.close()
        check(gone == 100, f"idle connections closed after the idle timeout ({gone} of 100)")
        for s in drip:
            s.close()
        check("phase=request" in srv.log(), "timeouts are logged")
    finally:
        check(srv.stop() == 0, "exit 0")


def keepalive_get(port, source="127.0.0.1", sock=None):
    """One GET on a (new or given) kept-alive connection from `source`; returns (socket, status line)."""
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    s.sendall(b"GET /api/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return s, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([x for x in head.split(b"\r\n") if x.lower().startswith(b"content-length:")][0].split(b":")[1])
    while len(body) < length:
        body += s.recv(4096)
    return s, head.split(b"\r\n")[0]


def closed_within(s, seconds):
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_conns(binary, work):
    """One client cannot take every connection: a cap per address, a short wait for a new connection's first
    byte, and when all are taken the connection idle the longest makes room for a newcomer."""
    srv = start(binary, work, "conns", extra=["--max-connections", "12", "--max-connections-per-address", "8",
                                             "--request-timeout-ms", "800", "--idle-timeout-ms", "60000"])
    try:
        t0 = time.time()
        # 8 connections from one address, each in the middle of a request (none idle): a 9th is closed at once
        busy = [socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.1", 0)) for _ in range(8)]
        for x in busy:
            x.sendall(b"GET /api/nothing HTTP/1.1\r\n")
        silent = [socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.4", 0)) for _ in range(4)]
        time.sleep(0.1)
        ninth = socket.create_connection(("127.0.0.1", srv.port))
        check(closed_within(ninth, 0.5), "a 9th connection from an address whose 8 are all busy is closed at once")
        ninth.close()
        other, line = keepalive_get(srv.port, "127.0.0.2")
        check(line.startswith(b"HTTP/1.1 404"), f"another address is served meanwhile ({line!r})")
        other.close()
        check(all(closed_within(x, 2.0) for x in silent) and time.time() - t0 < 2.5,
              f"silent new connections closed after the 0.8 s request timeout, not the 60 s idle one "
              f"({time.time() - t0:.1f} s)")
        for x in busy + silent:
            x.close()
        # 8 idle connections from one address: a 9th from it makes the oldest of them go, and is served
        idle = []
        for _ in range(8):
            idle.append(socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.5", 0)))
            time.sleep(0.01)
        ninth, line = keepalive_get(srv.port, "127.0.0.5")
        check(line.startswith(b"HTTP/1.1 404"), f"at its cap, an address's new connection is served ({line!r})")
        check(closed_within(idle[0], 0.5), "its connection idle the longest was closed to make room")
        check(not closed_within(idle[7], 0.05), "its newest idle connection was not")
        for x in idle + [ninth]:
            x.close()
        time.sleep(0.1)
        kept = []
        for i in range(12):
            sock, line = keepalive_get(srv.port, "127.0.0.1" if i % 2 else "127.0.0.2")
            check(line.startswith(b"HTTP/1.1 404"), f"kept-alive connection {i + 1} ({line!r})")
            kept.append(sock)
            time.sleep(0.01)
        newcomer, line = keepalive_get(srv.port, "127.0.0.3")
        check(line.startswith(b"HTTP/1.1 404"), f"all 12 taken: a newcomer is still answered ({line!r})")
        check(closed_within(kept[0], 1.0), "the connection idle the longest was closed to make room")
        _, line = keepalive_get(srv.port, sock=kept[11])
        check(line.startswith(b"HTTP/1.1 404"), "the most recently used one still works")
        for x in kept + [newcomer]:
            x.close()
    finally:
        check(srv.stop() == 0, "exit 0")


def test_wipe(binary, work):
    """A bearer token in a request that dies in the parser (413, bad chunk) is wiped like a handled one's;
    --user passwords are not kept once hashed."""
    secret_pw = "pw-" + os.urandom(12).hex()
    srv = start(binary, work, "wipe", extra=["--threads", "1", "--user", f"carol@example.com:{secret_pw}"])
    try:
        if h.sanitized(binary) or memory_holds(srv.proc.pid, b"no such bytes") is None:
            check(True, "a sanitizer build (shadow memory, quarantine), or memory not readable here: skipped")
            return
        bodies = {
            "413": lambda tok: b"POST /api/auth/logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
                               b"\r\nContent-Length: 999999\r\n\r\n",
            "bad chunk": lambda tok: b"POST /api/auth/logout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
                                     b"\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        }
        for name, make in bodies.items():
            token, _ = tokens(srv)
            raw_exchange(srv.port, make(token.encode()), timeout=2)
            time.sleep(0.1)
            check(memory_holds(srv.proc.pid, token.split(".")[2].encode()) is False,
                  f"{name}: the bearer token's signature is not left in memory")
        check(memory_holds(srv.proc.pid, secret_pw.encode()) is False, "a --user password is not kept in memory")
    finally:
        check(srv.stop() == 0, "exit 0")


# --- the KDF pool ------------------------------------------------------------------------------------------

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_kdf(binary, work):
    # real password cost (scrypt N=2^17, r=8: 128 MiB a check), one scrypt thread, at most 4 queued
    srv = start(binary, work, "kdf", fast=False, extra=["--kdf-threads", "1", "--kdf-queue", "4"])
    try:
        results = [None] * 12
        peak = [0]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(srv.proc.pid))
                time.sleep(0.02)

        def one(i):  # distinct (unknown) emails: checks of one account take turns (the account gate)
            got = login(srv, (f"kdf{i}@example.com", "x"), timeout=180)  # real scrypt at nice 10, 5 deep: slow on a busy machine
            results[i] = (got[0], got[2].get("Retry-After"))

        w = threading.Thread(target=watch)
        w.start()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        w.join()
        codes = [r[0] for r in results]
        # how many are queued depends on the measured job time too (the wait bound): at least the running one
        check(codes.count(401) >= 2 and codes.count(503) >= 1 and codes.count(401) + codes.count(503) == len(codes),
              f"12 concurrent logins on a 1-thread, 4-deep pool: 401s and 503s only ({codes})")
        check(all(r[1] is not None and int(r[1]) >= 1 for r in results if r[0] == 503),
              "a full pool answers 503 with Retry-After")
        if not h.sanitized(binary):
            check(peak[0] < 400 * 1024,
                  f"memory stays bounded: peak RSS {peak[0] // 1024} MiB (128 MiB per running scrypt)")
        expect(login(srv, timeout=180), 200, "afterwards logins work")
    finally:
        code = srv.stop()
    log = srv.log()
    check(code == 0 and "kdf pool 1 threads" in log and "refused" in log, "the pool figures are in the exit line")


def test_verify_flood(binary, work):
    """Backup-code verifies with a token no one was given never reach the scrypt pool: logins stay served;
    bad tokens are limited per address."""
    srv = start(binary, work, "vflood", extra=["--kdf-threads", "1", "--kdf-queue", "2"])
    try:
        n = 60
        results = [None] * (n + 1)
        bogus = [os.urandom(32).hex() for _ in range(n)]

        def attack(i):
            results[i] = srv.request("POST", "/api/auth/mfa/verify",
                                     {"mfaToken": bogus[i], "code": "aaaa-bbbb", "type": "backup"})[0]

        def victim():
            time.sleep(0.02)
            results[n] = login(srv)[0]

        threads = [threading.Thread(target=attack, args=(i,)) for i in range(n)] + [threading.Thread(target=victim)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(results[n] == 200, f"a login during {n} bogus backup verifies: 200 (got {results[n]})")
        check(results[:n] == [401] * n, f"bogus tokens: 401 each, never 503: {sorted(set(results[:n]))}")
        expect(srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": "zz", "code": "1", "type": "backup"}), 401,
               "a malformed token")
        expect(srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": "", "code": "1", "type": "backup"}), 400,
               "no token")
        codes = [srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": "0" * 64, "code": "1"})[0]
                 for _ in range(45)]
        check(codes.count(401) == 100 - n - 1 and codes[-1] == 429,
              f"100 bad tokens from one address, then 429: {codes}")
    finally:
        code = srv.stop()
    log = srv.log()
    check(code == 0 and "kdf pool 1 threads, peak 1 queued, 0 refused, 1 run;" in log,
          "only the login reached the KDF pool: " + log[log.find("stopped;"):][:200])


def test_logbuf(binary, work):
    """A stderr nobody reads (a full pipe) neither grows the log buffer without bound nor keeps SIGTERM from
    ending the process; dropped lines are counted and reported."""
    import http.client
    import select

    def launch():
        p = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--db", "memory", "--jwt-secret", SECRET,
                              "--insecure-fast-kdf", "--user", f"{USER[0]}:{USER[1]}", "--log-buffer-kib", "16"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        port = None
        while port is None:
            line = p.stdout.readline().decode()
            check(line != "", "the server started")
            if "listening on" in line:
                port = int(line.rsplit(":", 1)[1].strip("/\n"))
        return p, port

    def flood(port, n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(n):
            conn.request("GET", "/api/" + "x" * 100)
            conn.getresponse().read()
        conn.close()

    # 1. stalled until the end: SIGTERM still ends the process, after a bounded wait
    p, port = launch()
    try:
        flood(port, 1500)  # ~200 KiB of access log: the 64 KiB pipe, 16 KiB buffered, the rest dropped
        rss = rss_kib(p.pid)
        flood(port, 1500)
        if not h.sanitized(binary):
            check(rss_kib(p.pid) - rss < 4096, "the log buffer does not grow while stderr is stalled")
        t0 = time.time()
        p.send_signal(signal.SIGTERM)
        try:
            code = p.wait(timeout=8)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0 and time.time() - t0 < 6, f"SIGTERM with a stalled stderr: exit 0 within 6 s ({code})")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    # 2. stalled, then read again: the drops are reported
    p, port = launch()
    try:
        flood(port, 1500)
        got = b""
        os.set_blocking(p.stderr.fileno(), False)
        deadline = time.time() + 3
        while b"log: dropped" not in got and time.time() < deadline:
            select.select([p.stderr], [], [], 0.2)
            try:
                got += p.stderr.read() or b""
            except BlockingIOError:
                pass
        check(b"log: dropped" in got, "the dropped lines are reported once stderr takes lines again")
    finally:
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()


# --- SIGTERM ----------------------------------------------------------------------------------------------

def test_sigterm(binary, work):
    srv = start(binary, work, "sigterm", fast=False)
    idle = socket.create_connection(("127.0.0.1", srv.port))
    result = {}

    def slow_login():  # about half a second of scrypt on the server
        result["got"] = login(srv)

    t = threading.Thread(target=slow_login)
    t.start()
    time.sleep(0.15)
    started = time.time()
    srv.proc.send_signal(15)
    t.join(30)
    check(result.get("got", (None,))[0] == 200, f"the login in flight is answered ({result.get('got', (None,))[0]})")
    idle.settimeout(5)
    try:
        check(idle.recv(1) == b"", "an idle keep-alive connection is closed")
    except OSError:
        pass
    idle.close()
    code = srv.proc.wait(30)
    check(code == 0, f"exit 0 after SIGTERM ({code})")
    check(time.time() - started < 10, "the server stops promptly")
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        check(False, "no longer accepting")
    except OSError:
        check(True, "no longer accepting")
    log = srv.log()
    srv.stop()
    check("signal 15: stopping" in log and "stopped;" in log, "stop logged")


def test_shutdown(binary, work):
    """SIGTERM does not wait out a half-sent request's timeout (1 s at most), and a second SIGTERM ends the
    process at once, whatever is still running."""
    srv = start(binary, work, "shutdown", extra=["--request-timeout-ms", "20000"])
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.1)
    t0 = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    code = srv.proc.wait(10)
    took = time.time() - t0
    half.close()
    srv.stop()
    check(code == 0 and took < 3, f"SIGTERM with a half-sent request: exit 0 in {took:.1f} s (request timeout 20 s)")
    # the same, with a second SIGTERM 0.1 s after the first: the process ends at once, not after that second
    srv = start(binary, work, "shutdown2", extra=["--request-timeout-ms", "20000"])
    half = socket.create_connection(("127.0.0.1", srv.port))
    half.sendall(b"POST /api/auth HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.1)
    t0 = time.time()
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    srv.proc.send_signal(signal.SIGTERM)
    try:
        code = srv.proc.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    took = time.time() - t0
    half.close()
    srv.kill()
    check(code is not None and took < 0.6, f"a second SIGTERM ends the process at once ({code}, {took:.2f} s)")


TESTS = {"flags": test_flags, "users": test_users, "jwt": test_jwt, "refresh": test_refresh,
         "logout_race": test_logout_race, "logs": test_logs, "limits": test_limits,
         "throttle_race": test_throttle_race, "proxy": test_proxy,
         "sweep": test_sweep, "http": test_http, "slowloris": test_slowloris, "conns": test_conns, "wipe": test_wipe, "kdf": test_kdf, "verify_flood": test_verify_flood, "logbuf": test_logbuf,
         "sigterm": test_sigterm,
         "shutdown": test_shutdown}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    if shutil.which("oathtool") is None:
        print("FAIL: oathtool is not installed (see .ci/install-deps)")
        return 1
    work = args.workdir or tempfile.mkdtemp(prefix="mfakit-server-test-")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    started = time.time()
    names = [n for n in args.only.split(",") if n] or list(TESTS)
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
