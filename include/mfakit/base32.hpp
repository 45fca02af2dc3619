// Base32 (RFC 4648 section 6), the encoding of otpauth secrets. Encoding
// writes no padding (as key URIs expect); decoding is lenient about what
// people type: upper or lower case, ASCII spaces anywhere, padding present or
// absent. It rejects any other character, misplaced or wrong padding and
// lengths no encoder can produce (1, 3 or 6 characters in the last group).
// The unused low bits of the last character (RFC 4648 section 3.5) are
// ignored unless the caller asks for base32_trailing_bits::reject, which
// secret::from_base32 (the import path of secrets) does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit {

inline constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes without padding ("JBSWY3DP..." ready for a key URI).
[[nodiscard]] inline std::string base32_encode(byte_view data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : data) {
    buffer = (buffer << 8U) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(base32_alphabet[(buffer >> static_cast<unsigned>(bits)) & 0x1FU]);
    }
  }
  if (bits > 0) out.push_back(base32_alphabet[(buffer << static_cast<unsigned>(5 - bits)) & 0x1FU]);
  cleanse(&buffer, sizeof buffer);
  return out;
}

namespace detail {
[[nodiscard]] constexpr int base32_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}
/// Padding characters that complete a final group of n data characters
/// (n = len % 8); -1 for lengths no encoder produces.
[[nodiscard]] constexpr int base32_padding_for(std::size_t n) noexcept {
  constexpr std::array<int, 8> pad{0, -1, 6, -1, 4, 3, -1, 1};
  return pad[n % 8];
}
}  // namespace detail

/// What base32_decode does with the unused low bits of the last character:
/// encoders write zeros there, so "MY" is "f" and "MZ" a non-canonical
/// spelling of it.
///  - ignore (the default, lenient): RFC 4648 section 3.5 makes rejecting
///    optional, and some generators make secrets by drawing random base32
///    characters instead of encoding random bytes; authenticator apps accept
///    those. The ignored bits carry no key material, so they cannot change a
///    code (the CLI's code/hotp/verify decode this way, like oathtool).
///  - reject (strict): one key, one spelling, and a secret cut short or
///    mistyped in its last character is refused more often than not instead
///    of turning into another key silently. secret::from_base32 uses it.
enum class base32_trailing_bits : std::uint8_t { ignore, reject };

/// Decodes into wiped-on-free bytes (secrets are what this decodes).
[[nodiscard]] inline result<secure_bytes> base32_decode(std::string_view text,
                                                        base32_trailing_bits trailing = base32_trailing_bits::ignore) {
  secure_bytes out;
  out.reserve(text.size() * 5 / 8 + 1);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t data_chars = 0;
  std::size_t pad_chars = 0;
  auto fail = [&]() -> result<secure_bytes> {
    cleanse(&buffer, sizeof buffer);
    return errc::invalid_base32;
  };
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      ++pad_chars;
      continue;
    }
    const int v = detail::base32_value(c);
    if (v < 0 || pad_chars != 0) return fail();  // a foreign character, or data after padding
    buffer = (buffer << 5U) | static_cast<std::uint32_t>(v);
    bits += 5;
    ++data_chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>(buffer >> static_cast<unsigned>(bits)));
    }
  }
  const int expected_pad = detail::base32_padding_for(data_chars);
  if (expected_pad < 0) return fail();
  if (pad_chars != 0 && pad_chars != static_cast<std::size_t>(expected_pad)) return fail();
  // bits (0..4) low bits of buffer were decoded but belong to no byte
  const std::uint32_t unused = buffer & ((1U << static_cast<unsigned>(bits)) - 1U);
  if (trailing == base32_trailing_bits::reject && unused != 0) return fail();
  cleanse(&buffer, sizeof buffer);
  return out;
}

}  // namespace mfakit
