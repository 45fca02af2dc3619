// async_service over stores whose calls return other coroutine types than
// mfakit::task: a minimal cppcoro-style task (lazy, awaited through a member
// operator co_await), whose family the service's calls take, and awaiters
// reached through a free operator co_await (the calls are mfakit::task).
#include <concepts>
#include <coroutine>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mfakit/async.hpp>
#include <mfakit/otp.hpp>
#include <mfakit/testing/async_adapter.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include "catch.hpp"

namespace mini {
/// Lazy, single-consumer, started when awaited, continuation by symmetric
/// transfer; awaited through a member operator co_await, as cppcoro::task is.
template <class T>
class task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> continuation;
    task get_return_object() noexcept { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
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
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task(const task&) = delete;
  task& operator=(task&&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  struct awaiter {
    std::coroutine_handle<promise_type> h;
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> c) noexcept {
      h.promise().continuation = c;
      return h;
    }
    T await_resume() {
      if (h.promise().error) std::rethrow_exception(h.promise().error);
      return std::move(*h.promise().value);
    }
  };
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

 private:
  explicit task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

/// Runs a task on this thread (its store completes inline).
template <class T>
T run(task<T> t) {
  auto wrap = [](task<T> inner) -> mfakit::task<T> { co_return co_await std::move(inner); };
  return mfakit::sync_wait(wrap(std::move(t)));
}

class store {
 public:
  explicit store(mfakit::memory_store& s) : s_(&s) {}
  task<mfakit::load_answer> load(std::string_view key) { co_return s_->load(key); }
  task<mfakit::swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                             const std::optional<std::string>& next) {
    co_return s_->compare_and_swap(key, expected, next);
  }

 private:
  mfakit::memory_store* s_;
};
}  // namespace mini

namespace freestyle {
/// An answer already there, awaited through a free operator co_await.
template <class T>
struct ready {
  T value;
};
template <class T>
auto operator co_await(ready<T> r) noexcept {
  struct awaiter {
    T value;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    T await_resume() { return std::move(value); }
  };
  return awaiter{std::move(r.value)};
}

class store {
 public:
  explicit store(mfakit::memory_store& s) : s_(&s) {}
  ready<mfakit::load_answer> load(std::string_view key) { return {s_->load(key)}; }
  ready<mfakit::swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    return {s_->compare_and_swap(key, expected, next)};
  }

 private:
  mfakit::memory_store* s_;
};
}  // namespace freestyle

static_assert(mfakit::awaitable_record_store<mini::store>);
static_assert(std::same_as<mfakit::task_t<mfakit::tasks_of<mini::store>, int>, mini::task<int>>);
static_assert(mfakit::awaitable_record_store<freestyle::store>);
static_assert(std::same_as<mfakit::task_t<mfakit::tasks_of<freestyle::store>, int>, mfakit::task<int>>);
// a store of one family is not awaitable from the other's coroutines
static_assert(!mfakit::awaitable_record_store_in<mfakit::memory_store, mfakit::task_family<mfakit::task>>);

TEST_CASE("async_service over a cppcoro-style task store: calls of that task type, the whole flow", "[async][task]") {
  mfakit::memory_store memory;
  mini::store store(memory);
  mfakit::async_service<mini::store> svc(store, mfakit::testing::detail::conformance_config());
  static_assert(std::same_as<decltype(svc.status("u")), mini::task<mfakit::result<mfakit::status_result>>>);
  auto s = mini::run(svc.setup("ann", "ann@example.com"));
  REQUIRE(s);
  const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  auto e = mini::run(svc.enable("ann", mfakit::totp(s->key.bytes(), now)->to_string()));
  REQUIRE(e);
  auto c = mini::run(svc.begin_login("ann"));
  REQUIRE(c);
  REQUIRE(c->mfa_required());
  auto r = mini::run(svc.complete_login(c->token, e->backup_codes[0].str(), mfakit::factor::backup_code));
  REQUIRE(r);
  CHECK(r->backup_codes_remaining == 9);
  CHECK(mini::run(svc.status("ann"))->backup_codes_remaining == 9);
}

TEST_CASE("async_service over awaiters with a free operator co_await", "[async][task]") {
  mfakit::memory_store memory;
  freestyle::store store(memory);
  mfakit::async_service<freestyle::store> svc(store, mfakit::testing::detail::conformance_config());
  auto s = mfakit::sync_wait(svc.setup("bo", "bo@example.com"));
  REQUIRE(s);
  const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  auto e = mfakit::sync_wait(svc.enable("bo", mfakit::totp(s->key.bytes(), now)->to_string()));
  REQUIRE(e);
  CHECK(mfakit::sync_wait(svc.verify("bo", e->backup_codes[1].str(), mfakit::factor::backup_code)));
  CHECK(mfakit::sync_wait(svc.verify("bo", e->backup_codes[1].str(), mfakit::factor::backup_code)).error() ==
        mfakit::errc::code_mismatch);
}

namespace {
/// An offload whose pool has stopped: it never runs the job, its awaitable throws.
struct refusing_offload {
  struct awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const { throw std::runtime_error("pool stopped"); }
  };
  awaiter operator()(mfakit::compute_job /*job*/) const { return {}; }
};
/// An offload that runs the job, which throws (as an allocation failure would).
struct throwing_job_offload {
  struct awaiter {
    mfakit::compute_job job;
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const {
      job();
      throw std::bad_alloc();
    }
  };
  awaiter operator()(mfakit::compute_job job) const { return {job}; }
};
}  // namespace

TEST_CASE("an offload that refuses a job: the loop runs it inline, and a job that throws reaches the caller",
          "[async][offload]") {
  mfakit::memory_store memory;
  mfakit::testing::awaitable_adapter<mfakit::memory_store> store(memory);
  mfakit::async_service refusing(store, mfakit::testing::detail::conformance_config(),
                                 mfakit::service_options<refusing_offload>{});
  auto s = mfakit::sync_wait(refusing.setup("cy", "cy@example.com"));
  REQUIRE(s);
  const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  auto e = mfakit::sync_wait(refusing.enable("cy", mfakit::totp(s->key.bytes(), now)->to_string()));
  REQUIRE(e);
  CHECK(e->backup_codes.size() == 10);

  mfakit::async_service throwing(store, mfakit::testing::detail::conformance_config(),
                                 mfakit::service_options<throwing_job_offload>{});
  CHECK_THROWS_AS(mfakit::sync_wait(throwing.regenerate_backup_codes("cy")), std::bad_alloc);
}

namespace {
/// An offload at its bound: it refuses the job without running it.
struct busy_offload {
  struct awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const { throw mfakit::offload_refused(7); }
  };
  awaiter operator()(mfakit::compute_job /*job*/) const { return {}; }
};
/// Runs the job inline and counts it under its name.
struct named_offload {
  std::string name;
  std::vector<std::string>* ran = nullptr;
  struct awaiter {
    mfakit::compute_job job;
    const named_offload* self;
    [[nodiscard]] bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const {
      job();
      if (self->ran != nullptr) self->ran->push_back(self->name);
    }
  };
  awaiter operator()(mfakit::compute_job job) const { return {job, this}; }
};
}  // namespace

TEST_CASE("an offload that answers offload_refused: the call answers storage_failure with its retry_after, "
          "nothing stored",
          "[async][offload]") {
  mfakit::memory_store memory;
  mfakit::testing::awaitable_adapter<mfakit::memory_store> store(memory);
  mfakit::async_service busy(store, mfakit::testing::detail::conformance_config(),
                             mfakit::service_options<busy_offload>{});
  auto s = mfakit::sync_wait(busy.setup("di", "di@example.com"));
  REQUIRE(s);
  const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  const std::string code = mfakit::totp(s->key.bytes(), now)->to_string();
  auto e = mfakit::sync_wait(busy.enable("di", code));
  REQUIRE_FALSE(e);
  CHECK(e.error() == mfakit::errc::storage_failure);
  CHECK(e.retry_after() == 7);
  auto st = mfakit::sync_wait(busy.status("di"));
  REQUIRE(st);
  CHECK_FALSE(st->totp_enabled);
  CHECK(st->setup_pending);
  // a malformed code is refused before the compute step: the offload is never asked
  auto malformed = mfakit::sync_wait(busy.enable("di", "12"));
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error() == mfakit::errc::malformed_code);
}

TEST_CASE("with_offload: a call's costly steps go to the offload it was given, not the service's",
          "[async][offload]") {
  mfakit::memory_store memory;
  mfakit::testing::awaitable_adapter<mfakit::memory_store> store(memory);
  std::vector<std::string> ran;
  mfakit::service_options<named_offload> options;
  options.offload = named_offload{"service", &ran};
  mfakit::async_service svc(store, mfakit::testing::detail::conformance_config(), options);
  auto s = mfakit::sync_wait(svc.setup("ed", "ed@example.com"));
  REQUIRE(s);
  const auto now = mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  const std::string code = mfakit::totp(s->key.bytes(), now)->to_string();
  auto e = mfakit::sync_wait(svc.with_offload(named_offload{"ed's", &ran}).enable("ed", code));
  REQUIRE(e);
  auto r = mfakit::sync_wait(svc.regenerate_backup_codes("ed"));
  REQUIRE(r);
  CHECK(ran == std::vector<std::string>{"ed's", "service"});
}
