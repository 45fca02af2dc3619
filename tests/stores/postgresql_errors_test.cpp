// mfakit::postgresql_store's start-up errors carry no secret: a connection
// string that does not parse is refused without libpq's reason (which quotes
// the text near the fault, a password included), and a refused connection
// names the server, not the password. Part of mfakit_postgresql_store_test
// (the real server for the last case comes from the PostgreSQL fixture).
#include <catch.hpp>

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <mfakit/stores/postgresql.hpp>

namespace {

/// The message postgresql_store's constructor throws for `conninfo`.
std::string construction_error(std::string conninfo) {
  mfakit::postgresql_store::options o;
  o.conninfo = std::move(conninfo);
  try {
    mfakit::postgresql_store store(o);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("the store was constructed");
  return {};
}

}  // namespace

TEST_CASE("postgres store: a connection string that does not parse is refused without quoting it") {
  // a forgotten '=': libpq answers 'missing "=" after "passwordhunter2-..."'
  for (const char* conninfo :
       {"host=/nonexistent passwordhunter2-secret-pw", "host=/nonexistent password=hunter2-secret-pw garbage",
        "postgresql://app:hunter2-secret-pw%zz@localhost/app"}) {
    const std::string what = construction_error(conninfo);
    INFO(what);
    CHECK(what.find("hunter2") == std::string::npos);
    CHECK(what.find("does not parse") != std::string::npos);
  }
}

TEST_CASE("postgres store: a refused connection names the database, not the password") {
  // fmt, not string + literal: g++ 12 at -O2 with -fsanitize=thread warns
  // (falsely, -Warray-bounds) on the moved result
  const std::string what = construction_error(
      fmt::format("{} dbname=mfakit_no_such_database password=hunter2-secret-pw", MFAKIT_TEST_PG_CONNINFO));
  INFO(what);
  CHECK(what.find("hunter2") == std::string::npos);
  CHECK(what.find("mfakit_no_such_database") != std::string::npos);
  CHECK(what.find('\n') == std::string::npos);  // one line: libpq's trailing newline is cut
}
