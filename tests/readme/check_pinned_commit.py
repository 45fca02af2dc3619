#!/usr/bin/env python3
"""README's FetchContent block pins mfakit to a commit: that commit must be
one of this repository's history (an ancestor of HEAD), so the snippet works
as written. Without a .git (a source archive) there is nothing to check
against, and the test says so and passes."""
import os
import re
import subprocess
import sys


def main():
    source = sys.argv[1]
    text = open(os.path.join(source, "README.md"), encoding="utf-8").read()
    tags = re.findall(r"GIT_TAG\s+(\S+?)\)?\s*$", text, re.M)
    if not tags:
        sys.exit("README.md: no GIT_TAG in its FetchContent block")
    if not os.path.exists(os.path.join(source, ".git")):
        print(f"pinned commit: not a git checkout, {tags} unchecked")
        return 0
    for tag in tags:
        if not re.fullmatch(r"[0-9a-f]{40}", tag):
            sys.exit(f"README.md: GIT_TAG {tag} is not a full commit hash")
        git = ["git", "-C", source]
        if subprocess.run(git + ["cat-file", "-e", f"{tag}^{{commit}}"], capture_output=True).returncode:
            sys.exit(f"README.md: GIT_TAG {tag} is no commit of this repository")
        if subprocess.run(git + ["merge-base", "--is-ancestor", tag, "HEAD"], capture_output=True).returncode:
            sys.exit(f"README.md: GIT_TAG {tag} is not in the history of HEAD")
    print(f"pinned commit: ok ({', '.join(tags)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
