// async_service on Boost.Asio: a store whose calls return asio::awaitable
// (so the service's calls are asio::awaitable too, deduced), its calls on a
// store pool, and the costly steps (scrypt) offloaded to a KDF pool (the
// hop of asio_store.hpp, which says why not co_spawn on that pool with
// Boost 1.81). The io_context thread never runs a job, and a 1 ms timer on
// it stays on time while ten backup-code logins run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mfakit/async.hpp>
#include <mfakit/otp.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include "asio_store.hpp"
#include "catch.hpp"

namespace {
namespace asio = boost::asio;
using asio_test::asio_store;
using clock_type = std::chrono::steady_clock;

static_assert(mfakit::awaitable_record_store<asio_store>);
static_assert(std::same_as<mfakit::task_t<mfakit::tasks_of<asio_store>, int>, asio::awaitable<int>>);

/// Where the jobs ran.
struct job_log {
  std::mutex mutex;
  std::vector<std::thread::id> threads;
  void note() {
    const std::lock_guard lock(mutex);
    threads.push_back(std::this_thread::get_id());
  }
};

/// The offload: each job on the KDF pool (asio_store.hpp's hop), noted where it ran.
struct kdf_offload {
  asio::thread_pool* pool;
  job_log* log;
  asio::awaitable<bool> operator()(mfakit::compute_job job) const {
    return asio_test::on_pool<bool>(*pool, [job, l = log] {
      l->note();
      job();
      return true;
    });
  }
};

mfakit::flow_config offload_config() {
  mfakit::flow_config cfg = mfakit::testing::detail::conformance_config();
  cfg.hasher = mfakit::backup_code_hasher(mfakit::backup_code_hasher::default_cost);  // the real cost
  return cfg;
}

/// One backup-code check at this cost, timed on this thread (the median of three).
clock_type::duration one_kdf_run(const mfakit::flow_config& cfg) {
  auto codes = mfakit::generate_backup_codes(1).value();
  auto set = cfg.hasher.digest(codes, cfg.box.backup_code_peppers()).value();
  std::vector<clock_type::duration> runs;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = clock_type::now();
    REQUIRE(cfg.hasher.match(set, codes[0].str(), cfg.box.backup_code_peppers()));
    runs.push_back(clock_type::now() - t0);
  }
  std::sort(runs.begin(), runs.end());
  return runs[1];
}
}  // namespace

TEST_CASE(
    "asio offload: the io_context thread never runs scrypt and its 1 ms timer stays on time during ten "
    "backup-code logins",
    "[async][asio][offload]") {
  const mfakit::flow_config cfg = offload_config();
  const clock_type::duration kdf = one_kdf_run(cfg);

  mfakit::memory_store memory;
  asio::io_context io;
  asio::thread_pool store_pool(1);
  asio::thread_pool kdf_pool(2);
  asio_store store(memory, store_pool);
  job_log jobs;
  mfakit::service_options<kdf_offload> opts;
  opts.offload = kdf_offload{&kdf_pool, &jobs};
  mfakit::async_service svc(store, cfg, opts);
  static_assert(std::same_as<decltype(svc.status("u")), asio::awaitable<mfakit::result<mfakit::status_result>>>);

  const std::thread::id io_thread = std::this_thread::get_id();
  std::atomic<bool> logins_done{false};
  clock_type::duration worst{};
  unsigned ticks = 0;
  unsigned logged_in = 0;
  std::size_t codes_left = 99;
  std::string failure;

  auto timer = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io);
    auto next = clock_type::now();
    while (!logins_done) {
      next += std::chrono::milliseconds(1);
      t.expires_at(next);
      co_await t.async_wait(asio::use_awaitable);
      worst = std::max(worst, clock_type::now() - next);
      ++ticks;
    }
  };

  auto one_login = [&](std::string code) -> asio::awaitable<void> {
    auto c = co_await svc.begin_login("ann");
    if (!c || !c->mfa_required()) {
      failure = "begin_login: " + c.error().message();
      co_return;
    }
    auto r = co_await svc.complete_login(c->token, code, mfakit::factor::backup_code);
    if (std::this_thread::get_id() != io_thread) failure = "resumed off the io_context thread";
    if (!r) {
      failure = "complete_login: " + r.error().message();
      co_return;
    }
    ++logged_in;
    codes_left = std::min(codes_left, r->backup_codes_remaining);
  };

  auto scenario = [&]() -> asio::awaitable<void> {
    auto s = co_await svc.setup("ann", "ann@example.com");
    if (!s) {
      failure = "setup";
      co_return;
    }
    const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
    auto e = co_await svc.enable("ann", mfakit::totp(s->key.bytes(), now)->to_string());
    if (!e) {
      failure = "enable: " + e.error().message();
      co_return;
    }
    asio::co_spawn(io, timer(), asio::detached);
    // ten logins at once, each with its own backup code
    std::vector<std::string> codes;
    for (const auto& b : e->backup_codes) codes.emplace_back(b.str());
    auto all = [&, codes]() -> asio::awaitable<void> {
      std::vector<std::shared_ptr<std::atomic<bool>>> done;
      for (const auto& code : codes) {
        auto flag = std::make_shared<std::atomic<bool>>(false);
        done.push_back(flag);
        asio::co_spawn(
            io,
            [&, code, flag]() -> asio::awaitable<void> {
              co_await one_login(code);
              *flag = true;
            },
            asio::detached);
      }
      asio::steady_timer poll(io);
      while (!std::all_of(done.begin(), done.end(), [](const auto& f) { return f->load(); })) {
        poll.expires_after(std::chrono::milliseconds(2));
        co_await poll.async_wait(asio::use_awaitable);
      }
      logins_done = true;
    };
    co_await all();
  };

  asio::co_spawn(io, scenario(), asio::detached);
  io.run();
  store_pool.join();
  kdf_pool.join();

  using ms = std::chrono::duration<double, std::milli>;
  const double kdf_ms = ms(kdf).count();
  const double worst_ms = ms(worst).count();
  INFO("one backup-code check on this machine: " << kdf_ms << " ms");
  INFO("worst timer lateness: " << worst_ms << " ms over " << ticks << " ticks");
  REQUIRE(failure.empty());
  CHECK(logged_in == 10);
  CHECK(codes_left == 0);
  // enable's batch and one KDF run per login (a lost race on the same set reuses it), none on the io thread
  CHECK(jobs.threads.size() == 11);
  for (const auto& id : jobs.threads) CHECK(id != io_thread);
  // Had one scrypt run on the io thread, a tick would have waited for all of it.
  CHECK(ticks >= 10);
  CHECK(worst < kdf * 3 / 4);
}

TEST_CASE("asio: without an offload the jobs run inline, on the io_context thread", "[async][asio][offload]") {
  mfakit::memory_store memory;
  asio::io_context io;
  asio::thread_pool store_pool(1);
  asio_store store(memory, store_pool);
  mfakit::async_service<asio_store> svc(store, mfakit::testing::detail::conformance_config());
  bool ok = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto s = co_await svc.setup("bo", "bo@example.com");
        const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
        auto e = co_await svc.enable("bo", mfakit::totp(s->key.bytes(), now)->to_string());
        auto v = co_await svc.verify("bo", e->backup_codes[3].str(), mfakit::factor::backup_code);
        auto again = co_await svc.verify("bo", e->backup_codes[3].str(), mfakit::factor::backup_code);
        ok = v && v->backup_codes_remaining == 9 && again.error() == mfakit::errc::code_mismatch;
      },
      asio::detached);
  io.run();
  store_pool.join();
  CHECK(ok);
}

TEST_CASE("asio: a store call's answer travels through co_spawn(..., use_awaitable) as it is", "[async][asio]") {
  mfakit::memory_store memory;
  asio::io_context io;
  asio::thread_pool store_pool(1);
  asio_store store(memory, store_pool);
  std::optional<mfakit::swap_answer> wrote;
  std::optional<mfakit::load_answer> loaded;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        wrote = co_await asio::co_spawn(io, store.compare_and_swap("k", 0, std::string("v")), asio::use_awaitable);
        loaded = co_await asio::co_spawn(io, store.load("k"), asio::use_awaitable);
      },
      asio::detached);
  io.run();
  store_pool.join();
  REQUIRE(wrote);
  CHECK(wrote->value());
  REQUIRE(loaded);
  REQUIRE(loaded->value());
  CHECK((*loaded)->value().bytes == "v");
}
