// The demo server's shared host rules (host.hpp).
#include "host.hpp"

#include <algorithm>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <mfakit/challenge_transitions.hpp>
#include <mfakit/crypto.hpp>

#include "audit_log.hpp"
#include "text_checks.hpp"

namespace mfakit_examples::demo {
namespace {
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
}  // namespace

host_settings settings_of(const options& opt, const mfakit::scrypt_params& password_cost) {
  host_settings s;
  s.issuer = opt.issuer;
  s.sweep_interval = opt.sweep_interval;
  s.session_cache_ttl = opt.session_cache;
  s.trusted_proxies = opt.trusted_proxies;
  s.setup_reuse = opt.setup_reuse;
  s.session_max_inflight = opt.session_max_inflight;
  s.passkey_options_per_network = opt.passkey_options_per_network;
  s.account_max_failures = opt.account_max_failures;
  s.password_cost = password_cost;
  return s;
}

fair_pool::options kdf_pool_options(const options& opt, std::chrono::microseconds first_estimate) {
  fair_pool::options o;
  o.threads = opt.kdf_threads;
  o.max_queued = opt.kdf_queue;
  o.share = opt.kdf_share;
  o.max_wait =
      std::chrono::milliseconds(opt.kdf_max_wait_ms > 0 ? opt.kdf_max_wait_ms : opt.limits.request_timeout.count());
  o.initial_job = first_estimate;
  o.nice = 10;  // HTTP first, scrypt with what is left
  return o;
}

host::host(demo_service& svc, mfakit::any_record_store& store, mfakit_examples::account_db& accounts,
           const mfakit_examples::jwt::hs256& signer, worker_pool& store_threads, fair_pool& kdf_threads,
           worker_pool& qr_threads, demo_clock clock, std::string dummy_hash, host_settings s)
    : service(svc),
      db(accounts),
      store_pool(store_threads),
      kdf_pool(kdf_threads),
      qr_pool(qr_threads),
      jwt(signer),
      settings(std::move(s)),
      sessions(settings.session_cache_ttl),
      setups(settings.setup_reuse),
      ceremony_limiter(settings.passkey_options_per_network, 300),
      store_(store),
      clock_(std::move(clock)),
      dummy_hash_(std::move(dummy_hash)),
      inflight_(settings.session_max_inflight) {}

net::awaitable<std::variant<session, reply>> host::authenticate(const request& req) {
  auto s = bearer(req);
  if (!s) co_return unauthorized();
  if (!s->slot) co_return busy_session();
  if (auto refused = co_await check_session(*s)) co_return std::move(*refused);
  co_return std::move(*s);
}

net::awaitable<reply> host::issue_session(const std::string& user, std::vector<std::string> amr, const peer& p,
                                          std::string_view via) {
  log_auth("session_issued", user, &p, fmt::format("via={}", via));
  co_return co_await on(store_pool, [&] { return issue_tokens(user, std::move(amr)); });
}

net::awaitable<std::optional<reply>> host::end_other_sessions(const std::string& user, const std::string& family,
                                                              const peer& p) {
  auto r = co_await store_pool.run([&] { return move_epoch(user, family, p); });
  if (!r) co_return busy();
  co_return std::move(*r);
}

bool host::trusted(const net::ip::address& a) const {
  return std::find(settings.trusted_proxies.begin(), settings.trusted_proxies.end(), a) !=
         settings.trusted_proxies.end();
}

/// The client's address for the per-address limit and the logs: the
/// socket's peer, unless that is a trusted proxy (--trusted-proxy); then
/// the right-most X-Forwarded-For entry that is not a trusted proxy (the
/// entries left of it are whatever the client claimed).
std::string host::client_address(const request& req, const peer& p) const {
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

/// The session of a valid "Authorization: Bearer <JWT>": from the cache,
/// or checked here on the io thread (an HMAC and two small JSON parses)
/// with the database part (user exists, token not revoked, its family
/// alive at the user's session epoch) left to session_refused, on the
/// store pool. The session's in-flight slot is taken here (none: over
/// its limit, see busy_session()).
std::optional<session> host::bearer(const request& req) {
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
  if (auto hit = sessions.find(s.key)) {
    if (t >= hit->exp || (hit->nbf != 0 && t < hit->nbf)) return std::nullopt;
    s.claims = std::move(hit);
    s.checked = true;
  } else {
    auto r = jwt.verify(v, t, settings.jwt_leeway);
    // a jti is required: it is what logout revokes (this server always sets one)
    if (!r || r.c.jti.empty()) return std::nullopt;
    s.claims = std::make_shared<const mfakit_examples::jwt::claims>(std::move(r.c));
  }
  s.slot = inflight_.acquire(std::string(reinterpret_cast<const char*>(s.key.data()), s.key.size()));  // NOLINT
  return s;
}

/// On a pool thread: nullopt when the session is good, else the reply.
std::optional<reply> host::session_refused(session& s) {
  if (s.checked) return std::nullopt;
  auto ok = db.session_valid(s.claims->sub, s.claims->jti, s.claims->fam);
  if (!ok) return unavailable();
  if (!*ok) return unauthorized();
  s.checked = true;
  sessions.put(s.key, s.claims);
  return std::nullopt;
}

/// The database part of a session's check (session_refused), on the store pool.
net::awaitable<std::optional<reply>> host::check_session(session& s) {
  if (s.checked) co_return std::nullopt;
  auto r = co_await store_pool.run([&] { return session_refused(s); });
  if (!r) co_return busy();
  co_return std::move(*r);
}
/// On a pool thread: a JWT and a refresh token for the user (the refresh
/// token's hash stored, a new family at the user's session epoch), as the
/// reply body.
reply host::issue_tokens(const std::string& user, std::vector<std::string> amr) {
  const std::int64_t t = now();
  const std::string family = random_hex<16>();
  const std::string amr_text = join_amr(amr);
  mfakit_examples::jwt::claims c{user, random_hex<16>(), t, t, t + settings.access_ttl, family, std::move(amr)};
  std::string access = jwt.sign(c, settings.issuer);
  std::string refresh = random_hex<32>();
  if (!db.add_refresh(sha256_hex(refresh), user, family, t + settings.refresh_ttl, amr_text)) {
    mfakit::cleanse(access.data(), access.size());
    mfakit::cleanse(refresh.data(), refresh.size());
    return unavailable();
  }
  reply r = token_reply(access, refresh);
  mfakit::cleanse(access.data(), access.size());
  mfakit::cleanse(refresh.data(), refresh.size());
  return r;
}

reply host::token_reply(std::string_view access, std::string_view refresh) const {
  reply r;
  r.body.reserve(96 + access.size() + refresh.size());
  r.body += R"({"token":")";
  r.body.append(access.data(), access.size());
  r.body += R"(","refresh_token":")";
  r.body.append(refresh.data(), refresh.size());
  r.body += R"(","token_type":"Bearer","expires_in":)";
  r.body += std::to_string(settings.access_ttl);
  r.body += '}';
  return r;
}

/// On a pool thread, after enable, disable or regenerate: the user's
/// session epoch moves (every other session ends; this one, `family`,
/// goes on) and the user's cached sessions go. nullopt when done.
std::optional<reply> host::move_epoch(const std::string& user, const std::string& family, const peer& p) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (db.bump_epoch(user, family)) {
      sessions.user_changed(user);
      setups.forget(user);
      log_auth("sessions_ended", user, &p, "reason=factors_changed");
      return std::nullopt;
    }
  }
  log_auth("sessions_not_ended", user, &p, "reason=storage_failure");
  return unavailable();
}

/// The password check of login, disable and regenerate, with both limits:
/// nullopt when the password is right, else the reply. `row` holds the
/// stored hash (none: unknown user, checked against a dummy at the same
/// cost). The caller holds the account's gate (account_gate) from before
/// it read `row`; the address's attempt is counted before the scrypt.
/// A stored hash of another cost is rehashed at the current one on
/// success; a failing check of a cheaper one also runs the dummy, so its
/// time does not tell an old account from the others.
net::awaitable<std::optional<reply>> host::check_password(const std::string& email, std::string_view password,
                                                          const mfakit_examples::login_row& row, const peer& p,
                                                          unsigned wrong_status) {
  const std::int64_t t = now();
  const std::string address = web::address_key(p.address);
  if (row.locked_until > t) {
    log_auth("password_throttled", email, &p, fmt::format("retry_after={}", row.locked_until - t));
    co_return too_many(row.locked_until - t);
  }
  if (const std::int64_t wait = password_limiter.reserve(address, t); wait > 0) {
    log_auth("address_throttled", email, &p, fmt::format("retry_after={}", wait));
    co_return too_many(wait);
  }
  auto ran = co_await kdf_pool.run(kdf_keys(p, email), [&] {
    password_outcome out;
    const std::string& stored = row.password_hash ? *row.password_hash : dummy_hash_;
    const bool match = mfakit_examples::check_password(stored, password) && row.password_hash.has_value();
    const bool other_cost = row.password_hash && !mfakit_examples::hash_uses(stored, settings.password_cost);
    if (match && other_cost) {
      if (auto h = mfakit_examples::hash_password(password, settings.password_cost)) out.new_hash = std::move(*h);
    } else if (!match && other_cost && mfakit_examples::hash_cheaper(stored, settings.password_cost)) {
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
    password_limiter.refund(address);
    kdf_pool.credit(kdf_keys(p, email));
    if (row.failures > 0 || row.locked_until > 0)
      (void)co_await store_pool.run([&] { return db.login_succeeded(email, network).has_value(); });
    if (!ran.value->new_hash.empty()) {
      auto rehashed = co_await store_pool.run(
          [&] { return db.rehash(email, *row.password_hash, ran.value->new_hash).has_value(); });
      const bool stored = rehashed.value_or(false);
      if (stored) log_auth("password_rehashed", email, &p);
    }
    co_return std::nullopt;
  }
  auto locked =
      co_await store_pool.run([&] { return db.login_failed(email, network, t, settings.account_max_failures); });
  std::string extra;
  if (locked && *locked && **locked > t) extra = fmt::format("locked_for={}", **locked - t);
  log_auth("password_rejected", email, &p, extra);
  co_return web::error_reply(wrong_status, wrong_status == 401 ? "Invalid email or password" : "Invalid password");
}

/// The account's gate (after the checks running for it), or nullopt
/// when too many wait for it.
net::awaitable<std::optional<account_gate::pass>> host::enter_gate(const std::string& email, const peer& p) {
  auto pass = co_await gate_.enter(email);
  if (!pass) log_auth("password_throttled", email, &p, "retry_after=1 reason=queue");
  co_return pass;
}

/// Every sweep_interval: expired login challenges (flow::challenge_expired)
/// and passkey ceremonies (mfakit::ceremony_expired) are deleted with the store's own compare-and-swap (a challenge
/// used meanwhile is left alone), and expired refresh tokens, revocations and stale throttle rows go. Several servers
/// may sweep at once.
net::awaitable<void> host::sweeper() {
  sweep_timer_.emplace(co_await net::this_coro::executor);
  for (;;) {
    sweep_timer_->expires_after(settings.sweep_interval);
    auto [ec] = co_await sweep_timer_->async_wait(net::as_tuple(net::use_awaitable));
    if (ec || stopping_) co_return;
    (void)co_await store_pool.run([this] {
      sweep_once();
      return true;
    });
  }
}

void host::stop() {
  stopping_ = true;
  if (sweep_timer_) sweep_timer_->cancel();
}

static_assert(ceremony_keys.prefix == mfakit::ceremony_key_prefix, "the sweeper looks where the ceremonies are");

/// On a pool thread.
void host::sweep_once() {
  const std::int64_t t = now();
  const std::optional<std::string> none;
  // Deletes the records of `range` that `expired` says are past their time,
  // each with the store's compare-and-swap (one used meanwhile stays).
  auto sweep_range = [&](key_range range, auto expired) {
    std::size_t n = 0;
    std::string after;
    for (;;) {
      auto page = db.expiring(range, after, 256);
      if (!page) break;
      for (const auto& row : *page) {
        if (!expired(row.bytes, t)) continue;
        auto gone = store_.compare_and_swap(row.key, row.version, none);
        if (gone && *gone) ++n;
      }
      if (page->size() < 256) break;
      after = page->back().key;
    }
    return n;
  };
  const std::size_t challenges = sweep_range(
      challenge_keys, [](std::string_view b, std::int64_t now) { return mfakit::flow::challenge_expired(b, now); });
  const std::size_t ceremonies =
      sweep_range(ceremony_keys, [](std::string_view b, std::int64_t now) { return mfakit::ceremony_expired(b, now); });
  auto rows = db.sweep(t);
  password_limiter.sweep(t);
  bad_token_limiter.sweep(t);
  ceremony_limiter.sweep(t);
  sessions.sweep();
  setups.sweep();
  if (challenges > 0 || ceremonies > 0 || (rows && *rows > 0))
    log_line(fmt::format("sweep expired_challenges={} expired_ceremonies={} expired_rows={}", challenges, ceremonies,
                         rows ? *rows : 0));
}

}  // namespace mfakit_examples::demo
