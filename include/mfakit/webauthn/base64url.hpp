// Base64url without padding (RFC 4648 §5), as WebAuthn's JSON forms carry
// every byte field: strict decoding (no padding, no whitespace, no other
// alphabet, the unused low bits of the last character zero, so one text per
// byte string) and encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit::webauthn {

namespace detail {
/// The 6-bit value of a base64url character, -1 for any other byte.
[[nodiscard]] constexpr int b64url_value(unsigned char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
inline constexpr std::string_view b64url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}  // namespace detail

/// Appends the base64url text (no padding) of `data` to `out`.
inline void append_base64url(std::string& out, byte_view data) {
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U) | data[i + 2];
    out.push_back(detail::b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(detail::b64url_alphabet[(v >> 12U) & 63U]);
    out.push_back(detail::b64url_alphabet[(v >> 6U) & 63U]);
    out.push_back(detail::b64url_alphabet[v & 63U]);
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{data[i]} << 16U;
    out.push_back(detail::b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(detail::b64url_alphabet[(v >> 12U) & 63U]);
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{data[i]} << 16U) | (std::uint32_t{data[i + 1]} << 8U);
    out.push_back(detail::b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(detail::b64url_alphabet[(v >> 12U) & 63U]);
    out.push_back(detail::b64url_alphabet[(v >> 6U) & 63U]);
  }
}

[[nodiscard]] inline std::string base64url_encode(byte_view data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  append_base64url(out, data);
  return out;
}

/// Decodes strictly into `out` (replaced); errc::webauthn_malformed for any
/// text that is not the one encoding of some bytes, or longer than max_bytes
/// once decoded.
[[nodiscard]] inline result<void> base64url_decode_into(std::string_view text, std::vector<unsigned char>& out,
                                                        std::size_t max_bytes = 1U << 20U) {
  out.clear();
  if (text.size() % 4 == 1) return errc::webauthn_malformed;
  const std::size_t n = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  if (n > max_bytes) return errc::webauthn_malformed;
  out.reserve(n);
  std::uint32_t acc = 0;
  unsigned bits = 0;
  for (char ch : text) {
    const int v = detail::b64url_value(static_cast<unsigned char>(ch));
    if (v < 0) {
      out.clear();
      return errc::webauthn_malformed;
    }
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((acc >> bits) & 0xFFU));
    }
  }
  // the bits left over (2 or 4) must be zero: "AB" and "AC" are not both "\0"
  if (bits != 0 && (acc & ((1U << bits) - 1U)) != 0) {
    out.clear();
    return errc::webauthn_malformed;
  }
  return {};
}

[[nodiscard]] inline result<std::vector<unsigned char>> base64url_decode(std::string_view text,
                                                                         std::size_t max_bytes = 1U << 20U) {
  std::vector<unsigned char> out;
  if (auto r = base64url_decode_into(text, out, max_bytes); !r) return r.error();
  return out;
}

}  // namespace mfakit::webauthn
