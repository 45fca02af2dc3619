// The flow's vocabulary: its configuration (flow_config, validated once
// where a service is built), what each call answers (setup_result,
// enable_result, login_result...), and a transition's verdict (decision<T>:
// the record to store, the answer, the events).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/backup_codes.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/throttle.hpp"

namespace mfakit {

/// Everything the flow needs to know; a host builds one at start-up.
struct flow_config {
  explicit flow_config(secret_box b) : box(std::move(b)) {}

  secret_box box;                   ///< seals secrets at rest (seal.hpp)
  std::string issuer = "mfakit";    ///< shown by authenticator apps
  algorithm alg = algorithm::sha1;  ///< for new setups; enrolled users keep theirs
  int digits = 6;
  std::int64_t period = 30;
  drift_window window{};  ///< {1, 1}: previous, current and next step
  std::size_t secret_bytes = default_secret_bytes;
  std::size_t backup_code_count = default_backup_code_count;
  backup_code_hasher hasher{};  ///< peppered with a key derived from the box's sealing key unless told otherwise
  throttle_policy throttle = throttle_policy::nist();
  std::int64_t challenge_ttl = 300;  ///< seconds a login challenge lives
  std::uint32_t challenge_max_attempts = 5;

  /// The first field that would make the flow misbehave (a record that
  /// cannot be read back, a throttle that never engages...), or nothing.
  /// The services refuse such a configuration when they are built.
  [[nodiscard]] std::optional<std::string_view> problem() const noexcept {
    if (alg != algorithm::sha1 && alg != algorithm::sha256 && alg != algorithm::sha512)
      return "alg is not SHA-1/256/512";
    if (digits < min_digits || digits > max_digits) return "digits must be 6, 7 or 8";
    if (period < 1 || period > 3600) return "period must be 1..3600 seconds";
    if (window.behind > max_window || window.ahead > max_window) return "window must be at most 32 steps each way";
    if (secret_bytes < min_secret_bytes || secret_bytes > max_secret_bytes) return "secret_bytes must be 16..64";
    if (backup_code_count < 1 || backup_code_count > max_backup_code_count) return "backup_code_count must be 1..64";
    if (auto p = hasher.problem()) return p;
    if (throttle.base_delay < 0 || throttle.lock_duration < 0 || throttle.max_delay < 0)
      return "throttle durations must not be negative";
    if (challenge_ttl < 1) return "challenge_ttl must be at least 1 second";
    if (challenge_max_attempts < 1) return "challenge_max_attempts must be at least 1";
    if (issuer.empty() || issuer.find(':') != std::string::npos) return "issuer must be non-empty, without ':'";
    return std::nullopt;
  }
};

/// The configuration, or std::invalid_argument naming its first problem.
[[nodiscard]] inline flow_config validated(flow_config cfg) {
  if (auto p = cfg.problem()) throw std::invalid_argument("mfakit: flow_config: " + std::string(*p));
  return cfg;
}

/// service_options::offload when there is none: the coroutine loop runs each
/// costly step inline, on the thread that resumed it.
struct no_offload {};

/// What an offload's awaitable throws when it refuses a job without running
/// it (a pool at its bound, a wait it could not meet): the call answers
/// errc::storage_failure carrying this retry_after (a host answers 503 with
/// Retry-After), its job never runs and nothing of it is stored (a login
/// challenge's attempt the call had reserved stays spent). Any other
/// exception from an offload before its job ran: the loop runs the job inline.
class offload_refused : public std::runtime_error {
 public:
  explicit offload_refused(std::int64_t retry_after_seconds)
      : std::runtime_error("mfakit: offload refused the job"), retry_after_(retry_after_seconds) {}
  [[nodiscard]] std::int64_t retry_after() const noexcept { return retry_after_; }

 private:
  std::int64_t retry_after_;
};

/// How a service drives the rules (beside the rules themselves, flow_config):
/// how many compare-and-swap rounds a request may lose, where events go, and
/// where the coroutine loop runs an operation's costly steps (async.hpp).
/// The synchronous service runs them inline and takes no offload.
template <class Offload = no_offload>
struct service_options {
  unsigned max_retries = 32;  ///< compare-and-swap rounds before storage_conflict
  event_hook on_event;        ///< called after each stored change; an exception from it is ignored
  Offload offload{};          ///< async_service only: takes a compute_job, returns something to co_await

  /// What would make the services misbehave, or nothing (they refuse it when built).
  [[nodiscard]] std::optional<std::string_view> problem() const noexcept {
    if (max_retries < 1) return "max_retries must be at least 1";
    return std::nullopt;
  }
};

/// The options, or std::invalid_argument naming their first problem.
template <class Offload>
[[nodiscard]] service_options<Offload> validated(service_options<Offload> o) {
  if (auto p = o.problem()) throw std::invalid_argument("mfakit: service_options: " + std::string(*p));
  return o;
}

struct setup_result {
  secret key;               ///< show key.to_base32() for manual entry
  std::string otpauth_uri;  ///< render as a QR code; holds the secret, wiped on destruction

  setup_result(secret k, std::string uri) : key(std::move(k)), otpauth_uri(std::move(uri)) {}
  setup_result(const setup_result&) = delete;
  setup_result& operator=(const setup_result&) = delete;
  setup_result(setup_result&&) noexcept = default;
  setup_result& operator=(setup_result&&) noexcept = default;
  ~setup_result() { cleanse(otpauth_uri.data(), otpauth_uri.size()); }
};

struct enable_result {
  std::vector<backup_code> backup_codes;  ///< shown once, never retrievable
};

struct regenerate_result {
  std::vector<backup_code> backup_codes;
};

struct status_result {
  bool totp_enabled = false;
  bool setup_pending = false;
  std::size_t backup_codes_remaining = 0;
  /// The user's last accepted codes were all a step behind or ahead
  /// (flow::clock_drift_of): time to ask them to fix the phone's clock.
  drift_direction clock_drift = drift_direction::none;
  std::size_t passkeys = 0;  ///< registered passkeys (operations/passkey.hpp)
};

struct login_result {
  std::string user;
  factor via = factor::totp;
  std::size_t backup_codes_remaining = 0;
};

/// Backup codes with their digests: made once per request, reused when the
/// compare-and-swap of that request is retried.
struct backup_batch {
  std::vector<backup_code> codes;
  backup_code_digests digests;
};

/// What begin_login answers: a login challenge when the user has a second
/// factor, or none (mfa_required() false: log the user in directly). The
/// token is a live credential until it expires, so it is wiped when this is
/// destroyed; copies the host makes are its own.
struct challenge_result {
  std::string token;  ///< 64 characters; only its hash is stored (empty: no challenge)
  std::int64_t expires_at = 0;

  /// Whether the user must present a second factor for this token.
  [[nodiscard]] bool mfa_required() const noexcept { return !token.empty(); }

  challenge_result() = default;
  challenge_result(std::string t, std::int64_t expires) : token(std::move(t)), expires_at(expires) {}
  challenge_result(const challenge_result&) = default;
  challenge_result(challenge_result&&) noexcept = default;
  challenge_result& operator=(const challenge_result& o) {
    if (this != &o) {
      cleanse(token.data(), token.size());
      token = o.token;
      expires_at = o.expires_at;
    }
    return *this;
  }
  challenge_result& operator=(challenge_result&& o) noexcept {
    if (this != &o) {
      cleanse(token.data(), token.size());
      token = std::move(o.token);
      expires_at = o.expires_at;
    }
    return *this;
  }
  ~challenge_result() { cleanse(token.data(), token.size()); }
};

/// A transition's verdict: what to store (nothing when empty), the answer,
/// and the events to emit once the write is stored.
template <class T>
struct decision {
  std::optional<account_record> next;
  result<T> outcome;
  std::vector<event> events;
  std::int64_t retry_after = 0;  ///< with errc::throttled / errc::locked
};

}  // namespace mfakit
