// The demo server's database, from --db: mfakit's records (the library's
// SQLite, PostgreSQL or memory store) and the host's tables (users,
// password hashes, refresh tokens, throttles) beside them, and the accounts
// of --user and --demo-users put there at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <mfakit/any_store.hpp>

#include "account_db.hpp"
#include "options.hpp"
#include "passwords.hpp"

namespace mfakit_examples::demo {

/// What --db names: an SQLite file, a PostgreSQL conninfo, or (both empty) the memory store.
struct db_spec {
  std::string sqlite_path;
  std::string pg_conninfo;
};
/// --db parsed; a bad one is a usage error.
[[nodiscard]] db_spec parse_db(const options& opt);

struct stores {
  mfakit_examples::expiring_key_registry registry;  ///< the memory store's challenges, for the sweeper
  std::unique_ptr<mfakit::any_record_store> records;
  std::unique_ptr<mfakit_examples::account_db> accounts;
};
/// Opens both, each keeping at most `connections` connections. `s` stays where it is (the memory store refers to its
/// registry).
void open_stores(stores& s, const db_spec& spec, unsigned connections);

/// The --user accounts (created, or their password reset) and the demo users
/// not yet there, hashed at `cost` kdf_threads at a time; an account whose
/// password is already this one at this cost is left alone. The passwords
/// in `opt` are wiped.
void put_users(mfakit_examples::account_db& db, options& opt, const mfakit::scrypt_params& cost, std::int64_t now);

/// The hash an unknown email's password is checked against (at the same
/// cost as a real one), and how long one check of it took: the KDF pool's
/// first estimate of a job.
struct dummy_password {
  std::string hash;
  std::chrono::microseconds check_time{0};
};
[[nodiscard]] dummy_password make_dummy_password(const mfakit::scrypt_params& cost);

}  // namespace mfakit_examples::demo
