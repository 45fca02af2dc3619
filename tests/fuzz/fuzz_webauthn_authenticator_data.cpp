// Fuzzes authenticator data parsing (webauthn/authenticator_data.hpp): an
// accepted input is exactly its parts (header, attested credential data with
// its COSE key, extensions) with nothing left over, each flag agreeing with
// the part it announces.
#include <mfakit/webauthn/authenticator_data.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wa = mfakit::webauthn;
  const mfakit::byte_view in(data, size);
  wa::check why = wa::check::none;
  auto ad = wa::parse_authenticator_data(in, &why);
  if (!ad) {
    FUZZ_CHECK(why != wa::check::none);
    return 0;
  }
  FUZZ_CHECK(why == wa::check::none);
  FUZZ_CHECK(size >= wa::authenticator_data_header_bytes);
  FUZZ_CHECK(ad->flags == data[32]);
  FUZZ_CHECK(ad->attested.has_value() == ((data[32] & wa::flag::at) != 0));
  FUZZ_CHECK(ad->extensions.has_value() == ((data[32] & wa::flag::ed) != 0));
  std::vector<unsigned char> again(data, data + wa::authenticator_data_header_bytes);
  if (ad->attested) {
    const auto& a = *ad->attested;
    FUZZ_CHECK(!a.credential_id.empty() && a.credential_id.size() <= wa::max_credential_id_bytes);
    again.insert(again.end(), a.aaguid.begin(), a.aaguid.end());
    again.push_back(static_cast<unsigned char>(a.credential_id.size() >> 8U));
    again.push_back(static_cast<unsigned char>(a.credential_id.size() & 0xFFU));
    again.insert(again.end(), a.credential_id.begin(), a.credential_id.end());
    again.insert(again.end(), a.public_key.encoded().begin(), a.public_key.encoded().end());
  }
  if (ad->extensions) {
    FUZZ_CHECK(ad->extensions->type == wa::cbor_item::kind::map);
    again.insert(again.end(), ad->extensions->encoded.begin(), ad->extensions->encoded.end());
  }
  FUZZ_CHECK(again.size() == size && std::equal(again.begin(), again.end(), data));
  return 0;
}
