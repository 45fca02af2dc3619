// The host's own tables, next to mfakit's records in the same database:
// users with their password hashes, refresh tokens, revoked access tokens
// and the per-account password throttle. Because all of it lives in the
// database (not in process memory), any number of server processes on one
// SQLite file or one PostgreSQL database serve each other's users and tokens.
//
//   mfakit_users          (email PK, password_hash, created_at, session_epoch)
//   mfakit_refresh_tokens (token_hash PK = hex SHA-256 of the token, user_email, family, expires_at, used_at,
//                          epoch, amr)
//   mfakit_revoked_tokens (jti PK, expires_at)       -- access tokens logged out before they expire
//   mfakit_login_throttle (email PK, failures, locked_until, updated_at)
//                          -- keyed "EMAIL\nNETWORK" per account and client network, "EMAIL" for the account
//
// Session epoch: a per-user counter, moved when the second factor or the
// password changes. Each refresh family (one login's session) carries the
// epoch it was created at; a family older than its user's epoch is dead,
// and so are its access tokens (they name their family, claim "fam").
// bump_epoch moves the counter and carries the family of the session that
// made the change over, so that session goes on and every other one ends.
// A family lives at most 30 days from its login: rotation keeps its expiry.
//
// Refresh tokens are random (32 bytes, 64 hex characters) and stored only as
// their SHA-256. Using one marks it used and issues the next one of the same
// family in one atomic step; presenting a used token again (a stolen copy, or
// the thief's after the owner's) revokes the whole family.
//
// Implementations: account_db_sqlite.hpp, account_db_postgres.hpp, and
// memory_account_db below (the in-memory demo). All methods may be called
// from any thread; the request-time ones report database errors as
// errc::storage_failure, the start-up ones throw.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mfakit/errors.hpp>
#include <mfakit/store.hpp>

namespace mfakit_examples {

/// What the password step needs about an email: its hash (none: unknown
/// user) and the per-account throttle.
struct login_row {
  std::optional<std::string> password_hash;
  std::int64_t failures = 0;      ///< of this account from this client network
  std::int64_t locked_until = 0;  ///< the later of the network's and the account's lock
};

enum class refresh_outcome : std::uint8_t { rotated, unknown, reused, expired };

struct refresh_result {
  refresh_outcome outcome = refresh_outcome::unknown;
  std::string user;
  std::string family;
  std::string amr;  ///< space-separated, as add_refresh stored it
};

/// The throttle row of an account from one client network.
[[nodiscard]] inline std::string throttle_key(std::string_view email, std::string_view network) {
  std::string k(email);
  k.push_back('\n');  // no email has a control character (the server refuses them)
  k.append(network);
  return k;
}

/// A stored record that expires (a login challenge, a passkey ceremony), for the sweeper.
struct expiring_row {
  std::string key;
  std::string bytes;
  std::uint64_t version = 0;
};

/// The per-account password throttle: the first four consecutive failures
/// are free, then each one locks the account for 1, 2, 4, ... seconds, at
/// most 15 minutes. A success clears it. Kept for unknown emails too, so its
/// answers do not tell which accounts exist.
///
/// Counted per account and client network (a wrong password from one
/// network does not lock the owner out on another), and per account over all
/// networks with `account_free` free failures (the global cap: a guesser
/// with many networks still gets at most that many cheap guesses).
struct password_throttle {
  static constexpr std::int64_t free_failures = 4;
  static constexpr std::int64_t max_lock_seconds = 900;
  [[nodiscard]] static constexpr std::int64_t lock_after(std::int64_t failures,
                                                         std::int64_t free = free_failures) noexcept {
    if (failures <= free) return 0;
    const std::int64_t shift = std::min<std::int64_t>(failures - free - 1, 10);
    return std::min<std::int64_t>(std::int64_t{1} << shift, max_lock_seconds);
  }
};

/// The keys of one kind of expiring record: those after `prefix` and before
/// `end` (the prefix with its last '/' made '0', the character after it).
struct key_range {
  std::string_view prefix;
  std::string_view end;
  [[nodiscard]] bool contains(std::string_view key) const noexcept { return key > prefix && key < end; }
};
inline constexpr key_range challenge_keys{"mfakit/challenge/", "mfakit/challenge0"};
inline constexpr key_range ceremony_keys{"mfakit/ceremony/", "mfakit/ceremony0"};

class account_db {
 public:
  account_db() = default;
  account_db(const account_db&) = delete;
  account_db& operator=(const account_db&) = delete;
  virtual ~account_db() = default;

  // --- start-up (throw std::runtime_error) ---
  [[nodiscard]] virtual std::optional<std::string> stored_hash(std::string_view email) = 0;
  /// Creates the user, or sets a new password (and moves the session epoch:
  /// every session of the old password ends).
  virtual void put_user(std::string_view email, std::string_view password_hash, std::int64_t now) = 0;
  [[nodiscard]] virtual std::vector<std::string> user_emails() = 0;

  // --- requests ---
  /// The password hash, and the throttle of the account from `network`.
  [[nodiscard]] virtual mfakit::result<login_row> login(std::string_view email, std::string_view network) = 0;
  /// The user exists, the access token's jti is not revoked, and its family
  /// is alive at the user's epoch (no family: only while the epoch is 0).
  [[nodiscard]] virtual mfakit::result<bool> session_valid(std::string_view user, std::string_view jti,
                                                           std::string_view family) = 0;
  /// Counts a failed password (for the network and for the account, whose
  /// first `account_free` failures are free); returns the later lock.
  [[nodiscard]] virtual mfakit::result<std::int64_t> login_failed(std::string_view email, std::string_view network,
                                                                  std::int64_t now, std::int64_t account_free) = 0;
  [[nodiscard]] virtual mfakit::result<void> login_succeeded(std::string_view email, std::string_view network) = 0;
  /// The first token of a new family, at the user's current epoch.
  [[nodiscard]] virtual mfakit::result<void> add_refresh(std::string_view token_hash, std::string_view user,
                                                         std::string_view family, std::int64_t expires_at,
                                                         std::string_view amr) = 0;
  /// Uses a token and stores the next one of its family, which keeps the
  /// family's expiry (an absolute lifetime). A family from before the
  /// user's epoch is deleted (outcome expired). An unknown token is answered
  /// without taking a write lock.
  [[nodiscard]] virtual mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash,
                                                                      std::string_view new_hash, std::int64_t now) = 0;
  /// Moves the user's session epoch; `keep_family` (may be empty) moves
  /// with it. Every other session of the user ends.
  [[nodiscard]] virtual mfakit::result<void> bump_epoch(std::string_view user, std::string_view keep_family) = 0;
  /// Replaces the password hash if it is still `old_hash` (a rehash at the
  /// current cost: not a password change, the epoch stays).
  [[nodiscard]] virtual mfakit::result<void> rehash(std::string_view email, std::string_view old_hash,
                                                    std::string_view new_hash) = 0;
  /// Revokes the token's whole family (logout).
  [[nodiscard]] virtual mfakit::result<void> revoke_refresh(std::string_view token_hash) = 0;
  [[nodiscard]] virtual mfakit::result<void> revoke_access(std::string_view jti, std::int64_t expires_at) = 0;

  // --- housekeeping ---
  /// Up to `limit` stored records with keys in `range` after `after`, in key order.
  [[nodiscard]] virtual mfakit::result<std::vector<expiring_row>> expiring(key_range range, std::string_view after,
                                                                           std::size_t limit) = 0;
  /// Deletes expired refresh tokens, revocations and stale throttle rows.
  [[nodiscard]] virtual mfakit::result<std::size_t> sweep(std::int64_t now) = 0;
};

/// Challenge and ceremony keys the in-memory store has seen created
/// (memory_store cannot list its keys); filled by the server's store wrapper.
struct expiring_key_registry {
  std::mutex mutex;
  std::set<std::string, std::less<>> keys;
};

/// The in-memory demo's record store: a memory_store that notes in the
/// registry each challenge and ceremony key it creates and forgets each it deletes.
class registering_memory_store {
 public:
  explicit registering_memory_store(expiring_key_registry& registry) : registry_(registry) {}

  [[nodiscard]] mfakit::memory_store& records() noexcept { return records_; }

  [[nodiscard]] mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    return records_.load(key);
  }
  [[nodiscard]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                      const std::optional<std::string>& next) {
    auto r = records_.compare_and_swap(key, expected, next);
    if (r && *r && (challenge_keys.contains(key) || ceremony_keys.contains(key))) {
      const std::lock_guard lock(registry_.mutex);
      if (next && expected == 0) registry_.keys.emplace(key);
      if (!next) {
        if (auto it = registry_.keys.find(key); it != registry_.keys.end()) registry_.keys.erase(it);
      }
    }
    return r;
  }

 private:
  mfakit::memory_store records_;
  expiring_key_registry& registry_;
};
static_assert(mfakit::record_store<registering_memory_store>);

/// Everything in process memory: the demo with `--db memory` (one process).
class memory_account_db final : public account_db {
 public:
  memory_account_db(mfakit::memory_store& records, expiring_key_registry& registry)
      : records_(records), registry_(registry) {}

  std::optional<std::string> stored_hash(std::string_view email) override {
    const std::lock_guard lock(mutex_);
    auto it = users_.find(email);
    if (it == users_.end()) return std::nullopt;
    return it->second.hash;
  }
  void put_user(std::string_view email, std::string_view hash, std::int64_t /*now*/) override {
    const std::lock_guard lock(mutex_);
    auto [it, fresh] = users_.try_emplace(std::string(email));
    if (!fresh) ++it->second.epoch;
    it->second.hash = std::string(hash);
  }
  std::vector<std::string> user_emails() override {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [email, u] : users_) out.push_back(email);
    return out;
  }

  mfakit::result<login_row> login(std::string_view email, std::string_view network) override {
    const std::lock_guard lock(mutex_);
    login_row r;
    if (auto it = users_.find(email); it != users_.end()) r.password_hash = it->second.hash;
    if (auto it = throttle_.find(throttle_key(email, network)); it != throttle_.end()) {
      r.failures = it->second.failures;
      r.locked_until = it->second.locked_until;
    }
    if (auto it = throttle_.find(email); it != throttle_.end())
      r.locked_until = std::max(r.locked_until, it->second.locked_until);
    return r;
  }
  mfakit::result<bool> session_valid(std::string_view user, std::string_view jti, std::string_view family) override {
    const std::lock_guard lock(mutex_);
    auto u = users_.find(user);
    if (u == users_.end() || revoked_.find(jti) != revoked_.end()) return false;
    if (family.empty()) return u->second.epoch == 0;
    return std::any_of(refresh_.begin(), refresh_.end(), [&](const auto& kv) {
      return kv.second.family == family && kv.second.user == user && kv.second.epoch >= u->second.epoch;
    });
  }
  mfakit::result<std::int64_t> login_failed(std::string_view email, std::string_view network, std::int64_t now,
                                            std::int64_t account_free) override {
    const std::lock_guard lock(mutex_);
    std::int64_t until = 0;
    for (const bool whole : {false, true}) {
      auto& t = throttle_[whole ? std::string(email) : throttle_key(email, network)];
      ++t.failures;
      t.updated_at = now;
      const std::int64_t free = whole ? account_free : password_throttle::free_failures;
      if (const std::int64_t lock_s = password_throttle::lock_after(t.failures, free); lock_s > 0)
        t.locked_until = std::max(t.locked_until, now + lock_s);
      until = std::max(until, t.locked_until);
    }
    return until;
  }
  mfakit::result<void> login_succeeded(std::string_view email, std::string_view network) override {
    const std::lock_guard lock(mutex_);
    throttle_.erase(throttle_key(email, network));
    if (auto it = throttle_.find(email); it != throttle_.end()) throttle_.erase(it);
    return {};
  }
  mfakit::result<void> add_refresh(std::string_view hash, std::string_view user, std::string_view family,
                                   std::int64_t expires_at, std::string_view amr) override {
    const std::lock_guard lock(mutex_);
    auto u = users_.find(user);
    const std::int64_t epoch = u == users_.end() ? 0 : u->second.epoch;
    refresh_.insert_or_assign(
        std::string(hash), refresh_row{std::string(user), std::string(family), expires_at, 0, epoch, std::string(amr)});
    return {};
  }
  mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash, std::string_view new_hash,
                                                std::int64_t now) override {
    const std::lock_guard lock(mutex_);
    auto it = refresh_.find(old_hash);
    if (it == refresh_.end()) return refresh_result{refresh_outcome::unknown, {}, {}, {}};
    const std::string family = it->second.family;
    if (it->second.used_at != 0) {
      std::erase_if(refresh_, [&](const auto& kv) { return kv.second.family == family; });
      return refresh_result{refresh_outcome::reused, {}, {}, {}};
    }
    auto u = users_.find(it->second.user);
    if (u == users_.end() || it->second.epoch < u->second.epoch) {  // a session from before the epoch
      std::erase_if(refresh_, [&](const auto& kv) { return kv.second.family == family; });
      return refresh_result{refresh_outcome::expired, {}, {}, {}};
    }
    if (it->second.expires_at <= now) {
      refresh_.erase(it);
      return refresh_result{refresh_outcome::expired, {}, {}, {}};
    }
    it->second.used_at = now;
    refresh_row next = it->second;
    next.used_at = 0;
    refresh_result out{refresh_outcome::rotated, next.user, next.family, next.amr};
    refresh_.insert_or_assign(std::string(new_hash), std::move(next));
    return out;
  }
  mfakit::result<void> bump_epoch(std::string_view user, std::string_view keep_family) override {
    const std::lock_guard lock(mutex_);
    auto u = users_.find(user);
    if (u == users_.end()) return {};
    const std::int64_t epoch = ++u->second.epoch;
    for (auto& [hash, row] : refresh_)
      if (!keep_family.empty() && row.family == keep_family && row.user == user) row.epoch = epoch;
    return {};
  }
  mfakit::result<void> rehash(std::string_view email, std::string_view old_hash, std::string_view new_hash) override {
    const std::lock_guard lock(mutex_);
    auto u = users_.find(email);
    if (u != users_.end() && u->second.hash == old_hash) u->second.hash = std::string(new_hash);
    return {};
  }
  mfakit::result<void> revoke_refresh(std::string_view hash) override {
    const std::lock_guard lock(mutex_);
    auto it = refresh_.find(hash);
    if (it == refresh_.end()) return {};
    const std::string family = it->second.family;
    std::erase_if(refresh_, [&](const auto& kv) { return kv.second.family == family; });
    return {};
  }
  mfakit::result<void> revoke_access(std::string_view jti, std::int64_t expires_at) override {
    const std::lock_guard lock(mutex_);
    revoked_.insert_or_assign(std::string(jti), expires_at);
    return {};
  }

  mfakit::result<std::vector<expiring_row>> expiring(key_range range, std::string_view after,
                                                     std::size_t limit) override {
    std::vector<std::string> keys;
    {
      const std::lock_guard lock(registry_.mutex);
      for (auto it = registry_.keys.upper_bound(after.empty() ? range.prefix : after);
           it != registry_.keys.end() && range.contains(*it) && keys.size() < limit; ++it)
        keys.push_back(*it);
    }
    std::vector<expiring_row> out;
    for (auto& k : keys) {
      auto r = records_.load(k);
      if (!r) return r.error();
      if (!*r) {  // gone (completed or swept): forget it
        const std::lock_guard lock(registry_.mutex);
        registry_.keys.erase(k);
        continue;
      }
      out.push_back(expiring_row{std::move(k), std::move((*r)->bytes), (*r)->version});
    }
    return out;
  }
  mfakit::result<std::size_t> sweep(std::int64_t now) override {
    const std::lock_guard lock(mutex_);
    std::size_t n = std::erase_if(refresh_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    n += std::erase_if(revoked_, [&](const auto& kv) { return kv.second <= now; });
    n += std::erase_if(throttle_, [&](const auto& kv) {
      return kv.second.locked_until <= now && kv.second.updated_at + 86400 <= now;
    });
    return n;
  }

 private:
  struct refresh_row {
    std::string user;
    std::string family;
    std::int64_t expires_at = 0;
    std::int64_t used_at = 0;
    std::int64_t epoch = 0;
    std::string amr;
  };
  struct user_row {
    std::string hash;
    std::int64_t epoch = 0;
  };
  struct throttle_row {
    std::int64_t failures = 0;
    std::int64_t locked_until = 0;
    std::int64_t updated_at = 0;
  };

  mfakit::memory_store& records_;
  expiring_key_registry& registry_;
  std::mutex mutex_;
  std::map<std::string, user_row, std::less<>> users_;
  std::map<std::string, refresh_row, std::less<>> refresh_;
  std::map<std::string, std::int64_t, std::less<>> revoked_;
  std::map<std::string, throttle_row, std::less<>> throttle_;
};

}  // namespace mfakit_examples
