// A bounded pool of threads for blocking work (database calls through the
// synchronous store adapters, scrypt), awaited from a coroutine on an
// io_context thread:
//
//     auto r = co_await pool.run([&] { return svc.status(user); });   // std::optional<...>
//
// The coroutine is suspended, the function runs on a pool thread, and the
// coroutine resumes on its own executor with the result. At most
// `max_queued` calls wait or run at once; beyond that run() answers nullopt
// at once (the caller answers 503), so a flood of logins queues for the
// scrypt threads instead of taking 128 MiB each or growing memory without
// bound.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <latch>
#include <memory>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mfakit_examples {

class worker_pool {
 public:
  /// `nice` > 0 lowers the CPU priority of the pool's threads (the scrypt
  /// pool: the event loops then keep answering while logins use every core).
  worker_pool(std::size_t threads, std::size_t max_queued, int nice = 0)
      : pool_(threads == 0 ? 1 : threads), threads_(threads == 0 ? 1 : threads), max_queued_(max_queued) {
    if (nice == 0) return;
    // one task per thread, each held until all have started: every thread runs exactly one
    // (shared: a task may still be leaving arrive_and_wait when this constructor returns)
    auto started = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads_));
    for (std::size_t i = 0; i < threads_; ++i) {
      boost::asio::post(pool_, [started, nice] {
        (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);  // Linux: per thread
        started->arrive_and_wait();
      });
    }
    started->wait();
  }
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() { join(); }

  [[nodiscard]] std::size_t threads() const noexcept { return threads_; }
  [[nodiscard]] std::size_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }

  /// Runs f() on the pool; nullopt when the pool is full or f threw.
  template <class F, class R = std::invoke_result_t<F&>>
  boost::asio::awaitable<std::optional<R>> run(F f) {
    const std::size_t n = queued_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (n > max_queued_) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      rejected_.fetch_add(1, std::memory_order_relaxed);
      co_return std::nullopt;
    }
    std::size_t p = peak_.load(std::memory_order_relaxed);
    while (n > p && !peak_.compare_exchange_weak(p, n, std::memory_order_relaxed)) {
    }
    co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::optional<R>)>(
        [this, &f](auto handler) {
          // keeps the caller's io_context running while the work is away
          auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
          boost::asio::post(pool_, [this, &f, handler = std::move(handler), work = std::move(work)]() mutable {
            std::optional<R> out;
            try {
              out.emplace(f());
            } catch (...) {
              out.reset();
            }
            queued_.fetch_sub(1, std::memory_order_relaxed);
            auto ex = work.get_executor();
            boost::asio::post(ex, [handler = std::move(handler), out = std::move(out), work = std::move(work)]() mutable {
              std::move(handler)(std::move(out));
            });
          });
        },
        boost::asio::use_awaitable);
  }

  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  std::size_t threads_;
  std::size_t max_queued_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> rejected_{0};
};

}  // namespace mfakit_examples
