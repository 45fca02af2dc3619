// The demo server's replies: the API's bodies and statuses for mfakit's
// answers (mfakit/http.hpp: status_of, error_body), the host's own refusals
// (401, 405, 429, 503 with Retry-After), and work on a pool as a reply.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <mfakit/crypto.hpp>
#include <mfakit/http.hpp>

#include "http_server.hpp"
#include "worker_pool.hpp"

namespace mfakit_examples::demo {
namespace mhttp = mfakit::http;
using web::reply;

[[nodiscard]] inline reply text_reply(unsigned status, std::string_view body) {
  reply r;
  r.status = status;
  r.body.assign(body.begin(), body.end());
  return r;
}

/// A body that held a secret, codes or tokens: moved into a wiped buffer,
/// the source wiped.
[[nodiscard]] inline reply secret_reply(std::string&& body) {
  reply r;
  r.body.assign(body.begin(), body.end());
  mfakit::cleanse(body.data(), body.size());
  return r;
}

/// 503 with Retry-After: a pool is full, or refused the call's job.
[[nodiscard]] inline reply busy(std::int64_t retry_after = 1) {
  reply r = web::error_reply(503, "Server busy; try again");
  r.retry_after = std::max<std::int64_t>(1, retry_after);
  return r;
}

/// The API's answer to one of mfakit's errors on an endpoint (mfakit/http.hpp).
[[nodiscard]] inline reply error_for(mhttp::endpoint ep, std::error_code ec, std::int64_t retry_after = 0) {
  // storage_failure with a Retry-After: the KDF pool refused the call's job (kdf_offload)
  if (ec == mfakit::errc::storage_failure && retry_after > 0) return busy(retry_after);
  reply r = text_reply(static_cast<unsigned>(mhttp::status_of(ep, ec)), mhttp::error_body(ec));
  r.retry_after = retry_after;
  return r;
}
/// The service's refusal of a call on an endpoint.
template <class Result>
[[nodiscard]] reply refusal(mhttp::endpoint ep, const Result& r) {
  return error_for(ep, r.error(), r.retry_after());
}

[[nodiscard]] inline reply unauthorized() {
  reply r = web::error_reply(401, "Missing or invalid JWT token");
  r.www_authenticate = true;
  return r;
}
[[nodiscard]] inline reply unavailable() { return web::error_reply(503, "Service unavailable"); }
[[nodiscard]] inline reply too_many(std::int64_t wait) {
  reply r = web::error_reply(429, "Too many failed attempts; try again later");
  r.retry_after = std::max<std::int64_t>(1, wait);
  return r;
}

[[nodiscard]] inline reply not_allowed(std::string_view allow) {
  reply r = web::error_reply(405, "Method not allowed");
  r.allow = allow;
  return r;
}
[[nodiscard]] inline reply busy_session() {
  reply r = web::error_reply(429, "Too many requests of this session in flight");
  r.retry_after = 1;
  return r;
}

/// Runs f() (which returns a reply) on a pool; a full pool answers 503 with Retry-After.
template <class F>
boost::asio::awaitable<reply> on(worker_pool& pool, F f) {
  auto r = co_await pool.run(std::move(f));
  if (!r) co_return busy();
  co_return std::move(*r);
}

}  // namespace mfakit_examples::demo
