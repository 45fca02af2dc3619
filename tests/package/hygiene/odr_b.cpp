// The second translation unit (see odr_a.cpp). It reaches the same values by
// other routes (a base32 secret, the prepared-key overloads), so the two TUs
// instantiate different templates and inline functions of the same headers.
#include "mfakit_all_headers.hpp"
#include "odr_probe.hpp"

odr_probe odr_probe_b() {
  odr_probe p;
  p.category = &mfakit::error_category();
  p.max_window = &mfakit::max_window;
  // base32 of "12345678901234567890" (RFC 6238 appendix B seed)
  const auto key = mfakit::base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  if (key) {
    const auto prepared = mfakit::otp_key::make(mfakit::algorithm::sha1, *key);
    if (prepared) {
      const auto code = mfakit::hotp(*prepared, 1, 8);  // step of T=59
      p.code = code ? code->to_string() : std::string{};
    }
  }
  const std::error_code ec = mfakit::make_error_code(mfakit::errc::code_replayed);
  p.message = ec.message();
  p.matches_enum = (ec == mfakit::errc::code_replayed);
  return p;
}
