// Fuzzes normalize_code against its specification: the first input byte
// picks the digit count (including invalid ones), the rest is the typed code.
// Accepted exactly when, with ASCII spaces removed, it is `digits` ASCII
// digits; the result is then those digits.
#include <mfakit/otp.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int digits = static_cast<int>(data[0] % 12);  // 0..11: 6, 7, 8 valid
  const std::string_view input(reinterpret_cast<const char*>(data + 1),
                               size - 1);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  auto code = mfakit::normalize_code(input, digits);

  if (digits < mfakit::min_digits || digits > mfakit::max_digits) {
    FUZZ_CHECK(!code && code.error() == mfakit::errc::invalid_argument);
    return 0;
  }
  std::string stripped;
  bool only_digits = true;
  for (char c : input) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') only_digits = false;
    stripped.push_back(c);
  }
  const bool valid = only_digits && stripped.size() == static_cast<std::size_t>(digits);
  FUZZ_CHECK(code.has_value() == valid);
  if (!code) {
    FUZZ_CHECK(code.error() == mfakit::errc::malformed_code);
    return 0;
  }
  FUZZ_CHECK(code->size() == static_cast<std::size_t>(digits));
  FUZZ_CHECK(code->str() == stripped);
  // normalising the normal form changes nothing
  auto again = mfakit::normalize_code(code->str(), digits);
  FUZZ_CHECK(again.has_value() && again->str() == code->str());
  return 0;
}
