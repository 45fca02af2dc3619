"""Shared pieces of the demo server's Python tests: start a server, call it,
sign JWTs the way another HS256 issuer would, compute TOTP codes (oathtool).
Standard library only."""
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

checks = 0


def check(condition, what):
    global checks
    checks += 1
    if not condition:
        raise AssertionError(what)


def sanitized(binary):
    """Whether the server is an ASan/TSan build (memory figures mean nothing there)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out or "libtsan" in out


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(secret, claims, header=None, alg="sha256"):
    """A JWT signed with HMAC (alg: hashlib name) over header.claims."""
    header = header if header is not None else {"alg": "HS256", "typ": "JWT"}
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), getattr(hashlib, alg)).digest()
    return f"{head}.{body}.{b64url(mac)}"


def jwt_claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def totp(secret, at):
    out = subprocess.run(["oathtool", "--totp", "-b", secret, "-N", f"@{at}"], check=True,
                         capture_output=True, text=True).stdout.strip()
    check(re.fullmatch(r"\d{6}", out) is not None, "oathtool printed a 6-digit code")
    return out


class Clock:
    """The server's test clock file ("@T" pins it), shared by every server of a test."""

    def __init__(self, path):
        self.path = path
        self.time = (int(time.time()) // 30) * 30 + 5
        self.pin()

    def pin(self):
        with open(self.path + ".tmp", "w") as f:
            f.write(f"@{self.time}")
        os.replace(self.path + ".tmp", self.path)

    def advance(self, seconds):
        self.time += seconds
        self.pin()

    def now(self):
        return self.time


class Server:
    def __init__(self, binary, args, workdir, name="server", wait=True):
        self.workdir = workdir
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=self.stderr)
        self.port = None
        if not wait:
            return
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline().decode()
            if not line:
                break
            m = re.search(r"listening on http://(?:\[[^\]]*\]|[^:/]+):(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{name} did not start: " + self.log())

    def log(self):
        if not self.stderr.closed:
            self.stderr.flush()
        time.sleep(0.1)  # the server writes its log in batches (every 50 ms)
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the server did not stop on SIGTERM")
        if not self.stderr.closed:
            self.stderr.close()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()

    def request(self, method, path, body=None, token=None, raw=None, headers=None, timeout=30):
        url = f"http://127.0.0.1:{self.port}{path}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as res:
                status, payload, hdrs = res.status, res.read(), res.headers
        except urllib.error.HTTPError as e:
            status, payload, hdrs = e.code, e.read(), e.headers
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return status, parsed, hdrs

    def raw_request(self, method, path, headers, timeout=10):
        """A request with exactly these headers (no JSON, no urllib defaults)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        res = conn.getresponse()
        payload = res.read()
        conn.close()
        return res.status, payload, res.headers


def expect(response, status, what):
    got, body, _ = response
    check(got == status, f"{what}: expected HTTP {status}, got {got} {body}")
    return body


def memory_holds(pid, needle):
    """Whether a writable, anonymous or heap mapping of the process holds `needle` (None: cannot read)."""
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", 0)
    except OSError:
        return None
    with mem:
        for m in maps:
            parts = m.split()
            if "rw" not in parts[1] or (len(parts) >= 6 and parts[5].startswith("/")):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo > 1 << 30:  # not a heap or a stack
                continue
            try:
                mem.seek(lo)
                if needle in mem.read(hi - lo):
                    return True
            except (OSError, ValueError, OverflowError):
                continue
    return False


def post_from(port, source, path, body, token=None, timeout=60, headers=None):
    """One POST from a given source address (127.0.0.0/8 has them all); returns (status, body, headers, seconds)."""
    t0 = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    try:
        conn.request("POST", path, body=json.dumps(body), headers=h)
        res = conn.getresponse()
        payload = res.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return res.status, parsed, res.headers, time.time() - t0
    except OSError as e:
        return None, str(e), {}, time.time() - t0
    finally:
        conn.close()
