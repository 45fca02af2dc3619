// Integers written as decimal text into a string, for the few places where
// the headers build text (key URIs, JSON bodies): std::to_chars, so that no
// header needs fmt's formatting core (most of a translation unit's compile
// time went into instantiating it).
#pragma once

#include <array>
#include <charconv>
#include <concepts>
#include <string>
#include <system_error>

namespace mfakit::detail {

template <std::integral T>
void append_decimal(std::string& out, T value) {
  std::array<char, 24> buf{};  // enough for any 64-bit integer with its sign
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (r.ec == std::errc{}) out.append(buf.data(), r.ptr);
}

}  // namespace mfakit::detail
