// Fuzzes http::parse_factor, the verify body's "type": exactly "" and "totp"
// give factor::totp, exactly "backup" and "backup_code" factor::backup_code;
// anything else (other case, spaces, a NUL, a prefix) is invalid_argument.
#include <mfakit/http.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view type(reinterpret_cast<const char*>(data),
                              size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  const auto f = mfakit::http::parse_factor(type);
  if (type.empty() || type == "totp") {
    FUZZ_CHECK(f.has_value() && *f == mfakit::factor::totp);
  } else if (type == "backup" || type == "backup_code") {
    FUZZ_CHECK(f.has_value() && *f == mfakit::factor::backup_code);
  } else {
    FUZZ_CHECK(!f.has_value() && f.error() == mfakit::errc::invalid_argument);
  }
  return 0;
}
