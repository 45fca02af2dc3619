// The PostgreSQL adapter against mfakit's conformance suite (64 threads) on
// a real server: CTest starts it first (start-postgres.sh, a fixture), and a
// server that is missing or does not start fails these tests.
#include "store_test_support.hpp"

#include "postgres_store.hpp"

using namespace store_test;

TEST_CASE("postgres store: conformance, 64 threads") {
  mfakit_examples::postgres_store::options o;
  o.conninfo = MFAKIT_TEST_PG_CONNINFO;
  o.table = "conformance_" + random_suffix();
  o.max_connections = 16;
  mfakit_examples::postgres_store store(o);
  mfakit::testing::conformance_options co;
  co.threads = 64;
  require_conformance(mfakit::testing::run_store_conformance(store, co));
  CHECK(store.drop_schema());
}

TEST_CASE("postgres store: conformance with two stores on one database (two app servers)") {
  mfakit_examples::postgres_store::options o;
  o.conninfo = MFAKIT_TEST_PG_CONNINFO;
  o.table = "conformance_" + random_suffix();
  o.max_connections = 8;
  mfakit_examples::postgres_store a(o);
  mfakit_examples::postgres_store b(o);
  two_servers<mfakit_examples::postgres_store> both{a, b};
  mfakit::testing::conformance_options co;
  co.threads = 64;
  co.trials = 1;
  require_conformance(mfakit::testing::run_store_conformance(both, co));
  CHECK(a.drop_schema());
}

TEST_CASE("postgres store: a server that is not there fails at construction") {
  mfakit_examples::postgres_store::options o;
  o.conninfo = "host=/nonexistent-socket-dir port=1 dbname=x connect_timeout=2";
  CHECK_THROWS_AS(mfakit_examples::postgres_store(o), std::runtime_error);
}
