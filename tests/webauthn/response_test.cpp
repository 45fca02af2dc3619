// The PublicKeyCredential JSON forms: what toJSON() (and
// @simplewebauthn/browser) send is read; wrong types, sizes and encodings
// are refused; the specification's vector goes through end to end.
#include <mfakit/webauthn.hpp>

#include <string>

#include "catch.hpp"
#include "spec_vectors.hpp"
#include "webauthn_test_support.hpp"

namespace wa = mfakit::webauthn;
using mfakit::errc;
using wa_test::unhex;

namespace {
std::string b64(std::string_view hex) { return wa::base64url_encode(unhex(hex)); }

std::string registration_json(const spec_vectors::vector& v, const std::string& tail = "") {
  const std::string id = b64(v.credential_id);
  return "{\"id\":\"" + id + "\",\"rawId\":\"" + id + "\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"" +
         b64(v.reg_client_data) + "\",\"attestationObject\":\"" + b64(v.attestation_object) +
         "\",\"transports\":[\"internal\",\"hybrid\"]},\"authenticatorAttachment\":\"platform\","
         "\"clientExtensionResults\":{\"credProps\":{\"rk\":true}}" + tail + "}";
}
std::string authentication_json(const spec_vectors::vector& v, const std::string& user_handle = "null") {
  const std::string id = b64(v.credential_id);
  return "{\"id\":\"" + id + "\",\"rawId\":\"" + id + "\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"" +
         b64(v.auth_client_data) + "\",\"authenticatorData\":\"" + b64(v.authenticator_data) + "\",\"signature\":\"" +
         b64(v.signature) + "\",\"userHandle\":" + user_handle + "},\"authenticatorAttachment\":null,\"clientExtensionResults\":{}}";
}
}  // namespace

TEST_CASE("response JSON: the specification's ES256 vector, end to end", "[webauthn][response]") {
  const auto& v = spec_vectors::all[0];
  auto reg = wa::parse_registration_response(registration_json(v));
  REQUIRE(reg);
  CHECK(reg->raw_id == unhex(v.credential_id));
  CHECK(reg->transports == std::vector<std::string>{"internal", "hybrid"});
  CHECK(reg->authenticator_attachment == "platform");
  wa::registration_policy pol;
  pol.require_user_verification = false;
  const auto challenge = unhex(v.reg_challenge);
  auto cred = wa::verify_registration(wa_test::spec_rp(), {reg->client_data_json, reg->attestation_object, challenge, reg->raw_id}, pol);
  REQUIRE(cred);

  auto auth = wa::parse_authentication_response(authentication_json(v));
  REQUIRE(auth);
  CHECK(auth->user_handle.empty());
  CHECK_FALSE(auth->authenticator_attachment.has_value());
  wa::stored_credential rec;
  rec.id = cred->id;
  rec.public_key = &cred->public_key;
  rec.backup_eligible = cred->backup_eligible;
  rec.backed_up = cred->backed_up;
  const auto achallenge = unhex(v.auth_challenge);
  wa::assertion_input in{auth->raw_id, auth->client_data_json, auth->authenticator_data, auth->signature,
                         auth->user_handle, achallenge, {}};
  wa::assertion_policy apol;
  apol.require_user_verification = false;
  CHECK(wa::verify_assertion(wa_test::spec_rp(), rec, in, apol));
  auto with_handle = wa::parse_authentication_response(authentication_json(v, "\"AAECAwQFBgcICQoLDA0ODw\""));
  REQUIRE(with_handle);
  CHECK(with_handle->user_handle.size() == 16);
}

TEST_CASE("response JSON: wrong types, sizes and encodings are refused", "[webauthn][response]") {
  const auto& v = spec_vectors::all[0];
  const std::string good = authentication_json(v);
  REQUIRE(wa::parse_authentication_response(good));
  auto replaced = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  const std::string id = b64(v.credential_id);
  for (const std::string& bad : {
           replaced("\"type\":\"public-key\"", "\"type\":\"public-keys\""),
           replaced("\"type\":\"public-key\",", ""),
           replaced("\"rawId\":\"" + id + "\"", "\"rawId\":\"" + id.substr(0, id.size() - 2) + "\""),
           replaced("\"rawId\":\"" + id + "\"", "\"rawId\":\"" + id + "=\""),
           replaced("\"id\":\"" + id + "\",", ""),
           replaced("\"clientExtensionResults\":{}", "\"clientExtensionResults\":[]"),
           replaced("\"authenticatorAttachment\":null", "\"authenticatorAttachment\":1"),
           replaced("\"userHandle\":null", "\"userHandle\":\"\""),
           replaced("\"userHandle\":null", "\"userHandle\":\"" + std::string(90, 'A') + "\""),
           replaced("\"userHandle\":null", "\"userHandle\":7"),
           replaced("\"signature\":\"", "\"signature\":\"+"),
           replaced("\"signature\":\"", "\"signatures\":\""),
           replaced("\"authenticatorData\":\"", "\"authenticatorData\":\"*"),
           replaced("\"clientDataJSON\":\"", "\"clientDataJSON\":true,\"x\":\""),
           replaced("\"response\":{", "\"response\":{\"signature\":\"AA\","),
           replaced("}}", "}}}"),
           good + " x",
           std::string("[") + good + "]",
           std::string(200 * 1024, ' ') + good,
       }) {
    INFO(bad.substr(0, 300));
    wa::check why = wa::check::none;
    CHECK(wa::parse_authentication_response(bad, &why).error() == errc::webauthn_malformed);
    CHECK((why == wa::check::response_json));
  }
  const std::string reg = registration_json(v);
  REQUIRE(wa::parse_registration_response(reg));
  CHECK_FALSE(wa::parse_registration_response(registration_json(v, ",\"type\":\"public-key\"")));  // a member twice
  std::string no_att = reg;
  no_att.replace(no_att.find("attestationObject"), 17, "attestationObjekt");
  CHECK_FALSE(wa::parse_registration_response(no_att));
  std::string bad_transport = reg;
  bad_transport.replace(bad_transport.find("\"internal\""), 10, "3");
  CHECK_FALSE(wa::parse_registration_response(bad_transport));
}
