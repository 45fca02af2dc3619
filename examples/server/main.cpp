// mfakit_demo_server: every endpoint of shared/spec/flows.md over
// mfakit::service, on Boost.Beast + Asio with C++20 coroutines, with JWT
// access tokens and everything (records, users, password hashes, refresh
// tokens) in the database, so several processes behind a load balancer on
// one SQLite file or one PostgreSQL database serve each other's users.
//
//   mfakit_demo_server --listen HOST:PORT --db memory|sqlite:PATH|postgresql://...
//                      --jwt-secret S | --jwt-secret-file P  --issuer NAME
//                      --user EMAIL:PASSWORD ... [--key-file P] [--threads N]   (--help for the rest)
//
// Threads: N io_context threads (HTTP, JWT checks), a bounded pool for the
// blocking store calls (mfakit::service over the synchronous adapters), and a
// small bounded pool for scrypt (passwords, backup codes): 128 MiB per
// password check, so concurrent logins queue there. Prints "listening on
// http://HOST:PORT/" on stdout once it accepts connections. SIGTERM/SIGINT:
// stops accepting, answers requests in flight, exits 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mfakit/mfakit.hpp>
#include <mfakit/stores/postgresql.hpp>
#include <mfakit/stores/sqlite.hpp>

#include "account_db.hpp"
#include "account_db_postgres.hpp"
#include "account_db_sqlite.hpp"
#include "client_network.hpp"
#include "fair_pool.hpp"
#include "http_server.hpp"
#include "json_body.hpp"
#include "jwt.hpp"
#include "log.hpp"
#include "passkey_routes.hpp"
#include "passwords.hpp"
#include "qr_png.hpp"
#include "session_limits.hpp"
#include "worker_pool.hpp"

namespace demo_assets {
extern const std::string_view index_html;
extern const std::string_view app_js;
extern const std::string_view app_css;
}  // namespace demo_assets

namespace {

namespace net = boost::asio;
namespace web = mfakit_examples::web;
namespace mhttp = mfakit::http;
using mfakit_examples::json_body;
using mfakit_examples::line_logger;
using mfakit_examples::fair_pool;
using mfakit_examples::worker_pool;
using web::peer;
using web::reply;
using web::request;

// --- the clock, with a test hook -----------------------------------------------

/// The wall clock, or (TEST/DEMO HOOK ONLY) what a file says, read on every
/// call: "N" shifts the wall clock by N seconds, "@T" pins it at Unix time T.
/// Tests so expire challenges, throttles and JWTs without sleeping.
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
  [[nodiscard]] std::int64_t seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};
static_assert(mfakit::clock_source<demo_clock>);

/// The store is picked from the command line, so the service is built over
/// mfakit::any_record_store (one virtual call per store call).
using demo_service = mfakit::service<mfakit::any_record_store, demo_clock>;

// --- configuration --------------------------------------------------------------

constexpr std::string_view usage_text =
    "usage: mfakit_demo_server --listen HOST:PORT --db memory|sqlite:PATH|postgresql://...|postgres:CONNINFO\n"
    "         [--jwt-secret S | --jwt-secret-file P] [--issuer NAME] [--user EMAIL:PASSWORD]... [--demo-users]\n"
    "         [--key-file P] [--threads N] [--db-threads N] [--kdf-threads N] [--kdf-queue N]\n"
    "         [--kdf-max-wait-ms N] [--kdf-share N] [--qr-threads N] [--setup-reuse-ms N]\n"
    "         [--session-max-inflight N] [--account-max-failures N] [--totp-max-delay-s N]\n"
    "         [--max-connections N] [--max-connections-per-address N] [--idle-timeout-ms N]\n"
    "         [--request-timeout-ms N] [--header-timeout-ms N] [--min-bytes-per-s N] [--max-body-bytes N]\n"
    "         [--shutdown-grace-ms N]\n"
    "         [--sweep-interval-ms N] [--session-cache-ms N] [--trusted-proxy IP]... [--no-access-log]\n"
    "         [--log-buffer-kib N] [--rp-id ID] [--rp-name NAME] [--origin ORIGIN]...\n"
    "         test hooks: [--insecure-fast-kdf] [--clock-offset-file P]\n"
    "  aliases: --port N (= --listen 127.0.0.1:N), --store SPEC (= --db SPEC)\n"
    "  environment: MFAKIT_DEMO_SEALING_KEY (64 hex digits), MFAKIT_DEMO_JWT_SECRET, MFAKIT_DEMO_PORT\n";

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  std::string db = "memory";
  std::string jwt_secret;
  std::string jwt_secret_file;
  std::string key_file;
  std::string issuer = "mfakit demo";
  std::vector<std::pair<std::string, std::string>> users;       ///< --user: created, or their password reset
  std::vector<std::pair<std::string, std::string>> demo_users;  ///< created only when missing
  bool demo_users_flag = false;
  unsigned threads = 0;
  unsigned db_threads = 0;
  unsigned kdf_threads = 0;
  unsigned kdf_queue = 256;
  long kdf_max_wait_ms = 0;  ///< 0: the request timeout
  unsigned kdf_share = 4;
  unsigned qr_threads = 1;
  std::chrono::milliseconds setup_reuse{30'000};
  unsigned session_max_inflight = 64;
  std::int64_t account_max_failures = 100;
  std::int64_t totp_max_delay = 900;
  web::limits limits;
  std::chrono::milliseconds shutdown_grace{10'000};
  std::chrono::milliseconds sweep_interval{60'000};
  std::chrono::milliseconds session_cache{1'000};
  std::vector<net::ip::address> trusted_proxies;
  bool fast_kdf = false;
  std::string clock_offset_file;
  std::size_t log_buffer_kib = 4096;
  mfakit_examples::passkey_flags passkeys;  ///< --rp-id, --rp-name, --origin
};

/// Bad command line: one line on stderr, exit status 2.
[[noreturn]] void usage_error(std::string_view what) {
  std::string line(what.substr(0, 200));
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // one line, whatever was typed
  fmt::print(stderr, "mfakit_demo_server: {} (see --help)\n", line);
  std::exit(2);
}

template <class T>
[[nodiscard]] T parse_number(std::string_view flag, std::string_view s, T min, T max) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v < min || v > max)
    usage_error(fmt::format("{} wants a number from {} to {}", flag, min, max));
  return v;
}

[[nodiscard]] std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void set_listen(options& o, std::string_view v) {
  const std::size_t colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0) usage_error("--listen wants HOST:PORT");
  std::string host(v.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  (void)net::ip::make_address(host, ec);
  if (ec) usage_error("--listen wants an IP address as HOST (or localhost)");
  o.host = host;
  o.port = parse_number<unsigned short>("--listen PORT", v.substr(colon + 1), 0, 65535);
}

[[nodiscard]] options parse_args(int argc, char** argv) {
  options o;
  if (const char* p = std::getenv("MFAKIT_DEMO_PORT"); p != nullptr && *p != '\0')
    o.port = parse_number<unsigned short>("MFAKIT_DEMO_PORT", p, 0, 65535);
  if (const char* p = std::getenv("MFAKIT_DEMO_CLOCK_OFFSET_FILE"); p != nullptr) o.clock_offset_file = p;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= args.size()) usage_error(fmt::format("{} needs a value", a));
      return args[++i];
    };
    auto ms = [&](std::string_view v) { return std::chrono::milliseconds(parse_number<long>(a, v, 1, 86'400'000)); };
    if (a == "--listen") {
      set_listen(o, value());
    } else if (a == "--port") {
      o.host = "127.0.0.1";
      o.port = parse_number<unsigned short>(a, value(), 0, 65535);
    } else if (a == "--db" || a == "--store") {
      o.db = value();
    } else if (a == "--jwt-secret") {
      o.jwt_secret = value();
    } else if (a == "--jwt-secret-file") {
      o.jwt_secret_file = value();
    } else if (a == "--key-file") {
      o.key_file = value();
    } else if (a == "--issuer") {
      o.issuer = value();
    } else if (a == "--user") {
      const std::string_view u = value();
      const auto colon = u.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == u.size())
        usage_error("--user wants EMAIL:PASSWORD");
      for (char c : u.substr(0, colon))
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) usage_error("--user: control character in EMAIL");
      o.users.emplace_back(lower(u.substr(0, colon)), std::string(u.substr(colon + 1)));
    } else if (a == "--demo-users") {
      o.demo_users_flag = true;
    } else if (a == "--threads") {
      o.threads = parse_number<unsigned>(a, value(), 1, 256);
    } else if (a == "--db-threads") {
      o.db_threads = parse_number<unsigned>(a, value(), 1, 256);
    } else if (a == "--kdf-threads") {
      o.kdf_threads = parse_number<unsigned>(a, value(), 1, 64);
    } else if (a == "--kdf-queue") {
      o.kdf_queue = parse_number<unsigned>(a, value(), 1, 1'000'000);
    } else if (a == "--kdf-max-wait-ms") {
      o.kdf_max_wait_ms = parse_number<long>(a, value(), 1, 3'600'000);
    } else if (a == "--kdf-share") {
      o.kdf_share = parse_number<unsigned>(a, value(), 1, 1'000'000);
    } else if (a == "--qr-threads") {
      o.qr_threads = parse_number<unsigned>(a, value(), 1, 64);
    } else if (a == "--setup-reuse-ms") {
      o.setup_reuse = std::chrono::milliseconds(parse_number<long>(a, value(), 0, 3'600'000));
    } else if (a == "--session-max-inflight") {
      o.session_max_inflight = parse_number<unsigned>(a, value(), 1, 1'000'000);
    } else if (a == "--account-max-failures") {
      o.account_max_failures = parse_number<std::int64_t>(a, value(), 1, 1'000'000'000);
    } else if (a == "--totp-max-delay-s") {
      o.totp_max_delay = parse_number<std::int64_t>(a, value(), 0, 86'400 * 365);
    } else if (a == "--header-timeout-ms") {
      o.limits.header_timeout = ms(value());
    } else if (a == "--min-bytes-per-s") {
      o.limits.min_bytes_per_second = parse_number<std::size_t>(a, value(), 0, 1U << 30U);
    } else if (a == "--max-body-bytes") {
      o.limits.body_bytes = parse_number<std::size_t>(a, value(), 256, 64U << 20U);
    } else if (a == "--max-connections") {
      o.limits.max_connections = parse_number<std::size_t>(a, value(), 1, 1'000'000);
    } else if (a == "--max-connections-per-address") {
      o.limits.max_connections_per_address = parse_number<std::size_t>(a, value(), 1, 1'000'000);
    } else if (a == "--idle-timeout-ms") {
      o.limits.idle_timeout = ms(value());
    } else if (a == "--request-timeout-ms") {
      o.limits.request_timeout = ms(value());
      o.limits.write_timeout = o.limits.request_timeout;
    } else if (a == "--shutdown-grace-ms") {
      o.shutdown_grace = ms(value());
    } else if (a == "--sweep-interval-ms") {
      o.sweep_interval = ms(value());
    } else if (a == "--session-cache-ms") {
      o.session_cache = std::chrono::milliseconds(parse_number<long>(a, value(), 0, 3'600'000));
    } else if (a == "--trusted-proxy") {
      boost::system::error_code ec;
      auto addr = net::ip::make_address(std::string(value()), ec);
      if (ec) usage_error("--trusted-proxy wants an IP address");
      addr = web::unmapped(addr);  // ::ffff:a.b.c.d is a.b.c.d (a dual-stack listener's peers are unmapped too)
      o.trusted_proxies.push_back(addr);
      o.limits.unlimited.push_back(addr);  // a proxy carries many clients: no per-address connection cap
    } else if (a == "--log-buffer-kib") {
      o.log_buffer_kib = parse_number<std::size_t>(a, value(), 4, 1U << 20U);
    } else if (a == "--no-access-log") {
      o.limits.access_log = false;
    } else if (a == "--insecure-fast-kdf") {
      o.fast_kdf = true;
    } else if (a == "--clock-offset-file") {
      o.clock_offset_file = value();
    } else if (mfakit_examples::parse_passkey_flag(o.passkeys, a, value, usage_error)) {
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage_text.data(), stdout);
      std::exit(0);
    } else {
      usage_error(fmt::format("unknown option {}", a));
    }
  }
  mfakit_examples::check_passkey_flags(o.passkeys, usage_error);
  if (o.db != "memory" && o.db.rfind("sqlite:", 0) != 0 && o.db.rfind("postgresql://", 0) != 0 &&
      o.db.rfind("postgres://", 0) != 0 && o.db.rfind("postgres:", 0) != 0)
    usage_error("--db is memory, sqlite:PATH, postgresql://... or postgres:CONNINFO");
  // alice and bob, with the passwords the README publishes: with --demo-users,
  // or on the memory store when no --user is given; never on a shared
  // database by default, and never over an existing account's password
  if (o.demo_users_flag || (o.users.empty() && o.db == "memory")) {
    o.demo_users = {{"alice@example.com", "correct horse alice"}, {"bob@example.com", "correct horse bob"}};
  }
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  if (o.threads == 0) o.threads = cores;
  const bool postgres = o.db.rfind("postgres", 0) == 0;
  if (o.db_threads == 0) o.db_threads = postgres ? 4 * cores : std::max(2U, cores);
  if (o.kdf_threads == 0) o.kdf_threads = std::clamp(cores / 2, 1U, 4U);  // scrypt is memory-bound: half the cores
  return o;
}

// --- secrets from the command line, files and the environment ---------------------

/// Once parsed: the passwords of --user and the value of --jwt-secret are
/// wiped from argv (and so from /proc/PID/cmdline for later readers), and
/// MFAKIT_DEMO_JWT_SECRET from the environment block.
void wipe_secret_args(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string_view a = argv[i];
    char* v = argv[i + 1];
    if (a == "--user") {
      if (char* colon = std::strchr(v, ':'); colon != nullptr) mfakit::cleanse(colon + 1, std::strlen(colon + 1));
      ++i;
    } else if (a == "--jwt-secret") {
      mfakit::cleanse(v, std::strlen(v));
      ++i;
    }
  }
}

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

/// One warning line when a secret's file can be read by its group or others.
void warn_if_shared(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077U) == 0) return;
  fmt::print(stderr, "mfakit_demo_server: WARNING: {} {} is readable by group or others (mode {:o}); chmod 600 it\n",
             what, mfakit_examples::log_escape(path), st.st_mode & 0777U);
}

[[nodiscard]] std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// MFAKIT_DEMO_SEALING_KEY, else the key file (created with mode 0600 on the
/// first start), else: a random key for the memory store; for SQLite a key
/// file next to the database (PATH.key, with a warning: fine for the demo
/// and the benchmark, not for production); PostgreSQL needs one given.
[[nodiscard]] std::array<unsigned char, 32> load_sealing_key(const options& o, const std::string& sqlite_path) {
  if (const char* env = std::getenv("MFAKIT_DEMO_SEALING_KEY"); env != nullptr && *env != '\0') {
    auto k = parse_hex_key(env);
    if (!k) usage_error("MFAKIT_DEMO_SEALING_KEY must be 64 hex digits");
    return *k;
  }
  std::array<unsigned char, 32> key{};
  std::string file = o.key_file;
  if (file.empty()) {
    if (o.db == "memory") {
      if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
      return key;
    }
    if (sqlite_path.empty()) usage_error("a PostgreSQL database needs --key-file or MFAKIT_DEMO_SEALING_KEY");
    file = sqlite_path + ".key";
    fmt::print(stderr,
               "mfakit_demo_server: WARNING: no --key-file; using {} next to the database (give a key kept apart "
               "from the database in production)\n",
               mfakit_examples::log_escape(file));
  }
  if (auto text = read_file(file)) {
    auto k = parse_hex_key(*text);
    mfakit::cleanse(text->data(), text->size());
    if (!k) usage_error("the key file must hold 64 hex digits");
    warn_if_shared(file, "the key file");
    return *k;
  }
  if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
  std::string hex = mfakit_examples::to_hex(key) + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  if (fd >= 0) ::close(fd);
  mfakit::cleanse(hex.data(), hex.size());
  if (!written) {
    // another server on the same database created it first: use theirs
    if (auto text = read_file(file)) {
      auto k = parse_hex_key(*text);
      mfakit::cleanse(text->data(), text->size());
      if (k) return *k;
    }
    usage_error("cannot create the key file");
  }
  fmt::print(stderr, "mfakit_demo_server: created a new sealing key in {}\n", mfakit_examples::log_escape(file));
  return key;
}

/// --jwt-secret, --jwt-secret-file, MFAKIT_DEMO_JWT_SECRET; else a random
/// one (tokens then die with the process and no second process accepts them).
[[nodiscard]] std::string load_jwt_secret(const options& o) {
  std::string s = o.jwt_secret;
  if (!o.jwt_secret_file.empty()) {
    auto text = read_file(o.jwt_secret_file);
    if (!text) usage_error("cannot read --jwt-secret-file");
    warn_if_shared(o.jwt_secret_file, "the JWT secret file");
    s = std::move(*text);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  }
  if (s.empty()) {
    if (char* env = std::getenv("MFAKIT_DEMO_JWT_SECRET"); env != nullptr) {
      s = env;
      mfakit::cleanse(env, std::strlen(env));
    }
  }
  if (s.empty()) {
    std::array<unsigned char, 32> raw{};
    if (!mfakit::openssl_random{}.fill(raw)) usage_error("random generator failed");
    s = mfakit_examples::to_hex(raw);
    mfakit::cleanse(raw.data(), raw.size());
    fmt::print(stderr,
               "mfakit_demo_server: WARNING: no --jwt-secret; using a random one (tokens die with this process)\n");
  }
  if (s.size() < mfakit_examples::jwt::min_key_bytes) usage_error("the JWT secret must have at least 32 bytes");
  return s;
}

// --- audit events ----------------------------------------------------------------

line_logger* g_log = nullptr;

void log_line(std::string line, bool urgent = false) {
  line.push_back('\n');
  if (g_log != nullptr) {
    g_log->write(line, urgent);
  } else {
    std::fputs(line.c_str(), stderr);
  }
}

void log_event(const mfakit::event& e) {
  std::string line = fmt::format("audit event={} user=", mfakit::to_string(e.kind));
  mfakit_examples::append_log_escaped(line, e.user);
  line += fmt::format(" at={}", e.at);
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
  log_line(std::move(line), true);
}

/// The host's own events (passwords, sessions), in the same shape.
void log_auth(std::string_view event, std::string_view user, const peer* p = nullptr, std::string_view extra = {}) {
  std::string line = "auth event=";
  line += event;
  line += " user=";
  mfakit_examples::append_log_escaped(line, user);
  if (p != nullptr) {
    line += " peer=";
    mfakit_examples::append_log_escaped(line, p->address, 64);
  }
  if (!extra.empty()) {
    line.push_back(' ');
    line += extra;
  }
  log_line(std::move(line), true);
}

// --- per-address password limit ------------------------------------------------------

/// At most max_failures failed password checks per client address in a
/// fixed window; then 429 until the window ends. A check is counted as a
/// failure before its scrypt runs (reserve) and refunded when the password
/// was right, so a burst of parallel guesses cannot all pass the check
/// before the first failure is recorded. In process memory: each server
/// counts its own share (behind a load balancer that spreads one client
/// over n servers, the limit is n times as loose; the per-account limit in
/// the database is exact).
class address_limiter {
 public:
  address_limiter(std::int64_t max_failures, std::int64_t window_s) : max_(max_failures), window_(window_s) {}

  /// Seconds to wait, 0 when the address may try.
  [[nodiscard]] std::int64_t blocked(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(addr);
    if (it == entries_.end() || now - it->second.start >= window_ || it->second.failures < max_) return 0;
    return it->second.start + window_ - now;
  }
  /// Counts an attempt as failed before it runs: 0 when the address may
  /// try (then refund() it if it succeeds), else the seconds to wait.
  [[nodiscard]] std::int64_t reserve(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    if (entries_.size() >= 100'000) sweep_locked(now);
    auto& e = entries_[addr];
    if (now - e.start >= window_) e = entry{now, 0};
    if (e.failures >= max_) return std::max<std::int64_t>(1, e.start + window_ - now);
    ++e.failures;
    return 0;
  }
  /// Counts a failure after the fact (where the attempt cost little).
  void failed(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    if (entries_.size() >= 100'000) sweep_locked(now);
    auto& e = entries_[addr];
    if (now - e.start >= window_) e = entry{now, 0};
    ++e.failures;
  }
  /// Takes back a reserve() whose attempt succeeded (or never ran).
  void refund(const std::string& addr) {
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(addr);
    if (it != entries_.end() && it->second.failures > 0) --it->second.failures;
  }
  void sweep(std::int64_t now) {
    const std::lock_guard lock(mutex_);
    sweep_locked(now);
  }

 private:
  struct entry {
    std::int64_t start = 0;
    std::int64_t failures = 0;
  };
  void sweep_locked(std::int64_t now) {
    std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.start >= window_; });
  }
  std::int64_t max_;
  std::int64_t window_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// At most one password check per account at a time on this process: the
/// per-account throttle row is read, the password checked and the outcome
/// recorded before the next check of that account may read the row, so
/// parallel guesses queue behind the throttle instead of racing past it
/// (legitimate parallel logins of one account just take turns). At most
/// max_waiting checks wait per account, each at most `patience`; beyond
/// that the answer is 429 (Retry-After: 1).
class account_gate {
 public:
  account_gate(std::size_t max_waiting, std::chrono::milliseconds patience)
      : max_waiting_(max_waiting), patience_(patience) {}

  /// Held while an account's password check runs; passes the gate on to
  /// the next waiter when destroyed.
  class pass {
   public:
    pass(account_gate* g, std::string k) : gate_(g), key_(std::move(k)) {}
    pass(pass&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), key_(std::move(o.key_)) {}
    pass(const pass&) = delete;
    pass& operator=(const pass&) = delete;
    pass& operator=(pass&&) = delete;
    ~pass() {
      if (gate_ != nullptr) gate_->release(key_);
    }

   private:
    account_gate* gate_;
    std::string key_;
  };

  net::awaitable<std::optional<pass>> enter(const std::string& email) {
    auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor);
    auto me = std::make_shared<waiter>(waiter{timer, false});
    {
      const std::lock_guard lock(mutex_);
      auto [it, fresh] = slots_.try_emplace(email);
      if (fresh) co_return std::optional<pass>(std::in_place, this, email);
      if (it->second.size() >= max_waiting_) co_return std::nullopt;
      timer->expires_after(patience_);
      it->second.push_back(me);
    }
    (void)co_await timer->async_wait(net::as_tuple(net::use_awaitable));  // cancelled when handed the gate
    const std::lock_guard lock(mutex_);
    if (me->granted) co_return std::optional<pass>(std::in_place, this, email);
    if (auto it = slots_.find(email); it != slots_.end()) std::erase(it->second, me);  // gave up waiting
    co_return std::nullopt;
  }

 private:
  struct waiter {
    std::shared_ptr<net::steady_timer> timer;
    bool granted = false;
  };
  void release(const std::string& email) {
    const std::lock_guard lock(mutex_);
    auto it = slots_.find(email);
    if (it == slots_.end()) return;
    if (it->second.empty()) {
      slots_.erase(it);
      return;
    }
    auto next = std::move(it->second.front());
    it->second.pop_front();
    next->granted = true;
    net::post(next->timer->get_executor(), [t = next->timer] { t->cancel(); });
  }

  std::size_t max_waiting_;
  std::chrono::milliseconds patience_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<std::shared_ptr<waiter>>> slots_;
};

// --- the handlers --------------------------------------------------------------------

[[nodiscard]] reply text_reply(unsigned status, std::string_view body) {
  reply r;
  r.status = status;
  r.body.assign(body.begin(), body.end());
  return r;
}

/// A body that held a secret, codes or tokens: moved into a wiped buffer,
/// the source wiped.
[[nodiscard]] reply secret_reply(std::string&& body) {
  reply r;
  r.body.assign(body.begin(), body.end());
  mfakit::cleanse(body.data(), body.size());
  return r;
}

[[nodiscard]] reply error_for(mhttp::endpoint ep, std::error_code ec, std::int64_t retry_after = 0) {
  reply r = text_reply(static_cast<unsigned>(mhttp::status_of(ep, ec)), mhttp::error_body(ec));
  r.retry_after = retry_after;
  return r;
}

[[nodiscard]] reply unauthorized() {
  reply r = web::error_reply(401, "Missing or invalid JWT token");
  r.www_authenticate = true;
  return r;
}
[[nodiscard]] reply unavailable() { return web::error_reply(503, "Service unavailable"); }
[[nodiscard]] reply busy(std::int64_t retry_after = 1) {
  reply r = web::error_reply(503, "Server busy; try again");
  r.retry_after = std::max<std::int64_t>(1, retry_after);
  return r;
}
[[nodiscard]] reply too_many(std::int64_t wait) {
  reply r = web::error_reply(429, "Too many failed attempts; try again later");
  r.retry_after = std::max<std::int64_t>(1, wait);
  return r;
}

/// Whether s holds a C0 control character or DEL.
[[nodiscard]] constexpr bool has_control(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

[[nodiscard]] bool hex64(std::string_view t) noexcept {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

[[nodiscard]] std::string sha256_hex(std::string_view s) {
  auto h = mfakit::sha256(mfakit::as_bytes(s));
  if (!h) throw std::runtime_error("sha256 failed");
  return mfakit_examples::to_hex(*h);
}

template <std::size_t N>
[[nodiscard]] std::string random_hex() {
  std::array<unsigned char, N> raw{};
  if (!mfakit::openssl_random{}.fill(raw)) throw std::runtime_error("random generator failed");
  std::string out = mfakit_examples::to_hex(raw);
  mfakit::cleanse(raw.data(), raw.size());
  return out;
}

/// Access tokens the database recently confirmed (user exists, token not
/// logged out), by the SHA-256 of the token (no token is kept in memory):
/// for `ttl` after a check, requests with the same token skip the HMAC, the
/// JSON and the database. The price: a logout on another server process
/// takes effect here up to `ttl` later (on this process at once); 0 turns it
/// off. Expiry (exp) is still checked on every request.
///
/// A logout on this process calls revoke() after its revocation committed:
/// the entry goes, and the key is remembered as revoked (for ttl + 60 s), so
/// a request whose database check ran just before the commit cannot put the
/// token back (put() and find() skip revoked keys).
class session_cache {
 public:
  using key_type = mfakit::sha256_digest;

  explicit session_cache(std::chrono::milliseconds ttl, std::size_t max_entries = 100'000)
      : ttl_(ttl), max_(max_entries) {}

  [[nodiscard]] bool enabled() const noexcept { return ttl_.count() > 0; }

  [[nodiscard]] std::shared_ptr<const mfakit_examples::jwt::claims> find(const key_type& k) {
    if (!enabled()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    auto it = map_.find(k);
    if (it == map_.end()) return nullptr;
    if (it->second.until <= now || revoked_locked(k, now) || user_changed_locked(it->second.claims->sub, now)) {
      map_.erase(it);
      return nullptr;
    }
    return it->second.claims;
  }
  /// After the user's session epoch moved: the user's tokens out of the
  /// cache, and none cached for ttl + 60 s (every check that raced the
  /// change is over by then), so each is checked against the new epoch.
  void user_changed(const std::string& user) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    std::erase_if(map_, [&](const auto& kv) { return kv.second.claims->sub == user; });
    if (changed_.size() >= max_) sweep_locked(now);
    if (changed_.size() >= max_) {
      map_.clear();
      no_caching_until_ = now + ttl_ + std::chrono::seconds(60);
      return;
    }
    changed_.insert_or_assign(user, now + ttl_ + std::chrono::seconds(60));
  }
  void put(const key_type& k, std::shared_ptr<const mfakit_examples::jwt::claims> c) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    if (now < no_caching_until_ || revoked_locked(k, now) || user_changed_locked(c->sub, now)) return;
    if (map_.size() >= max_) sweep_locked(now);
    if (map_.size() >= max_) return;
    map_.insert_or_assign(k, entry{std::move(c), now + ttl_});
  }
  /// After the token's revocation committed: out of the cache, and kept out.
  void revoke(const key_type& k) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    map_.erase(k);
    if (revoked_.size() >= max_) sweep_locked(now);
    if (revoked_.size() >= max_) {  // cannot remember it: cache nothing until every racing check is over
      map_.clear();
      no_caching_until_ = now + ttl_ + std::chrono::seconds(60);
      return;
    }
    revoked_.insert_or_assign(k, now + ttl_ + std::chrono::seconds(60));
  }
  void sweep() {
    const std::lock_guard lock(mutex_);
    sweep_locked(std::chrono::steady_clock::now());
  }

 private:
  struct entry {
    std::shared_ptr<const mfakit_examples::jwt::claims> claims;
    std::chrono::steady_clock::time_point until;
  };
  struct hasher {
    std::size_t operator()(const key_type& k) const noexcept {
      std::size_t h = 0;
      std::memcpy(&h, k.data(), sizeof h);  // already uniform: a SHA-256
      return h;
    }
  };
  [[nodiscard]] bool revoked_locked(const key_type& k, std::chrono::steady_clock::time_point now) const {
    auto it = revoked_.find(k);
    return it != revoked_.end() && it->second > now;
  }
  [[nodiscard]] bool user_changed_locked(const std::string& user, std::chrono::steady_clock::time_point now) const {
    if (changed_.empty()) return false;
    auto it = changed_.find(user);
    return it != changed_.end() && it->second > now;
  }
  void sweep_locked(std::chrono::steady_clock::time_point now) {
    std::erase_if(map_, [&](const auto& kv) { return kv.second.until <= now; });
    std::erase_if(revoked_, [&](const auto& kv) { return kv.second <= now; });
    std::erase_if(changed_, [&](const auto& kv) { return kv.second <= now; });
  }
  std::chrono::milliseconds ttl_;
  std::size_t max_;
  std::mutex mutex_;
  std::unordered_map<key_type, entry, hasher> map_;
  std::unordered_map<key_type, std::chrono::steady_clock::time_point, hasher> revoked_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> changed_;
  std::chrono::steady_clock::time_point no_caching_until_{};
};

/// An authenticated request: the token's claims, its cache key, and whether
/// the database part of the check is still to do (on the store pool).
struct session {
  std::shared_ptr<const mfakit_examples::jwt::claims> claims;
  session_cache::key_type key{};
  bool checked = false;
  std::optional<mfakit_examples::inflight_limiter::guard> slot;  ///< none: the session is over its limit
};

struct app_settings {
  std::string issuer;
  std::int64_t access_ttl = 3600;
  std::int64_t refresh_ttl = 30 * 24 * 3600;
  std::int64_t jwt_leeway = 0;
  std::chrono::milliseconds sweep_interval{60'000};
  std::chrono::milliseconds session_cache_ttl{1'000};
  std::vector<net::ip::address> trusted_proxies;  ///< whose X-Forwarded-For is believed
  std::chrono::milliseconds setup_reuse{30'000};
  std::size_t session_max_inflight = 64;
  std::int64_t account_max_failures = 100;
  mfakit::scrypt_params password_cost = mfakit_examples::password_cost;  ///< what a login rehashes to
  mfakit_examples::passkey_flags passkeys;
};

class app {
 public:
  app(demo_service& svc, mfakit::any_record_store& store, mfakit_examples::account_db& db,
      const mfakit_examples::jwt::hs256& jwt, worker_pool& store_pool, fair_pool& kdf_pool, worker_pool& qr_pool,
      demo_clock clock, std::string dummy_hash, app_settings s)
      : svc_(svc),
        store_(store),
        db_(db),
        jwt_(jwt),
        store_pool_(store_pool),
        kdf_pool_(kdf_pool),
        qr_pool_(qr_pool),
        clock_(std::move(clock)),
        dummy_hash_(std::move(dummy_hash)),
        settings_(std::move(s)),
        sessions_(settings_.session_cache_ttl),
        inflight_(settings_.session_max_inflight),
        setups_(settings_.setup_reuse) {}

  net::awaitable<reply> handle(request& req, const peer& p) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const auto method = req.method();
    const bool get = method == web::http::verb::get;
    const bool post = method == web::http::verb::post;
    if (path == "/" || path == "/app.js" || path == "/app.css") {
      if (!get) co_return not_allowed("GET");
      reply r = text_reply(200, path == "/"         ? demo_assets::index_html
                                : path == "/app.js" ? demo_assets::app_js
                                                    : demo_assets::app_css);
      r.content_type = path == "/"         ? "text/html; charset=utf-8"
                       : path == "/app.js" ? "text/javascript; charset=utf-8"
                                           : "text/css; charset=utf-8";
      r.page = true;
      co_return r;
    }
    if (mfakit_examples::passkey_routes<app>::owns(path)) {
      const peer client = settings_.trusted_proxies.empty() ? p : peer{client_address(req, p)};
      co_return co_await passkeys_.handle(req, client, path);
    }
    if (path == "/api/v1/me/mfa/status") {
      if (!get) co_return not_allowed("GET");
      co_return co_await status(req);
    }
    using handler = net::awaitable<reply> (app::*)(request&, const peer&);
    static constexpr std::array<std::pair<std::string_view, handler>, 8> posts{{
        {"/api/auth", &app::login},
        {"/api/auth/mfa/verify", &app::verify},
        {"/api/auth/refresh", &app::refresh},
        {"/api/auth/logout", &app::logout},
        {"/api/v1/me/mfa/totp/setup", &app::setup},
        {"/api/v1/me/mfa/totp/enable", &app::enable},
        {"/api/v1/me/mfa/totp/disable", &app::disable},
        {"/api/v1/me/mfa/backup-codes/regenerate", &app::regenerate},
    }};
    for (const auto& [route, fn] : posts) {
      if (route != path) continue;
      if (!post) co_return not_allowed("POST");
      if (settings_.trusted_proxies.empty()) co_return co_await (this->*fn)(req, p);
      const peer client{client_address(req, p)};
      co_return co_await (this->*fn)(req, client);
    }
    co_return web::error_reply(404, "Not found");
  }

  /// Every sweep_interval: expired login challenges (flow::challenge_expired)
  /// are deleted with the store's own compare-and-swap (a challenge used
  /// meanwhile is left alone), and expired refresh tokens, revocations and
  /// stale throttle rows go. Several servers may sweep at once.
  net::awaitable<void> sweeper() {
    sweep_timer_.emplace(co_await net::this_coro::executor);
    for (;;) {
      sweep_timer_->expires_after(settings_.sweep_interval);
      auto [ec] = co_await sweep_timer_->async_wait(net::as_tuple(net::use_awaitable));
      if (ec || stopping_) co_return;
      (void)co_await store_pool_.run([this] {
        sweep_once();
        return true;
      });
    }
  }

  void stop() {
    stopping_ = true;
    if (sweep_timer_) sweep_timer_->cancel();
  }

  address_limiter& limiter() noexcept { return limiter_; }
  mfakit_examples::passkey_routes<app>& passkeys() noexcept { return passkeys_; }

 private:
  [[nodiscard]] static reply not_allowed(std::string_view allow) {
    reply r = web::error_reply(405, "Method not allowed");
    r.allow = allow;
    return r;
  }

  [[nodiscard]] std::int64_t now() const { return clock_.seconds(); }

  [[nodiscard]] bool trusted(const net::ip::address& a) const {
    return std::find(settings_.trusted_proxies.begin(), settings_.trusted_proxies.end(), a) !=
           settings_.trusted_proxies.end();
  }

  /// The client's address for the per-address limit and the logs: the
  /// socket's peer, unless that is a trusted proxy (--trusted-proxy); then
  /// the right-most X-Forwarded-For entry that is not a trusted proxy (the
  /// entries left of it are whatever the client claimed).
  [[nodiscard]] std::string client_address(const request& req, const peer& p) const {
    boost::system::error_code ec;
    const auto socket_peer = net::ip::make_address(p.address, ec);
    if (ec || !trusted(web::unmapped(socket_peer))) return p.address;
    std::string chain;
    for (const auto& f : req) {
      if (!web::beast::iequals(f.name_string(), "x-forwarded-for")) continue;
      if (!chain.empty()) chain.push_back(',');
      chain.append(f.value().data(), f.value().size());
    }
    std::string_view rest(chain);
    std::string client = p.address;
    while (!rest.empty()) {
      const std::size_t comma = rest.rfind(',');
      std::string_view item = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      const auto a = web::unmapped(net::ip::make_address(std::string(item), ec));
      if (ec) return client;  // garbage: stop at the last address we could trust
      client = a.to_string();
      if (!trusted(a)) return client;
    }
    return client;
  }

  [[nodiscard]] static std::string_view body_of(const request& req) { return {req.body().data(), req.body().size()}; }

  /// The session of a valid "Authorization: Bearer <JWT>": from the cache,
  /// or checked here on the io thread (an HMAC and two small JSON parses)
  /// with the database part (user exists, token not revoked, its family
  /// alive at the user's session epoch) left to session_refused, on the
  /// store pool. The session's in-flight slot is taken here (none: over
  /// its limit, see busy_session()).
  [[nodiscard]] std::optional<session> bearer(const request& req) {
    auto it = req.find(web::http::field::authorization);
    if (it == req.end()) return std::nullopt;
    std::string_view v(it->value().data(), it->value().size());
    constexpr std::string_view scheme = "bearer ";  // the scheme is case-insensitive (RFC 9110 11.1)
    if (v.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
      if (c != scheme[i]) return std::nullopt;
    }
    v.remove_prefix(scheme.size());
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v.empty() || v.size() > mfakit_examples::jwt::max_token_bytes) return std::nullopt;
    session s;
    auto key = mfakit::sha256(mfakit::as_bytes(v));
    if (!key) return std::nullopt;
    s.key = *key;
    const std::int64_t t = now();
    if (auto hit = sessions_.find(s.key)) {
      if (t >= hit->exp || (hit->nbf != 0 && t < hit->nbf)) return std::nullopt;
      s.claims = std::move(hit);
      s.checked = true;
    } else {
      auto r = jwt_.verify(v, t, settings_.jwt_leeway);
      // a jti is required: it is what logout revokes (this server always sets one)
      if (!r || r.c.jti.empty()) return std::nullopt;
      s.claims = std::make_shared<const mfakit_examples::jwt::claims>(std::move(r.c));
    }
    s.slot = inflight_.acquire(std::string(reinterpret_cast<const char*>(s.key.data()), s.key.size()));  // NOLINT
    return s;
  }

  [[nodiscard]] static reply busy_session() {
    reply r = web::error_reply(429, "Too many requests of this session in flight");
    r.retry_after = 1;
    return r;
  }

  /// On a pool thread: nullopt when the session is good, else the reply.
  [[nodiscard]] std::optional<reply> session_refused(session& s) {
    if (s.checked) return std::nullopt;
    auto ok = db_.session_valid(s.claims->sub, s.claims->jti, s.claims->fam);
    if (!ok) return unavailable();
    if (!*ok) return unauthorized();
    s.checked = true;
    sessions_.put(s.key, s.claims);
    return std::nullopt;
  }

  /// Runs f() on a pool; a full pool answers 503 with Retry-After.
  template <class F>
  net::awaitable<reply> on(worker_pool& pool, F f) {
    auto r = co_await pool.run(std::move(f));
    if (!r) co_return busy();
    co_return std::move(*r);
  }
  /// Runs f() on the KDF pool for the client's network and a user; refused:
  /// 503 with the pool's Retry-After.
  template <class F>
  net::awaitable<reply> on_kdf(const peer& p, std::string_view user, F f) {
    auto r = co_await kdf_pool_.run(kdf_keys(p, user), std::move(f));
    if (!r.value) co_return busy(r.retry_after);
    co_return std::move(*r.value);
  }
  [[nodiscard]] static std::array<std::string, 2> kdf_keys(const peer& p, std::string_view user) {
    return {"net:" + web::network_key(p.address), user.empty() ? std::string() : "user:" + std::string(user)};
  }

  [[nodiscard]] static std::string join_amr(const std::vector<std::string>& amr) {
    std::string out;
    for (const auto& m : amr) {
      if (!out.empty()) out.push_back(' ');
      out += m;
    }
    return out;
  }
  [[nodiscard]] static std::vector<std::string> split_amr(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty() && out.size() < mfakit_examples::jwt::max_amr) {
      const std::size_t sp = s.find(' ');
      if (sp != 0) out.emplace_back(s.substr(0, sp));
      s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
    }
    return out;
  }
  /// Whether the session passed a second factor at its login.
  [[nodiscard]] static bool second_factor(const mfakit_examples::jwt::claims& c) {
    return std::any_of(c.amr.begin(), c.amr.end(),
                       [](const std::string& m) { return m == "otp" || m == "backup" || m == "passkey"; });
  }

  /// On a pool thread: a JWT and a refresh token for the user (the refresh
  /// token's hash stored, a new family at the user's session epoch), as the
  /// reply body.
  [[nodiscard]] reply issue_tokens(const std::string& user, std::vector<std::string> amr) {
    const std::int64_t t = now();
    const std::string family = random_hex<16>();
    const std::string amr_text = join_amr(amr);
    mfakit_examples::jwt::claims c{user, random_hex<16>(), t, t, t + settings_.access_ttl, family, std::move(amr)};
    std::string access = jwt_.sign(c, settings_.issuer);
    std::string refresh = random_hex<32>();
    if (!db_.add_refresh(sha256_hex(refresh), user, family, t + settings_.refresh_ttl, amr_text)) {
      mfakit::cleanse(access.data(), access.size());
      mfakit::cleanse(refresh.data(), refresh.size());
      return unavailable();
    }
    reply r = token_reply(access, refresh);
    mfakit::cleanse(access.data(), access.size());
    mfakit::cleanse(refresh.data(), refresh.size());
    return r;
  }

  [[nodiscard]] reply token_reply(std::string_view access, std::string_view refresh) const {
    reply r;
    r.body.reserve(96 + access.size() + refresh.size());
    r.body += R"({"token":")";
    r.body.append(access.data(), access.size());
    r.body += R"(","refresh_token":")";
    r.body.append(refresh.data(), refresh.size());
    r.body += R"(","token_type":"Bearer","expires_in":)";
    r.body += std::to_string(settings_.access_ttl);
    r.body += '}';
    return r;
  }

  /// On a pool thread, after enable, disable or regenerate: the user's
  /// session epoch moves (every other session ends; this one, `family`,
  /// goes on) and the user's cached sessions go. nullopt when done.
  [[nodiscard]] std::optional<reply> move_epoch(const std::string& user, const std::string& family, const peer& p) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (db_.bump_epoch(user, family)) {
        sessions_.user_changed(user);
        setups_.forget(user);
        log_auth("sessions_ended", user, &p, "reason=factors_changed");
        return std::nullopt;
      }
    }
    log_auth("sessions_not_ended", user, &p, "reason=storage_failure");
    return unavailable();
  }

  struct password_outcome {
    bool ok = false;
    std::string new_hash;  ///< a rehash at the current cost, when the stored one had another
    ~password_outcome() { mfakit::cleanse(new_hash.data(), new_hash.size()); }
    password_outcome() = default;
    password_outcome(password_outcome&& o) noexcept : ok(o.ok), new_hash(std::move(o.new_hash)) {}
    password_outcome(const password_outcome&) = delete;
    password_outcome& operator=(const password_outcome&) = delete;
    password_outcome& operator=(password_outcome&& o) noexcept {
      ok = o.ok;
      mfakit::cleanse(new_hash.data(), new_hash.size());
      new_hash = std::move(o.new_hash);
      return *this;
    }
  };

  /// The password check of login, disable and regenerate, with both limits:
  /// nullopt when the password is right, else the reply. `row` holds the
  /// stored hash (none: unknown user, checked against a dummy at the same
  /// cost). The caller holds the account's gate (account_gate) from before
  /// it read `row`; the address's attempt is counted before the scrypt.
  /// A stored hash of another cost is rehashed at the current one on
  /// success; a failing check of a cheaper one also runs the dummy, so its
  /// time does not tell an old account from the others.
  net::awaitable<std::optional<reply>> check_password(const std::string& email, std::string_view password,
                                                      const mfakit_examples::login_row& row, const peer& p,
                                                      unsigned wrong_status) {
    const std::int64_t t = now();
    const std::string address = web::address_key(p.address);
    if (row.locked_until > t) {
      log_auth("password_throttled", email, &p, fmt::format("retry_after={}", row.locked_until - t));
      co_return too_many(row.locked_until - t);
    }
    if (const std::int64_t wait = limiter_.reserve(address, t); wait > 0) {
      log_auth("address_throttled", email, &p, fmt::format("retry_after={}", wait));
      co_return too_many(wait);
    }
    auto ran = co_await kdf_pool_.run(kdf_keys(p, email), [&] {
      password_outcome out;
      const std::string& stored = row.password_hash ? *row.password_hash : dummy_hash_;
      const bool match = mfakit_examples::check_password(stored, password) && row.password_hash.has_value();
      const bool other_cost = row.password_hash && !mfakit_examples::hash_uses(stored, settings_.password_cost);
      if (match && other_cost) {
        if (auto h = mfakit_examples::hash_password(password, settings_.password_cost)) out.new_hash = std::move(*h);
      } else if (!match && other_cost && mfakit_examples::hash_cheaper(stored, settings_.password_cost)) {
        (void)mfakit_examples::check_password(dummy_hash_, password);  // pad to the current cost
      }
      out.ok = match;
      return out;
    });
    if (!ran.value) {  // refused by the pool: still an attempt of the address (a flood ignoring Retry-After ends in 429)
      co_return busy(ran.retry_after);
    }
    const std::string network = web::network_key(p.address);
    if (ran.value->ok) {
      limiter_.refund(address);
      kdf_pool_.credit(kdf_keys(p, email));
      if (row.failures > 0 || row.locked_until > 0)
        (void)co_await store_pool_.run([&] { return db_.login_succeeded(email, network).has_value(); });
      if (!ran.value->new_hash.empty()) {
        auto rehashed = co_await store_pool_.run(
            [&] { return db_.rehash(email, *row.password_hash, ran.value->new_hash).has_value(); });
        const bool stored = rehashed.value_or(false);
        if (stored) log_auth("password_rehashed", email, &p);
      }
      co_return std::nullopt;
    }
    auto locked = co_await store_pool_.run(
        [&] { return db_.login_failed(email, network, t, settings_.account_max_failures); });
    std::string extra;
    if (locked && *locked && **locked > t) extra = fmt::format("locked_for={}", **locked - t);
    log_auth("password_rejected", email, &p, extra);
    co_return web::error_reply(wrong_status, wrong_status == 401 ? "Invalid email or password" : "Invalid password");
  }

  /// The account's gate (after the checks running for it), or nullopt
  /// when too many wait for it.
  net::awaitable<std::optional<account_gate::pass>> enter_gate(const std::string& email, const peer& p) {
    auto pass = co_await gate_.enter(email);
    if (!pass) log_auth("password_throttled", email, &p, "retry_after=1 reason=queue");
    co_return pass;
  }

  // POST /api/auth {"email", "password"}
  net::awaitable<reply> login(request& req, const peer& p) {
    const json_body b(body_of(req));
    const std::string email = lower(b.field("email"));
    const std::string_view password = b.field("password");
    if (email.empty() || password.empty()) co_return web::error_reply(400, "email and password are required");
    if (email.size() > 254 || password.size() > 1024) co_return web::error_reply(400, "email or password too long");
    if (has_control(email)) {  // NUL, CR, LF, ...: no email has them (and PostgreSQL's text refuses NUL)
      log_auth("email_rejected", email, &p, "reason=control_character");
      co_return web::error_reply(400, "email must not contain control characters");
    }
    if (const std::int64_t wait = limiter_.blocked(web::address_key(p.address), now()); wait > 0) {
      log_auth("address_throttled", email, &p, fmt::format("retry_after={}", wait));
      co_return too_many(wait);
    }
    auto pass = co_await enter_gate(email, p);
    if (!pass) co_return too_many(1);
    const std::string network = web::network_key(p.address);
    auto row = co_await store_pool_.run([&] { return db_.login(email, network); });
    if (!row) co_return busy();
    if (!*row) co_return unavailable();
    if (auto refused = co_await check_password(email, password, **row, p, 401)) co_return std::move(*refused);
    co_return co_await on(store_pool_, [&]() -> reply {
      auto challenge = svc_.begin_login(email);
      if (challenge && !challenge->mfa_required()) {  // no second factor: a session now
        log_auth("session_issued", email, &p, "via=password");
        return issue_tokens(email, {"pwd"});
      }
      if (challenge) {
        reply r = secret_reply(mhttp::challenge_body(*challenge));
        mfakit::cleanse(challenge->token.data(), challenge->token.size());
        return r;
      }
      return error_for(mhttp::endpoint::login, challenge.error());
    });
  }

  // POST /api/auth/mfa/verify {"mfaToken", "code", "type"}
  //
  // No KDF work before the challenge is known to exist: a malformed token is
  // refused at once, an unknown or expired one after one store load (on the
  // store pool), and only a live challenge with type "backup" queues its
  // scrypt on the KDF pool. Unknown, expired or malformed tokens count
  // against the client's address (bad_token_limiter_: 100 in 5 minutes,
  // then 429), so no one without a password fills either pool for free.
  net::awaitable<reply> verify(request& req, const peer& p) {
    const json_body b(body_of(req));
    const std::string_view token = b.field("mfaToken");
    const std::string_view code = b.field("code");
    auto via = mhttp::parse_factor(b.field("type"));
    if (!via) co_return error_for(mhttp::endpoint::verify, via.error());
    constexpr std::string_view blank = " \t\r\n";
    if (token.find_first_not_of(blank) == std::string_view::npos)
      co_return error_for(mhttp::endpoint::verify, mfakit::errc::missing_token);
    if (code.find_first_not_of(blank) == std::string_view::npos)
      co_return error_for(mhttp::endpoint::verify, mfakit::errc::missing_code);
    const std::string address = web::address_key(p.address);
    if (const std::int64_t wait = bad_token_limiter_.blocked(address, now()); wait > 0) {
      log_auth("verify_throttled", "-", &p, fmt::format("retry_after={}", wait));
      co_return too_many(wait);
    }
    if (!mfakit::flow::well_formed_token(token)) {
      bad_token_limiter_.failed(address, now());
      co_return error_for(mhttp::endpoint::verify, mfakit::errc::challenge_invalid);
    }
    auto finish = [&]() -> reply {
      auto done = svc_.complete_login(token, code, *via);
      if (!done) {
        if (done.error() == mfakit::errc::challenge_invalid) bad_token_limiter_.failed(address, now());
        return error_for(mhttp::endpoint::verify, done.error(), done.retry_after());
      }
      const bool totp = *via == mfakit::factor::totp;
      log_auth("session_issued", done->user, &p, totp ? "via=totp" : "via=backup_code");
      return issue_tokens(done->user, {"pwd", totp ? "otp" : "backup"});
    };
    // a TOTP code is an HMAC: all of it on the store pool
    if (*via == mfakit::factor::totp) co_return co_await on(store_pool_, finish);
    // a backup code is checked with scrypt: first the challenge (an unknown
    // or expired one is answered here, by the library, without KDF work)
    bool live = false;
    reply first = co_await on(store_pool_, [&]() -> reply {
      auto key = mfakit::challenge_key(token);
      if (!key) return unavailable();
      auto stored = store_.load(*key);
      if (!stored) return unavailable();
      if (!*stored || mfakit::flow::challenge_expired((*stored)->bytes, now())) return finish();
      live = true;
      return {};
    });
    if (!live) co_return first;
    co_return co_await on_kdf(p, {}, finish);
  }

  // POST /api/auth/refresh {"refresh_token"}: rotates it. Unknown tokens
  // count against the client's address like bad login challenges (100 in
  // 5 minutes, then 429).
  net::awaitable<reply> refresh(request& req, const peer& p) {
    const json_body b(body_of(req));
    const std::string_view token = b.field("refresh_token");
    const std::string address = web::address_key(p.address);
    if (const std::int64_t wait = bad_token_limiter_.blocked(address, now()); wait > 0) {
      log_auth("refresh_throttled", "-", &p, fmt::format("retry_after={}", wait));
      co_return too_many(wait);
    }
    if (token.empty()) co_return web::error_reply(400, "refresh_token is required");
    if (!hex64(token)) {
      bad_token_limiter_.failed(address, now());
      co_return web::error_reply(401, "Invalid refresh token");
    }
    co_return co_await on(store_pool_, [&]() -> reply {
      const std::int64_t t = now();
      std::string next = random_hex<32>();
      auto rotated = db_.rotate_refresh(sha256_hex(token), sha256_hex(next), t);
      if (!rotated) {
        mfakit::cleanse(next.data(), next.size());
        return unavailable();
      }
      if (rotated->outcome != mfakit_examples::refresh_outcome::rotated) {
        mfakit::cleanse(next.data(), next.size());
        if (rotated->outcome == mfakit_examples::refresh_outcome::reused)
          log_auth("refresh_reused", "-", &p, "family=revoked");
        if (rotated->outcome == mfakit_examples::refresh_outcome::unknown) bad_token_limiter_.failed(address, t);
        return web::error_reply(401, "Invalid refresh token");
      }
      mfakit_examples::jwt::claims c{rotated->user, random_hex<16>(), t,
                                     t,             t + settings_.access_ttl, rotated->family,
                                     split_amr(rotated->amr)};
      std::string access = jwt_.sign(c, settings_.issuer);
      reply r = token_reply(access, next);
      mfakit::cleanse(access.data(), access.size());
      mfakit::cleanse(next.data(), next.size());
      log_auth("session_refreshed", rotated->user, &p);
      return r;
    });
  }

  // POST /api/auth/logout [{"refresh_token"}]: the access token (its jti) is
  // revoked until it expires, the refresh token's family too.
  net::awaitable<reply> logout(request& req, const peer& p) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    const json_body b(body_of(req));
    const std::string_view refresh_token = b.field("refresh_token");
    co_return co_await on(store_pool_, [&]() -> reply {
      if (auto refused = session_refused(*auth)) return std::move(*refused);
      // revoke first, then drop the cache entry (revoke() also keeps a check
      // that raced this logout from putting the token back)
      if (!db_.revoke_access(claims->jti, claims->exp)) return unavailable();
      sessions_.revoke(auth->key);
      if (hex64(refresh_token) && !db_.revoke_refresh(sha256_hex(refresh_token))) return unavailable();
      log_auth("logged_out", claims->sub, &p);
      return text_reply(200, R"({"loggedOut":true})");
    });
  }

  // GET /api/v1/me/mfa/status
  net::awaitable<reply> status(request& req) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    co_return co_await on(store_pool_, [&]() -> reply {
      if (auto refused = session_refused(*auth)) return std::move(*refused);
      auto r = svc_.status(claims->sub);
      if (!r) return error_for(mhttp::endpoint::status, r.error());
      auto passkeys = passkeys_.count(claims->sub);
      if (!passkeys) return unavailable();
      return text_reply(200, mhttp::status_body(*r, *passkeys));
    });
  }

  // POST /api/v1/me/mfa/totp/setup
  //
  // Per user: one setup at a time (429 while one runs), and for
  // setup_reuse after a setup the same answer (the same pending secret)
  // instead of a new one; the QR code is drawn on a pool of its own.
  net::awaitable<reply> setup(request& req, const peer& /*p*/) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    bool fresh = false;
    reply first = co_await on(store_pool_, [&]() -> reply {
      if (auto refused = session_refused(*auth)) return std::move(*refused);
      auto st = svc_.status(claims->sub);
      if (!st) return error_for(mhttp::endpoint::setup, st.error());
      if (st->totp_enabled) {
        setups_.forget(claims->sub);
        return error_for(mhttp::endpoint::setup, mfakit::errc::already_enabled);
      }
      if (st->setup_pending) {
        if (auto cached = setups_.find(claims->sub)) {
          reply r;
          r.body = std::move(*cached);
          return r;
        }
      }
      fresh = true;
      return {};
    });
    if (!fresh) co_return first;
    if (!setups_.begin(claims->sub)) co_return too_many(1);
    struct running {
      mfakit_examples::setup_cache& c;
      const std::string& user;
      running(mfakit_examples::setup_cache& cache, const std::string& u) : c(cache), user(u) {}
      running(const running&) = delete;
      running& operator=(const running&) = delete;
      ~running() { c.end(user); }
    } guard{setups_, claims->sub};
    std::optional<mfakit::setup_result> made;
    reply second = co_await on(store_pool_, [&]() -> reply {
      auto r = svc_.setup(claims->sub, claims->sub);
      if (!r) return error_for(mhttp::endpoint::setup, r.error());
      made.emplace(std::move(*r));
      return {};
    });
    if (!made) co_return second;
    co_return co_await on(qr_pool_, [&]() -> reply {
      std::string qr = mfakit_examples::qr_png_data_uri(made->otpauth_uri);
      if (qr.empty()) return web::error_reply(500, "Internal error");
      reply out = secret_reply(mhttp::setup_body(*made, qr));
      mfakit::cleanse(qr.data(), qr.size());
      setups_.put(claims->sub, out.body);
      return out;
    });
  }

  // POST /api/v1/me/mfa/totp/enable {"code"}
  net::awaitable<reply> enable(request& req, const peer& p) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    const json_body b(body_of(req));
    const std::string_view code = b.field("code");
    bool pending = false;
    reply first = co_await on(store_pool_, [&]() -> reply {
      if (auto refused = session_refused(*auth)) return std::move(*refused);
      // flow::enable answers these before any KDF work, in this order; only
      // a pending setup can lead to the scrypt of ten new backup codes
      if (code.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return error_for(mhttp::endpoint::enable, mfakit::errc::missing_code);
      auto s = svc_.status(claims->sub);
      if (!s) return error_for(mhttp::endpoint::enable, s.error());
      if (s->totp_enabled) return error_for(mhttp::endpoint::enable, mfakit::errc::already_enabled);
      if (!s->setup_pending) return error_for(mhttp::endpoint::enable, mfakit::errc::not_pending);
      pending = true;
      return {};
    });
    if (!pending) co_return first;
    bool enabled = false;
    reply done = co_await on_kdf(p, claims->sub, [&]() -> reply {
      auto r = svc_.enable(claims->sub, code);
      if (!r) return error_for(mhttp::endpoint::enable, r.error(), r.retry_after());
      enabled = true;
      return secret_reply(mhttp::enable_body(*r));
    });
    if (!enabled) co_return done;
    kdf_pool_.credit(kdf_keys(p, claims->sub));
    reply moved = co_await on(store_pool_, [&] { return move_epoch(claims->sub, claims->fam, p).value_or(reply{}); });
    if (moved.status != 200) co_return moved;
    co_return done;
  }

  /// Session, password and (while TOTP is on) second-factor gate of disable
  /// and regenerate: a session whose login passed the second factor (amr
  /// otp or backup), or a fresh "code" ("type": totp, the default, or
  /// backup) in the request.
  net::awaitable<std::optional<reply>> reauthenticate(session& auth, const json_body& b, const peer& p) {
    const auto& claims = *auth.claims;
    const std::string_view password = b.field("password");
    auto pass = co_await enter_gate(claims.sub, p);
    if (!pass) co_return too_many(1);
    std::optional<mfakit_examples::login_row> row;
    bool totp_on = false;
    const std::string network = web::network_key(p.address);
    reply refused = co_await on(store_pool_, [&]() -> reply {
      if (auto no = session_refused(auth)) return std::move(*no);
      auto st = svc_.status(claims.sub);
      if (!st) return error_for(mhttp::endpoint::status, st.error());
      totp_on = st->totp_enabled;
      auto r = db_.login(claims.sub, network);
      if (!r) return unavailable();
      row = std::move(*r);
      return {};
    });
    if (!row) co_return refused;
    if (password.empty()) co_return web::error_reply(422, "Invalid password");
    if (auto no = co_await check_password(claims.sub, password, *row, p, 422)) co_return no;
    if (!totp_on || second_factor(claims)) co_return std::nullopt;
    const std::string_view code = b.field("code");
    if (code.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      log_auth("step_up_required", claims.sub, &p);
      co_return web::error_reply(403, "This login did not pass the second factor: send a code");
    }
    auto via = mhttp::parse_factor(b.field("type"));
    if (!via) co_return error_for(mhttp::endpoint::verify, via.error());
    auto check = [&]() -> reply {
      auto r = svc_.verify(claims.sub, code, *via);
      if (!r) return error_for(mhttp::endpoint::verify, r.error(), r.retry_after());
      return {};
    };
    reply checked;  // (no co_await inside ?: : GCC 12 miscompiles it)
    if (*via == mfakit::factor::totp)
      checked = co_await on(store_pool_, check);
    else
      checked = co_await on_kdf(p, claims.sub, check);
    if (checked.status != 200) co_return checked;
    co_return std::nullopt;
  }

  // POST /api/v1/me/mfa/totp/disable {"password"[, "code", "type"]}
  net::awaitable<reply> disable(request& req, const peer& p) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    const json_body b(body_of(req));
    if (auto refused = co_await reauthenticate(*auth, b, p)) co_return std::move(*refused);
    co_return co_await on(store_pool_, [&]() -> reply {
      auto r = svc_.disable(claims->sub);
      if (!r) return error_for(mhttp::endpoint::disable, r.error());
      if (auto failed = move_epoch(claims->sub, claims->fam, p)) return std::move(*failed);
      return text_reply(200, mhttp::disable_body());
    });
  }

  // POST /api/v1/me/mfa/backup-codes/regenerate {"password"[, "code", "type"]}
  net::awaitable<reply> regenerate(request& req, const peer& p) {
    auto auth = bearer(req);
    if (!auth) co_return unauthorized();
    if (!auth->slot) co_return busy_session();
    const auto& claims = auth->claims;
    const json_body b(body_of(req));
    if (auto refused = co_await reauthenticate(*auth, b, p)) co_return std::move(*refused);
    bool made = false;
    reply done = co_await on_kdf(p, claims->sub, [&]() -> reply {
      auto r = svc_.regenerate_backup_codes(claims->sub);
      if (!r) return error_for(mhttp::endpoint::regenerate, r.error());
      made = true;
      return secret_reply(mhttp::regenerate_body(*r));
    });
    if (!made) co_return done;
    reply moved = co_await on(store_pool_, [&] { return move_epoch(claims->sub, claims->fam, p).value_or(reply{}); });
    if (moved.status != 200) co_return moved;
    co_return done;
  }

  /// On a pool thread.
  void sweep_once() {
    const std::int64_t t = now();
    std::size_t challenges = 0;
    std::string after;
    const std::optional<std::string> none;
    for (;;) {
      auto page = db_.challenges(after, 256);
      if (!page) break;
      for (const auto& row : *page) {
        if (!mfakit::flow::challenge_expired(row.bytes, t)) continue;
        auto gone = store_.compare_and_swap(row.key, row.version, none);
        if (gone && *gone) ++challenges;
      }
      if (page->size() < 256) break;
      after = page->back().key;
    }
    auto rows = db_.sweep(t);
    limiter_.sweep(t);
    bad_token_limiter_.sweep(t);
    sessions_.sweep();
    setups_.sweep();
    if (challenges > 0 || (rows && *rows > 0))
      log_line(fmt::format("sweep expired_challenges={} expired_rows={}", challenges, rows ? *rows : 0));
  }

  demo_service& svc_;
  mfakit::any_record_store& store_;
  mfakit_examples::account_db& db_;
  const mfakit_examples::jwt::hs256& jwt_;
  worker_pool& store_pool_;
  fair_pool& kdf_pool_;
  worker_pool& qr_pool_;
  demo_clock clock_;
  std::string dummy_hash_;
  app_settings settings_;
  session_cache sessions_;
  mfakit_examples::inflight_limiter inflight_;
  mfakit_examples::setup_cache setups_;
  address_limiter limiter_{20, 300};
  account_gate gate_{64, std::chrono::seconds(10)};
  address_limiter bad_token_limiter_{100, 300};
  std::optional<net::steady_timer> sweep_timer_;
  std::atomic<bool> stopping_{false};
  template <class>
  friend class mfakit_examples::passkey_routes;
  mfakit_examples::passkey_routes<app> passkeys_{*this, settings_.passkeys, settings_.issuer};
};

/// Room for 1,000s of connections: the soft limit of open files up to the hard one.
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    options opt = parse_args(argc, argv);
    wipe_secret_args(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    // mfakit's known-answer self-test, now rather than in the first request;
    // a broken OpenSSL is a refusal to start, not a server that answers 503
    if (auto st = mfakit::self_test(); !st) {
      fmt::print(stderr, "mfakit_demo_server: crypto self-test failed ({})\n", mfakit::to_string(st.failed));
      return 1;
    }

    // --- the database: mfakit's records and the host's tables ---
    std::string sqlite_path;
    std::string pg_conninfo;
    if (opt.db.rfind("sqlite:", 0) == 0) {
      sqlite_path = opt.db.substr(7);
      if (sqlite_path.rfind("///", 0) == 0) sqlite_path = sqlite_path.substr(2);  // sqlite:///abs/path
      if (sqlite_path.empty()) usage_error("--db sqlite: needs a path");
    } else if (opt.db.rfind("postgresql://", 0) == 0 || opt.db.rfind("postgres://", 0) == 0) {
      pg_conninfo = opt.db;
    } else if (opt.db.rfind("postgres:", 0) == 0) {
      pg_conninfo = opt.db.substr(9);
    } else if (opt.db != "memory") {
      usage_error("--db is memory, sqlite:PATH, postgresql://... or postgres:CONNINFO");
    }
    std::string jwt_secret = load_jwt_secret(opt);
    mfakit::cleanse(opt.jwt_secret.data(), opt.jwt_secret.size());
    auto key = load_sealing_key(opt, sqlite_path);
    auto box = mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)});
    // A pepper for backup code digests, derived from the sealing key, so a
    // stolen database alone cannot even be brute-forced offline.
    auto pepper = mfakit::hmac_sha256(key, mfakit::as_bytes("mfakit-demo/backup-code-pepper/v1"));
    mfakit::cleanse(key.data(), key.size());
    if (!box || !pepper) usage_error("cannot set up the sealing key");

    if (!opt.clock_offset_file.empty())
      fmt::print(stderr, "mfakit_demo_server: WARNING: --clock-offset-file is a test hook; the clock is not real\n");
    if (opt.fast_kdf)
      fmt::print(stderr,
                 "mfakit_demo_server: WARNING: --insecure-fast-kdf weakens password and backup code "
                 "hashing; for tests only\n");
    const unsigned connections = opt.db_threads + opt.kdf_threads;
    mfakit_examples::challenge_registry registry;
    std::unique_ptr<mfakit::any_record_store> store;
    std::unique_ptr<mfakit_examples::account_db> db;
    if (!sqlite_path.empty()) {
      mfakit::sqlite_store::options so;
      so.path = sqlite_path;
      so.max_connections = connections;
      store = std::make_unique<mfakit::any_record_store>(std::make_unique<mfakit::sqlite_store>(so));
      db = std::make_unique<mfakit_examples::sqlite_account_db>(
          mfakit_examples::sqlite_account_db::options{sqlite_path, so.table, connections, so.busy_timeout});
    } else if (!pg_conninfo.empty()) {
      mfakit::postgresql_store::options po;
      po.conninfo = pg_conninfo;
      po.max_connections = connections;
      store = std::make_unique<mfakit::any_record_store>(std::make_unique<mfakit::postgresql_store>(po));
      db = std::make_unique<mfakit_examples::postgres_account_db>(
          mfakit_examples::postgres_account_db::options{pg_conninfo, po.table, connections});
    } else {
      auto mem = std::make_unique<mfakit_examples::registering_memory_store>(registry);
      auto& records = mem->records();
      store = std::make_unique<mfakit::any_record_store>(std::move(mem));
      db = std::make_unique<mfakit_examples::memory_account_db>(records, registry);
    }

    mfakit::flow_config cfg(std::move(*box));
    cfg.issuer = opt.issuer;
    cfg.hasher = mfakit::backup_code_hasher(
        opt.fast_kdf ? mfakit::scrypt_params{1U << 10, 8, 1} : mfakit::backup_code_hasher::default_cost, *pepper);
    mfakit::cleanse(pepper->data(), pepper->size());
    mfakit::service_options<> svc_options;
    svc_options.on_event = log_event;
    cfg.throttle.max_delay = opt.totp_max_delay;  // 0: uncapped (see README, "Limits")
    demo_clock clock{std::make_shared<const std::string>(opt.clock_offset_file)};
    demo_service svc(*store, std::move(cfg), std::move(svc_options), clock);

    const mfakit::scrypt_params password_cost =
        opt.fast_kdf ? mfakit::scrypt_params{1U << 10, 8, 1} : mfakit_examples::password_cost;
    {  // the --user passwords (and the demo users not yet there), hashed kdf_threads at a time
      std::vector<std::pair<std::string, std::string>> users = opt.users;
      for (const auto& u : opt.demo_users) {
        const bool given = std::any_of(users.begin(), users.end(), [&](const auto& x) { return x.first == u.first; });
        if (!given && !db->stored_hash(u.first)) users.push_back(u);  // an existing account keeps its password
      }
      std::vector<std::string> hashes(users.size());
      std::vector<std::optional<std::string>> stored(users.size());
      for (std::size_t i = 0; i < users.size(); ++i) stored[i] = db->stored_hash(users[i].first);
      std::atomic<std::size_t> next{0};
      std::atomic<bool> failed{false};
      std::vector<std::thread> hashers;
      for (unsigned t = 0; t < std::min<std::size_t>(opt.kdf_threads, users.size()); ++t) {
        hashers.emplace_back([&] {
          for (std::size_t i; (i = next.fetch_add(1)) < users.size();) {
            // an account whose password is already this one, at this cost, is left alone (a new
            // hash would move its session epoch and end its sessions)
            if (stored[i] && mfakit_examples::hash_uses(*stored[i], password_cost) &&
                mfakit_examples::check_password(*stored[i], users[i].second))
              continue;
            auto h = mfakit_examples::hash_password(users[i].second, password_cost);
            if (!h)
              failed = true;
            else
              hashes[i] = std::move(*h);
          }
        });
      }
      for (auto& t : hashers) t.join();
      if (failed) throw std::runtime_error("cannot hash a password");
      for (std::size_t i = 0; i < users.size(); ++i)
        if (!hashes[i].empty()) db->put_user(users[i].first, hashes[i], clock.seconds());
      for (auto& u : users) mfakit::cleanse(u.second.data(), u.second.size());
      for (auto& u : opt.users) mfakit::cleanse(u.second.data(), u.second.size());
      for (auto& u : opt.demo_users) mfakit::cleanse(u.second.data(), u.second.size());
      for (auto& h : hashes) mfakit::cleanse(h.data(), h.size());
      for (auto& h : stored)
        if (h) mfakit::cleanse(h->data(), h->size());
    }
    auto dummy = mfakit_examples::hash_password("not a password", password_cost);
    if (!dummy) throw std::runtime_error("cannot hash a password");
    // one check at the current cost, timed: the KDF pool's first estimate of a job
    const auto dummy_t0 = std::chrono::steady_clock::now();
    (void)mfakit_examples::check_password(*dummy, "still not a password");
    const auto dummy_time =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - dummy_t0);
    opt.passkeys.decoy_key = mfakit_examples::passkey_decoy_key(jwt_secret);
    const mfakit_examples::jwt::hs256 signer(mfakit::as_bytes(jwt_secret));
    mfakit::cleanse(jwt_secret.data(), jwt_secret.size());  // the signer keeps its own copy (OpenSSL's MAC context)

    worker_pool store_pool(opt.db_threads, 100'000);
    fair_pool::options ko;
    ko.threads = opt.kdf_threads;
    ko.max_queued = opt.kdf_queue;
    ko.share = opt.kdf_share;
    ko.max_wait = std::chrono::milliseconds(opt.kdf_max_wait_ms > 0 ? opt.kdf_max_wait_ms
                                                                      : opt.limits.request_timeout.count());
    ko.initial_job = dummy_time;
    ko.nice = 10;  // HTTP first, scrypt with what is left
    fair_pool kdf_pool(ko);
    worker_pool qr_pool(opt.qr_threads, 64);
    line_logger logger(opt.log_buffer_kib * 1024);
    g_log = &logger;

    // one io_context per thread (declared before everything that holds an
    // I/O object or a coroutine running on one: destroyed after them)
    std::vector<std::unique_ptr<net::io_context>> contexts;
    std::vector<net::io_context*> raw;
    for (unsigned i = 0; i < opt.threads; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      raw.push_back(contexts.back().get());
    }
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& c : contexts) guards.push_back(net::make_work_guard(*c));

    app_settings settings;
    settings.issuer = opt.issuer;
    settings.sweep_interval = opt.sweep_interval;
    settings.session_cache_ttl = opt.session_cache;
    settings.trusted_proxies = opt.trusted_proxies;
    settings.setup_reuse = opt.setup_reuse;
    settings.session_max_inflight = opt.session_max_inflight;
    settings.account_max_failures = opt.account_max_failures;
    settings.password_cost = password_cost;
    settings.passkeys = opt.passkeys;
    app handlers(svc, *store, *db, signer, store_pool, kdf_pool, qr_pool, clock, std::move(*dummy), settings);

    const net::ip::tcp::endpoint at(net::ip::make_address(opt.host), opt.port);
    std::unique_ptr<web::server> server;
    try {
      server = std::make_unique<web::server>(
          raw, at, opt.limits, [&handlers](request& r, const peer& p) { return handlers.handle(r, p); }, logger);
    } catch (const boost::system::system_error& e) {
      fmt::print(stderr, "mfakit_demo_server: cannot listen on {}:{}: {}\n", opt.host, opt.port, e.code().message());
      return 1;
    }

    // SIGTERM/SIGINT: stop accepting, let requests in flight finish, exit 0.
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    bool forced = false;
    std::thread watchdog;
    net::signal_set signals(*contexts[0], SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log_line(
          fmt::format("mfakit_demo_server: signal {}: stopping (connections open: {})", sig, server->connections()),
          true);
      // a second SIGTERM/SIGINT: the default action (the process ends at once)
      boost::system::error_code ignored;
      signals.clear(ignored);
      server->stop();
      handlers.stop();
      for (auto& g : guards) g.reset();
      watchdog = std::thread([&] {
        std::unique_lock lock(done_mutex);
        if (!done_cv.wait_for(lock, opt.shutdown_grace, [&] { return done; })) {
          log_line("mfakit_demo_server: grace period over; dropping the remaining connections", true);
          forced = true;
          for (auto& c : contexts) c->stop();
        }
      });
    });

    server->start();
    net::co_spawn(*contexts[0], handlers.sweeper(), net::detached);

    const auto ep = server->local_endpoint();
    handlers.passkeys().listening_on(ep.port());  // (no request runs before contexts run)
    const std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
    fmt::print("mfakit_demo_server: db {}, {} io threads, {} db threads, {} kdf threads, users:",
               opt.db.substr(0, opt.db.find(':')), opt.threads, opt.db_threads, opt.kdf_threads);
    for (const auto& email : db->user_emails()) fmt::print(" {}", mfakit_examples::log_escape(email));
    fmt::print("\nlistening on http://{}:{}/\n", host, ep.port());
    std::fflush(stdout);

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < contexts.size(); ++i) threads.emplace_back([c = contexts[i].get()] { c->run(); });
    contexts[0]->run();
    for (auto& t : threads) t.join();
    {
      const std::lock_guard lock(done_mutex);
      done = true;
    }
    done_cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    if (forced) {  // coroutines still suspended there refer to objects above: do not unwind them
      (void)logger.stop();
      std::_Exit(0);
    }
    store_pool.join();
    kdf_pool.join();
    log_line(
        fmt::format("mfakit_demo_server: stopped; store pool {} threads, peak {} queued, {} refused; "
                    "kdf pool {} threads, peak {} queued, {} refused; {} idle connections closed to make room; "
                    "{} log lines dropped",
                    store_pool.threads(), store_pool.peak(), store_pool.rejected(), kdf_pool.threads(), kdf_pool.peak(),
                    kdf_pool.rejected(), server->evicted(), logger.dropped()));
    g_log = nullptr;
    // a stalled stderr (a full pipe nobody reads) must not keep the process
    // alive: after a bounded wait, leave without exit()'s stdio flush
    if (!logger.stop()) std::_Exit(0);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "mfakit_demo_server: {}\n", e.what());
    return 1;
  }
}
