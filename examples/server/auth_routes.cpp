// The demo server's auth routes: the password step of a login, its second
// factor, refresh token rotation and logout. Each handler parses, checks the
// host's limits, makes one call of the MFA service, and replies.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include <mfakit/crypto.hpp>

#include "audit_log.hpp"
#include "client_network.hpp"
#include "json_body.hpp"
#include "router.hpp"
#include "text_checks.hpp"

namespace mfakit_examples::demo {
namespace {
using mfakit_examples::json_body;

// POST /api/auth {"email", "password"}
net::awaitable<reply> login(host& h, request& req, const peer& p) {
  const json_body b(body_of(req));
  const std::string email = lower(b.field("email"));
  const std::string_view password = b.field("password");
  if (email.empty() || password.empty()) co_return web::error_reply(400, "email and password are required");
  if (email.size() > 254 || password.size() > 1024) co_return web::error_reply(400, "email or password too long");
  if (has_control(email)) {  // NUL, CR, LF, ...: no email has them (and PostgreSQL's text refuses NUL)
    log_auth("email_rejected", email, &p, "reason=control_character");
    co_return web::error_reply(400, "email must not contain control characters");
  }
  if (const std::int64_t wait = h.password_limiter.blocked(web::address_key(p.address), h.now()); wait > 0) {
    log_auth("address_throttled", email, &p, fmt::format("retry_after={}", wait));
    co_return too_many(wait);
  }
  auto pass = co_await h.enter_gate(email, p);
  if (!pass) co_return too_many(1);
  const std::string network = web::network_key(p.address);
  auto row = co_await h.store_pool.run([&] { return h.db.login(email, network); });
  if (!row) co_return busy();
  if (!*row) co_return unavailable();
  if (auto refused = co_await h.check_password(email, password, **row, p, 401)) co_return std::move(*refused);
  auto challenge = co_await h.service.begin_login(email);
  if (!challenge) co_return refusal(mhttp::endpoint::login, challenge);
  if (challenge->mfa_required()) co_return secret_reply(mhttp::challenge_body(*challenge));
  std::vector<std::string> amr{"pwd"};  // no second factor: a session now (a named list: GCC 12 miscompiles
  co_return co_await h.issue_session(email, std::move(amr), p, "password");  // a braced one in a co_await)
}

// POST /api/auth/mfa/verify {"mfaToken", "code", "type"}
//
// The service answers a malformed, unknown or expired token before any KDF
// work, and checks the challenge's attempts and the user's throttle before
// a backup code's scrypt is queued on the KDF pool. Unknown, expired or
// malformed tokens count against the client's address
// (h.bad_token_limiter: 100 in 5 minutes, then 429), so no one without a
// password keeps the service busy for free.
net::awaitable<reply> verify(host& h, request& req, const peer& p) {
  const json_body b(body_of(req));
  auto via = mhttp::parse_factor(b.field("type"));
  if (!via) co_return error_for(mhttp::endpoint::verify, via.error());
  const std::string address = web::address_key(p.address);
  if (const std::int64_t wait = h.bad_token_limiter.blocked(address, h.now()); wait > 0) {
    log_auth("verify_throttled", "-", &p, fmt::format("retry_after={}", wait));
    co_return too_many(wait);
  }
  auto done = co_await h.mfa(p, {}).complete_login(b.field("mfaToken"), b.field("code"), *via);
  if (!done) {
    if (done.error() == mfakit::errc::challenge_invalid) h.bad_token_limiter.failed(address, h.now());
    co_return refusal(mhttp::endpoint::verify, done);
  }
  const bool totp = *via == mfakit::factor::totp;
  std::vector<std::string> amr{"pwd", totp ? "otp" : "backup"};
  co_return co_await h.issue_session(done->user, std::move(amr), p, totp ? "totp" : "backup_code");
}

// POST /api/auth/refresh {"refresh_token"}: rotates it. Unknown tokens
// count against the client's address like bad login challenges (100 in
// 5 minutes, then 429).
net::awaitable<reply> refresh(host& h, request& req, const peer& p) {
  const json_body b(body_of(req));
  const std::string_view token = b.field("refresh_token");
  const std::string address = web::address_key(p.address);
  if (const std::int64_t wait = h.bad_token_limiter.blocked(address, h.now()); wait > 0) {
    log_auth("refresh_throttled", "-", &p, fmt::format("retry_after={}", wait));
    co_return too_many(wait);
  }
  if (token.empty()) co_return web::error_reply(400, "refresh_token is required");
  if (!hex64(token)) {
    h.bad_token_limiter.failed(address, h.now());
    co_return web::error_reply(401, "Invalid refresh token");
  }
  co_return co_await on(h.store_pool, [&]() -> reply {
    const std::int64_t t = h.now();
    std::string next = random_hex<32>();
    auto rotated = h.db.rotate_refresh(sha256_hex(token), sha256_hex(next), t);
    if (!rotated) {
      mfakit::cleanse(next.data(), next.size());
      return unavailable();
    }
    if (rotated->outcome != mfakit_examples::refresh_outcome::rotated) {
      mfakit::cleanse(next.data(), next.size());
      if (rotated->outcome == mfakit_examples::refresh_outcome::reused)
        log_auth("refresh_reused", "-", &p, "family=revoked");
      if (rotated->outcome == mfakit_examples::refresh_outcome::unknown) h.bad_token_limiter.failed(address, t);
      return web::error_reply(401, "Invalid refresh token");
    }
    mfakit_examples::jwt::claims c{rotated->user, random_hex<16>(), t,
                                   t,             t + h.settings.access_ttl, rotated->family,
                                   split_amr(rotated->amr)};
    std::string access = h.jwt.sign(c, h.settings.issuer);
    reply r = h.token_reply(access, next);
    mfakit::cleanse(access.data(), access.size());
    mfakit::cleanse(next.data(), next.size());
    log_auth("session_refreshed", rotated->user, &p);
    return r;
  });
}

// POST /api/auth/logout [{"refresh_token"}]: the access token (its jti) is
// revoked until it expires, the refresh token's family too.
net::awaitable<reply> logout(host& h, request& req, const peer& p) {
  auto authenticated = co_await h.authenticate(req);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  session& auth = std::get<session>(authenticated);
  const auto& claims = auth.claims;
  const json_body b(body_of(req));
  const std::string_view refresh_token = b.field("refresh_token");
  co_return co_await on(h.store_pool, [&]() -> reply {
    // revoke first, then drop the cache entry (revoke() also keeps a check
    // that raced this logout from putting the token back)
    if (!h.db.revoke_access(claims->jti, claims->exp)) return unavailable();
    h.sessions.revoke(auth.key);
    if (hex64(refresh_token) && !h.db.revoke_refresh(sha256_hex(refresh_token))) return unavailable();
    log_auth("logged_out", claims->sub, &p);
    return text_reply(200, R"({"loggedOut":true})");
  });
}

}  // namespace

void add_auth_routes(router& r, host& h) {
  r.post("/api/auth", [&h](request& req, const peer& p) { return login(h, req, p); });
  r.post("/api/auth/mfa/verify", [&h](request& req, const peer& p) { return verify(h, req, p); });
  r.post("/api/auth/refresh", [&h](request& req, const peer& p) { return refresh(h, req, p); });
  r.post("/api/auth/logout", [&h](request& req, const peer& p) { return logout(h, req, p); });
}

}  // namespace mfakit_examples::demo
