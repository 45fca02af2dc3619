// The KDF pool: a few threads for scrypt (passwords, backup codes), shared
// fairly and bounded by the wait, not by a count alone.
//
//   auto r = co_await pool.run({network, user}, [&] { return check(...); });
//   if (!r.value) -> 503 with Retry-After: r.retry_after
//
// Each job names up to two keys (the client's network, the user). A free
// thread takes the waiting job whose keys have the least load: jobs of the
// key running now plus the work the key had done recently (decaying with a
// half-life of 30 s), the oldest first among equals. Work that succeeded
// (a right password, an enable) is given back with credit(), so the load
// is the work a key wasted: a client who has not failed lately goes next,
// whatever others have queued.
//
// A job is refused at once (no queueing) when
//  - jobs wait that would go before it, and its expected wait (those, and
//    half of each running one, times the measured average job time, over
//    the threads) is beyond max_wait: the pool could not start it in time
//    (for a key that wasted half a job's work lately, every waiting job
//    counts, lighter ones still to come go before it too, and the bound is
//    half of max_wait);
//  - one of its keys already has `share` jobs waiting or running;
//  - `max_queued` jobs wait or run (a bound on memory).
// A job that waited beyond max_wait anyway (jobs of lighter keys went
// first) is dropped when it comes up, with the same answer.
#pragma once

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mfakit_examples {

class fair_pool {
 public:
  using clock = std::chrono::steady_clock;

  struct options {
    std::size_t threads = 1;
    std::size_t max_queued = 256;  ///< waiting or running, over all keys
    std::size_t share = 4;         ///< waiting or running, per key
    std::chrono::milliseconds max_wait{10'000};
    std::chrono::microseconds initial_job{500'000};  ///< the average job time before any was measured
    int nice = 10;
  };

  template <class R>
  struct outcome {
    std::optional<R> value;        ///< none: refused, dropped, or the job threw
    std::int64_t retry_after = 1;  ///< seconds, when refused
  };

  explicit fair_pool(options o) : opt_(o), avg_us_(static_cast<double>(o.initial_job.count())) {
    if (opt_.threads == 0) opt_.threads = 1;
    if (opt_.share == 0) opt_.share = 1;
    for (std::size_t i = 0; i < opt_.threads; ++i) threads_.emplace_back([this] { work(); });
  }
  fair_pool(const fair_pool&) = delete;
  fair_pool& operator=(const fair_pool&) = delete;
  ~fair_pool() { join(); }

  [[nodiscard]] std::size_t threads() const noexcept { return opt_.threads; }
  [[nodiscard]] std::size_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }
  /// A key's load: jobs of it running now plus the work it did lately, decaying (what orders the queue).
  [[nodiscard]] double load(const std::string& key) const {
    const std::lock_guard lock(mutex_);
    return load_locked(key, clock::now());
  }
  /// Jobs run (not the refused or dropped ones).
  [[nodiscard]] std::size_t ran() const noexcept { return ran_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::chrono::microseconds average_job() const {
    const std::lock_guard lock(mutex_);
    return std::chrono::microseconds(static_cast<std::int64_t>(avg_us_));
  }

  /// Runs f() on the pool for these keys (empty keys are ignored).
  template <class F, class R = std::invoke_result_t<F&>>
  boost::asio::awaitable<outcome<R>> run(std::array<std::string, 2> keys, F f) {
    outcome<R> out;
    const std::int64_t refused = admit_wait(keys);
    if (refused > 0) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      out.retry_after = refused;
      co_return out;
    }
    auto ran = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::optional<R>)>(
        [this, &f, &keys](auto handler) {
          auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
          // run(): the work, on a pool thread; finish(): its answer to the awaiting coroutine, once
          // the pool has booked the job (so a credit() after the co_await finds its charge)
          auto task = [&f, handler = std::move(handler), work = std::move(work),
                       r = std::optional<R>()](bool finish) mutable {
            if (!finish) {
              try {
                r.emplace(f());
              } catch (...) {
                r.reset();
              }
              return;
            }
            auto ex = work.get_executor();
            boost::asio::post(ex, [handler = std::move(handler), r = std::move(r), work = std::move(work)]() mutable {
              std::move(handler)(std::move(r));
            });
          };
          enqueue(std::move(keys), std::make_unique<task_of<decltype(task)>>(std::move(task)));
        },
        boost::asio::use_awaitable);
    if (!ran) {
      out.retry_after = std::max<std::int64_t>(1, static_cast<std::int64_t>(opt_.max_wait.count() / 1000));
      co_return out;
    }
    out.value.emplace(std::move(*ran));
    co_return out;
  }

  /// The last job of these keys did useful work: it does not count against them.
  void credit(const std::array<std::string, 2>& keys) {
    const auto now = clock::now();
    const std::lock_guard lock(mutex_);
    for (const auto& k : keys) {
      if (k.empty()) continue;
      auto it = keys_.find(k);
      if (it == keys_.end()) continue;
      auto& st = it->second;
      const double age = std::chrono::duration<double>(now - st.at).count();
      st.served = std::max(0.0, st.served * std::exp2(-age / half_life_s) - 1.0);
      st.at = now;
    }
  }

  void join() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  struct key_state {
    std::size_t in_system = 0;  ///< waiting or running
    std::size_t running = 0;
    double served = 0;  ///< jobs' worth of recent work, decaying
    clock::time_point at{};
  };
  /// A move-only job body: run() does the work, finish() answers (without a run: "not run").
  struct task_base {
    task_base() = default;
    task_base(const task_base&) = delete;
    task_base& operator=(const task_base&) = delete;
    virtual ~task_base() = default;
    virtual void run() = 0;
    virtual void finish() = 0;
  };
  template <class T>
  struct task_of final : task_base {
    explicit task_of(T&& t) : fn(std::move(t)) {}
    void run() override { fn(false); }
    void finish() override { fn(true); }
    T fn;
  };
  struct job {
    std::array<std::string, 2> keys;
    std::uint64_t seq = 0;
    clock::time_point queued;
    std::unique_ptr<task_base> task;
  };

  static constexpr double half_life_s = 30.0;

  [[nodiscard]] double load_locked(const std::string& k, clock::time_point now) const {
    if (k.empty()) return 0;
    auto it = keys_.find(k);
    if (it == keys_.end()) return 0;
    const double age = std::chrono::duration<double>(now - it->second.at).count();
    return static_cast<double>(it->second.running) + it->second.served * std::exp2(-age / half_life_s);
  }
  [[nodiscard]] double priority_locked(const std::array<std::string, 2>& keys, clock::time_point now) const {
    return std::max(load_locked(keys[0], now), load_locked(keys[1], now));
  }

  /// 0: admitted (counted in); else the seconds to wait.
  std::int64_t admit_wait(const std::array<std::string, 2>& keys) {
    const auto now = clock::now();
    const std::lock_guard lock(mutex_);
    const std::size_t in_system = jobs_.size() + running_ + reserved_;
    if (in_system >= opt_.max_queued) return 1;
    for (const auto& k : keys) {
      if (k.empty()) continue;
      auto it = keys_.find(k);
      if (it != keys_.end() && it->second.in_system >= opt_.share)
        return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(avg_us_ * 1e-6)));
    }
    const double mine = priority_locked(keys, now);
    // a key that wasted work lately goes behind every lighter job, those waiting and those still to
    // come: only the whole queue bounds its wait (counting just the lighter ones admitted it, and
    // the lighter ones that came later left it to be dropped at max_wait: a 503 after 10 s, not at once)
    const bool wasteful = mine >= 0.5;
    std::size_t ahead = 0;
    for (const auto& j : jobs_)
      if (wasteful || priority_locked(j.keys, now) <= mine) ++ahead;
    // the running jobs are half done on average; a job with none ahead is always taken (it goes next)
    const double wait_us = (0.5 * static_cast<double>(running_) + static_cast<double>(ahead)) /
                           static_cast<double>(opt_.threads) * avg_us_;
    const double max_us = static_cast<double>(opt_.max_wait.count()) * 1000.0;
    // and half the wait only: the estimate is a mean, and a job admitted at its edge waited the whole
    // max_wait and was dropped anyway
    const double bound_us = wasteful ? max_us / 2 : max_us;
    if (ahead > 0 && wait_us > bound_us)
      return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((wait_us - bound_us) * 1e-6)));
    for (const auto& k : keys)
      if (!k.empty()) ++keys_[k].in_system;
    ++reserved_;
    const std::size_t n = in_system + 1;
    std::size_t p = peak_.load(std::memory_order_relaxed);
    while (n > p && !peak_.compare_exchange_weak(p, n, std::memory_order_relaxed)) {
    }
    return 0;
  }

  void enqueue(std::array<std::string, 2> keys, std::unique_ptr<task_base> task) {
    {
      const std::lock_guard lock(mutex_);
      --reserved_;
      jobs_.push_back(job{std::move(keys), next_seq_++, clock::now(), std::move(task)});
    }
    cv_.notify_one();
  }

  void release_locked(const std::array<std::string, 2>& keys, bool ran, double jobs_worth, clock::time_point now) {
    for (const auto& k : keys) {
      if (k.empty()) continue;
      auto it = keys_.find(k);
      if (it == keys_.end()) continue;
      auto& s = it->second;
      --s.in_system;
      if (ran) {
        --s.running;
        const double age = std::chrono::duration<double>(now - s.at).count();
        s.served = s.served * std::exp2(-age / half_life_s) + jobs_worth;
        s.at = now;
      }
    }
    if (keys_.size() > 4096) {  // forget keys with nothing left to remember
      std::erase_if(keys_, [&](const auto& kv) {
        return kv.second.in_system == 0 &&
               kv.second.served * std::exp2(-std::chrono::duration<double>(now - kv.second.at).count() / half_life_s) <
                   0.01;
      });
    }
  }

  void work() {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), opt_.nice);  // Linux: per thread
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, nothing left
      const auto now = clock::now();
      std::size_t best = 0;
      double best_p = priority_locked(jobs_[0].keys, now);
      for (std::size_t i = 1; i < jobs_.size(); ++i) {
        const double p = priority_locked(jobs_[i].keys, now);
        if (p < best_p || (p == best_p && jobs_[i].seq < jobs_[best].seq)) {
          best = i;
          best_p = p;
        }
      }
      job j = std::move(jobs_[best]);
      jobs_.erase(jobs_.begin() + static_cast<std::ptrdiff_t>(best));
      if (now - j.queued > opt_.max_wait || stop_) {  // its client has waited long enough: 503
        release_locked(j.keys, false, 0, now);
        lock.unlock();
        j.task->finish();
        lock.lock();
        continue;
      }
      for (const auto& k : j.keys)
        if (!k.empty()) ++keys_[k].running;
      ++running_;
      lock.unlock();
      const auto t0 = clock::now();
      j.task->run();
      ran_.fetch_add(1, std::memory_order_relaxed);
      const auto t1 = clock::now();
      lock.lock();
      --running_;
      const double us = static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
      avg_us_ = 0.8 * avg_us_ + 0.2 * us;
      release_locked(j.keys, true, 1.0, t1);  // one job's worth, whatever it cost (credit() gives back as much)
      // answered only now: a caller that credits its job back on resuming must find the job booked
      // (answered before, its credit came first, was clamped at 0, and the job's charge then stuck)
      lock.unlock();
      j.task->finish();
      lock.lock();
    }
  }

  options opt_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<job> jobs_;
  std::unordered_map<std::string, key_state> keys_;
  std::size_t running_ = 0;
  std::size_t reserved_ = 0;  ///< admitted, not yet in jobs_
  std::uint64_t next_seq_ = 0;
  double avg_us_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> peak_{0};
  std::atomic<std::size_t> rejected_{0};
  std::atomic<std::size_t> ran_{0};
};

}  // namespace mfakit_examples
