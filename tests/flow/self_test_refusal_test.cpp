// A failing provider (self_test.hpp): this program's HMAC-SHA-256 answers
// wrong, through the self-test's test-only seam, so the self-test fails at
// first use and every call of the library must refuse with
// errc::crypto_failure (the services with an event), never answer. Its own
// executable (twice: once per loop, see loop.hpp), because the self-test's
// result is cached for the life of the process and has no reset.
#define MFAKIT_DETAIL_SELF_TEST_FAULT broken_hmac_sha256

#include <mfakit/backup_codes.hpp>
#include <mfakit/otp.hpp>
#include <mfakit/seal.hpp>
#include <mfakit/self_test.hpp>
#include <mfakit/service.hpp>
#include <mfakit/store.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "loop.hpp"

namespace mfakit::detail {
// The provider's fault: one bit of every HMAC-SHA-256 answer flipped.
void broken_hmac_sha256(self_test_check check, std::span<unsigned char> answer) noexcept {
  if (check == self_test_check::hmac_sha256 && !answer.empty()) answer[0] ^= 0x01U;
}
}  // namespace mfakit::detail

using mfakit::errc;

namespace {

/// memory_store that counts the calls it gets: a refused request makes none.
struct counting_store {
  mfakit::memory_store inner;
  std::atomic<int> calls{0};
  [[nodiscard]] mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    ++calls;
    return inner.load(key);
  }
  [[nodiscard]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                      const std::optional<std::string>& next) {
    ++calls;
    return inner.compare_and_swap(key, expected, next);
  }
};

using refusing_service = test_loop::service<counting_store, mfakit::testing::manual_clock>;

std::array<unsigned char, 32> key_bytes() {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(1 + i * 13);
  return k;
}

mfakit::secret_box aes_box() {
  return mfakit::secret_box::aes_256_gcm(7, {mfakit::sealing_key(7, key_bytes())}).value();
}

// RFC 6238 Appendix B: the SHA-1 seed, and its 8-digit code at T = 59.
constexpr std::string_view rfc_seed = "12345678901234567890";

}  // namespace

TEST_CASE("the self-test names the check the failing provider broke", "[self_test][refusal]") {
  const mfakit::self_test_report r = mfakit::self_test();
  CHECK_FALSE(r.ok());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.failed == mfakit::self_test_check::hmac_sha256);
  CHECK(to_string(r.failed) == "hmac_sha256");
  CHECK(r.error() == errc::crypto_failure);
  CHECK(mfakit::self_test().failed == mfakit::self_test_check::hmac_sha256);  // cached: the same answer
  // the same checks with a correct provider pass in this very process: the
  // refusal below is the cached failure, not a broken OpenSSL
  CHECK(mfakit::detail::run_self_test() == mfakit::self_test_check::none);
}

TEST_CASE("with a failed self-test every service call refuses before any store call, with an event",
          "[self_test][refusal][flow]") {
  INFO(test_loop::name);
  counting_store store;
  mfakit::testing::manual_clock clock;
  std::vector<mfakit::event> events;
  mfakit::flow_config cfg(aes_box());
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  mfakit::service_options<> opts;
  opts.on_event = [&](const mfakit::event& e) { events.push_back(e); };
  refusing_service svc(store, std::move(cfg), std::move(opts), clock);

  const auto refused = [&](const std::error_code& ec, std::string_view user) {
    CHECK(ec == errc::crypto_failure);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == mfakit::event_kind::self_test_failed);
    CHECK(to_string(events[0].kind) == "self_test_failed");
    CHECK(events[0].user == user);
    CHECK(events[0].at == clock.unix_time());
    events.clear();
  };

  refused(svc.setup("ana", "ana@example.com").error(), "ana");
  refused(svc.enable("ana", "123456").error(), "ana");
  refused(svc.verify("ana", "123456").error(), "ana");
  refused(svc.verify("ana", "abcd-efgh", mfakit::factor::backup_code).error(), "ana");
  refused(svc.disable("ana").error(), "ana");
  refused(svc.regenerate_backup_codes("ana").error(), "ana");
  refused(svc.reset_throttle("ana").error(), "ana");
  refused(svc.reseal("ana").error(), "ana");
  refused(svc.status("ana").error(), "ana");
  refused(svc.begin_login("ana").error(), "ana");
  refused(svc.complete_login(std::string(64, 'a'), "123456").error(), "");  // the user is behind the token
  // refused before the arguments are even looked at: no call can answer
  refused(svc.verify("", "123456").error(), "");
  refused(svc.complete_login("", "").error(), "");
  CHECK(store.calls.load() == 0);
  CHECK(store.inner.size() == 0);
}

TEST_CASE("with a failed self-test codes are neither computed nor verified", "[self_test][refusal][otp]") {
  const auto key = mfakit::as_bytes(rfc_seed);
  // RFC 6238: 94287082 at T = 59; the right code must not be accepted either
  CHECK(mfakit::verify_totp(key, "94287082", 59, {mfakit::algorithm::sha1, 8, 30}).error() == errc::crypto_failure);
  CHECK(mfakit::verify_totp(key, "00000000", 59, {mfakit::algorithm::sha1, 8, 30}).error() == errc::crypto_failure);
  auto prepared = mfakit::otp_key::make(mfakit::algorithm::sha1, key);
  REQUIRE(prepared);
  CHECK(mfakit::verify_totp(*prepared, "94287082", 59, {mfakit::algorithm::sha1, 8, 30}).error() ==
        errc::crypto_failure);
  CHECK(mfakit::verify_hotp(key, "755224", 0).error() == errc::crypto_failure);  // RFC 4226 counter 0
  CHECK(mfakit::totp(key, 59).error() == errc::crypto_failure);
  CHECK(mfakit::hotp(key, 0).error() == errc::crypto_failure);
  CHECK(mfakit::hotp(*prepared, 0).error() == errc::crypto_failure);
}

TEST_CASE("with a failed self-test secrets are neither sealed nor opened", "[self_test][refusal][seal]") {
  auto s = mfakit::secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  REQUIRE(s);
  mfakit::openssl_random rng;
  for (const mfakit::secret_box& box : {aes_box(), mfakit::secret_box::unsafe_plaintext()}) {
    CHECK(box.seal("ana", *s, rng).error() == errc::crypto_failure);
    // a record as the box would have written it: still not opened
    std::string plain(1, static_cast<char>(mfakit::secret_box::scheme_unsafe_plaintext));
    plain.append(reinterpret_cast<const char*>(s->bytes().data()), s->size());  // NOLINT
    CHECK(box.open("ana", plain).error() == errc::crypto_failure);
    std::array<unsigned char, mfakit::max_secret_bytes> out{};
    CHECK(box.open_into("ana", plain, out).error() == errc::crypto_failure);
    CHECK(box.reseal("ana", plain, rng).error() == errc::crypto_failure);
  }
}

TEST_CASE("with a failed self-test backup codes are neither digested nor matched", "[self_test][refusal][backup]") {
  const mfakit::backup_code_hasher hasher(mfakit::scrypt_params{16, 1, 1});
  auto codes = mfakit::generate_backup_codes(2);
  REQUIRE(codes);
  CHECK(hasher.digest(*codes).error() == errc::crypto_failure);
  mfakit::backup_code_digests d;
  d.cost = hasher.cost();
  d.digests.resize(1);
  CHECK(hasher.match(d, (*codes)[0].str()).error() == errc::crypto_failure);
}

TEST_CASE("threads that meet the failed self-test at once all refuse", "[self_test][refusal][threads]") {
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (mfakit::verify_totp(mfakit::as_bytes(rfc_seed), "94287082", 59, {mfakit::algorithm::sha1, 8, 30}).error() ==
          errc::crypto_failure)
        ++refused;
    });
  for (auto& t : threads) t.join();
  CHECK(refused.load() == 8);
}
