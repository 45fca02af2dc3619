// What mfakit::postgresql_store (mfakit/stores/postgresql.hpp) and a host's
// own tables on the same database do alike with libpq: owning handles, the
// pooled connection, connecting without a secret in the error, and when a
// connection may be reused. Part of the mfakit::postgresql component (needs
// libpq-fe.h and libpq).
#pragma once

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include "mfakit/stores/detail/connection_pool.hpp"

namespace mfakit::stores::detail::postgresql {

struct conn_closer {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct result_clearer {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result = std::unique_ptr<PGresult, result_clearer>;

/// The longest the reuse hook waits for a ROLLBACK's answer, by default.
inline constexpr std::chrono::milliseconds rollback_wait{2000};

struct connection {
  std::unique_ptr<PGconn, conn_closer> conn;
  std::chrono::milliseconds rollback_timeout = rollback_wait;  ///< see ready_for_reuse
};
using pool = connection_pool<connection>;
using lease = pool::lease;

/// libpq's message without its trailing newline.
[[nodiscard]] inline std::string error_message(const PGconn* pg) {
  std::string m = pg != nullptr ? PQerrorMessage(pg) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
  return m;
}

/// Connects; on failure nullptr and the reason in `error`. A connection
/// string that does not parse is refused before libpq connects, with a reason
/// of our own: libpq's parse errors quote the text near the fault, which can
/// be the password. (Its connection errors name the host, port and user,
/// never the password.)
[[nodiscard]] inline std::unique_ptr<connection> connect(const std::string& conninfo, std::string& error) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (parsed == nullptr) {
    error = "the connection string does not parse (libpq's reason is withheld: it can quote a password)";
    return nullptr;
  }
  PQconninfoFree(parsed);
  auto c = std::make_unique<connection>();
  c->conn.reset(PQconnectdb(conninfo.c_str()));
  PGconn* pg = c->conn.get();
  if (pg == nullptr || PQstatus(pg) != CONNECTION_OK) {
    error = error_message(pg);
    return nullptr;
  }
  return c;
}

/// The pool's reuse hook: a connection goes back outside a transaction. One
/// left inside a transaction, open or aborted (a call that returned early or
/// threw), is rolled back first, waiting at most `rollback_timeout` for the
/// answer (the hook runs as the caller's lease ends: a silent peer must not
/// hold the request for TCP's retransmission timeout). One in any other state
/// (a command still in flight, a broken connection, whose COMMIT answer may
/// have been lost), or whose ROLLBACK fails or is late, is closed, which
/// rolls it back on the server. (Rolling back rather than closing keeps a
/// pool at the server's limit from reconnecting while the closed
/// connection's backend still counts.) postgresql_store runs one statement
/// per call and takes no session-level state (PREPARE after connect, session
/// advisory locks) that a rollback would leave behind; code that does must
/// not rely on this hook.
[[nodiscard]] inline bool ready_for_reuse(connection& c) noexcept {
  PGconn* pg = c.conn.get();
  const PGTransactionStatusType status = PQtransactionStatus(pg);
  if (status == PQTRANS_IDLE) return true;
  if (status != PQTRANS_INTRANS && status != PQTRANS_INERROR) return false;
  if (PQsendQuery(pg, "ROLLBACK") != 1) return false;
  const auto deadline = std::chrono::steady_clock::now() + c.rollback_timeout;
  while (PQisBusy(pg) != 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd readable{PQsocket(pg), POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || PQconsumeInput(pg) != 1) return false;
  }
  bool rolled_back = true;
  while (PGresult* r = PQgetResult(pg)) {
    const result owned(r);
    rolled_back = rolled_back && PQresultStatus(r) == PGRES_COMMAND_OK;
  }
  return rolled_back && PQtransactionStatus(pg) == PQTRANS_IDLE;
}

/// After a statement failed: if the connection broke, it is not reused.
inline void drop_if_broken(lease& c) noexcept {
  if (PQstatus(c->conn.get()) != CONNECTION_OK) c.broken();
}

}  // namespace mfakit::stores::detail::postgresql
