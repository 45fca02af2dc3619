// Helpers the WebAuthn suites share: hex, the specification's relying party.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <mfakit/webauthn.hpp>

namespace wa_test {

inline std::vector<unsigned char> unhex(std::string_view h) {
  std::vector<unsigned char> out;
  auto nib = [](char c) -> unsigned { return c <= '9' ? static_cast<unsigned>(c - '0') : static_cast<unsigned>(c - 'a' + 10); };
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<unsigned char>((nib(h[i]) << 4U) | nib(h[i + 1])));
  return out;
}

inline std::string hex(mfakit::byte_view b) {
  std::string s;
  mfakit::append_hex(s, b);
  return s;
}

/// The relying party of the specification's test vectors.
inline mfakit::webauthn::relying_party spec_rp() {
  mfakit::webauthn::relying_party rp;
  rp.id = "example.org";
  rp.origins = {"https://example.org"};
  return rp;
}

}  // namespace wa_test
