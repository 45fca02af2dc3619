// account_db on PostgreSQL (libpq): the same database as postgres_store's
// records, its own pool of connections, prepared statements, and the schema
// created under an advisory lock so several servers can start at once. The
// refresh-token rotation is one statement (a data-modifying CTE): the
// UPDATE ... WHERE used_at IS NULL takes the row lock, so of two concurrent
// uses of one token exactly one rotates it.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mfakit/stores/detail/postgresql_handles.hpp>

#include "account_db.hpp"

namespace mfakit_examples {
namespace postgres_util = mfakit::stores::detail::postgresql;

class postgres_account_db final : public account_db {
 public:
  struct options {
    std::string conninfo;
    std::string records_table = "mfakit_records";  ///< postgres_store's table (for the challenge sweeper)
    unsigned max_connections = 8;
  };

  explicit postgres_account_db(options o)
      : opt_(std::move(o)),
        pool_([this] { return connect(false); }, opt_.max_connections, &postgres_util::ready_for_reuse) {
    std::string error;
    auto first = connect(true, &error);
    if (!first) throw std::runtime_error("postgres_account_db: " + error);
    pool_.adopt(std::move(first));
  }

  std::optional<std::string> stored_hash(std::string_view email) override {
    lease c(pool_);
    if (!c) throw std::runtime_error("postgres_account_db: no connection");
    auto r = run(c, "acct_user_hash", {text(email)});
    if (!tuples_ok(c, r)) throw std::runtime_error("postgres_account_db: cannot read users");
    if (PQntuples(r.get()) == 0) return std::nullopt;
    return value(r, 0, 0);
  }

  void put_user(std::string_view email, std::string_view hash, std::int64_t now) override {
    lease c(pool_);
    if (!c) throw std::runtime_error("postgres_account_db: no connection");
    const std::string at = std::to_string(now);
    auto r = run(c, "acct_put_user", {text(email), text(hash), text(at)});
    if (!command_ok(c, r)) throw std::runtime_error("postgres_account_db: cannot store a user");
  }

  std::vector<std::string> user_emails() override {
    lease c(pool_);
    if (!c) throw std::runtime_error("postgres_account_db: no connection");
    auto r = run(c, "acct_emails", {});
    if (!tuples_ok(c, r)) throw std::runtime_error("postgres_account_db: cannot list users");
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(value(r, i, 0));
    return out;
  }

  mfakit::result<login_row> login(std::string_view email, std::string_view network) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string key = throttle_key(email, network);
    auto r = run(c, "acct_login", {text(email), text(key)});
    if (!tuples_ok(c, r) || PQntuples(r.get()) != 1) return mfakit::errc::storage_failure;
    login_row row;
    if (PQgetisnull(r.get(), 0, 0) == 0) row.password_hash = value(r, 0, 0);
    row.failures = std::stoll(value(r, 0, 1));
    row.locked_until = std::stoll(value(r, 0, 2));
    return row;
  }

  mfakit::result<bool> session_valid(std::string_view user, std::string_view jti, std::string_view family) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    auto r = run(c, "acct_session", {text(user), text(jti), text(family)});
    if (!tuples_ok(c, r) || PQntuples(r.get()) != 1) return mfakit::errc::storage_failure;
    return value(r, 0, 0) == "t";
  }

  mfakit::result<std::int64_t> login_failed(std::string_view email, std::string_view network, std::int64_t now,
                                            std::int64_t account_free) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string at = std::to_string(now);
    const std::string per_network = throttle_key(email, network);
    std::int64_t until = 0;
    for (const bool whole : {false, true}) {
      const std::string_view key = whole ? email : std::string_view(per_network);
      auto r = run(c, "acct_bump_failures", {text(key), text(at)});
      if (!tuples_ok(c, r) || PQntuples(r.get()) != 1) return mfakit::errc::storage_failure;
      const std::int64_t failures = std::stoll(value(r, 0, 0));
      const std::int64_t free = whole ? account_free : password_throttle::free_failures;
      const std::int64_t lock_s = password_throttle::lock_after(failures, free);
      if (lock_s == 0) continue;
      const std::string lock_until = std::to_string(now + lock_s);
      auto u = run(c, "acct_lock", {text(key), text(lock_until)});
      if (!command_ok(c, u)) return mfakit::errc::storage_failure;
      until = std::max(until, now + lock_s);
    }
    return until;
  }

  mfakit::result<void> login_succeeded(std::string_view email, std::string_view network) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string key = throttle_key(email, network);
    auto r = run(c, "acct_clear_failures", {text(email), text(key)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<void> add_refresh(std::string_view hash, std::string_view user, std::string_view family,
                                   std::int64_t expires_at, std::string_view amr) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string exp = std::to_string(expires_at);
    auto r = run(c, "acct_add_refresh", {text(hash), text(user), text(family), text(exp), text(amr)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<refresh_result> rotate_refresh(std::string_view old_hash, std::string_view new_hash,
                                                std::int64_t now) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string at = std::to_string(now);
    auto r = run(c, "acct_rotate", {text(old_hash), text(new_hash), text(at)});
    if (!tuples_ok(c, r)) return mfakit::errc::storage_failure;
    if (PQntuples(r.get()) == 1)
      return refresh_result{refresh_outcome::rotated, value(r, 0, 0), value(r, 0, 1), value(r, 0, 2)};
    auto s = run(c, "acct_refresh_state", {text(old_hash)});
    if (!tuples_ok(c, s)) return mfakit::errc::storage_failure;
    if (PQntuples(s.get()) == 0) return refresh_result{};
    const bool used = value(s, 0, 0) == "t";
    const bool stale = value(s, 0, 2) == "t";  // from before the user's epoch
    const std::string family = value(s, 0, 1);
    auto d =
        used || stale ? run(c, "acct_delete_family", {text(family)}) : run(c, "acct_delete_refresh", {text(old_hash)});
    if (!command_ok(c, d)) return mfakit::errc::storage_failure;
    return refresh_result{used ? refresh_outcome::reused : refresh_outcome::expired, {}, {}, {}};
  }

  mfakit::result<void> bump_epoch(std::string_view user, std::string_view keep_family) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    auto r = run(c, "acct_bump_epoch", {text(user), text(keep_family)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<void> rehash(std::string_view email, std::string_view old_hash, std::string_view new_hash) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    auto r = run(c, "acct_rehash", {text(email), text(old_hash), text(new_hash)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<void> revoke_refresh(std::string_view hash) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    auto r = run(c, "acct_delete_family_of", {text(hash)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<void> revoke_access(std::string_view jti, std::int64_t expires_at) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string exp = std::to_string(expires_at);
    auto r = run(c, "acct_revoke", {text(jti), text(exp)});
    if (!command_ok(c, r)) return mfakit::errc::storage_failure;
    return {};
  }

  mfakit::result<std::vector<expiring_row>> expiring(key_range range, std::string_view after,
                                                     std::size_t limit) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string n = std::to_string(limit);
    auto r = run(c, "acct_challenges", {bytes(after.empty() ? range.prefix : after), bytes(range.end), text(n)});
    if (!tuples_ok(c, r)) return mfakit::errc::storage_failure;
    std::vector<expiring_row> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      expiring_row row;
      row.key = unescape_bytea(PQgetvalue(r.get(), i, 0));
      row.bytes = unescape_bytea(PQgetvalue(r.get(), i, 1));
      row.version = std::stoull(value(r, i, 2));
      out.push_back(std::move(row));
    }
    return out;
  }

  mfakit::result<std::size_t> sweep(std::int64_t now) override {
    lease c(pool_);
    if (!c) return mfakit::errc::storage_failure;
    const std::string at = std::to_string(now);
    std::size_t n = 0;
    for (const char* name : {"acct_sweep_refresh", "acct_sweep_revoked", "acct_sweep_throttle"}) {
      auto r = run(c, name, {text(at)});
      if (!command_ok(c, r)) return mfakit::errc::storage_failure;
      n += static_cast<std::size_t>(std::strtoull(PQcmdTuples(r.get()), nullptr, 10));
    }
    return n;
  }

 private:
  using pg_result = postgres_util::result;
  using connection = postgres_util::connection;
  using pool = postgres_util::pool;
  using lease = postgres_util::lease;

  struct param {
    std::string_view v;
    int format;  // 0 text, 1 binary
  };
  static param text(std::string_view v) noexcept { return {v, 0}; }
  static param bytes(std::string_view v) noexcept { return {v, 1}; }

  /// Text parameters must not hold NUL bytes: PostgreSQL text cannot.
  [[nodiscard]] static pg_result run(lease& c, const char* name, std::initializer_list<param> ps) {
    std::array<std::string, 5> copies;  // text values NUL-terminated
    std::array<const char*, 5> values{};
    std::array<int, 5> lengths{};
    std::array<int, 5> formats{};
    int n = 0;
    for (const param& p : ps) {
      if (n == 5) return nullptr;
      const auto i = static_cast<std::size_t>(n);
      if (p.format == 0) {
        if (p.v.find('\0') != std::string_view::npos) return nullptr;
        copies[i] = std::string(p.v);
        values[i] = copies[i].c_str();
      } else {
        static const char empty = 0;
        values[i] = p.v.empty() ? &empty : p.v.data();
      }
      lengths[i] = static_cast<int>(p.v.size());
      formats[i] = p.format;
      ++n;
    }
    return pg_result(PQexecPrepared(c->conn.get(), name, n, values.data(), lengths.data(), formats.data(), 0));
  }
  [[nodiscard]] static bool tuples_ok(lease& c, const pg_result& r) {
    if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) return true;
    postgres_util::drop_if_broken(c);
    return false;
  }
  [[nodiscard]] static bool command_ok(lease& c, const pg_result& r) {
    if (r && (PQresultStatus(r.get()) == PGRES_COMMAND_OK || PQresultStatus(r.get()) == PGRES_TUPLES_OK)) return true;
    postgres_util::drop_if_broken(c);
    return false;
  }
  [[nodiscard]] static std::string value(const pg_result& r, int row, int col) {
    return {PQgetvalue(r.get(), row, col), static_cast<std::size_t>(PQgetlength(r.get(), row, col))};
  }
  [[nodiscard]] static std::string unescape_bytea(const char* text) {
    std::size_t n = 0;
    unsigned char* p = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);  // NOLINT
    if (p == nullptr) return {};
    std::string out(reinterpret_cast<const char*>(p), n);  // NOLINT
    PQfreemem(p);
    return out;
  }

  [[nodiscard]] std::unique_ptr<connection> connect(bool create_schema, std::string* error = nullptr) const {
    std::string connect_error;
    auto c = postgres_util::connect(opt_.conninfo, connect_error);
    if (!c) {
      if (error != nullptr) *error = connect_error;
      return nullptr;
    }
    PGconn* pg = c->conn.get();
    const auto fail = [&]() -> std::unique_ptr<connection> {
      if (error != nullptr) *error = PQerrorMessage(pg);
      return nullptr;
    };
    if (create_schema) {
      const std::string sql =
          "BEGIN; SELECT pg_advisory_xact_lock(hashtext('mfakit-schema/accounts'));"
          "CREATE TABLE IF NOT EXISTS mfakit_users (email text PRIMARY KEY, password_hash text NOT NULL,"
          " created_at bigint NOT NULL);"
          "CREATE TABLE IF NOT EXISTS mfakit_refresh_tokens (token_hash text PRIMARY KEY, user_email text NOT NULL,"
          " family text NOT NULL, expires_at bigint NOT NULL, used_at bigint);"
          "CREATE INDEX IF NOT EXISTS mfakit_refresh_tokens_family ON mfakit_refresh_tokens (family);"
          "CREATE TABLE IF NOT EXISTS mfakit_revoked_tokens (jti text PRIMARY KEY, expires_at bigint NOT NULL);"
          "CREATE TABLE IF NOT EXISTS mfakit_login_throttle (email text PRIMARY KEY, failures bigint NOT NULL,"
          " locked_until bigint NOT NULL, updated_at bigint NOT NULL);"
          "ALTER TABLE mfakit_users ADD COLUMN IF NOT EXISTS session_epoch bigint NOT NULL DEFAULT 0;"
          "ALTER TABLE mfakit_refresh_tokens ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0;"
          "ALTER TABLE mfakit_refresh_tokens ADD COLUMN IF NOT EXISTS amr text NOT NULL DEFAULT '';"
          "COMMIT;";
      pg_result r(PQexec(pg, sql.c_str()));
      if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail();
    }
    const std::string& t = opt_.records_table;
    const std::array<std::pair<const char*, std::string>, 22> statements{{
        {"acct_user_hash", "SELECT password_hash FROM mfakit_users WHERE email = $1::text"},
        {"acct_put_user",
         "INSERT INTO mfakit_users (email, password_hash, created_at) VALUES ($1::text, $2::text, $3::bigint)"
         " ON CONFLICT (email) DO UPDATE SET password_hash = excluded.password_hash,"
         " session_epoch = mfakit_users.session_epoch + 1"},
        {"acct_emails", "SELECT email FROM mfakit_users ORDER BY email"},
        {"acct_login",
         "SELECT (SELECT password_hash FROM mfakit_users WHERE email = $1::text),"
         " coalesce((SELECT failures FROM mfakit_login_throttle WHERE email = $2::text), 0),"
         " GREATEST(coalesce((SELECT locked_until FROM mfakit_login_throttle WHERE email = $2::text), 0),"
         " coalesce((SELECT locked_until FROM mfakit_login_throttle WHERE email = $1::text), 0))"},
        {"acct_session",
         "SELECT coalesce((SELECT CASE WHEN $3::text = '' THEN u.session_epoch = 0 ELSE EXISTS (SELECT 1 FROM"
         " mfakit_refresh_tokens r WHERE r.family = $3::text AND r.user_email = $1::text"
         " AND r.epoch >= u.session_epoch) END FROM mfakit_users u WHERE u.email = $1::text), false)"
         " AND NOT EXISTS (SELECT 1 FROM mfakit_revoked_tokens WHERE jti = $2::text)"},
        {"acct_bump_failures",
         "INSERT INTO mfakit_login_throttle AS t (email, failures, locked_until, updated_at)"
         " VALUES ($1::text, 1, 0, $2::bigint) ON CONFLICT (email) DO UPDATE"
         " SET failures = t.failures + 1, updated_at = $2::bigint RETURNING t.failures"},
        {"acct_lock",
         "UPDATE mfakit_login_throttle SET locked_until = GREATEST(locked_until, $2::bigint) WHERE email = $1::text"},
        {"acct_clear_failures", "DELETE FROM mfakit_login_throttle WHERE email IN ($1::text, $2::text)"},
        {"acct_add_refresh",
         "INSERT INTO mfakit_refresh_tokens (token_hash, user_email, family, expires_at, epoch, amr)"
         " SELECT $1::text, $2::text, $3::text, $4::bigint,"
         " coalesce((SELECT session_epoch FROM mfakit_users WHERE email = $2::text), 0), $5::text"},
        // a token no one was given is answered by the UPDATE's index lookup, without a row lock
        {"acct_rotate",
         "WITH old AS (UPDATE mfakit_refresh_tokens r SET used_at = $3::bigint WHERE token_hash = $1::text"
         " AND used_at IS NULL AND expires_at > $3::bigint AND epoch >= coalesce((SELECT session_epoch FROM"
         " mfakit_users WHERE email = r.user_email), 1::bigint << 62)"
         " RETURNING user_email, family, expires_at, epoch, amr)"
         " INSERT INTO mfakit_refresh_tokens (token_hash, user_email, family, expires_at, epoch, amr)"
         " SELECT $2::text, user_email, family, expires_at, epoch, amr FROM old RETURNING user_email, family, amr"},
        {"acct_refresh_state",
         "SELECT used_at IS NOT NULL, family, epoch < coalesce((SELECT session_epoch FROM mfakit_users"
         " WHERE email = r.user_email), 1::bigint << 62) FROM mfakit_refresh_tokens r WHERE token_hash = $1::text"},
        {"acct_bump_epoch",
         "WITH u AS (UPDATE mfakit_users SET session_epoch = session_epoch + 1 WHERE email = $1::text"
         " RETURNING session_epoch) UPDATE mfakit_refresh_tokens SET epoch = (SELECT session_epoch FROM u)"
         " WHERE family = $2::text AND user_email = $1::text AND EXISTS (SELECT 1 FROM u)"},
        {"acct_rehash",
         "UPDATE mfakit_users SET password_hash = $3::text WHERE email = $1::text AND password_hash = $2::text"},
        {"acct_delete_refresh", "DELETE FROM mfakit_refresh_tokens WHERE token_hash = $1::text"},
        {"acct_delete_family", "DELETE FROM mfakit_refresh_tokens WHERE family = $1::text"},
        {"acct_delete_family_of",
         "DELETE FROM mfakit_refresh_tokens WHERE family ="
         " (SELECT family FROM mfakit_refresh_tokens WHERE token_hash = $1::text)"},
        {"acct_revoke",
         "INSERT INTO mfakit_revoked_tokens (jti, expires_at) VALUES ($1::text, $2::bigint) ON CONFLICT DO NOTHING"},
        {"acct_challenges", "SELECT key, data, version FROM " + t +
                                " WHERE key > $1::bytea AND key < $2::bytea ORDER BY key LIMIT $3::bigint"},
        {"acct_sweep_refresh", "DELETE FROM mfakit_refresh_tokens WHERE expires_at <= $1::bigint"},
        {"acct_sweep_revoked", "DELETE FROM mfakit_revoked_tokens WHERE expires_at <= $1::bigint"},
        {"acct_sweep_throttle",
         "DELETE FROM mfakit_login_throttle WHERE locked_until <= $1::bigint AND updated_at + 86400 <= $1::bigint"},
        {"acct_noop", "SELECT 1"},
    }};
    for (const auto& [name, sql] : statements) {
      pg_result r(PQprepare(pg, name, sql.c_str(), 0, nullptr));
      if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return fail();
    }
    return c;
  }

  options opt_;
  mutable pool pool_;
};

}  // namespace mfakit_examples
