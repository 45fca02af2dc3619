// detail::write_id_pool, the source of the write ids that tell a service's
// writes apart: unique across threads, never held up by another thread's
// refill, and never the parent's ids in a forked child.
#include <mfakit/crypto.hpp>
#include <mfakit/detail/write_id_pool.hpp>
#include <mfakit/records.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <future>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"

namespace {

std::string hex(const mfakit::write_id& id) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : id) {
    out += digits[b >> 4U];
    out += digits[b & 15U];
  }
  return out;
}

// OpenSSL's generator, except that the first fill waits until the test
// releases it: a thread refilling its stripe stays inside the refill, with
// its stripe's lock held, for as long as the test wants.
class gated_random {
 public:
  [[nodiscard]] bool fill(std::span<unsigned char> out) {
    {
      std::unique_lock lock(mutex_);
      if (!first_done_) {
        first_done_ = true;
        first_entered_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return released_; });
      }
    }
    return mfakit::openssl_random{}.fill(out);
  }
  [[nodiscard]] bool wait_until_first_fill_entered() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return first_entered_; });
  }
  void release() {
    const std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool first_done_ = false;
  bool first_entered_ = false;
  bool released_ = false;
};

}  // namespace

TEST_CASE("write ids drawn concurrently on many threads are all distinct", "[write_id]") {
  mfakit::detail::write_id_pool pool;
  mfakit::openssl_random rng;
  constexpr std::size_t threads = 12;  // more threads than stripes: some share one
  constexpr std::size_t per_thread = 1000;
  std::vector<std::vector<mfakit::write_id>> drawn(threads);
  std::vector<char> all_drawn(threads, 0);  // Catch's assertions stay on this thread
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        drawn[t].resize(per_thread);
        bool ok = true;
        for (auto& id : drawn[t]) ok = pool.next(rng, id) && ok;
        all_drawn[t] = ok ? 1 : 0;
      });
    }
  }
  for (const char ok : all_drawn) REQUIRE(ok == 1);
  std::set<std::string> seen;
  for (const auto& ids : drawn)
    for (const auto& id : ids) seen.insert(hex(id));
  CHECK(seen.size() == threads * per_thread);
}

TEST_CASE("a thread refilling its write ids does not hold up another thread writing concurrently", "[write_id]") {
  // One lock per pool, held across the refill, made every writer wait for
  // whichever thread was refilling (a verify on 2 threads blocked ~10 times
  // per 1000 calls). Here the refill never ends until the last thread got its
  // id, so a writer that waits for it waits for good. Threads take home
  // stripes in turn; after the refilling thread, seven short-lived threads
  // write, so the last thread's home stripe is the refilling thread's own.
  mfakit::detail::write_id_pool pool;
  gated_random rng;
  auto refilling = std::async(std::launch::async, [&] {
    mfakit::write_id id{};
    return pool.next(rng, id);
  });
  // Released on every way out of this test, before the futures' destructors
  // wait for their threads.
  struct release_at_exit {
    gated_random& rng;
    ~release_at_exit() { rng.release(); }
  };
  std::vector<std::future<bool>> others;
  const release_at_exit releaser{rng};
  REQUIRE(rng.wait_until_first_fill_entered());
  for (std::size_t i = 0; i < mfakit::detail::write_id_pool::stripes; ++i) {
    others.push_back(std::async(std::launch::async, [&] {
      mfakit::write_id id{};
      return pool.next(rng, id);
    }));
    if (i + 1 < mfakit::detail::write_id_pool::stripes) others.back().wait_for(std::chrono::seconds(10));
  }
  std::vector<char> finished;
  for (auto& f : others) finished.push_back(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready ? 1 : 0);
  rng.release();  // lets every thread finish whatever happened, so the test ends
  for (std::size_t i = 0; i < others.size(); ++i) {
    INFO("writer " << i + 1 << " of " << others.size() << " after the refilling thread");
    CHECK(finished[i] == 1);
    CHECK(others[i].get());
  }
  CHECK(refilling.get());
}

namespace {
// Draws one write id on each of `n` fresh threads (each starts from a home
// stripe of its own, or a free one) and one on this thread.
std::vector<std::string> draw_on_fresh_threads(mfakit::detail::write_id_pool& pool, mfakit::openssl_random& rng,
                                               std::size_t n, bool& ok) {
  std::vector<mfakit::write_id> ids(n + 1);
  std::vector<char> drawn(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    std::thread([&, i] { drawn[i] = pool.next(rng, ids[i]) ? 1 : 0; }).join();
  }
  drawn[n] = pool.next(rng, ids[n]) ? 1 : 0;
  ok = std::all_of(drawn.begin(), drawn.end(), [](char c) { return c == 1; });
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(hex(id));
  return out;
}

// Forks a child that draws on fresh threads and sends its ids back.
std::vector<std::string> draw_in_child(mfakit::detail::write_id_pool& pool, mfakit::openssl_random& rng,
                                       std::size_t n) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {};
  }
  if (child == 0) {
    try {  // nothing may escape into the test runner in the child
      ::close(fds[0]);
      bool ok = false;
      const auto ids = draw_on_fresh_threads(pool, rng, n, ok);
      std::string all;
      for (const auto& id : ids) all += id + "\n";
      const auto written = ::write(fds[1], all.data(), all.size());
      ::_exit(ok && written == static_cast<ssize_t>(all.size()) ? 0 : 1);
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(fds[1]);
  std::string all;
  char buf[512];
  for (;;) {
    const auto got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0) break;
    all.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  std::vector<std::string> ids;
  for (std::size_t start = 0, end = 0; (end = all.find('\n', start)) != std::string::npos; start = end + 1)
    ids.push_back(all.substr(start, end - start));
  return ids;
}
}  // namespace

TEST_CASE("a forked child never hands out its parent's buffered write ids", "[write_id]") {
  // The parent fills every stripe (a thread per stripe, then this one), so
  // each holds unused ids; two children and the parent then draw from every
  // stripe, each starting from the same home stripes (the children inherit
  // the parent's count of threads). No id may be drawn twice.
  constexpr std::size_t n = mfakit::detail::write_id_pool::stripes + 1;
  mfakit::detail::write_id_pool pool;
  mfakit::openssl_random rng;
  bool ok = false;
  const auto before = draw_on_fresh_threads(pool, rng, n, ok);
  REQUIRE(ok);

  const auto child_a = draw_in_child(pool, rng, n);
  const auto child_b = draw_in_child(pool, rng, n);
  REQUIRE(child_a.size() == n + 1);
  REQUIRE(child_b.size() == n + 1);
  const auto parent = draw_on_fresh_threads(pool, rng, n, ok);
  REQUIRE(ok);

  std::set<std::string> seen;
  for (const auto* ids : {&before, &child_a, &child_b, &parent})
    for (const auto& id : *ids) seen.insert(id);
  CHECK(seen.size() == 4 * (n + 1));
}
