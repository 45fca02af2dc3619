// What each ODR translation unit reports back to odr_main.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

struct odr_probe {
  const std::error_category* category = nullptr;  // must be one object program-wide
  const std::uint32_t* max_window = nullptr;      // an inline variable: one address
  std::string code;                               // RFC 6238 SHA-1, T=59
  std::string message;
  bool matches_enum = false;
};

odr_probe odr_probe_a();
odr_probe odr_probe_b();
