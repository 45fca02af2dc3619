// Stress check of connection_pool.hpp (no database): many threads lease,
// some mark the connection broken, some are refused by the reuse check, the
// factory fails or throws now and then, and closing a connection takes a
// moment (as a database's goodbye does). Checks that no more than `max`
// connections ever exist at once, closing ones included (a server's
// connection limit counts those too), or are leased at once, that no
// connection is leased twice at the same time, that every connection made is
// destroyed, and that nothing hangs. Under TSan:
//   g++ -std=c++20 -O1 -g -fsanitize=thread -I examples/server
//       examples/server/tests/connection_pool_stress.cpp -o /tmp/pool_stress && /tmp/pool_stress
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "connection_pool.hpp"

namespace {
std::atomic<int> alive{0}, max_alive{0}, made{0};

struct conn {
  std::atomic<int> users{0};
  bool in_tx = false;
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
    if (in_tx) std::this_thread::sleep_for(std::chrono::microseconds(20));  // a slow close
    --alive;
  }
};

bool reusable(const conn& c) noexcept { return !c.in_tx; }
}  // namespace

int main() {
  constexpr unsigned max = 4;
  constexpr int threads = 16, iterations = 20000;
  std::atomic<unsigned> fail_counter{0};
  int problems = 0;
  {
    mfakit_examples::connection_pool<conn> pool(
        [&]() -> std::unique_ptr<conn> {
          const unsigned n = ++fail_counter;
          if (n % 7 == 0) return nullptr;
          if (n % 11 == 0) throw std::runtime_error("cannot connect");
          return std::make_unique<conn>();
        },
        max, &reusable);
    pool.adopt(std::make_unique<conn>());
    std::atomic<int> leased{0}, max_leased{0}, double_lease{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        for (int i = 0; i < iterations; ++i) {
          mfakit_examples::connection_pool<conn>::lease c(pool);
          if (!c) continue;
          if (++c->users != 1) ++double_lease;
          const int l = ++leased;
          int m = max_leased.load();
          while (l > m && !max_leased.compare_exchange_weak(m, l)) {
          }
          switch (rng() % 10) {
            case 0: c.broken(); break;
            case 1: c->in_tx = true; break;  // refused by the reuse check
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
  }
  std::printf("alive after the pool: %d\n", alive.load());
  if (alive.load() != 0) ++problems;
  std::puts(problems == 0 ? "pool stress: ok" : "pool stress: FAILED");
  return problems == 0 ? 0 : 1;
}
