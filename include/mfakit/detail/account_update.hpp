// The engine the operations share (operations/account.hpp, login.hpp):
// the refusal every operation starts with, and account_update, the
// load -> decide -> compare-and-swap of every account request:
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
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "mfakit/account_transitions.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/records.hpp"
#include "mfakit/self_test.hpp"
#include "mfakit/store_keys.hpp"

namespace mfakit::detail {

[[nodiscard]] inline bool valid_user(std::string_view user) noexcept {
  return !user.empty() && user.size() <= max_user_id_bytes;
}

/// The user id to build a key from: an invalid one (refused by the
/// operation) is not encoded at all, so an oversized id costs nothing.
[[nodiscard]] inline std::string_view keyable(std::string_view user) noexcept {
  return valid_user(user) ? user : std::string_view{};
}

/// Why an operation ends before its first store call.
struct start_refusal {
  std::error_code error;
  std::optional<event> alert;  ///< self_test_failed, fired when the operation finishes
};

/// Every operation starts here: while the self-test (self_test.hpp) has
/// failed in this process, it ends at once in errc::crypto_failure, before
/// any store call, with an event the host can alert on (naming the user when
/// there is a valid one; `user` empty: the user is behind a token); then an
/// invalid user id (when `check_user`) is errc::invalid_argument.
template <class Ctx>
[[nodiscard]] std::optional<start_refusal> refusal_at_start(const Ctx& ctx, std::string_view user,
                                                            bool check_user = true) {
  if (!self_test_passed())
    return start_refusal{make_error_code(errc::crypto_failure),
                         flow::detail::make_event(event_kind::self_test_failed, keyable(user), ctx.now())};
  if (check_user && !valid_user(user)) return start_refusal{make_error_code(errc::invalid_argument), std::nullopt};
  return std::nullopt;
}

/// The engine of every account request: load -> decide -> compare-and-swap,
/// retried on a lost race, with the authorship check after a store error.
/// `Derived::decide(std::optional<account_record>&, now)` is the pure
/// transition (it may move from the record once it decides); std::nullopt
/// from it means "my costly step first": the operation stops at
/// next_step::compute, `Derived::run_job(record)` runs it (on whatever thread
/// the loop chooses), and decide is asked again on the same record and time.
/// `Derived::kept(stored)` says
/// whether a stored record still holds what this request's answer shows
/// (enable and regenerate: their code set).
template <class Derived, class T, class Ctx>
class account_update {
 public:
  using value_type = T;

  [[nodiscard]] next_step wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept { return key_.view(); }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return loaded_version_; }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return bytes_; }

  /// The costly step the decision waits for; then the decision.
  void compute() {
    if (call_ != next_step::compute) return;
    if (auto ran = static_cast<Derived&>(*this).run_job(held_); !ran) return end(ran.error());
    decide_on(std::move(held_), loaded_version_, now_);
  }

  void on_load(load_answer answer) {
    if (call_ != next_step::load) return;
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
    decide_on(std::move(record), version, ctx_.now());
  }

  void on_swap(swap_answer answer) {
    if (call_ != next_step::compare_and_swap) return;
    if (!answer) {  // unknown: did it take effect? read back and look for our write id
      phase_ = phase::read_back;
      call_ = next_step::load;
      return;
    }
    if (*answer) return end_with_pending();
    next_round();  // lost the race: decide again on the new record
  }

  /// Fires the events and gives the answer (once).
  [[nodiscard]] result<T> finish() {
    for (const auto& e : done_.events) ctx_.emit(e);
    done_.events.clear();
    if (!done_.outcome) done_.outcome.with_retry_after(done_.retry_after);
    return std::move(done_.outcome);
  }

  /// The end state without firing anything (for an operation that embeds this one).
  [[nodiscard]] completion<T>& completed() noexcept { return done_; }

 protected:
  account_update(Ctx ctx, std::string_view user) : ctx_(ctx), key_(keyable(user)) {
    if (auto refused = refusal_at_start(ctx_, user)) {
      decision<T> d = flow::detail::refuse<T>(refused->error);
      if (refused->alert) d.events.push_back(std::move(*refused->alert));
      end(std::move(d));
    }
  }

  /// Starts on a record the caller already loaded (complete_login).
  void start_with(std::optional<account_record> record, std::uint64_t version) {
    if (call_ == next_step::load) decide_on(std::move(record), version, ctx_.now());
  }

  [[nodiscard]] const Ctx& ctx() const noexcept { return ctx_; }
  [[nodiscard]] static bool kept(const account_record& /*stored*/) noexcept { return false; }
  [[nodiscard]] static result<void> run_job(const std::optional<account_record>& /*current*/) { return {}; }

 private:
  enum class phase : std::uint8_t { load, read_back };

  void decide_on(std::optional<account_record> record, std::uint64_t version, std::int64_t now) {
    loaded_version_ = version;
    now_ = now;
    std::optional<decision<T>> decided = static_cast<Derived&>(*this).decide(record, now);
    if (!decided) {  // its costly step first, then the same decision again
      held_ = std::move(record);
      call_ = next_step::compute;
      return;
    }
    decision<T>& d = *decided;
    held_.reset();
    if (!d.next) return end(std::move(d));
    if (!ctx_.write_ids->next(*ctx_.rng, mine_)) return end(errc::random_failure);
    d.next->written_by = mine_;
    bytes_ = encode(*d.next);
    pending_.emplace(std::move(d));
    call_ = next_step::compare_and_swap;
  }

  void read_back(std::optional<account_record> stored, std::uint64_t version) {
    if (stored && stored->written_by == mine_ && mine_ != write_id{}) return end_with_pending();  // ours is stored
    if (version == loaded_version_) {  // nothing landed since we loaded: decide again on it
      if (++round_ >= ctx_.max_retries) return end(errc::storage_conflict);
      phase_ = phase::load;
      return decide_on(std::move(stored), version, ctx_.now());
    }
    if (stored && static_cast<const Derived&>(*this).kept(*stored)) return end_with_pending();
    end(errc::storage_failure);  // unknown whether our write was ever stored: no success
  }

  void next_round() {
    if (++round_ >= ctx_.max_retries) return end(errc::storage_conflict);
    pending_.reset();
    bytes_.reset();
    phase_ = phase::load;
    call_ = next_step::load;
  }

  void end_with_pending() { end(std::move(*pending_)); }
  void end(decision<T>&& d) {
    done_.outcome = std::move(d.outcome);
    done_.events = std::move(d.events);
    done_.retry_after = d.retry_after;
    pending_.reset();
    bytes_.reset();
    held_.reset();
    call_ = next_step::done;
  }
  void end(std::error_code ec) { end(flow::detail::refuse<T>(ec)); }
  void end(errc e) { end(make_error_code(e)); }

  Ctx ctx_;
  detail::account_key_buffer key_;
  next_step call_ = next_step::load;
  phase phase_ = phase::load;
  unsigned round_ = 0;
  std::uint64_t loaded_version_ = 0;
  std::int64_t now_ = 0;                ///< the time the pending decision is made at
  std::optional<account_record> held_;  ///< the record a decision waits on while its job runs
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

}  // namespace mfakit::detail
