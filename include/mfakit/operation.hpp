// Each request of the flow as a sans-I/O operation: an object that says what
// it needs from the store next, takes the store's answer back, and in the end
// hands over the result, having fired its events. It does no I/O itself, so
// the synchronous service (service.hpp) and the coroutine loop (async.hpp)
// are a few lines each and run exactly the same rules:
//
//     for (;;) switch (op.wants()) {
//       case store_call::load:             op.on_load(store.load(op.key()));  break;
//       case store_call::compare_and_swap: op.on_swap(store.compare_and_swap(
//                                              op.key(), op.expected_version(), op.next_bytes()));  break;
//       case store_call::none:             return op.finish();
//     }
//
// An operation owns what used to live in a driver: the compare-and-swap
// retries, the order of the login rules, the memo of generated backup codes,
// when events fire, and the authorship check after a store error:
//  - every account write carries a fresh random write id (records.hpp); after
//    a compare-and-swap that answered with an error (or threw), the operation
//    reads the record back: its own write id there proves its own write is
//    the stored one, and only then is the write's answer given. Equal bytes
//    prove nothing: two requests redeeming one code write equal records;
//  - the record unchanged (the version it loaded) proves nothing landed: the
//    round is decided again on it, like a lost race;
//  - a backup-code set is identified by its fresh random salt: an enable or
//    regenerate whose write was stored, then overwritten by a later request
//    before the read-back (a wrong guess, say), still shows its codes when
//    the stored set is its set; otherwise no code is handed out;
//  - anything else (the read-back failed, or another write came after an
//    unknown outcome) is errc::storage_failure: no success is reported.
// A store answer that is an error is errc::storage_failure whatever it says.
//
// The store contract this relies on (store.hpp): a compare-and-swap takes
// effect at most once, before its call returns, and versions only grow.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/write_id_pool.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/records.hpp"
#include "mfakit/self_test.hpp"
#include "mfakit/store.hpp"
#include "mfakit/store_keys.hpp"
#include "mfakit/account_transitions.hpp"
#include "mfakit/challenge_transitions.hpp"
#include "mfakit/flow_types.hpp"

namespace mfakit {

/// What an operation needs next.
enum class store_call : std::uint8_t {
  load,              ///< store.load(op.key()), answer with op.on_load
  compare_and_swap,  ///< store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()), op.on_swap
  none,              ///< done: op.finish() gives the result
};

/// The store's answers as an operation takes them. An error (whatever its
/// code) or an exception the loop caught (pass store_failure()) counts as a
/// store failure.
using load_answer = result<std::optional<stored_record>>;
using swap_answer = result<bool>;

[[nodiscard]] inline std::error_code store_failure() noexcept { return make_error_code(errc::storage_failure); }


/// What every operation reads: the configuration, the clock, the random
/// source and the pool of write ids. The service owns them; an operation
/// holds this (four pointers) for its lifetime.
template <clock_source Clock, random_source Rng>
struct operation_context {
  const flow_config* cfg;
  const Clock* clock;
  Rng* rng;
  detail::write_id_pool* write_ids;

  [[nodiscard]] std::int64_t now() const { return unix_seconds(clock->now()); }
  void emit(const event& e) const noexcept {
    if (!cfg->on_event) return;
    try {
      cfg->on_event(e);
    } catch (...) {  // a failing audit hook must not undo or hide a stored change
    }
  }
};

/// How an operation ends: the answer, the events to fire, the retry-after.
template <class T>
struct completion {
  result<T> outcome = errc::storage_conflict;
  std::vector<event> events;
  std::int64_t retry_after = 0;
};

namespace detail {

[[nodiscard]] inline bool valid_user(std::string_view user) noexcept {
  return !user.empty() && user.size() <= max_user_id_bytes;
}

/// The user id to build a key from: an invalid one (refused by the
/// operation) is not encoded at all, so an oversized id costs nothing.
[[nodiscard]] inline std::string_view keyable(std::string_view user) noexcept {
  return valid_user(user) ? user : std::string_view{};
}

/// Every operation starts here: while the self-test (self_test.hpp) has
/// failed in this process, it ends at once in errc::crypto_failure, before
/// any store call, with an event the host can alert on (naming the user
/// when there is a valid one).
template <class Ctx>
[[nodiscard]] std::optional<event> failed_self_test(const Ctx& ctx, std::string_view user) {
  if (self_test_passed()) return std::nullopt;
  return flow::detail::make_event(event_kind::self_test_failed, keyable(user), ctx.now());
}

/// The engine of every account request: load -> decide -> compare-and-swap,
/// retried on a lost race, with the authorship check after a store error.
/// `Derived::decide(std::optional<account_record>&, now)` is the pure
/// transition (it may move from the record); `Derived::kept(stored)` says
/// whether a stored record still holds what this request's answer shows
/// (enable and regenerate: their code set).
template <class Derived, class T, class Ctx>
class account_update {
 public:
  using value_type = T;

  [[nodiscard]] store_call wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept { return key_.view(); }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return loaded_version_; }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return bytes_; }

  void on_load(load_answer answer) {
    if (call_ != store_call::load) return;
    if (!answer) return end(errc::storage_failure);
    std::optional<account_record> record;
    std::uint64_t version = 0;
    if (*answer) {
      auto decoded = decode_account((*answer)->bytes);
      if (!decoded) return end(decoded.error());
      record = std::move(*decoded);
      version = (*answer)->version;
    }
    if (phase_ == phase::read_back) return read_back(std::move(record), version);
    decide_on(std::move(record), version);
  }

  void on_swap(swap_answer answer) {
    if (call_ != store_call::compare_and_swap) return;
    if (!answer) {  // unknown: did it take effect? read back and look for our write id
      phase_ = phase::read_back;
      call_ = store_call::load;
      return;
    }
    if (*answer) return end_with_pending();
    next_round();  // lost the race: decide again on the new record
  }

  /// Fires the events and gives the answer (once).
  [[nodiscard]] result<T> finish() {
    for (const auto& e : done_.events) ctx_.emit(e);
    done_.events.clear();
    if (info_ != nullptr) info_->retry_after = done_.retry_after;
    if (!done_.outcome) done_.outcome.with_retry_after(done_.retry_after);
    return std::move(done_.outcome);
  }

  /// The end state without firing anything (for an operation that embeds this one).
  [[nodiscard]] completion<T>& completed() noexcept { return done_; }

 protected:
  account_update(Ctx ctx, std::string_view user, attempt_info* info)
      : ctx_(ctx), key_(keyable(user)), info_(info) {
    if (auto e = failed_self_test(ctx_, user)) {
      decision<T> d = flow::detail::refuse<T>(make_error_code(errc::crypto_failure));
      d.events.push_back(std::move(*e));
      end(std::move(d));
    } else if (!valid_user(user)) {
      end(errc::invalid_argument);
    }
  }

  /// Starts on a record the caller already loaded (complete_login).
  void start_with(std::optional<account_record> record, std::uint64_t version) {
    if (call_ == store_call::load) decide_on(std::move(record), version);
  }

  [[nodiscard]] const Ctx& ctx() const noexcept { return ctx_; }
  [[nodiscard]] static bool kept(const account_record& /*stored*/) noexcept { return false; }

 private:
  enum class phase : std::uint8_t { load, read_back };

  void decide_on(std::optional<account_record> record, std::uint64_t version) {
    loaded_version_ = version;
    decision<T> d = static_cast<Derived&>(*this).decide(record, ctx_.now());
    if (!d.next) return end(std::move(d));
    if (!ctx_.write_ids->next(*ctx_.rng, mine_)) return end(errc::random_failure);
    d.next->written_by = mine_;
    bytes_ = encode(*d.next);
    pending_.emplace(std::move(d));
    call_ = store_call::compare_and_swap;
  }

  void read_back(std::optional<account_record> stored, std::uint64_t version) {
    if (stored && stored->written_by == mine_ && mine_ != write_id{}) return end_with_pending();  // ours is stored
    if (version == loaded_version_) {  // nothing landed since we loaded: decide again on it
      if (++round_ >= ctx_.cfg->max_retries) return end(errc::storage_conflict);
      phase_ = phase::load;
      return decide_on(std::move(stored), version);
    }
    if (stored && static_cast<const Derived&>(*this).kept(*stored)) return end_with_pending();
    end(errc::storage_failure);  // unknown whether our write was ever stored: no success
  }

  void next_round() {
    if (++round_ >= ctx_.cfg->max_retries) return end(errc::storage_conflict);
    pending_.reset();
    bytes_.reset();
    phase_ = phase::load;
    call_ = store_call::load;
  }

  void end_with_pending() { end(std::move(*pending_)); }
  void end(decision<T>&& d) {
    done_.outcome = std::move(d.outcome);
    done_.events = std::move(d.events);
    done_.retry_after = d.retry_after;
    pending_.reset();
    bytes_.reset();
    call_ = store_call::none;
  }
  void end(std::error_code ec) { end(flow::detail::refuse<T>(ec)); }
  void end(errc e) { end(make_error_code(e)); }

  Ctx ctx_;
  detail::account_key_buffer key_;
  attempt_info* info_;
  store_call call_ = store_call::load;
  phase phase_ = phase::load;
  unsigned round_ = 0;
  std::uint64_t loaded_version_ = 0;
  write_id mine_{};
  std::optional<std::string> bytes_;
  std::optional<decision<T>> pending_;
  completion<T> done_;
};

/// Whether a stored record still holds the code set a batch made.
[[nodiscard]] inline bool holds_set(const account_record& stored, const std::optional<backup_batch>& batch) noexcept {
  return batch && stored.status == account_status::enabled && !stored.backup.digests.empty() &&
         stored.backup.salt == batch->digests.salt;
}

}  // namespace detail

// --- the account operations ---------------------------------------------------

/// POST .../totp/setup
template <class Ctx>
class setup_operation : public detail::account_update<setup_operation<Ctx>, setup_result, Ctx> {
  using base = detail::account_update<setup_operation<Ctx>, setup_result, Ctx>;
  friend base;

 public:
  setup_operation(Ctx ctx, std::string_view user, std::string_view account_name)
      : base(ctx, user, nullptr), user_(user), account_name_(account_name) {}

 private:
  decision<setup_result> decide(std::optional<account_record>& current, std::int64_t now) {
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
  enable_operation(Ctx ctx, std::string_view user, std::string_view code, attempt_info* info = nullptr)
      : base(ctx, user, info), user_(user), code_(code) {}

 private:
  decision<enable_result> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::enable(current, user_, code_, now, *this->ctx().cfg, *this->ctx().rng, &batch_);
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
  verify_operation(Ctx ctx, std::string_view user, std::string_view code, factor via, attempt_info* info = nullptr)
      : base(ctx, user, info), user_(user), code_(code), via_(via) {}

  /// complete_login: verify on the record it already loaded.
  void start_with(std::optional<account_record> record, std::uint64_t version) {
    base::start_with(std::move(record), version);
  }

 private:
  decision<login_result> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::verify(std::move(current), user_, code_, via_, now, *this->ctx().cfg);
  }
  std::string_view user_, code_;
  factor via_;
};

/// POST .../totp/disable
template <class Ctx>
class disable_operation : public detail::account_update<disable_operation<Ctx>, void, Ctx> {
  using base = detail::account_update<disable_operation<Ctx>, void, Ctx>;
  friend base;

 public:
  disable_operation(Ctx ctx, std::string_view user) : base(ctx, user, nullptr), user_(user) {}

 private:
  decision<void> decide(std::optional<account_record>& current, std::int64_t now) {
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
  regenerate_operation(Ctx ctx, std::string_view user) : base(ctx, user, nullptr), user_(user) {}

 private:
  decision<regenerate_result> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::regenerate(current, user_, now, *this->ctx().cfg, *this->ctx().rng, &batch_);
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
  reset_throttle_operation(Ctx ctx, std::string_view user) : base(ctx, user, nullptr) {}

 private:
  decision<void> decide(std::optional<account_record>& current, std::int64_t /*now*/) {
    return flow::reset_throttle(current);
  }
};

/// Key rotation: the secret sealed again under the current key.
template <class Ctx>
class reseal_operation : public detail::account_update<reseal_operation<Ctx>, bool, Ctx> {
  using base = detail::account_update<reseal_operation<Ctx>, bool, Ctx>;
  friend base;

 public:
  reseal_operation(Ctx ctx, std::string_view user) : base(ctx, user, nullptr), user_(user) {}

 private:
  decision<bool> decide(std::optional<account_record>& current, std::int64_t now) {
    return flow::reseal(current, user_, now, *this->ctx().cfg, *this->ctx().rng);
  }
  std::string_view user_;
};

// --- reads and challenges -----------------------------------------------------

/// GET .../mfa/status: one load.
template <class Ctx>
class status_operation {
 public:
  using value_type = status_result;

  status_operation(Ctx ctx, std::string_view user) : ctx_(ctx), key_(detail::keyable(user)) {
    refusal_ = detail::failed_self_test(ctx_, user);
    if (refusal_) {
      end(errc::crypto_failure);
    } else if (!detail::valid_user(user)) {
      end(errc::invalid_argument);
    }
  }
  [[nodiscard]] store_call wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept { return key_.view(); }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return 0; }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return none_; }
  void on_load(load_answer answer) {
    if (call_ != store_call::load) return;
    if (!answer) return end(errc::storage_failure);
    if (!*answer) return end(flow::status(std::nullopt));
    auto record = decode_account((*answer)->bytes);
    if (!record) return end(record.error());
    end(flow::status(*record));
  }
  void on_swap(swap_answer /*answer*/) {}
  [[nodiscard]] result<status_result> finish() {
    if (refusal_) ctx_.emit(*std::exchange(refusal_, std::nullopt));
    return outcome_;
  }

 private:
  void end(result<status_result> r) {
    outcome_ = r;
    call_ = store_call::none;
  }
  Ctx ctx_;
  std::optional<event> refusal_;  ///< the self-test's event, fired by finish()
  detail::account_key_buffer key_;
  store_call call_ = store_call::load;
  std::optional<std::string> none_;
  result<status_result> outcome_ = errc::storage_conflict;
};

/// After the password checked out: a challenge when TOTP is enabled,
/// errc::not_enabled when the host should log the user in directly.
template <class Ctx>
class begin_login_operation {
 public:
  using value_type = challenge_result;

  begin_login_operation(Ctx ctx, std::string_view user)
      : ctx_(ctx), user_(user), account_key_(detail::keyable(user)) {
    refusal_ = detail::failed_self_test(ctx_, user);
    if (refusal_) {
      end(errc::crypto_failure);
    } else if (!detail::valid_user(user)) {
      end(errc::invalid_argument);
    }
  }
  [[nodiscard]] store_call wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept {
    return call_ == store_call::load ? account_key_.view() : std::string_view(challenge_key_);
  }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return 0; }  // the challenge is new
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return bytes_; }

  void on_load(load_answer answer) {
    if (call_ != store_call::load) return;
    if (!answer) return end(errc::storage_failure);
    std::optional<account_record> account;
    if (*answer) {
      auto decoded = decode_account((*answer)->bytes);
      if (!decoded) return end(decoded.error());
      account = std::move(*decoded);
    }
    now_ = ctx_.now();
    auto made = flow::begin_challenge(account, user_, now_, *ctx_.cfg, *ctx_.rng);
    if (!made) return end(made.error());
    auto key = challenge_key(made->first.token);
    if (!key) return end(key.error());
    challenge_key_ = std::move(*key);
    bytes_ = encode(made->second);
    issued_.emplace(std::move(made->first));
    call_ = store_call::compare_and_swap;
  }
  void on_swap(swap_answer answer) {
    if (call_ != store_call::compare_and_swap) return;
    // an error: the challenge may or may not exist; its token is not handed
    // out, so it can only expire. false: a token collision (2^-256).
    if (!answer) return end(errc::storage_failure);
    if (!*answer) return end(errc::storage_conflict);
    ctx_.emit(flow::detail::make_event(event_kind::challenge_issued, user_, now_));
    end(std::move(*issued_));
  }
  [[nodiscard]] result<challenge_result> finish() {
    if (refusal_) ctx_.emit(*std::exchange(refusal_, std::nullopt));
    return std::move(outcome_);
  }

 private:
  void end(result<challenge_result> r) {
    outcome_ = std::move(r);
    issued_.reset();
    bytes_.reset();
    call_ = store_call::none;
  }
  Ctx ctx_;
  std::optional<event> refusal_;  ///< the self-test's event, fired by finish()
  std::string_view user_;
  detail::account_key_buffer account_key_;
  std::string challenge_key_;
  std::int64_t now_ = 0;
  store_call call_ = store_call::load;
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

  complete_login_operation(Ctx ctx, std::string_view token, std::string_view code, factor via,
                           attempt_info* info = nullptr)
      : ctx_(ctx), code_(code), via_(via), info_(info) {
    if (auto e = detail::failed_self_test(ctx_, {})) {  // the user is behind the token: not named
      events_.push_back(std::move(*e));
      end(errc::crypto_failure);
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

  [[nodiscard]] store_call wants() const noexcept {
    return step_ == step::verify ? stage_->verify.wants() : call_;
  }
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
    if (call_ != store_call::load) return;
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
    if (call_ != store_call::compare_and_swap) return;
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

  [[nodiscard]] result<login_result> finish() {
    for (const auto& e : events_) ctx_.emit(e);
    events_.clear();
    if (info_ != nullptr) info_->retry_after = retry_after_;
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
    call_ = store_call::compare_and_swap;
  }

  void after_verify_call() {
    if (stage_->verify.wants() != store_call::none) return;
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
    call_ = store_call::load;
  }

  void on_challenge_before_delete(std::optional<stored_record> stored) {
    // gone: another attempt on it completed first; this one is no login
    if (!stored) return end(errc::challenge_invalid);
    challenge_version_ = stored->version;
    bytes_.reset();  // delete
    step_ = step::remove;
    call_ = store_call::compare_and_swap;
  }

  void next_round(step from) {
    if (++round_ >= ctx_.cfg->max_retries) return end(errc::storage_conflict);
    step_ = from;
    call_ = store_call::load;
  }

  void end(result<login_result> r) {
    outcome_ = std::move(r);
    step_ = step::done;
    call_ = store_call::none;
    bytes_.reset();
    stage_.reset();
  }
  void end(std::error_code ec) { end(result<login_result>(ec)); }
  void end(errc e) { end(make_error_code(e)); }

  Ctx ctx_;
  std::string_view code_;
  factor via_;
  attempt_info* info_;
  std::string challenge_key_;
  std::optional<detail::account_key_buffer> account_key_;
  step step_ = step::load_challenge;
  store_call call_ = store_call::load;
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

/// What the loops accept: an object with the calls above.
template <class Op>
concept store_operation = requires(Op& op, load_answer l, swap_answer s) {
  typename Op::value_type;
  { op.wants() } -> std::same_as<store_call>;
  { op.key() } -> std::same_as<std::string_view>;
  { op.expected_version() } -> std::same_as<std::uint64_t>;
  { op.next_bytes() } -> std::same_as<const std::optional<std::string>&>;
  op.on_load(std::move(l));
  op.on_swap(s);
  { op.finish() } -> std::same_as<result<typename Op::value_type>>;
};

namespace detail {
/// A store call's answer; a throwing store is a failing store.
template <class Answer, class Call>
[[nodiscard]] Answer answer_or_failure(Call&& call) noexcept {
  try {
    return Answer(call());
  } catch (...) {
    return Answer(store_failure());
  }
}
}  // namespace detail

/// The synchronous loop: runs an operation to its end against a store whose
/// calls return their answers. A store that throws is a store failure.
template <record_store Store, store_operation Op>
[[nodiscard]] result<typename Op::value_type> run(Store& store, Op& op) {
  for (;;) {
    switch (op.wants()) {
      case store_call::load:
        op.on_load(detail::answer_or_failure<load_answer>([&] { return store.load(op.key()); }));
        break;
      case store_call::compare_and_swap:
        op.on_swap(detail::answer_or_failure<swap_answer>(
            [&] { return store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()); }));
        break;
      case store_call::none: return op.finish();
    }
  }
}

}  // namespace mfakit
