// An async host: C++20 coroutines on a single-threaded event loop drive
// mfakit's pure transitions (transitions.hpp) against an awaitable store.
// mfakit::service is the synchronous driver; a host whose database client is
// asynchronous writes this loop instead, in a few lines:
//
//     load (co_await)  ->  flow::enable / flow::verify (pure)  ->  compare_and_swap (co_await)
//                                        ^-------- lost the race: load again --------'
//
// The store here is mfakit::memory_store behind an awaitable wrapper whose
// operations complete on a later turn of the loop, like a network round trip,
// so coroutines interleave: two requests load the same version, both decide,
// one write wins and the other retries on the new record. The example runs
// three such races (enable, TOTP login, backup code login) and checks that
// exactly one request of each pair succeeds. Exit status 0 when it all holds.
#include <array>
#include <coroutine>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <mfakit/mfakit.hpp>

namespace {

// --- a minimal event loop -------------------------------------------------------

/// Runs posted coroutines in order; `tick` counts turns, as a stand-in for time.
class event_loop {
 public:
  void post(std::coroutine_handle<> h) { ready_.push_back(h); }
  void run() {
    while (!ready_.empty()) {
      auto h = ready_.front();
      ready_.pop_front();
      ++turns_;
      h.resume();
    }
  }
  [[nodiscard]] std::uint64_t turns() const noexcept { return turns_; }

 private:
  std::deque<std::coroutine_handle<>> ready_;
  std::uint64_t turns_ = 0;
};

// --- a minimal task type ----------------------------------------------------------

/// A lazily started coroutine returning T; co_await runs it and resumes the
/// awaiter when it finishes (symmetric transfer, no stack growth).
template <class T>
class task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> continuation = std::noop_coroutine();

    task get_return_object() { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation;
      }
      void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() { error = std::current_exception(); }
  };

  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&&) = delete;
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return std::move(*h_.promise().value);
  }

  /// Starts a top-level task on the loop (its result is read with get()).
  void start(event_loop& loop) { loop.post(h_); }
  [[nodiscard]] bool done() const noexcept { return h_.done(); }
  T get() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return std::move(*h_.promise().value);
  }

 private:
  explicit task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

// --- an awaitable store -------------------------------------------------------------

/// memory_store with asynchronous operations: each one suspends the caller
/// and completes on a later turn of the loop, as a database round trip would.
class async_store {
 public:
  async_store(mfakit::memory_store& store, event_loop& loop) : store_(store), loop_(loop) {}

  struct load_op {
    async_store& s;
    std::string key;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s.loop_.post(h); }
    mfakit::result<std::optional<mfakit::stored_record>> await_resume() {
      ++s.loads;
      return s.store_.load(key);
    }
  };
  struct cas_op {
    async_store& s;
    std::string key;
    std::uint64_t expected;
    std::optional<std::string> next;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s.loop_.post(h); }
    mfakit::result<bool> await_resume() {
      auto r = s.store_.compare_and_swap(key, expected, next);
      if (r && !*r) ++s.lost;
      return r;
    }
  };

  load_op load(std::string key) { return {*this, std::move(key)}; }
  cas_op compare_and_swap(std::string key, std::uint64_t expected, std::optional<std::string> next) {
    return {*this, std::move(key), expected, std::move(next)};
  }

  unsigned loads = 0;
  unsigned lost = 0;  ///< compare-and-swaps that lost a race

 private:
  mfakit::memory_store& store_;
  event_loop& loop_;
};

// --- the host's driver: load -> transition -> compare-and-swap -> retry ------------------

struct host {
  async_store& store;
  const mfakit::flow_config& cfg;
  std::int64_t now;  // the host's clock (fixed here, so the run is reproducible)
};

/// What service::update does, as a coroutine: decide on the loaded record and
/// store the decision; if another request changed the record in between,
/// decide again on the new one. Events are emitted only once the write won.
template <class T, class Decide>
task<mfakit::result<T>> update(host h, std::string user, std::string label, Decide decide) {
  const std::string key = mfakit::account_key(user);
  for (unsigned round = 0; round < h.cfg.max_retries; ++round) {
    auto loaded = co_await h.store.load(key);
    if (!loaded) co_return mfakit::errc::storage_failure;
    std::optional<mfakit::account_record> current;
    std::uint64_t version = 0;
    if (*loaded) {
      auto rec = mfakit::decode_account((*loaded)->bytes);
      if (!rec) co_return rec.error();
      current = std::move(*rec);
      version = (*loaded)->version;
    }
    mfakit::decision<T> d = decide(current, h.now);
    if (d.next) {
      auto stored = co_await h.store.compare_and_swap(key, version, mfakit::encode(*d.next));
      if (!stored) co_return mfakit::errc::storage_failure;
      if (!*stored) {
        fmt::print("  {}: lost the race at version {}, deciding again\n", label, version);
        continue;
      }
    }
    for (const auto& e : d.events) fmt::print("  {}: event {}\n", label, mfakit::to_string(e.kind));
    co_return std::move(d.outcome);
  }
  co_return mfakit::errc::storage_conflict;
}

task<mfakit::result<mfakit::setup_result>> setup(host h, std::string user) {
  mfakit::openssl_random rng;
  return update<mfakit::setup_result>(h, user, "setup", [h, user, rng](const auto& cur, std::int64_t now) mutable {
    return mfakit::flow::setup(cur, user, user + "@example.com", now, h.cfg, rng);
  });
}

task<mfakit::result<mfakit::enable_result>> enable(host h, std::string user, std::string code, std::string label) {
  // `batch`: the backup codes (and their KDF work) are made once per request,
  // and reused if the compare-and-swap loses and the transition runs again.
  return update<mfakit::enable_result>(
      h, user, label,
      [h, user, code, rng = mfakit::openssl_random{}, batch = std::optional<mfakit::backup_batch>{}](
          const auto& cur, std::int64_t now) mutable {
        return mfakit::flow::enable(cur, user, code, now, h.cfg, rng, &batch);
      });
}

task<mfakit::result<mfakit::login_result>> verify(host h, std::string user, std::string code, mfakit::factor via,
                                                  std::string label) {
  return update<mfakit::login_result>(h, user, label, [h, user, code, via](const auto& cur, std::int64_t now) {
    return mfakit::flow::verify(cur, user, code, via, now, h.cfg);
  });
}

std::string outcome_text(std::error_code ec) { return ec ? ec.message() : std::string("success"); }

/// Runs two requests at once on the loop; returns how many succeeded.
template <class T>
int race(event_loop& loop, task<mfakit::result<T>> a, task<mfakit::result<T>> b, std::string_view what) {
  a.start(loop);
  b.start(loop);
  loop.run();
  auto ra = a.get();
  auto rb = b.get();
  fmt::print("{}: first {}, second {}\n", what, outcome_text(ra.error()), outcome_text(rb.error()));
  return (ra ? 1 : 0) + (rb ? 1 : 0);
}

}  // namespace

int main() {
  int failures = 0;
  auto expect = [&](bool ok, std::string_view what) {
    fmt::print("{} {}\n", ok ? "ok  " : "FAIL", what);
    if (!ok) ++failures;
  };

  event_loop loop;
  mfakit::memory_store memory;
  async_store store(memory, loop);
  std::array<unsigned char, 32> key{};
  if (!mfakit::openssl_random{}.fill(key)) return 2;
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)}).value());
  mfakit::cleanse(key.data(), key.size());
  host h{store, cfg, 1'700'000'015};
  const std::string user = "ada";

  // setup: a pending secret (the app would scan the otpauth URI)
  auto s = setup(h, user);
  s.start(loop);
  loop.run();
  auto pending = s.get();
  expect(pending.has_value(), "setup issued a pending secret");
  if (!pending) return 1;
  const mfakit::totp_params params{cfg.alg, cfg.digits, cfg.period, 0};
  auto code_now = [&](std::int64_t at) {  // what the authenticator app shows at `at`
    auto code = mfakit::totp(pending->key.bytes(), at, params);
    return code ? std::string(code->str()) : std::string();
  };

  // two enables with the same code at once: one wins, one sees already_enabled
  const std::string c1 = code_now(h.now);
  const unsigned lost_before_enable = store.lost;
  auto e1 = enable(h, user, c1, "enable #1");
  auto e2 = enable(h, user, c1, "enable #2");
  e1.start(loop);
  e2.start(loop);
  loop.run();
  auto r1 = e1.get();
  auto r2 = e2.get();
  fmt::print("two enables: first {}, second {}\n", outcome_text(r1.error()), outcome_text(r2.error()));
  expect((r1.has_value() ? 1 : 0) + (r2.has_value() ? 1 : 0) == 1, "exactly one enable succeeded");
  expect(store.lost > lost_before_enable, "the loser lost a compare-and-swap and retried");
  const auto& winner = r1 ? *r1 : *r2;
  const auto loser_error = r1 ? r2.error() : r1.error();
  expect(loser_error == mfakit::errc::already_enabled, "the other saw TOTP already enabled");
  expect(winner.backup_codes.size() == 10, "the winner got 10 backup codes");

  // two logins with the same fresh code: one accepted, the other is a replay
  h.now += cfg.period;
  const std::string c2 = code_now(h.now);
  const int totp_wins = race(loop, verify(h, user, c2, mfakit::factor::totp, "login #1"),
                             verify(h, user, c2, mfakit::factor::totp, "login #2"), "two TOTP logins, one code");
  expect(totp_wins == 1, "exactly one TOTP login succeeded");

  // two logins with one backup code: it is spent once
  h.now += 2;  // past the throttle delay the replay earned
  const std::string backup(winner.backup_codes[0].str());
  const int backup_wins =
      race(loop, verify(h, user, backup, mfakit::factor::backup_code, "backup #1"),
           verify(h, user, backup, mfakit::factor::backup_code, "backup #2"), "two backup logins, one code");
  expect(backup_wins == 1, "exactly one backup code login succeeded");

  auto stored = memory.load(mfakit::account_key(user));
  std::optional<mfakit::account_record> rec;
  if (stored && *stored) {
    auto d = mfakit::decode_account((*stored)->bytes);
    if (d) rec = std::move(*d);
  }
  const auto st = mfakit::flow::status(rec);
  fmt::print("status: totp_enabled={} backup_codes_remaining={}\n", st.totp_enabled, st.backup_codes_remaining);
  expect(st.totp_enabled && st.backup_codes_remaining == 9, "9 backup codes remain");
  fmt::print("loop turns: {}, loads: {}, lost compare-and-swaps: {}\n", loop.turns(), store.loads, store.lost);
  fmt::print("async example: {}\n", failures == 0 ? "OK" : "FAILED");
  return failures == 0 ? 0 : 1;
}
