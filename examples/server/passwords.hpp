// Password hashes as the database keeps them, one self-describing string:
//
//     scrypt$<log2 N>$<r>$<p>$<salt: 32 hex>$<digest: 64 hex>
//
// scrypt through OpenSSL (mfakit::scrypt), a random 16-byte salt each, the
// digest compared in constant time. The cost travels with the hash, so a
// stronger default applies to new hashes without breaking old ones, and a
// stored cost is checked against mfakit::valid() (at most 256 MiB) before it
// is used. The host's default is OWASP's scrypt minimum, N = 2^17, r = 8,
// p = 1: 128 MiB and a few hundred milliseconds per check, which is why the
// server runs these checks on a small, bounded pool.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <mfakit/crypto.hpp>
#include <mfakit/errors.hpp>

namespace mfakit_examples {

inline constexpr mfakit::scrypt_params password_cost{1U << 17, 8, 1};

[[nodiscard]] inline std::string to_hex(mfakit::byte_view b) {
  std::string out;
  mfakit::append_hex(out, b);
  return out;
}

namespace detail {
[[nodiscard]] inline bool from_hex(std::string_view hex, unsigned char* out, std::size_t n) {
  if (hex.size() != 2 * n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || p != hex.data() + 2 * i + 2) return false;
    out[i] = static_cast<unsigned char>(v);
  }
  return true;
}

template <class T>
[[nodiscard]] bool parse_uint(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

struct parsed_hash {
  mfakit::scrypt_params cost{};
  std::array<unsigned char, 16> salt{};
  std::array<unsigned char, 32> digest{};
};

[[nodiscard]] inline std::optional<parsed_hash> parse_hash(std::string_view s) {
  std::array<std::string_view, 6> part{};
  for (std::size_t i = 0; i < part.size(); ++i) {
    const std::size_t d = i + 1 < part.size() ? s.find('$') : std::string_view::npos;
    if (i + 1 < part.size() && d == std::string_view::npos) return std::nullopt;
    part[i] = s.substr(0, d);
    s = d == std::string_view::npos ? std::string_view{} : s.substr(d + 1);
  }
  parsed_hash h;
  unsigned log_n = 0;
  if (part[0] != "scrypt" || !parse_uint(part[1], log_n) || log_n < 1 || log_n > 24 || !parse_uint(part[2], h.cost.r) ||
      !parse_uint(part[3], h.cost.p) || !from_hex(part[4], h.salt.data(), h.salt.size()) ||
      !from_hex(part[5], h.digest.data(), h.digest.size()))
    return std::nullopt;
  h.cost.n = 1ULL << log_n;
  if (!mfakit::valid(h.cost)) return std::nullopt;
  return h;
}
}  // namespace detail

/// A new hash string; errc::random_failure / crypto_failure when OpenSSL fails.
[[nodiscard]] inline mfakit::result<std::string> hash_password(std::string_view password,
                                                              const mfakit::scrypt_params& cost) {
  detail::parsed_hash h;
  h.cost = cost;
  unsigned log_n = 0;
  while ((1ULL << log_n) < cost.n) ++log_n;
  if ((1ULL << log_n) != cost.n) return mfakit::errc::invalid_argument;
  if (!mfakit::openssl_random{}.fill(h.salt)) return mfakit::errc::random_failure;
  if (auto r = mfakit::scrypt(mfakit::as_bytes(password), h.salt, cost, h.digest); !r) return r.error();
  std::string out = "scrypt$" + std::to_string(log_n) + "$" + std::to_string(cost.r) + "$" + std::to_string(cost.p) +
                    "$" + to_hex(h.salt) + "$" + to_hex(h.digest);
  mfakit::cleanse(h.digest.data(), h.digest.size());
  return out;
}

/// Whether `guess` matches a stored hash string (false for a malformed one).
[[nodiscard]] inline bool check_password(std::string_view stored, std::string_view guess) {
  auto h = detail::parse_hash(stored);
  if (!h) return false;
  std::array<unsigned char, 32> d{};
  const bool ran = mfakit::scrypt(mfakit::as_bytes(guess), h->salt, h->cost, d).has_value();
  const bool same = mfakit::constant_time_equal(d, h->digest);
  mfakit::cleanse(d.data(), d.size());
  mfakit::cleanse(h->digest.data(), h->digest.size());
  return ran && same;
}

/// Whether a stored hash costs less memory and time than `cost` (a
/// malformed one: no).
[[nodiscard]] inline bool hash_cheaper(std::string_view stored, const mfakit::scrypt_params& cost) {
  auto h = detail::parse_hash(stored);
  return h && h->cost.n * h->cost.r * h->cost.p < cost.n * cost.r * cost.p;
}

/// Whether a stored hash uses `cost` (start-up keeps a matching hash as is).
[[nodiscard]] inline bool hash_uses(std::string_view stored, const mfakit::scrypt_params& cost) {
  auto h = detail::parse_hash(stored);
  return h && h->cost == cost;
}

}  // namespace mfakit_examples
