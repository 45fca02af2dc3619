// What every route group of the demo server shares: the MFA service, the
// host's tables and pools, and the host's own rules around them (sessions
// from JWTs, the password check with its limits, issuing tokens with their
// `amr`, ending other sessions when the factors change, the sweeper).
// Route groups (auth_routes.cpp, mfa_routes.cpp) register handlers on a
// router (router.hpp) and call these; README.md, "Files", lists them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mfakit/any_store.hpp>

#include "account_db.hpp"
#include "client_network.hpp"
#include "demo_clock.hpp"
#include "fair_pool.hpp"
#include "http_server.hpp"
#include "jwt.hpp"
#include "limiters.hpp"
#include "mfa_service.hpp"
#include "options.hpp"
#include "passwords.hpp"
#include "replies.hpp"
#include "session_limits.hpp"
#include "sessions.hpp"
#include "worker_pool.hpp"

namespace mfakit_examples::demo {

namespace net = boost::asio;
using web::peer;
using web::reply;
using web::request;

struct host_settings {
  std::string issuer;
  std::int64_t access_ttl = 3600;
  std::int64_t refresh_ttl = 30 * 24 * 3600;
  std::int64_t jwt_leeway = 0;
  std::chrono::milliseconds sweep_interval{60'000};
  std::chrono::milliseconds session_cache_ttl{1'000};
  std::vector<net::ip::address> trusted_proxies;  ///< whose X-Forwarded-For is believed
  std::chrono::milliseconds setup_reuse{30'000};
  std::size_t session_max_inflight = 64;
  std::int64_t passkey_options_per_network = 300;  ///< passkey login options per client network in 5 minutes
  std::int64_t account_max_failures = 100;
  mfakit::scrypt_params password_cost = mfakit_examples::password_cost;  ///< what a login rehashes to
};

/// The settings the command line gives (and the cost a login rehashes a password to).
[[nodiscard]] host_settings settings_of(const options& opt, const mfakit::scrypt_params& password_cost);

/// The KDF pool's options from the command line; `first_estimate`: one password check's time.
[[nodiscard]] fair_pool::options kdf_pool_options(const options& opt, std::chrono::microseconds first_estimate);

/// An authenticated request: the token's claims (claims->sub is the user,
/// claims->amr how the login was made, claims->fam its refresh family), its
/// cache key, whether the database confirmed it, and its in-flight slot.
struct session {
  std::shared_ptr<const mfakit_examples::jwt::claims> claims;
  session_cache::key_type key{};
  bool checked = false;
  std::optional<mfakit_examples::inflight_limiter::guard> slot;  ///< none: the session is over its limit
};

class host {
 public:
  host(demo_service& svc, mfakit::any_record_store& store, mfakit_examples::account_db& accounts,
       const mfakit_examples::jwt::hs256& signer, worker_pool& store_threads, fair_pool& kdf_threads,
       worker_pool& qr_threads, demo_clock clock, std::string dummy_hash, host_settings s);

  // --- what the handlers use ---
  demo_service& service;                   ///< every MFA call: co_await h.service.status(user)
  mfakit_examples::account_db& db;         ///< the host's tables; blocking: call it on store_pool
  worker_pool& store_pool;                 ///< the host's SQL (on(h.store_pool, f)); the service's store hops here too
  fair_pool& kdf_pool;                     ///< scrypt; the service's jobs reach it through mfa()
  worker_pool& qr_pool;                    ///< drawing setup's QR code
  const mfakit_examples::jwt::hs256& jwt;  ///< signs and checks access tokens
  const host_settings settings;
  session_cache sessions;
  mfakit_examples::setup_cache setups;
  address_limiter password_limiter{20, 300};    ///< failed password checks per client address
  address_limiter bad_token_limiter{100, 300};  ///< unknown challenge and refresh tokens per client address
  address_limiter ceremony_limiter;  ///< passkey login options (each a stored ceremony) per client network

  [[nodiscard]] std::int64_t now() const { return clock_.seconds(); }

  /// The session of "Authorization: Bearer <JWT>", checked (signature and
  /// expiry on this thread, the database's part on the store pool, at most
  /// --session-max-inflight requests of it at once), or the reply refusing
  /// the request (401, 429, 503).
  net::awaitable<std::variant<session, reply>> authenticate(const request& req);

  /// The service with the costly steps of this call (scrypt) on the KDF
  /// pool, for the client's network and `user` (empty: not known yet); a
  /// job the pool refuses answers storage_failure with a Retry-After,
  /// which error_for turns into 503 "Server busy".
  [[nodiscard]] auto mfa(const peer& p, std::string_view user) {
    return service.with_offload(kdf_offload{&kdf_pool, kdf_keys(p, user)});
  }
  [[nodiscard]] static std::array<std::string, 2> kdf_keys(const peer& p, std::string_view user) {
    return {"net:" + web::network_key(p.address), user.empty() ? std::string() : "user:" + std::string(user)};
  }

  /// A new session for `user`: an access token and a refresh token (a new
  /// family at the user's session epoch) whose `amr` says how the login was
  /// made ({"pwd"}, {"pwd", "otp"}, {"pwd", "backup"}...), logged as
  /// `auth event=session_issued user=... via=<via>`; the reply is the API's
  /// token body. Runs the database part on the store pool.
  net::awaitable<reply> issue_session(const std::string& user, std::vector<std::string> amr, const peer& p,
                                      std::string_view via);
  /// {"token", "refresh_token", "token_type", "expires_in"}.
  [[nodiscard]] reply token_reply(std::string_view access, std::string_view refresh) const;

  /// After enable, disable or regenerate: the user's session epoch moves
  /// (every other session ends; `family`'s goes on). nullopt when done.
  net::awaitable<std::optional<reply>> end_other_sessions(const std::string& user, const std::string& family,
                                                          const peer& p);

  /// The password check of login, disable and regenerate, with both
  /// limits: nullopt when the password is right, else the reply (`row`:
  /// the stored hash; none: unknown user, checked against a dummy at the
  /// same cost). The caller holds the account's gate (enter_gate) from
  /// before it read `row`.
  net::awaitable<std::optional<reply>> check_password(const std::string& email, std::string_view password,
                                                      const mfakit_examples::login_row& row, const peer& p,
                                                      unsigned wrong_status);
  /// The account's gate (one password check of an account at a time), or
  /// nullopt when too many wait for it (then 429).
  net::awaitable<std::optional<account_gate::pass>> enter_gate(const std::string& email, const peer& p);

  /// The client's address for the limits and the logs: the socket's peer,
  /// or behind a --trusted-proxy the right-most X-Forwarded-For entry that
  /// is not one.
  [[nodiscard]] std::string client_address(const request& req, const peer& p) const;

  /// Every sweep_interval: expired challenges, tokens and rows go (several servers may sweep at once).
  net::awaitable<void> sweeper();
  void stop();

 private:
  [[nodiscard]] std::optional<session> bearer(const request& req);
  [[nodiscard]] std::optional<reply> session_refused(session& s);
  net::awaitable<std::optional<reply>> check_session(session& s);
  [[nodiscard]] reply issue_tokens(const std::string& user, std::vector<std::string> amr);
  [[nodiscard]] std::optional<reply> move_epoch(const std::string& user, const std::string& family, const peer& p);
  [[nodiscard]] bool trusted(const net::ip::address& a) const;
  void sweep_once();

  mfakit::any_record_store& store_;
  demo_clock clock_;
  std::string dummy_hash_;
  mfakit_examples::inflight_limiter inflight_;
  account_gate gate_{64, std::chrono::seconds(10)};
  std::optional<net::steady_timer> sweep_timer_;
  std::atomic<bool> stopping_{false};
};

/// A request body as text (json_body parses it).
[[nodiscard]] inline std::string_view body_of(const request& req) { return {req.body().data(), req.body().size()}; }

}  // namespace mfakit_examples::demo
