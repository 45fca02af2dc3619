// detail::write_id_pool, the source of the write ids that tell a service's
// writes apart: unique across threads, never held up by another thread's
// refill, and never the parent's ids in a forked child.
#include <mfakit/crypto.hpp>
#include <mfakit/detail/write_id_pool.hpp>
#include <mfakit/records.hpp>

#include <sys/wait.h>
#include <unistd.h>

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
  void wait_until_first_fill_entered() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return first_entered_; });
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
  // per 1000 calls). Here the refill never ends until the second thread got
  // its id, so with one lock the second thread waits for good.
  mfakit::detail::write_id_pool pool;
  gated_random rng;
  auto refilling = std::async(std::launch::async, [&] {
    mfakit::write_id id{};
    return pool.next(rng, id);
  });
  rng.wait_until_first_fill_entered();
  auto other = std::async(std::launch::async, [&] {
    mfakit::write_id id{};
    return pool.next(rng, id);
  });
  const bool other_finished = other.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  rng.release();  // lets both finish whatever happened, so the test ends
  CHECK(other_finished);
  CHECK(other.get());
  CHECK(refilling.get());
}

TEST_CASE("a forked child never hands out its parent's buffered write ids", "[write_id]") {
  mfakit::detail::write_id_pool pool;
  mfakit::openssl_random rng;
  mfakit::write_id first{};
  REQUIRE(pool.next(rng, first));  // this thread's stripe now holds 63 unused ids

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    mfakit::write_id in_child{};
    const bool ok = pool.next(rng, in_child);
    const auto written = ::write(fds[1], in_child.data(), in_child.size());
    ::_exit(ok && written == static_cast<ssize_t>(in_child.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  mfakit::write_id from_child{};
  std::size_t got = 0;
  while (got < from_child.size()) {
    const auto n = ::read(fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == from_child.size());

  mfakit::write_id in_parent{};
  REQUIRE(pool.next(rng, in_parent));  // the parent's next buffered id
  CHECK(hex(from_child) != hex(in_parent));
  CHECK(hex(from_child) != hex(first));
}
