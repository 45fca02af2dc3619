// Fuzzes the clientDataJSON reader and checks (webauthn/client_data.hpp):
// an accepted input is well-formed UTF-8 JSON with the three members as
// strings; the checks run on anything read; the one well-known challenge
// and origin pass exactly when the input says them.
#include <mfakit/webauthn/client_data.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wa = mfakit::webauthn;
  const mfakit::byte_view in(data, size);
  wa::check why = wa::check::none;
  auto c = wa::parse_client_data(in, &why);
  if (!c) {
    FUZZ_CHECK(why == wa::check::client_data_json);
    return 0;
  }
  FUZZ_CHECK(mfakit::webauthn::detail::valid_utf8(in));
  FUZZ_CHECK(c->challenge.size() <= wa::max_challenge_bytes);
  wa::relying_party rp;
  rp.id = "example.org";
  rp.origins = {"https://example.org"};
  static const unsigned char expected[] = {'f', 'u', 'z', 'z'};  // base64url "ZnV6eg"
  auto r = wa::check_client_data(*c, "webauthn.get", expected, rp, &why);
  const bool should = c->type == "webauthn.get" && c->challenge.size() == 4 &&
                      std::equal(c->challenge.begin(), c->challenge.end(), expected) && c->origin == "https://example.org" &&
                      !c->cross_origin && !c->top_origin;
  FUZZ_CHECK(r.has_value() == should);
  return 0;
}
