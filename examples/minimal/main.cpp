// The smallest complete host of mfakit: the API's seven endpoints on Boost.Beast, with
// mfakit::async_service over SQLite. One io_context thread serves HTTP; store calls hop
// to a store pool (SQLite blocks) and scrypt (backup codes) to a KDF pool (../asio_pool.hpp).
//     MFAKIT_SEALING_KEY=$(openssl rand -hex 32) mfakit_minimal 8080 mfa.db ann@example.com s3cret
// Toys, and what a real host does instead: one user and password from the command line
// (use your user table and a password hash); a session is a random id held in memory
// (use your sessions or JWTs); "qrCode" is empty (render otpauthUri as a PNG).
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/src.hpp>  // Boost.JSON header-only: its implementation, once, here

#include <mfakit/async.hpp>
#include <mfakit/http.hpp>
#include <mfakit/stores/sqlite.hpp>

#include "../asio_pool.hpp"  // the store and the offload on thread pools (shared with examples/server)

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using asio::awaitable;
using namespace mfakit::http;  // endpoint, status_of, the API's JSON bodies

using store_on_pool = mfakit_examples::pooled_store<mfakit::sqlite_store>;  // sqlite_store's calls on a pool

/// Where the service runs its costly steps (scrypt): on the KDF pool.
struct kdf_offload {
  asio::thread_pool* pool;
  awaitable<bool> operator()(mfakit::compute_job job) const {
    return mfakit_examples::on_pool<bool>(*pool, [job] {
      job();
      return true;
    });
  }
};

using mfa_service =
    mfakit::async_service<store_on_pool, mfakit::system_clock_source, mfakit::openssl_random, kdf_offload>;
using request = beast::http::request<beast::http::string_body>;
struct reply {
  unsigned status = 200;
  std::string body;
  std::int64_t retry_after = 0;
};

/// A refusal: the status the API gives this error on this endpoint, the
/// public message (never the reason a code failed), and Retry-After.
template <class Result>
reply refusal(endpoint ep, const Result& r) {
  return {static_cast<unsigned>(status_of(ep, r.error())), error_body(r.error()), r.retry_after()};
}
/// 200 with the API's body for the call's answer, or the call's refusal.
template <class Result, class Body>
reply answer(endpoint ep, const Result& r, Body body) {
  if constexpr (requires { *r; })
    return r ? reply{200, body(*r)} : refusal(ep, r);
  else  // a call that answers nothing (disable)
    return r ? reply{200, body()} : refusal(ep, r);
}

/// A string field of a JSON object ("" when absent or not a string).
std::string field(const json::value& body, std::string_view name) {
  const json::value* v = body.is_object() ? body.get_object().if_contains(name) : nullptr;
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

/// The host's side: accounts, passwords and sessions. All of it is touched
/// only from the io_context thread (the service resumes every call there).
class app {
 public:
  app(mfa_service& svc, std::string user, std::string_view password)
      : svc_(svc), user_(std::move(user)), password_(digest(password)) {}

  awaitable<reply> handle(const request& req) {
    const bool post = req.method() == beast::http::verb::post;
    const std::string_view target = req.target();
    boost::system::error_code ec;
    const json::value body = json::parse(req.body(), ec);  // a bad body reads as one without fields
    if (post && target == "/api/auth") {
      if (!(field(body, "email") == user_ && password_ok(field(body, "password"))))
        co_return reply{401, R"({"error":"Invalid credentials"})"};
      auto c = co_await svc_.begin_login(user_);
      if (!c) co_return refusal(endpoint::login, c);
      co_return c->mfa_required() ? reply{200, challenge_body(*c)} : session_for(user_);  // else: no 2nd factor
    }
    if (post && target == "/api/auth/mfa/verify") {
      auto via = parse_factor(field(body, "type"));
      if (!via) co_return refusal(endpoint::verify, via);
      auto r = co_await svc_.complete_login(field(body, "mfaToken"), field(body, "code"), *via);
      if (!r) co_return refusal(endpoint::verify, r);
      co_return session_for(r->user);
    }
    const std::string user = session_user(req);  // a copy: the map may change while we wait
    if (user.empty()) co_return reply{401, R"({"error":"Unauthorized"})"};
    if (post && (target.ends_with("/totp/disable") || target.ends_with("/regenerate")) &&
        !password_ok(field(body, "password")))  // the host checks the password again for these two
      co_return reply{422, R"({"error":"Invalid password"})"};
    if (post && target == "/api/v1/me/mfa/totp/setup")
      co_return answer(endpoint::setup, co_await svc_.setup(user, user), [](auto& r) { return setup_body(r, ""); });
    if (post && target == "/api/v1/me/mfa/totp/enable")
      co_return answer(endpoint::enable, co_await svc_.enable(user, field(body, "code")), enable_body);
    if (post && target == "/api/v1/me/mfa/totp/disable")
      co_return answer(endpoint::disable, co_await svc_.disable(user), disable_body);
    if (post && target == "/api/v1/me/mfa/backup-codes/regenerate")
      co_return answer(endpoint::regenerate, co_await svc_.regenerate_backup_codes(user), regenerate_body);
    if (req.method() == beast::http::verb::get && target == "/api/v1/me/mfa/status")
      co_return answer(endpoint::status, co_await svc_.status(user), [](auto& r) { return status_body(r); });
    co_return reply{404, R"({"error":"Not found"})"};
  }

 private:
  static mfakit::sha256_digest digest(std::string_view s) {
    return mfakit::sha256({reinterpret_cast<const unsigned char*>(s.data()), s.size()}).value();
  }
  /// Digests compared in constant time: neither the password nor its length leaks.
  bool password_ok(std::string_view given) const { return mfakit::constant_time_equal(digest(given), password_); }
  /// A new session: 32 random bytes as hex, remembered in memory until the process ends.
  reply session_for(const std::string& user) {
    std::array<unsigned char, 32> id{};
    if (!mfakit::openssl_random{}.fill(id)) return {503, R"({"error":"Service unavailable"})"};
    std::string token;
    mfakit::append_hex(token, id);
    sessions_[token] = user;
    return {200, R"({"token":)" + json_string(token) + "}"};
  }
  /// The user of the request's "Authorization: Bearer <session>", or "".
  std::string session_user(const request& req) const {
    const std::string_view auth = req[beast::http::field::authorization];
    const auto it = auth.starts_with("Bearer ") ? sessions_.find(std::string(auth.substr(7))) : sessions_.end();
    return it == sessions_.end() ? std::string() : it->second;
  }
  mfa_service& svc_;
  std::string user_;  // the one account (its email)
  mfakit::sha256_digest password_;
  std::unordered_map<std::string, std::string> sessions_;
};

/// One connection: requests in turn until the client closes or goes quiet.
awaitable<void> serve(beast::tcp_stream stream, app& a) {
  beast::flat_buffer buffer;
  for (;;) {
    request req;
    stream.expires_after(std::chrono::seconds(30));
    auto [read_error, n] = co_await beast::http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    reply r = co_await a.handle(req);
    beast::http::response<beast::http::string_body> res{static_cast<beast::http::status>(r.status), req.version()};
    res.set(beast::http::field::content_type, "application/json");
    res.set(beast::http::field::cache_control, "no-store");  // bodies carry secrets and backup codes
    if (r.retry_after > 0) res.set(beast::http::field::retry_after, std::to_string(r.retry_after));
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    auto [write_error, m] = co_await beast::http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    mfakit::cleanse(res.body().data(), res.body().size());
    if (write_error || !res.keep_alive()) co_return;
  }
}

awaitable<void> listen(asio::ip::tcp::acceptor& acceptor, app& a) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), serve(beast::tcp_stream(std::move(socket)), a), asio::detached);
  }
}

/// The sealing key (AES-256-GCM for the TOTP secrets at rest): 64 hex digits.
/// A real host reads it from its secret store; never keep it beside the database.
mfakit::secret_box sealing_box(const char* hex) {
  const std::string_view h = hex != nullptr ? hex : "";
  if (h.size() != 64 || h.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    throw std::invalid_argument("MFAKIT_SEALING_KEY must be 64 lowercase hex digits");
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) std::from_chars(&h[2 * i], &h[2 * i] + 2, key[i], 16);
  auto box = mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)});
  mfakit::cleanse(key.data(), key.size());
  return std::move(box).value();
}

int main(int argc, char** argv) try {
  if (argc != 5) {
    std::cerr << "usage: MFAKIT_SEALING_KEY=<64 hex digits> mfakit_minimal PORT DATABASE EMAIL PASSWORD\n";
    return 2;
  }
  mfakit::flow_config cfg(sealing_box(std::getenv("MFAKIT_SEALING_KEY")));
  cfg.issuer = "mfakit minimal";
  mfakit::sqlite_store db({.path = argv[2]});
  asio::io_context io(1);
  asio::thread_pool store_pool(4);  // at most as many as the store's connections (8)
  asio::thread_pool kdf_pool(2);    // scrypt: one thread per core it may take
  store_on_pool store{&db, &store_pool};
  mfakit::service_options<kdf_offload> options;
  options.offload = kdf_offload{&kdf_pool};
  mfa_service svc(store, std::move(cfg), options);
  app a(svc, argv[3], argv[4]);
  asio::ip::tcp::acceptor acceptor(
      io, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(argv[1]))});
  std::cout << "listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;  // flushed
  asio::co_spawn(io, listen(acceptor, a), asio::detached);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&io](auto, auto) { io.stop(); });
  io.run();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "mfakit_minimal: " << e.what() << '\n';
  return 1;
}
