// What mfakit::sqlite_store (mfakit/stores/sqlite.hpp) and a host's own
// tables on the same file do alike with SQLite: owning handles, opening a
// file with the short-sleep busy handler, one-off statement resets, the
// pool's reuse hook and a rollback-unless-committed guard. How each one runs
// a statement (sqlite_store also waits out SQLITE_LOCKED) stays its own.
// Part of the mfakit::sqlite component (needs sqlite3.h and libsqlite3).
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace mfakit::stores::detail::sqlite {

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// One short sleep of a lock wait: 30 us, doubling up to about 2 ms.
inline void back_off(int count) noexcept {
  std::this_thread::sleep_for(std::chrono::microseconds(30 << std::min(count, 6)));
}

/// A connection's busy handler: short sleeps (back_off) until `timeout`.
/// SQLite's default handler sleeps up to 100 ms, which starves a busy pool.
struct busy_wait {
  std::chrono::milliseconds timeout{};
  std::chrono::steady_clock::time_point since{};

  static int handler(void* ctx, int count) noexcept {
    auto* w = static_cast<busy_wait*>(ctx);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) w->since = now;
    if (now - w->since >= w->timeout) return 0;
    back_off(count);
    return 1;
  }
};

/// Opens (and creates) `path` for use by one thread at a time, with `busy`
/// as its busy handler (it must outlive the handle). On failure: nullptr and
/// SQLite's reason in `error` (never the path: the caller names it).
[[nodiscard]] inline db_ptr open(const std::string& path, busy_wait& busy, std::string& error) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ptr db(raw);
  if (rc != SQLITE_OK) {
    error = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    return nullptr;
  }
  sqlite3_busy_handler(raw, &busy_wait::handler, &busy);
  return db;
}

/// Prepares a statement kept for the connection's lifetime.
[[nodiscard]] inline bool prepare(sqlite3* db, stmt_ptr& out, const std::string& sql) noexcept {
  sqlite3_stmt* s = nullptr;
  const int rc =
      sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  out.reset(s);
  return rc == SQLITE_OK;
}

/// Makes a prepared statement ready for its next use: reset and unbound.
inline void reset_and_unbind(sqlite3_stmt* s) noexcept {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

/// A pool's reuse hook for a connection: back with no statement mid-way and
/// outside a transaction. A statement stepped but not reset (its cursor, its
/// bindings and, in WAL mode, its read snapshot would reach the next caller)
/// is reset; a transaction left open (a call that returned early or threw)
/// is rolled back. One whose ROLLBACK fails is closed, which rolls it back.
[[nodiscard]] inline bool ready_for_reuse(sqlite3* db) noexcept {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s)) {
    if (sqlite3_stmt_busy(s) != 0) sqlite3_reset(s);
  }
  if (sqlite3_get_autocommit(db) != 0) return true;
  return sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK && sqlite3_get_autocommit(db) != 0;
}

/// The same as a connection_pool's reuse hook, for an adapter's connection
/// type with its handle in `db`: connection_pool<C>(..., &ready_for_reuse<C>).
template <class Connection>
[[nodiscard]] bool ready_for_reuse(Connection& c) noexcept {
  return ready_for_reuse(c.db.get());
}

/// Resets a statement and its bindings when the scope ends.
class statement_reset {
 public:
  explicit statement_reset(sqlite3_stmt* s) noexcept : s_(s) {}
  statement_reset(const statement_reset&) = delete;
  statement_reset& operator=(const statement_reset&) = delete;
  ~statement_reset() { reset_and_unbind(s_); }

 private:
  sqlite3_stmt* s_;
};

/// Rolls back unless committed: the connection's prepared `commit` and
/// `rollback` statements, run by the adapter's own `Exec(connection, stmt)`
/// (true: SQLITE_DONE).
template <class Connection, bool (*Exec)(const Connection&, sqlite3_stmt*) noexcept>
class transaction {
 public:
  explicit transaction(const Connection& c) noexcept : c_(c) {}
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;
  ~transaction() {
    if (!done_) (void)Exec(c_, c_.rollback.get());
  }
  [[nodiscard]] bool commit() noexcept {
    done_ = Exec(c_, c_.commit.get());
    return done_;
  }

 private:
  const Connection& c_;
  bool done_ = false;
};

}  // namespace mfakit::stores::detail::sqlite
