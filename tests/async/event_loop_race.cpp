// An async host: C++20 coroutines on a single-threaded event loop call
// mfakit::async_service (async.hpp), which runs the library's operations
// (operation.hpp) through its coroutine loop against an awaitable store.
// The rules are the ones mfakit::service runs: the same operations, only the
// loop that feeds them the store's answers differs.
//
// The store here is mfakit::memory_store behind an awaitable wrapper whose
// calls complete on a later turn of the loop, like a network round trip, so
// requests interleave: two requests load the same version, both decide, one
// write wins and the other decides again on the new record. The example
// drives every call of the service (setup, enable, status, begin_login,
// complete_login, step-up verify, regenerate, reset_throttle, reseal,
// disable) and races the ones where single use matters (enable, a TOTP code
// on two challenges, a backup code on two challenges), checking that exactly
// one request of each pair succeeds. Exit status 0 when it all holds.
#include <array>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <mfakit/mfakit.hpp>

namespace {

// --- a minimal event loop -------------------------------------------------------

/// Runs posted coroutines in order.
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

  /// co_await loop.next_turn(): continue on a later turn.
  auto next_turn() {
    struct awaiter {
      event_loop& loop;
      [[nodiscard]] bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { loop.post(h); }
      void await_resume() const noexcept {}
    };
    return awaiter{*this};
  }

 private:
  std::deque<std::coroutine_handle<>> ready_;
  std::uint64_t turns_ = 0;
};

// --- an awaitable store -------------------------------------------------------------

/// memory_store with asynchronous calls: each one suspends the caller and
/// completes on a later turn of the loop, as a database round trip would.
/// It models mfakit::awaitable_record_store.
class async_store {
 public:
  async_store(mfakit::memory_store& store, event_loop& loop) : store_(store), loop_(loop) {}

  struct load_call {
    async_store& s;
    std::string key;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s.loop_.post(h); }
    mfakit::load_answer await_resume() {
      ++s.loads;
      return s.store_.load(key);
    }
  };
  struct cas_call {
    async_store& s;
    std::string key;
    std::uint64_t expected;
    std::optional<std::string> next;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { s.loop_.post(h); }
    mfakit::swap_answer await_resume() {
      auto r = s.store_.compare_and_swap(key, expected, next);
      if (r && !*r) {
        ++s.lost;
        fmt::print("  store: a compare-and-swap at version {} lost the race\n", expected);
      }
      return r;
    }
  };

  load_call load(std::string_view key) { return {*this, std::string(key)}; }
  cas_call compare_and_swap(std::string_view key, std::uint64_t expected, const std::optional<std::string>& next) {
    return {*this, std::string(key), expected, next};
  }

  unsigned loads = 0;
  unsigned lost = 0;  ///< compare-and-swaps that lost a race

 private:
  mfakit::memory_store& store_;
  event_loop& loop_;
};
static_assert(mfakit::awaitable_record_store<async_store>);

/// The host's clock (set by hand, so the run is reproducible).
struct host_clock {
  std::int64_t* seconds;
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
    return std::chrono::system_clock::time_point(std::chrono::seconds(*seconds));
  }
};

using async_service = mfakit::async_service<async_store, host_clock>;

// --- starting requests on the loop ----------------------------------------------------

/// A coroutine nobody awaits: starts at once and frees itself at the end.
struct spawned {
  struct promise_type {
    spawned get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

/// Starts a request on the loop's next turn; its answer lands in `out`.
template <class T>
spawned spawn(event_loop& loop, mfakit::task<T> request, std::optional<T>& out) {
  co_await loop.next_turn();
  out.emplace(co_await std::move(request));
}

/// Runs one request to its end.
template <class T>
T run_one(event_loop& loop, mfakit::task<T> request) {
  std::optional<T> out;
  spawn(loop, std::move(request), out);
  loop.run();
  return std::move(*out);
}

std::string outcome_text(std::error_code ec) { return ec ? ec.message() : std::string("success"); }

/// Runs two requests at once on the loop; returns how many succeeded.
template <class T>
int race(event_loop& loop, mfakit::task<mfakit::result<T>> a, mfakit::task<mfakit::result<T>> b,
         std::string_view what) {
  std::optional<mfakit::result<T>> ra, rb;
  spawn(loop, std::move(a), ra);
  spawn(loop, std::move(b), rb);
  loop.run();
  fmt::print("{}: first {}, second {}\n", what, outcome_text(ra->error()), outcome_text(rb->error()));
  return (*ra ? 1 : 0) + (*rb ? 1 : 0);
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
  cfg.issuer = "AsyncExample";
  mfakit::service_options<> opts;
  opts.on_event = [](const mfakit::event& e) { fmt::print("  event {} ({})\n", mfakit::to_string(e.kind), e.user); };
  std::int64_t now = 1'700'000'015;
  async_service svc(store, std::move(cfg), std::move(opts), host_clock{&now});
  const std::string user = "ada";

  // setup: a pending secret (the app would scan the otpauth URI)
  auto pending = run_one(loop, svc.setup(user, "ada@example.com"));
  expect(pending.has_value(), "setup issued a pending secret");
  if (!pending) return 1;
  const auto& c = svc.config();
  const mfakit::totp_params params{c.alg, c.digits, c.period, 0};
  auto code_at = [&](std::int64_t at) {  // what the authenticator app shows at `at`
    auto code = mfakit::totp(pending->key.bytes(), at, params);
    return code ? std::string(code->str()) : std::string();
  };

  // two enables with the same code at once: one wins, one sees already_enabled
  std::optional<mfakit::result<mfakit::enable_result>> r1, r2;
  const unsigned lost_before_enable = store.lost;
  spawn(loop, svc.enable(user, code_at(now)), r1);
  spawn(loop, svc.enable(user, code_at(now)), r2);
  loop.run();
  fmt::print("two enables: first {}, second {}\n", outcome_text(r1->error()), outcome_text(r2->error()));
  expect((*r1 ? 1 : 0) + (*r2 ? 1 : 0) == 1, "exactly one enable succeeded");
  expect(store.lost > lost_before_enable, "the loser lost a compare-and-swap and decided again");
  const auto& winner = *r1 ? **r1 : **r2;
  expect((*r1 ? r2->error() : r1->error()) == mfakit::errc::already_enabled, "the other saw TOTP already enabled");
  expect(winner.backup_codes.size() == 10, "the winner got 10 backup codes");

  // two logins (each with its own challenge) with one fresh TOTP code
  now += c.period;
  auto ch1 = run_one(loop, svc.begin_login(user));
  auto ch2 = run_one(loop, svc.begin_login(user));
  expect(ch1 && ch2 && ch1->token != ch2->token, "two login challenges issued");
  if (!ch1 || !ch2) return 1;
  const int totp_wins = race(loop, svc.complete_login(ch1->token, code_at(now)),
                             svc.complete_login(ch2->token, code_at(now)), "two TOTP logins, one code");
  expect(totp_wins == 1, "exactly one TOTP login succeeded");

  // two logins with one backup code: it is spent once
  now += 2;  // past the throttle delay the replayed code earned
  auto ch3 = run_one(loop, svc.begin_login(user));
  auto ch4 = run_one(loop, svc.begin_login(user));
  if (!ch3 || !ch4) return 1;
  const std::string backup(winner.backup_codes[0].str());
  const int backup_wins =
      race(loop, svc.complete_login(ch3->token, backup, mfakit::factor::backup_code),
           svc.complete_login(ch4->token, backup, mfakit::factor::backup_code), "two backup logins, one code");
  expect(backup_wins == 1, "exactly one backup code login succeeded");

  // a step-up check with the next code, then the status
  now += c.period;
  expect(run_one(loop, svc.verify(user, code_at(now))).has_value(), "a step-up verify succeeded");
  auto st = run_one(loop, svc.status(user));
  expect(st && st->totp_enabled && st->backup_codes_remaining == 9, "status: enabled, 9 backup codes remain");

  // the account calls: a wrong guess, the administrator's unlock, a reseal, new codes, disable
  expect(run_one(loop, svc.verify(user, "000000")).error() == mfakit::errc::code_mismatch || code_at(now) == "000000",
         "a wrong code is refused");
  expect(run_one(loop, svc.reset_throttle(user)).has_value(), "reset_throttle cleared the failure count");
  auto resealed = run_one(loop, svc.reseal(user));
  expect(resealed && !*resealed, "reseal: the secret is already under the current key");
  auto fresh = run_one(loop, svc.regenerate_backup_codes(user));
  expect(fresh && fresh->backup_codes.size() == 10, "regenerate issued 10 new codes");
  expect(run_one(loop, svc.disable(user)).has_value(), "disable removed the second factor");
  auto off = run_one(loop, svc.status(user));
  expect(off && !off->totp_enabled && off->backup_codes_remaining == 0, "status: not enabled");

  fmt::print("loop turns: {}, loads: {}, lost compare-and-swaps: {}\n", loop.turns(), store.loads, store.lost);
  fmt::print("async example: {}\n", failures == 0 ? "OK" : "FAILED");
  return failures == 0 ? 0 : 1;
}
