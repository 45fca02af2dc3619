// mfakit_demo_server: every endpoint of shared/spec/flows.md over
// mfakit::service, with cpp-httplib (Debian's libcpp-httplib) as the HTTP
// layer, and a demo page at /. An example to read and copy from, not a
// product: it listens on 127.0.0.1 only and keeps sessions in memory.
//
//   mfakit_demo_server [--port N] [--store memory | sqlite:PATH | postgres:CONNINFO]
//                      [--key-file PATH] [--issuer NAME] [--user EMAIL:PASSWORD]...
//                      [--insecure-fast-kdf] [--clock-offset-file PATH]
//
// Environment: MFAKIT_DEMO_PORT, MFAKIT_DEMO_SEALING_KEY (64 hex digits, the
// AES-256 key that seals TOTP secrets at rest), MFAKIT_DEMO_CLOCK_OFFSET_FILE.
// Prints "listening on http://127.0.0.1:PORT/" on stdout once it accepts
// connections (--port 0 picks a free port). Audit events go to stderr, one
// line each, without secrets, codes or tokens. SIGINT/SIGTERM stop it (exit 0).
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mfakit/mfakit.hpp>

#include "demo_accounts.hpp"
#include "postgres_store.hpp"
#include "qr_png.hpp"
#include "sqlite_store.hpp"

namespace demo_assets {
extern const std::string_view index_html;
extern const std::string_view app_js;
extern const std::string_view app_css;
}  // namespace demo_assets

namespace {

using json = nlohmann::json;
namespace http = mfakit::http;
using mfakit_examples::account_directory;
using mfakit_examples::session_table;

// --- a store chosen at run time ------------------------------------------------

/// mfakit::service is a template over its store; the demo picks the store
/// from the command line, so it wraps the three behind one interface.
class any_store {
 public:
  template <class S>
  explicit any_store(std::unique_ptr<S> s) : impl_(std::make_unique<holder<S>>(std::move(s))) {}

  [[nodiscard]] mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    return impl_->load(key);
  }
  [[nodiscard]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                      const std::optional<std::string>& next) {
    return impl_->compare_and_swap(key, expected, next);
  }

 private:
  struct base {
    base() = default;
    base(const base&) = delete;
    base& operator=(const base&) = delete;
    virtual ~base() = default;
    virtual mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) = 0;
    virtual mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                  const std::optional<std::string>& next) = 0;
  };
  template <class S>
  struct holder final : base {
    explicit holder(std::unique_ptr<S> p) : s(std::move(p)) {}
    mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) override { return s->load(key); }
    mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                          const std::optional<std::string>& next) override {
      return s->compare_and_swap(key, expected, next);
    }
    std::unique_ptr<S> s;
  };
  std::unique_ptr<base> impl_;
};
static_assert(mfakit::record_store<any_store>);

// --- the clock, with a test hook -----------------------------------------------

/// The wall clock, or (TEST/DEMO HOOK ONLY) what a file says, read on every
/// call: "N" shifts the wall clock by N seconds, "@T" pins it at Unix time T.
/// An end-to-end test can so expire a challenge or wait out a throttle delay
/// without sleeping. Never set it in production.
struct demo_clock {
  std::shared_ptr<const std::string> file;

  [[nodiscard]] std::chrono::system_clock::time_point now() const {
    auto t = std::chrono::system_clock::now();
    if (!file || file->empty()) return t;
    std::ifstream in(*file);
    std::string text;
    if (!(in >> text) || text.empty()) return t;
    const bool pinned = text[0] == '@';
    long long v = 0;
    const char* first = text.data() + (pinned ? 1 : 0);
    auto [p, ec] = std::from_chars(first, text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size()) return t;
    if (pinned) return std::chrono::system_clock::time_point(std::chrono::seconds(v));
    return t + std::chrono::seconds(v);
  }
};
static_assert(mfakit::clock_source<demo_clock>);

using demo_service = mfakit::service<any_store, demo_clock>;

// --- configuration --------------------------------------------------------------

struct options {
  int port = 8080;
  std::string store = "memory";
  std::string key_file;
  std::string issuer = "mfakit demo";
  std::vector<std::pair<std::string, std::string>> users;
  bool fast_kdf = false;
  std::string clock_offset_file;
};

[[noreturn]] void usage_error(std::string_view what) {
  fmt::print(stderr, "mfakit_demo_server: {}\n", what);
  fmt::print(stderr,
             "usage: mfakit_demo_server [--port N] [--store memory|sqlite:PATH|postgres:CONNINFO]\n"
             "                          [--key-file PATH] [--issuer NAME] [--user EMAIL:PASSWORD]...\n"
             "                          [--insecure-fast-kdf] [--clock-offset-file PATH]\n");
  std::exit(2);
}

[[nodiscard]] int parse_port(std::string_view s) {
  int port = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc{} || p != s.data() + s.size() || port < 0 || port > 65535) usage_error("invalid port");
  return port;
}

[[nodiscard]] options parse_args(int argc, char** argv) {
  options o;
  if (const char* p = std::getenv("MFAKIT_DEMO_PORT"); p != nullptr && *p != '\0') o.port = parse_port(p);
  if (const char* p = std::getenv("MFAKIT_DEMO_CLOCK_OFFSET_FILE"); p != nullptr) o.clock_offset_file = p;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) usage_error(fmt::format("{} needs a value", a));
      return std::string(args[++i]);
    };
    if (a == "--port") {
      o.port = parse_port(value());
    } else if (a == "--store") {
      o.store = value();
    } else if (a == "--key-file") {
      o.key_file = value();
    } else if (a == "--issuer") {
      o.issuer = value();
    } else if (a == "--user") {
      const std::string u = value();
      const auto colon = u.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == u.size()) usage_error("--user wants EMAIL:PASSWORD");
      o.users.emplace_back(u.substr(0, colon), u.substr(colon + 1));
    } else if (a == "--insecure-fast-kdf") {
      o.fast_kdf = true;
    } else if (a == "--clock-offset-file") {
      o.clock_offset_file = value();
    } else if (a == "--help" || a == "-h") {
      usage_error("help");
    } else {
      usage_error(fmt::format("unknown option {}", a));
    }
  }
  if (o.users.empty()) {
    o.users = {{"alice@example.com", "correct horse alice"}, {"bob@example.com", "correct horse bob"}};
  }
  return o;
}

// --- the sealing key ------------------------------------------------------------

[[nodiscard]] std::optional<std::array<unsigned char, 32>> parse_hex_key(std::string_view hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.remove_suffix(1);
  if (hex.size() != 64) return std::nullopt;
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || p != hex.data() + 2 * i + 2) return std::nullopt;
    key[i] = static_cast<unsigned char>(v);
  }
  return key;
}

/// MFAKIT_DEMO_SEALING_KEY, else the key file (created with mode 0600 on the
/// first start), else (memory store only) a key that lives as long as the
/// process, like the records it seals.
[[nodiscard]] std::array<unsigned char, 32> load_sealing_key(const options& o) {
  if (const char* env = std::getenv("MFAKIT_DEMO_SEALING_KEY"); env != nullptr && *env != '\0') {
    auto k = parse_hex_key(env);
    if (!k) usage_error("MFAKIT_DEMO_SEALING_KEY must be 64 hex digits");
    return *k;
  }
  std::array<unsigned char, 32> key{};
  if (o.key_file.empty()) {
    if (o.store != "memory") usage_error("a persistent store needs --key-file or MFAKIT_DEMO_SEALING_KEY");
    if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
    return key;
  }
  std::ifstream in(o.key_file);
  if (in) {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto k = parse_hex_key(text);
    mfakit::cleanse(text.data(), text.size());
    if (!k) usage_error("the key file must hold 64 hex digits");
    return *k;
  }
  if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
  std::string hex = mfakit_examples::to_hex(key) + "\n";
  const int fd = ::open(o.key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  if (fd >= 0) ::close(fd);
  mfakit::cleanse(hex.data(), hex.size());
  if (!written) usage_error("cannot create the key file");
  fmt::print(stderr, "mfakit_demo_server: created a new sealing key in {}\n", o.key_file);
  return key;
}

[[nodiscard]] any_store open_store(const std::string& spec) {
  if (spec == "memory") return any_store(std::make_unique<mfakit::memory_store>());
  if (spec.rfind("sqlite:", 0) == 0) {
    mfakit_examples::sqlite_store::options so;
    so.path = spec.substr(7);
    return any_store(std::make_unique<mfakit_examples::sqlite_store>(so));
  }
  if (spec.rfind("postgres:", 0) == 0) {
    mfakit_examples::postgres_store::options po;
    po.conninfo = spec.substr(9);
    return any_store(std::make_unique<mfakit_examples::postgres_store>(po));
  }
  usage_error("--store is memory, sqlite:PATH or postgres:CONNINFO");
}

// --- audit events ----------------------------------------------------------------

void log_event(const mfakit::event& e) {
  std::string line = fmt::format("audit event={} user={} at={}", mfakit::to_string(e.kind), e.user, e.at);
  switch (e.kind) {
    case mfakit::event_kind::code_rejected:
    case mfakit::event_kind::code_replayed:
    case mfakit::event_kind::code_accepted:
    case mfakit::event_kind::backup_code_used: {
      line += fmt::format(" via={}", e.via == mfakit::factor::totp ? "totp" : "backup_code");
      constexpr std::array<std::string_view, 4> reasons{"none", "mismatch", "replayed", "malformed"};
      if (e.reason != mfakit::reject_reason::none)
        line += fmt::format(" reason={}", reasons.at(static_cast<std::size_t>(e.reason)));
      break;
    }
    default: break;
  }
  if (e.failures != 0) line += fmt::format(" failures={}", e.failures);
  if (e.retry_after != 0) line += fmt::format(" retry_after={}", e.retry_after);
  if (e.kind == mfakit::event_kind::clock_drift) line += fmt::format(" drift={}", mfakit::to_string(e.drift));
  if (e.kind == mfakit::event_kind::enabled || e.kind == mfakit::event_kind::backup_code_used ||
      e.kind == mfakit::event_kind::backup_codes_regenerated)
    line += fmt::format(" backup_codes_remaining={}", e.backup_codes_remaining);
  line.push_back('\n');
  std::fputs(line.c_str(), stderr);  // one call: lines from several threads do not interleave
}

// --- HTTP glue -------------------------------------------------------------------

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

/// A body that holds a secret, backup codes or tokens: httplib streams it
/// from our buffer, which is wiped once the response is sent (or dropped).
void reply_secret(httplib::Response& res, std::string body) {
  auto buffer = std::make_shared<std::string>(std::move(body));
  res.status = 200;
  res.set_content_provider(
      buffer->size(), "application/json",
      [buffer](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        return sink.write(buffer->data() + offset, length);
      },
      [buffer](bool /*success*/) { mfakit::cleanse(buffer->data(), buffer->size()); });
}

/// An error, with Retry-After when the library knows how long to wait.
void reply_error(httplib::Response& res, http::endpoint ep, std::error_code ec, const mfakit::attempt_info& info = {}) {
  if (info.retry_after > 0) res.set_header("Retry-After", std::to_string(info.retry_after));
  reply(res, http::status_of(ep, ec), http::error_body(ec));
}

void reply_message(httplib::Response& res, int status, std::string_view message) {
  reply(res, status, fmt::format("{{\"error\":{}}}", http::json_string(message)));
}

/// The request body as a JSON object; an empty or broken body reads as {}.
[[nodiscard]] json body_of(const httplib::Request& req) {
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json::object();
  return j;
}

/// A string field; a missing or non-string field reads as "".
[[nodiscard]] std::string field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

void wipe(std::string& s) { mfakit::cleanse(s.data(), s.size()); }

class app {
 public:
  app(demo_service& svc, account_directory& accounts, session_table& sessions)
      : svc_(svc), accounts_(accounts), sessions_(sessions) {}

  void install(httplib::Server& s) {
    s.Get("/", [](const httplib::Request&, httplib::Response& res) {
      page(res, demo_assets::index_html, "text/html; charset=utf-8");
    });
    s.Get("/app.js", [](const httplib::Request&, httplib::Response& res) {
      page(res, demo_assets::app_js, "text/javascript; charset=utf-8");
    });
    s.Get("/app.css", [](const httplib::Request&, httplib::Response& res) {
      page(res, demo_assets::app_css, "text/css; charset=utf-8");
    });

    post_ = {
        {"/api/auth", [this](const httplib::Request& q, httplib::Response& r) { login(q, r); }},
        {"/api/auth/mfa/verify", [this](const httplib::Request& q, httplib::Response& r) { verify(q, r); }},
        {"/api/auth/logout", [this](const httplib::Request& q, httplib::Response& r) { logout(q, r); }},
        {"/api/v1/me/mfa/totp/setup", [this](const httplib::Request& q, httplib::Response& r) { setup(q, r); }},
        {"/api/v1/me/mfa/totp/enable", [this](const httplib::Request& q, httplib::Response& r) { enable(q, r); }},
        {"/api/v1/me/mfa/totp/disable", [this](const httplib::Request& q, httplib::Response& r) { disable(q, r); }},
        {"/api/v1/me/mfa/backup-codes/regenerate",
         [this](const httplib::Request& q, httplib::Response& r) { regenerate(q, r); }},
    };
    for (const auto& [path, handler] : post_) s.Post(path, handler);
    s.Get("/api/v1/me/mfa/status", [this](const httplib::Request& q, httplib::Response& r) { status(q, r); });

    // cpp-httplib 0.11 answers 400 to a POST with neither Content-Length nor
    // Transfer-Encoding (`curl -X POST` with no data), where HTTP/1.1 says
    // the body is empty (RFC 9112 section 6.3). Such requests are routed
    // here, before httplib tries to read a body.
    s.set_pre_routing_handler([this](const httplib::Request& q, httplib::Response& r) {
      if (q.method != "POST" || q.has_header("Content-Length") || q.has_header("Transfer-Encoding"))
        return httplib::Server::HandlerResponse::Unhandled;
      auto it = post_.find(q.path);
      if (it == post_.end()) return httplib::Server::HandlerResponse::Unhandled;
      it->second(q, r);
      return httplib::Server::HandlerResponse::Handled;
    });
  }

 private:
  static void page(httplib::Response& res, std::string_view body, const char* type) {
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'self'; style-src 'self'; img-src data:; connect-src 'self'; "
                   "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.set_content(std::string(body), type);
  }

  /// The user behind "Authorization: Bearer <token>", or a 401 already sent.
  [[nodiscard]] std::optional<std::string> authenticate(const httplib::Request& req, httplib::Response& res) {
    const std::string h = req.get_header_value("Authorization");
    constexpr std::string_view scheme = "Bearer ";
    std::optional<std::string> user;
    if (h.size() > scheme.size() && std::string_view(h).substr(0, scheme.size()) == scheme)
      user = sessions_.user_of(std::string_view(h).substr(scheme.size()));
    if (!user) {
      res.set_header("WWW-Authenticate", "Bearer");
      reply_message(res, 401, "Unauthorized");
    }
    return user;
  }

  void send_tokens(const std::string& user, httplib::Response& res) {
    auto t = sessions_.issue(user);
    if (!t) return reply_error(res, http::endpoint::login, t.error());
    std::string body;
    body.reserve(40 + t->access.size() + t->refresh.size());
    body += R"({"token":")";
    body += t->access;
    body += R"(","refresh_token":")";
    body += t->refresh;
    body += R"("})";
    wipe(t->access);
    wipe(t->refresh);
    reply_secret(res, std::move(body));
  }

  // POST /api/auth {"email", "password"}
  void login(const httplib::Request& req, httplib::Response& res) {
    json b = body_of(req);
    const std::string email = field(b, "email");
    std::string password = field(b, "password");
    if (email.empty() || password.empty()) return reply_message(res, 400, "email and password are required");
    auto user = accounts_.authenticate(email, password);
    wipe(password);
    if (!user) return reply_message(res, 401, "Invalid email or password");
    auto challenge = svc_.begin_login(*user);
    if (challenge) return reply_secret(res, http::challenge_body(*challenge));
    if (challenge.error() == mfakit::errc::not_enabled) return send_tokens(*user, res);  // no second factor
    reply_error(res, http::endpoint::login, challenge.error());
  }

  // POST /api/auth/mfa/verify {"mfaToken", "code", "type"}
  void verify(const httplib::Request& req, httplib::Response& res) {
    json b = body_of(req);
    const std::string token = field(b, "mfaToken");
    std::string code = field(b, "code");
    auto via = http::parse_factor(field(b, "type"));
    if (!via) return reply_error(res, http::endpoint::verify, via.error());
    mfakit::attempt_info info;
    auto done = svc_.complete_login(token, code, *via, &info);
    wipe(code);
    if (!done) return reply_error(res, http::endpoint::verify, done.error(), info);
    send_tokens(done->user, res);
  }

  // POST /api/auth/logout (the demo page's "Log out"; not part of flows.md)
  void logout(const httplib::Request& req, httplib::Response& res) {
    if (!authenticate(req, res)) return;
    const std::string h = req.get_header_value("Authorization");
    sessions_.revoke(std::string_view(h).substr(7));
    reply(res, 200, R"({"loggedOut":true})");
  }

  // POST /api/v1/me/mfa/totp/setup
  void setup(const httplib::Request& req, httplib::Response& res) {
    auto user = authenticate(req, res);
    if (!user) return;
    auto r = svc_.setup(*user, *user);
    if (!r) return reply_error(res, http::endpoint::setup, r.error());
    std::string qr = mfakit_examples::qr_png_data_uri(r->otpauth_uri);
    if (qr.empty()) return reply_message(res, 500, "Internal error");
    reply_secret(res, http::setup_body(*r, qr));
    wipe(qr);
  }

  // POST /api/v1/me/mfa/totp/enable {"code"}
  void enable(const httplib::Request& req, httplib::Response& res) {
    auto user = authenticate(req, res);
    if (!user) return;
    json b = body_of(req);
    std::string code = field(b, "code");
    mfakit::attempt_info info;
    auto r = svc_.enable(*user, code, &info);
    wipe(code);
    if (!r) return reply_error(res, http::endpoint::enable, r.error(), info);
    reply_secret(res, http::enable_body(*r));
  }

  // POST /api/v1/me/mfa/totp/disable {"password"}
  void disable(const httplib::Request& req, httplib::Response& res) {
    auto user = authenticate(req, res);
    if (!user || !password_ok(*user, req, res)) return;
    auto r = svc_.disable(*user);
    if (!r) return reply_error(res, http::endpoint::disable, r.error());
    reply(res, 200, http::disable_body());
  }

  // POST /api/v1/me/mfa/backup-codes/regenerate {"password"}
  void regenerate(const httplib::Request& req, httplib::Response& res) {
    auto user = authenticate(req, res);
    if (!user || !password_ok(*user, req, res)) return;
    auto r = svc_.regenerate_backup_codes(*user);
    if (!r) return reply_error(res, http::endpoint::regenerate, r.error());
    reply_secret(res, http::regenerate_body(*r));
  }

  // GET /api/v1/me/mfa/status
  void status(const httplib::Request& req, httplib::Response& res) {
    auto user = authenticate(req, res);
    if (!user) return;
    auto r = svc_.status(*user);
    if (!r) return reply_error(res, http::endpoint::status, r.error());
    reply(res, 200, http::status_body(*r, 0));  // the demo has no passkeys
  }

  /// The host's password re-check of disable and regenerate: 422 when wrong.
  [[nodiscard]] bool password_ok(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    json b = body_of(req);
    std::string password = field(b, "password");
    const bool ok = !password.empty() && accounts_.verify(user, password);
    wipe(password);
    if (!ok) reply_message(res, 422, "Invalid password");
    return ok;
  }

  demo_service& svc_;
  account_directory& accounts_;
  session_table& sessions_;
  std::map<std::string, httplib::Server::Handler, std::less<>> post_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const options opt = parse_args(argc, argv);

    // Signals are taken by one thread with sigwait: block them before any
    // other thread exists, so every thread inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    if (!opt.clock_offset_file.empty())
      fmt::print(stderr, "mfakit_demo_server: WARNING: --clock-offset-file is a test hook; the clock is not real\n");
    if (opt.fast_kdf)
      fmt::print(stderr,
                 "mfakit_demo_server: WARNING: --insecure-fast-kdf weakens password and backup code "
                 "hashing; for tests only\n");

    auto key = load_sealing_key(opt);
    auto box = mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)});
    // A pepper for backup code digests, derived from the sealing key, so a
    // stolen database alone cannot even be brute-forced offline.
    auto pepper = mfakit::hmac_sha256(key, mfakit::as_bytes("mfakit-demo/backup-code-pepper/v1"));
    mfakit::cleanse(key.data(), key.size());
    if (!box || !pepper) usage_error("cannot set up the sealing key");

    any_store store = open_store(opt.store);
    mfakit::flow_config cfg(std::move(*box));
    cfg.issuer = opt.issuer;
    cfg.hasher = mfakit::backup_code_hasher(
        opt.fast_kdf ? mfakit::scrypt_params{1U << 10, 8, 1} : mfakit::backup_code_hasher::default_cost, *pepper);
    mfakit::cleanse(pepper->data(), pepper->size());
    cfg.on_event = log_event;
    demo_clock clock{std::make_shared<const std::string>(opt.clock_offset_file)};
    demo_service svc(store, std::move(cfg), clock);

    account_directory accounts(opt.fast_kdf ? mfakit::scrypt_params{1U << 10, 8, 1} : mfakit_examples::password_cost);
    for (const auto& [email, password] : opt.users) {
      if (auto r = accounts.add(email, password); !r) usage_error("cannot hash a password");
    }
    session_table sessions;

    httplib::Server server;
    app handlers(svc, accounts, sessions);
    handlers.install(server);
    server.set_payload_max_length(64 * 1024);
    server.set_read_timeout(10);
    server.set_write_timeout(10);
    server.set_default_headers({{"Cache-Control", "no-store"},
                                {"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},
                                {"X-Frame-Options", "DENY"}});
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) reply_message(res, res.status, res.status == 404 ? "Not found" : "Bad request");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
      reply_message(res, 500, "Internal error");
    });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fputs(fmt::format("http {} {} {}\n", req.method, req.path, res.status).c_str(), stderr);
    });

    int port = opt.port;
    if (port == 0) {
      port = server.bind_to_any_port("127.0.0.1");
      if (port < 0) usage_error("cannot bind 127.0.0.1");
    } else if (!server.bind_to_port("127.0.0.1", port)) {
      usage_error(fmt::format("cannot bind 127.0.0.1:{}", port));
    }

    std::atomic<bool> stopping{false};
    std::thread signal_thread([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      stopping = true;
      server.stop();
    });

    fmt::print("mfakit_demo_server: store {}, users:", opt.store.substr(0, opt.store.find(':')));
    for (const auto& email : accounts.emails()) fmt::print(" {}", email);
    fmt::print("\nlistening on http://127.0.0.1:{}/\n", port);
    std::fflush(stdout);

    const bool clean = server.listen_after_bind();
    if (!stopping) kill(getpid(), SIGTERM);  // wakes the signal thread
    signal_thread.join();
    fmt::print(stderr, "mfakit_demo_server: stopped\n");
    return clean || stopping ? 0 : 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "mfakit_demo_server: {}\n", e.what());
    return 1;
  }
}
