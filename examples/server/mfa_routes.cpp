// The demo server's MFA routes: status, TOTP setup, enable and disable, and
// new backup codes. Each handler authenticates the session, makes its call
// of the MFA service (the costly ones through host::mfa, so their scrypt runs
// on the fair KDF pool), and replies; disable and regenerate check the
// password (and, while TOTP is on, a second factor) first.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <mfakit/crypto.hpp>

#include "audit_log.hpp"
#include "client_network.hpp"
#include "json_body.hpp"
#include "passkey_routes.hpp"
#include "qr_png.hpp"
#include "router.hpp"
#include "session_limits.hpp"

namespace mfakit_examples::demo {
namespace {
using mfakit_examples::json_body;

// GET /api/v1/me/mfa/status
net::awaitable<reply> status(host& h, request& req, const peer& /*p*/) {
  auto authenticated = co_await h.authenticate(req);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const std::string& user = std::get<session>(authenticated).claims->sub;
  auto r = co_await h.service.status(user);
  if (!r) co_return refusal(mhttp::endpoint::status, r);
  auto passkeys = co_await passkey_count(h, user);
  if (!passkeys) co_return unavailable();
  co_return text_reply(200, mhttp::status_body(*r, *passkeys));
}

/// Ends a user's running setup (setup_cache::begin) however the handler leaves.
class setup_running {
 public:
  setup_running(mfakit_examples::setup_cache& cache, const std::string& user) : cache_(cache), user_(user) {}
  setup_running(const setup_running&) = delete;
  setup_running& operator=(const setup_running&) = delete;
  ~setup_running() { cache_.end(user_); }

 private:
  mfakit_examples::setup_cache& cache_;
  const std::string& user_;
};

// POST /api/v1/me/mfa/totp/setup
//
// Per user: one setup at a time (429 while one runs), and for setup_reuse
// after a setup the same answer (the same pending secret) while that setup
// is still pending, instead of a new one; the QR code is drawn on a pool of
// its own.
net::awaitable<reply> setup(host& h, request& req, const peer& /*p*/) {
  auto authenticated = co_await h.authenticate(req);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const std::string& user = std::get<session>(authenticated).claims->sub;
  if (h.setups.find(user)) {  // a recent answer: still the pending one?
    auto st = co_await h.service.status(user);
    if (!st) co_return refusal(mhttp::endpoint::setup, st);
    if (st->setup_pending) {
      if (auto cached = h.setups.find(user)) {
        reply r;
        r.body = std::move(*cached);
        co_return r;
      }
    }
    h.setups.forget(user);
  }
  if (!h.setups.begin(user)) co_return too_many(1);
  const setup_running running(h.setups, user);
  auto made = co_await h.service.setup(user, user);
  if (!made) co_return refusal(mhttp::endpoint::setup, made);
  co_return co_await on(h.qr_pool, [&]() -> reply {
    std::string qr = mfakit_examples::qr_png_data_uri(made->otpauth_uri);
    if (qr.empty()) return web::error_reply(500, "Internal error");
    reply out = secret_reply(mhttp::setup_body(*made, qr));
    mfakit::cleanse(qr.data(), qr.size());
    h.setups.put(user, out.body);
    return out;
  });
}

// POST /api/v1/me/mfa/totp/enable {"code"}: the service checks the code
// before its backup codes' scrypt goes to the KDF pool.
net::awaitable<reply> enable(host& h, request& req, const peer& p) {
  auto authenticated = co_await h.authenticate(req);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const auto& claims = *std::get<session>(authenticated).claims;
  const json_body b(body_of(req));
  auto r = co_await h.mfa(p, claims.sub).enable(claims.sub, b.field("code"));
  if (!r) co_return refusal(mhttp::endpoint::enable, r);
  h.kdf_pool.credit(host::kdf_keys(p, claims.sub));
  reply done = secret_reply(mhttp::enable_body(*r));
  if (auto failed = co_await h.end_other_sessions(claims.sub, claims.fam, p)) co_return std::move(*failed);
  co_return done;
}

/// The password and (while TOTP is on) second-factor gate of disable and
/// regenerate: a session whose login passed the second factor (amr otp or
/// backup), or a fresh "code" ("type": totp, the default, or backup) in the
/// request. nullopt: go on.
net::awaitable<std::optional<reply>> reauthenticate(host& h, const session& auth, const json_body& b, const peer& p) {
  const auto& claims = *auth.claims;
  const std::string_view password = b.field("password");
  auto pass = co_await h.enter_gate(claims.sub, p);
  if (!pass) co_return too_many(1);
  auto st = co_await h.service.status(claims.sub);
  if (!st) co_return refusal(mhttp::endpoint::status, st);
  const std::string network = web::network_key(p.address);
  auto row = co_await h.store_pool.run([&] { return h.db.login(claims.sub, network); });
  if (!row) co_return busy();
  if (!*row) co_return unavailable();
  if (password.empty()) co_return web::error_reply(422, "Invalid password");
  if (auto no = co_await h.check_password(claims.sub, password, **row, p, 422)) co_return no;
  if (!st->totp_enabled || second_factor(claims)) co_return std::nullopt;
  auto via = mhttp::parse_factor(b.field("type"));
  if (!via) co_return error_for(mhttp::endpoint::verify, via.error());
  auto checked = co_await h.mfa(p, claims.sub).verify(claims.sub, b.field("code"), *via);
  if (checked) co_return std::nullopt;
  if (checked.error() == mfakit::errc::missing_code) {
    log_auth("step_up_required", claims.sub, &p);
    co_return web::error_reply(403, "This login did not pass the second factor: send a code");
  }
  co_return refusal(mhttp::endpoint::verify, checked);
}

/// The session of a request that changes the factors (disable, regenerate), its password and
/// second factor checked (reauthenticate), or the reply refusing it.
net::awaitable<std::variant<session, reply>> authenticated_again(host& h, const request& req, const peer& p) {
  auto authenticated = co_await h.authenticate(req);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const json_body b(body_of(req));
  if (auto refused = co_await reauthenticate(h, std::get<session>(authenticated), b, p)) co_return std::move(*refused);
  co_return std::move(authenticated);
}

// POST /api/v1/me/mfa/totp/disable {"password"[, "code", "type"]}
net::awaitable<reply> disable(host& h, request& req, const peer& p) {
  auto authenticated = co_await authenticated_again(h, req, p);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const session& auth = std::get<session>(authenticated);
  auto r = co_await h.service.disable(auth.claims->sub);
  if (!r) co_return refusal(mhttp::endpoint::disable, r);
  if (auto failed = co_await h.end_other_sessions(auth.claims->sub, auth.claims->fam, p)) co_return std::move(*failed);
  co_return text_reply(200, mhttp::disable_body());
}

// POST /api/v1/me/mfa/backup-codes/regenerate {"password"[, "code", "type"]}
net::awaitable<reply> regenerate(host& h, request& req, const peer& p) {
  auto authenticated = co_await authenticated_again(h, req, p);
  if (auto* refused = std::get_if<reply>(&authenticated)) co_return std::move(*refused);
  const session& auth = std::get<session>(authenticated);
  auto r = co_await h.mfa(p, auth.claims->sub).regenerate_backup_codes(auth.claims->sub);
  if (!r) co_return refusal(mhttp::endpoint::regenerate, r);
  reply done = secret_reply(mhttp::regenerate_body(*r));
  if (auto failed = co_await h.end_other_sessions(auth.claims->sub, auth.claims->fam, p)) co_return std::move(*failed);
  co_return done;
}

}  // namespace

void add_mfa_routes(router& r, host& h) {
  r.get("/api/v1/me/mfa/status", [&h](request& req, const peer& p) { return status(h, req, p); });
  r.post("/api/v1/me/mfa/totp/setup", [&h](request& req, const peer& p) { return setup(h, req, p); });
  r.post("/api/v1/me/mfa/totp/enable", [&h](request& req, const peer& p) { return enable(h, req, p); });
  r.post("/api/v1/me/mfa/totp/disable", [&h](request& req, const peer& p) { return disable(h, req, p); });
  r.post("/api/v1/me/mfa/backup-codes/regenerate", [&h](request& req, const peer& p) { return regenerate(h, req, p); });
}

}  // namespace mfakit_examples::demo
