// clientDataJSON: the strict reader and the checks against the host's RP.
#include <mfakit/webauthn/client_data.hpp>

#include <string>
#include <vector>

#include "catch.hpp"

namespace wa = mfakit::webauthn;
using mfakit::errc;

namespace {
std::vector<unsigned char> b(std::string_view s) { return {s.begin(), s.end()}; }
const std::vector<unsigned char> challenge{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
wa::relying_party rp() {
  wa::relying_party r;
  r.id = "example.test";
  r.origins = {"https://example.test", "android:apk-key-hash:abc"};
  return r;
}
}  // namespace

TEST_CASE("client data: read, then checked", "[webauthn][client_data]") {
  const std::string ch = wa::base64url_encode(challenge);
  auto c = wa::parse_client_data(b("{\"type\":\"webauthn.get\",\"challenge\":\"" + ch +
                                   "\",\"origin\":\"https://example.test\",\"crossOrigin\":false,\"x\":{\"y\":[1,\"\\u00e9\\ud83d\\ude00\"]}}"));
  REQUIRE(c);
  CHECK(c->type == "webauthn.get");
  CHECK(c->challenge == challenge);
  CHECK_FALSE(c->cross_origin);
  CHECK(wa::check_client_data(*c, "webauthn.get", challenge, rp()));
  wa::check why = wa::check::none;
  CHECK(wa::check_client_data(*c, "webauthn.create", challenge, rp(), &why).error() == errc::webauthn_rejected);
  CHECK((why == wa::check::client_data_type));
  CHECK(wa::check_client_data(*c, "webauthn.get", {}, rp(), &why).error() == errc::webauthn_rejected);  // no challenge issued
  CHECK((why == wa::check::challenge));
  // an app origin listed by the host
  auto app = wa::parse_client_data(b("{\"type\":\"webauthn.get\",\"challenge\":\"" + ch + "\",\"origin\":\"android:apk-key-hash:abc\"}"));
  REQUIRE(app);
  CHECK(wa::check_client_data(*app, "webauthn.get", challenge, rp()));
  // escapes are decoded before the comparison
  auto esc = wa::parse_client_data(b("{\"type\":\"webauthn\\u002eget\",\"challenge\":\"" + ch + "\",\"origin\":\"https:\\/\\/example.test\"}"));
  REQUIRE(esc);
  CHECK(wa::check_client_data(*esc, "webauthn.get", challenge, rp()));
}

TEST_CASE("client data: cross-origin calls with the host's consent", "[webauthn][client_data]") {
  const std::string ch = wa::base64url_encode(challenge);
  auto c = wa::parse_client_data(b("{\"type\":\"webauthn.get\",\"challenge\":\"" + ch +
                                   "\",\"origin\":\"https://example.test\",\"crossOrigin\":true,\"topOrigin\":\"https://shop.test\"}"));
  REQUIRE(c);
  auto r = rp();
  wa::check why = wa::check::none;
  CHECK(wa::check_client_data(*c, "webauthn.get", challenge, r, &why).error() == errc::webauthn_rejected);
  r.allow_cross_origin = true;
  CHECK_FALSE(wa::check_client_data(*c, "webauthn.get", challenge, r, &why));  // top origin not listed
  r.top_origins = {"https://shop.test"};
  CHECK(wa::check_client_data(*c, "webauthn.get", challenge, r));
}

TEST_CASE("client data: malformed JSON is refused", "[webauthn][client_data]") {
  for (std::string_view bad : {"", "null", "[]", "{", "{}", "{\"type\":\"webauthn.get\"}",
                               "{\"type\":1,\"challenge\":\"AQ\",\"origin\":\"o\"}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\"} {}",
                               "{\"type\":\"t\" \"challenge\":\"AQ\",\"origin\":\"o\"}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":tru}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":1.}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":-}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":\"\\u12\"}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":\"\\udc00\"}",
                               "{\"type\":\"t\",\"challenge\":\"AQ\",\"origin\":\"o\",\"x\":\"\\ud800\\u0041\"}",
                               "{\"type\":\"t\",\"challenge\":\"AQ==\",\"origin\":\"o\"}",
                               "{'type':\"t\",\"challenge\":\"AQ\",\"origin\":\"o\"}"}) {
    INFO(bad);
    wa::check why = wa::check::none;
    CHECK(wa::parse_client_data(b(bad), &why).error() == errc::webauthn_malformed);
    CHECK((why == wa::check::client_data_json));
  }
  CHECK_FALSE(wa::parse_client_data(std::vector<unsigned char>(wa::max_client_data_bytes + 1, ' ')));
}
