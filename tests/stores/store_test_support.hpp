// Shared by the store adapter tests: a two-app-servers wrapper and report checks.
#pragma once

#include <catch.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include <mfakit/crypto.hpp>
#include <mfakit/testing/store_conformance.hpp>

namespace store_test {

inline std::string random_suffix() {
  std::array<unsigned char, 6> raw{};
  REQUIRE(mfakit::openssl_random{}.fill(raw));
  std::string s;
  for (unsigned char b : raw) s += fmt::format("{:02x}", b);
  return s;
}

inline std::string fresh_sqlite_path(const std::string& name) {
  const std::string path = fmt::format("{}/{}-{}.sqlite", MFAKIT_TEST_BUILD_DIR, name, ::getpid());
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

inline void remove_sqlite(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

/// Two adapters (two "app servers") on one database: each call goes to one
/// of them, alternating, so racing requests meet in the database itself.
template <class Store>
struct two_servers {
  Store& a;
  Store& b;
  std::atomic<unsigned> turn{0};
  Store& pick() { return (turn.fetch_add(1, std::memory_order_relaxed) & 1U) == 0 ? a : b; }
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return pick().load(key); }
  // noinline: GCC 12 at -O2 with -fsanitize=thread otherwise inlines this
  // into service.hpp's delete path and warns (falsely) that the temporary
  // std::nullopt there "may be used uninitialized".
  [[gnu::noinline]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                          const std::optional<std::string>& next) {
    return pick().compare_and_swap(key, expected, next);
  }
};

/// Checks a conformance report. Every failure is printed with the answers
/// of its check by kind and what the store held; the answers of every
/// service check are printed too when the run failed, or always with
/// MFAKIT_CONFORMANCE_ANSWERS=1 in the environment (on stdout, one line each,
/// prefixed "answers:", for a script that repeats runs).
inline void require_conformance(const mfakit::testing::conformance_report& rep) {
  const char* all = std::getenv("MFAKIT_CONFORMANCE_ANSWERS");
  if (!rep.failures.empty() || (all != nullptr && std::string_view(all) == "1")) {
    for (const auto& line : rep.answers) std::printf("answers: %s\n", line.c_str());
    std::fflush(stdout);
  }
  for (const auto& f : rep.failures) UNSCOPED_INFO(f);
  CHECK(rep.failures.empty());
  CHECK(rep.checks >= 20);
  CHECK(!rep.answers.empty());
}

}  // namespace store_test
