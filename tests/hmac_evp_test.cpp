// The same HMAC tests as hmac_test.cpp, with otp_key built on the EVP engine
// (MFAKIT_USE_EVP_HMAC): a separate executable, so the two engines never meet
// in one program. Both must pass every RFC vector and the HMAC() oracle.
#define MFAKIT_USE_EVP_HMAC 1

#include <mfakit/hmac.hpp>

static_assert(MFAKIT_LEAN_HMAC == 0, "MFAKIT_USE_EVP_HMAC must select the EVP engine");

#include "hmac_test.cpp"  // NOLINT(bugprone-suspicious-include): one table, two engines

TEST_CASE("otp_key uses the EVP engine in this build", "[hmac]") { STATIC_REQUIRE(MFAKIT_LEAN_HMAC == 0); }

#include <mfakit/self_test.hpp>

TEST_CASE("the self-test's HMAC checks pass through the EVP engine", "[hmac][self_test]") {
  // run uncached, so each HMAC check is seen to run here, on this engine
  std::vector<mfakit::self_test_check> seen;
  const auto record = [&seen](mfakit::self_test_check c, std::span<unsigned char> /*answer*/) noexcept {
    if (seen.empty() || seen.back() != c) seen.push_back(c);
  };
  CHECK(mfakit::detail::run_self_test(record) == mfakit::self_test_check::none);
  REQUIRE(seen.size() >= 3);
  CHECK(seen[0] == mfakit::self_test_check::hmac_sha1);
  CHECK(seen[1] == mfakit::self_test_check::hmac_sha256);
  CHECK(seen[2] == mfakit::self_test_check::hmac_sha512);
  CHECK(mfakit::self_test().ok());
}
