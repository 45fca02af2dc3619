// The synchronous driver most hosts call: for each request it loads the
// record, runs the pure transition (transitions.hpp) and stores the result
// with compare-and-swap, retrying a bounded number of times when another
// request won the race. Nothing is reported as a success, and no backup code
// is handed out, unless the write that makes it true was stored. A store that
// fails or throws turns into errc::storage_failure with nothing changed.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/records.hpp"
#include "mfakit/store.hpp"
#include "mfakit/transitions.hpp"

namespace mfakit {

namespace detail {
/// account_key() on the stack, for the request path (a key is built per
/// request; a heap string for it was one allocation of every login). A user
/// id longer than max_user_id_bytes (the service refuses those first) gets
/// its key on the heap: never a truncated, shared key.
class account_key_buffer {
 public:
  static constexpr std::string_view prefix = "mfakit/account/";
  explicit account_key_buffer(std::string_view user) : size_(prefix.size() + 2 * user.size()) {
    char* p = buf_.data();
    if (size_ > buf_.size()) {
      large_.resize(size_);
      p = large_.data();
    }
    constexpr std::string_view digits = "0123456789abcdef";
    p = std::copy(prefix.begin(), prefix.end(), p);
    for (char c : user) {
      const auto b = static_cast<unsigned char>(c);
      *p++ = digits[b >> 4U];
      *p++ = digits[b & 0xFU];
    }
  }
  account_key_buffer(const account_key_buffer&) = delete;  // view() points into buf_
  account_key_buffer& operator=(const account_key_buffer&) = delete;
  account_key_buffer(account_key_buffer&&) = delete;
  account_key_buffer& operator=(account_key_buffer&&) = delete;
  ~account_key_buffer() = default;
  [[nodiscard]] std::string_view view() const noexcept { return {large_.empty() ? buf_.data() : large_.data(), size_}; }

 private:
  std::array<char, prefix.size() + 2 * max_user_id_bytes> buf_;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  std::string large_;
  std::size_t size_;
};
}  // namespace detail

/// Store key of a user's account record. The user id is hex-encoded, so a
/// database whose keys compare case-insensitively, ignore trailing spaces or
/// stop at a NUL still gives every user id its own row.
[[nodiscard]] inline std::string account_key(std::string_view user) {
  return std::string(detail::account_key_buffer(user).view());  // one encoding for both
}

template <record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random>
class service {
 public:
  service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : store_(store), cfg_(std::move(config)), clock_(std::move(clock)), rng_(std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return cfg_; }

  /// A new pending secret and key URI. `account_name` is what the app shows
  /// (an email address, say); errc::invalid_argument when it is empty or a
  /// key URI cannot carry it (check_key_uri: control or bidirectional
  /// characters, invalid UTF-8, leading spaces, too long).
  [[nodiscard]] result<setup_result> setup(std::string_view user, std::string_view account_name) {
    return update<setup_result>(user, [&](const std::optional<account_record>& cur, std::int64_t now) {
      return flow::setup(cur, user, account_name, now, cfg_, rng_);
    });
  }

  /// Enables TOTP with a code from the app; returns the backup codes, once.
  [[nodiscard]] result<enable_result> enable(std::string_view user, std::string_view code,
                                             attempt_info* info = nullptr) {
    std::optional<backup_batch> batch;  // made at most once, however many rounds
    return update<enable_result>(
        user,
        [&](const std::optional<account_record>& cur, std::int64_t now) {
          return flow::enable(cur, user, code, now, cfg_, rng_, &batch);
        },
        std::nullopt, info);
  }

  /// Removes the secret and all backup codes (check the password first).
  [[nodiscard]] result<void> disable(std::string_view user) {
    return update<void>(user, [&](const std::optional<account_record>& cur, std::int64_t now) {
      return flow::disable(cur, user, now);
    });
  }

  /// Replaces every backup code (check the password first).
  [[nodiscard]] result<regenerate_result> regenerate_backup_codes(std::string_view user) {
    std::optional<backup_batch> batch;
    return update<regenerate_result>(user, [&](const std::optional<account_record>& cur, std::int64_t now) {
      return flow::regenerate(cur, user, now, cfg_, rng_, &batch);
    });
  }

  /// An administrator's unlock: clears the failure count (and so any delay
  /// or lock). errc::not_enabled when there is nothing to unlock.
  [[nodiscard]] result<void> reset_throttle(std::string_view user) {
    return update<void>(user, [&](const std::optional<account_record>& cur, std::int64_t /*now*/) {
      return flow::reset_throttle(cur);
    });
  }

  /// After a key rotation: seals the user's secret again under the current
  /// key (true), or leaves a record already under it alone (false). Run it
  /// over every user with a secret, then retire the old key from the ring.
  /// errc::not_enabled when the user has no secret (nothing to move).
  [[nodiscard]] result<bool> reseal(std::string_view user) {
    return update<bool>(user, [&](const std::optional<account_record>& cur, std::int64_t now) {
      return flow::reseal(cur, user, now, cfg_, rng_);
    });
  }

  [[nodiscard]] result<status_result> status(std::string_view user) {
    if (!valid_user(user)) return errc::invalid_argument;
    auto loaded = load_account(user);
    if (!loaded) return loaded.error();
    return flow::status(loaded->first);
  }

  /// Checks a second factor for a user without a login challenge (step-up
  /// checks before a sensitive action). Same rules as a login: replay,
  /// single-use backup codes, throttling.
  [[nodiscard]] result<login_result> verify(std::string_view user, std::string_view code, factor via = factor::totp,
                                            attempt_info* info = nullptr) {
    return update<login_result>(
        user,
        [&](std::optional<account_record>& cur, std::int64_t now) {
          return flow::verify(std::move(cur), user, code, via, now, cfg_);
        },
        std::nullopt, info);
  }

  /// After the password checked out: a challenge when TOTP is enabled,
  /// errc::not_enabled when the host should log the user in directly.
  [[nodiscard]] result<challenge_result> begin_login(std::string_view user) {
    if (!valid_user(user)) return errc::invalid_argument;
    auto loaded = load_account(user);
    if (!loaded) return loaded.error();
    const std::int64_t now = unix_seconds(clock_.now());
    auto made = flow::begin_challenge(loaded->first, user, now, cfg_, rng_);
    if (!made) return made.error();
    auto key = flow::challenge_key(made->first.token);
    if (!key) return key.error();
    auto stored = guarded([&] { return store_.compare_and_swap(*key, 0, encode(made->second)); });
    if (!stored) return stored.error();
    if (!*stored) return errc::storage_conflict;  // a token collision: 2^-256
    emit(flow::detail::make_event(event_kind::challenge_issued, user, now));
    return std::move(made->first);
  }

  /// POST /api/auth/mfa/verify: the second factor for a challenge. On
  /// success the challenge is gone and the host issues its session.
  [[nodiscard]] result<login_result> complete_login(std::string_view token, std::string_view code,
                                                    factor via = factor::totp, attempt_info* info = nullptr) {
    if (flow::detail::blank(token)) return errc::missing_token;
    if (flow::detail::blank(code)) return errc::missing_code;
    if (!flow::well_formed_token(token)) return errc::challenge_invalid;
    auto key = flow::challenge_key(token);
    if (!key) return key.error();

    for (unsigned round = 0; round < cfg_.max_retries; ++round) {
      // 1. the challenge: alive, attempts left
      auto loaded = guarded([&] { return store_.load(*key); });
      if (!loaded) return loaded.error();
      std::optional<challenge_record> challenge;
      if (*loaded) {
        auto c = decode_challenge((*loaded)->bytes);
        if (!c) return c.error();
        challenge = std::move(*c);
      }
      const std::int64_t now = unix_seconds(clock_.now());
      if (auto ok = flow::check_challenge(challenge, now, cfg_); !ok) return ok.error();
      const std::uint64_t challenge_version = (*loaded)->version;

      // 2. the account must still have TOTP, and must not be throttled. Checked
      //    here as well as in flow::verify so a refused attempt spends none of
      //    the challenge's attempts.
      auto account = load_account(challenge->user);
      if (!account) return account.error();
      if (!flow::detail::is_enabled(account->first)) return errc::challenge_invalid;
      bool lock_expired = false;
      if (auto refused = flow::detail::gate<login_result>(*account->first, challenge->user, now, cfg_, lock_expired)) {
        emit_all(refused->events);
        if (info != nullptr) info->retry_after = refused->retry_after;
        return std::move(refused->outcome);
      }

      // 3. spend one attempt of the challenge before looking at the code
      challenge_record spent = *challenge;
      ++spent.attempts;
      auto reserved = guarded([&] { return store_.compare_and_swap(*key, challenge_version, encode(spent)); });
      if (!reserved) return reserved.error();
      if (!*reserved) continue;  // another attempt raced us: start over

      // 4. verify against the account, compare-and-swap it
      auto outcome = update<login_result>(
          challenge->user,
          [&](std::optional<account_record>& cur, std::int64_t at) {
            return flow::verify(std::move(cur), challenge->user, code, via, at, cfg_);
          },
          std::move(account), info);
      if (!outcome) {
        if (outcome.error() == errc::not_enabled) return errc::challenge_invalid;
        if (spent.attempts >= cfg_.challenge_max_attempts &&
            (outcome.error() == errc::code_mismatch || outcome.error() == errc::code_replayed)) {
          emit(flow::detail::make_event(event_kind::challenge_exhausted, challenge->user, now));
        }
        return outcome.error();
      }
      // 5. single use: the challenge goes away. Fail closed: if it cannot be
      //    deleted, or another attempt on it already completed, this one is
      //    no login (its code is spent; the user starts over).
      if (auto gone = remove_challenge(*key); !gone) return gone.error();
      return outcome;
    }
    return errc::storage_conflict;
  }

 private:
  using loaded_account = std::pair<std::optional<account_record>, std::uint64_t>;

  [[nodiscard]] static bool valid_user(std::string_view user) noexcept {
    return !user.empty() && user.size() <= max_user_id_bytes;
  }

  // Runs a store call; an exception becomes storage_failure, a store error too.
  template <class F>
  [[nodiscard]] auto guarded(F&& f) -> decltype(f()) {
    try {
      auto r = f();
      if (!r) return errc::storage_failure;
      return r;
    } catch (...) {
      return errc::storage_failure;
    }
  }

  [[nodiscard]] result<loaded_account> load_account(std::string_view user) {
    return load_account_at(detail::account_key_buffer(user).view());
  }

  [[nodiscard]] result<loaded_account> load_account_at(std::string_view key) {
    auto loaded = guarded([&] { return store_.load(key); });
    if (!loaded) return loaded.error();
    if (!*loaded) return loaded_account{std::nullopt, 0};
    auto record = decode_account((*loaded)->bytes);
    if (!record) return record.error();
    return loaded_account{std::move(*record), (*loaded)->version};
  }

  // After a store error on a write: did the write land anyway (the store
  // failed after committing)? Our bytes under the key prove it: a success
  // record carries fresh randomness (salt, nonce) or a new step. Then the
  // answer is given after all, and no stored backup code goes unseen.
  [[nodiscard]] bool landed(std::string_view key, std::string_view bytes) {
    auto now = guarded([&] { return store_.load(key); });
    return now && *now && (*now)->bytes == bytes;
  }

  // Deletes a challenge; errc::challenge_invalid when it is already gone.
  [[nodiscard]] result<void> remove_challenge(const std::string& key) {
    for (unsigned round = 0; round < cfg_.max_retries; ++round) {
      auto loaded = guarded([&] { return store_.load(key); });
      if (!loaded) return loaded.error();
      if (!*loaded) return errc::challenge_invalid;
      const std::optional<std::string> none;  // (a named empty value: GCC 12 -Wmaybe-uninitialized)
      auto done = guarded([&] { return store_.compare_and_swap(key, (*loaded)->version, none); });
      if (!done) return done.error();
      if (*done) return {};
    }
    return errc::storage_conflict;
  }

  // load -> decide -> compare-and-swap, retried on a lost race. `decide`
  // may move from the loaded record (each round loads its own).
  template <class T, class Decide>
  [[nodiscard]] result<T> update(std::string_view user, Decide&& decide,
                                 std::optional<result<loaded_account>> first = std::nullopt,
                                 attempt_info* info = nullptr) {
    if (!valid_user(user)) return errc::invalid_argument;
    const detail::account_key_buffer key_buffer(user);
    const std::string_view key = key_buffer.view();
    for (unsigned round = 0; round < cfg_.max_retries; ++round) {
      result<loaded_account> loaded = round == 0 && first ? std::move(*first) : load_account_at(key);
      if (!loaded) return loaded.error();
      decision<T> d = decide(loaded->first, unix_seconds(clock_.now()));
      if (d.next) {
        const std::optional<std::string> bytes = encode(*d.next);  // the store's parameter type: not copied
        auto stored = guarded([&] { return store_.compare_and_swap(key, loaded->second, bytes); });
        if (!stored && !landed(key, *bytes)) return stored.error();
        if (stored && !*stored) continue;  // lost the race: decide again on the new record
      }
      emit_all(d.events);
      if (info != nullptr) info->retry_after = d.retry_after;
      return std::move(d.outcome);
    }
    return errc::storage_conflict;
  }

  void emit(const event& e) noexcept {
    if (!cfg_.on_event) return;
    try {
      cfg_.on_event(e);
    } catch (...) {  // a failing audit hook must not undo or hide a stored change
    }
  }
  void emit_all(const std::vector<event>& events) noexcept {
    for (const auto& e : events) emit(e);
  }

  Store& store_;
  flow_config cfg_;
  Clock clock_;
  Rng rng_;
};

}  // namespace mfakit
