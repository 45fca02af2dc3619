// What postgres_store.hpp and account_db_postgres.hpp do alike with libpq:
// owning handles, the pooled connection and when it may be reused.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

#include "connection_pool.hpp"

namespace mfakit_examples::postgres_util {

struct conn_closer {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct result_clearer {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result = std::unique_ptr<PGresult, result_clearer>;

struct connection {
  std::unique_ptr<PGconn, conn_closer> conn;
};
using pool = connection_pool<connection>;
using lease = pool::lease;

/// Connects; on failure nullptr and libpq's reason in `error`.
[[nodiscard]] inline std::unique_ptr<connection> connect(const std::string& conninfo, std::string& error) {
  auto c = std::make_unique<connection>();
  c->conn.reset(PQconnectdb(conninfo.c_str()));
  PGconn* pg = c->conn.get();
  if (pg == nullptr || PQstatus(pg) != CONNECTION_OK) {
    error = pg != nullptr ? PQerrorMessage(pg) : "out of memory";
    return nullptr;
  }
  return c;
}

/// The pool's reuse hook: a connection goes back outside a transaction. One
/// left inside a transaction, open or aborted (a call that returned early or
/// threw), is rolled back first; one in any other state (a command still in
/// flight, a broken connection) or whose ROLLBACK fails is closed, which
/// rolls it back on the server. (Rolling back rather than closing keeps a
/// pool at its limit from reconnecting while the server still counts the
/// closed connection's backend.) Nothing here takes session-level state
/// (advisory locks, SET) that a rollback would leave behind.
[[nodiscard]] inline bool ready_for_reuse(connection& c) noexcept {
  PGconn* pg = c.conn.get();
  switch (PQtransactionStatus(pg)) {
    case PQTRANS_IDLE:
      return true;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR: {
      const result r(PQexec(pg, "ROLLBACK"));
      return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK && PQtransactionStatus(pg) == PQTRANS_IDLE;
    }
    default:
      return false;
  }
}

/// After a statement failed: if the connection broke, it is not reused.
inline void drop_if_broken(lease& c) noexcept {
  if (PQstatus(c->conn.get()) != CONNECTION_OK) c.broken();
}

}  // namespace mfakit_examples::postgres_util
