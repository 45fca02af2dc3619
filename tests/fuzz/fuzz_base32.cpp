// Fuzzes base32_decode against a small model of what it must accept (RFC 4648
// alphabet in either case, ASCII spaces anywhere, padding absent or exactly
// right, no data after padding, no impossible lengths), and checks the round
// trips: decode(encode(decode(x))) == decode(x), and decode(encode(bytes)) ==
// bytes for the raw input taken as bytes. The strict mode
// (base32_trailing_bits::reject) accepts exactly the texts the lenient one
// accepts whose letters, upper-cased and without spaces or padding, are what
// the encoder writes for the decoded bytes.
#include <mfakit/base32.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

/// The model: which texts are valid base32 (independent of the decoder).
bool model_accepts(std::string_view text) {
  std::string data;
  std::size_t pad = 0;
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    const bool digit = c >= '2' && c <= '7';
    if (!letter && !digit) return false;
    if (pad != 0) return false;  // data after padding
    data.push_back(c);
  }
  std::size_t expected_pad = 0;
  switch (data.size() % 8) {
    case 0: expected_pad = 0; break;
    case 2: expected_pad = 6; break;
    case 4: expected_pad = 4; break;
    case 5: expected_pad = 3; break;
    case 7: expected_pad = 1; break;
    default: return false;  // 1, 3 or 6 characters: no encoder makes them
  }
  return pad == 0 || pad == expected_pad;
}

/// The text as the encoder would write it: upper case, no spaces, no padding.
std::string normalized(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

bool same(const mfakit::secure_bytes& a, const mfakit::secure_bytes& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data),
                              size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)

  // 1. decode as text: accepted exactly when the model accepts
  auto decoded = mfakit::base32_decode(text);
  FUZZ_CHECK(decoded.has_value() == model_accepts(text));
  if (decoded) {
    FUZZ_CHECK(decoded->size() <= size * 5 / 8);
    const std::string canonical = mfakit::base32_encode(*decoded);
    FUZZ_CHECK(canonical.size() == (decoded->size() * 8 + 4) / 5);
    auto again = mfakit::base32_decode(canonical);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(same(*again, *decoded));
    FUZZ_CHECK(mfakit::base32_encode(*again) == canonical);  // canonical form is a fixed point
  } else {
    FUZZ_CHECK(decoded.error() == mfakit::errc::invalid_base32);
  }

  // 1b. strict: the lenient result, and only when the text is canonical
  auto strict = mfakit::base32_decode(text, mfakit::base32_trailing_bits::reject);
  const bool canonical_text = decoded && mfakit::base32_encode(*decoded) == normalized(text);
  FUZZ_CHECK(strict.has_value() == canonical_text);
  if (strict) {
    FUZZ_CHECK(same(*strict, *decoded));
  } else {
    FUZZ_CHECK(strict.error() == mfakit::errc::invalid_base32);
  }

  // 2. the input as bytes: encode then decode gives them back
  const std::string encoded = mfakit::base32_encode(mfakit::byte_view(data, size));
  FUZZ_CHECK(encoded.size() == (size * 8 + 4) / 5);
  FUZZ_CHECK(encoded.find_first_not_of(mfakit::base32_alphabet) == std::string::npos);
  auto bytes = mfakit::base32_decode(encoded);
  FUZZ_CHECK(bytes.has_value());
  FUZZ_CHECK(mfakit::base32_decode(encoded, mfakit::base32_trailing_bits::reject).has_value());
  FUZZ_CHECK(bytes->size() == size && (size == 0 || std::equal(bytes->begin(), bytes->end(), data)));
  return 0;
}
