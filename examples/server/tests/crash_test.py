#!/usr/bin/env python3
"""Crash safety, measured: two server processes on one database (SQLite file or
PostgreSQL) under a mix of MFA traffic, killed with SIGKILL (one or both) at
random moments, restarted, and the database checked against what the clients
were told after every restart and at the end.

Traffic (one client thread drives a few users, one request after the other per
user; users spread over threads run in parallel on both processes): setup and
enable (valid and wrong codes), logins with fresh TOTP codes and unused backup
codes, on purpose with codes already used (an old TOTP step, a spent backup
code, a code of a replaced set), wrong guesses, the same code sent to both
processes at once, regenerate and disable. Every request and answer goes to
history.jsonl with the client's clock (time.time() when sent and when
answered), the test clock and the outcome: answered, lost (the connection
died with the process after the request was sent) or refused (never sent).

After each restart (clients paused, both processes up) and at the end (both
stopped), for every user, the record read straight from the database (the
SQLite file, or psql) is decoded here (include/mfakit/records.hpp's format,
strictly) and compared with the history:
  - every answered success is there: a backup code answered as used is gone,
    the stored TOTP last step is the last accepted step (so every accepted
    step is at or below it), an answered enable is enabled with exactly the
    codes its answer showed (scrypt digests computed here with the pepper
    derived from the test's sealing key), an answered regenerate holds its
    codes, an answered disable is disabled;
  - no code is accepted twice across the whole history, crashes included
    (a 200 for a TOTP step at or below one already accepted, for a spent
    backup code or for a code of a replaced set is a violation);
  - the failure count is at least the wrong guesses answered as such since
    the last reset (and at most what the requests could have added);
  - every record decodes: the users' account records and every login
    challenge written during the test; SQLite's integrity_check says ok;
  - GET status over HTTP agrees with the raw row;
  - every start (also one killed during its own start-up, then started
    again) comes up without any repair.
Kills: one process, the other or both, after 0.3 to 1.2 s of traffic; half of
them 0 to 40 ms after a write was sent to the victim; some restarts are killed
again during their own start-up. The test clock (--clock-offset-file, pinned)
moves one TOTP step every 12 ops, so TOTP codes are deterministic whatever the
machine's speed.

A request whose answer was lost (or answered 5xx, which may also have landed)
may have landed or not: the check allows both, resolves which from the
database, and counts them. A user with such a request waits for the next
check before its client sends more, so every other request of the history is
ordered.

    crash_test.py --server PATH [--store sqlite | postgres:CONNINFO] [--workdir DIR]
                  [--crashes 10 | --long] [--clients 6] [--users 8] [--seed N]

--long: 50 crashes. Exit 0 and "PASS: N checks" with zero violations.
--inject-rollback (SQLite): the checker's own test; the database files copied at the first crash
are put back at the third (both servers down, as a disk that lost every write between them would
look), and the run passes only if the checks find it.
"""
import argparse
import base64
import glob
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import server_harness as h  # noqa: E402
from server_harness import Server, Clock, check  # noqa: E402

STEP = 30
TICK_OPS = 12  # the test clock moves one TOTP step (30 s) every 12 ops
INVALID_CODE = "Invalid code"
WRITES = {"verify", "verify-duel", "enable", "setup", "regenerate", "disable"}

# --- the record format (include/mfakit/records.hpp), decoded strictly --------------------


class Malformed(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def u8(self):
        if self.i >= len(self.d):
            raise Malformed("truncated")
        v = self.d[self.i]
        self.i += 1
        return v

    def varint(self):
        v = 0
        for shift in range(0, 64, 7):
            b = self.u8()
            if shift == 63 and b > 1:
                raise Malformed("varint overflow")
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and shift != 0:
                    raise Malformed("redundant varint byte")
                return v
        raise Malformed("varint too long")

    def svarint(self):
        u = self.varint()
        return (u >> 1) ^ -(u & 1)

    def raw(self, n):
        if len(self.d) - self.i < n:
            raise Malformed("truncated")
        out = self.d[self.i:self.i + n]
        self.i += n
        return out

    def bytes(self, limit):
        n = self.varint()
        if n > limit or n > len(self.d) - self.i:
            raise Malformed("length")
        return self.raw(n)

    def done(self):
        return self.i == len(self.d)


STATUS = {0: "disabled", 1: "pending", 2: "enabled"}


def decode_account(data):
    r = Reader(data)
    if r.u8() != ord("A"):
        raise Malformed("tag")
    fmt = r.u8()
    if fmt not in (1, 2, 3, 4):
        raise Malformed("format")
    rec = {}
    status, alg, digits = r.u8(), r.u8(), r.u8()
    if status > 2 or alg > 2 or digits not in (6, 7, 8):
        raise Malformed("status/alg/digits")
    rec["status"] = STATUS[status]
    rec["period"] = r.svarint()
    if rec["period"] < 1:
        raise Malformed("period")
    has_step = r.u8()
    if has_step > 1:
        raise Malformed("has_step")
    rec["last_step"] = r.varint() if has_step else None
    rec["failures"] = r.varint()
    if rec["failures"] > 0xFFFFFFFF:
        raise Malformed("failures")
    rec["last_failure"] = r.svarint()
    sealed = r.bytes(256)
    has_codes = r.u8()
    if has_codes > 1:
        raise Malformed("has_codes")
    rec["salt"], rec["cost"], rec["digests"] = None, None, []
    if has_codes:
        rec["salt"] = r.raw(16)
        n, rr, p = r.varint(), r.varint(), r.varint()
        rec["pepper"] = None  # formats 1-3: the host key if any (as they were made)
        if fmt == 4:  # the set names its pepper: 0 host key if any, 1 none, 2 host key, 3 sealing key N
            rec["pepper"] = r.u8()
            if rec["pepper"] > 3:
                raise Malformed("pepper")
            if rec["pepper"] == 3 and r.varint() > 0xFFFFFFFF:
                raise Malformed("pepper key id")
        count = r.varint()
        if count == 0 or count > 64 or rr > 0xFFFFFFFF or p > 0xFFFFFFFF or n < 2 or n & (n - 1):
            raise Malformed("codes")
        rec["cost"] = (n, rr, p)
        rec["digests"] = [r.raw(32) for _ in range(count)]
    if fmt != 1:
        r.raw(16)  # write id
    if fmt in (3, 4):
        bits = r.u8()
        gap = False
        for i in range(4):
            empty = ((bits >> (2 * i)) & 3) == 0
            if gap and not empty:
                raise Malformed("offsets")
            gap = gap or empty
    if not r.done():
        raise Malformed("trailing bytes")
    if (status == 0) != (len(sealed) == 0) or (has_codes and status == 0):
        raise Malformed("status and contents disagree")
    return rec


def decode_challenge(data):
    r = Reader(data)
    if r.u8() != ord("C") or r.u8() != 1:
        raise Malformed("tag/format")
    user = r.bytes(512)
    if not user:
        raise Malformed("empty user")
    r.svarint()
    if r.varint() > 0xFFFFFFFF or not r.done():
        raise Malformed("attempts/trailing")
    return user.decode()


def account_key(email):
    return b"mfakit/account/" + email.encode().hex().encode()


# --- TOTP and backup-code digests, computed here ----------------------------------------


def totp_code(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


class Digester:
    """The demo's backup-code digest: scrypt(HMAC-SHA-256(pepper, 8 symbols), salt),
    pepper = HMAC-SHA-256(sealing key, "mfakit-demo/backup-code-pepper/v1")."""

    def __init__(self, sealing_key):
        self.pepper = hmac.new(sealing_key, b"mfakit-demo/backup-code-pepper/v1", hashlib.sha256).digest()
        self.memo = {}

    def __call__(self, code, salt, cost):
        k = (code, salt, cost)
        if k not in self.memo:
            keyed = hmac.new(self.pepper, code.replace("-", "").encode(), hashlib.sha256).digest()
            n, r, p = cost
            self.memo[k] = hashlib.scrypt(keyed, salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)
        return self.memo[k]


# --- the database, read directly --------------------------------------------------------


class Db:
    def __init__(self, store, sqlite_path):
        self.sqlite_path = sqlite_path
        self.conninfo = None if store == "sqlite" else store.split(":", 1)[1]
        self.psql = shutil.which("psql") or (sorted(glob.glob("/usr/lib/postgresql/*/bin/psql")) or ["psql"])[-1]

    def rows(self):
        """(key bytes, data bytes, version) of every row of mfakit_records."""
        if self.conninfo is None:
            con = sqlite3.connect(self.sqlite_path, timeout=30)
            try:
                rows = [(bytes(k), bytes(d), v) for k, d, v in
                        con.execute("SELECT key, data, version FROM mfakit_records")]
            finally:
                con.close()
            return rows
        out = subprocess.run([self.psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.conninfo, "-c",
                              "SELECT encode(key, 'hex'), encode(data, 'hex'), version FROM mfakit_records"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError(f"psql failed: {out.stderr.strip()}")
        rows = []
        for line in out.stdout.splitlines():
            if line:
                k, d, v = line.split("|")
                rows.append((bytes.fromhex(k), bytes.fromhex(d), int(v)))
        return rows

    def integrity(self):
        if self.conninfo is not None:
            return "ok"  # PostgreSQL: the query above ran; no page check from a client
        con = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()


# --- the history --------------------------------------------------------------------------


class History:
    def __init__(self, path):
        self.f = open(path, "w")
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "answered": 0, "lost": 0, "refused": 0, "5xx": 0}
        self.by_op = {}  # op -> {status code or outcome: count}

    def write(self, entry):
        with self.lock:
            self.f.write(json.dumps(entry, separators=(",", ":")) + "\n")

    def count(self, what):
        with self.lock:
            self.counts[what] += 1

    def answer(self, op, what):
        with self.lock:
            d = self.by_op.setdefault(op, {})
            d[what] = d.get(what, 0) + 1

    def close(self):
        self.f.close()


class Lost:
    """A request whose answer did not arrive (sent) or that was never sent."""

    def __init__(self, sent, error):
        self.sent = sent
        self.error = error


# --- the model of one user ------------------------------------------------------------------


class User:
    def __init__(self, idx, email, password):
        self.idx, self.email, self.password = idx, email, password
        self.status = "disabled"
        self.secret = None         # base32 of the current secret (None: unknown or none)
        self.last_steps = {None}   # what the stored last step may be
        self.batch = []            # the current set of backup codes (None: unknown)
        self.state = {}            # code -> present | gone | maybe
        self.flo, self.fhi = 0, 0  # the failure count's bounds
        self.token, self.token_at = None, 0
        self.token_mfa = False     # the session's amr has otp or backup (a login that passed the second factor)
        self.frozen = None         # the op whose outcome is unknown, until the next check
        self.spent = set()         # backup codes answered (or found) used, and codes of replaced sets
        self.accepted_steps = {}   # secret -> highest TOTP step accepted with it

    def max_step(self):
        return self.accepted_steps.get(self.secret) if self.secret else None


class Test:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.work = args.workdir or tempfile.mkdtemp(prefix="mfakit-crash-")
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.sqlite_path = os.path.join(self.work, "crash.sqlite")
        self.db_spec = f"sqlite:{self.sqlite_path}" if args.store == "sqlite" else args.store
        self.db = Db(args.store, self.sqlite_path)
        key = secrets.token_bytes(32)
        self.key_file = os.path.join(self.work, "sealing.key")
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (key.hex() + "\n").encode())
        os.close(fd)
        self.digest = Digester(key)
        self.clock = Clock(os.path.join(self.work, "clock"))
        suffix = secrets.token_hex(4)
        self.users = [User(i, f"crash{i}-{suffix}@example.com", "pw " + secrets.token_hex(8))
                      for i in range(args.users)]
        self.common = ["--listen", "127.0.0.1:0", "--db", self.db_spec, "--key-file", self.key_file,
                       "--jwt-secret", "crash-" + secrets.token_hex(16), "--issuer", "Crash",
                       "--clock-offset-file", self.clock.path, "--insecure-fast-kdf", "--no-access-log",
                       "--sweep-interval-ms", "2000", "--threads", "2",
                       # every setup draws a fresh secret (no hand-back), and the KDF pool queues all
                       # of this test's few clients (they share one address) instead of refusing them
                       "--setup-reuse-ms", "0", "--kdf-share", "64", "--kdf-max-wait-ms", "60000"]
        for u in self.users:
            self.common += ["--user", f"{u.email}:{u.password}"]
        self.history = History(os.path.join(self.work, "history.jsonl"))
        self.slots = [None, None]  # Server or None while down
        self.gens = [0, 0]
        self.slot_lock = threading.Lock()
        self.cv = threading.Condition()
        self.paused = False
        self.busy = 0
        self.stop = False
        self.violations = []
        self.vlock = threading.Lock()
        self.stats = dict.fromkeys((
            "crashes", "kills", "startup_kills", "checkpoints", "ops", "totp_accepted", "backup_accepted",
            "reused_refused", "wrong_refused", "duels", "enables", "regenerates", "disables", "setups", "lost_ops",
            "duel_losers", "lost_undecided", "timed_kills", "rollbacks_tried", "rollbacks_found", "lost_landed",
            "lost_not_landed", "fresh_totp_refused", "mfa_refused", "throttled", "mfa_relogins",
        ), 0)
        self.slock = threading.Lock()
        self.old_challenges = set()
        self.snapshots = {}
        self.reported = set()
        self.trigger = None  # (server, Event): set when a write has just been sent to that server
        self.timing = {"restart": 0.0, "check": 0.0}

    # --- bookkeeping

    def bump(self, what, n=1):
        with self.slock:
            self.stats[what] += n

    def violation(self, user, what):
        with self.vlock:
            self.violations.append(f"{user.email if user else '-'}: {what}")
        self.history.write({"event": "violation", "t": time.time(), "user": user.idx if user else None,
                            "what": what})

    # --- processes

    def start(self, i, wait=True):
        self.gens[i] += 1
        name = f"{'ab'[i]}{self.gens[i]}"
        srv = Server(self.args.server, self.common, self.work, name, wait=wait)
        if wait:
            check(srv.port is not None, f"server {name} started without repair")
            with self.slot_lock:
                self.slots[i] = srv
        return srv

    def kill(self, i):
        with self.slot_lock:
            srv, self.slots[i] = self.slots[i], None
        srv.proc.kill()
        srv.proc.wait()
        srv.kill()
        self.bump("kills")

    def rollback_files(self, save):
        """--inject-rollback (SQLite, both servers down): the files copied at the first crash are put
        back at the third, as if every write between them had never reached the disk."""
        saved = os.path.join(self.work, "saved")
        os.makedirs(saved, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            src, copy = self.sqlite_path + suffix, os.path.join(saved, "crash.sqlite" + suffix)
            if save and os.path.exists(src):
                shutil.copy2(src, copy)
            elif not save:
                if os.path.exists(src):
                    os.remove(src)
                if os.path.exists(copy):
                    shutil.copy2(copy, src)
        self.history.write({"event": "files saved" if save else "files rolled back", "t": time.time()})

    def pick(self, rnd, prefer=None):
        with self.slot_lock:
            up = [i for i in (0, 1) if self.slots[i] is not None]
            if not up:
                return None, None
            i = prefer if prefer in up else rnd.choice(up)
            return i, self.slots[i]

    # --- one request

    def call(self, rnd, user, op, method, path, body=None, token=None, slot=None):
        i, srv = self.pick(rnd, slot)
        if srv is None:  # both are down: nothing sent, nothing logged; wait for a restart
            time.sleep(0.02)
            return Lost(False, "no server up")
        entry = {"c": threading.current_thread().name, "u": user.idx, "op": op, "srv": i,
                 "req": [method, path, body], "clock": self.clock.now(), "t0": time.time()}
        self.history.count("requests")
        entry["gen"] = self.gens[i]
        if token is not None and token == user.token:
            entry["mfa_session"] = user.token_mfa  # its amr has otp or backup
        headers = {"Content-Type": "application/json", "Connection": "close"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        try:
            try:
                conn.connect()
            except OSError as e:
                entry.update(outcome="refused", error=repr(e), t1=time.time())
                self.history.write(entry)
                self.history.count("refused")
                self.history.answer(op, "refused")
                return Lost(False, repr(e))
            try:
                conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                trigger = self.trigger
                if trigger is not None and trigger[0] == i and op in WRITES:
                    trigger[1].set()  # a kill timed to this write (see run)
                res = conn.getresponse()
                payload = res.read()
                status = res.status
            except (OSError, http.client.HTTPException) as e:
                entry.update(outcome="lost", error=repr(e), t1=time.time())
                self.history.write(entry)
                self.history.count("lost")
                self.history.answer(op, "lost")
                return Lost(True, repr(e))
        finally:
            conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        entry.update(outcome="answered", status=status, answer=parsed, t1=time.time())
        self.history.write(entry)
        self.history.count("answered")
        self.history.answer(op, status)
        if status >= 500:
            self.history.count("5xx")
        return (status, parsed)

    @staticmethod
    def ambiguous(r):
        """An answer that says nothing about whether the request landed."""
        return isinstance(r, Lost) and r.sent or (not isinstance(r, Lost) and r[0] >= 500)

    @staticmethod
    def error_of(r):
        return r[1].get("error") if isinstance(r[1], dict) else None

    # --- the ops

    def freeze(self, user, op):
        user.frozen = op
        self.bump("lost_ops")

    def got_token(self, user, body):
        if isinstance(body, dict) and body.get("token"):
            user.token, user.token_at = body["token"], self.clock.now()
            payload = user.token.split(".")[1]
            amr = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("amr", [])
            user.token_mfa = "otp" in amr or "backup" in amr

    def mfa_refused(self, user, op, r):
        """A 403 to disable or regenerate: right only for a session that did not pass the second factor
        (sent without a code); that session logs in again with a code."""
        if self.error_of(r) is None or user.token_mfa:
            self.violation(user, f"{op} answered 403 {r[1]} to a session that passed the second factor")
        self.bump("mfa_refused")
        user.token = None

    def password_login(self, rnd, user, slot=None):
        """A challenge token, a session (then None), or a Lost."""
        r = self.call(rnd, user, "login", "POST", "/api/auth", {"email": user.email, "password": user.password},
                      slot=slot)
        if isinstance(r, Lost) or r[0] != 200:
            return r if isinstance(r, Lost) else Lost(False, f"login answered {r[0]}")
        if r[1].get("mfa_required"):
            if user.status != "enabled":
                self.violation(user, f"login asked for a second factor while the history says {user.status}")
                user.status = "enabled"
            return r[1]["mfa_token"]
        if user.status == "enabled":
            self.violation(user, "login issued a session without a second factor after an answered enable")
        self.got_token(user, r[1])
        return None

    def fresh_step(self, rnd, user):
        """A TOTP step after the last accepted one and safe against one clock tick, or None."""
        s = self.clock.now() // STEP
        last = user.max_step()
        steps = [x for x in (s, s + 1) if last is None or x > last]
        if not steps:
            return None
        step = rnd.choice(steps)
        code = totp_code(user.secret, step)
        if any(totp_code(user.secret, x) == code for x in range(s - 2, s + 4) if x != step):
            return None  # one code for two steps (1 in 10^6): which step it matches is not ours to know
        return step

    def note_failure(self, user, n=1):
        user.flo += n
        user.fhi += n

    def accept_step(self, user, step):
        prev = user.max_step()
        if prev is not None and step <= prev:
            self.violation(user, f"TOTP step {step} accepted after step {prev} was (a code accepted twice)")
        user.accepted_steps[user.secret] = max(step, prev or step)
        user.last_steps = {step}
        user.flo = user.fhi = 0
        self.bump("totp_accepted")

    def accept_code(self, user, code):
        if code in user.spent or user.state.get(code) != "present":
            self.violation(user, f"backup code {code} accepted although it was spent or replaced")
        user.state[code] = "gone"
        user.spent.add(code)
        user.flo = user.fhi = 0
        self.bump("backup_accepted")

    def verify(self, rnd, user, kind, code, step=None, duel=False, fresh=False, intent="valid"):
        """One login with one code (or the same code on both processes at once); fresh: a fresh TOTP
        step chosen once the challenges are there, right before the code is sent; intent: valid, reuse
        (a code already used, on purpose) or wrong (a guess)."""
        tokens = []
        for slot in ((0, 1) if duel else (None,)):
            t = self.password_login(rnd, user, slot)
            if isinstance(t, Lost) or t is None:
                return
            tokens.append((slot, t))
        if fresh:
            step = self.fresh_step(rnd, user)
            if step is None:
                return
            code = totp_code(user.secret, step)
        valid = (kind == "totp" and step is not None and (user.max_step() is None or step > user.max_step())) or \
                (kind == "backup" and user.state.get(code) == "present" and code not in user.spent)
        results = [None] * len(tokens)

        def one(j):
            slot, t = tokens[j]
            results[j] = self.call(rnd, user, "verify-duel" if duel else "verify", "POST", "/api/auth/mfa/verify",
                                   {"mfaToken": t, "code": code, "type": kind}, slot=slot)
        if duel:
            self.bump("duels")
            threads = [threading.Thread(target=one, args=(j,)) for j in range(len(tokens))]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        else:
            one(0)
        wins = [r for r in results if not isinstance(r, Lost) and r[0] == 200]
        refused = [r for r in results if not isinstance(r, Lost) and r[0] == 401 and self.error_of(r) == INVALID_CODE]
        unknown = [r for r in results if self.ambiguous(r)]
        # 429: the TOTP throttle's delay after failures (no attempt made, nothing written)
        self.bump("throttled", sum(1 for r in results if not isinstance(r, Lost) and r[0] == 429))
        for r in results:
            if not isinstance(r, Lost) and r[0] == 401 and self.error_of(r) == "MFA is not enabled":
                self.violation(user, "verify says MFA is not enabled after an answered enable")
        if len(wins) > 1:
            self.violation(user, f"{kind} code {code} accepted {len(wins)} times at once")
        if wins:
            self.got_token(user, wins[0][1])
            if kind == "totp" and step is None:
                self.violation(user, f"the wrong TOTP code {code} accepted")
            elif kind == "totp":
                self.accept_step(user, step)
            else:
                self.accept_code(user, code)
        elif kind == "backup" and refused and valid and not unknown:
            self.violation(user, f"backup code {code}, shown and never used, refused")
        if kind == "totp" and refused and valid and not wins and not unknown:
            self.bump("fresh_totp_refused")  # the clock moved twice under it: allowed, counted
        if refused:
            self.bump({"reuse": "reused_refused", "wrong": "wrong_refused"}.get(intent, "duel_losers"), len(refused))
        self.note_failure(user, len(refused))  # after the reset of a win: its losers came second
        if unknown:
            f_if_not = user.flo  # the count if none of the lost ones landed
            if valid and not wins:
                user.flo = 0  # one of them may have won and reset the count
                if kind == "backup":
                    user.state[code] = "maybe"
                else:
                    user.last_steps = set(user.last_steps) | {step}
            user.fhi += len(unknown)
            self.freeze(user, {"op": "verify", "kind": kind, "code": code, "step": step, "valid": valid,
                               "won": bool(wins), "secret": user.secret, "f_if_not": f_if_not})

    def enable(self, rnd, user, wrong=False):
        s = self.clock.now() // STEP
        step = None if wrong else self.fresh_step(rnd, user)
        if not wrong and step is None:
            return
        if wrong:
            bad = {totp_code(user.secret, x) for x in range(s - 2, s + 4)}
            code = next(c for c in ("%06d" % rnd.randrange(10**6) for _ in range(100)) if c not in bad)
        else:
            code = totp_code(user.secret, step)
        r = self.call(rnd, user, "enable", "POST", "/api/v1/me/mfa/totp/enable", {"code": code}, token=user.token)
        if self.ambiguous(r):
            self.freeze(user, {"op": "enable", "step": step, "secret": user.secret, "valid": not wrong})
            return
        if isinstance(r, Lost):
            return
        status, body = r
        if status == 200:
            if wrong:
                self.violation(user, f"enable accepted the wrong code {code}")
            self.bump("enables")
            user.status = "enabled"
            if not wrong:
                self.accept_step(user, step)
            user.batch = list(body["backupCodes"])
            user.state = {c: "present" for c in user.batch}
            user.flo = user.fhi = 0
        elif status == 422 and self.error_of(r) == INVALID_CODE:
            self.note_failure(user)
            self.bump("wrong_refused" if wrong else "fresh_totp_refused")
        elif status == 429:
            self.bump("throttled")
        elif status == 401:
            user.token = None
        elif status in (400, 409):
            self.violation(user, f"enable answered {status} {body} while the history says pending")
            if status == 409:  # go on from what the server says
                user.status, user.secret, user.batch, user.state = "enabled", None, None, {}
            else:
                self.disabled(user)

    def setup(self, rnd, user):
        r = self.call(rnd, user, "setup", "POST", "/api/v1/me/mfa/totp/setup", token=user.token)
        if self.ambiguous(r):
            self.freeze(user, {"op": "setup"})
            return
        if isinstance(r, Lost):
            return
        if r[0] == 200:
            self.bump("setups")
            user.status, user.secret, user.last_steps = "pending", r[1]["secret"], {None}
            user.batch, user.state = [], {}
        elif r[0] == 401:
            user.token = None
        elif r[0] == 409:
            self.violation(user, f"setup answered 409 while the history says {user.status}")
            user.status, user.secret, user.batch, user.state = "enabled", None, None, {}  # go on from there

    def regenerate(self, rnd, user):
        r = self.call(rnd, user, "regenerate", "POST", "/api/v1/me/mfa/backup-codes/regenerate",
                      {"password": user.password}, token=user.token)
        if self.ambiguous(r):
            self.freeze(user, {"op": "regenerate"})
            return
        if isinstance(r, Lost):
            return
        if r[0] == 200:
            self.bump("regenerates")
            user.spent |= set(user.batch or [])
            user.batch = list(r[1]["backupCodes"])
            user.state = {c: "present" for c in user.batch}
        elif r[0] == 401:
            user.token = None
        elif r[0] == 403:
            self.mfa_refused(user, "regenerate", r)
        elif r[0] == 400:
            self.violation(user, f"regenerate answered 400 {r[1]} after an answered enable")
            self.disabled(user)

    def disable(self, rnd, user):
        r = self.call(rnd, user, "disable", "POST", "/api/v1/me/mfa/totp/disable", {"password": user.password},
                      token=user.token)
        if self.ambiguous(r):
            self.freeze(user, {"op": "disable"})
            return
        if isinstance(r, Lost):
            return
        if r[0] == 200:
            self.bump("disables")
            self.disabled(user)
        elif r[0] == 401:
            user.token = None
        elif r[0] == 403:
            self.mfa_refused(user, "disable", r)
        elif r[0] == 400:
            self.violation(user, f"disable answered 400 {r[1]} after an answered enable")
            self.disabled(user)

    def disabled(self, user):
        user.spent |= set(user.batch or [])
        user.status, user.secret, user.last_steps = "disabled", None, {None}
        user.batch, user.state = [], {}
        user.flo = user.fhi = 0

    def reauth(self, rnd, user):
        if user.status != "enabled":
            self.password_login(rnd, user)
            return
        step = self.fresh_step(rnd, user) if user.secret else None
        present = [c for c in (user.batch or []) if user.state.get(c) == "present"]
        if step is not None:
            self.verify(rnd, user, "totp", None, fresh=True)
        elif present:
            self.verify(rnd, user, "backup", rnd.choice(present))

    def op(self, rnd, user):
        self.bump("ops")
        if user.token is None or self.clock.now() - user.token_at > 3000:
            return self.reauth(rnd, user)
        if user.status == "disabled":
            return self.setup(rnd, user)
        if user.status == "pending":
            if user.secret is None:
                return self.setup(rnd, user)
            return self.enable(rnd, user, wrong=user.fhi < 3 and rnd.random() < 0.2)
        present = [c for c in (user.batch or []) if user.state.get(c) == "present"]
        if not user.token_mfa and rnd.random() < 0.9:  # (a tenth go on: their 403 is checked)
            # enabled on a password-only session: disable and regenerate need the second factor
            self.bump("mfa_relogins")
            return self.reauth(rnd, user)
        if user.batch is None or len(present) < 3:
            return self.regenerate(rnd, user)
        if user.secret is None:  # a lost setup or enable whose secret we never saw: start over
            return self.disable(rnd, user)
        x = rnd.random()
        step = self.fresh_step(rnd, user)
        if x < 0.22 and step is not None:
            return self.verify(rnd, user, "totp", None, fresh=True)
        if x < 0.42:
            return self.verify(rnd, user, "backup", rnd.choice(present))
        if x < 0.52 and user.fhi < 4:  # a code already used, on purpose
            spent = sorted(user.spent)
            last = user.max_step()
            s = self.clock.now() // STEP
            if last is not None and last >= s and rnd.random() < 0.5:
                return self.verify(rnd, user, "totp", totp_code(user.secret, last), last, intent="reuse")
            if spent:
                return self.verify(rnd, user, "backup", rnd.choice(spent), intent="reuse")
            return None
        if x < 0.62 and user.fhi < 4:  # a wrong guess
            if rnd.random() < 0.5:
                s = self.clock.now() // STEP
                bad = {totp_code(user.secret, y) for y in range(s - 2, s + 4)}
                code = next(c for c in ("%06d" % rnd.randrange(10**6) for _ in range(100)) if c not in bad)
                return self.verify(rnd, user, "totp", code, intent="wrong")
            alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
            code = "".join(rnd.choice(alphabet) for _ in range(4)) + "-" + \
                   "".join(rnd.choice(alphabet) for _ in range(4))
            return self.verify(rnd, user, "backup", code, intent="wrong")
        if x < 0.74:  # one code on both processes at once
            if step is not None and rnd.random() < 0.4:
                return self.verify(rnd, user, "totp", None, duel=True, fresh=True)
            return self.verify(rnd, user, "backup", rnd.choice(present), duel=True)
        if x < 0.81:
            return self.regenerate(rnd, user)
        if x < 0.86:
            return self.disable(rnd, user)
        r = self.call(rnd, user, "status", "GET", "/api/v1/me/mfa/status", token=user.token)
        if not isinstance(r, Lost) and r[0] == 200 and not r[1].get("totpEnabled"):
            self.violation(user, f"status says not enabled after an answered enable: {r[1]}")
        return None

    # --- the clients

    def client(self, cid):
        rnd = random.Random(self.args.seed * 1000 + cid + 1)
        mine = [u for u in self.users if u.idx % self.args.clients == cid]
        while True:
            with self.cv:
                while self.paused and not self.stop:
                    self.cv.wait()
                if self.stop:
                    return
                self.busy += 1
            try:
                ready = [u for u in mine if u.frozen is None]
                if ready:
                    self.op(rnd, rnd.choice(ready))
                else:
                    time.sleep(0.01)
            except Exception as e:  # noqa: BLE001
                self.violation(None, f"client {cid} raised {e!r}")
            finally:
                with self.cv:
                    self.busy -= 1
                    self.cv.notify_all()
            time.sleep(0.001)

    def pause(self):
        with self.cv:
            self.paused = True
            while self.busy > 0:
                self.cv.wait(1)

    def resume(self):
        with self.cv:
            self.paused = False
            self.cv.notify_all()

    def ticker(self):
        """One TOTP step (30 s) of test clock every TICK_OPS ops the clients start, so the clock moves
        with the traffic, whatever the machine's speed."""
        last = 0
        while not self.stop:
            time.sleep(0.02)
            if self.stats["ops"] - last >= TICK_OPS:
                last = self.stats["ops"]
                self.clock.advance(STEP)

    # --- the check

    def candidates(self, user):
        """(name, model changes) the database may show: the history as answered, and, when a request's
        answer was lost, also with that request landed."""
        base = {}
        op = user.frozen
        if op is None or op["op"] == "verify":
            return [("as answered", base)]
        if op["op"] == "setup":
            if user.status == "pending":  # pending either way, and the sealed secret is not ours to open
                return [("lost setup undecided", {"secret": None})]
            return [("lost setup not landed", base),
                    ("lost setup landed", {"status": "pending", "secret": None, "last_steps": {None},
                                           "batch": [], "state": {}})]
        if op["op"] == "enable":
            not_landed = {"fhi": user.fhi + 1}  # a wrong (or late) code counts a failure
            if not op["valid"]:
                return [("lost wrong enable", not_landed)]
            return [("lost enable not landed", not_landed),
                    ("lost enable landed", {"status": "enabled", "last_steps": {op["step"]}, "batch": None,
                                            "state": {}, "flo": 0, "fhi": 0})]
        if op["op"] == "regenerate":
            if user.batch is None:  # no known set to tell the two apart
                return [("lost regenerate undecided", base)]
            return [("lost regenerate not landed", base), ("lost regenerate landed", {"batch": None, "state": {}})]
        if op["op"] == "disable":
            return [("lost disable not landed", base),
                    ("lost disable landed", {"status": "disabled", "secret": None, "last_steps": {None},
                                             "batch": [], "state": {}, "flo": 0, "fhi": 0})]
        raise AssertionError(op)

    def problems(self, user, m, rec):
        status = rec["status"] if rec else "disabled"
        failures = rec["failures"] if rec else 0
        out = []
        h.checks += 1  # each comparison below is one check; a failed one is a violation, reported at the end
        if status != m["status"]:
            return [f"status {status}, the history says {m['status']}"]
        if failures < m["flo"]:
            out.append(f"failure count {failures} below the {m['flo']} wrong guesses answered since the last reset")
        if failures > m["fhi"]:
            out.append(f"failure count {failures} above the {m['fhi']} the requests could have added")
        if status == "pending" and (rec["last_step"] is not None or rec["digests"]):
            out.append("a pending record with a TOTP step or backup codes (setup writes neither)")
        if status == "enabled":
            if m["last_steps"] is not None and rec["last_step"] not in m["last_steps"]:
                out.append(f"stored TOTP last step {rec['last_step']}, the history says one of {m['last_steps']}"
                           f" (accepted up to {user.max_step()})")
            if rec["digests"] and rec["pepper"] not in (None, 2):
                out.append(f"a backup code set stored with pepper {rec['pepper']}, not the demo's host key (2)")
            if m["batch"] is not None:
                stored = rec["digests"]
                if len(set(stored)) != len(stored):
                    out.append("a backup code digest stored twice")
                d = {c: self.digest(c, rec["salt"], rec["cost"]) for c in m["batch"]} if stored else {}
                for c in m["batch"]:
                    st = m["state"].get(c, "gone")
                    there = c in d and d[c] in stored
                    if st == "present" and not there:
                        out.append(f"backup code {c} (shown by an answered enable/regenerate, never used) missing")
                    if st == "gone" and there:
                        out.append(f"backup code {c} answered as used is still stored")
                known = {d[c] for c in m["batch"] if c in d and m["state"].get(c, "gone") in ("present", "maybe")}
                extra = [x for x in stored if x not in known]
                if extra:
                    out.append(f"{len(extra)} stored backup code digests no answer showed")
        return out

    def checkpoint(self, final=False):
        self.stats["checkpoints"] += 1
        rows = self.db.rows()
        ok = self.db.integrity()
        check(ok == "ok", f"integrity_check: {ok}")
        if ok != "ok":
            self.violation(None, f"SQLite integrity_check: {ok}")
        by_key = {k: d for k, d, _ in rows}
        for k, d, _ in rows:  # (on PostgreSQL other tests' challenges may be there too: they must decode as well)
            if k.startswith(b"mfakit/challenge/") and k not in self.old_challenges:
                try:
                    decode_challenge(d)
                    h.checks += 1
                except Malformed as e:
                    self.violation(None, f"challenge record {k.decode(errors='replace')} does not decode: {e}")
        for u in self.users:
            raw = by_key.get(account_key(u.email))
            rec = None
            if raw is not None:
                try:
                    rec = decode_account(raw)
                    h.checks += 1
                except Malformed as e:
                    self.violation(u, f"account record does not decode: {e}")
                    u.frozen = None
                    continue
            base = {"status": u.status, "secret": u.secret, "last_steps": u.last_steps, "batch": u.batch,
                    "state": u.state, "flo": u.flo, "fhi": u.fhi}
            found, tried = None, []
            for name, change in self.candidates(u):
                m = dict(base, **change)
                p = self.problems(u, m, rec)
                tried.append((name, p))
                if not p:
                    found = (name, m)
                    break
            if found is None:
                self.violation(u, "database and history disagree: " +
                               "; ".join(f"[{n}] " + ", ".join(p) for n, p in tried))
                m = dict(base, batch=None, state={})
            else:
                m = found[1]
                if final:
                    self.rollback_check(u, m, rec)
                if u.frozen is not None and u.frozen["op"] != "verify":  # (a lost verify: counted in resync)
                    landed = found[0].endswith(" landed") and not found[0].endswith("not landed")
                    self.bump("lost_undecided" if found[0].endswith("undecided") else
                              "lost_landed" if landed else "lost_not_landed")
                    if landed and u.frozen["op"] in ("regenerate", "disable"):
                        u.spent |= set(u.batch or [])  # that set was replaced
            self.snapshots.setdefault(u.idx, []).append(rec)
            self.resync(u, m, rec)
            if not final:
                self.http_check(u, rec)

    @staticmethod
    def essence(rec):
        if rec is None or rec["status"] == "disabled":
            return ("disabled", rec["failures"] if rec else 0)
        return (rec["status"], rec["failures"], rec["last_step"] if rec["status"] == "enabled" else None,
                tuple(rec["digests"]))

    def rollback_check(self, u, m, rec):
        """The checker's own test: each earlier state of the record (a write rolled back, as a lost
        commit would look) must be found against the final history, where the history knows the record
        exactly (no set whose codes no answer showed, an exact failure count)."""
        if (m["status"] == "enabled" and m["batch"] is None) or m["flo"] != m["fhi"] or len(m["last_steps"]) != 1:
            return
        for old in self.snapshots.get(u.idx, []):
            if self.essence(old) == self.essence(rec):
                continue
            self.stats["rollbacks_tried"] += 1
            if self.problems(u, m, old):
                self.stats["rollbacks_found"] += 1

    def resync(self, u, m, rec):
        op = u.frozen
        u.status = rec["status"] if rec else "disabled"
        u.secret = m["secret"] if u.status != "disabled" else None
        u.flo = u.fhi = rec["failures"] if rec else 0
        u.last_steps = {rec["last_step"] if rec and u.status == "enabled" else None}
        if u.status != "enabled":
            u.last_steps = {None}
        u.batch, u.state = m["batch"], dict(m["state"])
        if u.status == "enabled" and u.batch is not None:
            stored = set(rec["digests"])
            for c in u.batch:
                if u.state.get(c) == "maybe":
                    there = bool(stored) and self.digest(c, rec["salt"], rec["cost"]) in stored
                    u.state[c] = "present" if there else "gone"
                    if not there:
                        u.spent.add(c)
        if u.status == "disabled":
            u.batch, u.state = [], {}
        if op is not None and op["op"] == "verify":
            landed = False
            if op["kind"] == "totp" and op["valid"] and rec and rec["status"] == "enabled" and \
                    rec["last_step"] == op["step"] and not op["won"]:
                u.accepted_steps[op["secret"]] = max(op["step"], u.accepted_steps.get(op["secret"], 0))
                landed = True
            if op["kind"] == "backup" and op["valid"] and not op["won"] and op["code"] in u.spent:
                landed = True
            if (rec["failures"] if rec else 0) != op["f_if_not"]:
                landed = True  # a failure (or a reset) no answer reported
            self.bump("lost_landed" if landed else "lost_not_landed")
        if op is not None and op["op"] == "enable" and u.status == "enabled" and op["valid"]:
            u.secret = op["secret"]
            u.accepted_steps[op["secret"]] = op["step"]
        if u.status == "enabled" and rec["last_step"] is not None and u.secret is not None:
            prev = u.accepted_steps.get(u.secret)
            if prev is not None and rec["last_step"] < prev and (u.idx, prev) not in self.reported:
                self.reported.add((u.idx, prev))  # (once: it stays so until a later step is accepted)
                self.violation(u, f"stored TOTP last step {rec['last_step']} below the accepted step {prev}")
        u.frozen = None

    def http_check(self, u, rec):
        if u.token is None or self.clock.now() - u.token_at > 2000:  # far from the token's expiry
            return
        rnd = self.rnd
        r = self.call(rnd, u, "check-status", "GET", "/api/v1/me/mfa/status", token=u.token)
        if isinstance(r, Lost) or r[0] != 200:
            self.violation(u, f"status over HTTP with both servers up: {r if not isinstance(r, Lost) else r.error}")
            return
        enabled = bool(rec) and rec["status"] == "enabled"
        want = (enabled, len(rec["digests"]) if enabled else 0)
        got = (r[1].get("totpEnabled"), r[1].get("backupCodesRemaining"))
        check(got == want, f"{u.email}: status over HTTP {got} agrees with the raw row {want}")

    # --- the run

    def run(self):
        started = time.time()
        for x in range(3):  # the TOTP here against oathtool
            check(totp_code("JBSWY3DPEHPK3PXP", 55000000 + x) == h.totp("JBSWY3DPEHPK3PXP", (55000000 + x) * 30),
                  "TOTP codes agree with oathtool")
        self.start(0)
        self.start(1)
        # a shared PostgreSQL database may hold other tests' challenges: only this test's are checked
        self.old_challenges = {k for k, _, _ in self.db.rows() if k.startswith(b"mfakit/challenge/")}
        threads = [threading.Thread(target=self.client, args=(c,), name=f"client{c}", daemon=True)
                   for c in range(self.args.clients)]
        tick = threading.Thread(target=self.ticker, daemon=True)
        for t in threads + [tick]:
            t.start()
        crash_rnd = random.Random(self.args.seed ^ 0x5EED)
        time.sleep(1.0)
        try:
            for n in range(self.args.crashes):
                time.sleep(crash_rnd.uniform(0.3, 1.2))
                x = crash_rnd.random()
                victims = [0] if x < 0.4 else [1] if x < 0.8 else [0, 1]
                if self.args.inject_rollback and n in (0, 2):
                    victims = [0, 1]
                if crash_rnd.random() < 0.5:  # half the kills: 0 to 40 ms after a write reached the victim
                    sent = threading.Event()
                    self.trigger = (victims[0], sent)
                    if sent.wait(5):
                        time.sleep(crash_rnd.uniform(0.0, 0.04))
                        self.bump("timed_kills")
                    self.trigger = None
                self.history.write({"event": "kill", "t": time.time(), "servers": victims, "crash": n + 1})
                for v in victims:
                    self.kill(v)
                self.bump("crashes")
                if self.args.inject_rollback and n in (0, 2):
                    self.rollback_files(save=n == 0)
                time.sleep(crash_rnd.uniform(0.0, 0.3))  # the survivor (if any) serves alone a while
                t_restart = time.time()
                for v in victims:
                    if crash_rnd.random() < 0.15:  # killed again during its own start-up
                        srv = self.start(v, wait=False)
                        time.sleep(crash_rnd.uniform(0.005, 0.25))
                        srv.kill()
                        self.bump("kills")
                        self.bump("startup_kills")
                    self.start(v)
                self.history.write({"event": "restarted", "t": time.time(), "servers": victims})
                self.timing["restart"] += time.time() - t_restart
                time.sleep(crash_rnd.uniform(0.0, 0.2))
                t_check = time.time()
                self.pause()
                self.checkpoint()
                self.timing["check"] += time.time() - t_check
                self.history.write({"event": "checked", "t": time.time(), "crash": n + 1})
                self.resume()
            time.sleep(0.5)
        finally:
            self.pause()
            self.stop = True
            self.resume()
            for t in threads:
                t.join(60)
        codes = []
        for i in (0, 1):
            if self.slots[i] is not None:
                codes.append(self.slots[i].stop())
        check(codes == [0, 0], f"both servers exit 0 on SIGTERM at the end ({codes})")
        self.checkpoint(final=True)
        self.history.close()
        c = self.history.counts
        s = self.stats
        print(f"crashes: {s['crashes']} ({s['kills']} processes killed, {s['startup_kills']} during start-up, "
              f"{s['timed_kills']} timed 0-40 ms after a write was sent), "
              f"checks after each restart and at the end: {s['checkpoints']}")
        print(f"requests: {c['requests']} ({c['answered']} answered, {c['lost']} answers lost in crashes, "
              f"{c['refused']} refused (never sent), {c['5xx']} answered 5xx); ops {s['ops']}")
        print("answers by op: " + "; ".join(
            f"{op} " + " ".join(f"{k}x{v}" for k, v in sorted(d.items(), key=lambda kv: str(kv[0])))
            for op, d in sorted(self.history.by_op.items())))
        print(f"ops whose answer was lost or 5xx: {s['lost_ops']} ({s['lost_landed']} landed, "
              f"{s['lost_not_landed']} not landed: both allowed; {s['lost_undecided']} a re-setup or a regenerate "
              f"of an unknown set, which the record cannot tell apart)")
        print(f"accepted: {s['totp_accepted']} TOTP steps, {s['backup_accepted']} backup codes; refused: "
              f"{s['reused_refused']} reused codes, {s['wrong_refused']} wrong guesses, {s['fresh_totp_refused']} "
              f"fresh TOTP codes under a moving clock; {s['duels']} duels ({s['duel_losers']} losers refused), "
              f"{s['enables']} enables, "
              f"{s['regenerates']} regenerates, {s['disables']} disables, {s['setups']} setups; {s['throttled']} "
              f"throttled (429); {s['mfa_refused']} disables/regenerates refused (403) to a password-only session, "
              f"{s['mfa_relogins']} logins again with a code before one")
        print(f"the checker itself: {s['rollbacks_found']} of {s['rollbacks_tried']} earlier states of the records "
              f"(each a write rolled back) found against the final history")
        print(f"violations: {len(self.violations)}")
        for v in self.violations[:30]:
            print(f"  {v}")
        print(f"history: {os.path.join(self.work, 'history.jsonl')}, {time.time() - started:.1f} s "
              f"({self.timing['restart']:.1f} s restarting, {self.timing['check']:.1f} s pausing and checking)")
        check(s["crashes"] >= self.args.crashes, "all crashes done")
        if not self.args.inject_rollback:  # (there the final history itself went on from a rolled-back file)
            check(s["rollbacks_tried"] > 0 and s["rollbacks_found"] == s["rollbacks_tried"],
                  "the checker finds every earlier state of a record (a rolled-back write) against the final "
                  "history")
        return not self.violations


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--store", default="sqlite")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--crashes", type=int, default=10)
    ap.add_argument("--long", action="store_true", help="50 crashes")
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--inject-rollback", action="store_true",
                    help="the checker's own test (SQLite): the database files of the first crash put back at the "
                         "third; passes when that is found")
    args = ap.parse_args()
    if args.long:
        args.crashes = max(args.crashes, 50)
    if args.inject_rollback and (args.store != "sqlite" or args.crashes < 3):
        ap.error("--inject-rollback needs --store sqlite and at least 3 crashes")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 30)
    print(f"seed {args.seed} (--seed {args.seed} repeats the schedule of kills and requests, not their timing)")
    test = Test(args)
    try:
        ok = test.run()
    except Exception as e:  # noqa: BLE001
        for i in (0, 1):
            if test.slots[i] is not None:
                test.slots[i].kill()
        logs = "".join(f"\n--- {os.path.basename(p)} ---\n" + open(p, errors="replace").read()[-1500:]
                       for p in sorted(glob.glob(os.path.join(test.work, "*.stderr")))[-4:])
        print(f"FAIL after {h.checks} checks: {e!r}{logs}")
        return 1
    if args.inject_rollback:
        if ok:
            print(f"FAIL: the writes rolled back at the third crash went unnoticed ({h.checks} checks)")
            return 1
        print(f"PASS: {h.checks} checks, the rolled-back files found: {len(test.violations)} violations")
        return 0
    if not ok:
        print(f"FAIL: {len(test.violations)} violations after {h.checks} checks")
        return 1
    print(f"PASS: {h.checks} checks, {test.stats['crashes']} crashes on {args.store.split(':')[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
