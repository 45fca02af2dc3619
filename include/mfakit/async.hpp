// The flow for hosts whose database client is asynchronous: the same
// operations as the synchronous service (operation.hpp), driven by a C++20
// coroutine loop against a store whose two calls are awaitable.
//
//     mfakit::async_service svc(store, std::move(cfg), mfakit::service_options<decltype(offload)>{.offload = offload});
//     auto r = co_await svc.complete_login(token, code, mfakit::factor::totp);
//
// The coroutine type follows the store: a store whose calls return
// asio::awaitable<X> gives calls of asio::awaitable<result<T>>, one whose
// calls return mfakit::task (or plain awaiters) gives mfakit::task; the
// concept checks, through the coroutine type's promise, that the store's
// calls can be awaited there. The offload runs the costly steps (hashing
// backup codes, checking one: scrypt) away from the loop's thread; for Asio,
// a hop that posts the job to a thread pool and resumes the coroutine on its
// own executor when it ran (examples/minimal/main.cpp has it in ten lines:
// asio::async_initiate + asio::post). Boost 1.81's
// co_spawn(pool, ..., use_awaitable) across executors showed a use-after-free
// under ASan, with no mfakit code in the hop, so the examples avoid it.
//
// The service's calls copy their strings into the coroutine before they
// return, so a caller may pass temporaries and let them go before the task
// runs. Those copies (codes and tokens among them) are wiped when the call
// ends; the caller's own strings are the caller's to wipe.
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

#include "mfakit/calls.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/operation.hpp"

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
    void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
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

// --- what a coroutine can co_await ------------------------------------------------

namespace detail {
template <class A>
concept has_member_co_await = requires(A&& a) {
  static_cast<A&&>(a).operator co_await();
};
template <class A>
concept has_free_co_await = requires(A&& a) {
  operator co_await(static_cast<A&&>(a));
};

/// The awaiter of an awaitable: its operator co_await (a member or a free
/// function), or the awaitable itself. (Declared only: for decltype.)
template <class A>
requires has_member_co_await<A>
auto awaiter_of(A&& a) -> decltype(static_cast<A&&>(a).operator co_await());
template <class A>
requires(!has_member_co_await<A> && has_free_co_await<A>) auto awaiter_of(A&& a)
    -> decltype(operator co_await(static_cast<A&&>(a)));
template <class A>
requires(!has_member_co_await<A> && !has_free_co_await<A>) auto awaiter_of(A&& a) -> A&&;

// Whether a promise type has any member named await_transform (then every
// co_await in its coroutines goes through it: asio::awaitable's does).
struct await_transform_probe {
  void await_transform();
};
template <class P>
struct await_transform_both : P, await_transform_probe {};
template <class P>
concept has_await_transform = !requires {
  &await_transform_both<P>::await_transform;
};

/// What `co_await a` operates on inside a coroutine whose promise is P.
/// (Declared only: for decltype.)
template <class P, class A>
requires has_await_transform<P>
auto transformed(P& p, A&& a) -> decltype(p.await_transform(static_cast<A&&>(a)));
template <class P, class A>
requires(!has_await_transform<P>) auto transformed(P& p, A&& a) -> A&&;

template <class P, class A>
using awaiter_in_t = decltype(awaiter_of(transformed(std::declval<P&>(), std::declval<A>())));

/// `co_await a` compiles in a coroutine whose promise is P.
template <class A, class P>
concept awaitable_in = requires {
  typename awaiter_in_t<P, A>;
}
&&requires(std::remove_reference_t<awaiter_in_t<P, A>>& w, std::coroutine_handle<P> h) {
  w.await_ready();
  w.await_suspend(h);
  w.await_resume();
};

template <class P, class A>
using await_result_in_t = decltype(std::declval<std::remove_reference_t<awaiter_in_t<P, A>>&>().await_resume());

// ... and yields exactly R, as record_store asks of a synchronous store: an
// adapter that yields a driver's int status (or a plain bool) would
// otherwise convert, and -1 would read as a stored write.
template <class A, class P, class R>
concept awaitable_in_of = awaitable_in<A, P> && std::same_as<std::remove_cvref_t<await_result_in_t<P, A>>, R>;
}  // namespace detail

// --- the coroutine type -------------------------------------------------------------

/// A coroutine type as the loop uses it: type<T> is a coroutine returning T.
/// task_family<mfakit::task>, task_family<cppcoro::task>...
template <template <class...> class Task>
struct task_family {
  template <class T>
  using type = Task<T>;
};

namespace detail {
template <class A>
struct rebound {};  // not a class template specialization: no family
template <template <class...> class Tmpl, class X, class... Rest>
struct rebound<Tmpl<X, Rest...>> {  // asio::awaitable<X, Executor> -> asio::awaitable<T, Executor>
  template <class T>
  using type = Tmpl<T, Rest...>;
};

template <class Tasks, class T>
concept family_of_coroutines = requires {
  typename std::coroutine_traits<typename Tasks::template type<T>>::promise_type;
};

template <class Store>
struct tasks_of_store {
  using type = task_family<task>;
};
template <class Store>
requires requires(Store& s, std::string_view k) {
  s.load(k);
} && family_of_coroutines<rebound<std::remove_cvref_t<decltype(std::declval<Store&>().load(std::string_view{}))>>,
                          result<bool>>
struct tasks_of_store<Store> {
  using type = rebound<std::remove_cvref_t<decltype(std::declval<Store&>().load(std::string_view{}))>>;
};

template <class Tasks>
using loop_promise_t = typename std::coroutine_traits<typename Tasks::template type<result<bool>>>::promise_type;
}  // namespace detail

/// The coroutine type of a store's calls, as the loop's: a store whose load
/// returns asio::awaitable<X> gives asio::awaitable<result<T>> calls, one
/// returning cppcoro::task<X> gives cppcoro::task<result<T>>; a store whose
/// calls return plain awaiters gives mfakit::task.
template <class Store>
using tasks_of = typename detail::tasks_of_store<Store>::type;

/// The coroutine type `Tasks` gives for T.
template <class Tasks, class T>
using task_t = typename Tasks::template type<T>;

// --- the awaitable store ----------------------------------------------------------

/// A store for the coroutine loop: the calls of record_store (store.hpp,
/// same contract), each returning something that a coroutine of `Tasks`
/// can co_await (through its promise's await_transform, if it has one; an
/// operator co_await, member or free, counts) and that yields the answer.
/// An exception from either is a store failure.
template <class S, class Tasks>
concept awaitable_record_store_in = requires(S& s, std::string_view key, std::uint64_t expected,
                                             const std::optional<std::string>& next) {
  { s.load(key) } -> detail::awaitable_in_of<detail::loop_promise_t<Tasks>, load_answer>;
  { s.compare_and_swap(key, expected, next) } -> detail::awaitable_in_of<detail::loop_promise_t<Tasks>, swap_answer>;
};

/// An awaitable store, awaited from the coroutine type of its own calls (tasks_of).
template <class S>
concept awaitable_record_store = awaitable_record_store_in<S, tasks_of<S>>;

/// Where the coroutine loop runs an operation's costly steps: no_offload
/// (inline), or a callable that takes a compute_job and returns something a
/// coroutine of `Tasks` can co_await, which completes once the job has run
/// (for Asio: a post to a thread pool, as examples/minimal does). The job must run exactly
/// once; if the awaitable throws offload_refused before it ran, the call answers
/// errc::storage_failure with its retry_after; any other exception before it ran: the
/// loop runs it inline.
template <class O, class Tasks>
concept offload_in = std::same_as<std::remove_cv_t<O>, no_offload> || requires(O& o, compute_job job) {
  { o(job) } -> detail::awaitable_in<detail::loop_promise_t<Tasks>>;
};

// --- the loop ----------------------------------------------------------------------

namespace detail {
/// An operation's compute step that remembers whether it ran.
template <class Op>
struct tracked_job {
  Op* op;
  bool ran = false;
  void compute() {
    ran = true;
    op->compute();
  }
};
}  // namespace detail

/// The coroutine loop: runs an operation to its end, co_awaiting each store
/// call and each offloaded job. Returns a coroutine of `Tasks`. The
/// operation is moved into the coroutine; the strings it views (user, code,
/// token) and the offload must outlive the returned task (async_service
/// owns them).
template <class Tasks, class Store, store_operation Op, class Offload>
requires awaitable_record_store_in<Store, Tasks> && offload_in<Offload, Tasks>
    task_t<Tasks, result<typename Op::value_type>> run_async_in(Store& store, Op op, Offload& offload) {
  for (;;) {
    switch (op.wants()) {
      // (each answer is constructed once, never assigned over inside the try:
      // see detail::answer_or_failure in operation.hpp)
      case next_step::load: {
        std::optional<load_answer> answer;
        try {
          answer.emplace(co_await store.load(op.key()));
        } catch (...) {  // a throwing store is a failing store
        }
        op.on_load(answer ? std::move(*answer) : load_answer(store_failure()));
        break;
      }
      case next_step::compare_and_swap: {
        std::optional<swap_answer> answer;
        try {
          answer.emplace(co_await store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()));
        } catch (...) {
        }
        op.on_swap(answer ? *answer : swap_answer(store_failure()));
        break;
      }
      case next_step::compute: {
        if constexpr (std::same_as<std::remove_cv_t<Offload>, no_offload>) {
          op.compute();
        } else {
          detail::tracked_job<Op> job{&op};
          std::optional<std::int64_t> refused;
          try {
            co_await offload(compute_job(job));
          } catch (const offload_refused& r) {
            if (job.ran) throw;
            refused = r.retry_after();  // the host's pool said no: the call answers busy
          } catch (...) {
            if (job.ran) throw;  // the job's own exception, as the synchronous loop gives it
            // else the offload failed before it ran (a pool shutting down): inline below
          }
          if (refused) {
            result<typename Op::value_type> busy(store_failure());
            busy.with_retry_after(*refused);
            co_return std::move(busy);
          }
          if (!job.ran) op.compute();
        }
        break;
      }
      case next_step::done: co_return op.finish();
    }
  }
}

/// run_async_in with the coroutine type of the store's calls and no offload.
template <awaitable_record_store Store, store_operation Op>
task_t<tasks_of<Store>, result<typename Op::value_type>> run_async(Store& store, Op op) {
  static no_offload none;
  return run_async_in<tasks_of<Store>>(store, std::move(op), none);
}

namespace detail {
/// Runs its function when a call ends, however it ends.
template <class F>
class wipe_at_exit {
 public:
  explicit wipe_at_exit(F f) noexcept : f_(std::move(f)) {}
  wipe_at_exit(const wipe_at_exit&) = delete;
  wipe_at_exit& operator=(const wipe_at_exit&) = delete;
  wipe_at_exit(wipe_at_exit&&) = delete;
  wipe_at_exit& operator=(wipe_at_exit&&) = delete;
  ~wipe_at_exit() { f_(); }

 private:
  F f_;
};

/// A call's argument as its coroutine keeps it: a string view becomes a string.
template <class A>
[[nodiscard]] auto owned(const A& a) {
  if constexpr (std::is_convertible_v<const A&, std::string_view>) {
    return std::string(std::string_view(a));
  } else {
    return a;
  }
}
template <class A>
void wipe_if_string(A& a) noexcept {
  if constexpr (std::is_same_v<A, std::string>) cleanse(a.data(), a.size());
}
}  // namespace detail

/// The calls of service_calls (calls.hpp) for an awaitable store, each a
/// coroutine of task_t<Tasks, result<...>> (by default the coroutine type
/// of the store's own calls: tasks_of). The costly steps go to the
/// offload of the options (no_offload: inline). Share one between
/// coroutines and threads as freely as the store allows.
template <class Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random,
          class Offload = no_offload, class Tasks = tasks_of<Store>>
requires awaitable_record_store_in<Store, Tasks> && offload_in<Offload, Tasks>
class async_service : public service_calls<async_service<Store, Clock, Rng, Offload, Tasks>> {
 public:
  using context = operation_context<Clock, Rng>;
  template <class T>
  using call_type = task_t<Tasks, result<T>>;

  /// Throws std::invalid_argument when the configuration is unusable.
  async_service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : async_service(store, std::move(config), service_options<Offload>{}, std::move(clock), std::move(rng)) {}
  async_service(Store& store, flow_config config, service_options<Offload> options, Clock clock = Clock{},
                Rng rng = Rng{})
      : store_(store),
        cfg_(validated(std::move(config))),
        opts_(validated(std::move(options))),
        clock_(std::move(clock)),
        rng_(std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const service_options<Offload>& options() const noexcept { return opts_; }

  /// Runs one operation of the flow with these arguments: the strings
  /// (std::string_view) are copied into the coroutine before it returns, and
  /// those copies wiped when it ends.
  template <template <class> class Operation, class... Args>
  [[nodiscard]] auto call(const Args&... args) {
    return owned_call<Operation>(&opts_.offload, detail::owned(args)...);
  }

  /// The same calls with their costly steps on `offload` instead of the
  /// options' one: for a host whose offload must know whom a job runs for
  /// (a pool shared fairly between clients and users). Each call keeps its
  /// own copy of the offload; the view refers to this service.
  ///     co_await svc.with_offload(kdf_for(client, user)).enable(user, code);
  class offloaded : public service_calls<offloaded> {
   public:
    template <template <class> class Operation, class... Args>
    [[nodiscard]] auto call(const Args&... args) {
      return svc_->template owned_call<Operation>(offload_, detail::owned(args)...);
    }

   private:
    friend async_service;
    offloaded(async_service& svc, Offload offload) : svc_(&svc), offload_(std::move(offload)) {}
    async_service* svc_;
    Offload offload_;
  };
  [[nodiscard]] offloaded with_offload(Offload offload) { return offloaded(*this, std::move(offload)); }

 private:
  // Held: Offload* (the options' offload) or an Offload of the call's own (with_offload)
  template <template <class> class Operation, class Held, class... Args>
  call_type<typename Operation<context>::value_type> owned_call(Held offload, Args... args) {
    const detail::wipe_at_exit wipe([&]() noexcept { (detail::wipe_if_string(args), ...); });
    Offload* off = nullptr;
    if constexpr (std::is_pointer_v<Held>)
      off = offload;
    else
      off = &offload;
    co_return co_await run_async_in<Tasks>(store_, Operation<context>(ctx(), args...), *off);
  }

  [[nodiscard]] context ctx() noexcept {
    return context{&cfg_, &clock_, &rng_, &write_ids_, opts_.max_retries, &opts_.on_event};
  }

  Store& store_;
  flow_config cfg_;
  service_options<Offload> opts_;
  Clock clock_;
  Rng rng_;
  detail::write_id_pool write_ids_;
};

template <class Store, class Offload>
async_service(Store&, flow_config, service_options<Offload>)
    -> async_service<Store, system_clock_source, openssl_random, Offload>;

}  // namespace mfakit
