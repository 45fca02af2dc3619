// Throttling guesses per account (RFC 4226 section 7.3, NIST SP 800-63B
// 5.2.2): every consecutive failure, by TOTP or backup code, from any
// session, grows a delay (base * 2^(n-1) seconds after the n-th) and a hard
// lock stops all attempts at a configured count. Only a success resets the
// count. A throttled attempt is refused before any HMAC or KDF work.
#pragma once

#include <cstdint>
#include <limits>

namespace mfakit {

struct throttle_policy {
  std::int64_t base_delay = 1;     ///< seconds after the first failure; 0: no delays
  std::uint32_t lock_after = 100;  ///< consecutive failures that lock; 0: never
  std::int64_t lock_duration = 0;  ///< seconds a lock lasts; 0: until reset (disable/enable or an admin)
  /// The longest single delay; 0: uncapped. Uncapped, an attacker who has the
  /// password gets ~22 guesses in 30 days but can also keep the user waiting;
  /// a cap trades guesses for availability (the lock still ends it at lock_after).
  std::int64_t max_delay = 0;

  /// NIST SP 800-63B: at most 100 consecutive failures, with growing delays.
  [[nodiscard]] static constexpr throttle_policy nist() noexcept { return {1, 100, 0, 0}; }
  /// PCI DSS 8.3.4: lock after 10 failures for 30 minutes.
  [[nodiscard]] static constexpr throttle_policy pci_dss() noexcept { return {0, 10, std::int64_t{30} * 60, 0}; }
  /// No delays and no lock. For tests that count failures, never for production.
  [[nodiscard]] static constexpr throttle_policy unsafe_none() noexcept { return {0, 0, 0, 0}; }
};

/// The state a throttle decision needs (kept in the account record).
struct throttle_state {
  std::uint32_t failures = 0;
  std::int64_t last_failure = 0;
};

struct throttle_verdict {
  enum class kind : std::uint8_t { allowed, delayed, locked } what = kind::allowed;
  std::int64_t retry_after = 0;  ///< seconds until the next attempt is allowed (0 if never, when locked)
  bool lock_expired = false;     ///< the failures count may restart at 0
};

namespace detail {
/// t + d for a time and a duration, saturating instead of overflowing (a
/// "for ever" lock_duration of INT64_MAX must not wrap into the past).
[[nodiscard]] constexpr std::int64_t saturating_add(std::int64_t t, std::int64_t d) noexcept {
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  if (d > 0 && t > hi - d) return hi;
  if (d < 0 && t < lo - d) return lo;
  return t + d;
}
/// until - now for until > now, saturating.
[[nodiscard]] constexpr std::int64_t time_left(std::int64_t until, std::int64_t now) noexcept {
  const std::uint64_t left = static_cast<std::uint64_t>(until) - static_cast<std::uint64_t>(now);
  constexpr auto hi = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(left > hi ? hi : left);
}
}  // namespace detail

/// The delay after n consecutive failures, capped so it cannot overflow.
[[nodiscard]] constexpr std::int64_t throttle_delay(const throttle_policy& p, std::uint32_t n) noexcept {
  if (n == 0 || p.base_delay <= 0) return 0;
  const std::uint32_t exponent = n - 1 < 40 ? n - 1 : 40;
  const std::int64_t factor = std::int64_t{1} << exponent;
  const std::int64_t d = p.base_delay > (std::int64_t{1} << 22) ? std::int64_t{1} << 62 : p.base_delay * factor;
  return p.max_delay > 0 && d > p.max_delay ? p.max_delay : d;
}

[[nodiscard]] constexpr throttle_verdict check_throttle(const throttle_policy& p, const throttle_state& s,
                                                        std::int64_t now) noexcept {
  if (p.lock_after != 0 && s.failures >= p.lock_after) {
    if (p.lock_duration == 0) return {throttle_verdict::kind::locked, 0, false};
    const std::int64_t until = detail::saturating_add(s.last_failure, p.lock_duration);
    if (now < until) return {throttle_verdict::kind::locked, detail::time_left(until, now), false};
    return {throttle_verdict::kind::allowed, 0, true};
  }
  const std::int64_t delay = throttle_delay(p, s.failures);
  const std::int64_t until = detail::saturating_add(s.last_failure, delay);
  if (delay > 0 && now < until) return {throttle_verdict::kind::delayed, detail::time_left(until, now), false};
  return {};
}

}  // namespace mfakit
