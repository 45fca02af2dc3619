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

/// The pool's reuse check: back only outside a transaction (and so never in
/// an aborted one); one in any other state is closed, which rolls it back.
[[nodiscard]] inline bool outside_transaction(const connection& c) noexcept {
  return PQtransactionStatus(c.conn.get()) == PQTRANS_IDLE;
}

/// After a statement failed: if the connection broke, it is not reused.
inline void drop_if_broken(lease& c) noexcept {
  if (PQstatus(c->conn.get()) != CONNECTION_OK) c.broken();
}

}  // namespace mfakit_examples::postgres_util
