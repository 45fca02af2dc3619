// Time is injected: a clock is anything with now() returning a
// system_clock time point, so tests run on a fixed or simulated clock.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>

namespace mfakit {

template <class C>
concept clock_source = requires(const C& c) {
  { c.now() } -> std::convertible_to<std::chrono::system_clock::time_point>;
};

/// The wall clock.
struct system_clock_source {
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept { return std::chrono::system_clock::now(); }
};
static_assert(clock_source<system_clock_source>);

/// Whole Unix seconds of a time point (floor, also before 1970).
[[nodiscard]] inline std::int64_t unix_seconds(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace mfakit
