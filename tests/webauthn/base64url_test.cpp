// Base64url without padding: RFC 4648 §10 vectors (in the URL alphabet),
// and strict decoding.
#include <mfakit/webauthn/base64url.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"

namespace wa = mfakit::webauthn;

TEST_CASE("base64url: RFC 4648 vectors round trip", "[webauthn][base64url]") {
  struct v {
    std::string_view plain, encoded;
  };
  for (const v& c : {v{"", ""}, v{"f", "Zg"}, v{"fo", "Zm8"}, v{"foo", "Zm9v"}, v{"foob", "Zm9vYg"},
                     v{"fooba", "Zm9vYmE"}, v{"foobar", "Zm9vYmFy"}}) {
    CHECK(wa::base64url_encode(mfakit::as_bytes(c.plain)) == c.encoded);
    auto d = wa::base64url_decode(c.encoded);
    REQUIRE(d);
    CHECK(std::string(d->begin(), d->end()) == c.plain);
  }
  const std::vector<unsigned char> all{0xFB, 0xFF, 0xBF, 0x00, 0x3E, 0x3F};
  CHECK(wa::base64url_encode(all) == "-_-_AD4_");
  CHECK(*wa::base64url_decode("-_-_AD4_") == all);
}

TEST_CASE("base64url: anything but the one encoding is refused", "[webauthn][base64url]") {
  for (std::string_view bad : {"Zg==", "Zm8=", "Z", "Zm9vY", "Zm9v+g", "Zm9v/g", "Zm 9v", "Zm9v\n", "Zh", "Zm9", "Zm-",
                               "Zm9vYh", "\xC3\xA9"}) {
    INFO(bad);
    CHECK(wa::base64url_decode(bad).error() == mfakit::errc::webauthn_malformed);
  }
  CHECK(wa::base64url_decode("Zm9vYmFy", 5).error() == mfakit::errc::webauthn_malformed);  // over the size limit
  CHECK(wa::base64url_decode("Zm9vYmFy", 6));
}
