"""The demo server's passkey endpoints over real HTTP, with a software
authenticator written here (ES256, python3-cryptography): registration and
login (discoverable and by email), the MFA status count, the session epoch on
registration and deletion, a passkey login of a TOTP user, and the refusals:
malformed bodies 400 (and nothing changes), unverified responses 422, a
credential registered twice 409, another user's passkey 404 on delete,
replayed, expired, foreign and forged assertions 401. Login options by email
answer an unknown email, an email without passkeys and one with a passkey in
one shape. Error strings never carry the challenge or the user handle.

    passkey_http_test.py --server PATH [--store SPEC] [--workdir DIR]
"""
import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Clock, Server, check, expect, jwt_claims, totp  # noqa: E402

RP_ID = "localhost"
UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
REGISTER_OPTIONS, REGISTER, LIST = "/api/v1/passkey/register/options", "/api/v1/passkey/register", "/api/v1/passkey"
LOGIN_OPTIONS, LOGIN, STATUS = "/api/auth/passkey/login/options", "/api/auth/passkey/login", "/api/v1/me/mfa/status"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def sha256(b):
    return hashlib.sha256(b).digest()


def cbor(v):
    """Integers, byte and text strings, maps (CTAP2 canonical key order)."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        width = 1 if n < 1 << 8 else 2 if n < 1 << 16 else 4
        return bytes([major << 5 | {1: 24, 2: 25, 4: 26}[width]]) + n.to_bytes(width, "big")
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        return head(3, len(v.encode())) + v.encode()
    pairs = sorted(((cbor(k), cbor(x)) for k, x in v.items()), key=lambda kx: (len(kx[0]), kx[0]))
    return head(5, len(pairs)) + b"".join(k + x for k, x in pairs)


class Authenticator:
    """One ES256 credential; each assertion counts up."""

    def __init__(self, cred_id=None):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.id = cred_id or secrets.token_bytes(32)
        self.user_handle = b""
        self.counter = 0

    def create(self, options, origin, flags=UP | UV | AT, rp_id=RP_ID, typ="webauthn.create"):
        self.user_handle = unb64u(options["user"]["id"])
        pub = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: pub.x.to_bytes(32, "big"), -3: pub.y.to_bytes(32, "big")}
        attested = bytes(16) + len(self.id).to_bytes(2, "big") + self.id + cbor(cose)
        auth = sha256(rp_id.encode()) + bytes([flags]) + self.counter.to_bytes(4, "big") + attested
        cdj = json.dumps({"type": typ, "challenge": options["challenge"], "origin": origin, "crossOrigin": False})
        return self.wrap(clientDataJSON=b64u(cdj.encode()),
                         attestationObject=b64u(cbor({"fmt": "none", "attStmt": {}, "authData": auth})),
                         transports=["internal"])

    def get(self, challenge, origin, flags=UP | UV, user_handle=True, forge=False):
        self.counter += 1
        auth = sha256(RP_ID.encode()) + bytes([flags]) + self.counter.to_bytes(4, "big")
        cdj = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin}).encode()
        sig = self.key.sign(auth + sha256(cdj), ec.ECDSA(hashes.SHA256()))
        if forge:
            sig = ec.generate_private_key(ec.SECP256R1()).sign(auth + sha256(cdj), ec.ECDSA(hashes.SHA256()))
        resp = {"clientDataJSON": b64u(cdj), "authenticatorData": b64u(auth), "signature": b64u(sig)}
        if user_handle:
            resp["userHandle"] = b64u(self.user_handle)
        return self.wrap(**resp)

    def wrap(self, **response):
        return {"id": b64u(self.id), "rawId": b64u(self.id), "type": "public-key", "response": response,
                "clientExtensionResults": {}, "authenticatorAttachment": "platform"}


class PasskeyServer(Server):
    def __init__(self, binary, store, workdir, extra=()):
        self.clock = Clock(os.path.join(workdir, "clock"))
        suffix = secrets.token_hex(4)
        self.users = {n: (f"{n}-{suffix}@example.com", f"pw {n} {secrets.token_hex(8)}")
                      for n in ("ann", "bob", "tia", "empty")}
        args = ["--port", "0", "--insecure-fast-kdf", "--store", store, "--key-file", os.path.join(workdir, "k"),
                "--clock-offset-file", self.clock.path, "--issuer", "mfakit passkey test", "--setup-reuse-ms", "0"]
        for email, password in self.users.values():
            args += ["--user", f"{email}:{password}"]
        super().__init__(binary, args + list(extra), workdir)
        self.origin = f"http://localhost:{self.port}"

    def login(self, name):
        email, password = self.users[name]
        return expect(self.request("POST", "/api/auth", {"email": email, "password": password}), 200, f"{name} login")

    def register(self, token, auth, name="key", **kw):
        opts = expect(self.request("POST", REGISTER_OPTIONS, token=token), 200, "registration options")
        return self.request("POST", REGISTER, {"name": name, "response": auth.create(opts, self.origin, **kw)},
                            token=token)

    def passkey_login(self, auth, email=None, **kw):
        opts = expect(self.request("POST", LOGIN_OPTIONS, {} if email is None else {"email": email}), 200,
                      "login options")
        return self.request("POST", LOGIN, {"response": auth.get(opts["challenge"], self.origin, **kw)}), opts


def big_post(port, path, token):
    """A POST of a 1 MB body; the server may answer (413) and close before it has all of it."""
    body = b'{"name":"x","response":"' + b"A" * (1 << 20) + b'"}'
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
    return int(m.group(1)) if m else None


def passkeys(srv, token):
    return expect(srv.request("GET", LIST, token=token), 200, "passkey list")


def run(srv):
    seen = {"challenges": [], "handles": []}
    ann_email = srv.users["ann"][0]
    ann = srv.login("ann")["token"]
    ann_other = srv.login("ann")["token"]  # another login of ann's, ended by each factor change
    for method, path in (("POST", REGISTER_OPTIONS), ("POST", REGISTER), ("GET", LIST), ("DELETE", LIST + "/AAAA")):
        expect(srv.request(method, path, {}), 401, f"{method} {path} without a token")
    expect(srv.request("PUT", LIST, {}, token=ann), 405, "PUT on the list")
    expect(srv.request("GET", LOGIN, token=ann), 405, "GET on the login")

    # --- malformed registrations: 400, nothing stored
    a = Authenticator()
    opts = expect(srv.request("POST", REGISTER_OPTIONS, token=ann), 200, "registration options")
    seen["challenges"].append(opts["challenge"])
    seen["handles"].append(opts["user"]["id"])
    check(opts["rp"]["id"] == RP_ID and opts["authenticatorSelection"]["userVerification"] == "required",
          "creation options: RP ID and UV required")
    check(len(unb64u(opts["challenge"])) == 32 and len(unb64u(opts["user"]["id"])) >= 16, "challenge and handle")
    good = a.create(opts, srv.origin)
    bad_b64 = json.loads(json.dumps(good))
    bad_b64["response"]["clientDataJSON"] = "!!not base64url!!"
    no_ext = json.loads(json.dumps(good))
    del no_ext["clientExtensionResults"]
    deep = {"name": "x", "response": good}
    for _ in range(40):
        deep = {"a": deep}
    for what, raw in [
        ("not JSON", b"{nope"), ("an array", b"[]"), ("no name", json.dumps({"response": good}).encode()),
        ("a numeric name", json.dumps({"name": 7, "response": good}).encode()),
        ("an empty name", json.dumps({"name": "   ", "response": good}).encode()),
        ("a name of 65 bytes", json.dumps({"name": "n" * 65, "response": good}).encode()),
        ("a name with a newline", json.dumps({"name": "a\nb", "response": good}).encode()),
        ("no response", json.dumps({"name": "x"}).encode()),
        ("a string response", json.dumps({"name": "x", "response": "abc"}).encode()),
        ("bad base64url", json.dumps({"name": "x", "response": bad_b64}).encode()),
        ("no clientExtensionResults", json.dumps({"name": "x", "response": no_ext}).encode()),
        ("deep nesting", json.dumps(deep).encode()),
    ]:
        st, body, _ = srv.request("POST", REGISTER, raw=raw, token=ann)
        check(st == 400, f"register with {what}: 400 (got {st} {body})")
        check(opts["challenge"] not in json.dumps(body), f"register with {what}: no challenge in the error")
    check(big_post(srv.port, REGISTER, ann) == 413, "a 1 MB body: 413")
    check(passkeys(srv, ann) == [], "nothing stored by malformed registrations")

    # --- unverified registrations: 422, nothing stored
    for what, kw in [("UV off", {"flags": UP | AT}), ("UP off", {"flags": UV | AT}),
                     ("another RP ID", {"rp_id": "example.com"}), ("type webauthn.get", {"typ": "webauthn.get"})]:
        body = expect(srv.register(ann, Authenticator(), **kw), 422, f"register with {what}")
        check(body == {"error": "passkey registration failed"}, f"{what}: one message for every failed check")
    wrong_origin = Authenticator().create(expect(srv.request("POST", REGISTER_OPTIONS, token=ann), 200, "options"),
                                          "http://localhost:1")
    expect(srv.request("POST", REGISTER, {"name": "x", "response": wrong_origin}, token=ann), 422, "wrong origin")
    unissued = dict(opts, challenge=b64u(secrets.token_bytes(32)))
    expect(srv.request("POST", REGISTER, {"name": "x", "response": Authenticator().create(unissued, srv.origin)},
                       token=ann), 422, "a challenge the server never issued")
    check(passkeys(srv, ann) == [], "nothing stored by unverified registrations")
    expect(srv.request("GET", STATUS, token=ann_other), 200, "the other session lives on")

    # --- a registration: 200; the other session ends (the factors changed), this one goes on
    body = expect(srv.request("POST", REGISTER, {"name": " Laptop ", "response": good}, token=ann), 200, "register")
    check(body["id"] == b64u(a.id) and body["name"] == "Laptop" and body["lastUsedAt"] is None
          and body["createdAt"].endswith("Z"), f"the registration's answer ({body})")
    expect(srv.request("POST", REGISTER, {"name": "again", "response": good}, token=ann), 422,
           "the same registration again (its ceremony is spent)")
    expect(srv.request("GET", STATUS, token=ann_other), 401, "the other session ended with the registration")
    status = expect(srv.request("GET", STATUS, token=ann), 200, "status")
    check(status["passkeysCount"] == 1 and status["totpEnabled"] is False, f"passkeysCount 1 ({status})")
    listed = passkeys(srv, ann)
    check(len(listed) == 1 and listed[0]["id"] == b64u(a.id) and listed[0]["name"] == "Laptop", f"list ({listed})")

    # --- the same credential again: 409, on this account or another
    twin = Authenticator(cred_id=a.id)
    expect(srv.register(ann, twin), 409, "the credential registered twice")
    bob_email = srv.users["bob"][0]
    bob = srv.login("bob")["token"]
    expect(srv.register(bob, twin), 409, "the credential of another account")
    check(passkeys(srv, bob) == [], "bob has none")

    # --- login options
    open_opts = expect(srv.request("POST", LOGIN_OPTIONS, raw=b""), 200, "login options, empty body")
    check("allowCredentials" not in open_opts or open_opts["allowCredentials"] == [], "discoverable: no list")
    check(open_opts["rpId"] == RP_ID and open_opts["userVerification"] == "required", "request options")
    by_email = expect(srv.request("POST", LOGIN_OPTIONS, {"email": ann_email.upper()}), 200, "login options by email")
    check([c["id"] for c in by_email["allowCredentials"]] == [b64u(a.id)], "by email: ann's passkey")
    unknown = [expect(srv.request("POST", LOGIN_OPTIONS, {"email": "nobody@example.com"}), 200, "unknown email")
               for _ in range(2)]
    empty = expect(srv.request("POST", LOGIN_OPTIONS, {"email": srv.users["empty"][0]}), 200, "email without passkeys")
    check(unknown[0]["allowCredentials"] == unknown[1]["allowCredentials"], "the made-up id is stable")
    check(unknown[0]["challenge"] != unknown[1]["challenge"], "each options call its own challenge")

    def shape(o):
        return sorted((k, type(v).__name__, len(v) if isinstance(v, list) else None) for k, v in o.items())
    check(shape(unknown[0]) == shape(empty) == shape(by_email), "one shape for unknown, empty and ann")
    check(empty["allowCredentials"] != unknown[0]["allowCredentials"], "a made-up id per email")
    check(all(len(unb64u(c["id"])) == 32 for c in unknown[0]["allowCredentials"] + empty["allowCredentials"]),
          "made-up ids of 32 bytes")
    for what, raw in [("an array", b"[]"), ("a numeric email", b'{"email":5}'), ("an empty email", b'{"email":""}'),
                      ("a control character", b'{"email":"a\\u0000b@x"}'), ("not JSON", b"{"),
                      ("a long email", json.dumps({"email": "e" * 300}).encode())]:
        expect(srv.request("POST", LOGIN_OPTIONS, raw=raw), 400, f"login options with {what}")

    # --- logins: discoverable, by email; amr passkey; counter and lastUsedAt
    (st, body, _), lopts = srv.passkey_login(a)
    seen["challenges"].append(lopts["challenge"])
    check(st == 200 and "token" in body and "refresh_token" in body and "mfa_required" not in body,
          f"a discoverable passkey login ({st} {body})")
    claims = jwt_claims(body["token"])
    check(claims["sub"] == ann_email and claims["amr"] == ["passkey"], f"the session: ann, amr passkey ({claims})")
    (st, body, _), _ = srv.passkey_login(a, email=ann_email, user_handle=False)
    check(st == 200 and jwt_claims(body["token"])["sub"] == ann_email, f"a login by email, no userHandle ({st})")
    listed = passkeys(srv, ann)
    check(listed[0]["lastUsedAt"] is not None, "lastUsedAt set")

    # --- refused logins: 401
    lo = expect(srv.request("POST", LOGIN_OPTIONS, {}), 200, "login options")
    assertion = {"response": a.get(lo["challenge"], srv.origin)}
    expect(srv.request("POST", LOGIN, assertion), 200, "a login")
    body = expect(srv.request("POST", LOGIN, assertion), 401, "the same assertion replayed")
    check(body == {"error": "passkey login failed"}, "one message for every failed check")
    for what, kw in [("UV off", {"flags": UP}), ("a forged signature", {"forge": True}),
                     ("no userHandle on a discoverable login", {"user_handle": False})]:
        (st, body, _), _ = srv.passkey_login(a, **kw)
        check(st == 401, f"a login with {what}: 401 (got {st} {body})")
    a.counter = 2  # the stored counter is 3 (three logins passed): 3 again, as a cloned authenticator would send
    (st, _, _), _ = srv.passkey_login(a)
    check(st == 401, f"a counter that did not grow: 401 ({st})")
    a.counter += 10
    late = expect(srv.request("POST", LOGIN_OPTIONS, {}), 200, "login options")
    srv.clock.advance(301)
    expect(srv.request("POST", LOGIN, {"response": a.get(late["challenge"], srv.origin)}), 401, "after 5 minutes")
    b = Authenticator()
    expect(srv.register(bob, b), 200, "bob's passkey")
    bob = srv.login("bob")["token"]
    (st, _, _), _ = srv.passkey_login(b, email=ann_email)
    check(st == 401, f"bob's passkey on the options of ann's email: 401 ({st})")
    (st, _, _), _ = srv.passkey_login(b, email="nobody@example.com")
    check(st == 401, f"bob's passkey on the options of an unknown email: 401 ({st})")
    (st, body, _), _ = srv.passkey_login(b, email=bob_email)
    check(st == 200 and jwt_claims(body["token"])["sub"] == bob_email, "bob by his email")
    for what, raw in [("not JSON", b"{"), ("no response", b"{}"), ("a string response", b'{"response":"x"}'),
                      ("bad base64url", json.dumps({"response": dict(assertion["response"], id="!", rawId="!")}).encode()),
                      ("a numeric userHandle", json.dumps({"response": {**assertion["response"], "response": {
                          **assertion["response"]["response"], "userHandle": 5}}}).encode())]:
        expect(srv.request("POST", LOGIN, raw=raw), 400, f"login with {what}")

    # --- delete: another user's passkey is 404 (and stays), the owner's 200 and the epoch moves
    ann = srv.login("ann")["token"]
    ann_other = srv.login("ann")["token"]
    expect(srv.request("DELETE", f"{LIST}/{b64u(a.id)}", token=bob), 404, "bob deletes ann's passkey")
    expect(srv.request("DELETE", f"{LIST}/{b64u(secrets.token_bytes(32))}", token=ann), 404, "no such passkey")
    expect(srv.request("DELETE", f"{LIST}/not!base64", token=ann), 404, "a malformed id")
    check(len(passkeys(srv, ann)) == 1, "ann's passkey is still there")
    expect(srv.request("GET", STATUS, token=ann_other), 200, "ann's other session lives")
    check(expect(srv.request("DELETE", f"{LIST}/{b64u(a.id)}", token=ann), 200, "ann deletes it") == {"deleted": True},
          "{deleted: true}")
    expect(srv.request("GET", STATUS, token=ann_other), 401, "the other session ended with the deletion")
    check(passkeys(srv, ann) == [] and expect(srv.request("GET", STATUS, token=ann), 200, "")["passkeysCount"] == 0,
          "none left")
    (st, _, _), _ = srv.passkey_login(a)
    check(st == 401, f"a deleted passkey no longer logs in ({st})")
    expect(srv.request("DELETE", f"{LIST}/{b64u(a.id)}", token=ann), 404, "deleted twice")
    expect(srv.register(ann, a), 200, "the credential registered again after its deletion")

    # --- a TOTP user: the password login asks for the second factor, the passkey login does not
    tia_email = srv.users["tia"][0]
    tia = srv.login("tia")["token"]
    secret = expect(srv.request("POST", "/api/v1/me/mfa/totp/setup", token=tia), 200, "setup")["secret"]
    expect(srv.request("POST", "/api/v1/me/mfa/totp/enable", {"code": totp(secret, srv.clock.now())}, token=tia), 200,
           "enable")
    t = Authenticator()
    email, password = srv.users["tia"]
    # the session that enabled TOTP passed the password only: a passkey (two factors on its own) is not
    # for it to add or remove
    expect(srv.register(tia, t), 403, "a passkey from tia's password-only session")
    expect(srv.request("DELETE", f"{LIST}/{b64u(a.id)}", token=tia), 403, "a delete from tia's password-only session")
    check(expect(srv.request("GET", STATUS, token=tia), 200, "status")["passkeysCount"] == 0, "no passkey added")
    srv.clock.advance(30)  # the enabling code's step is spent
    step = expect(srv.request("POST", "/api/auth", {"email": email, "password": password}), 200, "tia's password step")
    check(step["mfa_required"], "tia's password login wants the second factor")
    second = expect(srv.request("POST", "/api/auth/mfa/verify",
                                {"mfaToken": step["mfa_token"], "code": totp(secret, srv.clock.now())}), 200,
                    "tia's TOTP step")
    tia_otp = second["token"]
    check(jwt_claims(tia_otp)["amr"] == ["pwd", "otp"], f"amr of a TOTP login ({jwt_claims(tia_otp)['amr']})")
    expect(srv.register(tia_otp, t), 200, "tia's passkey, from a session that passed TOTP")
    (st, body, _), _ = srv.passkey_login(t, email=tia_email)
    check(st == 200 and "mfa_required" not in body and jwt_claims(body["token"])["amr"] == ["passkey"],
          f"tia's passkey login: a session at once ({st} {body})")
    passkey_session = body["token"]
    status = expect(srv.request("GET", STATUS, token=passkey_session), 200, "tia's status")
    check(status["totpEnabled"] is True and status["passkeysCount"] == 1, f"tia's status ({status})")
    # the passkey session passed two factors: new backup codes want the password only (the password-only
    # session that enabled TOTP ended when the passkey was added from another session)
    expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": password}, token=tia), 401,
           "regenerate from tia's ended password session")
    codes = expect(srv.request("POST", "/api/v1/me/mfa/backup-codes/regenerate", {"password": password},
                               token=passkey_session), 200, "regenerate from tia's passkey session")
    check(len(codes["backupCodes"]) == 10, "ten new backup codes")
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--store", default=None, help="default: a fresh SQLite file in the work dir")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    if shutil.which("oathtool") is None:
        print("FAIL: oathtool is not installed (see .ci/install-deps)")
        return 1
    workdir = args.workdir or tempfile.mkdtemp(prefix="mfakit-passkey-")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    store = args.store or f"sqlite:{os.path.join(workdir, 'demo.sqlite')}"
    started = time.time()
    for bad in (["--rp-id", "127.0.0.1"], ["--rp-id", "Example.com", "--origin", "https://example.com"],
                ["--rp-id", "example.com"], ["--origin", "https://evil.test"], ["--origin", "localhost:8080"],
                ["--rp-id", "example.com", "--origin", "https://notexample.com"], ["--rp-name", ""]):
        r = subprocess.run([args.server, "--port", "0", "--store", "memory"] + bad, capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 2 and r.stderr.count("\n") == 1, f"{bad}: exit 2 with one line ({r.returncode} {r.stderr})")
    srv = PasskeyServer(args.server, store, workdir)
    try:
        seen = run(srv)
        expect(srv.request("POST", LOGIN_OPTIONS, {}), 200, "the server still answers")
    except Exception as e:  # noqa: BLE001 - report any failure with the server log
        srv.stop()
        print(f"FAIL after {h.checks} checks: {e}\n--- server log ---\n{srv.log()[-4000:]}")
        return 1
    code = srv.stop()
    log = srv.log()
    # login options store a ceremony each and need no session: a bound per client network
    capped_dir = os.path.join(workdir, "capped")
    os.makedirs(capped_dir)
    capped = PasskeyServer(args.server, "memory", capped_dir, ["--passkey-options-per-network", "3"])
    try:
        for i in range(3):
            expect(capped.request("POST", LOGIN_OPTIONS, {}), 200, f"login options {i + 1} of 3")
        st, _, headers = capped.request("POST", LOGIN_OPTIONS, {"email": "x@example.com"})
        check(st == 429 and int(headers.get("Retry-After", "0")) > 0,
              f"the 4th login options of one network in 5 minutes: 429 with Retry-After ({st} {headers})")
        capped.clock.advance(300)
        expect(capped.request("POST", LOGIN_OPTIONS, {}), 200, "login options again after the window")
    finally:
        check(capped.stop() == 0, "the capped server exits 0")
    check(code == 0, f"the server exits 0 on SIGTERM (got {code})")
    for kind in ("passkey_registered", "passkey_used", "passkey_removed", "passkey_counter_regressed"):
        check(f"audit event={kind} " in log, f"the audit log has a {kind} event")
    leaked = [s for s in seen["challenges"] + seen["handles"] if s in log]
    check(not leaked, "no challenge or user handle in the log")
    print(f"PASS: {h.checks} checks against {store.split(':')[0]} in {time.time() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
