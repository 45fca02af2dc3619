// The account transitions, pure: (record, request, now, config,
// randomness) -> decision (the record to store, the answer, the events). No
// I/O, no clock, no globals; the operations of operation.hpp run them.
//  - setup issues a pending secret (replacing an unverified one), never while enabled;
//  - enable verifies against the pending secret, burns the matched step and
//    issues fresh backup codes, stored only as digests;
//  - a login accepts a TOTP step only after the last accepted one (RFC 6238
//    5.2) or a remaining backup code, once;
//  - consecutive failures are throttled per account (throttle.hpp), checked
//    before any HMAC or KDF work; only a success resets them.
//  - each accepted TOTP code's offset from the server's step is kept (the
//    last four, records.hpp); three in a row a step behind, or ahead, is a
//    clock drift (clock_drift_of), reported by status and by one event when
//    it appears. It only reports: the window stays what the config says.
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
#include "mfakit/flow_types.hpp"
#include "mfakit/key_uri.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/throttle.hpp"

namespace mfakit::flow {

/// How many of the newest accepted codes must be off the same way before
/// the clock counts as drifting: one off code is a slow typist or a code
/// read just before its step ended; three in a row is the phone's clock.
inline constexpr std::size_t drift_run = 3;
static_assert(drift_run <= offset_history::capacity);

/// The drift the history shows: the direction its drift_run newest entries
/// share, none when there are fewer or they differ or are on time.
[[nodiscard]] constexpr drift_direction clock_drift_of(const offset_history& h) noexcept {
  if (h.size() < drift_run) return drift_direction::none;
  const int first = h[0];
  for (std::size_t i = 1; i < drift_run; ++i)
    if (h[i] != first) return drift_direction::none;
  return first < 0 ? drift_direction::behind : first > 0 ? drift_direction::ahead : drift_direction::none;
}

namespace detail {
[[nodiscard]] inline bool blank(std::string_view s) noexcept {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

[[nodiscard]] inline event make_event(event_kind k, std::string_view user, std::int64_t now) {
  event e;
  e.kind = k;
  e.user = std::string(user);
  e.at = now;
  return e;
}

template <class T>
[[nodiscard]] decision<T> refuse(std::error_code ec) {
  return decision<T>{std::nullopt, ec, {}, 0};
}

/// The throttle gate. Returns a refusal (no write) while throttled or locked.
template <class T>
[[nodiscard]] std::optional<decision<T>> gate(const account_record& r, std::string_view user, std::int64_t now,
                                              const flow_config& cfg, bool& lock_expired) {
  const throttle_verdict v = check_throttle(cfg.throttle, {r.failures, r.last_failure}, now);
  lock_expired = v.lock_expired;
  if (v.what == throttle_verdict::kind::allowed) return std::nullopt;
  auto d = refuse<T>(v.what == throttle_verdict::kind::locked ? errc::locked : errc::throttled);
  d.retry_after = v.retry_after;
  event e = make_event(event_kind::throttled, user, now);
  e.retry_after = v.retry_after;
  e.failures = r.failures;
  d.events.push_back(std::move(e));
  return d;
}

/// The record after a failed attempt, and its events.
[[nodiscard]] inline account_record with_failure(account_record r, std::string_view user, std::int64_t now,
                                                 const flow_config& cfg, bool lock_expired, factor via, bool replayed,
                                                 std::vector<event>& events) {
  r.failures = (lock_expired ? 0 : r.failures) + 1;
  r.last_failure = now;
  event e = make_event(replayed ? event_kind::code_replayed : event_kind::code_rejected, user, now);
  e.via = via;
  e.reason = replayed ? reject_reason::replayed : reject_reason::mismatch;
  e.failures = r.failures;
  events.push_back(e);
  if (cfg.throttle.lock_after != 0 && r.failures == cfg.throttle.lock_after) {
    e.kind = event_kind::locked;
    e.reason = reject_reason::none;
    events.push_back(std::move(e));
  }
  return r;
}

[[nodiscard]] inline event malformed_event(std::string_view user, std::int64_t now, factor via) {
  event e = make_event(event_kind::code_rejected, user, now);
  e.via = via;
  e.reason = reject_reason::malformed;
  return e;
}

/// Checks a TOTP code against the record's secret: the matched step, or why not.
[[nodiscard]] inline result<std::uint64_t> check_totp(const account_record& r, std::string_view user,
                                                      std::string_view code, std::int64_t now, const flow_config& cfg) {
  std::array<unsigned char, max_secret_bytes> key{};  // unsealed on the stack, wiped here
  auto n = cfg.box.open_into(user, r.sealed_secret, key);
  if (!n) return n.error();
  auto step = verify_totp(byte_view(key.data(), *n), code, now, totp_params{r.alg, r.digits, r.period, 0},
                          totp_verify_options{cfg.window, r.last_step});
  cleanse(key.data(), key.size());
  return step;
}

/// Records where an accepted step fell against `now` in the record that
/// burns it (so a replay, refused before, changes nothing); the clock_drift
/// event when this acceptance makes a drift appear.
[[nodiscard]] inline std::optional<event> note_offset(account_record& r, std::uint64_t step, std::string_view user,
                                                      std::int64_t now) {
  const auto current = totp_step(now, totp_params{r.alg, r.digits, r.period, 0});
  if (!current) return std::nullopt;  // cannot happen once a code matched at `now`
  const drift_direction before = clock_drift_of(r.offsets);
  r.offsets.push(step < *current ? -1 : step > *current ? 1 : 0);
  const drift_direction after = clock_drift_of(r.offsets);
  if (after == drift_direction::none || after == before) return std::nullopt;
  event e = make_event(event_kind::clock_drift, user, now);
  e.drift = after;
  return e;
}

/// The costly step of enable and regenerate: a fresh batch of codes and
/// their digests (one scrypt run per code) into `out`.
template <random_source R>
[[nodiscard]] result<void> make_backup_batch(const flow_config& cfg, R& rng, std::optional<backup_batch>& out) {
  auto codes = generate_backup_codes(cfg.backup_code_count, rng);
  if (!codes) return codes.error();
  auto digests = cfg.hasher.digest(*codes, cfg.box.backup_code_peppers(), rng);
  if (!digests) return digests.error();
  out = backup_batch{std::move(*codes), std::move(*digests)};
  return {};
}

/// A copy of the batch this request made (the request keeps its own for
/// later rounds).
[[nodiscard]] inline backup_batch copy_of(const backup_batch& b) { return backup_batch{b.codes, b.digests}; }

[[nodiscard]] inline bool is_enabled(const std::optional<account_record>& r) noexcept {
  return r && r->status == account_status::enabled;
}
}  // namespace detail

/// POST .../totp/setup: a fresh pending secret and its key URI.
template <random_source R>
[[nodiscard]] decision<setup_result> setup(const std::optional<account_record>& current, std::string_view user,
                                           std::string_view account_name, std::int64_t now, const flow_config& cfg,
                                           R& rng) {
  if (detail::is_enabled(current)) return detail::refuse<setup_result>(errc::already_enabled);
  if (account_name.empty() || user.empty()) return detail::refuse<setup_result>(errc::invalid_argument);
  auto key = secret::generate(cfg.secret_bytes, rng);
  if (!key) return detail::refuse<setup_result>(key.error());
  auto sealed = cfg.box.seal(user, *key, rng);
  if (!sealed) return detail::refuse<setup_result>(sealed.error());
  account_record next;
  next.status = account_status::pending;
  next.sealed_secret = std::move(*sealed);
  next.alg = cfg.alg;
  next.digits = cfg.digits;
  next.period = cfg.period;
  if (current) {  // a new setup must not wipe the failure count
    next.failures = current->failures;
    next.last_failure = current->last_failure;
  }
  key_uri uri;
  uri.issuer = cfg.issuer;
  uri.account = std::string(account_name);
  uri.key = key->clone();
  uri.alg = cfg.alg;
  uri.digits = cfg.digits;
  uri.period = cfg.period;
  // An account name (or configured issuer) a key URI cannot carry as it is:
  // control or bidirectional characters, invalid UTF-8, leading spaces...
  if (!check_key_uri(uri)) return detail::refuse<setup_result>(errc::invalid_argument);
  setup_result out{std::move(*key), to_string(uri)};
  decision<setup_result> d{std::move(next), std::move(out), {}, 0};
  d.events.push_back(detail::make_event(event_kind::setup, user, now));
  return d;
}

namespace detail {
/// The rules of enable up to its costly step: std::nullopt when the code
/// checked out and `batch` is still empty (make it, then decide again on
/// the same record and time); otherwise the decision, with a copy of the batch.
[[nodiscard]] inline std::optional<decision<enable_result>> enable_step(const std::optional<account_record>& current,
                                                                        std::string_view user, std::string_view code,
                                                                        std::int64_t now, const flow_config& cfg,
                                                                        const std::optional<backup_batch>& batch) {
  if (blank(code)) return refuse<enable_result>(errc::missing_code);
  if (!current || current->status == account_status::disabled) return refuse<enable_result>(errc::not_pending);
  if (current->status == account_status::enabled) return refuse<enable_result>(errc::already_enabled);
  bool lock_expired = false;
  if (auto refused = gate<enable_result>(*current, user, now, cfg, lock_expired)) return std::move(*refused);

  auto step = check_totp(*current, user, code, now, cfg);
  if (!step) {
    const std::error_code ec = step.error();
    decision<enable_result> d = refuse<enable_result>(ec);
    if (ec == errc::malformed_code) {
      d.events.push_back(malformed_event(user, now, factor::totp));
    } else if (ec == errc::code_mismatch || ec == errc::code_replayed) {
      d.next = with_failure(*current, user, now, cfg, lock_expired, factor::totp, ec == errc::code_replayed, d.events);
    }
    return d;
  }
  if (!batch) return std::nullopt;
  backup_batch fresh = copy_of(*batch);
  account_record next = *current;
  next.status = account_status::enabled;
  next.last_step = *step;
  next.backup = std::move(fresh.digests);
  next.failures = 0;
  next.last_failure = 0;
  std::optional<event> drift = note_offset(next, *step, user, now);
  decision<enable_result> d{std::move(next), enable_result{std::move(fresh.codes)}, {}, 0};
  d.events.push_back(make_event(event_kind::code_accepted, user, now));
  if (drift) d.events.push_back(std::move(*drift));
  event e = make_event(event_kind::enabled, user, now);
  e.backup_codes_remaining = cfg.backup_code_count;
  d.events.push_back(std::move(e));
  return d;
}
}  // namespace detail

/// POST .../totp/enable: verify a code against the pending secret. A driver
/// that retries passes `reuse` so the backup codes are made (and their KDF
/// paid) once per request.
template <random_source R>
[[nodiscard]] decision<enable_result> enable(const std::optional<account_record>& current, std::string_view user,
                                             std::string_view code, std::int64_t now, const flow_config& cfg, R& rng,
                                             std::optional<backup_batch>* reuse = nullptr) {
  std::optional<backup_batch> own;
  std::optional<backup_batch>& batch = reuse != nullptr ? *reuse : own;
  if (auto d = detail::enable_step(current, user, code, now, cfg, batch)) return std::move(*d);
  if (auto made = detail::make_backup_batch(cfg, rng, batch); !made) return detail::refuse<enable_result>(made.error());
  return std::move(*detail::enable_step(current, user, code, now, cfg, batch));
}

namespace detail {
/// The rules of a login's second factor up to its costly step: with a
/// `guess` (the operations), std::nullopt when a backup code needs its KDF
/// run and `guess` holds none for this record's set (digest it, then decide
/// again; `current` is left as it was); without one, the KDF runs here.
/// Moves from `current` once it decides.
[[nodiscard]] inline std::optional<decision<login_result>> verify_step(std::optional<account_record>& current,
                                                                       std::string_view user, std::string_view code,
                                                                       factor via, std::int64_t now,
                                                                       const flow_config& cfg,
                                                                       const backup_guess* guess) {
  if (blank(code)) return refuse<login_result>(errc::missing_code);
  if (!is_enabled(current)) return refuse<login_result>(errc::not_enabled);
  bool lock_expired = false;
  if (auto refused = gate<login_result>(*current, user, now, cfg, lock_expired)) return std::move(*refused);

  account_record& r = *current;  // becomes the record to store
  std::error_code ec;
  std::optional<std::uint64_t> step;
  std::optional<std::size_t> used;
  if (via == factor::totp) {
    auto matched = check_totp(r, user, code, now, cfg);
    if (matched) {
      step = *matched;
    } else {
      ec = matched.error();
    }
  } else {
    if (guess != nullptr && !guess->for_set(r.backup) && backup_code_hasher::needs_kdf(r.backup, code))
      return std::nullopt;
    auto index = guess != nullptr ? cfg.hasher.match(r.backup, code, *guess)
                                  : cfg.hasher.match(r.backup, code, cfg.box.backup_code_peppers());
    if (index) {
      used = *index;
    } else {
      ec = index.error();
    }
  }
  if (ec) {
    decision<login_result> d = refuse<login_result>(ec);
    if (ec == errc::malformed_code) {
      d.events.push_back(malformed_event(user, now, via));
    } else if (ec == errc::code_mismatch || ec == errc::code_replayed) {
      d.next = with_failure(std::move(r), user, now, cfg, lock_expired, via, ec == errc::code_replayed, d.events);
    }
    return d;
  }
  std::optional<event> drift;
  if (step) {
    r.last_step = *step;
    drift = note_offset(r, *step, user, now);
  }
  if (used) r.backup.digests.erase(r.backup.digests.begin() + static_cast<std::ptrdiff_t>(*used));
  r.failures = 0;
  r.last_failure = 0;
  const std::size_t remaining = r.backup.digests.size();
  decision<login_result> d{std::move(current), login_result{std::string(user), via, remaining}, {}, 0};
  event e = make_event(via == factor::totp ? event_kind::code_accepted : event_kind::backup_code_used, user, now);
  e.via = via;
  e.backup_codes_remaining = remaining;
  d.events.push_back(std::move(e));
  if (drift) d.events.push_back(std::move(*drift));
  return d;
}
}  // namespace detail

/// The second factor of a login: a TOTP code or a backup code (its KDF run
/// here). Takes the record by value because the record to store is this one
/// changed in two fields: a caller that has no further use for its copy moves
/// it in, which saves copying the sealed secret and the backup-code digests.
[[nodiscard]] inline decision<login_result> verify(std::optional<account_record> current, std::string_view user,
                                                   std::string_view code, factor via, std::int64_t now,
                                                   const flow_config& cfg) {
  return std::move(*detail::verify_step(current, user, code, via, now, cfg, nullptr));
}

/// POST .../totp/disable (after the host checked the password).
[[nodiscard]] inline decision<void> disable(const std::optional<account_record>& current, std::string_view user,
                                            std::int64_t now) {
  if (!current || current->status == account_status::disabled) return detail::refuse<void>(errc::not_enabled);
  decision<void> d{account_record{}, result<void>{}, {}, 0};
  d.events.push_back(detail::make_event(event_kind::disabled, user, now));
  return d;
}

namespace detail {
/// The rules of regenerate up to its costly step: std::nullopt while
/// `batch` is empty and the account is enabled.
[[nodiscard]] inline std::optional<decision<regenerate_result>> regenerate_step(
    const std::optional<account_record>& current, std::string_view user, std::int64_t now, const flow_config& cfg,
    const std::optional<backup_batch>& batch) {
  if (!is_enabled(current)) return refuse<regenerate_result>(errc::not_enabled);
  if (!batch) return std::nullopt;
  backup_batch fresh = copy_of(*batch);
  account_record next = *current;
  next.backup = std::move(fresh.digests);
  decision<regenerate_result> d{std::move(next), regenerate_result{std::move(fresh.codes)}, {}, 0};
  event e = make_event(event_kind::backup_codes_regenerated, user, now);
  e.backup_codes_remaining = cfg.backup_code_count;
  d.events.push_back(std::move(e));
  return d;
}
}  // namespace detail

/// POST .../backup-codes/regenerate: every earlier code stops working.
template <random_source R>
[[nodiscard]] decision<regenerate_result> regenerate(const std::optional<account_record>& current,
                                                     std::string_view user, std::int64_t now, const flow_config& cfg,
                                                     R& rng, std::optional<backup_batch>* reuse = nullptr) {
  std::optional<backup_batch> own;
  std::optional<backup_batch>& batch = reuse != nullptr ? *reuse : own;
  if (auto d = detail::regenerate_step(current, user, now, cfg, batch)) return std::move(*d);
  if (auto made = detail::make_backup_batch(cfg, rng, batch); !made)
    return detail::refuse<regenerate_result>(made.error());
  return std::move(*detail::regenerate_step(current, user, now, cfg, batch));
}

/// An administrator's unlock: the failure count (and so any delay or lock) cleared.
[[nodiscard]] inline decision<void> reset_throttle(const std::optional<account_record>& current) {
  if (!current || current->status == account_status::disabled) return detail::refuse<void>(errc::not_enabled);
  account_record next = *current;
  next.failures = 0;
  next.last_failure = 0;
  return decision<void>{std::move(next), result<void>{}, {}, 0};
}

/// Key rotation: the secret sealed again under the box's current key (a
/// fresh nonce), nothing else changed; true when it was rewritten, false (and
/// no write) when it already was under the current key and opens. A record
/// the box cannot open (another scheme, an unknown key, damaged) is
/// errc::seal_failure and stays as it is.
template <random_source R>
[[nodiscard]] decision<bool> reseal(const std::optional<account_record>& current, std::string_view user,
                                    std::int64_t now, const flow_config& cfg, R& rng) {
  if (!current || current->status == account_status::disabled) return detail::refuse<bool>(errc::not_enabled);
  if (!cfg.box.needs_reseal(current->sealed_secret)) {
    // nothing to move, if it opens: a record of another scheme or a damaged
    // one must not pass a rotation sweep as done
    std::array<unsigned char, max_secret_bytes> key{};
    auto opened = cfg.box.open_into(user, current->sealed_secret, key);
    cleanse(key.data(), key.size());
    if (!opened) return detail::refuse<bool>(opened.error());
    return decision<bool>{std::nullopt, false, {}, 0};
  }
  auto sealed = cfg.box.reseal(user, current->sealed_secret, rng);
  if (!sealed) return detail::refuse<bool>(sealed.error());
  account_record next = *current;
  next.sealed_secret = std::move(*sealed);
  decision<bool> d{std::move(next), true, {}, 0};
  d.events.push_back(detail::make_event(event_kind::secret_resealed, user, now));
  return d;
}

/// GET .../mfa/status
[[nodiscard]] inline status_result status(const std::optional<account_record>& current) noexcept {
  if (!current) return {};
  const bool enabled = current->status == account_status::enabled;
  status_result s;
  s.totp_enabled = enabled;
  s.setup_pending = current->status == account_status::pending;
  s.backup_codes_remaining = enabled ? current->backup.digests.size() : 0;
  s.clock_drift = enabled ? clock_drift_of(current->offsets) : drift_direction::none;
  return s;
}

}  // namespace mfakit::flow
