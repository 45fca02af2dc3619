// The demo server's password limits: failed checks per client address in a
// fixed window (address_limiter, also counting bad challenge and refresh
// tokens), and one password check per account at a time (account_gate).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mfakit_examples::demo {

/// At most max_failures failed password checks per client address in a
/// fixed window; then 429 until the window ends. A check is counted as a
/// failure before its scrypt runs (reserve) and refunded when the password
/// was right, so a burst of parallel guesses cannot all pass the check
/// before the first failure is recorded. In process memory: each server
/// counts its own share (behind a load balancer that spreads one client
/// over n servers, the limit is n times as loose; the per-account limit in
/// the database is exact).
class address_limiter {
 public:
  address_limiter(std::int64_t max_failures, std::int64_t window_s) : max_(max_failures), window_(window_s) {}

  /// Seconds to wait, 0 when the address may try.
  [[nodiscard]] std::int64_t blocked(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(addr);
    if (it == entries_.end() || now - it->second.start >= window_ || it->second.failures < max_) return 0;
    return it->second.start + window_ - now;
  }
  /// Counts an attempt as failed before it runs: 0 when the address may
  /// try (then refund() it if it succeeds), else the seconds to wait.
  [[nodiscard]] std::int64_t reserve(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    if (entries_.size() >= 100'000) sweep_locked(now);
    auto& e = entries_[addr];
    if (now - e.start >= window_) e = entry{now, 0};
    if (e.failures >= max_) return std::max<std::int64_t>(1, e.start + window_ - now);
    ++e.failures;
    return 0;
  }
  /// Counts a failure after the fact (where the attempt cost little).
  void failed(const std::string& addr, std::int64_t now) {
    const std::lock_guard lock(mutex_);
    if (entries_.size() >= 100'000) sweep_locked(now);
    auto& e = entries_[addr];
    if (now - e.start >= window_) e = entry{now, 0};
    ++e.failures;
  }
  /// Takes back a reserve() whose attempt succeeded (or never ran).
  void refund(const std::string& addr) {
    const std::lock_guard lock(mutex_);
    auto it = entries_.find(addr);
    if (it != entries_.end() && it->second.failures > 0) --it->second.failures;
  }
  void sweep(std::int64_t now) {
    const std::lock_guard lock(mutex_);
    sweep_locked(now);
  }

 private:
  struct entry {
    std::int64_t start = 0;
    std::int64_t failures = 0;
  };
  void sweep_locked(std::int64_t now) {
    std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.start >= window_; });
  }
  std::int64_t max_;
  std::int64_t window_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// At most one password check per account at a time on this process: the
/// per-account throttle row is read, the password checked and the outcome
/// recorded before the next check of that account may read the row, so
/// parallel guesses queue behind the throttle instead of racing past it
/// (legitimate parallel logins of one account just take turns). At most
/// max_waiting checks wait per account, each at most `patience`; beyond
/// that the answer is 429 (Retry-After: 1).
class account_gate {
 public:
  account_gate(std::size_t max_waiting, std::chrono::milliseconds patience)
      : max_waiting_(max_waiting), patience_(patience) {}

  /// Held while an account's password check runs; passes the gate on to
  /// the next waiter when destroyed.
  class pass {
   public:
    pass(account_gate* g, std::string k) : gate_(g), key_(std::move(k)) {}
    pass(pass&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), key_(std::move(o.key_)) {}
    pass(const pass&) = delete;
    pass& operator=(const pass&) = delete;
    pass& operator=(pass&&) = delete;
    ~pass() {
      if (gate_ != nullptr) gate_->release(key_);
    }

   private:
    account_gate* gate_;
    std::string key_;
  };

  boost::asio::awaitable<std::optional<pass>> enter(const std::string& email) {
    auto timer = std::make_shared<boost::asio::steady_timer>(co_await boost::asio::this_coro::executor);
    auto me = std::make_shared<waiter>(waiter{timer, false});
    {
      const std::lock_guard lock(mutex_);
      auto [it, fresh] = slots_.try_emplace(email);
      if (fresh) co_return std::optional<pass>(std::in_place, this, email);
      if (it->second.size() >= max_waiting_) co_return std::nullopt;
      timer->expires_after(patience_);
      it->second.push_back(me);
    }
    (void)co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));  // cancelled when handed the gate
    const std::lock_guard lock(mutex_);
    if (me->granted) co_return std::optional<pass>(std::in_place, this, email);
    if (auto it = slots_.find(email); it != slots_.end()) std::erase(it->second, me);  // gave up waiting
    co_return std::nullopt;
  }

 private:
  struct waiter {
    std::shared_ptr<boost::asio::steady_timer> timer;
    bool granted = false;
  };
  void release(const std::string& email) {
    const std::lock_guard lock(mutex_);
    auto it = slots_.find(email);
    if (it == slots_.end()) return;
    if (it->second.empty()) {
      slots_.erase(it);
      return;
    }
    auto next = std::move(it->second.front());
    it->second.pop_front();
    next->granted = true;
    boost::asio::post(next->timer->get_executor(), [t = next->timer] { t->cancel(); });
  }

  std::size_t max_waiting_;
  std::chrono::milliseconds patience_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<std::shared_ptr<waiter>>> slots_;
};

}  // namespace mfakit_examples::demo
