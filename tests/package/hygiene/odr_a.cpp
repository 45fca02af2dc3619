// One of two translation units that include every public header (through the
// generated mfakit_all_headers.hpp) and use the API; linked together with
// odr_b.cpp and odr_main.cpp. A non-inline definition in a header fails the
// link; a per-TU copy of something meant to be unique fails odr_main.
#include "mfakit_all_headers.hpp"
#include "odr_probe.hpp"

odr_probe odr_probe_a() {
  odr_probe p;
  p.category = &mfakit::error_category();
  p.max_window = &mfakit::max_window;
  const auto code = mfakit::totp(mfakit::as_bytes("12345678901234567890"), 59, {mfakit::algorithm::sha1, 8, 30, 0});
  p.code = code ? code->to_string() : std::string{};
  const std::error_code ec = mfakit::errc::code_replayed;
  p.message = ec.message();
  p.matches_enum = (ec == mfakit::errc::code_replayed);
  return p;
}
