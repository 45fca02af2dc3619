// The demo server's routes: handlers registered by method and exact path
// (the query string is ignored), 404 for an unknown path, 405 with Allow
// for a known path and another method. A route group is a function that
// registers its handlers (add_auth_routes, add_mfa_routes, add_page_routes).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "host.hpp"
#include "http_server.hpp"

namespace mfakit_examples::demo {

class router {
 public:
  /// What a route runs: the request (its body is req.body(); json_body
  /// parses it) and the client (behind a --trusted-proxy, the address from
  /// X-Forwarded-For: host::client_address). The request and the peer live
  /// until the returned coroutine is done.
  using handler = std::function<net::awaitable<reply>(request&, const peer&)>;

  explicit router(const host& h) : host_(h) {}

  void add(web::http::verb method, std::string_view path, handler f);
  void get(std::string_view path, handler f) { add(web::http::verb::get, path, std::move(f)); }
  void post(std::string_view path, handler f) { add(web::http::verb::post, path, std::move(f)); }
  /// Every path under `prefix` that no route above has (DELETE /api/v1/passkey/{id}): f answers it,
  /// whatever the method (its 404 and 405 are its own).
  void add_prefix(std::string_view prefix, handler f) { prefixes_.emplace_back(std::string(prefix), std::move(f)); }

  /// The reply of the request's route (the server's handler).
  net::awaitable<reply> dispatch(request& req, const peer& p) const;

 private:
  struct route {
    std::string path;
    std::string allow;  ///< "GET, POST": the methods registered for the path
    std::vector<std::pair<web::http::verb, handler>> methods;
  };
  const host& host_;
  std::vector<route> routes_;
  std::vector<std::pair<std::string, handler>> prefixes_;
};

/// The demo page: GET /, /app.js, /app.css (web/, compiled in).
void add_page_routes(router& r);
/// POST /api/auth, /api/auth/mfa/verify, /api/auth/refresh, /api/auth/logout.
void add_auth_routes(router& r, host& h);
/// GET /api/v1/me/mfa/status; POST .../totp/setup, .../totp/enable, .../totp/disable,
/// .../backup-codes/regenerate.
void add_mfa_routes(router& r, host& h);

}  // namespace mfakit_examples::demo
