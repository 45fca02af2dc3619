// Fuzzes backup_code::parse against its specification: surrounding spaces,
// tabs, CR and LF ignored; then either 8 symbols or 4 + '-' + 4, each symbol
// from the 31-character alphabet in either letter case. An accepted code is
// "xxxx-xxxx" in lower case, and parsing that gives the same code.
#include <mfakit/backup_codes.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {
/// The model: the eight lower-case symbols of an acceptable input, or nothing.
std::optional<std::string> model(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  std::string symbols;
  if (s.size() == 9) {
    if (s[4] != '-') return std::nullopt;
    symbols = std::string(s.substr(0, 4)) + std::string(s.substr(5));
  } else if (s.size() == 8) {
    symbols = std::string(s);
  } else {
    return std::nullopt;
  }
  for (char& c : symbols) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (mfakit::backup_code_alphabet.find(c) == std::string_view::npos) return std::nullopt;
  }
  return symbols;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data),
                               size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  auto code = mfakit::backup_code::parse(input);
  const auto expected = model(input);
  FUZZ_CHECK(code.has_value() == expected.has_value());
  if (!code) {
    FUZZ_CHECK(code.error() == mfakit::errc::malformed_code);
    return 0;
  }
  const std::string_view shown = code->str();
  FUZZ_CHECK(shown.size() == 9 && shown[4] == '-');
  FUZZ_CHECK(std::string(shown.substr(0, 4)) + std::string(shown.substr(5)) == *expected);
  const auto sym = code->symbols();
  FUZZ_CHECK(std::string_view(sym.data(), sym.size()) == *expected);
  auto again = mfakit::backup_code::parse(shown);
  FUZZ_CHECK(again.has_value() && again->str() == shown);
  return 0;
}
