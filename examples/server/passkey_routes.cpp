// The demo server's passkey routes (passkey_routes.hpp). Each handler reads
// its body strictly (the library's reader for the PublicKeyCredential JSON),
// makes its call of the MFA service (the signature checks, tens of
// microseconds, run where the call resumes, not on the scrypt pool), and
// replies.
#include "passkey_routes.hpp"

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <mfakit/http.hpp>

#include "audit_log.hpp"
#include "client_network.hpp"
#include "host.hpp"
#include "router.hpp"

namespace mfakit_examples::demo {

void passkey_site::listening_on(unsigned short port) {
  if (settings.rp.origins.empty()) settings.rp.origins.push_back(fmt::format("http://localhost:{}", port));
}

namespace {

constexpr std::size_t max_register_body = 64 * 1024;
constexpr std::size_t max_login_body = 16 * 1024;

[[nodiscard]] reply json_reply(std::string_view body) {
  reply r;
  r.body.assign(body.begin(), body.end());
  return r;
}

[[nodiscard]] bool store_error(std::error_code ec) {
  return ec == mfakit::errc::storage_failure || ec == mfakit::errc::storage_conflict ||
         ec == mfakit::errc::random_failure || ec == mfakit::errc::crypto_failure ||
         ec == mfakit::errc::malformed_record;
}

/// A failed call that is the server's, not the request's: 503.
template <class Result>
[[nodiscard]] reply store_refusal(const Result& r) {
  return error_for(mhttp::endpoint::status, mfakit::make_error_code(mfakit::errc::storage_failure), r.retry_after());
}

[[nodiscard]] reply too_many_passkeys() {
  return web::error_reply(409, fmt::format("at most {} passkeys per account", mfakit::max_passkeys_per_user));
}

/// The body as a JSON object (nullopt: too long, not JSON, or not an object). An empty body reads as {}
/// when `empty_is_object`.
[[nodiscard]] std::optional<boost::json::object> object_of(const request& req, std::size_t max,
                                                           bool empty_is_object = false) {
  const std::string_view text = body_of(req);
  if (text.size() > max) return std::nullopt;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (empty_is_object) return boost::json::object{};
    return std::nullopt;
  }
  boost::json::parse_options opt;
  opt.max_depth = 16;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

[[nodiscard]] bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

/// A passkey's name: a JSON string, 1 to 64 bytes of UTF-8 once trimmed, no control characters.
[[nodiscard]] std::optional<std::string> name_of(const boost::json::object& o) {
  const auto* v = o.if_contains("name");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  std::string_view s(v->get_string().data(), v->get_string().size());
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty() || s.size() > mfakit::max_passkey_name_bytes ||
      !mfakit::webauthn::detail::valid_utf8(mfakit::as_bytes(s)) || has_control(s))
    return std::nullopt;
  return std::string(s);
}

/// The "response" member, as JSON text for the library's strict reader.
[[nodiscard]] std::optional<std::string> response_of(const boost::json::object& o) {
  const auto* v = o.if_contains("response");
  if (v == nullptr || !v->is_object()) return std::nullopt;
  return boost::json::serialize(*v);
}

/// "2026-12-08T04:30:00Z", or null for 0 (never).
[[nodiscard]] std::string iso_time(std::int64_t t) {
  if (t <= 0) return "null";
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return "null";
  return fmt::format(R"("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z")", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

[[nodiscard]] std::string info_json(const mfakit::passkey_info& i) {
  std::string out = R"({"id":")";
  mfakit::webauthn::append_base64url(out, i.id);
  out += R"(","name":)";
  out += mhttp::json_string(i.name);
  out += R"(,"createdAt":)";
  out += iso_time(i.created_at);
  out += R"(,"lastUsedAt":)";
  out += iso_time(i.last_used_at);
  out += '}';
  return out;
}

const char* const malformed_response = "response must be a PublicKeyCredential in JSON (base64url fields)";

/// While TOTP is on, adding or removing a passkey (a factor that logs in on
/// its own, as two) needs a session that passed the second factor: else the
/// password alone would buy a passkey, and with it both factors. nullopt: go on.
net::awaitable<std::optional<reply>> second_factor_gate(host& h, const session& s, const peer& p) {
  if (second_factor(*s.claims)) co_return std::nullopt;
  auto st = co_await h.service.status(s.claims->sub);
  if (!st) co_return store_refusal(st);
  if (!st->totp_enabled) co_return std::nullopt;
  log_auth("step_up_required", s.claims->sub, &p, "reason=passkey_change");
  co_return web::error_reply(403, "This login did not pass the second factor: log in again with it");
}

// POST /api/v1/passkey/register/options
net::awaitable<reply> register_options(host& h, const passkey_site& site, request& req) {
  auto a = co_await h.authenticate(req);
  if (auto* no = std::get_if<reply>(&a)) co_return std::move(*no);
  const std::string& user = std::get<session>(a).claims->sub;
  auto r = co_await h.service.passkey_registration_options(site.settings, user, user);
  if (r) co_return json_reply(r->json);
  if (r.error() == mfakit::errc::invalid_argument) co_return too_many_passkeys();
  co_return store_refusal(r);
}

// POST /api/v1/passkey/register {"name", "response"} (the session first, then the body)
net::awaitable<reply> register_passkey(host& h, const passkey_site& site, request& req, const peer& p) {
  auto a = co_await h.authenticate(req);
  if (auto* no = std::get_if<reply>(&a)) co_return std::move(*no);
  const auto& claims = *std::get<session>(a).claims;
  if (auto no = co_await second_factor_gate(h, std::get<session>(a), p)) co_return std::move(*no);
  auto body = object_of(req, max_register_body);
  if (!body) co_return web::error_reply(400, R"(the body must be a JSON object {"name", "response"})");
  auto name = name_of(*body);
  if (!name)
    co_return web::error_reply(400, fmt::format("name must be 1 to {} bytes of text", mfakit::max_passkey_name_bytes));
  auto text = response_of(*body);
  if (!text) co_return web::error_reply(400, malformed_response);
  auto parsed = mfakit::webauthn::parse_registration_response(*text);
  if (!parsed) co_return web::error_reply(400, malformed_response);
  // The attestation's checks and signature: tens of microseconds (tests/bench: bench_webauthn), run where
  // the call resumes; the fair KDF pool is for scrypt, whose per-network share would turn a busy office's
  // passkey logins into 503s.
  auto r = co_await h.service.passkey_register(site.settings, claims.sub, *name, parsed->client_data_json,
                                               parsed->attestation_object);
  if (!r) {
    const auto ec = r.error();
    if (ec == mfakit::errc::already_enabled) co_return web::error_reply(409, "this passkey is already registered");
    if (ec == mfakit::errc::invalid_argument) co_return too_many_passkeys();
    if (store_error(ec)) co_return store_refusal(r);
    co_return web::error_reply(422, "passkey registration failed");
  }
  if (auto failed = co_await h.end_other_sessions(claims.sub, claims.fam, p)) co_return std::move(*failed);
  co_return json_reply(info_json(*r));
}

// GET /api/v1/passkey
net::awaitable<reply> list(host& h, request& req) {
  auto a = co_await h.authenticate(req);
  if (auto* no = std::get_if<reply>(&a)) co_return std::move(*no);
  auto r = co_await h.service.passkeys(std::get<session>(a).claims->sub);
  if (!r) co_return store_refusal(r);
  std::string out = "[";
  for (std::size_t i = 0; i < r->size(); ++i) {
    if (i != 0) out.push_back(',');
    out += info_json((*r)[i]);
  }
  out.push_back(']');
  co_return json_reply(out);
}

// DELETE /api/v1/passkey/{id}
net::awaitable<reply> remove(host& h, request& req, const peer& p, std::string_view id_text) {
  auto a = co_await h.authenticate(req);
  if (auto* no = std::get_if<reply>(&a)) co_return std::move(*no);
  const auto& claims = *std::get<session>(a).claims;
  if (auto no = co_await second_factor_gate(h, std::get<session>(a), p)) co_return std::move(*no);
  auto id = mfakit::webauthn::base64url_decode(id_text, mfakit::webauthn::max_credential_id_bytes);
  if (!id || id->empty()) co_return web::error_reply(404, "no such passkey");
  auto r = co_await h.service.delete_passkey(claims.sub, *id);
  if (!r) {
    if (r.error() == mfakit::errc::not_enabled) co_return web::error_reply(404, "no such passkey");
    co_return store_refusal(r);
  }
  if (auto failed = co_await h.end_other_sessions(claims.sub, claims.fam, p)) co_return std::move(*failed);
  co_return json_reply(R"({"deleted":true})");
}

// POST /api/auth/passkey/login/options {"email"?} (or no body)
net::awaitable<reply> login_options(host& h, const passkey_site& site, request& req, const peer& p) {
  // each answer stores a ceremony for 5 minutes: a bound per client network on what no session pays for
  const std::string network = web::network_key(p.address);
  if (const std::int64_t wait = h.ceremony_limiter.reserve(network, h.now()); wait > 0) {
    log_auth("passkey_options_throttled", "-", &p, fmt::format("retry_after={}", wait));
    co_return too_many(wait);
  }
  auto body = object_of(req, max_login_body, true);
  if (!body) co_return web::error_reply(400, R"(the body must be empty or a JSON object {"email"?})");
  std::optional<std::string> email;
  if (const auto* v = body->if_contains("email"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) co_return web::error_reply(400, "email must be a string");
    std::string e(v->get_string().data(), v->get_string().size());
    for (char& c : e)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (e.empty() || e.size() > 254 || has_control(e))
      co_return web::error_reply(400, "email must be 1 to 254 bytes without control characters");
    email = std::move(e);
  }
  mfakit::result<mfakit::passkey_options_result> r = mfakit::errc::storage_failure;
  if (email) {
    r = co_await h.service.passkey_login_options(site.settings, *email);
  } else {
    r = co_await h.service.passkey_login_options(site.settings);
  }
  if (!r && r.error() == mfakit::errc::invalid_argument)
    co_return web::error_reply(400, "email is not an account name");
  if (!r) co_return store_refusal(r);
  co_return json_reply(r->json);
}

// POST /api/auth/passkey/login {"response"}
net::awaitable<reply> login(host& h, const passkey_site& site, request& req, const peer& p) {
  auto body = object_of(req, max_login_body);
  if (!body) co_return web::error_reply(400, R"(the body must be a JSON object {"response"})");
  auto text = response_of(*body);
  if (!text) co_return web::error_reply(400, malformed_response);
  auto parsed = mfakit::webauthn::parse_authentication_response(*text);
  if (!parsed) co_return web::error_reply(400, malformed_response);
  // the signature check: tens of microseconds, run where the call resumes (see register above)
  auto r = co_await h.service.passkey_login(site.settings, parsed->raw_id, parsed->client_data_json,
                                            parsed->authenticator_data, parsed->signature, parsed->user_handle);
  if (!r) {
    // the store's (a lost race on the user's credential set after the retries, or a failed store call):
    // 503, try again; anything else is the assertion's
    if (store_error(r.error())) co_return store_refusal(r);
    co_return web::error_reply(401, "passkey login failed");
  }
  // a passkey with user verification is two factors: a session at once, also for TOTP users
  std::vector<std::string> amr{"passkey"};
  reply issued = co_await h.issue_session(r->user, std::move(amr), p, "passkey");
  if (issued.status != 200) co_return issued;
  // A deletion of this passkey may race the login: it removes the credential, then moves the epoch. The
  // session above carries the epoch read when it was issued. If the credential is still there now, a
  // deletion moves the epoch after that, and the session dies with it; if it is gone (or the check
  // fails), the tokens are never handed out (the unused refresh family expires).
  auto still = co_await h.service.passkeys(r->user);
  if (!still) co_return store_refusal(still);
  const bool present =
      std::any_of(still->begin(), still->end(), [&](const auto& c) { return c.id == r->credential_id; });
  if (present) co_return issued;
  log_auth("passkey_login_refused", r->user, &p, "reason=passkey_removed");
  co_return web::error_reply(401, "passkey login failed");
}

}  // namespace

std::shared_ptr<passkey_site> add_passkey_routes(router& r, host& h, const passkey_flags& f, std::string_view issuer) {
  auto site = std::make_shared<passkey_site>();
  site->settings.rp.id = f.rp_id;
  site->settings.rp.origins = f.origins;
  site->settings.rp_name = f.rp_name.empty() ? std::string(issuer.substr(0, 64)) : f.rp_name;
  site->settings.decoy_key = f.decoy_key;
  const passkey_site& s = *site;
  r.post("/api/v1/passkey/register/options",
         [&h, &s](request& req, const peer&) { return register_options(h, s, req); });
  r.post("/api/v1/passkey/register", [&h, &s](request& req, const peer& p) { return register_passkey(h, s, req, p); });
  r.get("/api/v1/passkey", [&h](request& req, const peer&) { return list(h, req); });
  r.post("/api/auth/passkey/login/options",
         [&h, &s](request& req, const peer& p) { return login_options(h, s, req, p); });
  r.post("/api/auth/passkey/login", [&h, &s](request& req, const peer& p) { return login(h, s, req, p); });
  static constexpr std::string_view item = "/api/v1/passkey/";
  r.add_prefix(item, [&h](request& req, const peer& p) -> net::awaitable<reply> {
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view id = target.substr(0, target.find('?')).substr(item.size());
    const bool well_formed = !id.empty() && id.size() <= 1400 && std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!well_formed) co_return web::error_reply(404, "Not found");
    if (req.method() != web::http::verb::delete_) co_return not_allowed("DELETE");
    co_return co_await remove(h, req, p, id);
  });
  return site;
}

net::awaitable<std::optional<int>> passkey_count(host& h, const std::string& user) {
  auto list = co_await h.service.passkeys(user);
  if (!list) co_return std::nullopt;
  co_return static_cast<int>(list->size());
}

}  // namespace mfakit_examples::demo
