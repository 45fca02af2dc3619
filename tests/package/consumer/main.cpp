// The program every consumer test builds: it checks RFC 6238 appendix B
// vectors (SHA-1, SHA-256, 8 digits) through the installed or fetched mfakit,
// verifies a code with replay protection, and prints one line a driver can
// check. Exit status 0 only when every value is right.
#include <mfakit/mfakit.hpp>

#include <cstdio>
#include <string_view>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

}  // namespace

int main() {
  // RFC 6238 appendix B: the ASCII seeds, T = 59 and T = 1111111109.
  const auto sha1_key = mfakit::as_bytes("12345678901234567890");
  const auto sha256_key = mfakit::as_bytes("12345678901234567890123456789012");
  const mfakit::totp_params sha1{mfakit::algorithm::sha1, 8, 30, 0};
  const mfakit::totp_params sha256{mfakit::algorithm::sha256, 8, 30, 0};

  const auto a = mfakit::totp(sha1_key, 59, sha1);
  expect(a && a->str() == "94287082", "RFC 6238 SHA-1 at T=59");
  const auto b = mfakit::totp(sha256_key, 1111111109, sha256);
  expect(b && b->str() == "68084774", "RFC 6238 SHA-256 at T=1111111109");

  // The same code verifies once, then is refused as a replay of its step.
  const auto step = mfakit::verify_totp(sha1_key, "94287082", 59, sha1);
  expect(step && *step == 1, "verify_totp returns step 1");
  mfakit::totp_verify_options after{};
  after.after_step = 1;
  const auto again = mfakit::verify_totp(sha1_key, "94287082", 59, sha1, after);
  expect(!again && again.error() == mfakit::errc::code_replayed, "replay refused");

  if (failures != 0) return 1;
  std::printf("mfakit %s consumer ok\n", MFAKIT_VERSION_STRING);
  return 0;
}
