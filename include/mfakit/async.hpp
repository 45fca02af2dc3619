// The flow for hosts whose database client is asynchronous: the same
// operations as the synchronous service (operation.hpp), driven by a C++20
// coroutine loop against a store whose two calls are awaitable.
//
//     mfakit::async_service svc(store, std::move(cfg));       // store: awaitable_record_store
//     auto r = co_await svc.complete_login(token, code, mfakit::factor::totp);
//
// The coroutine type is the host's choice: any class template whose
// coroutines can co_await the store's calls and co_return a value
// (mfakit::task below by default; asio::awaitable, for a store whose calls
// return asio::awaitable, works the same way). The service's calls take
// their strings by value, so a caller may pass temporaries and let them go
// before the task runs. The service's own copies of codes and tokens (in the
// coroutine frame) are wiped when the call ends; the caller's strings, and a
// parameter object the compiler moved from, are the caller's to wipe (pass
// std::move(code) of a string you then cleanse, or use the synchronous
// service, which copies nothing).
#pragma once

#include <concepts>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/flow_types.hpp"

namespace mfakit {

// --- a minimal task -------------------------------------------------------------

/// A lazily started coroutine that returns a T. co_await runs it and resumes
/// the awaiting coroutine when it is done (symmetric transfer: no stack
/// growth however many store calls complete inline). An exception escaping
/// the body is rethrown to the awaiter.
template <class T>
class [[nodiscard]] task {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> continuation = std::noop_coroutine();

    task get_return_object() noexcept { return task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct final_awaiter {
      [[nodiscard]] bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        return h.promise().continuation;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    template <class U>
      requires std::constructible_from<T, U&&>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (handle_) handle_.destroy();
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() {
    auto& p = handle_.promise();
    if (p.error) std::rethrow_exception(p.error);
    return std::move(*p.value);
  }

 private:
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
/// A coroutine nobody awaits: starts at once, frees itself at the end.
struct detached {
  struct promise_type {
    detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

template <class T>
struct sync_wait_state {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
};

template <class T>
detached sync_wait_driver(task<T>& t, sync_wait_state<T>& s) {
  std::optional<T> value;
  std::exception_ptr error;
  try {
    value.emplace(co_await t);
  } catch (...) {
    error = std::current_exception();
  }
  const std::lock_guard lock(s.mutex);  // notify under the lock: the waiter may return at once
  s.value = std::move(value);
  s.error = error;
  s.done = true;
  s.done_cv.notify_one();
}
}  // namespace detail

/// Runs a task to its end on this thread (and on whatever threads the
/// store's calls complete), blocking until it is done. For tests, tools and
/// hosts that call the asynchronous service from synchronous code.
template <class T>
T sync_wait(task<T> t) {
  detail::sync_wait_state<T> s;
  detail::sync_wait_driver(t, s);
  std::unique_lock lock(s.mutex);
  s.done_cv.wait(lock, [&] { return s.done; });
  if (s.error) std::rethrow_exception(s.error);
  return std::move(*s.value);
}

// --- the awaitable store ----------------------------------------------------------

namespace detail {
template <class A>
concept has_member_co_await = requires(A&& a) { static_cast<A&&>(a).operator co_await(); };

template <class A>
decltype(auto) awaiter_of(A&& a) {
  if constexpr (has_member_co_await<A>) {
    return static_cast<A&&>(a).operator co_await();
  } else {
    return static_cast<A&&>(a);
  }
}

template <class A>
using await_result_t = decltype(std::declval<decltype(awaiter_of(std::declval<A>()))&>().await_resume());

// Exactly R, as record_store asks of a synchronous store: an adapter that
// yields a driver's int status (or a plain bool) would otherwise convert,
// and -1 would read as a stored write.
template <class A, class R>
concept awaitable_of = requires { typename await_result_t<A>; } && std::same_as<std::remove_cvref_t<await_result_t<A>>, R>;
}  // namespace detail

/// A store for the coroutine loop: the calls of record_store (store.hpp,
/// same contract), each returning something to co_await that yields the
/// answer. An exception from either is a store failure.
template <class S>
concept awaitable_record_store_load = requires(S& s, std::string_view key) {
  { s.load(key) } -> detail::awaitable_of<load_answer>;
};
template <class S>
concept awaitable_record_store_cas = requires(S& s, std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
  { s.compare_and_swap(key, expected, next) } -> detail::awaitable_of<swap_answer>;
};
template <class S>
concept awaitable_record_store = awaitable_record_store_load<S> && awaitable_record_store_cas<S>;

// --- the loop ----------------------------------------------------------------------

/// The coroutine loop: runs an operation to its end, co_awaiting each store
/// call. `Task` is the coroutine type to return (mfakit::task by default).
/// The operation is moved into the coroutine; the strings it views (user,
/// code, token) must outlive the returned task (async_service owns them).
template <template <class...> class Task = task, awaitable_record_store Store, store_operation Op>
Task<result<typename Op::value_type>> run_async(Store& store, Op op) {
  for (;;) {
    switch (op.wants()) {
      // (each answer is constructed once, never assigned over inside the try:
      // see detail::answer_or_failure in operation.hpp)
      case store_call::load: {
        std::optional<load_answer> answer;
        try {
          answer.emplace(co_await store.load(op.key()));
        } catch (...) {  // a throwing store is a failing store
        }
        op.on_load(answer ? std::move(*answer) : load_answer(store_failure()));
        break;
      }
      case store_call::compare_and_swap: {
        std::optional<swap_answer> answer;
        try {
          answer.emplace(co_await store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()));
        } catch (...) {
        }
        op.on_swap(answer ? *answer : swap_answer(store_failure()));
        break;
      }
      case store_call::none: co_return op.finish();
    }
  }
}

namespace detail {
/// Wipes a string (a code, a token) when a call ends, however it ends.
class wipe_at_exit {
 public:
  explicit wipe_at_exit(std::string& s) noexcept : s_(s) {}
  wipe_at_exit(const wipe_at_exit&) = delete;
  wipe_at_exit& operator=(const wipe_at_exit&) = delete;
  wipe_at_exit(wipe_at_exit&&) = delete;
  wipe_at_exit& operator=(wipe_at_exit&&) = delete;
  ~wipe_at_exit() { cleanse(s_.data(), s_.size()); }

 private:
  std::string& s_;
};
}  // namespace detail

/// The service of service.hpp for an awaitable store: the same calls, each
/// a coroutine of type Task<result<...>>. Share one between coroutines and
/// threads as freely as the store allows.
template <awaitable_record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random,
          template <class...> class Task = task>
class async_service {
 public:
  using context = operation_context<Clock, Rng>;

  /// Throws std::invalid_argument when the configuration is unusable.
  async_service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : store_(store), cfg_(validated(std::move(config))), clock_(std::move(clock)), rng_(std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return cfg_; }

  Task<result<setup_result>> setup(std::string user, std::string account_name) {
    co_return co_await run_async<Task>(store_, setup_operation<context>(ctx(), user, account_name));
  }
  Task<result<enable_result>> enable(std::string user, std::string code, attempt_info* info = nullptr) {
    const detail::wipe_at_exit wipe(code);
    co_return co_await run_async<Task>(store_, enable_operation<context>(ctx(), user, code, info));
  }
  Task<result<void>> disable(std::string user) {
    co_return co_await run_async<Task>(store_, disable_operation<context>(ctx(), user));
  }
  Task<result<regenerate_result>> regenerate_backup_codes(std::string user) {
    co_return co_await run_async<Task>(store_, regenerate_operation<context>(ctx(), user));
  }
  Task<result<void>> reset_throttle(std::string user) {
    co_return co_await run_async<Task>(store_, reset_throttle_operation<context>(ctx(), user));
  }
  Task<result<bool>> reseal(std::string user) {
    co_return co_await run_async<Task>(store_, reseal_operation<context>(ctx(), user));
  }
  Task<result<status_result>> status(std::string user) {
    co_return co_await run_async<Task>(store_, status_operation<context>(ctx(), user));
  }
  Task<result<login_result>> verify(std::string user, std::string code, factor via = factor::totp,
                                    attempt_info* info = nullptr) {
    const detail::wipe_at_exit wipe(code);
    co_return co_await run_async<Task>(store_, verify_operation<context>(ctx(), user, code, via, info));
  }
  Task<result<challenge_result>> begin_login(std::string user) {
    co_return co_await run_async<Task>(store_, begin_login_operation<context>(ctx(), user));
  }
  Task<result<login_result>> complete_login(std::string token, std::string code, factor via = factor::totp,
                                            attempt_info* info = nullptr) {
    const detail::wipe_at_exit wipe_token(token);
    const detail::wipe_at_exit wipe_code(code);
    co_return co_await run_async<Task>(store_, complete_login_operation<context>(ctx(), token, code, via, info));
  }

 private:
  [[nodiscard]] context ctx() noexcept { return context{&cfg_, &clock_, &rng_, &write_ids_}; }

  Store& store_;
  flow_config cfg_;
  Clock clock_;
  Rng rng_;
  detail::write_id_pool write_ids_;
};

}  // namespace mfakit
