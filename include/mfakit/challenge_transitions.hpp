// The login challenge transitions, pure: a challenge is issued after the
// password checked out, and each attempt on it follows the order of
// admit_attempt (alive, TOTP still on, not throttled, then one attempt
// spent before the code is looked at) and conclude_attempt.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/account_transitions.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/records.hpp"
#include "mfakit/store_keys.hpp"

namespace mfakit::flow {

inline constexpr std::size_t challenge_token_chars = 64;

using ::mfakit::challenge_key;  // store_keys.hpp

/// Whether a token is 64 lowercase hex characters. The length is public;
/// the characters are not (an observer of a user's request could time them):
/// a mask over all of them, no early exit and no branch per character
/// (tests/ct well_formed_token).
[[nodiscard]] inline bool well_formed_token(std::string_view token) noexcept {
  if (token.size() != challenge_token_chars) return false;
  int bad = 0;
  for (char ch : token) {
    const int c = static_cast<unsigned char>(ch);
    bad |= ~(::mfakit::detail::in_range_mask(c, '0', '9') | ::mfakit::detail::in_range_mask(c, 'a', 'f'));
  }
  return bad == 0;
}

/// A new challenge for a user whose password checked out (TOTP enabled).
template <random_source R>
[[nodiscard]] result<std::pair<challenge_result, challenge_record>> begin_challenge(
    const std::optional<account_record>& current, std::string_view user, std::int64_t now, const flow_config& cfg,
    R& rng) {
  if (!detail::is_enabled(current)) return errc::not_enabled;
  if (cfg.challenge_ttl <= 0) return errc::invalid_argument;
  std::array<unsigned char, challenge_token_chars / 2> raw{};
  if (!rng.fill(raw)) return errc::random_failure;
  std::string token;
  append_hex(token, raw);
  cleanse(raw.data(), raw.size());
  const std::int64_t expires = ::mfakit::detail::saturating_add(now, cfg.challenge_ttl);
  return std::pair{challenge_result{std::move(token), expires}, challenge_record{std::string(user), expires, 0}};
}

/// For a host's sweeper: whether stored challenge bytes are past their
/// expiry (or unreadable) and can be deleted.
[[nodiscard]] inline bool challenge_expired(std::string_view stored_bytes, std::int64_t now) {
  auto c = decode_challenge(stored_bytes);
  return !c || now >= c->expires_at;
}

/// Whether a stored challenge may take another attempt now.
[[nodiscard]] inline result<void> check_challenge(const std::optional<challenge_record>& c, std::int64_t now,
                                                  const flow_config& cfg) {
  if (!c || now >= c->expires_at) return errc::challenge_invalid;
  if (c->attempts >= cfg.challenge_max_attempts) return errc::challenge_exhausted;
  return {};
}

/// The verdict on a login attempt before it looks at the code.
struct admission {
  std::optional<challenge_record> spent;  ///< store this (one more attempt used), then verify the code
  result<void> refusal;                   ///< when `spent` is empty: why the attempt is refused
  std::vector<event> events;
  std::int64_t retry_after = 0;  ///< with errc::throttled / errc::locked
};

/// The rules of a login attempt, in order: the challenge must be alive with
/// attempts left; the account must still have TOTP; a throttled or locked
/// account is refused before the attempt is spent (a refusal that costs the
/// user one of the challenge's five attempts would let the throttle exhaust
/// challenges); otherwise one attempt is spent before the code is looked at,
/// so no more than the challenge's attempts are ever verified.
[[nodiscard]] inline admission admit_attempt(const std::optional<challenge_record>& challenge,
                                             const std::optional<account_record>& account, std::int64_t now,
                                             const flow_config& cfg) {
  admission a;
  if (auto ok = check_challenge(challenge, now, cfg); !ok) {
    a.refusal = ok.error();
    return a;
  }
  if (!detail::is_enabled(account)) {
    a.refusal = errc::challenge_invalid;
    return a;
  }
  bool lock_expired = false;
  if (auto refused = detail::gate<login_result>(*account, challenge->user, now, cfg, lock_expired)) {
    a.refusal = refused->outcome.error();
    a.events = std::move(refused->events);
    a.retry_after = refused->retry_after;
    return a;
  }
  a.spent = *challenge;
  ++a.spent->attempts;
  return a;
}

/// What a verified attempt answers: a login verdict from flow::verify, with
/// an account that lost TOTP meanwhile reported as a dead challenge, and the
/// challenge_exhausted event when this wrong code used its last attempt.
[[nodiscard]] inline std::error_code conclude_attempt(const challenge_record& spent, std::error_code verdict,
                                                      std::int64_t now, const flow_config& cfg,
                                                      std::vector<event>& events) {
  if (verdict == errc::not_enabled) return errc::challenge_invalid;
  if (spent.attempts >= cfg.challenge_max_attempts &&
      (verdict == errc::code_mismatch || verdict == errc::code_replayed)) {
    event e = detail::make_event(event_kind::challenge_exhausted, spent.user, now);
    // the account's consecutive failures, as this attempt's refusal left them
    for (const event& earlier : events)
      if (earlier.kind == event_kind::code_rejected || earlier.kind == event_kind::code_replayed)
        e.failures = earlier.failures;
    events.push_back(std::move(e));
  }
  return verdict;
}

}  // namespace mfakit::flow
