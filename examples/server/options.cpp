// The demo server's command line (options.hpp).
#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "client_network.hpp"
#include "text_checks.hpp"

namespace mfakit_examples::demo {
namespace {
namespace net = boost::asio;
namespace web = mfakit_examples::web;

constexpr std::string_view usage_text =
    "usage: mfakit_demo_server --listen HOST:PORT --db memory|sqlite:PATH|postgresql://...|postgres:CONNINFO\n"
    "         [--jwt-secret S | --jwt-secret-file P] [--issuer NAME] [--user EMAIL:PASSWORD]... [--demo-users]\n"
    "         [--key-file P] [--threads N] [--db-threads N] [--kdf-threads N] [--kdf-queue N]\n"
    "         [--kdf-max-wait-ms N] [--kdf-share N] [--qr-threads N] [--setup-reuse-ms N]\n"
    "         [--session-max-inflight N] [--passkey-options-per-network N] [--account-max-failures N]\n"
    "         [--totp-max-delay-s N]\n"
    "         [--max-connections N] [--max-connections-per-address N] [--idle-timeout-ms N]\n"
    "         [--request-timeout-ms N] [--header-timeout-ms N] [--min-bytes-per-s N] [--max-body-bytes N]\n"
    "         [--shutdown-grace-ms N]\n"
    "         [--sweep-interval-ms N] [--session-cache-ms N] [--trusted-proxy IP]... [--no-access-log]\n"
    "         [--log-buffer-kib N] [--rp-id ID] [--rp-name NAME] [--origin ORIGIN]...\n"
    "         test hooks: [--insecure-fast-kdf] [--clock-offset-file P]\n"
    "  aliases: --port N (= --listen 127.0.0.1:N), --store SPEC (= --db SPEC)\n"
    "  environment: MFAKIT_DEMO_SEALING_KEY (64 hex digits), MFAKIT_DEMO_JWT_SECRET, MFAKIT_DEMO_PORT\n";

template <class T>
[[nodiscard]] T parse_number(std::string_view flag, std::string_view s, T min, T max) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty() || v < min || v > max)
    usage_error(fmt::format("{} wants a number from {} to {}", flag, min, max));
  return v;
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

}  // namespace

/// Bad command line: one line on stderr, exit status 2.
void usage_error(std::string_view what) {
  std::string line(what.substr(0, 200));
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // one line, whatever was typed
  fmt::print(stderr, "mfakit_demo_server: {} (see --help)\n", line);
  std::exit(2);
}

options parse_args(int argc, char** argv) {
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
    } else if (a == "--passkey-options-per-network") {
      o.passkey_options_per_network = parse_number<std::int64_t>(a, value(), 1, 1'000'000'000);
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
    } else if (parse_passkey_flag(o.passkeys, a, value, usage_error)) {
    } else if (a == "--help" || a == "-h") {
      std::fputs(usage_text.data(), stdout);
      std::exit(0);
    } else {
      usage_error(fmt::format("unknown option {}", a));
    }
  }
  check_passkey_flags(o.passkeys, usage_error);
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

}  // namespace mfakit_examples::demo
