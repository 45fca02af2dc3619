// Fuzzes attestation objects through the whole registration (webauthn/
// attestation.hpp, verify.hpp): the first byte picks the policy, the rest is
// the attestation object, verified against fixed client data. Whatever
// passes must be a format the policy takes, with a key and credential ID
// from inside the input; nothing may crash or leak.
#include <mfakit/webauthn.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wa = mfakit::webauthn;
  if (size < 1) return 0;
  const unsigned mode = data[0];
  const mfakit::byte_view obj(data + 1, size - 1);
  // parse alone, then the statement over a fixed client data hash
  wa::check why = wa::check::none;
  auto parsed = wa::parse_attestation_object(obj, &why);
  if (!parsed) {
    FUZZ_CHECK(why != wa::check::none);
    return 0;
  }
  FUZZ_CHECK(parsed->auth_data.attested.has_value());
  wa::attestation_policy ap;
  ap.unsupported_formats_as_none = (mode & 1U) != 0;
  const mfakit::sha256_digest cdh{};
  auto att = wa::verify_attestation(*parsed, cdh, ap, &why);
  if (att) {
    const std::string_view f = att->fmt;
    FUZZ_CHECK(f == parsed->fmt);
    if (!ap.unsupported_formats_as_none) FUZZ_CHECK(f == "none" || f == "packed" || f == "fido-u2f");
    FUZZ_CHECK(!att->trusted);  // no anchors given
  }
  // and through verify_registration with client data that passes its checks
  static const std::string_view client =
      R"({"type":"webauthn.create","challenge":"ZnV6eg","origin":"https://example.org","crossOrigin":false})";
  static const unsigned char challenge[] = {'f', 'u', 'z', 'z'};
  wa::relying_party rp;
  rp.id = "example.org";
  rp.origins = {"https://example.org"};
  wa::registration_policy pol;
  pol.require_user_verification = (mode & 2U) != 0;
  pol.attestation = ap;
  auto reg = wa::verify_registration(rp, {mfakit::as_bytes(client), obj, challenge, {}}, pol, &why);
  if (reg) {
    FUZZ_CHECK(!reg->id.empty() && reg->id.size() <= wa::max_credential_id_bytes);
    FUZZ_CHECK(std::search(obj.begin(), obj.end(), reg->id.begin(), reg->id.end()) != obj.end());
    FUZZ_CHECK(!pol.require_user_verification || reg->user_verified);
  }
  return 0;
}
