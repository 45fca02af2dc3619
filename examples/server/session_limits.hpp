// Per-session and per-user limits of the demo server's authenticated routes:
//  - inflight_limiter: at most N requests of one session (one access token)
//    in flight at once; the next is answered 429 at once, so one session's
//    connections cannot take the store pool's threads from everyone else;
//  - setup_cache: the answer of a user's last TOTP setup (the pending
//    secret, its key URI and QR code), handed back for `reuse` instead of
//    a new secret, sealing, store write and QR drawing on every call; one
//    setup of a user at a time. The answer is a secret: held in a wiped
//    buffer, wiped when replaced, dropped or expired.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "http_server.hpp"

namespace mfakit_examples {

class inflight_limiter {
 public:
  explicit inflight_limiter(std::size_t max_per_key) : max_(max_per_key) {}

  class guard {
   public:
    guard(inflight_limiter* l, std::string k) : l_(l), k_(std::move(k)) {}
    guard(guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)), k_(std::move(o.k_)) {}
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    guard& operator=(guard&& o) noexcept {
      if (this != &o) {
        if (l_ != nullptr) l_->release(k_);
        l_ = std::exchange(o.l_, nullptr);
        k_ = std::move(o.k_);
      }
      return *this;
    }
    ~guard() {
      if (l_ != nullptr) l_->release(k_);
    }

   private:
    inflight_limiter* l_;
    std::string k_;
  };

  /// nullopt when the key already has max_per_key requests in flight.
  [[nodiscard]] std::optional<guard> acquire(std::string key) {
    const std::lock_guard lock(mutex_);
    auto& n = count_[key];
    if (n >= max_) return std::nullopt;
    ++n;
    return std::optional<guard>(std::in_place, this, std::move(key));
  }

 private:
  void release(const std::string& key) {
    const std::lock_guard lock(mutex_);
    auto it = count_.find(key);
    if (it != count_.end() && --it->second == 0) count_.erase(it);
  }
  std::size_t max_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> count_;
};

class setup_cache {
 public:
  using clock = std::chrono::steady_clock;
  explicit setup_cache(std::chrono::milliseconds reuse, std::size_t max_entries = 100'000)
      : reuse_(reuse), max_(max_entries) {}

  [[nodiscard]] bool enabled() const noexcept { return reuse_.count() > 0; }

  /// A copy of the user's answer from less than `reuse` ago.
  [[nodiscard]] std::optional<web::secure_string> find(const std::string& user) {
    const auto now = clock::now();
    const std::lock_guard lock(mutex_);
    auto it = map_.find(user);
    if (it == map_.end()) return std::nullopt;
    if (now - it->second.at >= reuse_) {
      web::wipe(it->second.body);
      map_.erase(it);
      return std::nullopt;
    }
    return it->second.body;
  }
  void put(const std::string& user, const web::secure_string& body) {
    if (!enabled()) return;
    const auto now = clock::now();
    const std::lock_guard lock(mutex_);
    if (map_.size() >= max_) sweep_locked(now);
    if (map_.size() >= max_) return;
    auto& e = map_[user];
    web::wipe(e.body);
    e.body = body;
    e.at = now;
  }
  void forget(const std::string& user) {
    const std::lock_guard lock(mutex_);
    auto it = map_.find(user);
    if (it == map_.end()) return;
    web::wipe(it->second.body);
    map_.erase(it);
  }
  /// One setup of a user at a time: false when one is running.
  [[nodiscard]] bool begin(const std::string& user) {
    const std::lock_guard lock(mutex_);
    return running_.insert(user).second;
  }
  void end(const std::string& user) {
    const std::lock_guard lock(mutex_);
    running_.erase(user);
  }
  void sweep() {
    const std::lock_guard lock(mutex_);
    sweep_locked(clock::now());
  }

 private:
  struct entry {
    web::secure_string body;
    clock::time_point at;
  };
  void sweep_locked(clock::time_point now) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (now - it->second.at >= reuse_) {
        web::wipe(it->second.body);
        it = map_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::chrono::milliseconds reuse_;
  std::size_t max_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> map_;
  std::unordered_set<std::string> running_;
};

}  // namespace mfakit_examples
