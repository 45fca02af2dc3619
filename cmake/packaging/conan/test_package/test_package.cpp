// Conan test_package: a consumer of the packaged headers. Checks one
// RFC 6238 appendix B vector (SHA-1, 8 digits, T = 59) and a base32 round
// trip, so a package with the wrong headers or dependencies fails here.
#include <mfakit/mfakit.hpp>

#include <cstdio>

int main() {
  const auto key = mfakit::as_bytes("12345678901234567890");
  const auto code = mfakit::totp(key, 59, {mfakit::algorithm::sha1, 8, 30, 0});
  if (!code || code->str() != "94287082") {
    std::fputs("RFC 6238 vector failed\n", stderr);
    return 1;
  }
  const auto encoded = mfakit::base32_encode(key);
  const auto decoded = mfakit::base32_decode(encoded);
  if (!decoded || !mfakit::constant_time_equal(*decoded, key)) {
    std::fputs("base32 round trip failed\n", stderr);
    return 1;
  }
  std::printf("mfakit %s test_package ok\n", MFAKIT_VERSION_STRING);
  return 0;
}
