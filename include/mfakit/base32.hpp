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

namespace detail {
/// The character of a 5-bit value by arithmetic, not base32_alphabet[v]: a
/// load indexed by the secret's bits showed in the time even within one
/// cache line (tests/ct base32_encode). 'A' + v, or '2' + v - 26 for v >= 26.
[[nodiscard]] constexpr char base32_char(std::uint32_t v) noexcept {
  const int x = static_cast<int>(v & 0x1FU);
  return static_cast<char>('A' + x + (~in_range_mask(x, 0, 25) & ('2' - 'A' - 26)));
}
}  // namespace detail

/// Encodes without padding ("JBSWY3DP..." ready for a key URI), in time that
/// depends only on the length of the data.
[[nodiscard]] inline std::string base32_encode(byte_view data) {
  std::string out((data.size() * 8 + 4) / 5, '\0');  // then plain stores: push_back checks the capacity each time
  char* p = out.data();
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : data) {
    buffer = (buffer << 8U) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      *p++ = detail::base32_char(buffer >> static_cast<unsigned>(bits));
    }
  }
  if (bits > 0) *p++ = detail::base32_char(buffer << static_cast<unsigned>(5 - bits));
  cleanse(&buffer, sizeof buffer);
  return out;
}

namespace detail {
/// The value 0..31 of a base32 character of either case, -1 for any other
/// byte: masks, no branch and no table, so a secret's letters and digits
/// take the same path (tests/ct base32_decode*).
[[nodiscard]] constexpr int base32_value(char ch) noexcept {
  const int c = static_cast<unsigned char>(ch);
  const int upper = in_range_mask(c, 'A', 'Z');
  const int lower = in_range_mask(c, 'a', 'z');
  const int digit = in_range_mask(c, '2', '7');
  return ~(upper | lower | digit) | (upper & (c - 'A')) | (lower & (c - 'a')) | (digit & (c - '2' + 26));
}
static_assert(base32_value('A') == 0 && base32_value('Z') == 25 && base32_value('a') == 0 && base32_value('z') == 25 &&
              base32_value('2') == 26 && base32_value('7') == 31 && base32_value('1') == -1 &&
              base32_value('8') == -1 && base32_value('@') == -1 && base32_value('[') == -1 &&
              base32_value('`') == -1 && base32_value('{') == -1 && base32_value('=') == -1 &&
              base32_value('\0') == -1 && base32_value('\xff') == -1);
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
  // Negative once a foreign character or data after padding was seen: the
  // verdict is gathered as a mask and looked at after the loop, so a data
  // character's value decides no branch. (Spaces and '=' are layout, not a
  // secret's content: a data character never takes those two branches.)
  int invalid = 0;
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      ++pad_chars;
      continue;
    }
    const int v = detail::base32_value(c);
    invalid |= v | -static_cast<int>(pad_chars != 0);
    buffer = (buffer << 5U) | (static_cast<std::uint32_t>(v) & 0x1FU);
    bits += 5;
    ++data_chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>(buffer >> static_cast<unsigned>(bits)));
    }
  }
  if (invalid < 0) return fail();  // a foreign character, or data after padding
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
