// Fuzzes COSE key parsing (webauthn/cose_key.hpp): an accepted key is one of
// the three supported kinds, its stored encoding is the input, OpenSSL holds
// a key of the matching type, and a signature check on it runs safely.
#include <mfakit/webauthn/cose_key.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace wa = mfakit::webauthn;
  const mfakit::byte_view in(data, size);
  auto key = wa::cose_key::parse(in);
  if (!key) {
    FUZZ_CHECK(key.error() == mfakit::errc::webauthn_malformed || key.error() == mfakit::errc::webauthn_unsupported ||
               key.error() == mfakit::errc::crypto_failure);
    return 0;
  }
  FUZZ_CHECK(key->encoded().size() == size && std::equal(key->encoded().begin(), key->encoded().end(), data));
  FUZZ_CHECK(key->native() != nullptr);
  switch (key->alg()) {
    case wa::cose_alg::es256:
      FUZZ_CHECK(EVP_PKEY_is_a(key->native(), "EC") == 1 && EVP_PKEY_get_bits(key->native()) == 256);
      FUZZ_CHECK(key->ec_point()[0] == 0x04);
      break;
    case wa::cose_alg::eddsa: FUZZ_CHECK(EVP_PKEY_is_a(key->native(), "ED25519") == 1); break;
    case wa::cose_alg::rs256:
      FUZZ_CHECK(EVP_PKEY_is_a(key->native(), "RSA") == 1 && EVP_PKEY_get_bits(key->native()) >= 2048);
      break;
  }
  // nothing the fuzzer writes is a valid signature over this message
  FUZZ_CHECK(!key->verify(in, in.first(size / 2), in.last(size < 64 ? size : 64)));
  return 0;
}
