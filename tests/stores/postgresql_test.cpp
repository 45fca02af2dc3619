// The PostgreSQL adapter against mfakit's conformance suite (64 threads) on
// a real server: CTest starts it first (start-postgres.sh, a fixture), and a
// server that is missing or does not start fails these tests.
#include "store_test_support.hpp"

#include <mfakit/stores/postgresql.hpp>

#include <fmt/format.h>
#include <libpq-fe.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <mfakit/records.hpp>
#include <mfakit/service.hpp>

using namespace store_test;

namespace {

/// A store's options: a fresh table named `table_prefix` + a random suffix.
mfakit::postgresql_store::options store_options(std::string conninfo, std::string_view table_prefix,
                                                unsigned max_connections) {
  mfakit::postgresql_store::options o;
  o.conninfo = std::move(conninfo);
  o.table = std::string(table_prefix) + random_suffix();
  o.max_connections = max_connections;
  return o;
}

}  // namespace

TEST_CASE("postgres store: conformance with two stores on one database (two app servers)") {
  const auto o = store_options(MFAKIT_TEST_PG_CONNINFO, "conformance_", 8);
  mfakit::postgresql_store a(o);
  mfakit::postgresql_store b(o);
  two_servers<mfakit::postgresql_store> both{a, b};
  mfakit::testing::conformance_options co;
  co.threads = 64;
  co.trials = 1;
  require_conformance(mfakit::testing::run_store_conformance(both, co));
  CHECK(a.drop_schema());
}

TEST_CASE("postgres store: a server that is not there fails at construction") {
  mfakit::postgresql_store::options o;
  o.conninfo = "host=/nonexistent-socket-dir port=1 dbname=x connect_timeout=2";
  CHECK_THROWS_AS(mfakit::postgresql_store(o), std::runtime_error);
}

// A PostgreSQL server (or database, or role) whose
// default_transaction_isolation is REPEATABLE READ or SERIALIZABLE answers
// the second of two concurrent UPDATEs of one row with SQLSTATE 40001
// instead of re-checking its WHERE. That is a lost race, and must reach the
// service as one (false, nothing changed), never as a store error.
namespace {

/// The test cluster's conninfo with a session default isolation level.
std::string conninfo_at(std::string_view isolation) {
  // libpq unquotes '\\' to '\', and the server's option parser reads '\ ' as
  // a space inside one argument ("repeatable read").
  std::string level;
  for (char ch : isolation) {
    if (ch == ' ') level += "\\\\";
    level += ch;
  }
  return std::string(MFAKIT_TEST_PG_CONNINFO) + " options='-c default_transaction_isolation=" + level + "'";
}

/// A plain libpq connection of the test's own.
class pg_session {
 public:
  explicit pg_session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    REQUIRE(conn_ != nullptr);
    INFO(PQerrorMessage(conn_));
    REQUIRE(PQstatus(conn_) == CONNECTION_OK);
  }
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;
  ~pg_session() { PQfinish(conn_); }

  /// Runs SQL that returns no rows; false (and the message in `error`) when it fails.
  bool exec(const std::string& sql, std::string* error = nullptr) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && error != nullptr) *error = PQresultErrorMessage(r);
    PQclear(r);
    return ok;
  }
  /// The first column of the first row as text ("" when there is none).
  std::string value(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    std::string v;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) v = PQgetvalue(r, 0, 0);
    PQclear(r);
    return v;
  }

 private:
  PGconn* conn_;
};

/// Polls `sql` (a count) until it is non-zero, for up to 20 s.
bool wait_for(pg_session& s, const std::string& sql) {
  for (int i = 0; i < 2000; ++i) {
    const std::string n = s.value(sql);
    if (!n.empty() && n != "0") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// Sessions of this database left inside a transaction (idle or aborted).
std::string sessions_in_transaction(pg_session& s) {
  return s.value(
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND state LIKE 'idle in transaction%'");
}

/// mfakit's conformance suite with 64 threads, on a fresh table; no session
/// is left inside a transaction.
void conformance_through(const std::string& conninfo) {
  mfakit::postgresql_store store(store_options(conninfo, "conformance_", 16));
  mfakit::testing::conformance_options co;
  co.threads = 64;
  require_conformance(mfakit::testing::run_store_conformance(store, co));
  pg_session check(MFAKIT_TEST_PG_CONNINFO);
  CHECK(sessions_in_transaction(check) == "0");
  CHECK(store.drop_schema());
}

void conformance_at(std::string_view isolation) {
  const std::string conninfo = conninfo_at(isolation);
  {
    pg_session check(conninfo);
    REQUIRE(check.value("SHOW transaction_isolation") == isolation);
  }
  conformance_through(conninfo);
}

using clock_type = mfakit::testing::manual_clock;
using service_type = mfakit::service<mfakit::postgresql_store, clock_type>;

std::string totp_at(const service_type& svc, const mfakit::secret& key, std::int64_t t) {
  const auto& cfg = svc.config();
  auto c = mfakit::totp(key.bytes(), t, mfakit::totp_params{cfg.alg, cfg.digits, cfg.period, 0});
  return c ? c->to_string() : std::string();
}

struct enrolled {
  std::string user;
  mfakit::secret key;
  std::vector<mfakit::backup_code> codes;
  std::vector<std::string> tokens;  ///< one login challenge per thread
};

enrolled enrol(service_type& svc, const clock_type& clock, unsigned challenges) {
  enrolled e;
  e.user = "unreachable-" + random_suffix();
  auto s = svc.setup(e.user, "unreachable@example.com");
  REQUIRE(s.has_value());
  e.key = std::move(s->key);
  auto en = svc.enable(e.user, totp_at(svc, e.key, clock.unix_time()));
  REQUIRE(en.has_value());
  e.codes = std::move(en->backup_codes);
  clock.advance(svc.config().period);  // the enable step is burned
  for (unsigned i = 0; i < challenges; ++i) {
    auto c = svc.begin_login(e.user);
    REQUIRE(c.has_value());
    e.tokens.push_back(c->token);
  }
  return e;
}

std::uint32_t stored_failures(mfakit::postgresql_store& store, const std::string& user) {
  auto loaded = store.load(mfakit::account_key(user));
  REQUIRE((loaded && *loaded));
  auto rec = mfakit::decode_account((*loaded)->bytes);
  REQUIRE(rec.has_value());
  return rec->failures;
}

/// A code no step of the drift window has.
std::string wrong_code(const service_type& svc, const enrolled& e, std::int64_t now) {
  const auto& cfg = svc.config();
  for (int v = 0; v < 10; ++v) {
    std::string code(static_cast<std::size_t>(cfg.digits), static_cast<char>('0' + v));
    bool in_window = false;
    for (std::int64_t w = -1; w <= 1; ++w) in_window = in_window || totp_at(svc, e.key, now + w * cfg.period) == code;
    if (!in_window) return code;
  }
  FAIL("no wrong code");
  return {};
}

struct tally {
  std::atomic<unsigned> ok{0}, mismatch{0}, throttled{0}, storage_failure{0}, other{0};
  void add(const mfakit::result<mfakit::login_result>& r) {
    if (r) {
      ++ok;
    } else if (r.error() == mfakit::errc::code_mismatch) {
      ++mismatch;
    } else if (r.error() == mfakit::errc::throttled) {
      ++throttled;
    } else if (r.error() == mfakit::errc::storage_failure) {
      ++storage_failure;
    } else {
      ++other;
    }
  }
  [[nodiscard]] std::string str() const {
    return fmt::format("ok {}, code_mismatch {}, throttled {}, storage_failure {}, other {}", ok.load(),
                       mismatch.load(), throttled.load(), storage_failure.load(), other.load());
  }
};

/// The races through the real service at one isolation level.
void service_races_at(std::string_view isolation) {
  constexpr unsigned threads = 64;
  mfakit::postgresql_store store(store_options(conninfo_at(isolation), "unreachable_", 16));
  const clock_type clock;

  {  // 64 threads, one backup code, 64 challenges: exactly one success
    service_type svc(store, mfakit::testing::detail::conformance_config(), clock);
    const enrolled e = enrol(svc, clock, threads);
    auto before = svc.status(e.user);
    REQUIRE(before.has_value());
    tally t;
    mfakit::testing::detail::run_threads(threads, [&](unsigned i) {
      t.add(svc.complete_login(e.tokens[i], e.codes[0].str(), mfakit::factor::backup_code));
    });
    auto after = svc.status(e.user);
    REQUIRE(after.has_value());
    INFO(isolation << ", one backup code, " << threads << " redeemers: " << t.str() << "; backup codes "
                   << before->backup_codes_remaining << " -> " << after->backup_codes_remaining);
    CHECK(t.ok == 1);
    CHECK(t.mismatch == threads - 1);  // the others: the code is spent (no store errors)
    CHECK(after->backup_codes_remaining == before->backup_codes_remaining - 1);
  }
  // 64 parallel wrong guesses on a fresh account; returns how much its
  // stored failure count grew
  const auto guess_wrong = [&](auto cfg, tally& t) {
    service_type svc(store, std::move(cfg), clock);
    const enrolled e = enrol(svc, clock, threads);
    const std::string wrong = wrong_code(svc, e, clock.unix_time());
    const std::uint32_t before = stored_failures(store, e.user);
    mfakit::testing::detail::run_threads(
        threads, [&](unsigned i) { t.add(svc.complete_login(e.tokens[i], wrong, mfakit::factor::totp)); });
    return stored_failures(store, e.user) - before;
  };
  {  // no throttle: every one counted
    tally t;
    const std::uint32_t counted = guess_wrong(mfakit::testing::detail::conformance_config(), t);
    INFO(isolation << ", " << threads << " wrong guesses: " << t.str() << "; failures counted " << counted);
    CHECK(t.mismatch == threads);
    CHECK(counted == threads);
  }
  {  // the same with a throttle: a refusal is either counted or says throttled
    auto cfg = mfakit::testing::detail::conformance_config();
    cfg.throttle = mfakit::throttle_policy::nist();  // 1 s after the first failure; the clock stands still
    tally t;
    const std::uint32_t counted = guess_wrong(std::move(cfg), t);
    INFO(isolation << ", " << threads << " wrong guesses, throttled: " << t.str() << "; failures counted " << counted);
    CHECK(t.mismatch + t.throttled == threads);
    CHECK(counted == t.mismatch);
  }
  pg_session check(MFAKIT_TEST_PG_CONNINFO);
  CHECK(sessions_in_transaction(check) == "0");
  CHECK(store.drop_schema());
}

/// The issue step by step: `n` requests load the same account record, then
/// all wait for its row (another session holds it FOR UPDATE); when it lets
/// go, one UPDATE wins and the others, queued behind it, lose. At REPEATABLE
/// READ and SERIALIZABLE they lose with SQLSTATE 40001.
void queued_writers_at(std::string_view isolation) {
  constexpr unsigned n = 8;
  mfakit::postgresql_store store(store_options(conninfo_at(isolation), "queued_", 2 * n));
  const std::string& t = store.table();
  const clock_type clock;
  service_type svc(store, mfakit::testing::detail::conformance_config(), clock);
  pg_session holder(MFAKIT_TEST_PG_CONNINFO);
  pg_session watch(MFAKIT_TEST_PG_CONNINFO);
  const std::string all_waiting = fmt::format(
      "SELECT CASE WHEN count(*) >= {} THEN 1 ELSE 0 END FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
      "AND query LIKE 'UPDATE {} %'",
      n, t);

  // Runs attempt(token) on n threads while the account row is held, then lets go.
  const auto race = [&](const enrolled& e, tally& tl, const auto& attempt) {
    REQUIRE(holder.exec("BEGIN"));
    REQUIRE(holder.exec("SELECT 1 FROM " + t + " WHERE key = convert_to('" + mfakit::account_key(e.user) +
                        "', 'UTF8') FOR UPDATE"));
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < n; ++i) pool.emplace_back([&, i] { tl.add(attempt(e.tokens[i])); });
    const bool queued = wait_for(watch, all_waiting);
    REQUIRE(holder.exec("COMMIT"));
    for (auto& th : pool) th.join();
    CHECK(queued);
  };

  {  // one backup code
    const enrolled e = enrol(svc, clock, n);
    auto before = svc.status(e.user);
    REQUIRE(before.has_value());
    tally tl;
    race(e, tl, [&](const std::string& token) {
      return svc.complete_login(token, e.codes[0].str(), mfakit::factor::backup_code);
    });
    auto after = svc.status(e.user);
    REQUIRE(after.has_value());
    INFO(isolation << ", one backup code, " << n << " queued redeemers: " << tl.str() << "; backup codes "
                   << before->backup_codes_remaining << " -> " << after->backup_codes_remaining);
    CHECK(tl.ok == 1);
    CHECK(tl.mismatch == n - 1);
    CHECK(after->backup_codes_remaining == before->backup_codes_remaining - 1);
  }
  {  // wrong guesses
    const enrolled e = enrol(svc, clock, n);
    const std::string wrong = wrong_code(svc, e, clock.unix_time());
    const std::uint32_t before = stored_failures(store, e.user);
    tally tl;
    race(e, tl, [&](const std::string& token) { return svc.complete_login(token, wrong, mfakit::factor::totp); });
    const std::uint32_t after = stored_failures(store, e.user);
    INFO(isolation << ", " << n << " queued wrong guesses: " << tl.str() << "; failure count " << before << " -> "
                   << after);
    CHECK(tl.mismatch == n);
    CHECK(after - before == n);
  }
  CHECK(sessions_in_transaction(watch) == "0");
  CHECK(store.drop_schema());
}

/// One deterministic lost race: another session updates the row (and so
/// bumps its version) while the store's UPDATE waits for the row lock.
void lost_race_at(std::string_view isolation) {
  // one connection: the one that lost is the one that serves the next call
  mfakit::postgresql_store store(store_options(conninfo_at(isolation), "lost_race_", 1));
  const std::string& t = store.table();
  REQUIRE(*store.compare_and_swap("k", 0, std::string("one")));
  auto v1 = store.load("k");
  REQUIRE((v1 && *v1));

  pg_session other(MFAKIT_TEST_PG_CONNINFO);
  REQUIRE(other.exec("BEGIN"));
  REQUIRE(other.exec("UPDATE " + t + " SET data = 'other'::bytea, version = nextval('" + t +
                     "_version') WHERE key = 'k'::bytea"));
  std::optional<mfakit::result<bool>> got;
  std::thread writer([&] { got = store.compare_and_swap("k", (*v1)->version, std::string("two")); });
  pg_session watch(MFAKIT_TEST_PG_CONNINFO);
  const bool waiting = wait_for(watch, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query "
                                       "LIKE 'UPDATE " +
                                           t + " %'");
  CHECK(waiting);
  REQUIRE(other.exec("COMMIT"));
  writer.join();
  REQUIRE(got.has_value());
  INFO(isolation << ": " << (*got ? (**got ? "true" : "false") : std::string((*got).error().message())));
  CHECK((*got && !**got));  // lost, not failed
  auto now = store.load("k");
  REQUIRE((now && *now));
  CHECK((*now)->bytes == "other");  // the lost write changed nothing
  CHECK((*now)->version != (*v1)->version);
  // the one pooled connection is clean: the next write on it succeeds
  auto next = store.compare_and_swap("k", (*now)->version, std::string("three"));
  CHECK((next && *next));
  CHECK(sessions_in_transaction(watch) == "0");
  CHECK(store.drop_schema());
}

}  // namespace

TEST_CASE("postgres store: conformance, 64 threads") { conformance_through(MFAKIT_TEST_PG_CONNINFO); }

TEST_CASE("postgres store: conformance at SERIALIZABLE, 64 threads") { conformance_at("serializable"); }

TEST_CASE("postgres store: conformance at REPEATABLE READ, 64 threads") { conformance_at("repeatable read"); }

TEST_CASE("postgres store: service races at SERIALIZABLE (one backup code, 64 wrong guesses)") {
  service_races_at("serializable");
}

TEST_CASE("postgres store: service races at REPEATABLE READ (one backup code, 64 wrong guesses)") {
  service_races_at("repeatable read");
}

TEST_CASE("postgres store: service races at READ COMMITTED (one backup code, 64 wrong guesses)") {
  service_races_at("read committed");
}

TEST_CASE("postgres store: queued writers at SERIALIZABLE (one backup code, wrong guesses)") {
  queued_writers_at("serializable");
}

TEST_CASE("postgres store: queued writers at REPEATABLE READ (one backup code, wrong guesses)") {
  queued_writers_at("repeatable read");
}

TEST_CASE("postgres store: queued writers at READ COMMITTED (one backup code, wrong guesses)") {
  queued_writers_at("read committed");
}

TEST_CASE("postgres store: a concurrent update is a lost race at every isolation level (40001 is no error)") {
  for (const char* level : {"read committed", "repeatable read", "serializable"}) lost_race_at(level);
}

TEST_CASE("postgres store: a deadlock on the compare-and-swap is a lost race (40P01 is no error)") {
  // The store's UPDATE locks the row, then (through a trigger of this test)
  // waits for an advisory lock another session holds while that session
  // waits for the row: a deadlock the store's session detects first (its
  // deadlock_timeout is the short one), so its statement is the one rolled back.
  // The trigger takes the advisory lock only once the other session waits
  // for the row (PostgreSQL checks for a deadlock once per wait, after
  // deadlock_timeout: had the store's session begun to wait first, only the
  // other session, 30 s later, would find the cycle). It used to sleep 0.3 s
  // instead, a window a loaded machine missed.
  mfakit::postgresql_store store(
      store_options(std::string(MFAKIT_TEST_PG_CONNINFO) + " options='-c deadlock_timeout=50ms'", "deadlock_", 1));
  const std::string& t = store.table();
  REQUIRE(*store.compare_and_swap("k", 0, std::string("one")));
  auto v1 = store.load("k");
  REQUIRE((v1 && *v1));

  pg_session other(MFAKIT_TEST_PG_CONNINFO);
  REQUIRE(other.exec("CREATE FUNCTION " + t +
                     "_trap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "FOR i IN 1..6000 LOOP "  // at most 60 s
                     "EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))); "
                     "PERFORM pg_sleep(0.01); END LOOP; "
                     "PERFORM pg_advisory_xact_lock(hashtext('" +
                     t + "')); RETURN NEW; END $$"));
  REQUIRE(other.exec("CREATE TRIGGER " + t + "_trap AFTER UPDATE ON " + t +
                     " FOR EACH ROW WHEN (NEW.data = 'two'::bytea) EXECUTE FUNCTION " + t + "_trap()"));
  REQUIRE(other.exec("SET deadlock_timeout = '30s'"));
  REQUIRE(other.exec("BEGIN"));
  REQUIRE(other.exec("SELECT pg_advisory_xact_lock(hashtext('" + t + "'))"));

  std::optional<mfakit::result<bool>> got;
  std::thread writer([&] { got = store.compare_and_swap("k", (*v1)->version, std::string("two")); });
  pg_session watch(MFAKIT_TEST_PG_CONNINFO);
  CHECK(wait_for(watch, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE 'UPDATE " +
                            t + " %'"));
  // the store's session holds the row and sleeps; wait for the row here
  std::string error;
  const bool updated = other.exec("UPDATE " + t + " SET data = 'other'::bytea, version = nextval('" + t +
                                      "_version') WHERE key = 'k'::bytea",
                                  &error);
  INFO(error);
  CHECK(updated);
  REQUIRE(other.exec(updated ? "COMMIT" : "ROLLBACK"));
  writer.join();
  REQUIRE(got.has_value());
  INFO((*got ? (**got ? "true" : "false") : std::string((*got).error().message())));
  CHECK((*got && !**got));
  auto now = store.load("k");
  REQUIRE((now && *now));
  CHECK((*now)->bytes == (updated ? "other" : "one"));
  auto next = store.compare_and_swap("k", (*now)->version, std::string("three"));
  CHECK((next && *next));
  CHECK(sessions_in_transaction(watch) == "0");
  CHECK(other.exec("DROP FUNCTION " + t + "_trap() CASCADE"));
  CHECK(store.drop_schema());
}

namespace {
/// A pool of one connection to the test server with the adapters' reuse
/// hook, counting its connects in `connects`.
mfakit::stores::detail::postgresql::pool counting_pool(int& connects) {
  namespace pu = mfakit::stores::detail::postgresql;
  return pu::pool(
      [&connects]() -> std::unique_ptr<pu::connection> {
        ++connects;
        std::string error;
        return pu::connect(MFAKIT_TEST_PG_CONNINFO, error);
      },
      1, &pu::ready_for_reuse);
}
}  // namespace

// The store's pool hook (detail::postgresql::ready_for_reuse) on a real server:
// a connection whose lease ended inside a transaction, open or aborted, is
// rolled back and reused (the same backend, nothing of the transaction
// left), not closed and reconnected; a pool at the server's connection limit
// that reconnected would meet "too many clients" while the closed
// connection's backend was still exiting. One with a command still in
// flight is closed.
TEST_CASE("postgres pool: a connection left in a transaction is rolled back and reused, not reconnected") {
  namespace pu = mfakit::stores::detail::postgresql;
  int connects = 0;
  pu::pool pool = counting_pool(connects);
  const auto exec = [](PGconn* pg, const char* sql) { return pu::result(PQexec(pg, sql)); };
  const auto backend = [&] {
    const pu::lease c(pool);
    REQUIRE(c);
    CHECK(PQtransactionStatus(c->conn.get()) == PQTRANS_IDLE);
    return PQbackendPID(c->conn.get());
  };
  const int first = backend();

  {  // an open transaction that created a table
    const pu::lease c(pool);
    REQUIRE(c);
    PGconn* pg = c->conn.get();
    REQUIRE(PQresultStatus(exec(pg, "BEGIN").get()) == PGRES_COMMAND_OK);
    REQUIRE(PQresultStatus(exec(pg, "CREATE TEMP TABLE pool_reuse_probe (x int)").get()) == PGRES_COMMAND_OK);
    REQUIRE(PQtransactionStatus(pg) == PQTRANS_INTRANS);
  }
  {
    const pu::lease c(pool);
    REQUIRE(c);
    PGconn* pg = c->conn.get();
    CHECK(PQbackendPID(pg) == first);
    CHECK(PQtransactionStatus(pg) == PQTRANS_IDLE);
    const auto r = exec(pg, "SELECT to_regclass('pg_temp.pool_reuse_probe') IS NULL");
    REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
    CHECK(std::string(PQgetvalue(r.get(), 0, 0)) == "t");  // rolled back
  }
  {  // an aborted transaction
    const pu::lease c(pool);
    REQUIRE(c);
    PGconn* pg = c->conn.get();
    REQUIRE(PQresultStatus(exec(pg, "BEGIN").get()) == PGRES_COMMAND_OK);
    CHECK(PQresultStatus(exec(pg, "SELECT 1/0").get()) == PGRES_FATAL_ERROR);
    REQUIRE(PQtransactionStatus(pg) == PQTRANS_INERROR);
  }
  CHECK(backend() == first);
  CHECK(connects == 1);

  {  // a command still in flight: closed, and the next caller gets a new connection
    const pu::lease c(pool);
    REQUIRE(c);
    REQUIRE(PQsendQuery(c->conn.get(), "SELECT pg_sleep(0)") == 1);
    CHECK(PQtransactionStatus(c->conn.get()) == PQTRANS_ACTIVE);
  }
  CHECK(backend() != first);
  CHECK(connects == 2);
}

// The same hook when the server does not answer the ROLLBACK (its backend
// stopped with SIGSTOP, as a peer gone silent behind a dead network would
// be): the lease ends within detail::postgresql::rollback_wait and the connection
// is closed, not kept and not waited on for TCP's retransmission timeout.
TEST_CASE("postgres pool: a rollback the server does not answer closes the connection after rollback_wait") {
  namespace pu = mfakit::stores::detail::postgresql;
  int connects = 0;
  pu::pool pool = counting_pool(connects);
  std::atomic<int> stopped{0};
  std::atomic<bool> done{false};
  // the backend runs again on every way out, and after 10 s at the latest (a
  // hook that waited for the answer would otherwise wait for ever)
  std::thread watchdog([&] {
    for (int i = 0; i < 1000 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (stopped > 0) ::kill(stopped, SIGCONT);
  });
  struct finish {
    std::atomic<bool>& done;
    std::thread& watchdog;
    ~finish() {
      done = true;
      watchdog.join();
    }
  } finish_watchdog{done, watchdog};
  std::chrono::steady_clock::time_point ended;
  {
    const pu::lease c(pool);
    REQUIRE(c);
    PGconn* pg = c->conn.get();
    REQUIRE(PQresultStatus(pu::result(PQexec(pg, "BEGIN")).get()) == PGRES_COMMAND_OK);
    const int pid = PQbackendPID(pg);
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    stopped = pid;
    ended = std::chrono::steady_clock::now();
  }
  const auto waited = std::chrono::steady_clock::now() - ended;
  ::kill(stopped.load(), SIGCONT);
  CHECK(waited >= pu::rollback_wait - std::chrono::milliseconds(50));
  CHECK(waited < pu::rollback_wait + std::chrono::seconds(3));
  {
    const pu::lease c(pool);
    REQUIRE(c);
    CHECK(PQbackendPID(c->conn.get()) != stopped.load());
    CHECK(PQtransactionStatus(c->conn.get()) == PQTRANS_IDLE);
  }
  CHECK(connects == 2);
}
