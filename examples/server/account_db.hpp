// The host's own tables, next to mfakit's records in the same database:
// users with their password hashes, refresh tokens, revoked access tokens
// and the per-account password throttle. Because all of it lives in the
// database (not in process memory), any number of server processes on one
// SQLite file or one PostgreSQL database serve each other's users and tokens.
//
//   mfakit_users          (email PK, password_hash, created_at)
//   mfakit_refresh_tokens (token_hash PK = hex SHA-256 of the token, user_email, family, expires_at, used_at)
//   mfakit_revoked_tokens (jti PK, expires_at)       -- access tokens logged out before they expire
//   mfakit_login_throttle (email PK, failures, locked_until, updated_at)
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
  std::int64_t failures = 0;
  std::int64_t locked_until = 0;
};

enum class refresh_outcome : std::uint8_t { rotated, unknown, reused, expired };

struct refresh_result {
  refresh_outcome outcome = refresh_outcome::unknown;
  std::string user;
};

/// A stored login challenge, for the sweeper.
struct challenge_row {
  std::string key;
  std::string bytes;
  std::uint64_t version = 0;
};

/// The per-account password throttle: the first four consecutive failures
/// are free, then each one locks the account for 1, 2, 4, ... seconds, at
/// most 15 minutes. A success clears it. Kept for unknown emails too, so its
/// answers do not tell which accounts exist.
struct password_throttle {
  static constexpr std::int64_t free_failures = 4;
  static constexpr std::int64_t max_lock_seconds = 900;
  [[nodiscard]] static constexpr std::int64_t lock_after(std::int64_t failures) noexcept {
    if (failures <= free_failures) return 0;
    const std::int64_t shift = std::min<std::int64_t>(failures - free_failures - 1, 10);
    return std::min<std::int64_t>(std::int64_t{1} << shift, max_lock_seconds);
  }
};

inline constexpr std::string_view challenge_key_prefix = "mfakit/challenge/";
inline constexpr std::string_view challenge_key_end = "mfakit/challenge0";  // '0' follows '/'

class account_db {
 public:
  account_db() = default;
  account_db(const account_db&) = delete;
  account_db& operator=(const account_db&) = delete;
  virtual ~account_db() = default;

  // --- start-up (throw std::runtime_error) ---
  [[nodiscard]] virtual std::optional<std::string> stored_hash(std::string_view email) = 0;
  virtual void put_user(std::string_view email, std::string_view password_hash, std::int64_t now) = 0;
  [[nodiscard]] virtual std::vector<std::string> user_emails() = 0;

  // --- requests ---
  [[nodiscard]] virtual mfakit::result<login_row> login(std::string_view email) = 0;
  /// The user exists and the access token's jti is not revoked.
  [[nodiscard]] virtual mfakit::result<bool> session_valid(std::string_view user, std::string_view jti) = 0;
  /// Counts a failed password; returns the account's locked_until.
  [[nodiscard]] virtual mfakit::result<std::int64_t> login_failed(std::string_view email, std::int64_t now) = 0;
  [[nodiscard]] virtual mfakit::result<void> login_succeeded(std::string_view email) = 0;
  [[nodiscard]] virtual mfakit::result<void> add_refresh(std::string_view token_hash, std::string_view user,
                                                         std::string_view family, std::int64_t expires_at) = 0;
  [[nodiscard]] virtual mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash,
                                                                      std::string_view new_hash, std::int64_t now,
                                                                      std::int64_t expires_at) = 0;
  /// Revokes the token's whole family (logout).
  [[nodiscard]] virtual mfakit::result<void> revoke_refresh(std::string_view token_hash) = 0;
  [[nodiscard]] virtual mfakit::result<void> revoke_access(std::string_view jti, std::int64_t expires_at) = 0;

  // --- housekeeping ---
  /// Up to `limit` stored challenges with keys after `after`, in key order.
  [[nodiscard]] virtual mfakit::result<std::vector<challenge_row>> challenges(std::string_view after,
                                                                              std::size_t limit) = 0;
  /// Deletes expired refresh tokens, revocations and stale throttle rows.
  [[nodiscard]] virtual mfakit::result<std::size_t> sweep(std::int64_t now) = 0;
};

/// Challenge keys the in-memory store has seen created (memory_store cannot
/// list its keys); filled by the server's store wrapper.
struct challenge_registry {
  std::mutex mutex;
  std::set<std::string, std::less<>> keys;
};

/// The in-memory demo's record store: a memory_store that notes in the
/// registry each challenge key it creates and forgets each it deletes.
class registering_memory_store {
 public:
  explicit registering_memory_store(challenge_registry& registry) : registry_(registry) {}

  [[nodiscard]] mfakit::memory_store& records() noexcept { return records_; }

  [[nodiscard]] mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    return records_.load(key);
  }
  [[nodiscard]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                      const std::optional<std::string>& next) {
    auto r = records_.compare_and_swap(key, expected, next);
    if (r && *r && key.starts_with(challenge_key_prefix)) {
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
  challenge_registry& registry_;
};
static_assert(mfakit::record_store<registering_memory_store>);

/// Everything in process memory: the demo with `--db memory` (one process).
class memory_account_db final : public account_db {
 public:
  memory_account_db(mfakit::memory_store& records, challenge_registry& registry)
      : records_(records), registry_(registry) {}

  std::optional<std::string> stored_hash(std::string_view email) override {
    const std::lock_guard lock(mutex_);
    auto it = users_.find(email);
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }
  void put_user(std::string_view email, std::string_view hash, std::int64_t /*now*/) override {
    const std::lock_guard lock(mutex_);
    users_.insert_or_assign(std::string(email), std::string(hash));
  }
  std::vector<std::string> user_emails() override {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [email, hash] : users_) out.push_back(email);
    return out;
  }

  mfakit::result<login_row> login(std::string_view email) override {
    const std::lock_guard lock(mutex_);
    login_row r;
    if (auto it = users_.find(email); it != users_.end()) r.password_hash = it->second;
    if (auto it = throttle_.find(email); it != throttle_.end()) {
      r.failures = it->second.failures;
      r.locked_until = it->second.locked_until;
    }
    return r;
  }
  mfakit::result<bool> session_valid(std::string_view user, std::string_view jti) override {
    const std::lock_guard lock(mutex_);
    return users_.find(user) != users_.end() && revoked_.find(jti) == revoked_.end();
  }
  mfakit::result<std::int64_t> login_failed(std::string_view email, std::int64_t now) override {
    const std::lock_guard lock(mutex_);
    auto& t = throttle_[std::string(email)];
    ++t.failures;
    t.updated_at = now;
    if (const std::int64_t lock_s = password_throttle::lock_after(t.failures); lock_s > 0)
      t.locked_until = now + lock_s;
    return t.locked_until;
  }
  mfakit::result<void> login_succeeded(std::string_view email) override {
    const std::lock_guard lock(mutex_);
    if (auto it = throttle_.find(email); it != throttle_.end()) throttle_.erase(it);
    return {};
  }
  mfakit::result<void> add_refresh(std::string_view hash, std::string_view user, std::string_view family,
                                   std::int64_t expires_at) override {
    const std::lock_guard lock(mutex_);
    refresh_.insert_or_assign(std::string(hash), refresh_row{std::string(user), std::string(family), expires_at, 0});
    return {};
  }
  mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash, std::string_view new_hash, std::int64_t now,
                                                std::int64_t expires_at) override {
    const std::lock_guard lock(mutex_);
    auto it = refresh_.find(old_hash);
    if (it == refresh_.end()) return refresh_result{refresh_outcome::unknown, {}};
    if (it->second.used_at != 0) {
      const std::string family = it->second.family;
      std::erase_if(refresh_, [&](const auto& kv) { return kv.second.family == family; });
      return refresh_result{refresh_outcome::reused, {}};
    }
    if (it->second.expires_at <= now) {
      refresh_.erase(it);
      return refresh_result{refresh_outcome::expired, {}};
    }
    it->second.used_at = now;
    refresh_row next{it->second.user, it->second.family, expires_at, 0};
    std::string user = next.user;
    refresh_.insert_or_assign(std::string(new_hash), std::move(next));
    return refresh_result{refresh_outcome::rotated, std::move(user)};
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

  mfakit::result<std::vector<challenge_row>> challenges(std::string_view after, std::size_t limit) override {
    std::vector<std::string> keys;
    {
      const std::lock_guard lock(registry_.mutex);
      for (auto it = registry_.keys.upper_bound(after); it != registry_.keys.end() && keys.size() < limit; ++it)
        keys.push_back(*it);
    }
    std::vector<challenge_row> out;
    for (auto& k : keys) {
      auto r = records_.load(k);
      if (!r) return r.error();
      if (!*r) {  // gone (completed or swept): forget it
        const std::lock_guard lock(registry_.mutex);
        registry_.keys.erase(k);
        continue;
      }
      out.push_back(challenge_row{std::move(k), std::move((*r)->bytes), (*r)->version});
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
  };
  struct throttle_row {
    std::int64_t failures = 0;
    std::int64_t locked_until = 0;
    std::int64_t updated_at = 0;
  };

  mfakit::memory_store& records_;
  challenge_registry& registry_;
  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> users_;
  std::map<std::string, refresh_row, std::less<>> refresh_;
  std::map<std::string, std::int64_t, std::less<>> revoked_;
  std::map<std::string, throttle_row, std::less<>> throttle_;
};

}  // namespace mfakit_examples
