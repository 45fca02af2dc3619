// The ten calls of the flow, listed once. The synchronous service
// (service.hpp), the coroutine service (async.hpp) and the test adapter
// (testing/async_adapter.hpp) each derive from service_calls and give it one
// member, `call<Operation>(args...)`, which builds the request's operation
// (operations/account.hpp, operations/login.hpp) and runs it in that loop;
// each call below returns what that member returns: result<...> from the
// synchronous service, a coroutine of result<...> from the async one.
#pragma once

#include <string_view>

#include "mfakit/events.hpp"
#include "mfakit/operations/account.hpp"
#include "mfakit/operations/login.hpp"
#include "mfakit/operations/passkey.hpp"

namespace mfakit {

template <class Derived>
class service_calls {
 public:
  /// A new pending secret and key URI. `account_name` is what the app shows
  /// (an email address, say); errc::invalid_argument when it is empty or a
  /// key URI cannot carry it (check_key_uri: control or bidirectional
  /// characters, invalid UTF-8, leading spaces, too long).
  [[nodiscard]] auto setup(std::string_view user, std::string_view account_name) {
    return self().template call<setup_operation>(user, account_name);
  }

  /// Enables TOTP with a code from the app; returns the backup codes, once.
  /// A refusal of errc::throttled or errc::locked carries retry_after().
  [[nodiscard]] auto enable(std::string_view user, std::string_view code) {
    return self().template call<enable_operation>(user, code);
  }

  /// Removes the secret and all backup codes (check the password first).
  [[nodiscard]] auto disable(std::string_view user) { return self().template call<disable_operation>(user); }

  /// Replaces every backup code (check the password first).
  [[nodiscard]] auto regenerate_backup_codes(std::string_view user) {
    return self().template call<regenerate_operation>(user);
  }

  /// An administrator's unlock: clears the failure count (and so any delay
  /// or lock). errc::not_enabled when there is nothing to unlock.
  [[nodiscard]] auto reset_throttle(std::string_view user) {
    return self().template call<reset_throttle_operation>(user);
  }

  /// After a key rotation: seals the user's secret again under the current
  /// key (true), or leaves a record already under it alone (false). Run it
  /// over every user with a secret, then retire the old key from the ring.
  /// errc::not_enabled when the user has no secret (nothing to move).
  [[nodiscard]] auto reseal(std::string_view user) { return self().template call<reseal_operation>(user); }

  [[nodiscard]] auto status(std::string_view user) { return self().template call<status_operation>(user); }

  /// Checks a second factor for a user without a login challenge (step-up
  /// checks before a sensitive action). Same rules as a login: replay,
  /// single-use backup codes, throttling.
  [[nodiscard]] auto verify(std::string_view user, std::string_view code, factor via = factor::totp) {
    return self().template call<verify_operation>(user, code, via);
  }

  /// After the password checked out: a challenge when the user has TOTP
  /// enabled; otherwise a result whose mfa_required() is false (log the user
  /// in directly).
  [[nodiscard]] auto begin_login(std::string_view user) { return self().template call<begin_login_operation>(user); }

  /// POST /api/auth/mfa/verify: the second factor for a challenge. On
  /// success the challenge is gone and the host issues its session.
  [[nodiscard]] auto complete_login(std::string_view token, std::string_view code, factor via = factor::totp) {
    return self().template call<complete_login_operation>(token, code, via);
  }

  // --- passkeys (operations/passkey.hpp); `s` outlives the call ---

  /// Creation options for `user`; the ceremony is stored for 5 minutes.
  [[nodiscard]] auto passkey_registration_options(const passkey_settings& s, std::string_view user,
                                                  std::string_view user_name) {
    return self().template call<passkey_registration_options_operation>(s, user, user_name);
  }
  /// Registers the credential of a creation response (its ceremony consumed).
  [[nodiscard]] auto passkey_register(const passkey_settings& s, std::string_view user, std::string_view name,
                                      byte_view client_data_json, byte_view attestation_object) {
    return self().template call<passkey_register_operation>(s, user, name, client_data_json, attestation_object);
  }
  /// Request options of a passwordless login; the ceremony is stored for 5 minutes.
  [[nodiscard]] auto passkey_login_options(const passkey_settings& s) {
    return self().template call<passkey_login_options_operation>(s);
  }
  /// Request options of a login that named its account (by email, say):
  /// allowCredentials of the user's passkeys, or one stable made-up id
  /// (s.decoy_key) for a user without any, known or not. Only a credential
  /// of `user` can then log in on them.
  [[nodiscard]] auto passkey_login_options(const passkey_settings& s, std::string_view user) {
    return self().template call<passkey_login_options_operation>(s, user);
  }
  /// A passwordless login: the user whose passkey signed.
  [[nodiscard]] auto passkey_login(const passkey_settings& s, byte_view credential_id, byte_view client_data_json,
                                   byte_view authenticator_data, byte_view signature, byte_view user_handle) {
    return self().template call<passkey_login_operation>(s, credential_id, client_data_json, authenticator_data,
                                                         signature, user_handle);
  }
  [[nodiscard]] auto passkeys(std::string_view user) { return self().template call<passkey_list_operation>(user); }
  /// Renames a passkey of the user (1 to 64 bytes); errc::not_enabled when the user has no such passkey.
  [[nodiscard]] auto rename_passkey(std::string_view user, byte_view credential_id, std::string_view name) {
    return self().template call<passkey_rename_operation>(user, credential_id, name);
  }
  /// Removes a passkey of the user; errc::not_enabled when the user has no such passkey.
  [[nodiscard]] auto delete_passkey(std::string_view user, byte_view credential_id) {
    return self().template call<passkey_delete_operation>(user, credential_id);
  }

 protected:
  service_calls() = default;

 private:
  [[nodiscard]] Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace mfakit
