#!/usr/bin/env python3
"""Writes each C++ snippet of README.md marked `<!-- snippet: NAME -->` into
OUTDIR/NAME.cpp with the harness below around it (or, for a complete
file, exactly as written), so the build compiles the
README's code as written (tests/readme/CMakeLists.txt). A marked snippet
without a harness, or a harness whose snippet is gone, is an error: the
README and its test cannot drift apart silently."""
import os
import re
import sys

# Declarations the snippet assumes from the host (never linked: compile only).
HOST = """
#include <array>
#include <cstdint>
#include <map>
#include <string>
struct response {};
response reply(int status, const std::string& body, std::int64_t retry_after = 0);
response issue_session(const std::string& user);
struct my_db {};
extern my_db db;
struct my_sql_store : mfakit::memory_store {
  explicit my_sql_store(my_db&);
};
"""

HARNESS = {
    # None: a complete file, written exactly as README shows it (nothing added)
    "readme_integration": None,
    # statements: the host's configuration and service in scope
    "readme_clock_drift": {
        "before": HOST + """
#include <fmt/format.h>
void notify(const std::string& user, const std::string& message);
void show_clock_banner(mfakit::drift_direction which_way);
void handler(mfakit::service_options<>& options, mfakit::service<mfakit::memory_store>& mfa, const std::string& user_id) {
""",
        "after": "}\n",
    },
    # statements: the start of a host's main()
    "readme_self_test": {
        "before": """
#include <cstdio>
#include <cstdlib>
#include <string>
int host_main() {
""",
        "after": "  return EXIT_SUCCESS;\n}\n",
    },
    # namespace-scope functions over the host's store (compile only)
    "readme_passkeys": {
        "before": HOST,
        "after": "",
    },
    # a namespace-scope template: instantiated with the archetype store
    "readme_async": {
        "before": "",
        "after": """
#include <mfakit/testing/archetypes.hpp>
template mfakit::task<bool> second_factor(mfakit::async_service<mfakit::testing::awaitable_store_archetype>&,
                                          std::string, std::string);
""",
    },
    # namespace-scope code on Boost.Asio: the hop included, the store declared (compile only)
    "readme_async_asio": {
        "before": """
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
// the examples' hop (examples/asio_pool.hpp): f on the pool, the answer back on the caller's executor
#include "@EXAMPLES@/asio_pool.hpp"
using mfakit_examples::on_pool;
struct my_asio_db {
  boost::asio::awaitable<mfakit::load_answer> load(std::string_view key);
  boost::asio::awaitable<mfakit::swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                               const std::optional<std::string>& next);
};
""",
        "after": "",
    },
}


def main():
    readme, outdir = sys.argv[1], sys.argv[2]
    text = open(readme, encoding="utf-8").read()
    found = re.findall(r"<!-- snippet: ([a-z_]+) -->\s*\n```cpp\n(.*?)```", text, re.S)
    names = [n for n, _ in found]
    missing = sorted(set(HARNESS) - set(names))
    unknown = sorted(set(names) - set(HARNESS))
    if missing or unknown:
        sys.exit(f"README snippets: missing {missing}, no harness for {unknown}")
    for name, code in found:
        includes = [line for line in code.splitlines() if line.startswith("#include")]
        body = "\n".join(line for line in code.splitlines() if not line.startswith("#include"))
        h = HARNESS[name]
        if h is None:
            with open(f"{outdir}/{name}.cpp", "w", encoding="utf-8") as f:
                f.write(code)
            print(f"{outdir}/{name}.cpp")
            continue
        examples = os.path.join(os.path.dirname(os.path.abspath(readme)), "examples")
        src = (f"// Generated from README.md (snippet {name}) by tests/readme/extract_snippets.py\n"
               + "\n".join(includes) + "\n" + h["before"].replace("@EXAMPLES@", examples) + body + "\n"
               + h["after"])
        with open(f"{outdir}/{name}.cpp", "w", encoding="utf-8") as f:
            f.write(src)
        print(f"{outdir}/{name}.cpp")


if __name__ == "__main__":
    main()
