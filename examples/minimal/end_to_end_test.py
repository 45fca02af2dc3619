#!/usr/bin/env python3
"""Drives mfakit_minimal end to end over HTTP, with oathtool as the phone.

usage: end_to_end_test.py PATH/TO/mfakit_minimal PATH/TO/oathtool

Starts the program on a free port with a fresh SQLite database, then: login
without a second factor, setup, enable with oathtool's code, login with a
TOTP code, the same code again (refused: 401), a wrong code (401), login
with a backup code, the same backup code again (401), status, regenerate and
disable (each with a wrong password first: 422), waiting out the throttle between failures. Exits non-zero on the first
answer that differs from the API's.
"""
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

EMAIL, PASSWORD = "ann@example.com", "correct horse battery staple"


class Client:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


def expect(what, got, status):
    code, body = got
    if code != status:
        sys.exit(f"FAIL {what}: expected {status}, got {code} {body}")
    print(f"ok   {what}: {code}")
    return body


def totp(oathtool, secret, offset_seconds=0):
    """The code oathtool gives for the secret, `offset_seconds` from now."""
    args = [oathtool, "--totp", "-b", secret]
    if offset_seconds:
        args[1:1] = ["-N", f"now + {offset_seconds} seconds"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def wait_out_throttle(failures):
    """Each consecutive failure delays the next attempt (the library's default
    throttle: 2^(n-1) s after the n-th, counted in whole seconds; sooner
    answers 429 with Retry-After)."""
    time.sleep(2 ** (failures - 1) + 0.2)


def login(client, code, kind):
    client.token = None
    body = expect("login (password)", client.call("POST", "/api/auth", {"email": EMAIL, "password": PASSWORD}), 200)
    if not body.get("mfa_required") or len(body.get("mfa_token", "")) != 64:
        sys.exit(f"FAIL login: expected a challenge, got {body}")
    return client.call("POST", "/api/auth/mfa/verify", {"mfaToken": body["mfa_token"], "code": code, "type": kind})


def scenario(client, oathtool):
    expect("no token", client.call("GET", "/api/v1/me/mfa/status"), 401)
    expect("wrong password", client.call("POST", "/api/auth", {"email": EMAIL, "password": "nope"}), 401)
    body = expect("login without MFA", client.call("POST", "/api/auth", {"email": EMAIL, "password": PASSWORD}), 200)
    client.token = body["token"]
    session = body["token"]

    setup = expect("setup", client.call("POST", "/api/v1/me/mfa/totp/setup"), 200)
    if not setup["otpauthUri"].startswith("otpauth://totp/") or setup["secret"] not in setup["otpauthUri"]:
        sys.exit(f"FAIL setup body: {setup}")
    secret = setup["secret"]
    expect("enable without code", client.call("POST", "/api/v1/me/mfa/totp/enable", {}), 400)
    enabled = expect("enable", client.call("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(oathtool, secret)}), 200)
    codes = enabled["backupCodes"]
    if len(codes) != 10 or not all(re.fullmatch(r"[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}", c) for c in codes):
        sys.exit(f"FAIL enable body: {enabled}")
    expect("enable again", client.call("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(oathtool, secret)}), 409)

    # The enable code's time step is spent: log in with the next step's code
    # (the drift window accepts it), then try it once more.
    code = totp(oathtool, secret, 30)
    expect("login with TOTP", login(client, code, "totp"), 200)
    expect("the same TOTP code again (replay)", login(client, code, "totp"), 401)
    wait_out_throttle(1)
    near = {totp(oathtool, secret, s) for s in (-60, -30, 0, 30, 60)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c not in near)
    expect("wrong TOTP code", login(client, wrong, "totp"), 401)
    wait_out_throttle(2)
    tokens = expect("login with a backup code", login(client, codes[0].upper().replace("-", ""), "backup"), 200)
    expect("the same backup code again", login(client, codes[0], "backup"), 401)
    wait_out_throttle(1)

    client.token = tokens["token"]
    status = expect("status", client.call("GET", "/api/v1/me/mfa/status"), 200)
    if status.get("totpEnabled") is not True or status.get("backupCodesRemaining") != 9:
        sys.exit(f"FAIL status body: {status}")
    expect("regenerate, wrong password", client.call("POST", "/api/v1/me/mfa/backup-codes/regenerate",
                                                      {"password": "nope"}), 422)
    fresh = expect("regenerate", client.call("POST", "/api/v1/me/mfa/backup-codes/regenerate",
                                             {"password": PASSWORD}), 200)["backupCodes"]
    if len(fresh) != 10 or set(fresh) & set(codes):
        sys.exit(f"FAIL regenerate body: {fresh}")
    expect("an old backup code after regenerate", login(client, codes[1], "backup"), 401)
    client.token = session
    expect("disable, wrong password", client.call("POST", "/api/v1/me/mfa/totp/disable", {"password": "nope"}), 422)
    expect("disable", client.call("POST", "/api/v1/me/mfa/totp/disable", {"password": PASSWORD}), 200)
    status = expect("status after disable", client.call("GET", "/api/v1/me/mfa/status"), 200)
    if status.get("totpEnabled") is not False or status.get("backupCodesRemaining") != 0:
        sys.exit(f"FAIL status body: {status}")


def main():
    program, oathtool = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MFAKIT_SEALING_KEY=secrets.token_hex(32))
        proc = subprocess.Popen([program, "0", os.path.join(tmp, "mfa.db"), EMAIL, PASSWORD], env=env,
                                stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            m = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)\n", line)
            if not m:
                sys.exit(f"FAIL start: {line!r}, exit status {proc.poll()}")
            scenario(Client(m.group(1)), oathtool)
        finally:
            proc.terminate()
            rc = proc.wait(timeout=10)
        if rc != 0:
            sys.exit(f"FAIL exit status {rc} after SIGTERM")
    print("all passed")


if __name__ == "__main__":
    main()
