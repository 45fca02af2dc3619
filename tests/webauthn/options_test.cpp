// The options builders: the Level 3 JSON forms, a fresh challenge each call,
// user handles from the random source, a failing source ends in an error.
#include <mfakit/webauthn/options.hpp>
#include <mfakit/webauthn/detail/json.hpp>

#include <set>
#include <span>
#include <string>
#include <vector>

#include "catch.hpp"

namespace wa = mfakit::webauthn;
using jv = wa::detail::json_value;

namespace {
struct failing_random {
  bool fill(std::span<unsigned char>) const noexcept { return false; }
};
jv parse(const std::string& s) {
  auto v = wa::detail::parse_json(s);
  REQUIRE(v);
  return std::move(*v);
}
std::string str(const jv& o, std::string_view name) {
  const jv* m = o.member(name);
  REQUIRE(m != nullptr);
  REQUIRE(m->type == jv::kind::string);
  return m->text;
}
}  // namespace

TEST_CASE("creation options: the L3 JSON form", "[webauthn][options]") {
  mfakit::openssl_random rng;
  auto handle = wa::new_user_handle(rng);
  REQUIRE(handle);
  CHECK(handle->size() == 32);
  wa::creation_options_input in;
  in.rp_id = "login.example.test";
  in.rp_name = "Example \"Login\"";
  in.user_handle = *handle;
  in.user_name = "ada@example.test";
  in.exclude = {{{1, 2, 3}, {"internal", "hybrid"}}, {{4, 5}, {}}};
  auto opts = wa::make_creation_options(rng, in);
  REQUIRE(opts);
  const jv j = parse(opts->json);
  CHECK(str(*j.member("rp"), "id") == "login.example.test");
  CHECK(str(*j.member("rp"), "name") == "Example \"Login\"");
  CHECK(*wa::base64url_decode(str(*j.member("user"), "id")) == *handle);
  CHECK(str(*j.member("user"), "name") == "ada@example.test");
  CHECK(str(*j.member("user"), "displayName") == "ada@example.test");
  const auto challenge = wa::base64url_decode(str(j, "challenge"));
  REQUIRE(challenge);
  CHECK(std::vector<unsigned char>(opts->challenge.begin(), opts->challenge.end()) == *challenge);
  const jv* params = j.member("pubKeyCredParams");
  REQUIRE(params->elements.size() == 3);
  std::int64_t alg = 0;
  REQUIRE(params->elements[0].member("alg")->as_int(alg));
  CHECK(alg == -8);
  REQUIRE(params->elements[1].member("alg")->as_int(alg));
  CHECK(alg == -7);
  REQUIRE(params->elements[2].member("alg")->as_int(alg));
  CHECK(alg == -257);
  CHECK(str(params->elements[0], "type") == "public-key");
  const jv* sel = j.member("authenticatorSelection");
  CHECK(str(*sel, "residentKey") == "required");
  CHECK(str(*sel, "userVerification") == "required");
  CHECK(sel->member("requireResidentKey")->boolean);
  const jv* ex = j.member("excludeCredentials");
  REQUIRE(ex->elements.size() == 2);
  CHECK(str(ex->elements[0], "id") == "AQID");
  CHECK(ex->elements[0].member("transports")->elements.size() == 2);
  CHECK(ex->elements[1].member("transports") == nullptr);
  std::int64_t timeout = 0;
  REQUIRE(j.member("timeout")->as_int(timeout));
  CHECK(timeout == 300000);
}

TEST_CASE("request options: the L3 JSON form", "[webauthn][options]") {
  mfakit::openssl_random rng;
  wa::request_options_input in;
  in.rp_id = "login.example.test";
  auto opts = wa::make_request_options(rng, in);
  REQUIRE(opts);
  const jv j = parse(opts->json);
  CHECK(str(j, "rpId") == "login.example.test");
  CHECK(str(j, "userVerification") == "required");
  CHECK(j.member("allowCredentials")->elements.empty());
  CHECK(wa::base64url_decode(str(j, "challenge"))->size() == 32);
  in.allow = {{{9, 9, 9}, {"usb"}}};
  opts = wa::make_request_options(rng, in);
  REQUIRE(opts);
  CHECK(str(parse(opts->json).member("allowCredentials")->elements[0], "id") == "CQkJ");
}

TEST_CASE("options: fresh challenges, random handles, bad input and a failing source", "[webauthn][options]") {
  mfakit::openssl_random rng;
  std::set<std::string> seen;
  wa::request_options_input in;
  in.rp_id = "login.example.test";
  for (int i = 0; i < 100; ++i) seen.insert(wa::make_request_options(rng, in)->json);
  CHECK(seen.size() == 100);
  CHECK(wa::new_user_handle(rng, 15).error() == mfakit::errc::invalid_argument);
  CHECK(wa::new_user_handle(rng, 65).error() == mfakit::errc::invalid_argument);
  CHECK(wa::new_user_handle(rng, 16)->size() == 16);
  CHECK(*wa::new_user_handle(rng) != *wa::new_user_handle(rng));
  failing_random bad;
  CHECK(wa::new_user_handle(bad).error() == mfakit::errc::random_failure);
  CHECK(wa::make_request_options(bad, in).error() == mfakit::errc::random_failure);
  wa::creation_options_input c;
  c.rp_id = "login.example.test";
  c.user_handle = std::vector<unsigned char>(8, 1);  // too short for a user handle
  CHECK(wa::make_creation_options(rng, c).error() == mfakit::errc::invalid_argument);
  c.user_handle = std::vector<unsigned char>(16, 1);
  CHECK(wa::make_creation_options(bad, c).error() == mfakit::errc::random_failure);
  CHECK(wa::make_creation_options(rng, c));
}
