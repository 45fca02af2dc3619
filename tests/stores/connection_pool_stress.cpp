// Stress check of connection_pool.hpp (no database): many threads lease,
// some mark the connection broken, some leave it in a state the reuse hook
// repairs (kept) or cannot repair (closed), the factory fails or throws now
// and then, and closing a connection takes a moment (as a database's goodbye
// does). Checks that no more than `max` connections ever exist at once in
// this process, closing ones included, or are leased at once, that no
// connection is leased twice at the same time, that a connection the hook
// repaired is reused and one it refused is not, that every connection made
// is destroyed, and that nothing hangs. Then adopt(): one beyond `max` is
// closed, and an adopted connection passes to a caller waiting for it. Under
// TSan:
//   g++ -std=c++20 -O1 -g -fsanitize=thread -I include
//       tests/stores/connection_pool_stress.cpp -o /tmp/pool_stress && /tmp/pool_stress
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <mfakit/stores/detail/connection_pool.hpp>

namespace {
std::atomic<int> alive{0}, max_alive{0}, made{0};

struct conn {
  std::atomic<int> users{0};
  bool in_tx = false;  // the hook rolls it back and keeps the connection
  bool stuck = false;  // the hook cannot repair it: closed
  conn() {
    const int a = ++alive;
    int m = max_alive.load();
    while (a > m && !max_alive.compare_exchange_weak(m, a)) {
    }
    ++made;
  }
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;
  ~conn() {
    if (stuck) std::this_thread::sleep_for(std::chrono::microseconds(20));  // a slow close
    --alive;
  }
};

std::atomic<int> repaired{0};
bool ready_for_reuse(conn& c) noexcept {
  if (c.stuck) return false;
  if (c.in_tx) {
    c.in_tx = false;
    ++repaired;
  }
  return true;
}

// adopt(): beyond `max` the connection is closed; an adopted one is handed
// from caller to caller. Returns the number of problems.
int check_adopt() {
  int problems = 0;
  {
    mfakit::stores::detail::connection_pool<conn> pool([] { return std::unique_ptr<conn>(); }, 2);  // cannot connect
    const int before = alive.load();
    for (int i = 0; i < 3; ++i) pool.adopt(std::make_unique<conn>());
    if (alive.load() - before != 2) {
      std::printf("adopt: %d connections alive after adopting 3 into a pool of 2\n", alive.load() - before);
      ++problems;
    }
  }
  {
    mfakit::stores::detail::connection_pool<conn> pool([] { return std::unique_ptr<conn>(); }, 1);
    pool.adopt(std::make_unique<conn>());
    std::atomic<bool> served{false};
    std::optional<mfakit::stores::detail::connection_pool<conn>::lease> held;
    held.emplace(pool);
    // the only slot is taken: a second caller waits (the factory is never
    // asked), until the holder's connection comes back
    std::thread waiter([&] {
      const mfakit::stores::detail::connection_pool<conn>::lease c(pool);
      served = static_cast<bool>(c);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (served.load()) ++problems;  // it did not wait
    held.reset();
    waiter.join();
    if (!served.load()) {
      std::puts("adopt: the waiting caller got no connection");
      ++problems;
    }
  }
  return problems;
}
}  // namespace

int main() {
  constexpr unsigned max = 4;
  constexpr int threads = 16, iterations = 20000;
  std::atomic<unsigned> fail_counter{0};
  int problems = 0;
  {
    mfakit::stores::detail::connection_pool<conn> pool(
        [&]() -> std::unique_ptr<conn> {
          const unsigned n = ++fail_counter;
          if (n % 7 == 0) return nullptr;
          if (n % 11 == 0) throw std::runtime_error("cannot connect");
          return std::make_unique<conn>();
        },
        max, &ready_for_reuse);
    pool.adopt(std::make_unique<conn>());
    std::atomic<int> leased{0}, max_leased{0}, double_lease{0}, unrepaired{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        for (int i = 0; i < iterations; ++i) {
          mfakit::stores::detail::connection_pool<conn>::lease c(pool);
          if (!c) continue;
          if (++c->users != 1) ++double_lease;
          const int l = ++leased;
          int m = max_leased.load();
          while (l > m && !max_leased.compare_exchange_weak(m, l)) {
          }
          if (c->in_tx || c->stuck) ++unrepaired;  // handed out without the hook's repair, or refused yet kept
          switch (rng() % 10) {
            case 0: c.broken(); break;
            case 1: c->in_tx = true; break;  // repaired by the hook, kept
            case 2: c->stuck = true; break;  // refused by the hook, closed
            default: break;
          }
          if (rng() % 64 == 0) std::this_thread::yield();
          --leased;
          --c->users;
        }
      });
    }
    for (auto& th : ts) th.join();
    std::printf(
        "made %d connections, at most %d in existence (closing ones included), at most %d leased at once, %d double "
        "leases\n",
        made.load(), max_alive.load(), max_leased.load(), double_lease.load());
    if (max_leased.load() > static_cast<int>(max)) ++problems;
    if (max_alive.load() > static_cast<int>(max)) ++problems;
    if (double_lease.load() != 0) ++problems;
    std::printf("handed out unrepaired or refused: %d\n", unrepaired.load());
    if (unrepaired.load() != 0) ++problems;
  }
  std::printf("repaired by the reuse hook and kept: %d\n", repaired.load());
  if (repaired.load() == 0) ++problems;
  problems += check_adopt();
  std::printf("alive after the pools: %d\n", alive.load());
  if (alive.load() != 0) ++problems;
  std::puts(problems == 0 ? "pool stress: ok" : "pool stress: FAILED");
  return problems == 0 ? 0 : 1;
}
