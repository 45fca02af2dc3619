#!/usr/bin/env python3
"""The project speaks of itself as it is: no file refers to the tracker's
issues, to work sessions or to who did what. A reader cannot know what
"the second issue" or "the fourth session" were; a figure carries the command
that measures it, and its history (where it matters) dates and commits.

Scans every file of the checkout (git ls-files when it is a git work tree,
else every file under the source directory), text files only, and prints
each hit as path:line: text. Exit 1 when there is any.

"session" is also a word of the server's domain (a login session, a
PostgreSQL session), so only the history forms are matched: a number after
the word, a possessive of a numbered one, an ordinal run of one.
"""
import argparse
import os
import re
import subprocess
import sys

NUM = r"\s*[#_-]?\s*\d"
PATTERNS = [
    # "issue 3", "issue #3", "issues 3 and 8", "Issue 8's", "issue8-user"
    ("an issue number", re.compile(r"\bissues?" + NUM, re.I)),
    # "session 6", "(session 5)", "session 6's run", "sessions 5-6", "until session 6"
    ("a session number", re.compile(r"\bsessions?" + NUM, re.I)),
    # "in the third session", "an earlier session's run"
    ("a numbered session",
     re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|earlier|previous)"
                r"\s+session'?s?\b(?!\s+(token|cookie|id|key|cache|table|row|record|expir))", re.I)),
    # "a trade this session did not make"
    ("a session's deeds",
     re.compile(r"\b(this|that|the\s+last|the\s+next|an?\s+earlier)\s+session\s+"
                r"(did|made|found|fixed|measured|ran|added|changed|wrote|left)\b", re.I)),
    # who did what
    ("who did what", re.compile(r"\b(the\s+integrator|filed\s+by\s+(a|the)\s+(session|helper))\b", re.I)),
]

# Files that are not the project's words: vendored code, generated corpora,
# and this check (its patterns).
SKIP_DIRS = {".git", "node_modules", "build", "__pycache__"}
SKIP_FILES = {"tests/catch.hpp", "tests/package/check_no_history.py"}
SKIP_PREFIXES = ("tests/fuzz/corpus/",)


def project_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True, capture_output=True).stdout
        files = [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS]
        for n in names:
            files.append(os.path.relpath(os.path.join(d, n), root))
    return files


# Lines each pattern set must flag, and lines of the project's own domain it
# must leave alone (checked by --self-test, its own CTest).
MUST_FLAG = [
    "so issue 3's 3x target is not met", "(issue 10, part 1)", "Issue 8: a server", "issue #3",
    'e.user = "issue8-" + suffix;', "see issues 3 and 8", "Third run (session 5), towards",
    "not met** (session 6's run, where", "Until session 6 every write", "## Striped (session 6)",
    "from earlier sessions, before", "a trade this session did not make", "cleaned by the integrator",
]
MUST_PASS = [
    "std::optional<reply> session_refused(session& s) {", "reauthenticate(session& auth, pw)",
    "issues fresh backup codes, stored only as digests", "log that session out",
    "an advisory lock another session holds while that session waits", "the 1-second session cache",
    "--session-cache-ms 0 trades", "a previous session token is revoked", "sessions are kept in its database",
    "First run of the fuzzers", "what the scan finds there is this run's",
    "issue_session(login->user);", "the JWT issuer",
]


def flagged(line):
    return any(rx.search(line) for _, rx in PATTERNS)


def self_test():
    bad = [f"not flagged: {x}" for x in MUST_FLAG if not flagged(x)]
    bad += [f"flagged, but the domain's own words: {x}" for x in MUST_PASS if flagged(x)]
    for b in bad:
        print(b)
    if bad:
        return 1
    print(f"patterns: ok ({len(MUST_FLAG)} flagged, {len(MUST_PASS)} left alone)")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", help="the checkout to scan")
    ap.add_argument("--self-test", action="store_true", help="check the patterns on known lines")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.source:
        ap.error("--source is needed")
    hits = []
    scanned = 0
    for rel in sorted(project_files(args.source)):
        rel = rel.replace(os.sep, "/")
        if rel in SKIP_FILES or rel.startswith(SKIP_PREFIXES) or set(rel.split("/")) & SKIP_DIRS:
            continue
        path = os.path.join(args.source, rel)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"\0" in data:
            continue  # binary
        scanned += 1
        text = data.decode("utf-8", "replace")
        for number, line in enumerate(text.splitlines(), 1):
            for what, rx in PATTERNS:
                m = rx.search(line)
                if m:
                    hits.append(f"{rel}:{number}: {what}: {line.strip()[:160]}")
                    break
    if scanned == 0:
        print(f"no file found under {args.source}")
        return 1
    for h in hits:
        print(h)
    if hits:
        print(f"{len(hits)} lines refer to the project's history (issues, sessions, who did what); "
              "say what the code does and how it is measured instead")
        return 1
    print(f"no history: {scanned} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
