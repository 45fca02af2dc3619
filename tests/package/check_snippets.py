#!/usr/bin/env python3
"""The README's 'Use it in your project' snippets must be the tested code.

Each `# [snippet:NAME]` ... `# [/snippet]` block of the consumer tests (and
the whole vcpkg `usage` file) is dedented, its test-only variables are
replaced by what a user writes (the public URL, the release tag), and the
result must appear verbatim in README-snippets.md; also in README.md once
README.md has the section. Exit 1 on the first mismatch, with both texts.
"""
import argparse
import os
import re
import sys
import textwrap


def snippets(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    found = re.findall(r"^[ \t]*# \[snippet:([\w-]+)\][ \t]*\n(.*?)^[ \t]*# \[/snippet\]", text, re.M | re.S)
    if found:
        return [(name, textwrap.dedent(body)) for name, body in found]
    if "[snippet:" in text:
        sys.exit(f"{path}: unbalanced snippet markers")
    return [(path.rsplit("/", 1)[-1], text)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snippets-md", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--homepage", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("sources", nargs="+")
    args = ap.parse_args()

    public = {
        "${MFAKIT_TEST_GIT_URL}": f"{args.homepage}.git",
        "${MFAKIT_TEST_GIT_TAG}": f"v{args.version}",
        "${MFAKIT_TEST_TARBALL}": f"{args.homepage}/archive/v{args.version}.tar.gz",
        "${MFAKIT_TEST_TARBALL_SHA256}": "<sha256 of that archive>",
    }
    # FetchContent is pinned to the commit README-snippets.md names (a test of
    # tests/readme checks that it is a commit of this repository), else the tag.
    with open(args.snippets_md, encoding="utf-8") as f:
        pinned = re.search(r"GIT_TAG ([0-9a-f]{40})\b", f.read())
    if pinned:
        public["${MFAKIT_TEST_GIT_TAG}"] = pinned.group(1)
    docs = [args.snippets_md]
    if os.path.isfile(args.readme):
        with open(args.readme, encoding="utf-8") as f:
            if "Use it in your project" in f.read():
                docs.append(args.readme)

    failed = False
    count = 0
    for src in args.sources:
        for name, body in snippets(src):
            for test_var, user_text in public.items():
                body = body.replace(test_var, user_text)
            if "MFAKIT_TEST_" in body:
                print(f"{src}: snippet {name} still has a test-only variable:\n{body}")
                failed = True
            count += 1
            for doc in docs:
                with open(doc, encoding="utf-8") as f:
                    if body not in f.read():
                        print(f"{doc} lacks snippet '{name}' from {src}, which reads:\n{body}")
                        failed = True
    if failed:
        return 1
    print(f"{count} snippets found verbatim in {', '.join(docs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
