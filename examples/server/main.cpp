// mfakit_demo_server: every endpoint of shared/spec/flows.md over
// mfakit::async_service, on Boost.Beast + Asio with C++20 coroutines, with
// JWT access tokens and everything (records, users, password hashes, refresh
// tokens) in the database, so several processes behind a load balancer on
// one SQLite file or one PostgreSQL database serve each other's users.
//
//   mfakit_demo_server --listen HOST:PORT --db memory|sqlite:PATH|postgresql://...
//                      --jwt-secret S | --jwt-secret-file P  --issuer NAME
//                      --user EMAIL:PASSWORD ... [--key-file P] [--threads N]   (--help for the rest)
//
// This file is the wiring (options, secrets, database, pools, service, routes, server, shutdown).
// Threads: N io_context threads (HTTP, JWT checks, the handlers' coroutines), a bounded pool for
// the blocking store calls (mfakit's and the host's), a small fair pool for scrypt (128 MiB per
// password check: concurrent logins queue there) and one for QR codes. Prints "listening on
// http://HOST:PORT/" once it accepts connections; SIGTERM/SIGINT: answers what is in flight, exits 0.
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <mfakit/mfakit.hpp>

#include "audit_log.hpp"
#include "host.hpp"
#include "options.hpp"
#include "router.hpp"
#include "secrets.hpp"
#include "stores.hpp"

namespace demo = mfakit_examples::demo;
namespace net = boost::asio;

int main(int argc, char** argv) try {
  demo::options opt = demo::parse_args(argc, argv);
  demo::wipe_secret_args(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  if (rlimit r{}; getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {  // room for 1,000s of sockets
    r.rlim_cur = r.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &r);
  }
  // mfakit's known-answer self-test now, not in the first request: a broken OpenSSL refuses to start
  if (auto st = mfakit::self_test(); !st) {
    fmt::print(stderr, "mfakit_demo_server: crypto self-test failed ({})\n", mfakit::to_string(st.failed));
    return 1;
  }

  // --- secrets: the sealing key (and the backup codes' pepper derived from it), the JWT secret ---
  const demo::db_spec spec = demo::parse_db(opt);
  std::string jwt_secret = demo::load_jwt_secret(opt);
  mfakit::cleanse(opt.jwt_secret.data(), opt.jwt_secret.size());
  auto key = demo::load_sealing_key(opt, spec.sqlite_path);
  auto box = mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)});
  // so a stolen database alone cannot even be brute-forced offline
  auto pepper = mfakit::hmac_sha256(key, mfakit::as_bytes("mfakit-demo/backup-code-pepper/v1"));
  mfakit::cleanse(key.data(), key.size());
  if (!box || !pepper) demo::usage_error("cannot set up the sealing key");
  if (!opt.clock_offset_file.empty())
    fmt::print(stderr, "mfakit_demo_server: WARNING: --clock-offset-file is a test hook; the clock is not real\n");
  if (opt.fast_kdf)
    fmt::print(stderr,
               "mfakit_demo_server: WARNING: --insecure-fast-kdf weakens password and backup code "
               "hashing; for tests only\n");

  // --- the database: mfakit's records and the host's tables, and the accounts of the command line ---
  demo::stores db;
  demo::open_stores(db, spec, opt.db_threads + opt.kdf_threads);
  mfakit::flow_config cfg(std::move(*box));
  cfg.issuer = opt.issuer;
  const mfakit::scrypt_params fast{1U << 10, 8, 1};
  cfg.hasher = mfakit::backup_code_hasher(opt.fast_kdf ? fast : mfakit::backup_code_hasher::default_cost, *pepper);
  mfakit::cleanse(pepper->data(), pepper->size());
  cfg.throttle.max_delay = opt.totp_max_delay;  // 0: uncapped (see README, "Limits")
  const demo::demo_clock clock{std::make_shared<const std::string>(opt.clock_offset_file)};
  const mfakit::scrypt_params password_cost = opt.fast_kdf ? fast : mfakit_examples::password_cost;
  demo::put_users(*db.accounts, opt, password_cost, clock.seconds());
  demo::dummy_password dummy = demo::make_dummy_password(password_cost);
  opt.passkeys.decoy_key = demo::passkey_decoy_key(jwt_secret);
  const mfakit_examples::jwt::hs256 signer(mfakit::as_bytes(jwt_secret));
  mfakit::cleanse(jwt_secret.data(), jwt_secret.size());  // the signer keeps its own copy (OpenSSL's MAC context)

  // --- the pools and the service: store calls on the store pool, scrypt on the fair KDF pool ---
  mfakit_examples::worker_pool store_pool(opt.db_threads, 100'000);
  mfakit_examples::fair_pool kdf_pool(demo::kdf_pool_options(opt, dummy.check_time));
  mfakit_examples::worker_pool qr_pool(opt.qr_threads, 64);
  demo::store_on_pool pooled{db.records.get(), &store_pool};
  mfakit::service_options<demo::kdf_offload> svc_options;
  svc_options.on_event = demo::log_event;
  svc_options.offload = demo::kdf_offload{&kdf_pool, {}};  // calls with a costly step name their keys: host::mfa
  demo::demo_service svc(pooled, std::move(cfg), std::move(svc_options), clock);
  mfakit_examples::line_logger logger(opt.log_buffer_kib * 1024);
  demo::set_log_writer(&logger);

  // one io_context per thread (declared before everything that holds an I/O object or a coroutine
  // running on one: destroyed after them)
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::io_context*> raw;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (unsigned i = 0; i < opt.threads; ++i) {
    raw.push_back(contexts.emplace_back(std::make_unique<net::io_context>(1)).get());
    guards.push_back(net::make_work_guard(*raw.back()));
  }

  // --- the host's rules and the routes ---
  demo::host h(svc, *db.records, *db.accounts, signer, store_pool, kdf_pool, qr_pool, clock, std::move(dummy.hash),
               demo::settings_of(opt, password_cost));
  demo::router routes(h);
  demo::add_page_routes(routes);
  demo::add_auth_routes(routes, h);
  demo::add_mfa_routes(routes, h);
  const auto passkeys = demo::add_passkey_routes(routes, h, opt.passkeys, opt.issuer);

  const net::ip::tcp::endpoint at(net::ip::make_address(opt.host), opt.port);
  std::unique_ptr<mfakit_examples::web::server> server;
  try {
    server = std::make_unique<mfakit_examples::web::server>(
        raw, at, opt.limits, [&routes](demo::request& r, const demo::peer& p) { return routes.dispatch(r, p); },
        logger);
  } catch (const boost::system::system_error& e) {
    fmt::print(stderr, "mfakit_demo_server: cannot listen on {}:{}: {}\n", opt.host, opt.port, e.code().message());
    return 1;
  }

  // SIGTERM/SIGINT: stop accepting, let requests in flight finish (within the grace period), exit 0.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  bool forced = false;
  std::thread watchdog;
  net::signal_set signals(*contexts[0], SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    demo::log_line(
        fmt::format("mfakit_demo_server: signal {}: stopping (connections open: {})", sig, server->connections()),
        true);
    boost::system::error_code ignored;
    signals.clear(ignored);  // a second SIGTERM/SIGINT: the default action (the process ends at once)
    server->stop();
    h.stop();
    for (auto& g : guards) g.reset();
    watchdog = std::thread([&] {
      std::unique_lock lock(done_mutex);
      if (!done_cv.wait_for(lock, opt.shutdown_grace, [&] { return done; })) {
        demo::log_line("mfakit_demo_server: grace period over; dropping the remaining connections", true);
        forced = true;
        for (auto& c : contexts) c->stop();
      }
    });
  });

  server->start();
  net::co_spawn(*contexts[0], h.sweeper(), net::detached);
  const auto ep = server->local_endpoint();
  passkeys->listening_on(ep.port());  // the default origin (before any request: no context runs yet)
  const std::string host = ep.address().is_v6() ? "[" + ep.address().to_string() + "]" : ep.address().to_string();
  fmt::print("mfakit_demo_server: db {}, {} io threads, {} db threads, {} kdf threads, users:",
             opt.db.substr(0, opt.db.find(':')), opt.threads, opt.db_threads, opt.kdf_threads);
  for (const auto& email : db.accounts->user_emails()) fmt::print(" {}", mfakit_examples::log_escape(email));
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
  demo::log_line(
      fmt::format("mfakit_demo_server: stopped; store pool {} threads, peak {} queued, {} refused; "
                  "kdf pool {} threads, peak {} queued, {} refused, {} run; {} idle connections closed to make room; "
                  "{} log lines dropped",
                  store_pool.threads(), store_pool.peak(), store_pool.rejected(), kdf_pool.threads(), kdf_pool.peak(),
                  kdf_pool.rejected(), kdf_pool.ran(), server->evicted(), logger.dropped()));
  demo::set_log_writer(nullptr);
  // a stalled stderr (a full pipe nobody reads) must not keep the process alive: after a bounded
  // wait, leave without exit()'s stdio flush
  if (!logger.stop()) std::_Exit(0);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "mfakit_demo_server: {}\n", e.what());
  return 1;
}
