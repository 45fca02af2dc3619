// The demo server's passkey (WebAuthn) endpoints, over the library's passkey
// calls (mfakit/operations/passkey.hpp): credentials, ceremonies and
// counters live in the store beside the accounts, so every server process
// on one database serves the others' passkeys.
//
//   POST   /api/v1/passkey/register/options            Bearer -> creation options
//   POST   /api/v1/passkey/register {name, response}   Bearer -> {id, name, createdAt, lastUsedAt}
//   GET    /api/v1/passkey                             Bearer -> [{id, name, createdAt, lastUsedAt}]
//   DELETE /api/v1/passkey/{id}                        Bearer -> {"deleted": true}
//   POST   /api/auth/passkey/login/options {email?}    -> request options
//   POST   /api/auth/passkey/login {response}          -> {token, refresh_token, ...} (amr "passkey")
//
// Registration and deletion change the account's factors: like TOTP
// enable/disable they move the user's session epoch (every other session
// ends). Refusals say what was wrong with the request, never which check of
// a ceremony failed; no error string carries a key, a user handle or a
// challenge.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <mfakit/crypto.hpp>
#include <mfakit/http.hpp>
#include <mfakit/operations/passkey.hpp>
#include <mfakit/webauthn.hpp>

#include "http_server.hpp"

namespace mfakit_examples {

/// --rp-id, --rp-name, --origin, and the key of the made-up credential id.
struct passkey_flags {
  std::string rp_id = "localhost";
  std::string rp_name;               ///< empty: the issuer
  std::vector<std::string> origins;  ///< empty: http://localhost:PORT, the port the server listens on
  std::vector<unsigned char> decoy_key;
};

namespace passkey_detail {

[[nodiscard]] inline bool domain_label_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/// A lower-case DNS name that is not an IP address (an RP ID cannot be one).
[[nodiscard]] inline bool valid_rp_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 253 || id.front() == '.' || id.back() == '.') return false;
  bool all_digits = true;
  std::size_t label = 0;
  for (char c : id) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!domain_label_char(c) || ++label > 63) return false;
    if (c < '0' || c > '9') all_digits = false;
  }
  return !all_digits;  // 127.0.0.1 and the like
}

/// "http(s)://HOST[:PORT]" with HOST the RP ID or a name under it.
[[nodiscard]] inline bool origin_on(std::string_view origin, std::string_view rp_id) noexcept {
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return false;
  }
  const std::size_t colon = rest.find(':');
  const std::string_view host = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  if (!valid_rp_id(host)) return false;
  return host == rp_id || (host.size() > rp_id.size() + 1 && host.ends_with(rp_id) &&
                           host[host.size() - rp_id.size() - 1] == '.');
}

}  // namespace passkey_detail

/// One of --rp-id ID, --rp-name NAME, --origin ORIGIN (repeatable): true when
/// `flag` was one (its value taken with value()), false to leave it to others.
/// fail(message) must not return.
template <class Value, class Fail>
[[nodiscard]] bool parse_passkey_flag(passkey_flags& f, std::string_view flag, Value&& value, Fail&& fail) {
  if (flag == "--rp-id") {
    const std::string_view v = value();
    if (!passkey_detail::valid_rp_id(v)) fail("--rp-id wants a lower-case domain name (not an IP address)");
    f.rp_id = std::string(v);
  } else if (flag == "--rp-name") {
    const std::string_view v = value();
    if (v.empty() || v.size() > 64 || !mfakit::webauthn::detail::valid_utf8(mfakit::as_bytes(v)) ||
        std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      fail("--rp-name wants 1 to 64 bytes of UTF-8 without control characters");
    f.rp_name = std::string(v);
  } else if (flag == "--origin") {
    const std::string_view v = value();
    if (f.origins.size() >= 16) fail("--origin: at most 16");
    f.origins.emplace_back(v);
  } else {
    return false;
  }
  return true;
}

/// After the command line: every origin on the RP ID (the order of the flags
/// is free, so this is checked once they are all read).
template <class Fail>
void check_passkey_flags(const passkey_flags& f, Fail&& fail) {
  for (const auto& o : f.origins)
    if (!passkey_detail::origin_on(o, f.rp_id)) fail("--origin wants http(s)://HOST[:PORT] with HOST on --rp-id");
  if (f.origins.empty() && f.rp_id != "localhost") fail("--rp-id other than localhost needs --origin");
}

/// The key of the made-up credential id (login options for an email without
/// passkeys), derived from the JWT secret: the same on every server of one
/// deployment and across restarts, and no new secret to manage.
[[nodiscard]] inline std::vector<unsigned char> passkey_decoy_key(std::string_view jwt_secret) {
  constexpr std::string_view label = "mfakit demo server: passkey decoy key";
  auto k = mfakit::hmac_sha256(mfakit::as_bytes(jwt_secret), mfakit::as_bytes(label));
  if (!k) throw std::runtime_error("HMAC failed");
  std::vector<unsigned char> out(k->begin(), k->end());
  mfakit::cleanse(k->data(), k->size());
  return out;
}

/// The endpoints, for the server's `App` (friend of it): its session check
/// (bearer, session_refused), store pool (on), token issue and epoch move.
template <class App>
class passkey_routes {
 public:
  static constexpr std::size_t max_register_body = 64 * 1024;
  static constexpr std::size_t max_login_body = 16 * 1024;

  passkey_routes(App& app, const passkey_flags& f, std::string_view issuer) : app_(app) {
    settings_.rp.id = f.rp_id;
    settings_.rp.origins = f.origins;
    settings_.rp_name = f.rp_name.empty() ? std::string(issuer.substr(0, 64)) : f.rp_name;
    settings_.decoy_key = f.decoy_key;
  }
  passkey_routes(const passkey_routes&) = delete;
  passkey_routes& operator=(const passkey_routes&) = delete;
  ~passkey_routes() { mfakit::cleanse(settings_.decoy_key.data(), settings_.decoy_key.size()); }

  /// Before the first request: the default origin, http://localhost:PORT.
  void listening_on(unsigned short port) {
    if (settings_.rp.origins.empty()) settings_.rp.origins.push_back(fmt::format("http://localhost:{}", port));
  }
  [[nodiscard]] const mfakit::passkey_settings& settings() const noexcept { return settings_; }

  /// Whether `path` is one of these endpoints' (then handle() answers it).
  [[nodiscard]] static bool owns(std::string_view path) noexcept {
    return path == "/api/v1/passkey" || path.starts_with("/api/v1/passkey/") || path.starts_with("/api/auth/passkey/");
  }

  boost::asio::awaitable<web::reply> handle(web::request& req, const web::peer& p, std::string_view path) {
    namespace http = web::http;
    const auto m = req.method();
    if (path == "/api/v1/passkey/register/options") {
      if (m != http::verb::post) co_return not_allowed("POST");
      co_return co_await register_options(req);
    }
    if (path == "/api/v1/passkey/register") {
      if (m != http::verb::post) co_return not_allowed("POST");
      co_return co_await register_passkey(req, p);
    }
    if (path == "/api/v1/passkey") {
      if (m != http::verb::get) co_return not_allowed("GET");
      co_return co_await list(req);
    }
    if (path == "/api/auth/passkey/login/options") {
      if (m != http::verb::post) co_return not_allowed("POST");
      co_return co_await login_options(req);
    }
    if (path == "/api/auth/passkey/login") {
      if (m != http::verb::post) co_return not_allowed("POST");
      co_return co_await login(req, p);
    }
    constexpr std::string_view item = "/api/v1/passkey/";
    if (path.starts_with(item)) {
      const std::string_view id = path.substr(item.size());
      if (!id.empty() && id.size() <= 1400 && std::all_of(id.begin(), id.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
          })) {
        if (m != http::verb::delete_) co_return not_allowed("DELETE");
        co_return co_await remove(req, p, id);
      }
    }
    co_return web::error_reply(404, "Not found");
  }

  /// On a pool thread: the user's passkey count (MFA status), nullopt when the store failed.
  [[nodiscard]] std::optional<int> count(const std::string& user) {
    auto list = app_.svc_.passkeys(user);
    if (!list) return std::nullopt;
    return static_cast<int>(list->size());
  }

 private:
  using reply = web::reply;
  using request = web::request;

  [[nodiscard]] static reply not_allowed(std::string_view allow) {
    reply r = web::error_reply(405, "Method not allowed");
    r.allow = allow;
    return r;
  }
  [[nodiscard]] static reply unauthorized() {
    reply r = web::error_reply(401, "Missing or invalid JWT token");
    r.www_authenticate = true;
    return r;
  }
  [[nodiscard]] static reply unavailable() { return web::error_reply(503, "Service unavailable"); }
  [[nodiscard]] static reply json_reply(std::string_view body) {
    reply r;
    r.body.assign(body.begin(), body.end());
    return r;
  }
  [[nodiscard]] static bool store_error(std::error_code ec) {
    return ec == mfakit::errc::storage_failure || ec == mfakit::errc::storage_conflict ||
           ec == mfakit::errc::random_failure || ec == mfakit::errc::crypto_failure ||
           ec == mfakit::errc::malformed_record;
  }

  /// The body as a JSON object (nullopt: too long, not JSON, or not an object).
  /// An empty body reads as {} when `empty_is_object`.
  [[nodiscard]] static std::optional<boost::json::object> object_of(const request& req, std::size_t max,
                                                                   bool empty_is_object = false) {
    const std::string_view text(req.body().data(), req.body().size());
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

  /// "2026-12-08T04:30:00Z", or null for 0 (never).
  [[nodiscard]] static std::string iso_time(std::int64_t t) {
    if (t <= 0) return "null";
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr) return "null";
    return fmt::format(R"("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z")", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  [[nodiscard]] static std::string info_json(const mfakit::passkey_info& i) {
    std::string out = R"({"id":")";
    mfakit::webauthn::append_base64url(out, i.id);
    out += R"(","name":)";
    out += mfakit::http::json_string(i.name);
    out += R"(,"createdAt":)";
    out += iso_time(i.created_at);
    out += R"(,"lastUsedAt":)";
    out += iso_time(i.last_used_at);
    out += '}';
    return out;
  }

  /// A passkey's name: a JSON string, 1 to 64 bytes of UTF-8 once trimmed, no control characters.
  [[nodiscard]] static std::optional<std::string> name_of(const boost::json::object& o) {
    const auto* v = o.if_contains("name");
    if (v == nullptr || !v->is_string()) return std::nullopt;
    std::string_view s(v->get_string().data(), v->get_string().size());
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (s.empty() || s.size() > mfakit::max_passkey_name_bytes || !mfakit::webauthn::detail::valid_utf8(mfakit::as_bytes(s)) ||
        std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      return std::nullopt;
    return std::string(s);
  }

  /// The "response" member, as JSON text for the library's strict reader.
  [[nodiscard]] static std::optional<std::string> response_of(const boost::json::object& o) {
    const auto* v = o.if_contains("response");
    if (v == nullptr || !v->is_object()) return std::nullopt;
    return boost::json::serialize(*v);
  }

  template <class F>
  boost::asio::awaitable<reply> authenticated(request& req, F f) {
    auto auth = app_.bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return App::busy_session();
    co_return co_await app_.on(app_.store_pool_, [&]() -> reply {
      if (auto refused = app_.session_refused(*auth)) return std::move(*refused);
      return f(*auth->claims);
    });
  }

  // POST /api/v1/passkey/register/options
  boost::asio::awaitable<reply> register_options(request& req) {
    co_return co_await authenticated(req, [&](const auto& claims) -> reply {
      auto r = app_.svc_.passkey_registration_options(settings_, claims.sub, claims.sub);
      if (r) return json_reply(r->json);
      if (r.error() == mfakit::errc::invalid_argument)
        return web::error_reply(409, fmt::format("at most {} passkeys per account", mfakit::max_passkeys_per_user));
      return unavailable();
    });
  }

  // POST /api/v1/passkey/register {"name", "response"} (the session first, then the body)
  boost::asio::awaitable<reply> register_passkey(request& req, const web::peer& p) {
    co_return co_await authenticated(req, [&](const auto& claims) -> reply {
      auto body = object_of(req, max_register_body);
      if (!body) return web::error_reply(400, "the body must be a JSON object {\"name\", \"response\"}");
      auto name = name_of(*body);
      if (!name)
        return web::error_reply(400, fmt::format("name must be 1 to {} bytes of text", mfakit::max_passkey_name_bytes));
      auto text = response_of(*body);
      auto parsed = text ? mfakit::webauthn::parse_registration_response(*text)
                         : mfakit::result<mfakit::webauthn::registration_response>(mfakit::errc::webauthn_malformed);
      if (!parsed) return web::error_reply(400, "response must be a PublicKeyCredential in JSON (base64url fields)");
      auto r = app_.svc_.passkey_register(settings_, claims.sub, *name, parsed->client_data_json,
                                          parsed->attestation_object);
      if (!r) {
        const auto ec = r.error();
        if (ec == mfakit::errc::already_enabled) return web::error_reply(409, "this passkey is already registered");
        if (ec == mfakit::errc::invalid_argument)
          return web::error_reply(409, fmt::format("at most {} passkeys per account", mfakit::max_passkeys_per_user));
        if (store_error(ec)) return unavailable();
        return web::error_reply(422, "passkey registration failed");
      }
      if (auto failed = app_.move_epoch(claims.sub, claims.fam, p)) return std::move(*failed);
      return json_reply(info_json(*r));
    });
  }

  // GET /api/v1/passkey
  boost::asio::awaitable<reply> list(request& req) {
    co_return co_await authenticated(req, [&](const auto& claims) -> reply {
      auto r = app_.svc_.passkeys(claims.sub);
      if (!r) return unavailable();
      std::string out = "[";
      for (std::size_t i = 0; i < r->size(); ++i) {
        if (i != 0) out.push_back(',');
        out += info_json((*r)[i]);
      }
      out.push_back(']');
      return json_reply(out);
    });
  }

  // DELETE /api/v1/passkey/{id}
  boost::asio::awaitable<reply> remove(request& req, const web::peer& p, std::string_view id_text) {
    auto id = mfakit::webauthn::base64url_decode(id_text, mfakit::webauthn::max_credential_id_bytes);
    const bool well_formed = id && !id->empty();
    co_return co_await authenticated(req, [&](const auto& claims) -> reply {
      if (!well_formed) return web::error_reply(404, "no such passkey");
      auto r = app_.svc_.delete_passkey(claims.sub, *id);
      if (!r) {
        if (r.error() == mfakit::errc::not_enabled) return web::error_reply(404, "no such passkey");
        return unavailable();
      }
      if (auto failed = app_.move_epoch(claims.sub, claims.fam, p)) return std::move(*failed);
      return json_reply(R"({"deleted":true})");
    });
  }

  // POST /api/auth/passkey/login/options {"email"?}
  boost::asio::awaitable<reply> login_options(request& req) {
    auto body = object_of(req, max_login_body, true);
    if (!body) co_return web::error_reply(400, "the body must be empty or a JSON object {\"email\"?}");
    std::optional<std::string> email;
    if (const auto* v = body->if_contains("email"); v != nullptr && !v->is_null()) {
      if (!v->is_string()) co_return web::error_reply(400, "email must be a string");
      std::string e(v->get_string().data(), v->get_string().size());
      for (char& c : e)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (e.empty() || e.size() > 254 ||
          std::any_of(e.begin(), e.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
        co_return web::error_reply(400, "email must be 1 to 254 bytes without control characters");
      email = std::move(e);
    }
    co_return co_await app_.on(app_.store_pool_, [&]() -> reply {
      auto r = email ? app_.svc_.passkey_login_options(settings_, *email) : app_.svc_.passkey_login_options(settings_);
      if (!r && r.error() == mfakit::errc::invalid_argument) return web::error_reply(400, "email is not an account name");
      if (!r) return unavailable();
      return json_reply(r->json);
    });
  }

  // POST /api/auth/passkey/login {"response"}
  boost::asio::awaitable<reply> login(request& req, const web::peer& p) {
    (void)p;
    auto body = object_of(req, max_login_body);
    if (!body) co_return web::error_reply(400, "the body must be a JSON object {\"response\"}");
    auto text = response_of(*body);
    auto parsed = text ? mfakit::webauthn::parse_authentication_response(*text)
                       : mfakit::result<mfakit::webauthn::authentication_response>(mfakit::errc::webauthn_malformed);
    if (!parsed) co_return web::error_reply(400, "response must be a PublicKeyCredential in JSON (base64url fields)");
    co_return co_await app_.on(app_.store_pool_, [&]() -> reply {
      auto r = app_.svc_.passkey_login(settings_, parsed->raw_id, parsed->client_data_json,
                                       parsed->authenticator_data, parsed->signature, parsed->user_handle);
      if (!r) {
        if (r.error() == mfakit::errc::storage_failure) return unavailable();
        return web::error_reply(401, "passkey login failed");
      }
      // a passkey with user verification is two factors: no TOTP step, also for TOTP users
      return app_.issue_tokens(r->user, {"passkey"});
    });
  }

  App& app_;
  mfakit::passkey_settings settings_;
};

}  // namespace mfakit_examples
