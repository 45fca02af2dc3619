// mfakit::sqlite_store: a record store (mfakit/store.hpp) on SQLite, the
// mfakit::sqlite component (CMake: find_package(mfakit COMPONENTS sqlite),
// target mfakit::sqlite; pkg-config: mfakit-sqlite). Needs sqlite3.h and
// libsqlite3, nothing else beyond the core. It passes the shipped
// conformance suite (mfakit/testing/store_conformance.hpp).
//
//   mfakit::sqlite_store store({.path = "/var/lib/app/mfa.sqlite"});
//   mfakit::service<mfakit::sqlite_store> svc(store, config);
//
// Layout: one table of records and a one-row sequence table.
//
//   CREATE TABLE <t>     (key BLOB PRIMARY KEY, data BLOB NOT NULL, version INTEGER NOT NULL)
//   CREATE TABLE <t>_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)
//
// compare_and_swap (see mfakit/store.hpp for the contract):
//   write:  BEGIN IMMEDIATE; v = (UPDATE <t>_seq SET value = value + 1 RETURNING value);
//           UPDATE <t> SET data = ?, version = v WHERE key = ? AND version = ?   (expected != 0)
//           INSERT INTO <t> ... ON CONFLICT (key) DO NOTHING                   (expected == 0)
//           COMMIT if one row changed, else ROLLBACK (a lost race changes nothing)
//   delete: DELETE FROM <t> WHERE key = ? AND version = ?   (one statement, atomic)
// Versions come from the sequence, so they only grow, also across a delete
// and re-create of a key (no ABA). Keys are BLOBs: exact bytes, compared
// bytewise (case, trailing spaces and NUL bytes all count).
//
// Threads: a small pool of connections (one per concurrent caller, up to
// max_connections; callers beyond that wait for a free one). SQLite itself
// serialises writers with its file lock; a busy handler retries with short
// back-off up to busy_timeout, so several processes can share the file too.
// The database runs in WAL mode so readers never wait for the writer.
//
// Concurrent writers: the one that comes second waits for the lock (the
// busy handler) and only then begins: BEGIN IMMEDIATE takes the lock and a
// fresh snapshot together, and a DELETE outside a transaction does the same,
// so the waiter sees the winner's version and answers false, a clean lost
// race. SQLite never aborts a write for having read an old version (there is
// no counterpart of PostgreSQL's 40001, see postgresql.hpp). SQLITE_BUSY
// after busy_timeout is a failure (storage_failure): nothing changed (the
// transaction never began, or the statement wrote nothing), but it is no
// lost race, and as one the service would retry at once, max_retries times,
// against a lock that is still held. In shared-cache mode (a
// "file:...?cache=shared" URI, also the way to share an in-memory database)
// connections meet on table locks instead, and SQLITE_LOCKED reaches no busy
// handler; step() waits it out the same way, up to busy_timeout, so it too
// ends in a clean win or loss, not in an error. A connection goes back to the
// pool outside any transaction, its statements reset (one left inside a
// transaction is rolled back, or closed: detail::sqlite::ready_for_reuse).
//
// Errors: the constructor throws std::runtime_error when it cannot open or
// set up the database (a host fails at start-up, not later); the message
// names the file (without a URI's query part) and SQLite's reason. Calls
// answer errc::storage_failure; they never throw for a database error.
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/errors.hpp"
#include "mfakit/store.hpp"
#include "mfakit/stores/detail/connection_pool.hpp"
#include "mfakit/stores/detail/sqlite_handles.hpp"

namespace mfakit {

class sqlite_store {
 public:
  struct options {
    /// The database file, created if missing (required). A "file:" URI
    /// works too (say "file:name?mode=memory&cache=shared" in tests).
    std::string path;
    /// The records table ([a-z_][a-z0-9_]*, at most 48 characters); a
    /// second table `<table>_seq` holds the version sequence.
    std::string table = "mfakit_records";
    /// Connections in the pool: callers beyond that wait for a free one.
    unsigned max_connections = 8;
    /// How long a call waits for another connection's (or process's) lock
    /// before it answers storage_failure.
    std::chrono::milliseconds busy_timeout{10'000};
    /// PRAGMA synchronous=FULL: a spent code survives a power cut. NORMAL
    /// (false) is faster in WAL mode, and the last commits can be lost.
    bool synchronous_full = true;
  };

  /// Opens (and creates) the database and its tables. Throws
  /// std::runtime_error when it cannot: a host fails at start-up, not later.
  explicit sqlite_store(options o)
      : opt_(std::move(o)),
        pool_(
            [this] {
              std::string error;
              return connect(error);
            },
            opt_.max_connections, &stores::detail::sqlite::ready_for_reuse<connection>) {
    if (opt_.path.empty()) throw std::runtime_error("mfakit::sqlite_store: options.path is empty");
    if (!valid_identifier(opt_.table))
      throw std::runtime_error("mfakit::sqlite_store: options.table must match [a-z_][a-z0-9_]* (at most 48)");
    std::string error;
    auto first = connect(error);
    if (!first)
      throw std::runtime_error("mfakit::sqlite_store: cannot open " + opt_.path.substr(0, opt_.path.find('?')) + ": " +
                               error);
    pool_.adopt(std::move(first));
  }

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;
  ~sqlite_store() = default;

  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) {
    lease c(pool_);
    if (!c) return errc::storage_failure;
    sqlite3_stmt* s = c->load.get();
    stores::detail::sqlite::statement_reset guard(s);
    if (!bind_key(s, 1, key)) return errc::storage_failure;
    const int rc = step(*c, s);
    if (rc == SQLITE_DONE) return std::optional<stored_record>{};
    if (rc != SQLITE_ROW) return errc::storage_failure;
    stored_record r;
    const auto* data = static_cast<const char*>(sqlite3_column_blob(s, 0));
    const int n = sqlite3_column_bytes(s, 0);
    if (n > 0 && data != nullptr) r.bytes.assign(data, static_cast<std::size_t>(n));
    const sqlite3_int64 v = sqlite3_column_int64(s, 1);
    if (v <= 0) return errc::storage_failure;
    r.version = static_cast<std::uint64_t>(v);
    return std::optional<stored_record>{std::move(r)};
  }

  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    if (expected > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max())) return false;
    const auto expected_v = static_cast<sqlite3_int64>(expected);
    lease c(pool_);
    if (!c) return errc::storage_failure;

    if (!next) {
      if (expected == 0) {  // "delete a key that must not exist": true iff absent
        sqlite3_stmt* s = c->exists.get();
        stores::detail::sqlite::statement_reset guard(s);
        if (!bind_key(s, 1, key)) return errc::storage_failure;
        const int rc = step(*c, s);
        if (rc == SQLITE_DONE) return true;
        if (rc == SQLITE_ROW) return false;
        return errc::storage_failure;
      }
      sqlite3_stmt* s = c->remove.get();
      stores::detail::sqlite::statement_reset guard(s);
      if (!bind_key(s, 1, key) || sqlite3_bind_int64(s, 2, expected_v) != SQLITE_OK) return errc::storage_failure;
      if (step(*c, s) != SQLITE_DONE) return errc::storage_failure;
      return sqlite3_changes(c->db.get()) == 1;
    }

    if (!exec(*c, c->begin.get())) return errc::storage_failure;
    transaction tx(*c);
    sqlite3_int64 version = 0;
    {
      sqlite3_stmt* s = c->bump.get();
      stores::detail::sqlite::statement_reset guard(s);
      if (step(*c, s) != SQLITE_ROW) return errc::storage_failure;
      version = sqlite3_column_int64(s, 0);
      if (sqlite3_step(s) != SQLITE_DONE || version <= 0) return errc::storage_failure;
    }
    sqlite3_stmt* s = expected == 0 ? c->insert.get() : c->update.get();
    stores::detail::sqlite::statement_reset guard(s);
    if (!bind_key(s, 1, key) || sqlite3_bind_blob64(s, 2, next->data(), next->size(), SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(s, 3, version) != SQLITE_OK ||
        (expected != 0 && sqlite3_bind_int64(s, 4, expected_v) != SQLITE_OK))
      return errc::storage_failure;
    if (step(*c, s) != SQLITE_DONE) return errc::storage_failure;
    if (sqlite3_changes(c->db.get()) != 1) return false;  // lost: the guard rolls back
    if (!tx.commit()) return errc::storage_failure;
    return true;
  }

  [[nodiscard]] const std::string& table() const noexcept { return opt_.table; }

 private:
  using stmt_ptr = stores::detail::sqlite::stmt_ptr;

  struct connection {
    stores::detail::sqlite::busy_wait busy;
    // statements before the handle: they are finalized first
    stores::detail::sqlite::db_ptr db;
    stmt_ptr load, exists, remove, begin, bump, insert, update, commit, rollback;
  };
  using pool = stores::detail::connection_pool<connection>;
  using lease = pool::lease;

  [[nodiscard]] static bool valid_identifier(std::string_view s) noexcept {
    if (s.empty() || s.size() > 48 || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
  }

  /// Keys are bound as BLOBs (exact bytes; a zero-length blob for "").
  [[nodiscard]] static bool bind_key(sqlite3_stmt* s, int index, std::string_view v) noexcept {
    static const char empty = 0;
    return sqlite3_bind_blob64(s, index, v.empty() ? &empty : v.data(), v.size(), SQLITE_STATIC) == SQLITE_OK;
  }

  [[nodiscard]] static bool exec(const connection& c, sqlite3_stmt* s) noexcept {
    const int rc = step(c, s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
  }
  using transaction = stores::detail::sqlite::transaction<connection, &sqlite_store::exec>;

  // sqlite3_step, waiting out SQLITE_LOCKED. Connections in shared-cache
  // mode (a "file:...?cache=shared" URI, or sqlite3_enable_shared_cache) meet
  // on table locks, and SQLITE_LOCKED reaches no busy handler: answered as is,
  // a writer that merely came second would fail instead of waiting and then
  // losing (or winning) cleanly. It is waited out here like SQLITE_BUSY, with
  // the same short sleeps, up to busy_timeout. The statement is reset before
  // each sleep, so a waiting caller holds no table lock (no deadlock).
  [[nodiscard]] static int step(const connection& c, sqlite3_stmt* s) noexcept {
    int rc = sqlite3_step(s);
    if ((rc & 0xFF) != SQLITE_LOCKED) return rc;
    const auto deadline = std::chrono::steady_clock::now() + c.busy.timeout;
    for (int count = 0; (rc & 0xFF) == SQLITE_LOCKED && std::chrono::steady_clock::now() < deadline; ++count) {
      sqlite3_reset(s);
      stores::detail::sqlite::back_off(count);
      rc = sqlite3_step(s);
    }
    return rc;
  }

  [[nodiscard]] std::unique_ptr<connection> connect(std::string& error) const {
    auto c = std::make_unique<connection>();
    c->busy.timeout = opt_.busy_timeout;
    c->db = stores::detail::sqlite::open(opt_.path, c->busy, error);
    if (!c->db) return nullptr;
    sqlite3* raw = c->db.get();
    const std::string& t = opt_.table;
    const std::string setup = std::string("PRAGMA journal_mode=WAL;") +
                              (opt_.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;") +
                              "BEGIN IMMEDIATE;"
                              "CREATE TABLE IF NOT EXISTS " +
                              t +
                              " (key BLOB PRIMARY KEY, data BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;"
                              "CREATE TABLE IF NOT EXISTS " +
                              t +
                              "_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);"
                              "INSERT OR IGNORE INTO " +
                              t +
                              "_seq (id, value) VALUES (1, 0);"
                              "COMMIT;";
    char* err = nullptr;
    int setup_rc = sqlite3_exec(raw, setup.c_str(), nullptr, nullptr, &err);
    // shared-cache mode: SQLITE_LOCKED while another connection writes (see step)
    const auto deadline = std::chrono::steady_clock::now() + opt_.busy_timeout;
    for (int count = 0; (setup_rc & 0xFF) == SQLITE_LOCKED && std::chrono::steady_clock::now() < deadline; ++count) {
      sqlite3_free(err);
      err = nullptr;
      if (sqlite3_get_autocommit(raw) == 0) (void)sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
      stores::detail::sqlite::back_off(count);
      setup_rc = sqlite3_exec(raw, setup.c_str(), nullptr, nullptr, &err);
    }
    if (setup_rc != SQLITE_OK) {
      error = err != nullptr ? err : sqlite3_errmsg(raw);
      sqlite3_free(err);
      return nullptr;
    }
    const auto prepare = [&](stmt_ptr& out, const std::string& sql) {
      if (stores::detail::sqlite::prepare(raw, out, sql)) return true;
      error = sqlite3_errmsg(raw);
      return false;
    };
    const bool ok =
        prepare(c->load, "SELECT data, version FROM " + t + " WHERE key = ?1") &&
        prepare(c->exists, "SELECT 1 FROM " + t + " WHERE key = ?1") &&
        prepare(c->remove, "DELETE FROM " + t + " WHERE key = ?1 AND version = ?2") &&
        prepare(c->begin, "BEGIN IMMEDIATE") &&
        prepare(c->bump, "UPDATE " + t + "_seq SET value = value + 1 WHERE id = 1 RETURNING value") &&
        prepare(c->insert,
                "INSERT INTO " + t + " (key, data, version) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO NOTHING") &&
        prepare(c->update, "UPDATE " + t + " SET data = ?2, version = ?3 WHERE key = ?1 AND version = ?4") &&
        prepare(c->commit, "COMMIT") && prepare(c->rollback, "ROLLBACK");
    if (!ok) return nullptr;
    return c;
  }

  options opt_;
  pool pool_;
};

static_assert(record_store<sqlite_store>);

}  // namespace mfakit
