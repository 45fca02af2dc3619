// A small pool of database connections, shared by the store components
// (mfakit/stores/sqlite.hpp, mfakit/stores/postgresql.hpp) and by hosts that
// keep their own tables on the same database: one connection per concurrent
// caller up to `max`, callers beyond that wait for a free one. All of it may
// be used from any number of threads at once. Needs only the standard library.
//
// A connection goes back to the pool when its lease ends, unless the caller
// marked it broken or the pool's `reuse` hook cannot make it fit for the next
// caller (the stores' hooks roll back a transaction left open, so an
// early return or an exception inside one costs a round trip, not a new
// connection); such a one is closed, outside the lock, and only then counted
// out, so the connections this process holds open or is closing never exceed
// `max`. (A database server may count a closed connection a moment longer:
// PostgreSQL's backend exits after the client has gone. Size `max` below the
// server's limit, with room for that.) A new one is made on demand.
// Connecting also happens outside the lock, so one slow connect does not hold
// up callers that find an idle connection.
#pragma once

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

namespace mfakit::stores::detail {

template <class Connection>
class connection_pool {
  static_assert(std::is_nothrow_destructible_v<Connection>, "closing a connection happens in a noexcept release");

 public:
  using factory = std::function<std::unique_ptr<Connection>()>;  // nullptr: cannot connect
  /// Called, outside the lock, on a connection whose lease ended and that the
  /// caller did not mark broken: makes it fit for the next caller if it can
  /// (say, rolls back a transaction left open) and says whether it is.
  using reuse_hook = bool (*)(Connection&) noexcept;

  connection_pool(factory make, unsigned max, reuse_hook reuse = nullptr)
      : make_(std::move(make)), reuse_(reuse), max_(std::max(1U, max)) {
    idle_.reserve(max_);  // release() is noexcept: its push_back must never allocate
  }

  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;
  ~connection_pool() {
    // every lease ended first: a lease that outlived its pool would hand its
    // connection back to freed memory
    assert(idle_.size() == open_);
  }

  /// Puts an open connection into the pool as an idle one (an adapter keeps
  /// the connection it opened at start-up). One beyond `max` is closed. (No
  /// caller can be waiting while a slot is free, so there is none to wake.)
  void adopt(std::unique_ptr<Connection> c) {
    if (!c) return;
    const std::lock_guard lock(mutex_);
    if (open_ >= max_) return;  // `c` closes after the lock
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
    const bool keep = !broken && (reuse_ == nullptr || reuse_(*c));
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
  reuse_hook reuse_;
  unsigned max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  unsigned open_ = 0;
};

}  // namespace mfakit::stores::detail
