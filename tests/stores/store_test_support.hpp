// Shared by the store adapter tests: a two-app-servers wrapper and report checks.
#pragma once

#include <catch.hpp>

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
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

inline void require_conformance(const mfakit::testing::conformance_report& rep) {
  for (const auto& f : rep.failures) UNSCOPED_INFO(f);
  CHECK(rep.failures.empty());
  CHECK(rep.checks >= 20);
}

}  // namespace store_test
