// Reads WebAuthn cases as JSON lines on stdin (one registration or assertion
// each, the response in its toJSON() form) and prints one verdict a line on
// stdout: "accept" or "refuse <check>", for the differential test's Node side
// to compare with @simplewebauthn/server's verdict on the same case.
#include <iostream>
#include <string>
#include <vector>

#include <mfakit/webauthn.hpp>
#include <mfakit/webauthn/detail/json.hpp>

namespace {

namespace wa = mfakit::webauthn;
using json = wa::detail::json_value;

const json* member(const json& o, std::string_view name, json::kind k) {
  const json* v = o.member(name);
  return (v != nullptr && v->type == k) ? v : nullptr;
}

std::vector<unsigned char> b64(const json& o, std::string_view name) {
  const json* v = member(o, name, json::kind::string);
  if (v == nullptr) return {};
  auto d = wa::base64url_decode(v->text, std::size_t{1} << 20);
  return d ? std::move(*d) : std::vector<unsigned char>{};
}

bool flag(const json& o, std::string_view name, bool dflt) {
  const json* v = member(o, name, json::kind::boolean);
  return v != nullptr ? v->boolean : dflt;
}

std::string refuse(wa::check c) { return "refuse " + std::string(wa::name(c)); }

std::string verdict(const json& c) {
  const json* kind = member(c, "kind", json::kind::string);
  const json* response = member(c, "response", json::kind::string);  // the toJSON() text, as a host receives it
  const json* rp_id = member(c, "rpId", json::kind::string);
  const json* origin = member(c, "origin", json::kind::string);
  if (kind == nullptr || response == nullptr || rp_id == nullptr || origin == nullptr) return "bad-case";
  wa::relying_party rp;
  rp.id = rp_id->text;
  rp.origins = {origin->text};
  const auto challenge = b64(c, "challenge");
  wa::check failed = wa::check::none;
  if (kind->text == "registration") {
    auto r = wa::parse_registration_response(response->text, &failed);
    if (!r) return refuse(failed);
    wa::registration_policy policy;
    policy.require_user_verification = flag(c, "requireUserVerification", true);
    wa::registration_input in{r->client_data_json, r->attestation_object, challenge, r->raw_id};
    auto v = wa::verify_registration(rp, in, policy, &failed);
    return v ? std::string("accept") : refuse(failed);
  }
  if (kind->text == "authentication") {
    auto r = wa::parse_authentication_response(response->text, &failed);
    if (!r) return refuse(failed);
    const auto cred_id = b64(c, "credentialId");
    const auto cose = b64(c, "publicKey");
    const auto user_handle = b64(c, "userHandle");
    auto key = wa::cose_key::parse(cose);
    if (!key) return "bad-case";
    const json* counter = member(c, "counter", json::kind::number);
    wa::stored_credential stored;
    stored.id = cred_id;
    stored.public_key = &*key;
    stored.sign_count = counter != nullptr ? static_cast<std::uint32_t>(std::stoul(counter->text)) : 0;
    stored.backup_eligible = flag(c, "backupEligible", false);
    stored.backed_up = flag(c, "backedUp", false);
    stored.user_verified = true;
    stored.user_handle = user_handle;
    wa::assertion_policy policy;
    policy.require_user_verification = flag(c, "requireUserVerification", true);
    wa::assertion_input in{r->raw_id, r->client_data_json, r->authenticator_data, r->signature, r->user_handle,
                           challenge, {}};
    auto v = wa::verify_assertion(rp, stored, in, policy, &failed);
    return v ? std::string("accept") : refuse(failed);
  }
  return "bad-case";
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    auto c = wa::detail::parse_json(line, wa::detail::json_limits{std::size_t{1} << 20, 8, 64});
    std::cout << (c && c->type == json::kind::object ? verdict(*c) : std::string("bad-case")) << '\n';
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}
