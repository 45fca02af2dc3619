// The SQLite adapter against mfakit's conformance suite (64 threads) on a
// real database file in the build directory; two adapters on one file (two
// app servers); versions surviving a reopen.
#include "store_test_support.hpp"

#include "sqlite_store.hpp"

using namespace store_test;

TEST_CASE("sqlite store: conformance, 64 threads") {
  const std::string path = fresh_sqlite_path("sqlite-conformance");
  {
    mfakit_examples::sqlite_store::options o;
    o.path = path;
    mfakit_examples::sqlite_store store(o);
    mfakit::testing::conformance_options co;
    co.threads = 64;
    require_conformance(mfakit::testing::run_store_conformance(store, co));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: conformance with two stores on one file (two app servers)") {
  const std::string path = fresh_sqlite_path("sqlite-two-servers");
  {
    mfakit_examples::sqlite_store::options o;
    o.path = path;
    o.max_connections = 4;
    mfakit_examples::sqlite_store a(o);
    mfakit_examples::sqlite_store b(o);
    two_servers<mfakit_examples::sqlite_store> both{a, b};
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
  mfakit_examples::sqlite_store::options o;
  o.path = path;
  {
    mfakit_examples::sqlite_store s(o);
    REQUIRE(*s.compare_and_swap("k", 0, std::string("one")));
    auto r = s.load("k");
    REQUIRE((r && *r));
    before = (*r)->version;
    REQUIRE(*s.compare_and_swap("k", before, std::nullopt));  // deleted
  }
  {
    mfakit_examples::sqlite_store s(o);
    REQUIRE(*s.compare_and_swap("k", 0, std::string("two")));
    auto r = s.load("k");
    REQUIRE((r && *r));
    CHECK((*r)->bytes == "two");
    CHECK((*r)->version > before);
    CHECK_FALSE(*s.compare_and_swap("k", before, std::string("stale")));
  }
  remove_sqlite(path);
}

TEST_CASE("sqlite store: an unusable path fails at construction") {
  mfakit_examples::sqlite_store::options o;
  o.path = "/nonexistent-dir/for/sure/db.sqlite";
  CHECK_THROWS_AS(mfakit_examples::sqlite_store(o), std::runtime_error);
  o.path = fresh_sqlite_path("sqlite-badname");
  o.table = "bad name; DROP TABLE x";
  CHECK_THROWS_AS(mfakit_examples::sqlite_store(o), std::runtime_error);
}
