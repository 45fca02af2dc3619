// The coroutine loop seen through the synchronous API, so one test body can
// run against both loops:
//  - awaitable_adapter<Store>: a record_store as an awaitable_record_store,
//    each call a coroutine (mfakit::task) around the store's own call;
//  - worker_offload: an offload that runs each compute step on a worker
//    thread of its own while the coroutine's thread waits, then goes on on
//    that thread (as an Asio host's io_context thread would: same thread
//    before and after, so a test's random draws stay in one order);
//  - async_driven_service<Store, Clock, Rng>: the calls of service_calls
//    (calls.hpp), each one an async_service coroutine over that adapter,
//    its costly steps on a worker shared by all of them, run to its end
//    with sync_wait.
// A host's own tests can use them the same way: its suites, written against
// mfakit::service, also check the coroutine loop and its offload.
// For tests only: a program that uses mfakit never needs this header at run
// time (it is installed so a host's tests can use it).
#pragma once

#include <condition_variable>
#include <coroutine>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "mfakit/async.hpp"
#include "mfakit/store.hpp"

namespace mfakit::testing {

template <record_store Store>
class awaitable_adapter {
 public:
  explicit awaitable_adapter(Store& store) noexcept : store_(&store) {}
  task<load_answer> load(std::string_view key) { co_return store_->load(key); }
  task<swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                     const std::optional<std::string>& next) {
    co_return store_->compare_and_swap(key, expected, next);
  }

 private:
  Store* store_;
};

/// One worker thread: offload(job) returns an awaiter that runs the job
/// there and lets the awaiting coroutine go on on its own thread.
class worker_offload {
 public:
  worker_offload() : thread_([this] { work(); }) {}
  worker_offload(const worker_offload&) = delete;
  worker_offload& operator=(const worker_offload&) = delete;
  ~worker_offload() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  struct awaiter {
    worker_offload* self;
    compute_job job;
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> /*h*/) {
      self->run_there(job);
      return false;  // the job ran: go on here
    }
    void await_resume() const noexcept {}
  };
  [[nodiscard]] awaiter operator()(compute_job job) { return awaiter{this, job}; }

  /// The worker's thread (the one every job ran on).
  [[nodiscard]] std::thread::id id() const noexcept { return thread_.get_id(); }
  /// How many jobs it ran.
  [[nodiscard]] unsigned jobs() const {
    const std::lock_guard lock(mutex_);
    return jobs_;
  }

 private:
  struct entry {
    compute_job job;
    bool* done;
    std::exception_ptr* error;
  };

  /// Runs the job on the worker and waits for it (an exception from it is rethrown here).
  void run_there(compute_job job) {
    bool done = false;
    std::exception_ptr error;
    std::unique_lock lock(mutex_);
    queue_.push_back(entry{job, &done, &error});
    cv_.notify_all();
    cv_.wait(lock, [&] { return done; });
    if (error) std::rethrow_exception(error);
  }
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      const entry e = queue_.front();
      queue_.pop_front();
      ++jobs_;
      lock.unlock();
      std::exception_ptr error;
      try {
        e.job();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      *e.error = error;
      *e.done = true;
      cv_.notify_all();
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<entry> queue_;
  bool stopping_ = false;
  unsigned jobs_ = 0;
  std::thread thread_;
};

/// The worker every async_driven_service shares: one thread for the
/// process, so a test that compares runs byte for byte sees the same threads
/// draw the same random bytes in every run (a thread's first write id picks
/// its stripe of the write-id pool).
inline worker_offload& shared_worker() {
  static worker_offload worker;
  return worker;
}

/// Hands each job to a worker_offload it does not own.
struct worker_offload_ref {
  worker_offload* worker;
  [[nodiscard]] worker_offload::awaiter operator()(compute_job job) const { return (*worker)(job); }
};

template <record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random>
class async_driven_service : public service_calls<async_driven_service<Store, Clock, Rng>> {
 public:
  async_driven_service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : async_driven_service(store, std::move(config), service_options<>{}, std::move(clock), std::move(rng)) {}
  async_driven_service(Store& store, flow_config config, service_options<> options, Clock clock = Clock{},
                       Rng rng = Rng{})
      : adapter_(store),
        svc_(adapter_, std::move(config), with_worker(std::move(options)), std::move(clock), std::move(rng)) {}
  async_driven_service(const async_driven_service&) = delete;
  async_driven_service& operator=(const async_driven_service&) = delete;

  [[nodiscard]] const flow_config& config() const noexcept { return svc_.config(); }
  /// The worker the costly steps ran on.
  [[nodiscard]] static const worker_offload& worker() noexcept { return shared_worker(); }

  template <template <class> class Operation, class... Args>
  [[nodiscard]] auto call(const Args&... args) {
    return sync_wait(svc_.template call<Operation>(args...));
  }

 private:
  [[nodiscard]] static service_options<worker_offload_ref> with_worker(service_options<> o) {
    return service_options<worker_offload_ref>{o.max_retries, std::move(o.on_event),
                                               worker_offload_ref{&shared_worker()}};
  }

  awaitable_adapter<Store> adapter_;
  async_service<awaitable_adapter<Store>, Clock, Rng, worker_offload_ref> svc_;
};

}  // namespace mfakit::testing
