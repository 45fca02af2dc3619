// The SQLite adapter against mfakit's conformance suite (64 threads) on a
// real database file in the build directory; two adapters on one file (two
// app servers); versions surviving a reopen.
#include "store_test_support.hpp"

#include <mfakit/stores/sqlite.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <mfakit/records.hpp>

using namespace store_test;

// 64 threads queue for one write lock; on a loaded 2-core machine one of them
// can wait past the default 10 s (then its write fails as it should, and the
// conformance check counts it). The check is about correctness, not latency.
constexpr std::chrono::milliseconds contended_busy_timeout{120'000};

TEST_CASE("sqlite store: conformance, 64 threads") {
  const std::string path = fresh_sqlite_path("sqlite-conformance");
  {
    mfakit::sqlite_store::options o;
    o.path = path;
    o.busy_timeout = contended_busy_timeout;
    mfakit::sqlite_store store(o);
    mfakit::testing::conformance_options co;
    co.threads = 64;
    require_conformance(mfakit::testing::run_store_conformance(store, co));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: conformance with two stores on one file (two app servers)") {
  const std::string path = fresh_sqlite_path("sqlite-two-servers");
  {
    mfakit::sqlite_store::options o;
    o.path = path;
    o.max_connections = 4;
    o.busy_timeout = contended_busy_timeout;
    mfakit::sqlite_store a(o);
    mfakit::sqlite_store b(o);
    two_servers<mfakit::sqlite_store> both{a, b};
    mfakit::testing::conformance_options co;
    co.threads = 64;
    co.trials = 1;
    require_conformance(mfakit::testing::run_store_conformance(both, co));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: records and versions survive a reopen, no version is reused") {
  const std::string path = fresh_sqlite_path("sqlite-reopen");
  std::uint64_t before = 0;
  mfakit::sqlite_store::options o;
  o.path = path;
  {
    mfakit::sqlite_store s(o);
    REQUIRE(*s.compare_and_swap("k", 0, std::string("one")));
    auto r = s.load("k");
    REQUIRE((r && *r));
    before = (*r)->version;
    REQUIRE(*s.compare_and_swap("k", before, std::nullopt));  // deleted
  }
  {
    mfakit::sqlite_store s(o);
    REQUIRE(*s.compare_and_swap("k", 0, std::string("two")));
    auto r = s.load("k");
    REQUIRE((r && *r));
    CHECK((*r)->bytes == "two");
    CHECK((*r)->version > before);
    CHECK_FALSE(*s.compare_and_swap("k", before, std::string("stale")));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: a start-up error names the file, not a URI's query") {
  mfakit::sqlite_store::options o;
  o.path = "file:/nonexistent-dir/for/sure/db.sqlite?mode=rw&hexkey=68756e74657232";
  try {
    mfakit::sqlite_store s(o);
    FAIL("the store was constructed");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("file:/nonexistent-dir/for/sure/db.sqlite") != std::string::npos);
    CHECK(what.find("hexkey") == std::string::npos);
    CHECK(what.find("68756e74657232") == std::string::npos);
  }
}

TEST_CASE("sqlite store: an unusable path fails at construction") {
  mfakit::sqlite_store::options o;
  o.path = "/nonexistent-dir/for/sure/db.sqlite";
  CHECK_THROWS_AS(mfakit::sqlite_store(o), std::runtime_error);
  o.path = fresh_sqlite_path("sqlite-badname");
  o.table = "bad name; DROP TABLE x";
  CHECK_THROWS_AS(mfakit::sqlite_store(o), std::runtime_error);
}

// Concurrent writers on SQLite. Writers on separate connections (the pool,
// other processes) meet on the file lock: SQLITE_BUSY, which the busy
// handler waits out (up to busy_timeout); each try of BEGIN IMMEDIATE takes
// a fresh snapshot, so a writer queued behind another sees its version and
// loses with false. SQLITE_BUSY after busy_timeout is a failure, and changed
// nothing. Connections in shared-cache mode (a "file:...?cache=shared" URI)
// meet on table locks instead: SQLITE_LOCKED, which no busy handler sees.
namespace {

/// A connection of the test's own, outside the store's pool.
class raw_sqlite {
 public:
  explicit raw_sqlite(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  }
  raw_sqlite(const raw_sqlite&) = delete;
  raw_sqlite& operator=(const raw_sqlite&) = delete;
  ~raw_sqlite() { sqlite3_close_v2(db_); }
  bool exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK; }

 private:
  sqlite3* db_ = nullptr;
};

/// Takes the write lock and changes key "k" (a new version), uncommitted.
std::string hold_and_change(const std::string& t) {
  return "BEGIN IMMEDIATE; UPDATE " + t + "_seq SET value = value + 1 WHERE id = 1; UPDATE " + t +
         " SET data = CAST('other' AS BLOB), version = (SELECT value FROM " + t +
         "_seq WHERE id = 1) WHERE key = x'6b';";
}

}  // namespace

TEST_CASE("sqlite store: a write queued behind another connection loses with false, and fails past busy_timeout") {
  const std::string path = fresh_sqlite_path("sqlite-busy");
  {
    mfakit::sqlite_store::options o;
    o.path = path;
    o.max_connections = 1;  // the connection that waited serves the next call
    mfakit::sqlite_store store(o);
    o.busy_timeout = std::chrono::milliseconds(100);
    mfakit::sqlite_store impatient(o);
    REQUIRE(*store.compare_and_swap("k", 0, std::string("one")));
    auto v1 = store.load("k");
    REQUIRE((v1 && *v1));
    raw_sqlite other(path);

    // held past busy_timeout: a failure (not a lost race), nothing changed
    REQUIRE(other.exec(hold_and_change(store.table())));
    auto timed_out = impatient.compare_and_swap("k", (*v1)->version, std::string("two"));
    CHECK(!timed_out);
    auto timed_out_delete = impatient.compare_and_swap("k", (*v1)->version, std::nullopt);
    CHECK(!timed_out_delete);
    auto during = store.load("k");  // WAL: readers do not wait for the writer
    CHECK((during && *during && (*during)->bytes == "one"));
    REQUIRE(other.exec("ROLLBACK"));
    auto after = store.load("k");
    CHECK((after && *after && **after == **v1));

    // let go within busy_timeout, after changing the record: the waiting
    // write and the waiting delete both see the new version and lose
    for (const bool remove : {false, true}) {
      REQUIRE(other.exec(hold_and_change(store.table())));
      std::optional<mfakit::result<bool>> got;
      std::thread writer([&] {
        got = remove ? store.compare_and_swap("k", (*v1)->version, std::nullopt)
                     : store.compare_and_swap("k", (*v1)->version, std::string("two"));
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      REQUIRE(other.exec("COMMIT"));
      writer.join();
      REQUIRE(got.has_value());
      CHECK((*got && !**got));
      auto now = store.load("k");
      REQUIRE((now && *now));
      CHECK((*now)->bytes == "other");
      v1 = now;  // the next round changes it again; this version goes stale
    }
    // the pooled connection is clean (no transaction left open)
    auto next = store.compare_and_swap("k", (*v1)->version, std::string("three"));
    CHECK((next && *next));
    auto next_impatient = impatient.compare_and_swap("k", 0, std::string("x"));
    CHECK((next_impatient && !*next_impatient));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: conformance in shared-cache mode (file URI, cache=shared), 64 threads") {
  const std::string path = fresh_sqlite_path("sqlite-shared-cache");
  {
    mfakit::sqlite_store::options o;
    o.path = "file:" + path + "?cache=shared";
    o.busy_timeout = contended_busy_timeout;
    mfakit::sqlite_store store(o);
    mfakit::testing::conformance_options co;
    co.threads = 64;
    require_conformance(mfakit::testing::run_store_conformance(store, co));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: conformance on a shared in-memory database (mode=memory, cache=shared), 64 threads") {
  mfakit::sqlite_store::options o;
  o.path = "file:mfakit-conformance-" + random_suffix() + "?mode=memory&cache=shared";
  mfakit::sqlite_store store(o);
  mfakit::testing::conformance_options co;
  co.threads = 64;
  co.trials = 1;
  require_conformance(mfakit::testing::run_store_conformance(store, co));
}

// The store's pool hook (detail::sqlite::ready_for_reuse): a connection whose
// lease ended inside a transaction, or with a statement stepped but not
// reset, is rolled back and reset and reused, not closed and reopened; it
// holds no lock afterwards (another connection, with no busy wait, writes)
// and nothing of the transaction is left.
TEST_CASE("sqlite pool: a connection left in a transaction or mid-statement is repaired and reused, not reopened") {
  namespace su = mfakit::stores::detail::sqlite;
  struct connection {
    su::busy_wait busy;
    su::db_ptr db;
    su::stmt_ptr probe;  // after db: finalized first
  };
  using pool_type = mfakit::stores::detail::connection_pool<connection>;
  const std::string path = fresh_sqlite_path("pool_reuse");
  const auto exec = [](sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); };
  int opens = 0;
  {
    pool_type pool(
        [&]() -> std::unique_ptr<connection> {
          ++opens;
          auto c = std::make_unique<connection>();
          std::string error;
          c->db = su::open(path, c->busy, error);
          if (!c->db) return nullptr;
          return c;
        },
        1, &su::ready_for_reuse<connection>);
    // another connection that never waits for a lock: SQLITE_BUSY at once
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
    const su::db_ptr other(raw);
    REQUIRE(exec(other.get(), "CREATE TABLE t (x)") == SQLITE_OK);
    REQUIRE(exec(other.get(), "INSERT INTO t VALUES (1), (2)") == SQLITE_OK);
    {
      const pool_type::lease c(pool);
      REQUIRE(c);
      REQUIRE(exec(c->db.get(), "BEGIN IMMEDIATE") == SQLITE_OK);
      REQUIRE(exec(c->db.get(), "CREATE TABLE pool_reuse_probe (x)") == SQLITE_OK);
      REQUIRE(sqlite3_get_autocommit(c->db.get()) == 0);
    }
    CHECK(exec(other.get(), "INSERT INTO t VALUES (3)") == SQLITE_OK);  // no lock left behind
    {
      const pool_type::lease c(pool);
      REQUIRE(c);
      CHECK(sqlite3_get_autocommit(c->db.get()) != 0);
      CHECK(exec(c->db.get(), "SELECT x FROM pool_reuse_probe") == SQLITE_ERROR);  // rolled back
      // a cursor left mid-way: it holds a read lock, and its next step would
      // continue the old query for the next caller
      REQUIRE(su::prepare(c->db.get(), c->probe, "SELECT x FROM t ORDER BY x"));
      REQUIRE(sqlite3_step(c->probe.get()) == SQLITE_ROW);
      REQUIRE(sqlite3_stmt_busy(c->probe.get()) != 0);
    }
    CHECK(exec(other.get(), "INSERT INTO t VALUES (4)") == SQLITE_OK);  // the read lock is gone
    {
      const pool_type::lease c(pool);
      REQUIRE(c);
      CHECK(sqlite3_stmt_busy(c->probe.get()) == 0);
      REQUIRE(sqlite3_step(c->probe.get()) == SQLITE_ROW);
      CHECK(sqlite3_column_int(c->probe.get(), 0) == 1);  // from the start, not row 2
      sqlite3_reset(c->probe.get());
    }
    CHECK(opens == 1);
  }
  remove_sqlite(path);
}

// The suite's verdict names the rule a store broke, so the two readings of
// "fewer failures counted than wrong guesses" are told apart: a store that
// fails calls (an availability problem: each such request answers
// storage_failure, counted nowhere and telling the guesser nothing) and a
// store that loses a counted guess (a security defect: a rejection answered
// and never counted). Both wrap a real SQLite store.
namespace {

/// Every `every`-th load of a login challenge fails, as a database that
/// cancels reads under load (the challenge: set-up and enable still work).
template <class Store>
struct failing_loads {
  Store& inner;
  unsigned every;
  std::atomic<unsigned> n{0};
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    if (key.starts_with("mfakit/challenge/") && ++n % every == 0) return mfakit::errc::storage_failure;
    return inner.load(key);
  }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    return inner.compare_and_swap(key, expected, next);
  }
};

/// Every `every`-th write of an account record that counts a failure
/// answers true and writes nothing: a counted guess lost, its request told
/// it was stored.
template <class Store>
struct forgetful_updates {
  Store& inner;
  unsigned every;
  std::atomic<unsigned> n{0};
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return inner.load(key); }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    if (next && expected != 0 && key.starts_with("mfakit/account/")) {
      auto rec = mfakit::decode_account(*next);
      if (rec && rec->failures > 0 && ++n % every == 0) {
        auto cur = inner.load(key);
        if (cur && *cur && (*cur)->version == expected) return true;  // "stored"
      }
    }
    return inner.compare_and_swap(key, expected, next);
  }
};

/// The failures of a quick run (16 threads, one trial, no injected faults, one loop).
template <class Store>
std::vector<std::string> quick_failures(Store& store) {
  mfakit::testing::conformance_options co;
  co.threads = 16;
  co.trials = 1;
  co.erroring_stores = false;
  co.both_loops = false;
  return mfakit::testing::run_store_conformance(store, co).failures;
}

bool any_has(const std::vector<std::string>& failures, std::string_view what) {
  for (const auto& f : failures)
    if (f.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("sqlite store: the conformance verdict tells a failing store from one that loses a counted guess") {
  const std::string path = fresh_sqlite_path("sqlite-verdicts");
  {
    mfakit::sqlite_store::options o;
    o.path = path;
    o.busy_timeout = contended_busy_timeout;
    mfakit::sqlite_store store(o);
    {
      failing_loads<mfakit::sqlite_store> flaky{store, 13};  // at least one in each race's 16 loads
      const auto failures = quick_failures(flaky);
      for (const auto& f : failures) UNSCOPED_INFO(f);
      CHECK(any_has(failures, "concurrent wrong guesses"));
      CHECK(any_has(failures, "broken rule: no storage_failure without a store error"));
      for (const auto& f : failures)  // each says the store failed calls
        if (f.find("no storage_failure without") != std::string::npos)
          CHECK(f.find("store errors: 0 from the host's store") == std::string::npos);
      CHECK_FALSE(any_has(failures, "broken rule: failure count == code_mismatch answers"));  // none uncounted
    }
    {
      forgetful_updates<mfakit::sqlite_store> forgetful{store, 7};
      const auto failures = quick_failures(forgetful);
      for (const auto& f : failures) UNSCOPED_INFO(f);
      CHECK(any_has(failures, "concurrent wrong guesses"));
      CHECK(any_has(failures, "broken rule: failure count == code_mismatch answers (no answered guess uncounted)"));
      CHECK_FALSE(any_has(failures, "no storage_failure without a store error"));
    }
  }
  remove_sqlite(path);
}
