// Small text helpers of the demo server's handlers: lower-casing an email,
// control characters, the shape of a refresh token, hashing and random hex.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <mfakit/crypto.hpp>

#include "passwords.hpp"  // to_hex

namespace mfakit_examples::demo {

[[nodiscard]] inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Whether s holds a C0 control character or DEL.
[[nodiscard]] constexpr bool has_control(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

[[nodiscard]] inline bool hex64(std::string_view t) noexcept {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

[[nodiscard]] inline std::string sha256_hex(std::string_view s) {
  auto h = mfakit::sha256(mfakit::as_bytes(s));
  if (!h) throw std::runtime_error("sha256 failed");
  return mfakit_examples::to_hex(*h);
}

template <std::size_t N>
[[nodiscard]] std::string random_hex() {
  std::array<unsigned char, N> raw{};
  if (!mfakit::openssl_random{}.fill(raw)) throw std::runtime_error("random generator failed");
  std::string out = mfakit_examples::to_hex(raw);
  mfakit::cleanse(raw.data(), raw.size());
  return out;
}

}  // namespace mfakit_examples::demo
