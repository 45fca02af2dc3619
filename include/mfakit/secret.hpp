// The shared TOTP/HOTP secret: random bytes from the CSPRNG, move-only,
// wiped when destroyed, and printed as "[redacted]" by fmt and iostreams so a
// stray log line cannot leak it.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

#include "mfakit/base32.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit {

/// RFC 4226 section 4: at least 128 bits, 160 recommended.
inline constexpr std::size_t min_secret_bytes = 16;
inline constexpr std::size_t default_secret_bytes = 20;
inline constexpr std::size_t max_secret_bytes = 64;

class secret {
 public:
  secret() = default;
  secret(const secret&) = delete;
  secret& operator=(const secret&) = delete;
  secret(secret&&) noexcept = default;
  secret& operator=(secret&&) noexcept = default;
  ~secret() = default;  // secure_bytes wipes on free

  /// A new random secret of `bytes` bytes (16 to 64).
  template <random_source R = openssl_random>
  [[nodiscard]] static result<secret> generate(std::size_t bytes = default_secret_bytes, R&& rng = R{}) {
    if (bytes < min_secret_bytes || bytes > max_secret_bytes) return errc::invalid_argument;
    secret s;
    s.bytes_.resize(bytes);
    if (!rng.fill(std::span<unsigned char>(s.bytes_.data(), s.bytes_.size()))) return errc::random_failure;
    return s;
  }

  /// Takes existing key material (16 to 64 bytes).
  [[nodiscard]] static result<secret> from_bytes(byte_view bytes) {
    if (bytes.size() < min_secret_bytes || bytes.size() > max_secret_bytes) return errc::invalid_secret;
    secret s;
    s.bytes_.assign(bytes.begin(), bytes.end());
    return s;
  }

  /// Parses a base32 secret as an authenticator app shows it (any case,
  /// spaces, padding or not), strictly: non-canonical trailing bits are
  /// errc::invalid_base32 (see base32_trailing_bits).
  [[nodiscard]] static result<secret> from_base32(std::string_view text) {
    auto raw = base32_decode(text, base32_trailing_bits::reject);
    if (!raw) return raw.error();
    return from_bytes(*raw);
  }

  [[nodiscard]] byte_view bytes() const noexcept { return {bytes_.data(), bytes_.size()}; }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
  /// The base32 form for a key URI or manual entry. The caller owns wiping it.
  [[nodiscard]] std::string to_base32() const { return base32_encode(bytes()); }
  /// An explicit copy, for the rare place that needs two.
  [[nodiscard]] secret clone() const {
    secret s;
    s.bytes_ = bytes_;
    return s;
  }

  friend bool operator==(const secret& a, const secret& b) noexcept {
    return constant_time_equal(a.bytes(), b.bytes());
  }
  friend std::ostream& operator<<(std::ostream& os, const secret& /*s*/) { return os << "[redacted]"; }

 private:
  secure_bytes bytes_;
};

}  // namespace mfakit

template <>
struct fmt::formatter<mfakit::secret> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const mfakit::secret& /*s*/, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format("[redacted]", ctx);
  }
};
