// Typed lifecycle events for audit logs and alerts. An event names the user,
// what happened and why, never a secret, a code or a token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace mfakit {

enum class event_kind : std::uint8_t {
  setup,             ///< a (new) pending secret was issued
  enabled,           ///< TOTP enabled, backup codes issued
  disabled,          ///< secret and backup codes removed
  code_accepted,     ///< a TOTP code was accepted (enable or login)
  code_rejected,     ///< a code was refused; see reason
  code_replayed,     ///< a TOTP code of an already accepted step was presented
  backup_code_used,  ///< a backup code was redeemed; see backup_codes_remaining
  backup_codes_regenerated,
  throttled,            ///< refused before verification: wait retry_after seconds
  locked,               ///< the failure count reached the lock
  challenge_issued,     ///< a login challenge began
  challenge_exhausted,  ///< a challenge used up its attempts and is dead
  secret_resealed,      ///< the secret was sealed again under the current key (rotation)
  clock_drift,          ///< the last accepted codes were all a step off the same way; see drift
  self_test_failed,     ///< refused: the crypto self-test failed in this process (self_test.hpp)
  passkey_registered,         ///< a passkey was added to the account
  passkey_used,               ///< a passkey login passed
  passkey_removed,            ///< a passkey was deleted
  passkey_counter_regressed,  ///< a signed counter not above the stored one: possible cloned authenticator
};

enum class factor : std::uint8_t { totp, backup_code };

enum class reject_reason : std::uint8_t { none, mismatch, replayed, malformed };

/// Which way a user's authenticator clock looks off: its codes keep landing
/// a step behind the server's (-1) or ahead of it (+1); none when it is fine
/// or not known.
enum class drift_direction : std::int8_t { behind = -1, none = 0, ahead = 1 };

struct event {
  event_kind kind = event_kind::setup;
  std::string user;
  std::int64_t at = 0;  ///< Unix time
  factor via = factor::totp;
  reject_reason reason = reject_reason::none;
  std::size_t backup_codes_remaining = 0;
  std::int64_t retry_after = 0;
  std::uint32_t failures = 0;  ///< consecutive failures after this event
  drift_direction drift = drift_direction::none;  ///< with clock_drift
};

[[nodiscard]] constexpr std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::setup: return "setup";
    case event_kind::enabled: return "enabled";
    case event_kind::disabled: return "disabled";
    case event_kind::code_accepted: return "code_accepted";
    case event_kind::code_rejected: return "code_rejected";
    case event_kind::code_replayed: return "code_replayed";
    case event_kind::backup_code_used: return "backup_code_used";
    case event_kind::backup_codes_regenerated: return "backup_codes_regenerated";
    case event_kind::throttled: return "throttled";
    case event_kind::locked: return "locked";
    case event_kind::challenge_issued: return "challenge_issued";
    case event_kind::challenge_exhausted: return "challenge_exhausted";
    case event_kind::secret_resealed: return "secret_resealed";
    case event_kind::clock_drift: return "clock_drift";
    case event_kind::self_test_failed: return "self_test_failed";
    case event_kind::passkey_registered: return "passkey_registered";
    case event_kind::passkey_used: return "passkey_used";
    case event_kind::passkey_removed: return "passkey_removed";
    case event_kind::passkey_counter_regressed: return "passkey_counter_regressed";
  }
  return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(drift_direction d) noexcept {
  switch (d) {
    case drift_direction::behind: return "behind";
    case drift_direction::none: return "none";
    case drift_direction::ahead: return "ahead";
  }
  return "unknown";
}

/// Receives events after the change they describe has been stored.
using event_hook = std::function<void(const event&)>;

}  // namespace mfakit
