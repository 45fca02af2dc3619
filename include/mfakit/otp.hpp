// HOTP (RFC 4226) and TOTP (RFC 6238): generate a code, verify one within a
// drift window with replay protection. Verification computes and compares
// every candidate in the window with no early exit and reports which step
// (or counter) matched, so a caller can burn it.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <openssl/crypto.h>

#include "mfakit/algorithm.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/hmac.hpp"
#include "mfakit/self_test.hpp"

namespace mfakit {

/// The widest drift window accepted on either side, in steps (or counters).
inline constexpr std::uint32_t max_window = 32;

struct hotp_params {
  algorithm alg = algorithm::sha1;
  int digits = 6;
};

struct totp_params {
  algorithm alg = algorithm::sha1;
  int digits = 6;
  std::int64_t period = 30;  ///< seconds per step, >= 1
  std::int64_t t0 = 0;       ///< Unix time at which step 0 starts
};

/// Steps accepted before and after the current one; {0, 0} is strict mode.
struct drift_window {
  std::uint32_t behind = 1;
  std::uint32_t ahead = 1;
};

struct totp_verify_options {
  drift_window window{};
  /// Replay protection: only steps strictly greater than this are accepted
  /// (the last step accepted for this user, RFC 6238 section 5.2).
  std::optional<std::uint64_t> after_step{};
};

/// A one-time code: 6 to 8 ASCII digits, wiped when destroyed.
class otp_code {
 public:
  otp_code() = default;
  /// The code for a truncated HOTP value: value mod 10^digits, zero-padded.
  otp_code(std::uint32_t value, int digits) noexcept;
  otp_code(const otp_code&) = default;
  otp_code& operator=(const otp_code&) = default;
  ~otp_code() { cleanse(buf_.data(), buf_.size()); }
  [[nodiscard]] std::string_view str() const noexcept { return {buf_.data(), size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::string to_string() const { return std::string(str()); }

 private:
  std::array<char, max_digits> buf_{};
  std::size_t size_ = 0;
};

namespace detail {
inline constexpr std::array<std::uint32_t, 9> pow10{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/// RFC 4226 section 5.3 dynamic truncation: the offset is the low nibble of
/// the last byte of the MAC (byte 19, 31 or 63), then 31 bits from there.
[[nodiscard]] inline std::uint32_t truncate(const mac_bytes& mac, std::size_t size) noexcept {
  const std::size_t off = mac[size - 1] & 0x0FU;
  return (static_cast<std::uint32_t>(mac[off] & 0x7FU) << 24U) | (static_cast<std::uint32_t>(mac[off + 1]) << 16U) |
         (static_cast<std::uint32_t>(mac[off + 2]) << 8U) | static_cast<std::uint32_t>(mac[off + 3]);
}
}  // namespace detail

inline otp_code::otp_code(std::uint32_t value, int digits) noexcept {
  if (!detail::valid_digits(digits)) return;  // an empty code, which matches nothing
  std::uint32_t v = value % detail::pow10[static_cast<std::size_t>(digits)];
  for (int i = digits - 1; i >= 0; --i) {
    buf_[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10U);
    v /= 10U;
  }
  size_ = static_cast<std::size_t>(digits);
}

/// Checks a user-typed code: exactly `digits` ASCII digits once ASCII spaces
/// are removed ("123 456" is fine). Anything else is errc::malformed_code.
[[nodiscard]] inline result<otp_code> normalize_code(std::string_view input, int digits) {
  if (!detail::valid_digits(digits)) return errc::invalid_argument;
  std::array<char, max_digits> buf{};
  std::size_t n = 0;
  bool bad = false;
  for (char ch : input) {
    if (ch == ' ') continue;
    if (ch < '0' || ch > '9' || n == static_cast<std::size_t>(digits)) {
      bad = true;
      break;
    }
    buf[n++] = ch;
  }
  if (bad || n != static_cast<std::size_t>(digits)) {
    cleanse(buf.data(), buf.size());
    return errc::malformed_code;
  }
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10U + static_cast<std::uint32_t>(buf[i] - '0');
  cleanse(buf.data(), buf.size());
  return otp_code(v, digits);
}

/// The HOTP value for one counter with a prepared key.
[[nodiscard]] inline result<otp_code> hotp(const otp_key& key, std::uint64_t counter, int digits = 6) {
  if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
  if (!detail::valid_digits(digits)) return errc::invalid_argument;
  mac_bytes mac{};
  if (!key.mac(counter, mac)) return errc::crypto_failure;
  otp_code c = otp_code(detail::truncate(mac, digest_size(key.alg())), digits);
  cleanse(mac.data(), mac.size());
  return c;
}

[[nodiscard]] inline result<otp_code> hotp(byte_view key, std::uint64_t counter, const hotp_params& p = {}) {
  if (key.empty()) return errc::invalid_secret;
  if (!detail::valid_digits(p.digits)) return errc::invalid_argument;
  otp_key k(detail::otp_key_in_place);  // set up where it stands: no moves of the key schedule
  if (auto r = detail::otp_key_access::init(k, p.alg, key); !r) return r.error();
  return hotp(k, counter, p.digits);
}

/// The TOTP time step of a Unix time: floor((t - T0) / period).
[[nodiscard]] inline result<std::uint64_t> totp_step(std::int64_t unix_time, const totp_params& p = {}) {
  if (p.period < 1 || unix_time < p.t0) return errc::invalid_argument;
  // t - t0 cannot overflow once t >= t0 is known, when computed unsigned
  const std::uint64_t elapsed = static_cast<std::uint64_t>(unix_time) - static_cast<std::uint64_t>(p.t0);
  return elapsed / static_cast<std::uint64_t>(p.period);
}

[[nodiscard]] inline result<otp_code> totp(byte_view key, std::int64_t unix_time, const totp_params& p = {}) {
  auto step = totp_step(unix_time, p);
  if (!step) return step.error();
  return hotp(key, *step, hotp_params{p.alg, p.digits});
}

namespace detail {
/// The value of a code normalize_code() accepted (digits only).
[[nodiscard]] inline std::uint32_t code_value(const otp_code& c) noexcept {
  std::uint32_t v = 0;
  for (char ch : c.str()) v = v * 10U + static_cast<std::uint32_t>(ch - '0');
  return v;
}

/// What match_counters() found, as plain values: no branch has been taken on
/// them yet.
struct counter_match {
  std::uint64_t matched = 0;  ///< the counter taken (0 unless found)
  unsigned found = 0;         ///< 1 when a counter above `after` matched
  unsigned replayed = 0;      ///< 1 when a counter at or below `after` matched
  bool ok = false;            ///< false when a MAC failed
};

/// Compares the code (its value, < 10^digits) against every counter in
/// [first, last] without an early exit. Takes the first counter above
/// `after` that matched; a match at or below `after` only turns a mismatch
/// into errc::code_replayed. The engine is picked once, the counters are
/// MACed a batch at a time in one scratch that is wiped once, and each
/// candidate is compared as a number (truncated value mod 10^digits,
/// through CRYPTO_memcmp) rather than as a digit string.
[[nodiscard]] inline counter_match match_counters(const otp_key& key, std::uint32_t code, int digits,
                                                  std::uint64_t first, std::uint64_t last,
                                                  std::optional<std::uint64_t> after) {
  counter_match m;
  const std::uint32_t modulus = pow10[static_cast<std::size_t>(digits)];
  const std::size_t size = digest_size(key.alg());
  m.ok = otp_key_access::with_engine(key, [&](const auto& e) noexcept {
    using engine = std::decay_t<decltype(e)>;
    constexpr std::size_t lanes = engine::lanes;
    typename engine::batch w;
    const std::size_t used = last - first >= lanes - 1 ? lanes : static_cast<std::size_t>(last - first) + 1;
    engine::prepare(w, used);
    bool macs_ok = true;
    for (std::uint64_t c = first;;) {
      const std::size_t n = last - c >= lanes - 1 ? lanes : static_cast<std::size_t>(last - c) + 1;
      macs_ok = e.mac_lanes(c, n, w) && macs_ok;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t ci = c + i;
        const std::uint32_t v = truncate(w[i].mac, size) % modulus;
        const unsigned eq = CRYPTO_memcmp(&v, &code, sizeof v) == 0 ? 1U : 0U;
        const unsigned fresh = (!after || ci > *after) ? 1U : 0U;  // counters are public: may branch
        const unsigned take = eq & fresh & (m.found ^ 1U);
        m.matched |= (static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(take)) & ci;
        m.found |= take;
        m.replayed |= eq & (fresh ^ 1U);
      }
      if (last - c == n - 1) break;
      c += n;
    }
    cleanse(w.data(), used * sizeof(w[0]));
    return macs_ok;
  });
  return m;
}

/// The answer for a counter_match. Whether a code matched is the answer
/// itself, so this is where the paths part; everything before it runs the
/// same whatever the code (tests/ct: totp_*).
[[nodiscard]] inline result<std::uint64_t> to_result(const counter_match& m) {
  if (!m.ok) return errc::crypto_failure;
  if (m.found != 0U) return m.matched;
  return m.replayed != 0U ? errc::code_replayed : errc::code_mismatch;
}
}  // namespace detail

/// Verifies a TOTP code with a prepared key. Returns the matched time step;
/// errc::code_mismatch, errc::code_replayed (matched only at or before
/// `after_step`) or errc::malformed_code otherwise.
[[nodiscard]] inline result<std::uint64_t> verify_totp(const otp_key& key, std::string_view code,
                                                       std::int64_t unix_time, const totp_params& p = {},
                                                       const totp_verify_options& o = {}) {
  if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
  if (o.window.behind > max_window || o.window.ahead > max_window) return errc::invalid_argument;
  if (key.alg() != p.alg) return errc::invalid_argument;
  auto step = totp_step(unix_time, p);
  if (!step) return step.error();
  auto input = normalize_code(code, p.digits);
  if (!input) return input.error();
  const std::uint64_t first = *step >= o.window.behind ? *step - o.window.behind : 0;
  const std::uint64_t last = *step <= std::numeric_limits<std::uint64_t>::max() - o.window.ahead
                                 ? *step + o.window.ahead
                                 : std::numeric_limits<std::uint64_t>::max();
  std::uint32_t value = detail::code_value(*input);
  const detail::counter_match m = detail::match_counters(key, value, p.digits, first, last, o.after_step);
  cleanse(&value, sizeof value);
  return detail::to_result(m);
}

[[nodiscard]] inline result<std::uint64_t> verify_totp(byte_view key, std::string_view code, std::int64_t unix_time,
                                                       const totp_params& p = {}, const totp_verify_options& o = {}) {
  if (key.empty()) return errc::invalid_secret;
  otp_key k(detail::otp_key_in_place);  // set up where it stands: no moves of the key schedule
  if (auto r = detail::otp_key_access::init(k, p.alg, key); !r) return r.error();
  return verify_totp(k, code, unix_time, p, o);
}

/// Verifies an HOTP code at `counter` with a look-ahead of `look_ahead`
/// further counters. Returns the counter to store next (matched + 1).
[[nodiscard]] inline result<std::uint64_t> verify_hotp(byte_view key, std::string_view code, std::uint64_t counter,
                                                       const hotp_params& p = {}, std::uint32_t look_ahead = 0) {
  if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
  if (key.empty()) return errc::invalid_secret;
  if (look_ahead > max_window || !detail::valid_digits(p.digits)) return errc::invalid_argument;
  if (counter > std::numeric_limits<std::uint64_t>::max() - look_ahead - 1) return errc::invalid_argument;
  auto input = normalize_code(code, p.digits);
  if (!input) return input.error();
  otp_key k(detail::otp_key_in_place);
  if (auto r = detail::otp_key_access::init(k, p.alg, key); !r) return r.error();
  std::uint32_t value = detail::code_value(*input);
  const detail::counter_match m =
      detail::match_counters(k, value, p.digits, counter, counter + look_ahead, std::nullopt);
  cleanse(&value, sizeof value);
  auto matched = detail::to_result(m);
  if (!matched) return matched.error();
  return *matched + 1;
}

}  // namespace mfakit
