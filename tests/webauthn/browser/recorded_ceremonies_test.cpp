// Ceremonies recorded from Debian's chromium with a virtual authenticator
// (record.mjs; ceremonies.json), replayed through the verifier without a
// browser: the good ones pass, the ones the authenticator broke (bogus
// signature, UV off, UP off) and each deliberate breakage of a good one
// (every flag, the challenge, the origin, the RP ID, a signature byte, the
// counter) fail at the step that owns them. MFAKIT_WEBAUTHN_CEREMONIES
// replaces the file (the live test replays a fresh recording).
#include <mfakit/webauthn.hpp>
#include <mfakit/webauthn/detail/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"

namespace {

namespace wa = mfakit::webauthn;
using json = wa::detail::json_value;
using bytes = std::vector<unsigned char>;

std::string recording_path() {
  const char* env = std::getenv("MFAKIT_WEBAUTHN_CEREMONIES");  // NOLINT(concurrency-mt-unsafe): read once
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(MFAKIT_WEBAUTHN_CEREMONIES);
}

const json& recording() {
  static const json doc = [] {
    std::ifstream in(recording_path(), std::ios::binary);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = wa::detail::parse_json(ss.str(), wa::detail::json_limits{std::size_t{4} << 20, 16, 1U << 20});
    REQUIRE(v.has_value());
    return std::move(*v);
  }();
  return doc;
}

const std::string& text(const json& o, std::string_view name) {
  const json* v = o.member(name);
  REQUIRE(v != nullptr);
  REQUIRE(v->type == json::kind::string);
  return v->text;
}

const json& arr(std::string_view name) {
  const json* v = recording().member(name);
  REQUIRE(v != nullptr);
  REQUIRE(v->type == json::kind::array);
  return *v;
}

bytes b64(const std::string& s) {
  auto d = wa::base64url_decode(s);
  REQUIRE(d.has_value());
  return *d;
}

// The JSON text of the recorded response (its toJSON() form), as a host receives it.
std::string serialize(const json& v) {
  switch (v.type) {
    case json::kind::null: return "null";
    case json::kind::boolean: return v.boolean ? "true" : "false";
    case json::kind::number: return v.text;
    case json::kind::string: {
      std::string out = "\"";
      for (char c : v.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
    case json::kind::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.elements.size(); ++i) out += (i ? "," : "") + serialize(v.elements[i]);
      return out + "]";
    }
    case json::kind::object: {
      std::string out = "{";
      for (std::size_t i = 0; i < v.names.size(); ++i)
        out += (i ? ",\"" : "\"") + v.names[i] + "\":" + serialize(v.values[i]);
      return out + "}";
    }
  }
  return {};
}

wa::relying_party rp() {
  wa::relying_party r;
  r.id = text(recording(), "rpId");
  r.origins = {text(recording(), "origin")};
  return r;
}

struct registration_case {
  std::string name;
  bool good = false;
  bytes challenge;
  wa::registration_response response;
};

std::vector<registration_case> registrations() {
  std::vector<registration_case> out;
  for (const auto& r : arr("registrations").elements) {
    auto parsed = wa::parse_registration_response(serialize(*r.member("response")));
    REQUIRE(parsed.has_value());
    out.push_back({text(r, "name"), text(r, "expect") == "accept", b64(text(r, "challenge")), std::move(*parsed)});
  }
  return out;
}

mfakit::result<wa::registered_credential> register_(const registration_case& c, const wa::relying_party& party,
                                                const wa::registration_policy& policy, wa::check* failed,
                                                const bytes* attestation_object = nullptr,
                                                const bytes* challenge = nullptr) {
  const bytes& att = attestation_object != nullptr ? *attestation_object : c.response.attestation_object;
  wa::registration_input in{c.response.client_data_json, att, challenge != nullptr ? *challenge : c.challenge,
                            c.response.raw_id};
  return wa::verify_registration(party, in, policy, failed);
}

// The offset of the flags byte inside an attestation object: right after the rpIdHash.
std::size_t flags_offset(const bytes& att, const std::string& rp_id) {
  auto h = mfakit::sha256(mfakit::as_bytes(rp_id));
  REQUIRE(h.has_value());
  const bytes hash(h->begin(), h->end());
  for (std::size_t i = 0; i + hash.size() < att.size(); ++i)
    if (std::equal(hash.begin(), hash.end(), att.begin() + static_cast<std::ptrdiff_t>(i))) return i + hash.size();
  FAIL("no rpIdHash in the attestation object");
  return 0;
}

}  // namespace

TEST_CASE("recorded registrations from chromium", "[webauthn][browser]") {
  const auto party = rp();
  const auto cases = registrations();
  REQUIRE(cases.size() >= 4);
  int good = 0;
  for (const auto& c : cases) {
    INFO(c.name);
    wa::check failed = wa::check::none;
    auto r = register_(c, party, {}, &failed);
    if (c.good) {
      ++good;
      REQUIRE(r.has_value());
      CHECK(r->user_verified);
      CHECK(r->id == c.response.raw_id);
    } else {
      REQUIRE_FALSE(r.has_value());
      if (c.name.find("uv off") != std::string::npos) {
        CHECK(failed == wa::check::user_verified);
        wa::registration_policy lax;
        lax.require_user_verification = false;
        CHECK(register_(c, party, lax, nullptr).has_value());  // UV was the only thing wrong
      } else if (c.name.find("up off") != std::string::npos) {
        CHECK(failed == wa::check::user_present);
      } else {
        CHECK(failed == wa::check::attestation_statement);  // the bogus signature
      }
    }
  }
  CHECK(good >= 3);  // ES256, EdDSA, RS256
}

TEST_CASE("recorded registrations, each deliberately broken", "[webauthn][browser]") {
  const auto party = rp();
  for (const auto& c : registrations()) {
    if (!c.good) continue;
    INFO(c.name);
    wa::check failed = wa::check::none;
    DYNAMIC_SECTION(c.name << ": another challenge") {
      bytes other = c.challenge;
      other[0] ^= 1U;
      CHECK_FALSE(register_(c, party, {}, &failed, nullptr, &other).has_value());
      CHECK(failed == wa::check::challenge);
    }
    DYNAMIC_SECTION(c.name << ": another origin") {
      auto p = party;
      p.origins = {"http://localhost:1"};
      CHECK_FALSE(register_(c, p, {}, &failed).has_value());
      CHECK(failed == wa::check::origin);
    }
    DYNAMIC_SECTION(c.name << ": another RP ID") {
      auto p = party;
      p.id = "example.org";
      CHECK_FALSE(register_(c, p, {}, &failed).has_value());
      CHECK(failed == wa::check::rp_id_hash);
    }
    DYNAMIC_SECTION(c.name << ": the flags") {
      const std::size_t at = flags_offset(c.response.attestation_object, party.id);
      const std::map<unsigned, wa::check> must_fail{{0x01, wa::check::user_present},
                                                     {0x04, wa::check::user_verified},
                                                     {0x10, wa::check::backup_state},
                                                     {0x40, wa::check::authenticator_data},
                                                     {0x80, wa::check::authenticator_data}};
      for (const auto& [bit, check] : must_fail) {
        INFO("flag " << bit);
        bytes att = c.response.attestation_object;
        att[at] ^= static_cast<unsigned char>(bit);
        failed = wa::check::none;
        CHECK_FALSE(register_(c, party, {}, &failed, &att).has_value());
        CHECK(failed == check);
      }
      bytes att = c.response.attestation_object;  // BE set: taken (a synced passkey), and recorded
      att[at] |= 0x08U;
      auto r = register_(c, party, {}, nullptr, &att);
      REQUIRE(r.has_value());
      CHECK(r->backup_eligible);
    }
    DYNAMIC_SECTION(c.name << ": the RP ID hash") {
      bytes att = c.response.attestation_object;
      att[flags_offset(att, party.id) - 1] ^= 0x80U;
      CHECK_FALSE(register_(c, party, {}, &failed, &att).has_value());
      CHECK(failed == wa::check::rp_id_hash);
    }
  }
}

namespace {

struct replayed {
  std::map<std::string, wa::registered_credential> credentials;
  std::map<std::string, bytes> user_handles;
};

replayed registered() {
  replayed out;
  const auto party = rp();
  for (const auto& r : arr("registrations").elements) {
    if (text(r, "expect") != "accept") continue;
    auto parsed = wa::parse_registration_response(serialize(*r.member("response")));
    REQUIRE(parsed.has_value());
    const bytes challenge = b64(text(r, "challenge"));
    auto cred = wa::verify_registration(party, {parsed->client_data_json, parsed->attestation_object, challenge,
                                                parsed->raw_id});
    REQUIRE(cred.has_value());
    out.credentials.emplace(text(r, "name"), std::move(*cred));
    out.user_handles.emplace(text(r, "name"), b64(text(r, "userHandle")));
  }
  return out;
}

struct assertion_case {
  std::string name;
  std::string credential;
  bool good = false;
  bytes challenge;
  wa::authentication_response response;
};

mfakit::result<wa::assertion_result> assert_(const replayed& reg, const assertion_case& a, std::uint32_t stored_counter,
                                         const wa::relying_party& party, wa::check* failed,
                                         const wa::assertion_policy& policy = {},
                                         const wa::authentication_response* edited = nullptr,
                                         const bytes* challenge = nullptr) {
  const auto& cred = reg.credentials.at(a.credential);
  const auto& resp = edited != nullptr ? *edited : a.response;
  wa::stored_credential stored;
  stored.id = cred.id;
  stored.public_key = &cred.public_key;
  stored.sign_count = stored_counter;
  stored.backup_eligible = cred.backup_eligible;
  stored.backed_up = cred.backed_up;
  stored.user_verified = cred.user_verified;
  stored.user_handle = reg.user_handles.at(a.credential);
  wa::assertion_input in{resp.raw_id, resp.client_data_json, resp.authenticator_data, resp.signature, resp.user_handle,
                         challenge != nullptr ? *challenge : a.challenge, {}};
  return wa::verify_assertion(party, stored, in, policy, failed);
}

std::vector<assertion_case> assertions() {
  std::vector<assertion_case> out;
  for (const auto& r : arr("assertions").elements) {
    auto parsed = wa::parse_authentication_response(serialize(*r.member("response")));
    REQUIRE(parsed.has_value());
    out.push_back({text(r, "name"), text(r, "credential"), text(r, "expect") == "accept", b64(text(r, "challenge")),
                   std::move(*parsed)});
  }
  return out;
}

std::uint32_t counter_of(const bytes& ad) {
  REQUIRE(ad.size() >= 37);
  return (std::uint32_t{ad[33]} << 24U) | (std::uint32_t{ad[34]} << 16U) | (std::uint32_t{ad[35]} << 8U) | ad[36];
}

}  // namespace

TEST_CASE("recorded assertions from chromium, in order", "[webauthn][browser]") {
  const auto reg = registered();
  const auto party = rp();
  std::map<std::string, std::uint32_t> counters;
  int good = 0;
  int bad = 0;
  for (const auto& a : assertions()) {
    INFO(a.name);
    wa::check failed = wa::check::none;
    auto r = assert_(reg, a, counters[a.credential], party, &failed);
    if (a.good) {
      ++good;
      REQUIRE(r.has_value());
      CHECK(r->sign_count == counter_of(a.response.authenticator_data));
      CHECK(r->user_verified);
      counters[a.credential] = r->sign_count;
    } else {
      ++bad;
      REQUIRE_FALSE(r.has_value());
      if (a.name.find("uv off") != std::string::npos) {
        CHECK(failed == wa::check::user_verified);
        wa::assertion_policy lax;
        lax.require_user_verification = false;
        CHECK(assert_(reg, a, counters[a.credential], party, nullptr, lax).has_value());  // UV was the only fault
      } else if (a.name.find("up off") != std::string::npos) {
        CHECK(failed == wa::check::user_present);
      } else {
        CHECK(failed == wa::check::signature);  // the bogus signature
      }
    }
  }
  CHECK(good >= 6);
  CHECK(bad >= 6);
}

TEST_CASE("recorded assertions, each deliberately broken", "[webauthn][browser]") {
  const auto reg = registered();
  const auto party = rp();
  for (const auto& a : assertions()) {
    if (!a.good) continue;
    INFO(a.name);
    const std::uint32_t before = counter_of(a.response.authenticator_data) - 1;  // what the record held
    REQUIRE(assert_(reg, a, before, party, nullptr).has_value());
    wa::check failed = wa::check::none;
    DYNAMIC_SECTION(a.name << ": another challenge") {
      bytes other = a.challenge;
      other.back() ^= 1U;
      CHECK_FALSE(assert_(reg, a, before, party, &failed, {}, nullptr, &other).has_value());
      CHECK(failed == wa::check::challenge);
    }
    DYNAMIC_SECTION(a.name << ": another origin") {
      auto p = party;
      p.origins = {"http://localhost"};
      CHECK_FALSE(assert_(reg, a, before, p, &failed).has_value());
      CHECK(failed == wa::check::origin);
    }
    DYNAMIC_SECTION(a.name << ": another RP ID") {
      auto p = party;
      p.id = "localhost.example";
      CHECK_FALSE(assert_(reg, a, before, p, &failed).has_value());
      CHECK(failed == wa::check::rp_id_hash);
    }
    DYNAMIC_SECTION(a.name << ": every flag") {
      for (unsigned bit = 0; bit < 8; ++bit) {
        INFO("flag bit " << bit);
        auto edited = a.response;
        edited.authenticator_data[32] ^= static_cast<unsigned char>(1U << bit);
        failed = wa::check::none;
        CHECK_FALSE(assert_(reg, a, before, party, &failed, {}, &edited).has_value());
        CHECK(failed != wa::check::none);
      }
    }
    DYNAMIC_SECTION(a.name << ": every byte of the RP ID hash") {
      for (std::size_t i = 0; i < 32; ++i) {
        auto edited = a.response;
        edited.authenticator_data[i] ^= 0x01U;
        failed = wa::check::none;
        CHECK_FALSE(assert_(reg, a, before, party, &failed, {}, &edited).has_value());
        CHECK(failed == wa::check::rp_id_hash);
      }
    }
    DYNAMIC_SECTION(a.name << ": one signature byte") {
      for (std::size_t i : {std::size_t{0}, a.response.signature.size() / 2, a.response.signature.size() - 1}) {
        auto edited = a.response;
        edited.signature[i] ^= 0x01U;
        failed = wa::check::none;
        CHECK_FALSE(assert_(reg, a, before, party, &failed, {}, &edited).has_value());
        CHECK(failed == wa::check::signature);
      }
    }
    DYNAMIC_SECTION(a.name << ": the counter: replayed, or behind the record") {
      const std::uint32_t now = counter_of(a.response.authenticator_data);
      for (std::uint32_t stored : {now, now + 1, now + 1000}) {
        failed = wa::check::none;
        CHECK_FALSE(assert_(reg, a, stored, party, &failed).has_value());
        CHECK(failed == wa::check::counter);
      }
      auto edited = a.response;  // a raised counter the signature does not cover
      edited.authenticator_data[36] ^= 0x40U;
      CHECK_FALSE(assert_(reg, a, before, party, &failed, {}, &edited).has_value());
      CHECK(failed == wa::check::signature);
    }
  }
}
