// account_db on SQLite: the same file as sqlite_store's records, its own
// connections (WAL, a short-sleep busy handler like sqlite_store's), every
// statement prepared once per connection. Writes that read first run in
// BEGIN IMMEDIATE transactions, so several processes on one file agree.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mfakit/stores/detail/connection_pool.hpp>
#include <mfakit/stores/detail/sqlite_handles.hpp>

#include "account_db.hpp"

namespace mfakit_examples {
namespace sqlite_util = mfakit::stores::detail::sqlite;
using mfakit::stores::detail::connection_pool;

class sqlite_account_db final : public account_db {
 public:
  struct options {
    std::string path;
    std::string records_table = "mfakit_records";  ///< sqlite_store's table (for the challenge sweeper)
    unsigned max_connections = 8;
    std::chrono::milliseconds busy_timeout{10'000};
  };

  explicit sqlite_account_db(options o)
      : opt_(std::move(o)),
        pool_([this] { return connect(); }, opt_.max_connections, &sqlite_util::ready_for_reuse<connection>) {
    std::string error;
    auto first = connect(&error);
    if (!first) throw std::runtime_error("sqlite_account_db: cannot open " + opt_.path + ": " + error);
    pool_.adopt(std::move(first));
  }

  std::optional<std::string> stored_hash(std::string_view email) override {
    lease c(pool_);
    if (!c) throw std::runtime_error("sqlite_account_db: no connection");
    stmt s(c->user_hash);
    s.text(1, email);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::nullopt;
    if (rc != SQLITE_ROW) throw std::runtime_error("sqlite_account_db: cannot read users");
    return s.column_text(0);
  }

  void put_user(std::string_view email, std::string_view hash, std::int64_t now) override {
    lease c(pool_);
    if (!c) throw std::runtime_error("sqlite_account_db: no connection");
    stmt s(c->put_user);
    s.text(1, email);
    s.text(2, hash);
    s.int64(3, now);
    if (s.step() != SQLITE_DONE) throw std::runtime_error("sqlite_account_db: cannot store a user");
  }

  std::vector<std::string> user_emails() override {
    lease c(pool_);
    if (!c) throw std::runtime_error("sqlite_account_db: no connection");
    stmt s(c->emails);
    std::vector<std::string> out;
    int rc = 0;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(s.column_text(0));
    if (rc != SQLITE_DONE) throw std::runtime_error("sqlite_account_db: cannot list users");
    return out;
  }

  mfakit::result<login_row> login(std::string_view email, std::string_view network) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string key = throttle_key(email, network);
    stmt s(c->login);
    s.text(1, email);
    s.text(2, key);
    const int rc = s.step();
    login_row r;
    if (rc == SQLITE_DONE) return r;
    if (rc != SQLITE_ROW) return mfakit::errc::storage_failure;
    if (sqlite3_column_type(s.get(), 0) != SQLITE_NULL) r.password_hash = s.column_text(0);
    r.failures = sqlite3_column_int64(s.get(), 1);
    r.locked_until = sqlite3_column_int64(s.get(), 2);
    return r;
  }

  mfakit::result<bool> session_valid(std::string_view user, std::string_view jti, std::string_view family) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    stmt s(c->session);
    s.text(1, user);
    s.text(2, jti);
    s.text(3, family);
    if (s.step() != SQLITE_ROW) return mfakit::errc::storage_failure;
    return sqlite3_column_int(s.get(), 0) == 1;
  }

  mfakit::result<std::int64_t> login_failed(std::string_view email, std::string_view network, std::int64_t now,
                                            std::int64_t account_free) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    if (!exec(*c, c->begin.get())) return mfakit::errc::storage_failure;
    transaction tx(*c);
    const std::string per_network = throttle_key(email, network);
    std::int64_t until = 0;
    for (const bool whole : {false, true}) {
      const std::string_view key = whole ? email : std::string_view(per_network);
      std::int64_t failures = 0;
      {
        stmt s(c->bump_failures);
        s.text(1, key);
        s.int64(2, now);
        if (s.step() != SQLITE_ROW) return mfakit::errc::storage_failure;
        failures = sqlite3_column_int64(s.get(), 0);
        if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
      }
      const std::int64_t free = whole ? account_free : password_throttle::free_failures;
      if (const std::int64_t lock_s = password_throttle::lock_after(failures, free); lock_s > 0) {
        until = std::max(until, now + lock_s);
        stmt s(c->lock_account);
        s.text(1, key);
        s.int64(2, now + lock_s);
        if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
      }
    }
    if (!tx.commit()) return mfakit::errc::storage_failure;
    return until;
  }

  mfakit::result<void> login_succeeded(std::string_view email, std::string_view network) override {
    return write(&connection::clear_failures, email, std::string_view(throttle_key(email, network)));
  }

  mfakit::result<void> add_refresh(std::string_view hash, std::string_view user, std::string_view family,
                                   std::int64_t expires_at, std::string_view amr) override {
    return write(&connection::add_refresh, hash, user, family, expires_at, amr);
  }

  mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash, std::string_view new_hash,
                                                std::int64_t now) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    {  // an unknown token (most of a flood of made-up ones) without the write lock
      stmt s(c->refresh_state);
      s.text(1, old_hash);
      const int rc = s.step();
      if (rc == SQLITE_DONE) return refresh_result{};
      if (rc != SQLITE_ROW) return mfakit::errc::storage_failure;
    }
    if (!exec(*c, c->begin.get())) return mfakit::errc::storage_failure;
    transaction tx(*c);
    refresh_result out;
    {
      stmt s(c->use_refresh);
      s.int64(1, now);
      s.text(2, old_hash);
      const int rc = s.step();
      if (rc == SQLITE_ROW) {
        out.user = s.column_text(0);
        out.family = s.column_text(1);
        out.amr = s.column_text(2);
        if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
        out.outcome = refresh_outcome::rotated;
      } else if (rc != SQLITE_DONE) {
        return mfakit::errc::storage_failure;
      }
    }
    if (out.outcome == refresh_outcome::rotated) {
      stmt s(c->next_refresh);
      s.text(1, new_hash);
      s.text(2, old_hash);
      if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
    } else {
      stmt s(c->refresh_state);
      s.text(1, old_hash);
      const int rc = s.step();
      if (rc == SQLITE_DONE) {
        out.outcome = refresh_outcome::unknown;
      } else if (rc != SQLITE_ROW) {
        return mfakit::errc::storage_failure;
      } else {
        const bool used = sqlite3_column_type(s.get(), 0) != SQLITE_NULL;
        const bool stale = sqlite3_column_int(s.get(), 2) == 1;  // from before the user's epoch
        const std::string family = s.column_text(1);
        s.reset();
        out.outcome = used ? refresh_outcome::reused : refresh_outcome::expired;
        stmt d(used || stale ? c->delete_family : c->delete_refresh);
        d.text(1, used || stale ? std::string_view(family) : old_hash);
        if (d.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
      }
    }
    if (!tx.commit()) return mfakit::errc::storage_failure;
    if (out.outcome != refresh_outcome::rotated) out = refresh_result{out.outcome, {}, {}, {}};
    return out;
  }

  mfakit::result<void> bump_epoch(std::string_view user, std::string_view keep_family) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    if (!exec(*c, c->begin.get())) return mfakit::errc::storage_failure;
    transaction tx(*c);
    for (const stmt_ptr* statement : {&c->bump_epoch, &c->keep_family}) {
      stmt s(*statement);
      s.text(1, user);
      if (statement == &c->keep_family) s.text(2, keep_family);
      if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
    }
    if (!tx.commit()) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<void> rehash(std::string_view email, std::string_view old_hash, std::string_view new_hash) override {
    return write(&connection::rehash, email, old_hash, new_hash);
  }

  mfakit::result<void> revoke_refresh(std::string_view hash) override {
    return write(&connection::delete_family_of, hash);
  }

  mfakit::result<void> revoke_access(std::string_view jti, std::int64_t expires_at) override {
    return write(&connection::revoke, jti, expires_at);
  }

  mfakit::result<std::vector<expiring_row>> expiring(key_range range, std::string_view after,
                                                     std::size_t limit) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    stmt s(c->challenges);
    const std::string_view from = after.empty() ? range.prefix : after;
    s.blob(1, from);
    s.blob(2, range.end);
    s.int64(3, static_cast<std::int64_t>(limit));
    std::vector<expiring_row> out;
    int rc = 0;
    while ((rc = s.step()) == SQLITE_ROW) {
      expiring_row r;
      r.key = s.column_blob(0);
      r.bytes = s.column_blob(1);
      r.version = static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 2));
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return mfakit::errc::storage_failure;
    return out;
  }

  mfakit::result<std::size_t> sweep(std::int64_t now) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    std::size_t n = 0;
    for (sqlite3_stmt* raw : {c->sweep_refresh.get(), c->sweep_revoked.get(), c->sweep_throttle.get()}) {
      stmt s(raw);
      s.int64(1, now);
      if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
      n += static_cast<std::size_t>(sqlite3_changes(c->db.get()));
    }
    return n;
  }

 private:
  using stmt_ptr = sqlite_util::stmt_ptr;

  struct connection {
    sqlite_util::busy_wait busy;
    sqlite_util::db_ptr db;  // statements below are finalized first
    stmt_ptr begin, commit, rollback, user_hash, put_user, emails, login, session, bump_failures, lock_account,
        clear_failures, add_refresh, use_refresh, next_refresh, refresh_state, bump_epoch, keep_family, rehash,
        delete_refresh, delete_family, delete_family_of, revoke, challenges, sweep_refresh, sweep_revoked,
        sweep_throttle;
  };
  using pool = connection_pool<connection>;
  using lease = pool::lease;

  // One use of a prepared statement: bound, stepped, reset and unbound at scope end.
  class stmt {
   public:
    explicit stmt(const stmt_ptr& p) noexcept : s_(p.get()) {}
    explicit stmt(sqlite3_stmt* s) noexcept : s_(s) {}
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;
    ~stmt() { reset(); }
    void reset() noexcept { sqlite_util::reset_and_unbind(s_); }
    [[nodiscard]] sqlite3_stmt* get() const noexcept { return s_; }
    void text(int i, std::string_view v) noexcept {
      static const char empty = 0;
      sqlite3_bind_text64(s_, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    void blob(int i, std::string_view v) noexcept {
      static const char empty = 0;
      sqlite3_bind_blob64(s_, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_STATIC);
    }
    void int64(int i, std::int64_t v) noexcept { sqlite3_bind_int64(s_, i, v); }
    // write's parameters: strings as text, integers as int64
    void bind(int i, std::string_view v) noexcept { text(i, v); }
    void bind(int i, std::int64_t v) noexcept { int64(i, v); }
    [[nodiscard]] int step() noexcept { return sqlite3_step(s_); }
    [[nodiscard]] std::string column_text(int i) const {
      const auto* p = sqlite3_column_text(s_, i);
      const int n = sqlite3_column_bytes(s_, i);
      return p == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(p),  // NOLINT
                                        static_cast<std::size_t>(n));
    }
    [[nodiscard]] std::string column_blob(int i) const {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(s_, i));
      const int n = sqlite3_column_bytes(s_, i);
      return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
    }

   private:
    sqlite3_stmt* s_;
  };

  // One statement that returns no rows, on its own (no transaction), with
  // `params` bound to ?1, ?2, ... in order.
  template <class... Params>
  mfakit::result<void> write(stmt_ptr connection::*statement, const Params&... params) {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    stmt s((*c).*statement);
    int i = 0;
    (s.bind(++i, params), ...);
    if (s.step() != SQLITE_DONE) return mfakit::errc::storage_failure;
    return {};
  }

  // A plain sqlite3_step: unlike sqlite_store's step, this adapter does not
  // wait out SQLITE_LOCKED (shared-cache mode); the busy handler still waits.
  static bool exec(const connection& /*c*/, sqlite3_stmt* s) noexcept {
    const int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
  }
  using transaction = sqlite_util::transaction<connection, &sqlite_account_db::exec>;

  [[nodiscard]] std::unique_ptr<connection> connect(std::string* error = nullptr) const {
    auto c = std::make_unique<connection>();
    c->busy.timeout = opt_.busy_timeout;
    std::string open_error;
    c->db = sqlite_util::open(opt_.path, c->busy, open_error);
    sqlite3* raw = c->db.get();
    const auto fail = [&](const char* what) -> std::unique_ptr<connection> {
      if (error != nullptr) *error = what != nullptr ? what : sqlite3_errmsg(raw);
      return nullptr;
    };
    if (!c->db) return fail(open_error.c_str());
    const std::string& t = opt_.records_table;
    // The records table is sqlite_store's: open the store first (the
    // sweeper's statement reads it).
    const std::string setup =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; BEGIN IMMEDIATE;"
        "CREATE TABLE IF NOT EXISTS mfakit_users (email TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
        " created_at INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS mfakit_refresh_tokens (token_hash TEXT PRIMARY KEY, user_email TEXT NOT NULL,"
        " family TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS mfakit_refresh_tokens_family ON mfakit_refresh_tokens (family);"
        "CREATE TABLE IF NOT EXISTS mfakit_revoked_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS mfakit_login_throttle (email TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
        " locked_until INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID; COMMIT;";
    char* err = nullptr;
    if (sqlite3_exec(raw, setup.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : sqlite3_errmsg(raw);
      sqlite3_free(err);
      return fail(msg.c_str());
    }
    // columns a database made by an older server lacks (a duplicate column is no error here)
    for (const char* column : {"ALTER TABLE mfakit_users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
                               "ALTER TABLE mfakit_refresh_tokens ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0",
                               "ALTER TABLE mfakit_refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT ''"}) {
      if (sqlite3_exec(raw, column, nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string msg = err != nullptr ? err : sqlite3_errmsg(raw);
        sqlite3_free(err);
        err = nullptr;
        if (msg.find("duplicate column") == std::string::npos) return fail(msg.c_str());
      }
    }
    bool ok = true;
    const auto prepare = [&](stmt_ptr& out, const std::string& sql) {
      if (ok) ok = sqlite_util::prepare(raw, out, sql);
    };
    prepare(c->begin, "BEGIN IMMEDIATE");
    prepare(c->commit, "COMMIT");
    prepare(c->rollback, "ROLLBACK");
    prepare(c->user_hash, "SELECT password_hash FROM mfakit_users WHERE email = ?1");
    prepare(c->put_user,
            "INSERT INTO mfakit_users (email, password_hash, created_at) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash,"
            " session_epoch = session_epoch + 1");
    prepare(c->emails, "SELECT email FROM mfakit_users ORDER BY email");
    prepare(c->login,
            "SELECT (SELECT password_hash FROM mfakit_users WHERE email = ?1),"
            " coalesce((SELECT failures FROM mfakit_login_throttle WHERE email = ?2), 0),"
            " max(coalesce((SELECT locked_until FROM mfakit_login_throttle WHERE email = ?2), 0),"
            " coalesce((SELECT locked_until FROM mfakit_login_throttle WHERE email = ?1), 0))");
    prepare(c->session,
            "SELECT coalesce((SELECT CASE WHEN ?3 = '' THEN u.session_epoch = 0 ELSE EXISTS (SELECT 1 FROM"
            " mfakit_refresh_tokens r WHERE r.family = ?3 AND r.user_email = ?1 AND r.epoch >= u.session_epoch) END"
            " FROM mfakit_users u WHERE u.email = ?1), 0)"
            " AND NOT EXISTS (SELECT 1 FROM mfakit_revoked_tokens WHERE jti = ?2)");
    prepare(c->bump_failures,
            "INSERT INTO mfakit_login_throttle (email, failures, locked_until, updated_at) VALUES (?1, 1, 0, ?2)"
            " ON CONFLICT (email) DO UPDATE SET failures = failures + 1, updated_at = ?2 RETURNING failures");
    prepare(c->lock_account, "UPDATE mfakit_login_throttle SET locked_until = max(locked_until, ?2) WHERE email = ?1");
    prepare(c->clear_failures, "DELETE FROM mfakit_login_throttle WHERE email IN (?1, ?2)");
    prepare(c->add_refresh,
            "INSERT INTO mfakit_refresh_tokens (token_hash, user_email, family, expires_at, epoch, amr)"
            " SELECT ?1, ?2, ?3, ?4, coalesce((SELECT session_epoch FROM mfakit_users WHERE email = ?2), 0), ?5");
    prepare(c->use_refresh,
            "UPDATE mfakit_refresh_tokens SET used_at = ?1 WHERE token_hash = ?2 AND used_at IS NULL"
            " AND expires_at > ?1 AND epoch >= coalesce((SELECT session_epoch FROM mfakit_users"
            " WHERE email = mfakit_refresh_tokens.user_email), 1 << 62) RETURNING user_email, family, amr");
    prepare(c->next_refresh,
            "INSERT INTO mfakit_refresh_tokens (token_hash, user_email, family, expires_at, epoch, amr)"
            " SELECT ?1, user_email, family, expires_at, epoch, amr FROM mfakit_refresh_tokens WHERE token_hash = ?2");
    prepare(
        c->refresh_state,
        "SELECT used_at, family, epoch < coalesce((SELECT session_epoch FROM mfakit_users"
        " WHERE email = mfakit_refresh_tokens.user_email), 1 << 62) FROM mfakit_refresh_tokens WHERE token_hash = ?1");
    prepare(c->bump_epoch, "UPDATE mfakit_users SET session_epoch = session_epoch + 1 WHERE email = ?1");
    prepare(c->keep_family,
            "UPDATE mfakit_refresh_tokens SET epoch = (SELECT session_epoch FROM mfakit_users WHERE email = ?1)"
            " WHERE family = ?2 AND user_email = ?1");
    prepare(c->rehash, "UPDATE mfakit_users SET password_hash = ?3 WHERE email = ?1 AND password_hash = ?2");
    prepare(c->delete_refresh, "DELETE FROM mfakit_refresh_tokens WHERE token_hash = ?1");
    prepare(c->delete_family, "DELETE FROM mfakit_refresh_tokens WHERE family = ?1");
    prepare(c->delete_family_of,
            "DELETE FROM mfakit_refresh_tokens WHERE family = "
            "(SELECT family FROM mfakit_refresh_tokens WHERE token_hash = ?1)");
    prepare(c->revoke, "INSERT OR IGNORE INTO mfakit_revoked_tokens (jti, expires_at) VALUES (?1, ?2)");
    prepare(c->challenges,
            "SELECT key, data, version FROM " + t + " WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3");
    prepare(c->sweep_refresh, "DELETE FROM mfakit_refresh_tokens WHERE expires_at <= ?1");
    prepare(c->sweep_revoked, "DELETE FROM mfakit_revoked_tokens WHERE expires_at <= ?1");
    prepare(c->sweep_throttle,
            "DELETE FROM mfakit_login_throttle WHERE locked_until <= ?1 AND updated_at + 86400 <= ?1");
    if (!ok) return fail(nullptr);
    return c;
  }

  options opt_;
  mutable pool pool_;
};

}  // namespace mfakit_examples
