// The login operations (operation.hpp has the protocol): begin_login, after
// the password checked out, and complete_login, the second factor for its
// challenge, which embeds the account update of a verify (and so its
// compute step for a backup code's KDF run).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/challenge_transitions.hpp"
#include "mfakit/detail/account_update.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/operations/account.hpp"
#include "mfakit/records.hpp"
#include "mfakit/store_keys.hpp"

namespace mfakit {

/// After the password checked out: a challenge when TOTP is enabled; when
/// it is not, a result without one (challenge_result::mfa_required() is
/// false): the host logs the user in directly.
template <class Ctx>
class begin_login_operation {
 public:
  using value_type = challenge_result;

  begin_login_operation(Ctx ctx, std::string_view user) : ctx_(ctx), user_(user), account_key_(detail::keyable(user)) {
    if (auto refused = detail::refusal_at_start(ctx_, user)) {
      refusal_ = std::move(refused->alert);
      end(refused->error);
    }
  }
  [[nodiscard]] next_step wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept {
    return call_ == next_step::load ? account_key_.view() : std::string_view(challenge_key_);
  }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return 0; }  // the challenge is new
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return bytes_; }

  void on_load(load_answer answer) {
    if (call_ != next_step::load) return;
    if (!answer) return end(errc::storage_failure);
    std::optional<account_record> account;
    if (*answer) {
      auto decoded = decode_account((*answer)->bytes);
      if (!decoded) return end(decoded.error());
      account = std::move(*decoded);
    }
    now_ = ctx_.now();
    if (!flow::detail::is_enabled(account)) return end(challenge_result{});  // no second factor: nothing stored
    auto made = flow::begin_challenge(account, user_, now_, *ctx_.cfg, *ctx_.rng);
    if (!made) return end(made.error());
    auto key = challenge_key(made->first.token);
    if (!key) return end(key.error());
    challenge_key_ = std::move(*key);
    bytes_ = encode(made->second);
    issued_.emplace(std::move(made->first));
    call_ = next_step::compare_and_swap;
  }
  void on_swap(swap_answer answer) {
    if (call_ != next_step::compare_and_swap) return;
    // an error: the challenge may or may not exist; its token is not handed
    // out, so it can only expire. false: a token collision (2^-256).
    if (!answer) return end(errc::storage_failure);
    if (!*answer) return end(errc::storage_conflict);
    ctx_.emit(flow::detail::make_event(event_kind::challenge_issued, user_, now_));
    end(std::move(*issued_));
  }
  void compute() noexcept {}
  [[nodiscard]] result<challenge_result> finish() {
    if (refusal_) ctx_.emit(*std::exchange(refusal_, std::nullopt));
    return std::move(outcome_);
  }

 private:
  void end(result<challenge_result> r) {
    outcome_ = std::move(r);
    issued_.reset();
    bytes_.reset();
    call_ = next_step::done;
  }
  Ctx ctx_;
  std::optional<event> refusal_;  ///< the self-test's event, fired by finish()
  std::string_view user_;
  detail::account_key_buffer account_key_;
  std::string challenge_key_;
  std::int64_t now_ = 0;
  next_step call_ = next_step::load;
  std::optional<std::string> bytes_;
  std::optional<challenge_result> issued_;
  result<challenge_result> outcome_ = errc::storage_conflict;
};

/// POST /api/auth/mfa/verify: the second factor for a challenge. The store
/// calls, in order: load the challenge, load the account, compare-and-swap
/// the challenge (one attempt spent: flow::admit_attempt), the account
/// update of flow::verify (authorship-checked), then load and delete the
/// challenge. Fails closed: a login is reported only when the challenge was
/// deleted by this request; if the delete fails after the account write, the
/// code is spent and the user starts over.
template <class Ctx>
class complete_login_operation {
 public:
  using value_type = login_result;

  complete_login_operation(Ctx ctx, std::string_view token, std::string_view code, factor via = factor::totp)
      : ctx_(ctx), code_(code), via_(via) {
    if (auto refused = detail::refusal_at_start(ctx_, {}, false)) {  // the user is behind the token: not named
      if (refused->alert) events_.push_back(std::move(*refused->alert));
      end(refused->error);
    } else if (flow::detail::blank(token)) {
      end(errc::missing_token);
    } else if (flow::detail::blank(code)) {
      end(errc::missing_code);
    } else if (!flow::well_formed_token(token)) {
      end(errc::challenge_invalid);
    } else if (auto key = challenge_key(token)) {
      challenge_key_ = std::move(*key);
    } else {
      end(key.error());
    }
  }

  [[nodiscard]] next_step wants() const noexcept { return step_ == step::verify ? stage_->verify.wants() : call_; }
  [[nodiscard]] std::string_view key() const noexcept {
    if (step_ == step::verify) return stage_->verify.key();
    if (step_ == step::load_account) return account_key_->view();
    return challenge_key_;
  }
  [[nodiscard]] std::uint64_t expected_version() const noexcept {
    return step_ == step::verify ? stage_->verify.expected_version() : challenge_version_;
  }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept {
    return step_ == step::verify ? stage_->verify.next_bytes() : bytes_;
  }

  void on_load(load_answer answer) {
    if (step_ == step::verify) {
      stage_->verify.on_load(std::move(answer));
      return after_verify_call();
    }
    if (call_ != next_step::load) return;
    if (!answer) return end(errc::storage_failure);
    switch (step_) {
      case step::load_challenge: return on_challenge(std::move(*answer));
      case step::load_account: return on_account(std::move(*answer));
      case step::load_for_delete: return on_challenge_before_delete(std::move(*answer));
      default: return;
    }
  }

  void on_swap(swap_answer answer) {
    if (step_ == step::verify) {
      stage_->verify.on_swap(answer);
      return after_verify_call();
    }
    if (call_ != next_step::compare_and_swap) return;
    // an error: the attempt may be spent, the challenge may be gone; no login
    if (!answer) return end(errc::storage_failure);
    if (step_ == step::reserve) {
      if (!*answer) return next_round(step::load_challenge);  // another attempt raced us: start over
      step_ = step::verify;
      stage_->verify.start_with(std::move(account_), account_version_);
      return after_verify_call();
    }
    if (*answer) return end(std::move(*verified_));  // deleted: the login stands
    next_round(step::load_for_delete);
  }

  /// The verify step's costly step (a backup code's KDF run).
  void compute() {
    if (step_ != step::verify) return;
    stage_->verify.compute();
    after_verify_call();
  }

  [[nodiscard]] result<login_result> finish() {
    for (const auto& e : events_) ctx_.emit(e);
    events_.clear();
    if (!outcome_) outcome_.with_retry_after(retry_after_);
    return std::move(outcome_);
  }

 private:
  enum class step : std::uint8_t { load_challenge, load_account, reserve, verify, load_for_delete, remove, done };

  void on_challenge(std::optional<stored_record> stored) {
    challenge_.reset();
    if (stored) {
      auto c = decode_challenge(stored->bytes);
      if (!c) return end(c.error());
      challenge_ = std::move(*c);
      challenge_version_ = stored->version;
    }
    now_ = ctx_.now();
    if (auto ok = flow::check_challenge(challenge_, now_, *ctx_.cfg); !ok) return end(ok.error());
    account_key_.emplace(challenge_->user);
    step_ = step::load_account;
  }

  void on_account(std::optional<stored_record> stored) {
    account_.reset();
    account_version_ = 0;
    if (stored) {
      auto decoded = decode_account(stored->bytes);
      if (!decoded) return end(decoded.error());
      account_ = std::move(*decoded);
      account_version_ = stored->version;
    }
    flow::admission a = flow::admit_attempt(challenge_, account_, now_, *ctx_.cfg);
    if (!a.spent) {
      events_ = std::move(a.events);
      retry_after_ = a.retry_after;
      return end(a.refusal.error());
    }
    bytes_ = encode(*a.spent);
    // the verify operation views the user id in the challenge: both on the
    // heap, so moving this operation (a host's own loop may) moves neither
    stage_ = std::make_unique<verify_stage>(std::move(*a.spent), ctx_, code_, via_);
    step_ = step::reserve;
    call_ = next_step::compare_and_swap;
  }

  void after_verify_call() {
    if (stage_->verify.wants() != next_step::done) return;
    completion<login_result>& c = stage_->verify.completed();
    events_ = std::move(c.events);
    retry_after_ = c.retry_after;
    if (!c.outcome) {
      const std::error_code ec = flow::conclude_attempt(stage_->spent, c.outcome.error(), now_, *ctx_.cfg, events_);
      stage_.reset();
      return end(ec);
    }
    verified_.emplace(std::move(*c.outcome));
    stage_.reset();
    round_ = 0;
    step_ = step::load_for_delete;
    call_ = next_step::load;
  }

  void on_challenge_before_delete(std::optional<stored_record> stored) {
    // gone: another attempt on it completed first; this one is no login
    if (!stored) return end(errc::challenge_invalid);
    challenge_version_ = stored->version;
    bytes_.reset();  // delete
    step_ = step::remove;
    call_ = next_step::compare_and_swap;
  }

  void next_round(step from) {
    if (++round_ >= ctx_.max_retries) return end(errc::storage_conflict);
    step_ = from;
    call_ = next_step::load;
  }

  void end(result<login_result> r) {
    outcome_ = std::move(r);
    step_ = step::done;
    call_ = next_step::done;
    bytes_.reset();
    stage_.reset();
  }
  void end(std::error_code ec) { end(result<login_result>(ec)); }
  void end(errc e) { end(make_error_code(e)); }

  Ctx ctx_;
  std::string_view code_;
  factor via_;
  std::string challenge_key_;
  std::optional<detail::account_key_buffer> account_key_;
  step step_ = step::load_challenge;
  next_step call_ = next_step::load;
  unsigned round_ = 0;
  std::int64_t now_ = 0;
  std::optional<challenge_record> challenge_;
  std::uint64_t challenge_version_ = 0;
  std::optional<account_record> account_;
  std::uint64_t account_version_ = 0;
  std::optional<std::string> bytes_;
  struct verify_stage {
    verify_stage(challenge_record c, Ctx ctx, std::string_view code, factor via)
        : spent(std::move(c)), verify(ctx, spent.user, code, via) {}
    challenge_record spent;  ///< the challenge with this attempt spent
    verify_operation<Ctx> verify;
  };
  std::unique_ptr<verify_stage> stage_;
  std::optional<login_result> verified_;
  std::vector<event> events_;
  std::int64_t retry_after_ = 0;
  result<login_result> outcome_ = errc::storage_conflict;
};

}  // namespace mfakit
