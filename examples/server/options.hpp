// The demo server's command line: its flags (--help lists them; README.md,
// "Flags", says what each does), their defaults by core count and store, and
// the one-line refusal of a bad one (exit status 2).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "http_server.hpp"
#include "passkey_routes.hpp"

namespace mfakit_examples::demo {

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
  std::int64_t passkey_options_per_network = 300;
  std::int64_t account_max_failures = 100;
  std::int64_t totp_max_delay = 900;
  web::limits limits;
  std::chrono::milliseconds shutdown_grace{10'000};
  std::chrono::milliseconds sweep_interval{60'000};
  std::chrono::milliseconds session_cache{1'000};
  std::vector<boost::asio::ip::address> trusted_proxies;
  bool fast_kdf = false;
  std::string clock_offset_file;
  std::size_t log_buffer_kib = 4096;
  passkey_flags passkeys;  ///< --rp-id, --rp-name, --origin (passkey_routes.hpp)
};

/// Bad command line: one line on stderr, exit status 2.
[[noreturn]] void usage_error(std::string_view what);

/// The flags (and MFAKIT_DEMO_PORT, MFAKIT_DEMO_CLOCK_OFFSET_FILE); --help prints the usage and exits 0.
[[nodiscard]] options parse_args(int argc, char** argv);

}  // namespace mfakit_examples::demo
