// Registration (§7.1) and authentication (§7.2) with credentials made here
// (OpenSSL keys for ES256, EdDSA and RS256; none, packed self, packed x5c
// and fido-u2f), then a table of mutations, each re-signed where the
// authenticator would sign it so that the one broken check is the one that
// refuses; and every byte of the signed parts flipped without re-signing.
#include <mfakit/webauthn.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "catch.hpp"
#include "soft_authenticator.hpp"
#include "webauthn_test_support.hpp"

namespace wa = mfakit::webauthn;
using mfakit::errc;
using wa_test::authenticator;
using wa_test::bytes;
using wa_test::format;

namespace {

const bytes reg_challenge = wa_test::fixed_challenge(1);
const bytes auth_challenge = wa_test::fixed_challenge(2);
const bytes user_handle(32, 0x42);

struct outcome {
  std::error_code ec;
  wa::check why = wa::check::none;
};

outcome register_with(const wa_test::registration& r, const wa::registration_policy& pol = {},
                      const wa::relying_party& rp = wa_test::test_rp(), mfakit::byte_view raw_id = {},
                      wa::registered_credential* out = nullptr) {
  outcome o;
  auto res = wa::verify_registration(rp, {r.client_data_json, r.attestation_object, reg_challenge, raw_id}, pol, &o.why);
  o.ec = res.error();
  if (res && out != nullptr) *out = std::move(*res);
  return o;
}

struct stored {
  wa::cose_key key;
  bytes id;
  wa::stored_credential rec;
};

stored stored_for(const authenticator& a, std::uint32_t count = 0, bool be = false) {
  auto key = wa::cose_key::parse(a.cose());
  REQUIRE(key);
  stored s{std::move(*key), a.credential_id, {}};
  s.rec.id = s.id;
  s.rec.sign_count = count;
  s.rec.backup_eligible = be;
  s.rec.backed_up = false;
  s.rec.user_verified = true;
  s.rec.user_handle = user_handle;
  return s;
}

outcome assert_with(const stored& s, const wa_test::assertion& as, const wa::assertion_policy& pol = {},
                    mfakit::byte_view id = {}, mfakit::byte_view handle = {},
                    std::span<const std::vector<unsigned char>> allow = {}, wa::assertion_result* out = nullptr) {
  wa::stored_credential rec = s.rec;
  rec.public_key = &s.key;
  wa::assertion_input in;
  in.credential_id = id.empty() ? mfakit::byte_view(s.id) : id;
  in.client_data_json = as.client_data_json;
  in.authenticator_data = as.authenticator_data;
  in.signature = as.signature;
  in.user_handle = handle;
  in.expected_challenge = auth_challenge;
  in.allow_credentials = allow;
  outcome o;
  auto res = wa::verify_assertion(wa_test::test_rp(), rec, in, pol, &o.why);
  o.ec = res.error();
  if (res && out != nullptr) *out = std::move(*res);
  return o;
}

const wa::cose_alg all_algs[] = {wa::cose_alg::es256, wa::cose_alg::eddsa, wa::cose_alg::rs256};

std::string alg_name(wa::cose_alg a) {
  return a == wa::cose_alg::es256 ? "ES256" : a == wa::cose_alg::eddsa ? "EdDSA" : "RS256";
}

}  // namespace

TEST_CASE("generated credentials: each algorithm and format registers, then authenticates", "[webauthn][verify]") {
  for (wa::cose_alg alg : all_algs) {
    for (format fmt : {format::none, format::packed_self, format::packed_x5c, format::fido_u2f}) {
      if (fmt == format::fido_u2f && alg != wa::cose_alg::es256) continue;
      INFO(alg_name(alg) << " " << wa_test::fmt_name(fmt) << " " << static_cast<int>(fmt));
      authenticator a(alg);
      a.counter = 3;
      const auto r = wa_test::make_registration(a, fmt, a.registration_auth_data(), wa_test::create_client_data(reg_challenge));
      wa::registered_credential cred;
      const outcome o = register_with(r, {}, wa_test::test_rp(), a.credential_id, &cred);
      INFO(o.ec.message() << " at " << wa::name(o.why));
      REQUIRE(!o.ec);
      CHECK(cred.id == a.credential_id);
      CHECK(cred.sign_count == 3);
      CHECK(cred.user_verified);
      CHECK(cred.public_key.alg() == alg);
      CHECK(bytes(cred.public_key.encoded().begin(), cred.public_key.encoded().end()) == a.cose());
      CHECK(cred.attestation.type == (fmt == format::none          ? wa::attestation_type::none
                                      : fmt == format::packed_self ? wa::attestation_type::self
                                                                   : wa::attestation_type::basic));

      a.counter = 4;
      stored s = stored_for(a, 3);
      wa::assertion_result res;
      const auto as = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(auth_challenge));
      const outcome ao = assert_with(s, as, {}, {}, user_handle, {}, &res);
      INFO(ao.ec.message() << " at " << wa::name(ao.why));
      REQUIRE(!ao.ec);
      CHECK(res.sign_count == 4);
      CHECK(res.user_verified);
      CHECK_FALSE(res.backup_eligibility_gained);
    }
  }
}

TEST_CASE("registration mutations: each broken part is refused at its own check", "[webauthn][verify][mutation]") {
  struct mutation {
    const char* name;
    std::function<void(authenticator&, wa_test::auth_data_fields&, wa_test::client_data_fields&, wa::registration_policy&)>
        apply;
    errc code;
    wa::check why;
  };
  using adf_t = wa_test::auth_data_fields;
  using cdf_t = wa_test::client_data_fields;
  using pol_t = wa::registration_policy;
  const std::vector<mutation> table{
      {"UP off", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags &= static_cast<std::uint8_t>(~wa::flag::up); },
       errc::webauthn_rejected, wa::check::user_present},
      {"UV off", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags &= static_cast<std::uint8_t>(~wa::flag::uv); },
       errc::webauthn_rejected, wa::check::user_verified},
      {"BS without BE", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::bs; },
       errc::webauthn_rejected, wa::check::backup_state},
      {"AT off, credential data left in", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags &= static_cast<std::uint8_t>(~wa::flag::at); },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"ED on, no extensions", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::ed; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions not a map", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0x01}; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions nested 9 deep", [](authenticator&, adf_t& d, cdf_t&, pol_t&) {
         d.flags |= wa::flag::ed;
         d.extensions.clear();
         for (int i = 0; i < 9; ++i) { d.extensions.push_back(0xA1); d.extensions.push_back(0x61); d.extensions.push_back('k'); }
         d.extensions.push_back(0x00);
       }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with a tag", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xA1, 0x61, 'k', 0xC0, 0x00}; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with a float", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xA1, 0x61, 'k', 0xF9, 0x3C, 0x00}; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with an indefinite map", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xBF, 0x61, 'k', 0x00, 0xFF}; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"trailing byte", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.trailing = {0x00}; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"rpIdHash of another RP", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.rp_id_hash = wa_test::sha256_of(mfakit::as_bytes(std::string_view("example.test"))); },
       errc::webauthn_rejected, wa::check::rp_id_hash},
      {"credential ID length beyond the data", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.attested[16] = 0x7F; },
       errc::webauthn_malformed, wa::check::authenticator_data},
      {"credential ID length short by one", [](authenticator&, adf_t& d, cdf_t&, pol_t&) { d.attested[17] = static_cast<unsigned char>(d.attested[17] - 1); },
       errc::webauthn_malformed, wa::check::credential_public_key},
      {"credential ID of 1024 bytes", [](authenticator& a, adf_t& d, cdf_t&, pol_t&) { a.credential_id.assign(1024, 7); d.attested = a.attested_data(a.cose()); },
       errc::webauthn_malformed, wa::check::credential_id},
      {"algorithm not offered", [](authenticator& a, adf_t&, cdf_t&, pol_t& p) { p.algorithms = {a.alg == wa::cose_alg::es256 ? wa::cose_alg::eddsa : wa::cose_alg::es256}; },
       errc::webauthn_rejected, wa::check::algorithm},
      // clientDataJSON
      {"type webauthn.get", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.type = "webauthn.get"; },
       errc::webauthn_rejected, wa::check::client_data_type},
      {"another challenge", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.challenge_b64 = wa::base64url_encode(auth_challenge); },
       errc::webauthn_rejected, wa::check::challenge},
      {"challenge one byte short", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.challenge_b64 = wa::base64url_encode(bytes(reg_challenge.begin(), reg_challenge.end() - 1)); },
       errc::webauthn_rejected, wa::check::challenge},
      {"challenge padded", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.challenge_b64 += "="; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"challenge in standard base64", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.challenge_b64 = std::string(c.challenge_b64.size(), '+'); },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"origin of another site", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.origin = "https://evil.example.test"; },
       errc::webauthn_rejected, wa::check::origin},
      {"origin with a trailing slash", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.origin += "/"; },
       errc::webauthn_rejected, wa::check::origin},
      {"origin over http", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.origin = "http://login.example.test"; },
       errc::webauthn_rejected, wa::check::origin},
      {"origin in capitals", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.origin = "https://LOGIN.example.test"; },
       errc::webauthn_rejected, wa::check::origin},
      {"origin with a port", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.origin += ":8443"; },
       errc::webauthn_rejected, wa::check::origin},
      {"crossOrigin true", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.cross_origin = "true"; },
       errc::webauthn_rejected, wa::check::cross_origin},
      {"crossOrigin a string", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.cross_origin = "\"false\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"topOrigin present", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"topOrigin\":\"https://top.example.test\""; },
       errc::webauthn_rejected, wa::check::cross_origin},
      {"type twice", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"type\":\"webauthn.create\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"unknown member twice", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":1,\"x\":2"; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"challenge a number", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ""; c.challenge_b64 = "\"+1+\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"a bad escape", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":\"\\q\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"a lone surrogate", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":\"\\ud800\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"not UTF-8", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":\"\xC3\x28\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"a control character", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":\"a\nb\""; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"a bad number", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":01"; },
       errc::webauthn_malformed, wa::check::client_data_json},
      {"nested 17 deep", [](authenticator&, adf_t&, cdf_t& c, pol_t&) { c.extra = ",\"x\":" + std::string(17, '[') + std::string(17, ']'); },
       errc::webauthn_malformed, wa::check::client_data_json},
  };
  for (wa::cose_alg alg : all_algs) {
    for (const mutation& m : table) {
      INFO(alg_name(alg) << ": " << m.name);
      authenticator a(alg);
      auto adf = a.registration_auth_data();
      auto cdf = wa_test::create_client_data(reg_challenge);
      wa::registration_policy pol;
      m.apply(a, adf, cdf, pol);
      const auto r = wa_test::make_registration(a, format::packed_self, adf, cdf);
      const outcome o = register_with(r, pol);
      CHECK(o.ec == m.code);
      CHECK(std::string(wa::name(o.why)) == std::string(wa::name(m.why)));
    }
  }
}

TEST_CASE("registration: unknown client data members are ignored, a valid extension map is taken", "[webauthn][verify]") {
  authenticator a(wa::cose_alg::es256);
  auto adf = a.registration_auth_data();
  adf.flags |= wa::flag::ed;
  adf.extensions = {0xA1, 0x6B, 'c', 'r', 'e', 'd', 'P', 'r', 'o', 't', 'e', 'c', 't', 0x02};
  auto cdf = wa_test::create_client_data(reg_challenge);
  cdf.extra = ",\"other_keys_can_be_added_here\":\"do not compare clientDataJSON against a template\",\"n\":[1,2.5e3,{\"k\":null}]";
  wa::registered_credential cred;
  {
    // the input is gone before the credential is read: its extensions own their bytes
    auto reg = wa_test::make_registration(a, format::packed_self, adf, cdf);
    const outcome o = register_with(reg, {}, wa_test::test_rp(), {}, &cred);
    INFO(wa::name(o.why));
    REQUIRE(!o.ec);
    std::fill(reg.attestation_object.begin(), reg.attestation_object.end(), 0);
  }
  REQUIRE(cred.extensions);
  REQUIRE(cred.extensions->item().find("credProtect") != nullptr);
  CHECK(cred.extensions->item().find("credProtect")->as_int() == 2);
  CHECK(bytes(cred.extensions->encoded().begin(), cred.extensions->encoded().end()) == adf.extensions);
  // a copy views its own bytes, and so does what a move leaves
  std::optional<wa::registered_credential> held(cred);
  const wa::registered_credential copy = *held;
  const wa::registered_credential moved = std::move(*held);
  held.reset();
  cred = copy;
  for (const wa::registered_credential* c : {&copy, &moved, static_cast<const wa::registered_credential*>(&cred)}) {
    REQUIRE(c->extensions);
    const auto* v = (*c->extensions)->find("credProtect");
    REQUIRE(v != nullptr);
    CHECK(v->as_int() == 2);
    CHECK((*c->extensions)->items[0].text() == "credProtect");
    CHECK((*c->extensions)->encoded.data() == c->extensions->encoded().data());
  }
}

TEST_CASE("assertion: the extension outputs outlive the authenticator data they came from", "[webauthn][verify]") {
  authenticator a(wa::cose_alg::eddsa);
  const stored s = stored_for(a);
  auto adf = a.assertion_auth_data();
  adf.flags |= wa::flag::ed;
  adf.extensions = {0xA1, 0x64, 'h', 'm', 'a', 'c', 0x43, 1, 2, 3};
  wa::assertion_result res;
  {
    auto as = wa_test::make_assertion(a, adf, wa_test::get_client_data(auth_challenge));
    const outcome o = assert_with(s, as, {}, {}, user_handle, {}, &res);
    INFO(wa::name(o.why));
    REQUIRE(!o.ec);
    std::fill(as.authenticator_data.begin(), as.authenticator_data.end(), 0);
  }
  REQUIRE(res.extensions);
  const auto* v = res.extensions->item().find("hmac");
  REQUIRE(v != nullptr);
  CHECK(bytes(v->data.begin(), v->data.end()) == bytes{1, 2, 3});
}

TEST_CASE("registration: COSE key confusions and malformed keys are refused", "[webauthn][verify][cose]") {
  using wa_test::cbor_out;
  authenticator ec(wa::cose_alg::es256);
  const bytes point = wa_test::ec_point(ec.key.get());
  const bytes x(point.begin() + 1, point.begin() + 33), y(point.begin() + 33, point.end());
  const auto p384 = wa_test::pkey([] { return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"); }());
  const bytes p384_point = [&] {
    bytes out(97);
    std::size_t len = 0;
    REQUIRE(EVP_PKEY_get_octet_string_param(p384.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(), out.size(), &len) == 1);
    return out;
  }();
  authenticator ed(wa::cose_alg::eddsa);
  bytes ed_raw(32);
  std::size_t ed_len = 32;
  REQUIRE(EVP_PKEY_get_raw_public_key(ed.key.get(), ed_raw.data(), &ed_len) == 1);
  const auto rsa1024 = wa_test::generate(wa::cose_alg::rs256, 1024);
  const auto ed448 = wa_test::pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  bytes ed448_raw(57);
  std::size_t ed448_len = 57;
  REQUIRE(EVP_PKEY_get_raw_public_key(ed448.get(), ed448_raw.data(), &ed448_len) == 1);
  bytes off_curve = y;
  off_curve[31] ^= 1;

  struct key_case {
    const char* name;
    bytes cose;
    errc code;
  };
  auto ec2 = [&](std::int64_t alg, std::int64_t crv, const bytes& xx, const bytes& yy) {
    cbor_out c;
    c.map(5).integer(1).integer(2).integer(3).integer(alg).integer(-1).integer(crv).integer(-2).byte_string(xx).integer(-3).byte_string(yy);
    return c.b;
  };
  auto okp = [&](std::int64_t alg, std::int64_t crv, const bytes& xx) {
    cbor_out c;
    c.map(4).integer(1).integer(1).integer(3).integer(alg).integer(-1).integer(crv).integer(-2).byte_string(xx);
    return c.b;
  };
  const bytes p384_x(p384_point.begin() + 1, p384_point.begin() + 49), p384_y(p384_point.begin() + 49, p384_point.end());
  const std::vector<key_case> cases{
      {"P-384 key under -7", ec2(-7, 2, p384_x, p384_y), errc::webauthn_unsupported},
      {"P-256 coordinates named P-384 under -7", ec2(-7, 2, x, y), errc::webauthn_unsupported},
      {"P-384 key under ES384 (-35)", ec2(-35, 2, p384_x, p384_y), errc::webauthn_unsupported},
      {"EC2 key under -8", ec2(-8, 1, x, y), errc::webauthn_unsupported},
      {"EC2 key under -257", ec2(-257, 1, x, y), errc::webauthn_unsupported},
      {"OKP key under -7", okp(-7, 6, ed_raw), errc::webauthn_unsupported},
      {"Ed448 key under -8", okp(-8, 7, ed448_raw), errc::webauthn_unsupported},
      {"Ed25519 bytes named Ed448 under -8", okp(-8, 7, ed_raw), errc::webauthn_unsupported},
      {"X25519 under -8", okp(-8, 4, ed_raw), errc::webauthn_unsupported},
      {"RSA key under -7", [&] { cbor_out c; c.map(4).integer(1).integer(3).integer(3).integer(-7).integer(-1).byte_string(bytes(256, 0xC3)).integer(-2).byte_string(bytes{1, 0, 1}); return c.b; }(), errc::webauthn_unsupported},
      {"RSA-1024", wa_test::cose_of(rsa1024.get(), wa::cose_alg::rs256), errc::webauthn_unsupported},
      {"RSA even exponent", [&] { cbor_out c; c.map(4).integer(1).integer(3).integer(3).integer(-257).integer(-1).byte_string(wa_test::bn_param(wa_test::generate(wa::cose_alg::rs256).get(), OSSL_PKEY_PARAM_RSA_N)).integer(-2).byte_string(bytes{1, 0, 0}); return c.b; }(), errc::webauthn_unsupported},
      {"RSA even modulus", [&] { bytes n = wa_test::bn_param(wa_test::generate(wa::cose_alg::rs256).get(), OSSL_PKEY_PARAM_RSA_N); n.back() &= 0xFE; cbor_out c; c.map(4).integer(1).integer(3).integer(3).integer(-257).integer(-1).byte_string(n).integer(-2).byte_string(bytes{1, 0, 1}); return c.b; }(), errc::webauthn_unsupported},
      {"RSA modulus with a leading zero byte", [&] { bytes n{0}; const bytes m = wa_test::bn_param(wa_test::generate(wa::cose_alg::rs256).get(), OSSL_PKEY_PARAM_RSA_N); n.insert(n.end(), m.begin(), m.end()); cbor_out c; c.map(4).integer(1).integer(3).integer(3).integer(-257).integer(-1).byte_string(n).integer(-2).byte_string(bytes{1, 0, 1}); return c.b; }(), errc::webauthn_malformed},
      {"RSA exponent 1", [&] { cbor_out c; c.map(4).integer(1).integer(3).integer(3).integer(-257).integer(-1).byte_string(wa_test::bn_param(wa_test::generate(wa::cose_alg::rs256).get(), OSSL_PKEY_PARAM_RSA_N)).integer(-2).byte_string(bytes{1}); return c.b; }(), errc::webauthn_unsupported},
      {"x of 31 bytes", ec2(-7, 1, bytes(x.begin(), x.end() - 1), y), errc::webauthn_malformed},
      {"y compressed (a boolean)", [&] { cbor_out c; c.map(5).integer(1).integer(2).integer(3).integer(-7).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3); c.b.push_back(0xF5); return c.b; }(), errc::webauthn_malformed},
      {"point not on the curve", ec2(-7, 1, x, off_curve), errc::webauthn_unsupported},
      {"the point at zero", ec2(-7, 1, bytes(32, 0), bytes(32, 0)), errc::webauthn_unsupported},
      {"a private key (d) included", [&] { cbor_out c; c.map(6).integer(1).integer(2).integer(3).integer(-7).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y).integer(-4).byte_string(bytes(32, 1)); return c.b; }(), errc::webauthn_unsupported},
      {"alg missing", [&] { cbor_out c; c.map(4).integer(1).integer(2).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y); return c.b; }(), errc::webauthn_malformed},
      {"kty missing", [&] { cbor_out c; c.map(4).integer(3).integer(-7).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y); return c.b; }(), errc::webauthn_malformed},
      {"labels out of canonical order", [&] { cbor_out c; c.map(5).integer(3).integer(-7).integer(1).integer(2).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y); return c.b; }(), errc::webauthn_malformed},
      {"a label twice", [&] { cbor_out c; c.map(5).integer(1).integer(2).integer(1).integer(2).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y); return c.b; }(), errc::webauthn_malformed},
      {"alg in a longer form than needed", [&] { cbor_out c; c.map(5).integer(1).integer(2).integer(3); c.b.push_back(0x38); c.b.push_back(0x06); c.integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y); return c.b; }(), errc::webauthn_malformed},
      {"a text label", [&] { cbor_out c; c.map(6).integer(1).integer(2).integer(3).integer(-7).integer(-1).integer(1).integer(-2).byte_string(x).integer(-3).byte_string(y).text("k").integer(0); return c.b; }(), errc::webauthn_unsupported},
      {"not a map", [&] { cbor_out c; c.array(1).integer(1); return c.b; }(), errc::webauthn_malformed},
  };
  for (const key_case& k : cases) {
    INFO(k.name);
    CHECK(wa::cose_key::parse(k.cose).error() == k.code);
    // and inside a registration: refused at the key
    auto adf = ec.registration_auth_data();
    adf.attested = ec.attested_data(k.cose);
    const auto r = wa_test::make_registration(ec, format::none, adf, wa_test::create_client_data(reg_challenge));
    const outcome o = register_with(r);
    CHECK(o.ec == k.code);
    CHECK((o.why == wa::check::credential_public_key));
  }
  // the good ones parse
  CHECK(wa::cose_key::parse(ec2(-7, 1, x, y)));
  CHECK(wa::cose_key::parse(okp(-8, 6, ed_raw)));
}

TEST_CASE("registration: attestation objects and statements that are refused", "[webauthn][verify][attestation]") {
  using wa_test::cbor_out;
  for (wa::cose_alg alg : all_algs) {
    INFO(alg_name(alg));
    authenticator a(alg);
    const auto cdf = wa_test::create_client_data(reg_challenge);
    const bytes cdj = wa_test::as_vec(cdf.json());
    const bytes cdh = wa_test::sha256_of(cdj);
    const bytes ad = a.registration_auth_data().build();
    auto reg = [&](const bytes& obj, const wa::registration_policy& pol = {}) {
      return register_with(wa_test::registration{reg_challenge, cdj, obj}, pol);
    };
    const bytes self_stmt = wa_test::statement(a, format::packed_self, ad, cdh, a.aaguid);
    // a valid object first, as the control
    CHECK(!reg(wa_test::attestation_object("packed", self_stmt, ad)).ec);

    auto expect = [&](const char* what, const bytes& obj, errc code, wa::check why, const wa::registration_policy& pol = {}) {
      INFO(what);
      const outcome o = reg(obj, pol);
      CHECK(o.ec == code);
      CHECK(std::string(wa::name(o.why)) == std::string(wa::name(why)));
    };
    {
      cbor_out o;  // authData first: not canonical
      o.map(3).text("authData").byte_string(ad).text("fmt").text("packed").text("attStmt").raw(self_stmt);
      expect("keys out of canonical order", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      cbor_out o;
      o.b.push_back(0xBF);
      o.text("fmt").text("packed").text("attStmt").raw(self_stmt).text("authData").byte_string(ad);
      o.b.push_back(0xFF);
      expect("an indefinite-length map", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      cbor_out o;
      o.map(4).text("fmt").text("packed").text("attStmt").raw(self_stmt).text("authData").byte_string(ad).text("extraKey").integer(0);
      expect("a fourth key", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      bytes obj = wa_test::attestation_object("packed", self_stmt, ad);
      obj.push_back(0x00);
      expect("a trailing byte", obj, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      cbor_out o;  // authData claims 4 GiB
      o.map(3).text("fmt").text("packed").text("attStmt").raw(self_stmt).text("authData");
      o.b.insert(o.b.end(), {0x5A, 0xFF, 0xFF, 0xFF, 0xFF});
      o.raw(ad);
      expect("a huge length", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      cbor_out o;  // authData's length in 8 bytes: not the shortest form
      o.map(3).text("fmt").text("packed").text("attStmt").raw(self_stmt).text("authData");
      o.b.push_back(0x5B);
      for (int s = 56; s >= 0; s -= 8) o.b.push_back(static_cast<unsigned char>(ad.size() >> s));
      o.raw(ad);
      expect("a length in a longer form than needed", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      cbor_out o;  // a map claiming 2^32 pairs
      o.b.insert(o.b.end(), {0xBA, 0xFF, 0xFF, 0xFF, 0xFF});
      expect("a huge map count", o.b, errc::webauthn_malformed, wa::check::attestation_object);
    }
    {
      bytes deep;
      for (int i = 0; i < 10000; ++i) deep.push_back(0x81);
      deep.push_back(0x00);
      expect("deep nesting", deep, errc::webauthn_malformed, wa::check::attestation_object);
    }
    expect("fmt in capitals", wa_test::attestation_object("Packed", self_stmt, ad), errc::webauthn_unsupported,
           wa::check::attestation_format);
    expect("fmt tpm", wa_test::attestation_object("tpm", self_stmt, ad), errc::webauthn_unsupported,
           wa::check::attestation_format);
    {
      wa::registration_policy as_none;
      as_none.attestation.unsupported_formats_as_none = true;
      INFO("tpm taken as none when the host asks");
      CHECK(!reg(wa_test::attestation_object("tpm", self_stmt, ad), as_none).ec);
    }
    expect("none with a statement", wa_test::attestation_object("none", self_stmt, ad), errc::webauthn_malformed,
           wa::check::attestation_statement);
    {
      cbor_out st;
      st.map(2).text("alg").integer(alg == wa::cose_alg::es256 ? -8 : -7).text("sig").byte_string(
          wa_test::sign(a.key.get(), a.alg, wa_test::concat(ad, cdh)));
      expect("self attestation under another alg", wa_test::attestation_object("packed", st.b, ad),
             errc::webauthn_rejected, wa::check::attestation_statement);
    }
    {
      cbor_out st;
      st.map(2).text("alg").integer(static_cast<std::int64_t>(alg)).text("sig").byte_string(
          wa_test::sign(a.key.get(), a.alg, wa_test::concat(ad, wa_test::sha256_of(mfakit::as_bytes(std::string_view("x"))))));
      expect("self signature over other client data", wa_test::attestation_object("packed", st.b, ad),
             errc::webauthn_rejected, wa::check::attestation_statement);
    }
    {
      cbor_out st;
      st.map(3).text("alg").integer(static_cast<std::int64_t>(alg)).text("sig").byte_string(
          wa_test::sign(a.key.get(), a.alg, wa_test::concat(ad, cdh))).text("ecdaaKeyId").byte_string(bytes(4, 1));
      expect("ecdaaKeyId", wa_test::attestation_object("packed", st.b, ad), errc::webauthn_malformed,
             wa::check::attestation_statement);
    }
    {
      cbor_out st;
      st.map(2).text("alg").integer(-35).text("sig").byte_string(bytes(64, 1));
      expect("an unsupported statement alg", wa_test::attestation_object("packed", st.b, ad), errc::webauthn_unsupported,
             wa::check::attestation_statement);
    }
    // x5c: the leaf's fields
    auto x5c = [&](wa_test::cert_fields cf) {
      return wa_test::attestation_object("packed", wa_test::statement(a, format::packed_x5c, ad, cdh, a.aaguid, cf), ad);
    };
    CHECK(!reg(x5c({})).ec);
    {
      wa_test::cert_fields cf;
      cf.ou = "Authenticator";
      expect("x5c: OU not 'Authenticator Attestation'", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.c = "";
      expect("x5c: no country", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.cn = "";
      expect("x5c: no common name", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.ca = true;
      expect("x5c: a CA certificate", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.aaguid = bytes(16, 0x11);
      expect("x5c: another AAGUID", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.aaguid_critical = true;
      expect("x5c: the AAGUID extension critical", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      wa_test::cert_fields cf;
      cf.version = X509_VERSION_1;
      expect("x5c: version 1", x5c(cf), errc::webauthn_rejected, wa::check::attestation_certificate);
    }
    {
      // the statement signed by the credential key, the leaf's key another
      cbor_out st;
      const auto leaf_key = wa_test::generate(alg);
      const auto leaf = wa_test::make_cert(leaf_key.get(), leaf_key.get(), nullptr, {});
      st.map(3).text("alg").integer(static_cast<std::int64_t>(alg)).text("sig").byte_string(
          wa_test::sign(a.key.get(), a.alg, wa_test::concat(ad, cdh))).text("x5c").array(1).byte_string(wa_test::der_of(leaf.get()));
      expect("x5c: signature not by the leaf", wa_test::attestation_object("packed", st.b, ad), errc::webauthn_rejected,
             wa::check::attestation_statement);
    }
    {
      cbor_out st;
      const auto leaf_key = wa_test::generate(alg == wa::cose_alg::es256 ? wa::cose_alg::eddsa : wa::cose_alg::es256);
      const auto leaf = wa_test::make_cert(leaf_key.get(), leaf_key.get(), nullptr, {});
      st.map(3).text("alg").integer(static_cast<std::int64_t>(alg)).text("sig").byte_string(bytes(64, 1)).text("x5c").array(1).byte_string(wa_test::der_of(leaf.get()));
      expect("x5c: the leaf's key not of the statement's alg", wa_test::attestation_object("packed", st.b, ad),
             errc::webauthn_unsupported, wa::check::attestation_certificate);
    }
    {
      cbor_out st;
      st.map(3).text("alg").integer(static_cast<std::int64_t>(alg)).text("sig").byte_string(bytes(64, 1)).text("x5c").array(1).byte_string(bytes{0x30, 0x03, 0x02, 0x01, 0x01});
      expect("x5c: not a certificate", wa_test::attestation_object("packed", st.b, ad), errc::webauthn_malformed,
             wa::check::attestation_statement);
    }
    if (alg != wa::cose_alg::es256) {
      // fido-u2f takes P-256 credentials only
      cbor_out st;
      const auto k = wa_test::generate(wa::cose_alg::es256);
      const auto leaf = wa_test::make_cert(k.get(), k.get(), nullptr, {});
      st.map(2).text("sig").byte_string(bytes(70, 1)).text("x5c").array(1).byte_string(wa_test::der_of(leaf.get()));
      expect("fido-u2f with a non-P-256 credential", wa_test::attestation_object("fido-u2f", st.b, ad),
             errc::webauthn_unsupported, wa::check::credential_public_key);
    }
  }
  // fido-u2f's own checks
  authenticator a(wa::cose_alg::es256);
  const auto cdf = wa_test::create_client_data(reg_challenge);
  const bytes cdj = wa_test::as_vec(cdf.json());
  const bytes ad = a.registration_auth_data().build();
  bytes st = wa_test::statement(a, format::fido_u2f, ad, wa_test::sha256_of(cdj), a.aaguid);
  CHECK(!register_with(wa_test::registration{reg_challenge, cdj, wa_test::attestation_object("fido-u2f", st, ad)}).ec);
  bytes other_cdh = wa_test::sha256_of(mfakit::as_bytes(std::string_view("other")));
  bytes st_bad = wa_test::statement(a, format::fido_u2f, ad, other_cdh, a.aaguid);
  const outcome o = register_with(wa_test::registration{reg_challenge, cdj, wa_test::attestation_object("fido-u2f", st_bad, ad)});
  CHECK(o.ec == errc::webauthn_rejected);
  CHECK((o.why == wa::check::attestation_statement));
}

TEST_CASE("registration: rawId must be the attested credential ID", "[webauthn][verify]") {
  authenticator a(wa::cose_alg::es256);
  const auto r = wa_test::make_registration(a, format::none, a.registration_auth_data(), wa_test::create_client_data(reg_challenge));
  CHECK(!register_with(r, {}, wa_test::test_rp(), a.credential_id).ec);
  bytes other = a.credential_id;
  other[0] ^= 1;
  const outcome o = register_with(r, {}, wa_test::test_rp(), other);
  CHECK(o.ec == errc::webauthn_rejected);
  CHECK((o.why == wa::check::credential_id));
}

TEST_CASE("assertion mutations: each broken part is refused at its own check", "[webauthn][verify][mutation]") {
  struct mutation {
    const char* name;
    std::function<void(wa_test::auth_data_fields&, wa_test::client_data_fields&, wa::stored_credential&, wa::assertion_policy&)> apply;
    errc code;
    wa::check why;
  };
  using adf_t = wa_test::auth_data_fields;
  using cdf_t = wa_test::client_data_fields;
  using rec_t = wa::stored_credential;
  using pol_t = wa::assertion_policy;
  const std::vector<mutation> table{
      {"UP off", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags &= static_cast<std::uint8_t>(~wa::flag::up); }, errc::webauthn_rejected, wa::check::user_present},
      {"UV off", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags &= static_cast<std::uint8_t>(~wa::flag::uv); }, errc::webauthn_rejected, wa::check::user_verified},
      {"BS without BE", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::bs; }, errc::webauthn_rejected, wa::check::backup_state},
      {"BE true -> false", [](adf_t&, cdf_t&, rec_t& r, pol_t&) { r.backup_eligible = true; }, errc::webauthn_rejected, wa::check::backup_eligibility},
      {"BE false -> true where the host forbids it", [](adf_t& d, cdf_t&, rec_t&, pol_t& p) { d.flags |= wa::flag::be; p.allow_backup_eligibility_gain = false; }, errc::webauthn_rejected, wa::check::backup_eligibility},
      {"AT in an assertion", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::at; d.attested = authenticator(wa::cose_alg::es256).attested_data(authenticator(wa::cose_alg::es256).cose()); }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"AT flag alone", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::at; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"ED on, no extensions", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::ed; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with trailing bytes", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xA1, 0x61, 'k', 0x00, 0x00}; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with a duplicate key", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xA2, 0x61, 'k', 0x00, 0x61, 'k', 0x01}; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"extensions with invalid UTF-8", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.flags |= wa::flag::ed; d.extensions = {0xA1, 0x61, 0xFF, 0x00}; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"trailing byte", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.trailing = {0x00}; }, errc::webauthn_malformed, wa::check::authenticator_data},
      {"rpIdHash of another RP", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.rp_id_hash = wa_test::sha256_of(mfakit::as_bytes(std::string_view("example.test"))); }, errc::webauthn_rejected, wa::check::rp_id_hash},
      {"rpIdHash of the RP's parent domain", [](adf_t& d, cdf_t&, rec_t&, pol_t&) { d.rp_id_hash = wa_test::sha256_of(mfakit::as_bytes(std::string_view("example.test"))); }, errc::webauthn_rejected, wa::check::rp_id_hash},
      {"counter equal to the stored one", [](adf_t& d, cdf_t&, rec_t& r, pol_t&) { r.sign_count = 9; d.sign_count = 9; }, errc::webauthn_counter_regressed, wa::check::counter},
      {"counter below the stored one", [](adf_t& d, cdf_t&, rec_t& r, pol_t&) { r.sign_count = 9; d.sign_count = 2; }, errc::webauthn_counter_regressed, wa::check::counter},
      {"counter back to 0", [](adf_t& d, cdf_t&, rec_t& r, pol_t&) { r.sign_count = 9; d.sign_count = 0; }, errc::webauthn_counter_regressed, wa::check::counter},
      {"type webauthn.create", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.type = "webauthn.create"; }, errc::webauthn_rejected, wa::check::client_data_type},
      {"type empty", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.type = ""; }, errc::webauthn_rejected, wa::check::client_data_type},
      {"the registration's challenge", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.challenge_b64 = wa::base64url_encode(reg_challenge); }, errc::webauthn_rejected, wa::check::challenge},
      {"an empty challenge", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.challenge_b64 = ""; }, errc::webauthn_rejected, wa::check::challenge},
      {"challenge with a bad last character", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.challenge_b64.back() = 'B'; }, errc::webauthn_malformed, wa::check::client_data_json},
      {"origin of another site", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.origin = "https://login.example.test.evil"; }, errc::webauthn_rejected, wa::check::origin},
      {"origin a subdomain", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.origin = "https://a.login.example.test"; }, errc::webauthn_rejected, wa::check::origin},
      {"origin missing", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.extra = ""; c.origin = "\",\"x\":\""; }, errc::webauthn_rejected, wa::check::origin},
      {"crossOrigin true", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.cross_origin = "true"; }, errc::webauthn_rejected, wa::check::cross_origin},
      {"crossOrigin null", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.cross_origin = "null"; }, errc::webauthn_malformed, wa::check::client_data_json},
      {"topOrigin with crossOrigin false", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.extra = ",\"topOrigin\":\"https://login.example.test\""; }, errc::webauthn_rejected, wa::check::cross_origin},
      {"challenge twice", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.extra = ",\"challenge\":\"" + wa::base64url_encode(auth_challenge) + "\""; }, errc::webauthn_malformed, wa::check::client_data_json},
      {"origin twice", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.extra = ",\"origin\":\"https://login.example.test\""; }, errc::webauthn_malformed, wa::check::client_data_json},
      {"text after the object", [](adf_t&, cdf_t& c, rec_t&, pol_t&) { c.extra = "}{"; }, errc::webauthn_malformed, wa::check::client_data_json},
      {"the user handle of another user", [](adf_t&, cdf_t&, rec_t& r, pol_t&) { static const bytes other(32, 0x43); r.user_handle = other; }, errc::webauthn_rejected, wa::check::user_handle},
  };
  for (wa::cose_alg alg : all_algs) {
    for (const mutation& m : table) {
      INFO(alg_name(alg) << ": " << m.name);
      authenticator a(alg);
      stored s = stored_for(a);
      auto adf = a.assertion_auth_data();
      auto cdf = wa_test::get_client_data(auth_challenge);
      wa::assertion_policy pol;
      m.apply(adf, cdf, s.rec, pol);
      const auto as = wa_test::make_assertion(a, adf, cdf);
      const outcome o = assert_with(s, as, pol, {}, user_handle);
      CHECK(o.ec == m.code);
      CHECK(std::string(wa::name(o.why)) == std::string(wa::name(m.why)));
    }
  }
}

TEST_CASE("assertion: the counter rule, backup eligibility gained, UV for the first time", "[webauthn][verify]") {
  authenticator a(wa::cose_alg::es256);
  struct counter_case {
    std::uint32_t stored, received;
    bool ok;
  };
  for (const counter_case& c : {counter_case{0, 0, true}, counter_case{0, 1, true}, counter_case{5, 6, true},
                                counter_case{5, 0xFFFFFFFF, true}, counter_case{5, 5, false}, counter_case{5, 4, false},
                                counter_case{5, 0, false}, counter_case{0xFFFFFFFF, 0xFFFFFFFF, false}}) {
    INFO(c.stored << " -> " << c.received);
    CHECK(wa::counter_ok(c.stored, c.received) == c.ok);
    stored s = stored_for(a, c.stored);
    auto adf = a.assertion_auth_data();
    adf.sign_count = c.received;
    wa::assertion_result res;
    const outcome o = assert_with(s, wa_test::make_assertion(a, adf, wa_test::get_client_data(auth_challenge)), {}, {}, {}, {}, &res);
    CHECK(!o.ec == c.ok);
    if (c.ok) CHECK(res.sign_count == c.received);
    if (!c.ok) CHECK(o.ec == errc::webauthn_counter_regressed);
  }
  {
    stored s = stored_for(a);
    auto adf = a.assertion_auth_data();
    adf.flags |= wa::flag::be | wa::flag::bs;
    wa::assertion_result res;
    const outcome o = assert_with(s, wa_test::make_assertion(a, adf, wa_test::get_client_data(auth_challenge)), {}, {}, {}, {}, &res);
    REQUIRE(!o.ec);
    CHECK(res.backup_eligibility_gained);
    CHECK(res.backup_state_changed);
    CHECK(res.backed_up);
  }
  {
    stored s = stored_for(a);
    s.rec.user_verified = false;
    wa::assertion_result res;
    const outcome o = assert_with(s, wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(auth_challenge)), {}, {}, {}, {}, &res);
    REQUIRE(!o.ec);
    CHECK(res.user_verified_first_time);
  }
  {
    // UV not required by the host: an assertion without UV passes, and says so
    stored s = stored_for(a);
    auto adf = a.assertion_auth_data();
    adf.flags = wa::flag::up;
    wa::assertion_policy pol;
    pol.require_user_verification = false;
    wa::assertion_result res;
    const outcome o = assert_with(s, wa_test::make_assertion(a, adf, wa_test::get_client_data(auth_challenge)), pol, {}, {}, {}, &res);
    REQUIRE(!o.ec);
    CHECK_FALSE(res.user_verified);
  }
}

TEST_CASE("assertion: credential ID, allowCredentials and user handle", "[webauthn][verify]") {
  authenticator a(wa::cose_alg::eddsa);
  stored s = stored_for(a);
  const auto as = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(auth_challenge));
  bytes other_id = a.credential_id;
  other_id.back() ^= 1;
  outcome o = assert_with(s, as, {}, other_id);
  CHECK(o.ec == errc::webauthn_rejected);
  CHECK((o.why == wa::check::credential_id));
  const std::vector<bytes> allow_other{other_id};
  o = assert_with(s, as, {}, {}, {}, allow_other);
  CHECK((o.why == wa::check::credential_id));
  const std::vector<bytes> allow_both{other_id, a.credential_id};
  CHECK(!assert_with(s, as, {}, {}, {}, allow_both).ec);
  wa::assertion_policy passwordless;
  passwordless.require_user_handle = true;
  o = assert_with(s, as, passwordless);
  CHECK((o.why == wa::check::user_handle));
  CHECK(!assert_with(s, as, passwordless, {}, user_handle).ec);
}

TEST_CASE("assertion: bad signatures", "[webauthn][verify][mutation]") {
  for (wa::cose_alg alg : all_algs) {
    INFO(alg_name(alg));
    authenticator a(alg);
    stored s = stored_for(a);
    const auto good = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(auth_challenge));
    REQUIRE(!assert_with(s, good).ec);
    auto with_sig = [&](bytes sig) {
      auto as = good;
      as.signature = std::move(sig);
      return assert_with(s, as);
    };
    std::vector<std::pair<const char*, bytes>> sigs;
    sigs.emplace_back("empty", bytes{});
    sigs.emplace_back("truncated", bytes(good.signature.begin(), good.signature.end() - 1));
    sigs.emplace_back("one byte more", wa_test::concat(good.signature, bytes{0}));
    authenticator other(alg);
    sigs.emplace_back("another key's", wa_test::make_assertion(other, other.assertion_auth_data(), wa_test::get_client_data(auth_challenge)).signature);
    sigs.emplace_back("over the authenticator data alone", wa_test::sign(a.key.get(), alg, good.authenticator_data));
    if (alg == wa::cose_alg::es256) {
      // DER with a needless leading zero in r: the same numbers, not the one encoding
      bytes der = good.signature;
      const std::size_t rlen = der[3];
      bytes padded{0x30, static_cast<unsigned char>(der[1] + 1), 0x02, static_cast<unsigned char>(rlen + 1), 0x00};
      padded.insert(padded.end(), der.begin() + 4, der.end());
      sigs.emplace_back("non-canonical DER", padded);
    }
    for (auto& [what, sig] : sigs) {
      INFO(what);
      const outcome o = with_sig(sig);
      CHECK(o.ec == errc::webauthn_rejected);
      CHECK((o.why == wa::check::signature));
    }
  }
}

TEST_CASE("every signed byte flipped, not re-signed, is refused", "[webauthn][verify][mutation]") {
  for (wa::cose_alg alg : all_algs) {
    INFO(alg_name(alg));
    authenticator a(alg);
    stored s = stored_for(a);
    auto adf = a.assertion_auth_data();
    adf.flags |= wa::flag::ed;
    adf.extensions = {0xA1, 0x61, 'k', 0x00};
    const auto good = wa_test::make_assertion(a, adf, wa_test::get_client_data(auth_challenge));
    REQUIRE(!assert_with(s, good).ec);
    std::size_t refused = 0, tried = 0;
    for (const unsigned bit_value : {0x01U, 0x02U, 0x20U, 0x80U}) {
      const auto bit = static_cast<unsigned char>(bit_value);
      for (std::size_t i = 0; i < good.authenticator_data.size(); ++i) {
        auto as = good;
        as.authenticator_data[i] ^= bit;
        ++tried;
        refused += assert_with(s, as).ec ? 1 : 0;
      }
      for (std::size_t i = 0; i < good.client_data_json.size(); ++i) {
        auto as = good;
        as.client_data_json[i] ^= bit;
        ++tried;
        refused += assert_with(s, as).ec ? 1 : 0;
      }
      for (std::size_t i = 0; i < good.signature.size(); i += (alg == wa::cose_alg::rs256 ? 7 : 1)) {
        auto as = good;
        as.signature[i] ^= bit;
        ++tried;
        refused += assert_with(s, as).ec ? 1 : 0;
      }
    }
    CHECK(refused == tried);
    // and the registration: every byte of a packed self attestation object
    const auto r = wa_test::make_registration(a, format::packed_self, a.registration_auth_data(), wa_test::create_client_data(reg_challenge));
    REQUIRE(!register_with(r).ec);
    refused = tried = 0;
    for (std::size_t i = 0; i < r.attestation_object.size(); i += (alg == wa::cose_alg::rs256 ? 3 : 1)) {
      auto m = r;
      m.attestation_object[i] ^= 0x01;
      ++tried;
      refused += register_with(m).ec ? 1 : 0;
    }
    CHECK(refused == tried);
  }
}
