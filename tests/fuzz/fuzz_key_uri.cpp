// Fuzzes parse_key_uri: whatever it accepts satisfies the documented
// invariants (account non-empty, not starting with a space; issuer and
// account plain text: valid UTF-8 without C0/C1 controls, line separators or
// bidirectional controls; digits 6-8, period >= 1, a 16..64-byte secret),
// passes check_key_uri, lint() works on it, and the round trip holds: the URI
// to_string writes for it parses back to the same key (every field, as the
// parser keeps only the period of a TOTP key and the counter of an HOTP key)
// and is a fixed point. The same input also builds a key by hand (its halves
// as issuer and account): to_string either writes a URI that parses back to
// that key or, when check_key_uri refuses it, throws. Any failure aborts.
#include <mfakit/key_uri.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "fuzz_check.hpp"

namespace {

/// The text rule, written independently of the library: RFC 3629's table of
/// well-formed byte sequences, then the forbidden code points.
bool plain_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 <= 0x7F) {
      n = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 == 0xE0) {
      n = 3;
      lo = 0xA0;
    } else if (b0 == 0xED) {
      n = 3;
      hi = 0x9F;
    } else if (b0 >= 0xE1 && b0 <= 0xEF) {
      n = 3;
    } else if (b0 == 0xF0) {
      n = 4;
      lo = 0x90;
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
      n = 4;
    } else if (b0 == 0xF4) {
      n = 4;
      hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i < n) return false;
    std::uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1FU) : n == 3 ? (b0 & 0x0FU) : (b0 & 0x07U);
    for (std::size_t j = 1; j < n; ++j) {
      const auto b = static_cast<unsigned char>(s[i + j]);
      if (j == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
      cp = (cp << 6U) | (b & 0x3FU);
    }
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
    switch (cp) {
      case 0x061C:
      case 0x200E:
      case 0x200F:
      case 0x202A:
      case 0x202B:
      case 0x202C:
      case 0x202D:
      case 0x202E:
      case 0x2066:
      case 0x2067:
      case 0x2068:
      case 0x2069:
      case 0x2028:
      case 0x2029: return false;
      default: break;
    }
    i += n;
  }
  return true;
}

void check_same_key(const mfakit::key_uri& a, const mfakit::key_uri& b) {
  FUZZ_CHECK(b.type == a.type);
  FUZZ_CHECK(b.issuer == a.issuer);
  FUZZ_CHECK(b.account == a.account);
  FUZZ_CHECK(b.key == a.key);
  FUZZ_CHECK(b.alg == a.alg);
  FUZZ_CHECK(b.digits == a.digits);
  if (a.type == mfakit::otp_type::totp) {
    FUZZ_CHECK(b.period == a.period);
  } else {
    FUZZ_CHECK(b.counter == a.counter);
  }
}

/// Property 1: parse, then the round trip through to_string.
void parsed_round_trip(std::string_view text) {
  auto k = mfakit::parse_key_uri(text);
  if (!k) {
    const auto e = k.error();
    FUZZ_CHECK(e == mfakit::errc::invalid_uri || e == mfakit::errc::invalid_base32 ||
               e == mfakit::errc::invalid_secret || e == mfakit::errc::unsupported_algorithm);
    return;
  }
  FUZZ_CHECK(text.size() <= mfakit::max_key_uri_size);
  FUZZ_CHECK(text.find('#') == std::string_view::npos);
  FUZZ_CHECK(!k->account.empty() && k->account.front() != ' ' && plain_text(k->account));
  FUZZ_CHECK(plain_text(k->issuer));
  FUZZ_CHECK(k->digits >= mfakit::min_digits && k->digits <= mfakit::max_digits);
  FUZZ_CHECK(k->period >= 1);
  FUZZ_CHECK(k->key.size() >= mfakit::min_secret_bytes && k->key.size() <= mfakit::max_secret_bytes);
  FUZZ_CHECK(k->type == mfakit::otp_type::totp ? k->counter == 0 : k->period == 30);
  FUZZ_CHECK(mfakit::check_key_uri(*k).has_value());

  const auto warnings = mfakit::lint(*k);
  FUZZ_CHECK(warnings.size() <= 6);

  const std::string uri = mfakit::to_string(*k);
  FUZZ_CHECK(uri.size() <= mfakit::max_key_uri_size);
  auto back = mfakit::parse_key_uri(uri);
  FUZZ_CHECK(back.has_value());
  check_same_key(*k, *back);
  FUZZ_CHECK(back->period == k->period && back->counter == k->counter);  // every field
  FUZZ_CHECK(mfakit::to_string(*back) == uri);                           // the built form is a fixed point
}

/// Property 2: the input's halves as issuer and account of a hand-built key.
void built_round_trip(std::string_view text) {
  static const mfakit::secret key = [] {
    auto s = mfakit::secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    FUZZ_CHECK(s.has_value());
    return std::move(*s);
  }();
  mfakit::key_uri k;
  const std::size_t half = text.size() / 2;
  k.issuer = std::string(text.substr(0, half));
  k.account = std::string(text.substr(half));
  k.key = key.clone();
  const std::size_t h = text.size();  // vary the other fields a little
  k.type = h % 2 == 0 ? mfakit::otp_type::totp : mfakit::otp_type::hotp;
  k.alg = static_cast<mfakit::algorithm>(h % 3);
  k.digits = static_cast<int>(6 + h % 3);
  k.period = static_cast<std::int64_t>(1 + h % 90);
  k.counter = h * 0x9E3779B97F4A7C15ULL;

  const auto checked = mfakit::check_key_uri(k);
  if (!plain_text(k.issuer) || !plain_text(k.account)) FUZZ_CHECK(!checked);
  if (!checked) {
    bool threw = false;
    try {
      (void)mfakit::to_string(k);
    } catch (const std::system_error& e) {
      threw = e.code() == checked.error();
    }
    FUZZ_CHECK(threw);
    return;
  }
  const std::string uri = mfakit::to_string(k);
  FUZZ_CHECK(uri.size() <= mfakit::max_key_uri_size);
  auto back = mfakit::parse_key_uri(uri);
  FUZZ_CHECK(back.has_value());
  check_same_key(k, *back);
  FUZZ_CHECK(mfakit::to_string(*back) == uri);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data),
                              size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  parsed_round_trip(text);
  if (size <= 2 * mfakit::max_key_uri_size) built_round_trip(text);
  return 0;
}
