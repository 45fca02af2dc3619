#!/usr/bin/env python3
"""End-to-end test of mfakit_demo_server over real HTTP.

Starts the built server on a free 127.0.0.1 port and walks every endpoint
and status code of shared/spec/flows.md with the Python standard library as
the client. TOTP codes come from oathtool (an independent implementation),
the QR code is decoded with zbarimg. The server's clock is pinned through its
--clock-offset-file test hook ("@T") and moved by the test, so expiry and
throttle delays need no sleeping and step boundaries never make it flaky.

    http_e2e_test.py --server PATH [--store SPEC] [--workdir DIR]

Missing tools (oathtool, zbarimg) are failures, not skips.
"""
import argparse
import base64
import json
import os
import re
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Clock, Server, check, expect, jwt_claims, totp  # noqa: E402

BACKUP_CODE = re.compile(r"^[abcdefghjkmnpqrstuvwxyz23456789]{4}-[abcdefghjkmnpqrstuvwxyz23456789]{4}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
# an HS256 JWT: {"alg":"HS256","typ":"JWT"} . claims . 32-byte signature, base64url without padding
JWT = re.compile(r"^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$")


class E2EServer(Server):
    """The server under test: its users (one per part of the walk) and its pinned clock."""

    def __init__(self, binary, store, workdir):
        # pinned 5 s into a 30 s step, near the real time
        self.clock = Clock(os.path.join(workdir, "clock"))
        self.users = {}
        suffix = secrets.token_hex(4)
        for name in ["plain", "main", "backup", "limit", "concurrent", "disable"]:
            self.users[name] = (f"{name}-{suffix}@example.com", f"pw {name} {secrets.token_hex(8)}")
        args = ["--port", "0", "--insecure-fast-kdf", "--store", store,
                "--key-file", os.path.join(workdir, "sealing.key"),
                "--clock-offset-file", self.clock.path, "--issuer", "mfakit e2e",
                "--setup-reuse-ms", "0"]  # a second setup gives a new secret (the flow spec)
        for email, password in self.users.values():
            args += ["--user", f"{email}:{password}"]
        super().__init__(binary, args, workdir)

    def advance(self, seconds):
        self.clock.advance(seconds)

    def now(self):
        return self.clock.now()

    def bodyless_post(self, path, token):
        """A POST with neither Content-Length nor Transfer-Encoding (like `curl -X POST`)."""
        status, payload, headers = self.raw_request("POST", path, {"Authorization": f"Bearer {token}"}, timeout=30)
        return status, json.loads(payload) if payload else None, headers


def wrong_code(secret, at):
    """A 6-digit code that matches none of the steps the server accepts now (and is not one step out)."""
    near = {totp(secret, at + d * 30) for d in range(-2, 3)}
    for candidate in ("000000", "111111", "123456", "999999", "424242", "765432"):
        if candidate not in near:
            return candidate
    raise AssertionError("no wrong code found")


def png_size(png):
    check(png[:8] == b"\x89PNG\r\n\x1a\n", "the QR code is a PNG")
    check(png[12:16] == b"IHDR", "the PNG starts with IHDR")
    return struct.unpack(">II", png[16:24])


def login(srv, who):
    email, password = srv.users[who]
    return srv.request("POST", "/api/auth", {"email": email, "password": password})


def login_tokens(srv, who):
    body = expect(login(srv, who), 200, f"login of {who}")
    check("token" in body and "mfa_required" not in body, f"{who} without TOTP gets tokens: {body}")
    return body["token"]


def challenge(srv, who):
    body = expect(login(srv, who), 200, f"password step of {who}")
    check(body.get("mfa_required") is True, f"{who} with TOTP gets a challenge: {body}")
    check(HEX64.match(body.get("mfa_token", "")) is not None, "mfa_token is 64 hex characters")
    check(body.get("mfa_methods") == ["totp", "backup_code"], "mfa_methods lists totp and backup_code")
    check("token" not in body, "no session before the second factor")
    return body["mfa_token"]


def verify(srv, mfa_token, code, kind=None):
    body = {"mfaToken": mfa_token, "code": code}
    if kind is not None:
        body["type"] = kind
    return srv.request("POST", "/api/auth/mfa/verify", body)


def enrol(srv, who, seen):
    """Logs in, sets up and enables TOTP; returns (token, secret, backup codes, enable time)."""
    token = login_tokens(srv, who)
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 200, "setup")
    secret = body["secret"]
    at = srv.now()
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, at)}, token=token), 200,
                  "enable")
    seen["secrets"].append(secret)
    seen["codes"] += body["backupCodes"]
    seen["tokens"].append(token)
    srv.advance(30)  # the enable step is spent; move to the next one
    return token, secret, body["backupCodes"], at


def run(srv):
    seen = {"secrets": [], "codes": [], "tokens": []}
    protected = [("POST", "/api/v1/me/mfa/totp/setup"), ("POST", "/api/v1/me/mfa/totp/enable"),
                 ("POST", "/api/v1/me/mfa/totp/disable"), ("POST", "/api/v1/me/mfa/backup-codes/regenerate"),
                 ("GET", "/api/v1/me/mfa/status")]

    # --- 0. login without TOTP, 401 on protected endpoints ------------------------------------
    email, password = srv.users["plain"]
    expect(srv.request("POST", "/api/auth", {"email": email}), 400, "login without password")
    expect(srv.request("POST", "/api/auth", raw=b"not json"), 400, "login with a broken body")
    expect(srv.request("POST", "/api/auth", {"email": email, "password": "wrong"}), 401, "login with a wrong password")
    expect(srv.request("POST", "/api/auth", {"email": "nobody@example.com", "password": "x"}), 401, "unknown email")
    for _ in range(3):  # PostgreSQL's text refuses NUL: answered 400 before any database call, not 503
        expect(srv.request("POST", "/api/auth", raw=b'{"email":"a\\u0000@example.com","password":"x"}'), 400,
               "an email with NUL")
    body = expect(login(srv, "plain"), 200, "login without TOTP")
    check(JWT.match(body["token"]) and HEX64.match(body["refresh_token"]),
          "token is an HS256 JWT, refresh_token 64 hex")
    claims = jwt_claims(body["token"])
    check(claims["sub"] == email and claims["exp"] - claims["iat"] == 3600, f"JWT sub and a 1 h exp: {claims}")
    plain = body["token"]
    seen["tokens"] += [body["token"], body["refresh_token"]]
    for method, path in protected:
        status, _, hdrs = srv.request(method, path, {} if method == "POST" else None)
        check(status == 401, f"{path} without a token: 401 (got {status})")
        check(hdrs.get("WWW-Authenticate") == "Bearer", f"{path}: WWW-Authenticate: Bearer")
        expect(srv.request(method, path, {} if method == "POST" else None, token="f" * 64), 401, f"{path}, bad token")
        expect(srv.request(method, path, {} if method == "POST" else None, token=body["refresh_token"]), 401,
               f"{path} with the refresh token")
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=plain), 200, "status")
    check(status == {"totpEnabled": False, "backupCodesRemaining": 0, "passkeysCount": 0}, f"fresh status: {status}")
    expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": srv.users["plain"][1]},
                       token=plain), 400, "regenerate without MFA")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/disable", {"password": srv.users["plain"][1]}, token=plain), 400,
           "disable without MFA")
    expect(srv.request("GET", "/api/no/such/thing"), 404, "unknown path")

    # --- 1. setup, 2. enable -------------------------------------------------------------------
    token = login_tokens(srv, "main")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": "123456"}, token=token), 400,
           "enable before setup")
    first = expect(srv.bodyless_post("/api/v1/me/mfa/totp/setup", token), 200, "setup (a POST without a body)")
    check(set(first) == {"secret", "qrCode", "otpauthUri"}, f"setup fields: {sorted(first)}")
    check(re.fullmatch(r"[A-Z2-7]{32}", first["secret"]) is not None, "secret is base32 of 20 bytes")
    uri = first["otpauthUri"]
    check(uri.startswith("otpauth://totp/") and f"secret={first['secret']}" in uri and "issuer=mfakit%20e2e" in uri,
          f"otpauthUri: {uri}")
    check(first["qrCode"].startswith("data:image/png;base64,"), "qrCode is a PNG data URI")
    png = base64.b64decode(first["qrCode"].split(",", 1)[1], validate=True)
    w, h = png_size(png)
    check(w == h and 250 <= w <= 350, f"the QR code is about 300x300 (got {w}x{h})")
    qr_file = os.path.join(srv.workdir, "qr.png")
    with open(qr_file, "wb") as f:
        f.write(png)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", qr_file], capture_output=True, text=True)
    check(decoded.returncode == 0 and decoded.stdout.strip() == uri,
          f"the QR code decodes to the otpauth URI (zbarimg: {decoded.returncode} {decoded.stderr.strip()})")

    second = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 200, "setup again")
    check(second["secret"] != first["secret"], "a second setup replaces the pending secret")
    secret = second["secret"]
    seen["secrets"] += [first["secret"], secret]

    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {}, token=token), 400, "enable without code")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", raw=b"", token=token), 400, "enable with an empty body")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": "12ab56"}, token=token), 422, "malformed code")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(first["secret"], srv.now())}, token=token),
           422, "a code of the replaced secret")
    throttled = srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, srv.now())}, token=token)
    expect(throttled, 429, "enable right after a failure is throttled")
    check(throttled[2].get("Retry-After") == "1", f"Retry-After: 1 after one failure ({throttled[2].get('Retry-After')})")
    srv.advance(2)
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": wrong_code(secret, srv.now())}, token=token),
           422, "a wrong code")
    srv.advance(3)  # two consecutive failures: 2 s delay
    enabled_at = srv.now()
    enable_code = totp(secret, enabled_at)
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": enable_code}, token=token), 200,
                  "enable with the right code")
    check(body["enabled"] is True, "enabled: true")
    codes = body["backupCodes"]
    check(len(codes) == 10 and len(set(codes)) == 10, f"10 distinct backup codes: {codes}")
    check(all(BACKUP_CODE.match(c) for c in codes), f"backup codes are xxxx-xxxx from the alphabet: {codes}")
    seen["codes"] += codes
    seen["tokens"].append(token)
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, srv.now())}, token=token), 409,
           "enable when enabled")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token), 409, "setup when enabled")
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=token), 200, "status")
    check(status == {"totpEnabled": True, "backupCodesRemaining": 10, "passkeysCount": 0}, f"status: {status}")

    # --- 0./3. login with a challenge ------------------------------------------------------------
    mfa = challenge(srv, "main")
    expect(srv.request("POST", "/api/auth/mfa/verify", {"code": "123456"}), 400, "verify without mfaToken")
    expect(srv.request("POST", "/api/auth/mfa/verify", {"mfaToken": mfa}), 400, "verify without code")
    expect(verify(srv, mfa, "123456", "sms"), 400, "verify with an unknown type")
    expect(verify(srv, secrets.token_hex(32), totp(secret, srv.now())), 401, "an unknown challenge")
    expect(verify(srv, "abc", totp(secret, srv.now())), 401, "a malformed challenge token")
    expect(verify(srv, mfa, totp(secret, enabled_at)), 401, "the code that enabled TOTP is spent (replay)")
    srv.advance(30)  # the next step; also past the 1 s throttle delay
    code = totp(secret, srv.now())
    body = expect(verify(srv, mfa, code), 200, "verify with a fresh code (type defaults to totp)")
    check(JWT.match(body["token"]) and HEX64.match(body["refresh_token"]), "a session after the second factor")
    seen["tokens"] += [body["token"], body["refresh_token"], mfa]
    expect(verify(srv, mfa, code), 401, "a challenge is deleted after one success")
    mfa2 = challenge(srv, "main")
    expect(verify(srv, mfa2, code, "totp"), 401, "the same code on a new challenge (replay)")
    srv.advance(30 + 2)
    expect(verify(srv, mfa2, totp(secret, srv.now()), "totp"), 200, "the next step's code on the same challenge")

    # --- backup codes --------------------------------------------------------------------------------
    token_b, secret_b, codes_b, _ = enrol(srv, "backup", seen)
    mfa = challenge(srv, "backup")
    body = expect(verify(srv, mfa, codes_b[0].replace("-", "").upper(), "backup"), 200,
                  "a backup code without the dash, in upper case")
    session = body["token"]
    seen["tokens"] += [body["token"], body["refresh_token"], mfa]
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=session), 200, "status")
    check(status["backupCodesRemaining"] == 9, f"9 backup codes left: {status}")
    mfa = challenge(srv, "backup")
    expect(verify(srv, mfa, codes_b[0], "backup"), 401, "a used backup code is rejected")
    srv.advance(2)
    expect(verify(srv, mfa, f"  {codes_b[1].upper()} ", "backup"), 200, "a backup code with the dash and spaces")
    mfa = challenge(srv, "backup")
    expect(verify(srv, mfa, totp(secret_b, srv.now()), "backup"), 401, "a TOTP code is not a backup code")
    srv.advance(2)
    expect(verify(srv, mfa, codes_b[2], "backup_code"), 200, "type backup_code is accepted too")
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=token_b), 200, "status")
    check(status["backupCodesRemaining"] == 7, f"7 backup codes left: {status}")

    # --- 5. regenerate ---------------------------------------------------------------------------------
    pw_b = srv.users["backup"][1]
    expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": "wrong"}, token=token_b), 422,
           "regenerate with a wrong password")
    expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {}, token=token_b), 422,
           "regenerate without a password")
    expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": pw_b}, token=token_b), 403,
           "regenerate from a password-only session without a code")
    srv.advance(30)
    body = expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate",
                              {"password": pw_b, "code": totp(secret_b, srv.now())}, token=token_b), 200,
                  "regenerate")
    fresh = body["backupCodes"]
    check(set(body) == {"backupCodes"} and len(fresh) == 10 and all(BACKUP_CODE.match(c) for c in fresh),
          f"10 new codes: {body}")
    check(not set(fresh) & set(codes_b), "the new codes are new")
    seen["codes"] += fresh
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=token_b), 200, "status")
    check(status["backupCodesRemaining"] == 10, f"10 codes after regenerate: {status}")
    mfa = challenge(srv, "backup")
    expect(verify(srv, mfa, codes_b[5], "backup"), 401, "an old backup code stops working at once")
    srv.advance(2)
    expect(verify(srv, mfa, fresh[9], "backup"), 200, "a new backup code works")

    # --- the 5-attempt limit, the throttle, expiry ---------------------------------------------------------
    token_l, secret_l, _, _ = enrol(srv, "limit", seen)
    mfa = challenge(srv, "limit")
    wrong = wrong_code(secret_l, srv.now())
    expect(verify(srv, mfa, wrong), 401, "wrong code 1")
    throttled = verify(srv, mfa, totp(secret_l, srv.now()))
    expect(throttled, 429, "right after a failure: throttled")
    check(throttled[2].get("Retry-After") == "1", "a throttled login says Retry-After: 1")
    for attempt in range(2, 6):
        srv.advance(2 ** (attempt - 2) + 1)  # the delay after n failures is 2^(n-1) s
        expect(verify(srv, mfa, wrong_code(secret_l, srv.now())), 401, f"wrong code {attempt}")
    exhausted = verify(srv, mfa, totp(secret_l, srv.now()))
    expect(exhausted, 429, "a 6th attempt on the challenge, even with the right code: 429")
    check(exhausted[2].get("Retry-After") is None, "no Retry-After for a dead challenge: log in again")
    throttled = verify(srv, challenge(srv, "limit"), totp(secret_l, srv.now()))
    expect(throttled, 429, "a new challenge right after 5 failures: throttled")
    check(throttled[2].get("Retry-After") == "16", f"Retry-After: 16 after 5 failures ({throttled[2].get('Retry-After')})")
    srv.advance(17)
    expect(verify(srv, mfa, totp(secret_l, srv.now())), 429, "the exhausted challenge stays dead")
    mfa = challenge(srv, "limit")
    srv.advance(301)
    expect(verify(srv, mfa, totp(secret_l, srv.now())), 401, "a challenge expires after 5 minutes")
    mfa = challenge(srv, "limit")
    srv.advance(299)
    expect(verify(srv, mfa, totp(secret_l, srv.now())), 200, "a challenge is still valid just before 5 minutes")

    # --- concurrent logins with one code: exactly one wins (RFC 6238 section 5.2) -------------------------
    _, secret_c, codes_c, _ = enrol(srv, "concurrent", seen)
    challenges = [challenge(srv, "concurrent") for _ in range(8)]
    code = totp(secret_c, srv.now())
    results = [None] * len(challenges)

    def attempt(i):
        results[i] = verify(srv, challenges[i], code)[0]

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(challenges))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(results.count(200) == 1 and results.count(200) + results.count(401) + results.count(429) == len(results),
          f"8 concurrent logins with one TOTP code: exactly one 200 ({results})")
    srv.advance(70)
    challenges = [challenge(srv, "concurrent") for _ in range(8)]
    results = [None] * len(challenges)

    def attempt_backup(i):
        results[i] = verify(srv, challenges[i], codes_c[4], "backup")[0]

    threads = [threading.Thread(target=attempt_backup, args=(i,)) for i in range(len(challenges))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(results.count(200) == 1, f"8 concurrent logins with one backup code: exactly one 200 ({results})")

    # --- 4. disable, logout --------------------------------------------------------------------------------
    token_d, secret_d, codes_d, _ = enrol(srv, "disable", seen)
    pw_d = srv.users["disable"][1]
    expect(srv.request("POST", "/api/v1/me/mfa/totp/disable", {"password": "wrong"}, token=token_d), 422,
           "disable with a wrong password")
    srv.advance(30)
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/disable",
                              {"password": pw_d, "code": totp(secret_d, srv.now())}, token=token_d), 200,
                  "disable (a password-only session: with a fresh code)")
    check(body == {"disabled": True}, f"disabled: true ({body})")
    status = expect(srv.request("GET", "/api/v1/me/mfa/status", token=token_d), 200, "status")
    check(status == {"totpEnabled": False, "backupCodesRemaining": 0, "passkeysCount": 0}, f"after disable: {status}")
    expect(srv.request("POST", "/api/v1/me/mfa/totp/disable", {"password": pw_d}, token=token_d), 400,
           "disable again")
    login_tokens(srv, "disable")  # no second factor any more
    body = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=token_d), 200, "setup after disable")
    check(body["secret"] != secret_d, "a new secret after disable")
    seen["secrets"].append(body["secret"])
    expect(srv.request("POST", "/api/auth/logout", token=token_d), 200, "logout")
    expect(srv.request("GET", "/api/v1/me/mfa/status", token=token_d), 401, "a logged-out token is dead")
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--store", default=None, help="default: a fresh SQLite file in the work dir")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the work dir (server log, QR code)")
    args = ap.parse_args()
    for tool in ("oathtool", "zbarimg"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is not installed (see .ci/install-deps)")
            return 1
    workdir = args.workdir or tempfile.mkdtemp(prefix="mfakit-e2e-")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    store = args.store or f"sqlite:{os.path.join(workdir, 'demo.sqlite')}"
    started = time.time()
    srv = E2EServer(args.server, store, workdir)
    try:
        seen = run(srv)
    except Exception as e:  # noqa: BLE001 - report any failure with the server log
        srv.stop()
        print(f"FAIL after {h.checks} checks: {e}\n--- server log ---\n{srv.log()}")
        return 1
    code = srv.stop()
    log = srv.log()
    check(code == 0, f"the server exits 0 on SIGTERM (got {code})")
    for kind in ("setup", "enabled", "disabled", "code_accepted", "code_rejected", "code_replayed", "backup_code_used",
                 "backup_codes_regenerated", "throttled", "challenge_issued", "challenge_exhausted"):
        check(f"audit event={kind} " in log, f"the audit log has a {kind} event")
    leaked = [s for s in seen["secrets"] + seen["codes"] + seen["tokens"] if s in log]
    leaked += [pw for _, pw in srv.users.values() if pw in log]
    check(not leaked, f"the log holds no secret, backup code, token or password ({len(leaked)} found)")
    print(f"PASS: {h.checks} checks against {store.split(':')[0]} in {time.time() - started:.1f} s")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
