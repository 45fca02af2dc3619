// The same HMAC tests as hmac_test.cpp, with otp_key built on the EVP engine
// (MFAKIT_USE_EVP_HMAC): a separate executable, so the two engines never meet
// in one program. Both must pass every RFC vector and the HMAC() oracle.
#define MFAKIT_USE_EVP_HMAC 1

#include <mfakit/hmac.hpp>

static_assert(MFAKIT_LEAN_HMAC == 0, "MFAKIT_USE_EVP_HMAC must select the EVP engine");

#include "hmac_test.cpp"  // NOLINT(bugprone-suspicious-include): one table, two engines

TEST_CASE("otp_key uses the EVP engine in this build", "[hmac]") { STATIC_REQUIRE(MFAKIT_LEAN_HMAC == 0); }
