// The program every consumer test builds against the store components: an
// mfakit::sqlite_store on a fresh file, and an mfakit::postgresql_store when
// it is given a connection string, each through the shipped conformance
// suite. It prints one line a driver can check; exit status 0 only when
// every check passed.
//   stores SQLITE_FILE [POSTGRESQL_CONNINFO TABLE]
#include <mfakit/stores/postgresql.hpp>
#include <mfakit/stores/sqlite.hpp>
#include <mfakit/testing/store_conformance.hpp>
#include <mfakit/version.hpp>

#include <cstdio>
#include <exception>
#include <string>

namespace {

template <class Store>
bool conforms(const char* name, Store& store) {
  mfakit::testing::conformance_options o;
  o.threads = 16;
  o.trials = 1;
  const auto report = mfakit::testing::run_store_conformance(store, o);
  for (const auto& f : report.failures) std::fprintf(stderr, "%s: FAILED: %s\n", name, f.c_str());
  if (report.checks < 20) std::fprintf(stderr, "%s: only %zu checks ran\n", name, report.checks);
  return report.ok() && report.checks >= 20;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::fprintf(stderr, "usage: stores SQLITE_FILE [POSTGRESQL_CONNINFO TABLE]\n");
    return 2;
  }
  try {
    std::string passed = "sqlite";
    {
      mfakit::sqlite_store sqlite({.path = argv[1], .max_connections = 4});
      if (!conforms("sqlite", sqlite)) return 1;
    }
    if (argc == 4) {
      mfakit::postgresql_store postgresql({.conninfo = argv[2], .table = argv[3], .max_connections = 4});
      const bool ok = conforms("postgresql", postgresql);
      if (!postgresql.drop_schema()) std::fprintf(stderr, "postgresql: could not drop the test table\n");
      if (!ok) return 1;
      passed += " postgresql";
    }
    std::printf("mfakit %s stores ok: %s\n", MFAKIT_VERSION_STRING, passed.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAILED: %s\n", e.what());
    return 1;
  }
  return 0;
}
