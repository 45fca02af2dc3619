// mfakit::postgresql_store: a record store (mfakit/store.hpp) on PostgreSQL
// through libpq, the mfakit::postgresql component (CMake:
// find_package(mfakit COMPONENTS postgresql), target mfakit::postgresql;
// pkg-config: mfakit-postgresql). Needs libpq-fe.h and libpq, nothing else
// beyond the core. It passes the shipped conformance suite
// (mfakit/testing/store_conformance.hpp) at every isolation level.
//
//   mfakit::postgresql_store store({.conninfo = "host=/run/postgresql dbname=app"});
//   mfakit::service<mfakit::postgresql_store> svc(store, config);
//
// Layout:
//   CREATE SEQUENCE <t>_version;
//   CREATE TABLE <t> (key bytea PRIMARY KEY, data bytea NOT NULL, version bigint NOT NULL);
//
// compare_and_swap (see mfakit/store.hpp for the contract), one statement each,
// so each is atomic on its own under PostgreSQL's default READ COMMITTED:
//   create  (expected 0): INSERT INTO <t> VALUES ($1, $2, nextval('<t>_version')) ON CONFLICT (key) DO NOTHING
//   update:               UPDATE <t> SET data = $2, version = nextval('<t>_version') WHERE key = $1 AND version = $3
//   delete:               DELETE FROM <t> WHERE key = $1 AND version = $2
// One row affected: the write is stored; none: another writer won. A
// concurrent UPDATE waits for the row lock and then re-checks its WHERE
// against the new row, so two writers that read the same version cannot
// both succeed. Versions come from the sequence: they only grow, across
// deletes too (no ABA), and across every app server sharing the database.
//
// Any isolation level: where default_transaction_isolation is REPEATABLE
// READ or SERIALIZABLE (a server, database or role setting, or options= in
// the conninfo), PostgreSQL does not re-check the waiting UPDATE: it aborts
// it with SQLSTATE 40001 (serialization_failure); SERIALIZABLE also raises
// 40001 for some writes that only shared an index page with another. And a
// deadlock (40P01, deadlock_detected; say with a host's own triggers or
// locks) aborts the statement that closes the cycle. Each statement here is
// its own implicit transaction, so either error means that transaction was
// rolled back and nothing changed: compare_and_swap answers false, a lost
// race, and the service loads and decides again. Were it a store error, the
// service could not tell a write that never happened from one that did, and
// two requests racing for one backup code could both be told they won.
// Errors are classified by SQLSTATE (PG_DIAG_SQLSTATE), never by message
// text (messages follow lc_messages); every other error is a failure
// (storage_failure), including 40003 (statement_completion_unknown).
// SERIALIZABLE can also cancel a plain read with 40001; load runs it again
// (a few times: a read changes nothing) rather than fail the request.
// Keys are bytea: exact bytes (case, trailing spaces and NUL bytes count;
// a text column could hold no NUL at all).
//
// Threads: a small pool of connections (up to max_connections; callers
// beyond that wait). A connection that breaks is dropped and replaced on the
// next call; the call that saw it fail reports storage_failure. A connection
// goes back to the pool outside any transaction (PQTRANS_IDLE: after a lost
// race the server has already rolled the statement back). Every operation
// here is one statement, so none is left inside a transaction; code that adds
// one and leaves early has it rolled back (detail::postgresql::ready_for_reuse,
// within rollback_timeout, else closed), and a broken connection is closed.
//
// Errors: the constructor throws std::runtime_error when it cannot connect or
// create the schema (a host fails at start-up, not later). No message carries
// the connection string: one that does not parse is refused with a reason of
// our own (libpq's would quote it, password and all). Calls answer
// errc::storage_failure; they never throw for a database error.
#pragma once

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/errors.hpp"
#include "mfakit/store.hpp"
#include "mfakit/stores/detail/connection_pool.hpp"
#include "mfakit/stores/detail/postgresql_handles.hpp"

namespace mfakit {

class postgresql_store {
 public:
  struct options {
    /// libpq connection string or URI, e.g. "host=/run/postgresql dbname=app"
    /// or "postgresql://app@db.internal/app" (empty: libpq's defaults and the
    /// PG* environment variables). Never part of an error message.
    std::string conninfo;
    /// The records table ([a-z_][a-z0-9_]*, at most 48 characters); a
    /// sequence `<table>_version` gives the versions.
    std::string table = "mfakit_records";
    /// Pool size: keep it below the server's max_connections, with room (a
    /// closed connection's backend counts until it has exited).
    unsigned max_connections = 8;
    /// CREATE SEQUENCE / TABLE IF NOT EXISTS at start-up (under an advisory
    /// lock, so several servers may start at once). Off: the schema must
    /// exist, and the role needs no CREATE privilege.
    bool create_schema = true;
    /// The longest a lease's end waits for the ROLLBACK of a transaction a
    /// caller left open before the connection is closed instead.
    std::chrono::milliseconds rollback_timeout = stores::detail::postgresql::rollback_wait;
  };

  /// Connects once and creates the table and sequence if asked. Throws
  /// std::runtime_error when it cannot: a host fails at start-up, not later.
  explicit postgresql_store(options o)
      : opt_(std::move(o)),
        pool_(
            [this] {
              std::string error;
              return connect(error, false);
            },
            opt_.max_connections, &stores::detail::postgresql::ready_for_reuse) {
    if (!valid_identifier(opt_.table))
      throw std::runtime_error("mfakit::postgresql_store: options.table must match [a-z_][a-z0-9_]* (at most 48)");
    std::string error;
    auto first = connect(error, opt_.create_schema);
    if (!first) throw std::runtime_error("mfakit::postgresql_store: " + error);
    pool_.adopt(std::move(first));
  }

  postgresql_store(const postgresql_store&) = delete;
  postgresql_store& operator=(const postgresql_store&) = delete;
  ~postgresql_store() = default;

  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) {
    lease c(pool_);
    if (!c) return errc::storage_failure;
    const std::array<param, 1> p{param::bytes(key)};
    // SERIALIZABLE can cancel even a read ("conflict out to pivot"); a read
    // changes nothing, so it is simply run again, a few times.
    auto r = run(c, "mfakit_load", p);
    for (int again = 0; again < read_retries && rolled_back_by_concurrency(r.get()); ++again)
      r = run(c, "mfakit_load", p);
    if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return failed(c);
    if (PQntuples(r.get()) == 0) return std::optional<stored_record>{};
    if (PQntuples(r.get()) != 1 || PQgetlength(r.get(), 0, 1) != 8) return errc::storage_failure;
    stored_record rec;
    rec.bytes.assign(PQgetvalue(r.get(), 0, 0), static_cast<std::size_t>(PQgetlength(r.get(), 0, 0)));
    rec.version = big_endian_u64(PQgetvalue(r.get(), 0, 1));
    if (rec.version == 0 || rec.version > static_cast<std::uint64_t>(INT64_MAX)) return errc::storage_failure;
    return std::optional<stored_record>{std::move(rec)};
  }

  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    if (expected > static_cast<std::uint64_t>(INT64_MAX)) return false;
    lease c(pool_);
    if (!c) return errc::storage_failure;
    const std::string version = std::to_string(expected);
    pg_result r;
    if (!next && expected == 0) {  // "delete a key that must not exist": true iff absent
      const std::array<param, 1> p{param::bytes(key)};
      r = run(c, "mfakit_exists", p);
      if (rolled_back_by_concurrency(r.get())) return false;
      if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return failed(c);
      return PQntuples(r.get()) == 0;
    }
    if (!next) {
      const std::array<param, 2> p{param::bytes(key), param::text(version)};
      r = run(c, "mfakit_delete", p);
    } else if (expected == 0) {
      const std::array<param, 2> p{param::bytes(key), param::bytes(*next)};
      r = run(c, "mfakit_insert", p);
    } else {
      const std::array<param, 3> p{param::bytes(key), param::bytes(*next), param::text(version)};
      r = run(c, "mfakit_update", p);
    }
    if (rolled_back_by_concurrency(r.get())) return false;  // lost the race; nothing changed
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return failed(c);
    const char* n = PQcmdTuples(r.get());
    if (std::strcmp(n, "1") == 0) return true;
    if (std::strcmp(n, "0") == 0) return false;
    return errc::storage_failure;
  }

  /// Drops the table and its sequence (tests clean up with it).
  [[nodiscard]] bool drop_schema() {
    lease c(pool_);
    if (!c) return false;
    const std::string sql =
        "DROP TABLE IF EXISTS " + opt_.table + "; DROP SEQUENCE IF EXISTS " + opt_.table + "_version;";
    pg_result r(PQexec(c->conn.get(), sql.c_str()));
    return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
  }

  [[nodiscard]] const std::string& table() const noexcept { return opt_.table; }

 private:
  using pg_result = stores::detail::postgresql::result;
  using connection = stores::detail::postgresql::connection;
  using lease = stores::detail::postgresql::lease;

  // One parameter: text (format 0, NUL-terminated) or bytes (format 1, exact).
  struct param {
    const char* data;
    int length;
    int format;
    static param text(const std::string& s) noexcept { return {s.c_str(), 0, 0}; }
    static param bytes(std::string_view s) noexcept {
      static const char empty = 0;
      return {s.empty() ? &empty : s.data(), static_cast<int>(s.size()), 1};
    }
  };

  template <std::size_t N>
  [[nodiscard]] static pg_result run(const lease& c, const char* statement, const std::array<param, N>& p) {
    std::array<const char*, N> values{};
    std::array<int, N> lengths{};
    std::array<int, N> formats{};
    for (std::size_t i = 0; i < N; ++i) {
      values[i] = p[i].data;
      lengths[i] = p[i].length;
      formats[i] = p[i].format;
    }
    return pg_result(PQexecPrepared(c->conn.get(), statement, static_cast<int>(N), values.data(), lengths.data(),
                                    formats.data(), 1 /* binary results */));
  }

  /// A statement failed: if the connection broke, it is not reused.
  [[nodiscard]] static errc failed(lease& c) noexcept {
    stores::detail::postgresql::drop_if_broken(c);
    return errc::storage_failure;
  }

  static constexpr int read_retries = 8;

  /// A statement PostgreSQL aborted because of a concurrent transaction:
  /// 40001 serialization_failure (REPEATABLE READ, SERIALIZABLE) or 40P01
  /// deadlock_detected. Its implicit transaction was rolled back whole.
  [[nodiscard]] static bool rolled_back_by_concurrency(const PGresult* r) noexcept {
    if (r == nullptr || PQresultStatus(r) != PGRES_FATAL_ERROR) return false;
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state != nullptr && (std::strcmp(state, "40001") == 0 || std::strcmp(state, "40P01") == 0);
  }

  [[nodiscard]] static bool valid_identifier(std::string_view s) noexcept {
    if (s.empty() || s.size() > 48 || (s[0] >= '0' && s[0] <= '9')) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
  }

  [[nodiscard]] static std::uint64_t big_endian_u64(const char* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8U) | static_cast<unsigned char>(p[i]);
    return v;
  }

  [[nodiscard]] std::unique_ptr<connection> connect(std::string& error, bool create_schema) const {
    auto c = stores::detail::postgresql::connect(opt_.conninfo, error);
    if (!c) return nullptr;
    c->rollback_timeout = opt_.rollback_timeout;
    PGconn* pg = c->conn.get();
    const std::string& t = opt_.table;
    if (create_schema) {
      // An advisory lock makes concurrent start-ups of several servers safe.
      const std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(hashtext('mfakit-schema/" + t +
                              "')); CREATE SEQUENCE IF NOT EXISTS " + t + "_version; CREATE TABLE IF NOT EXISTS " + t +
                              " (key bytea PRIMARY KEY, data bytea NOT NULL, version bigint NOT NULL); COMMIT;";
      pg_result r(PQexec(pg, sql.c_str()));
      if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        error = stores::detail::postgresql::error_message(pg);
        return nullptr;
      }
    }
    const auto prepare = [&](const char* name, const std::string& sql, int n) {
      pg_result r(PQprepare(pg, name, sql.c_str(), n, nullptr));
      if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        error = stores::detail::postgresql::error_message(pg);
        return false;
      }
      return true;
    };
    const std::string seq = "nextval('" + t + "_version')";
    const bool ok =
        prepare("mfakit_load", "SELECT data, version FROM " + t + " WHERE key = $1::bytea", 1) &&
        prepare("mfakit_exists", "SELECT 1 FROM " + t + " WHERE key = $1::bytea", 1) &&
        prepare("mfakit_delete", "DELETE FROM " + t + " WHERE key = $1::bytea AND version = $2::bigint", 2) &&
        prepare("mfakit_insert",
                "INSERT INTO " + t + " (key, data, version) VALUES ($1::bytea, $2::bytea, " + seq +
                    ") ON CONFLICT (key) DO NOTHING",
                2) &&
        prepare("mfakit_update",
                "UPDATE " + t + " SET data = $2::bytea, version = " + seq +
                    " WHERE key = $1::bytea AND version = $3::bigint",
                3);
    if (!ok) return nullptr;
    return c;
  }

  options opt_;
  stores::detail::postgresql::pool pool_;
};

static_assert(record_store<postgresql_store>);

}  // namespace mfakit
