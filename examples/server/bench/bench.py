#!/usr/bin/env python3
"""Load figures for mfakit_demo_server beside the Node.js baseline, in one run
on one machine (see load.sh next to this file, which calls it).

  1. the shared yardstick, ../shared/bench/node-baseline/load.sh (wrk -t2
     -c32, keep-alive): GET status (200) and POST enable (409), for the
     baseline and for this server, one after the other;
  2. 1,000 concurrent keep-alive connections on GET status, both servers:
     requests sent vs answered, socket errors, status codes;
  3. full logins on this server (POST /api/auth with the real scrypt cost,
     then /mfa/verify with a TOTP code), from several clients at once, with
     wrk on GET status beside them: logins/s, login p50/p99, status p99, and
     the KDF pool's peak queue and refusals (from the server's exit line).

    bench.py --server PATH --baseline-dir DIR [-d SECONDS] [--skip-node] [--login-users N]
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, path, body=None, token=None, method="POST"):
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(base + path, data=data if method == "POST" else None, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with OPENER.open(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def totp_at(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 10**6)


class Started:
    """A server started with the yardstick's flags on a free port and a temp database."""

    def __init__(self, cmd, users, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="mfakit-bench-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = list(cmd) + ["--listen", f"127.0.0.1:{self.port}", "--db", f"sqlite:{self.tmp}/bench.db",
                            "--jwt-secret", "bench-" + os.urandom(16).hex(), "--issuer", "Bench"]
        for email, pw in users:
            args += ["--user", f"{email}:{pw}"]
        args += list(extra)
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 600
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited: " + open(self.log_path, errors="replace").read())
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()
        text = open(self.log_path, errors="replace").read()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return text


def enable_totp(base, email, password):
    st, body = call(base, "/api/auth", {"email": email, "password": password})
    assert st == 200, (st, body)
    token = body["token"]
    st, body = call(base, "/api/v1/me/mfa/totp/setup", token=token)
    assert st == 200, (st, body)
    secret = body["secret"]
    step = int(time.time() // 30)
    st, body = call(base, "/api/v1/me/mfa/totp/enable", {"code": totp_at(secret, step)}, token=token)
    assert st == 200, (st, body)
    return token, secret, step


WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  c200, cother = 0, 0
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end
function response(status, headers, body)
  if status == 200 then c200 = c200 + 1 else cother = cother + 1 end
end
function done(summary, latency, requests)
  local a, c = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("c200"); c = c + t:get("cother") end
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d %d %d %d %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, a, c, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
"""


def wrk(url, token, conns, seconds, threads=2, timeout="10s"):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_LUA)
        lua = f.name
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", timeout, "-s", lua,
                              url], capture_output=True, text=True, env=dict(os.environ, TOKEN=token), check=True)
    finally:
        os.unlink(lua)
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    v = line.split()[1:]
    return {"rps": float(v[0]), "p50": float(v[1]), "p99": float(v[2]), "max": float(v[3]), "requests": int(v[4]),
            "ok": int(v[5]), "other": int(v[6]), "connect": int(v[7]), "read": int(v[8]), "write": int(v[9]),
            "timeout": int(v[10])}


def yardstick(load_sh, seconds, cmd):
    args = [load_sh, "-d", str(seconds)] + (["--"] + cmd if cmd else [])
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{load_sh} failed: {out.stdout}\n{out.stderr}")
    rows = [x for x in out.stdout.splitlines() if x.startswith("| GET") or x.startswith("| POST")]
    return rows


def parse_row(row):
    cells = [c.strip() for c in row.strip("|").split("|")]
    return {"rps": float(cells[1]), "p50": float(cells[2]), "p99": float(cells[3]), "counts": cells[5]}


def thousand(cmd, seconds, label):
    users = [("k@example.com", "pw-k")]
    srv = Started(cmd, users)
    try:
        token, _, _ = enable_totp(srv.base, *users[0])
        wrk(srv.base + "/api/v1/me/mfa/status", token, 1000, 3)  # warm-up: 1,000 connections open
        r = wrk(srv.base + "/api/v1/me/mfa/status", token, 1000, seconds)
    finally:
        srv.stop()
    errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    answered = "yes" if errors == 0 and r["other"] == 0 and r["ok"] == r["requests"] else "NO"
    return (f"| {label} | 1,000 | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | "
            f"{r['requests']:,} sent, {r['ok']:,} x 200, {r['other']} other | {errors} | {answered} |")


def logins(cmd, seconds, n_users, clients, label):
    users = [(f"u{i}@example.com", f"pw-{i}-" + os.urandom(4).hex()) for i in range(n_users)]
    srv = Started(cmd, users)
    try:
        enabled = [None] * n_users

        def enrol(i):
            enabled[i] = enable_totp(srv.base, *users[i])

        pool = [threading.Thread(target=lambda k=k: [enrol(i) for i in range(k, n_users, 8)]) for k in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        status_token = enabled[0][0]
        lock = threading.Lock()
        lat, failures = [], []
        stop = time.time() + seconds

        def client(k):
            """Users k, k + clients, ...: one client per user, so its logins come in order; a TOTP step
            is accepted once per user and only after the last accepted one (RFC 6238 5.2)."""
            mine = list(range(k, n_users, clients))
            last = {i: enabled[i][2] for i in mine}
            while time.time() < stop:
                now_step = int(time.time() // 30)
                i = next((i for i in mine if last[i] + 1 <= now_step + 1), None)
                if i is None:
                    time.sleep(0.05)
                    continue
                t0 = time.time()
                st, body = call(srv.base, "/api/auth", {"email": users[i][0], "password": users[i][1]})
                if st != 200 or not body.get("mfa_required"):
                    failures.append(st)
                    continue
                # the code taken after the (slow, queued) password step: the current step, or the
                # next one (the window accepts it) when the current one is spent
                step = max(int(time.time() // 30), last[i] + 1)
                last[i] = step
                st, body = call(srv.base, "/api/auth/mfa/verify",
                                {"mfaToken": body["mfa_token"], "code": totp_at(enabled[i][1], step)})
                if st != 200:
                    failures.append(st)
                    continue
                with lock:
                    lat.append(time.time() - t0)

        side = {}

        def status_load():
            side["r"] = wrk(srv.base + "/api/v1/me/mfa/status", status_token, 16, seconds, threads=1)

        started = time.time()
        workers = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        workers.append(threading.Thread(target=status_load))
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        elapsed = time.time() - started
    finally:
        log = srv.stop()
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    pools = re.search(r"kdf pool (\d+) threads, peak (\d+) queued, (\d+) refused", log)
    kdf = f"{pools.group(1)} threads, peak {pools.group(2)} queued, {pools.group(3)} refused" if pools else "n/a"
    s = side["r"]
    errs = s["connect"] + s["read"] + s["write"] + s["timeout"]
    return (f"| {label} | {clients} | {len(lat) / elapsed:.1f} | {pct(0.5):.0f} | {pct(0.99):.0f} | "
            f"{len(failures)} {sorted(set(failures)) if failures else ''} | {kdf} | {s['rps']:,.0f} | "
            f"{s['p99']:.2f} | {errs} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--baseline-dir", required=True)
    ap.add_argument("-d", type=int, default=8)
    ap.add_argument("--skip-node", action="store_true")
    ap.add_argument("--login-users", type=int, default=64)
    ap.add_argument("--login-clients", type=int, default=8)
    ap.add_argument("--only", default="yardstick,thousand,logins")
    args = ap.parse_args()
    only = set(args.only.split(","))
    load_sh = os.path.join(args.baseline_dir, "load.sh")
    node_cmd = ["node", os.path.join(os.environ.get("NODE_BASELINE_DIR", "/tmp/node-baseline"), "server.mjs")]
    ours = [args.server]
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start; wrk shares the machine\n")

    if "yardstick" in only:
        print(f"## {load_sh} (wrk -t2 -c32, {args.d} s per endpoint, same run)\n")
        print("| server | endpoint | requests/s | p50 ms | p99 ms | x baseline |")
        print("|---|---|---:|---:|---:|---:|")
        base_rows = [] if args.skip_node else yardstick(load_sh, args.d, [])
        our_rows = yardstick(load_sh, args.d, ours)
        for i, row in enumerate(our_rows):
            name = row.strip("|").split("|")[0].strip()
            b = parse_row(base_rows[i]) if base_rows else None
            o = parse_row(row)
            if b:
                print(f"| Node.js baseline | {name} | {b['rps']:,.0f} | {b['p50']:.2f} | {b['p99']:.2f} | 1.0 |")
            ratio = f"{o['rps'] / b['rps']:.1f}" if b else "-"
            print(f"| mfakit_demo_server | {name} | {o['rps']:,.0f} | {o['p50']:.2f} | {o['p99']:.2f} | {ratio} |")
        print("\nstatus counts:", "; ".join(parse_row(r)["counts"] for r in base_rows + our_rows), "\n")
        sys.stdout.flush()

    if "thousand" in only:
        print(f"## 1,000 concurrent keep-alive connections, GET status ({args.d} s, wrk -t2 -c1000 --timeout 10s)\n")
        print("| server | connections | requests/s | p50 ms | p99 ms | max ms | answers | socket errors | all answered |")
        print("|---|---:|---:|---:|---:|---:|---|---:|---|")
        if not args.skip_node:
            print(thousand(node_cmd, args.d, "Node.js baseline"))
        print(thousand(ours, args.d, "mfakit_demo_server"))
        print()
        sys.stdout.flush()

    if "logins" in only:
        print(f"## Full logins (password with the real scrypt cost + TOTP), {args.login_clients} clients, "
              f"{args.d * 2} s, with wrk -t1 -c16 on GET status beside them\n")
        print("| server | login clients | logins/s | login p50 ms | login p99 ms | failed | KDF pool | "
              "status req/s | status p99 ms | status socket errors |")
        print("|---|---:|---:|---:|---:|---|---|---:|---:|---:|")
        print(logins(ours, args.d * 2, args.login_users, args.login_clients, "mfakit_demo_server"))
        print()


if __name__ == "__main__":
    main()
