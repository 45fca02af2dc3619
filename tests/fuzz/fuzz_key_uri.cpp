// Fuzzes parse_key_uri: whatever it accepts satisfies the documented
// invariants (account non-empty without control characters, digits 6-8,
// period >= 1, a 16..64-byte secret, issuer without control characters),
// lint() and to_string() work on it, and building a URI from it and parsing
// that again gives the same key (type, issuer, account, secret, algorithm,
// digits, and the period of a TOTP key or the counter of an HOTP key; the
// builder writes only the one its type uses).
#include <mfakit/key_uri.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {
bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data),
                              size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  auto k = mfakit::parse_key_uri(text);
  if (!k) {
    const auto e = k.error();
    FUZZ_CHECK(e == mfakit::errc::invalid_uri || e == mfakit::errc::invalid_base32 ||
               e == mfakit::errc::invalid_secret || e == mfakit::errc::unsupported_algorithm);
    return 0;
  }
  FUZZ_CHECK(size <= 4096);
  FUZZ_CHECK(!k->account.empty() && k->account.front() != ' ' && !has_control(k->account));
  FUZZ_CHECK(!has_control(k->issuer));
  FUZZ_CHECK(k->digits >= mfakit::min_digits && k->digits <= mfakit::max_digits);
  FUZZ_CHECK(k->period >= 1);
  FUZZ_CHECK(k->key.size() >= mfakit::min_secret_bytes && k->key.size() <= mfakit::max_secret_bytes);

  const auto warnings = mfakit::lint(*k);
  FUZZ_CHECK(warnings.size() <= 6);

  const std::string uri = mfakit::to_string(*k);
  auto back = mfakit::parse_key_uri(uri);
  if (uri.size() > 4096) {
    // The builder may lengthen a URI (the issuer appears in the label and as a
    // parameter; bytes become %XX) past what the parser accepts.
    FUZZ_CHECK(!back && back.error() == mfakit::errc::invalid_uri);
    return 0;
  }
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back->type == k->type);
  FUZZ_CHECK(back->issuer == k->issuer);
  FUZZ_CHECK(back->account == k->account);
  FUZZ_CHECK(back->key == k->key);
  FUZZ_CHECK(back->alg == k->alg);
  FUZZ_CHECK(back->digits == k->digits);
  if (k->type == mfakit::otp_type::totp) {
    FUZZ_CHECK(back->period == k->period);
  } else {
    FUZZ_CHECK(back->counter == k->counter);
  }
  FUZZ_CHECK(mfakit::to_string(*back) == uri);  // the built form is a fixed point
  return 0;
}
