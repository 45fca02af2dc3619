// The account operations (operation.hpp has the protocol): each account
// request as an account_update (detail/account_update.hpp) around its pure
// transition (account_transitions.hpp), and status, one load. Enable and
// regenerate stop at next_step::compute before they hash their backup codes,
// a backup-code check before its KDF run; the loop decides where that runs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/account_transitions.hpp"
#include "mfakit/backup_codes.hpp"
#include "mfakit/detail/account_update.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/operations/passkey.hpp"
#include "mfakit/records.hpp"
#include "mfakit/store_keys.hpp"

namespace mfakit {

// --- the account operations ---------------------------------------------------

/// POST .../totp/setup
template <class Ctx>
class setup_operation : public detail::account_update<setup_operation<Ctx>, setup_result, Ctx> {
  using base = detail::account_update<setup_operation<Ctx>, setup_result, Ctx>;
  friend base;

 public:
  setup_operation(Ctx ctx, std::string_view user, std::string_view account_name)
      : base(ctx, user), user_(user), account_name_(account_name) {}

 private:
  std::optional<decision<setup_result>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::setup(current, user_, account_name_, now, *this->ctx().cfg, *this->ctx().rng);
  }
  std::string_view user_, account_name_;
};

/// POST .../totp/enable; its backup codes are made once, however many rounds.
template <class Ctx>
class enable_operation : public detail::account_update<enable_operation<Ctx>, enable_result, Ctx> {
  using base = detail::account_update<enable_operation<Ctx>, enable_result, Ctx>;
  friend base;

 public:
  enable_operation(Ctx ctx, std::string_view user, std::string_view code) : base(ctx, user), user_(user), code_(code) {}

 private:
  std::optional<decision<enable_result>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::detail::enable_step(current, user_, code_, now, *this->ctx().cfg, batch_);
  }
  [[nodiscard]] result<void> run_job(const std::optional<account_record>& /*current*/) {
    return flow::detail::make_backup_batch(*this->ctx().cfg, *this->ctx().rng, batch_);
  }
  [[nodiscard]] bool kept(const account_record& stored) const noexcept { return detail::holds_set(stored, batch_); }
  std::string_view user_, code_;
  std::optional<backup_batch> batch_;
};

/// A second factor without a challenge (a step-up check).
template <class Ctx>
class verify_operation : public detail::account_update<verify_operation<Ctx>, login_result, Ctx> {
  using base = detail::account_update<verify_operation<Ctx>, login_result, Ctx>;
  friend base;

 public:
  verify_operation(Ctx ctx, std::string_view user, std::string_view code, factor via)
      : base(ctx, user), user_(user), code_(code), via_(via) {}

  /// complete_login: verify on the record it already loaded.
  void start_with(std::optional<account_record> record, std::uint64_t version) {
    base::start_with(std::move(record), version);
  }

 private:
  std::optional<decision<login_result>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::detail::verify_step(current, user_, code_, via_, now, *this->ctx().cfg, &guess_);
  }
  /// A backup code's KDF run, under the set of the record it is checked against.
  [[nodiscard]] result<void> run_job(const std::optional<account_record>& current) {
    if (!current) return {};
    return this->ctx().cfg->hasher.digest_guess(current->backup, code_, this->ctx().cfg->box.backup_code_peppers(),
                                                guess_);
  }
  std::string_view user_, code_;
  factor via_;
  backup_guess guess_;
};

/// POST .../totp/disable
template <class Ctx>
class disable_operation : public detail::account_update<disable_operation<Ctx>, void, Ctx> {
  using base = detail::account_update<disable_operation<Ctx>, void, Ctx>;
  friend base;

 public:
  disable_operation(Ctx ctx, std::string_view user) : base(ctx, user), user_(user) {}

 private:
  std::optional<decision<void>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::disable(current, user_, now);
  }
  std::string_view user_;
};

/// POST .../backup-codes/regenerate; the new set is made once, however many rounds.
template <class Ctx>
class regenerate_operation : public detail::account_update<regenerate_operation<Ctx>, regenerate_result, Ctx> {
  using base = detail::account_update<regenerate_operation<Ctx>, regenerate_result, Ctx>;
  friend base;

 public:
  regenerate_operation(Ctx ctx, std::string_view user) : base(ctx, user), user_(user) {}

 private:
  std::optional<decision<regenerate_result>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::detail::regenerate_step(current, user_, now, *this->ctx().cfg, batch_);
  }
  [[nodiscard]] result<void> run_job(const std::optional<account_record>& /*current*/) {
    return flow::detail::make_backup_batch(*this->ctx().cfg, *this->ctx().rng, batch_);
  }
  [[nodiscard]] bool kept(const account_record& stored) const noexcept { return detail::holds_set(stored, batch_); }
  std::string_view user_;
  std::optional<backup_batch> batch_;
};

/// An administrator's unlock.
template <class Ctx>
class reset_throttle_operation : public detail::account_update<reset_throttle_operation<Ctx>, void, Ctx> {
  using base = detail::account_update<reset_throttle_operation<Ctx>, void, Ctx>;
  friend base;

 public:
  reset_throttle_operation(Ctx ctx, std::string_view user) : base(ctx, user) {}

 private:
  std::optional<decision<void>> decide(std::optional<account_record>& current, std::int64_t /*now*/) {
    return flow::reset_throttle(current);
  }
};

/// Key rotation: the secret sealed again under the current key.
template <class Ctx>
class reseal_operation : public detail::account_update<reseal_operation<Ctx>, bool, Ctx> {
  using base = detail::account_update<reseal_operation<Ctx>, bool, Ctx>;
  friend base;

 public:
  reseal_operation(Ctx ctx, std::string_view user) : base(ctx, user), user_(user) {}

 private:
  std::optional<decision<bool>> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::reseal(current, user_, now, *this->ctx().cfg, *this->ctx().rng);
  }
  std::string_view user_;
};

// --- reads ---------------------------------------------------------------------

/// GET .../mfa/status: two loads (the account, then its passkeys).
template <class Ctx>
class status_operation {
 public:
  using value_type = status_result;

  status_operation(Ctx ctx, std::string_view user) : ctx_(ctx), user_(user), key_(detail::keyable(user)) {
    if (auto refused = detail::refusal_at_start(ctx_, user)) {
      refusal_ = std::move(refused->alert);
      end(refused->error);
    }
  }
  [[nodiscard]] next_step wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept {
    return passkey_key_.empty() ? key_.view() : std::string_view(passkey_key_);
  }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return 0; }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return none_; }
  void on_load(load_answer answer) {
    if (call_ != next_step::load) return;
    if (!answer) return end(errc::storage_failure);
    if (passkey_key_.empty()) {
      if (*answer) {
        auto record = decode_account((*answer)->bytes);
        if (!record) return end(record.error());
        outcome_ = flow::status(*record);
      } else {
        outcome_ = flow::status(std::nullopt);
      }
      passkey_key_ = passkey_set_key(user_);
      return;
    }
    if (*answer) {
      auto set = decode_passkey_set((*answer)->bytes);
      if (!set) return end(set.error());
      outcome_->passkeys = set->credentials.size();
    }
    call_ = next_step::done;
  }
  void on_swap(const swap_answer& /*answer*/) {}
  void compute() noexcept {}
  [[nodiscard]] result<status_result> finish() {
    if (refusal_) ctx_.emit(*std::exchange(refusal_, std::nullopt));
    return outcome_;
  }

 private:
  void end(result<status_result> r) {
    outcome_ = std::move(r);
    call_ = next_step::done;
  }
  Ctx ctx_;
  std::optional<event> refusal_;  ///< the self-test's event, fired by finish()
  std::string_view user_;
  detail::account_key_buffer key_;
  std::string passkey_key_;  ///< the second load's key, once the account is read
  next_step call_ = next_step::load;
  std::optional<std::string> none_;
  result<status_result> outcome_ = errc::storage_conflict;
};

}  // namespace mfakit
