// The demo server's KDF pool (fair_pool.hpp): what its queue order rests on.
#include <catch.hpp>

#include <sched.h>

#include <array>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "fair_pool.hpp"

namespace {
using mfakit_examples::fair_pool;

fair_pool::options one_thread() {
  fair_pool::options o;
  o.threads = 1;
  o.nice = 19;  // a pool thread that loses the CPU to the resumed coroutine, as under load
  return o;
}
}  // namespace

TEST_CASE("fair pool: a job credited back when its caller resumes leaves its keys no load, one not credited keeps one job of load") {
  // one CPU for this thread and the pool's (created below, they inherit it): the pool thread's
  // answer wakes this thread, which then takes the CPU from it (nice 19) at once, as a loaded
  // server's io threads do, before the pool thread books the job
  cpu_set_t one_cpu;
  CPU_ZERO(&one_cpu);
  CPU_SET(static_cast<unsigned>(sched_getcpu()), &one_cpu);
  REQUIRE(sched_setaffinity(0, sizeof one_cpu, &one_cpu) == 0);
  fair_pool pool(one_thread());
  boost::asio::io_context io;
  int charged = 0;  // credited jobs whose charge was booked after their credit (then it stuck)
  int answered = 0;
  double failed_load = 0;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        const std::array<std::string, 2> good{"net:a", "user:a"};
        for (int i = 0; i < 200; ++i) {
          auto r = co_await pool.run(good, [] { return 1; });
          if (r.value) ++answered;
          pool.credit(good);  // a right password: the work was useful
          if (pool.load("user:a") > 0.01 || pool.load("net:a") > 0.01) ++charged;
        }
        const std::array<std::string, 2> bad{"net:b", "user:b"};
        (void)co_await pool.run(bad, [] { return 1; });
        failed_load = pool.load("user:b");
      },
      boost::asio::detached);
  io.run();
  CHECK(answered == 200);
  CHECK(charged == 0);
  CHECK(failed_load > 0.99);
  CHECK(failed_load < 1.01);
  CHECK(pool.ran() == 201);
  pool.join();
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
  (void)sched_setaffinity(0, sizeof all, &all);  // the other test cases as before
}
