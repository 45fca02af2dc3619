// The self-test (self_test.hpp) with a correct provider: it passes, once per
// process whatever the number of threads, and each of its checks fails when
// its answer is wrong. (A failing provider seen by the whole library:
// tests/flow/self_test_refusal_test.cpp.)
#include <mfakit/events.hpp>
#include <mfakit/otp.hpp>
#include <mfakit/self_test.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"

using mfakit::self_test_check;

namespace {

constexpr std::array all_checks{self_test_check::hmac_sha1,   self_test_check::hmac_sha256,
                                self_test_check::hmac_sha512, self_test_check::aes_256_gcm,
                                self_test_check::scrypt,      self_test_check::random};

/// A provider wrong in one check: one bit of each of its answers flipped
/// (at `at`, so that every byte position can be tried).
struct flip_one_bit {
  self_test_check target;
  std::size_t at = 0;
  void operator()(self_test_check check, std::span<unsigned char> answer) const noexcept {
    if (check == target && !answer.empty()) answer[at % answer.size()] ^= 0x80U;
  }
};

/// Records which checks ran and the size of each answer.
struct recorder {
  std::vector<std::pair<self_test_check, std::size_t>>* seen;
  void operator()(self_test_check check, std::span<unsigned char> answer) const noexcept {
    seen->emplace_back(check, answer.size());
  }
};

}  // namespace

TEST_CASE("the self-test passes with OpenSSL's provider", "[self_test]") {
  const mfakit::self_test_report r = mfakit::self_test();
  CHECK(r.ok());
  CHECK(static_cast<bool>(r));
  CHECK(r.failed == self_test_check::none);
  CHECK_FALSE(r.error());
  // and the gated calls answer: RFC 6238 Appendix B, SHA-1, T = 59
  auto step =
      mfakit::verify_totp(mfakit::as_bytes("12345678901234567890"), "94287082", 59, {mfakit::algorithm::sha1, 8, 30});
  REQUIRE(step);
  CHECK(*step == 1);
}

TEST_CASE("threads that meet the self-test at first use all get its one answer", "[self_test][threads]") {
  // (CTest runs each test case in a process of its own: this one is the first use)
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      if (mfakit::self_test().ok()) ++passed;
    });
  for (auto& t : threads) t.join();
  CHECK(passed.load() == 16);
}

TEST_CASE("every check runs, in order, on answers of the published sizes", "[self_test]") {
  std::vector<std::pair<self_test_check, std::size_t>> seen;
  CHECK(mfakit::detail::run_self_test(recorder{&seen}) == self_test_check::none);
  // HMAC: mac() and the first lane of a batch; GCM: sealed (ciphertext + tag),
  // then opened; scrypt: 64 bytes; random: both draws
  const std::vector<std::pair<self_test_check, std::size_t>> expected{
      {self_test_check::hmac_sha1, 20},   {self_test_check::hmac_sha1, 20},   {self_test_check::hmac_sha256, 32},
      {self_test_check::hmac_sha256, 32}, {self_test_check::hmac_sha512, 64}, {self_test_check::hmac_sha512, 64},
      {self_test_check::aes_256_gcm, 76}, {self_test_check::aes_256_gcm, 60}, {self_test_check::scrypt, 64},
      {self_test_check::random, 64}};
  CHECK(seen == expected);
}

TEST_CASE("each check fails when its answer is wrong in any byte, and is the one named", "[self_test]") {
  for (self_test_check target : all_checks) {
    if (target == self_test_check::random) continue;  // a flipped random bit is still random: below
    for (std::size_t at = 0; at < 76; ++at) {
      INFO(to_string(target) << " byte " << at);
      CHECK(mfakit::detail::run_self_test(flip_one_bit{target, at}) == target);
    }
  }
}

TEST_CASE("the random check fails on constant or repeated output", "[self_test]") {
  const auto constant = [](self_test_check check, std::span<unsigned char> answer) noexcept {
    if (check == self_test_check::random)
      for (auto& b : answer) b = 0x5a;
  };
  CHECK(mfakit::detail::run_self_test(constant) == self_test_check::random);
  const auto repeated = [](self_test_check check, std::span<unsigned char> answer) noexcept {
    if (check == self_test_check::random)
      for (std::size_t i = answer.size() / 2; i < answer.size(); ++i) answer[i] = answer[i - answer.size() / 2];
  };
  CHECK(mfakit::detail::run_self_test(repeated) == self_test_check::random);
  const auto one_constant_draw = [](self_test_check check, std::span<unsigned char> answer) noexcept {
    if (check == self_test_check::random)
      for (std::size_t i = 0; i < answer.size() / 2; ++i) answer[i] = 0;
  };
  CHECK(mfakit::detail::run_self_test(one_constant_draw) == self_test_check::random);
}

TEST_CASE("self-test checks and the event have distinct names", "[self_test][events]") {
  std::set<std::string> names{std::string(to_string(self_test_check::none))};
  for (self_test_check c : all_checks) CHECK(names.insert(std::string(to_string(c))).second);
  CHECK(names.count("unknown") == 0);
  CHECK(to_string(mfakit::event_kind::self_test_failed) == "self_test_failed");
}
