// The synchronous service most hosts call: each call builds the request's
// operation (operation.hpp) and runs it against the host's store until it is
// done. The rules (retries on a lost race, the authorship check after a store
// error, the order of the login rules, events) live in the operations, shared
// with the coroutine service of async.hpp. Nothing is reported as a success,
// and no backup code is handed out, unless the write that makes it true is
// stored; a store that fails or throws is errc::storage_failure.
#pragma once

#include <string_view>
#include <utility>

#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/store.hpp"
#include "mfakit/store_keys.hpp"
#include "mfakit/flow_types.hpp"

namespace mfakit {

template <record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random>
class service {
 public:
  using context = operation_context<Clock, Rng>;

  /// Throws std::invalid_argument when the configuration is unusable
  /// (flow_config::validate says which field).
  service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : store_(store), cfg_(validated(std::move(config))), clock_(std::move(clock)), rng_(std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return cfg_; }

  /// A new pending secret and key URI. `account_name` is what the app shows
  /// (an email address, say); errc::invalid_argument when it is empty or a
  /// key URI cannot carry it (check_key_uri: control or bidirectional
  /// characters, invalid UTF-8, leading spaces, too long).
  [[nodiscard]] result<setup_result> setup(std::string_view user, std::string_view account_name) {
    return drive(setup_operation<context>(ctx(), user, account_name));
  }

  /// Enables TOTP with a code from the app; returns the backup codes, once.
  [[nodiscard]] result<enable_result> enable(std::string_view user, std::string_view code,
                                             attempt_info* info = nullptr) {
    return drive(enable_operation<context>(ctx(), user, code, info));
  }

  /// Removes the secret and all backup codes (check the password first).
  [[nodiscard]] result<void> disable(std::string_view user) { return drive(disable_operation<context>(ctx(), user)); }

  /// Replaces every backup code (check the password first).
  [[nodiscard]] result<regenerate_result> regenerate_backup_codes(std::string_view user) {
    return drive(regenerate_operation<context>(ctx(), user));
  }

  /// An administrator's unlock: clears the failure count (and so any delay
  /// or lock). errc::not_enabled when there is nothing to unlock.
  [[nodiscard]] result<void> reset_throttle(std::string_view user) {
    return drive(reset_throttle_operation<context>(ctx(), user));
  }

  /// After a key rotation: seals the user's secret again under the current
  /// key (true), or leaves a record already under it alone (false). Run it
  /// over every user with a secret, then retire the old key from the ring.
  /// errc::not_enabled when the user has no secret (nothing to move).
  [[nodiscard]] result<bool> reseal(std::string_view user) { return drive(reseal_operation<context>(ctx(), user)); }

  [[nodiscard]] result<status_result> status(std::string_view user) {
    return drive(status_operation<context>(ctx(), user));
  }

  /// Checks a second factor for a user without a login challenge (step-up
  /// checks before a sensitive action). Same rules as a login: replay,
  /// single-use backup codes, throttling.
  [[nodiscard]] result<login_result> verify(std::string_view user, std::string_view code, factor via = factor::totp,
                                            attempt_info* info = nullptr) {
    return drive(verify_operation<context>(ctx(), user, code, via, info));
  }

  /// After the password checked out: a challenge when TOTP is enabled,
  /// errc::not_enabled when the host should log the user in directly.
  [[nodiscard]] result<challenge_result> begin_login(std::string_view user) {
    return drive(begin_login_operation<context>(ctx(), user));
  }

  /// POST /api/auth/mfa/verify: the second factor for a challenge. On
  /// success the challenge is gone and the host issues its session.
  [[nodiscard]] result<login_result> complete_login(std::string_view token, std::string_view code,
                                                    factor via = factor::totp, attempt_info* info = nullptr) {
    return drive(complete_login_operation<context>(ctx(), token, code, via, info));
  }

 private:
  [[nodiscard]] context ctx() noexcept { return context{&cfg_, &clock_, &rng_, &write_ids_}; }

  template <class Op>
  [[nodiscard]] result<typename Op::value_type> drive(Op&& op) {
    return run(store_, op);
  }

  Store& store_;
  flow_config cfg_;
  Clock clock_;
  Rng rng_;
  detail::write_id_pool write_ids_;
};

}  // namespace mfakit
