// A small pool of database connections, shared by the store adapters
// (sqlite_store.hpp, postgres_store.hpp) and the account databases
// (account_db_sqlite.hpp, account_db_postgres.hpp): one connection per
// concurrent caller up to `max`, callers beyond that wait for a free one.
// All of it may be used from any number of threads at once.
//
// A connection goes back to the pool when its lease ends, unless the caller
// marked it broken or the pool's `reusable` check refuses it (say, one still
// inside a transaction); such a one is closed, outside the lock, and only
// then counted out, so connections open or closing never exceed `max` (a
// database's connection limit counts a closing one too); a new one is made
// on demand. Connecting also happens outside the lock, so one
// slow connect does not hold up callers that find an idle connection.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mfakit_examples {

template <class Connection>
class connection_pool {
 public:
  using factory = std::function<std::unique_ptr<Connection>()>;  // nullptr: cannot connect
  /// Whether a connection the caller did not mark broken may be reused.
  using reusable_check = bool (*)(const Connection&) noexcept;

  connection_pool(factory make, unsigned max, reusable_check reusable = nullptr)
      : make_(std::move(make)), reusable_(reusable), max_(std::max(1U, max)) {
    idle_.reserve(max_);  // release() is noexcept: its push_back must never allocate
  }

  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool() = default;

  /// Puts an open connection into the pool as an idle one (an adapter keeps
  /// the connection it opened at start-up). Only before the first lease.
  void adopt(std::unique_ptr<Connection> c) {
    if (!c) return;
    const std::lock_guard lock(mutex_);
    idle_.push_back(std::move(c));
    ++open_;
  }

  /// A connection borrowed for one call; false when none could be made.
  class lease {
   public:
    explicit lease(connection_pool& p) : pool_(p), c_(p.acquire()) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() { pool_.release(std::move(c_), broken_); }
    explicit operator bool() const noexcept { return c_ != nullptr; }
    Connection* operator->() const noexcept { return c_.get(); }
    Connection& operator*() const noexcept { return *c_; }
    /// Closes the connection when the lease ends instead of reusing it.
    void broken() noexcept { broken_ = true; }

   private:
    connection_pool& pool_;
    std::unique_ptr<Connection> c_;
    bool broken_ = false;
  };

 private:
  std::unique_ptr<Connection> acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    ++open_;
    lock.unlock();
    std::unique_ptr<Connection> c;
    try {
      c = make_();
    } catch (...) {
      c.reset();
    }
    if (!c) {
      lock.lock();
      --open_;
      available_.notify_one();
    }
    return c;
  }

  void release(std::unique_ptr<Connection> c, bool broken) noexcept {
    if (!c) return;
    const bool keep = !broken && (reusable_ == nullptr || reusable_(*c));
    if (!keep) c.reset();  // closes outside the lock, still counted: `max` bounds closing ones too
    {
      const std::lock_guard lock(mutex_);
      if (keep) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    available_.notify_one();
  }

  factory make_;
  reusable_check reusable_;
  unsigned max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  unsigned open_ = 0;
};

}  // namespace mfakit_examples
