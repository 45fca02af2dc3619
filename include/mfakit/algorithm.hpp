// What an OTP is computed with, without the engine that computes it: the
// HMAC hash (the otpauth `algorithm` parameter) and its digest size, the
// shapes of an HMAC's input (an 8-byte big-endian counter) and output, and
// the bounds of a code's length. Records, key URIs and the flow name these;
// only hmac.hpp and otp.hpp need the SHA engines.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mfakit {

/// The HMAC hash of an OTP (the otpauth `algorithm` parameter).
enum class algorithm : std::uint8_t { sha1, sha256, sha512 };

[[nodiscard]] constexpr std::string_view to_string(algorithm a) noexcept {
  switch (a) {
    case algorithm::sha1: return "SHA1";
    case algorithm::sha256: return "SHA256";
    case algorithm::sha512: return "SHA512";
  }
  return "SHA1";
}

[[nodiscard]] constexpr std::size_t digest_size(algorithm a) noexcept {
  switch (a) {
    case algorithm::sha1: return 20;
    case algorithm::sha256: return 32;
    case algorithm::sha512: return 64;
  }
  return 20;
}

/// The largest HMAC output (SHA-512).
inline constexpr std::size_t max_digest_size = 64;
using counter_bytes = std::array<unsigned char, 8>;
using mac_bytes = std::array<unsigned char, max_digest_size>;

[[nodiscard]] constexpr counter_bytes big_endian(std::uint64_t v) noexcept {
  counter_bytes b{};
  for (int i = 7; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(v & 0xFFU);
    v >>= 8U;
  }
  return b;
}

/// The number of digits of a code (RFC 4226: at least 6).
inline constexpr int min_digits = 6;
inline constexpr int max_digits = 8;

namespace detail {
[[nodiscard]] constexpr bool valid_digits(int d) noexcept { return d >= min_digits && d <= max_digits; }
}  // namespace detail

}  // namespace mfakit
