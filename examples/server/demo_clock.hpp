// The demo server's clock: the wall clock, or a test hook that shifts or
// pins it from a file (--clock-offset-file), so tests expire challenges,
// throttles and JWTs without sleeping.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include <mfakit/clock.hpp>

namespace mfakit_examples::demo {

/// The wall clock, or (TEST/DEMO HOOK ONLY) what a file says, read on every
/// call: "N" shifts the wall clock by N seconds, "@T" pins it at Unix time T.
/// Tests so expire challenges, throttles and JWTs without sleeping.
struct demo_clock {
  std::shared_ptr<const std::string> file;

  [[nodiscard]] std::chrono::system_clock::time_point now() const {
    auto t = std::chrono::system_clock::now();
    if (!file || file->empty()) return t;
    std::ifstream in(*file);
    std::string text;
    if (!(in >> text) || text.empty()) return t;
    const bool pinned = text[0] == '@';
    long long v = 0;
    const char* first = text.data() + (pinned ? 1 : 0);
    auto [p, ec] = std::from_chars(first, text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size()) return t;
    if (pinned) return std::chrono::system_clock::time_point(std::chrono::seconds(v));
    return t + std::chrono::seconds(v);
  }
  [[nodiscard]] std::int64_t seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};
static_assert(mfakit::clock_source<demo_clock>);


}  // namespace mfakit_examples::demo
