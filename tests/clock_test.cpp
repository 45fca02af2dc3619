// Injected time (clock.hpp).
#include <mfakit/clock.hpp>

#include <chrono>
#include <cstdint>

#include "catch.hpp"

namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

struct fixed_clock {
  system_clock::time_point t;
  [[nodiscard]] system_clock::time_point now() const noexcept { return t; }
};
struct no_now {};
struct non_const_now {
  system_clock::time_point now() { return {}; }  // not callable on a const clock
};
struct wrong_type_now {
  [[nodiscard]] int now() const { return 0; }
};
struct steady_now {
  [[nodiscard]] std::chrono::steady_clock::time_point now() const { return {}; }
};

template <class Duration>
system_clock::time_point at(Duration since_epoch) {
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(since_epoch));
}

}  // namespace

TEST_CASE("clock_source concept", "[clock]") {
  STATIC_REQUIRE(mfakit::clock_source<mfakit::system_clock_source>);
  STATIC_REQUIRE(mfakit::clock_source<fixed_clock>);
  STATIC_REQUIRE_FALSE(mfakit::clock_source<no_now>);
  STATIC_REQUIRE_FALSE(mfakit::clock_source<non_const_now>);
  STATIC_REQUIRE_FALSE(mfakit::clock_source<wrong_type_now>);
  STATIC_REQUIRE_FALSE(mfakit::clock_source<steady_now>);
  STATIC_REQUIRE_FALSE(mfakit::clock_source<int>);
}

TEST_CASE("unix_seconds floors, also before 1970", "[clock]") {
  struct row {
    std::int64_t ms;
    std::int64_t seconds;
  };
  const auto r = GENERATE(row{0, 0}, row{1, 0}, row{999, 0}, row{1000, 1}, row{1999, 1}, row{-1, -1}, row{-999, -1},
                          row{-1000, -1}, row{-1001, -2}, row{-1500, -2}, row{59999, 59},
                          row{1111111111000, 1111111111}, row{4102444800000, 4102444800},
                          // libstdc++'s system_clock counts nanoseconds: +-2^63 ns is about year 1678..2262
                          row{9000000000500, 9000000000}, row{-9000000000500, -9000000001});
  INFO("milliseconds " << r.ms);
  CHECK(mfakit::unix_seconds(at(std::chrono::milliseconds(r.ms))) == r.seconds);
}

TEST_CASE("unix_seconds: a nanosecond either side of a second", "[clock]") {
  CHECK(mfakit::unix_seconds(at(1s - 1ns)) == 0);
  CHECK(mfakit::unix_seconds(at(1s)) == 1);
  CHECK(mfakit::unix_seconds(at(-1ns)) == -1);
  CHECK(mfakit::unix_seconds(at(-1s)) == -1);
  CHECK(mfakit::unix_seconds(at(-1s - 1ns)) == -2);
}

TEST_CASE("system_clock_source follows the wall clock", "[clock]") {
  const mfakit::system_clock_source c;
  const auto before = system_clock::now();
  const auto t = c.now();
  const auto after = system_clock::now();
  CHECK(before <= t);
  CHECK(t <= after);
  const std::int64_t s = mfakit::unix_seconds(t);
  CHECK(s >= mfakit::unix_seconds(before));
  CHECK(s <= mfakit::unix_seconds(after));
  CHECK(s > 1700000000);  // after November 2023
  const fixed_clock f{at(59s)};
  CHECK(mfakit::unix_seconds(f.now()) == 59);
}
