// Passkey login options that name the account (a login by email): the
// user's credentials in allowCredentials, one stable made-up id for a user
// without passkeys (known or not, the same shape), the ceremony bound to
// that user (another user's credential is refused on it, and the refusal
// spends nothing), through both loops on memory_store.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <string>
#include <vector>

#include "../webauthn/soft_authenticator.hpp"
#include "../webauthn/webauthn_test_support.hpp"
#include "catch.hpp"
#include "loop.hpp"

namespace wa = mfakit::webauthn;
using mfakit::errc;
using wa_test::bytes;

namespace {

mfakit::flow_config test_config() {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(3 + i * 7);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(7, {mfakit::sealing_key(7, k)}).value());
  cfg.issuer = "Storno";
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  return cfg;
}

mfakit::passkey_settings settings(unsigned char key_byte = 0x5A) {
  mfakit::passkey_settings s;
  s.rp = wa_test::test_rp();
  s.rp_name = "Storno";
  s.decoy_key.assign(32, key_byte);
  return s;
}

std::string json_field(const std::string& json, const std::string& name) {
  const std::string tag = "\"" + name + "\":\"";
  const auto at = json.find(tag);
  REQUIRE(at != std::string::npos);
  const auto from = at + tag.size();
  return json.substr(from, json.find('"', from) - from);
}
bytes decoded(const std::string& b64) { return wa::base64url_decode(b64).value(); }

/// The ids of allowCredentials, in order (absent: none).
std::vector<bytes> allowed(const std::string& json) {
  std::vector<bytes> out;
  const auto at = json.find("\"allowCredentials\":[");
  if (at == std::string::npos) return out;
  const auto end = json.find(']', at);
  const std::string tag = "\"id\":\"";
  for (auto p = json.find(tag, at); p != std::string::npos && p < end; p = json.find(tag, p + 1)) {
    const auto from = p + tag.size();
    out.push_back(decoded(json.substr(from, json.find('"', from) - from)));
  }
  return out;
}

/// The JSON with every string value replaced by "<s>": what is left is the
/// answer's shape (ids of real credentials vary in length from one
/// authenticator to the next anyway).
std::string shape(const std::string& json) {
  std::string out;
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '"') {
      out.push_back(json[i]);
      continue;
    }
    const auto close = json.find('"', i + 1);
    const bool is_key = close + 1 < json.size() && json[close + 1] == ':';
    out += is_key ? json.substr(i, close - i + 1) : std::string("<s>");
    i = close;
  }
  return out;
}

struct fixture {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  mfakit::passkey_settings s = settings();
  test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock> svc{store, test_config(),
                                                                             mfakit::service_options<>{}, clock};

  bytes enrol(const std::string& user, wa_test::authenticator& a) {
    auto opts = svc.passkey_registration_options(s, user, user + "@example.test");
    REQUIRE(opts);
    bytes handle = decoded(json_field(opts->json.substr(opts->json.find("\"user\"")), "id"));
    auto reg = wa_test::make_registration(a, wa_test::format::none, a.registration_auth_data(),
                                          wa_test::create_client_data(decoded(json_field(opts->json, "challenge"))));
    REQUIRE(svc.passkey_register(s, user, "laptop", reg.client_data_json, reg.attestation_object));
    return handle;
  }
  wa_test::assertion sign(const wa_test::authenticator& a, const std::string& options_json) {
    return wa_test::make_assertion(a, a.assertion_auth_data(),
                                   wa_test::get_client_data(decoded(json_field(options_json, "challenge"))));
  }
  mfakit::result<mfakit::passkey_login_result> login(const wa_test::authenticator& a, const wa_test::assertion& x,
                                                     const bytes& handle) {
    return svc.passkey_login(s, a.credential_id, x.client_data_json, x.authenticator_data, x.signature, handle);
  }
};

}  // namespace

TEST_CASE("passkey login options by user list the user's passkeys, and a login on them yields the user",
          "[passkey][named]") {
  INFO(test_loop::name);
  fixture f;
  wa_test::authenticator a(wa::cose_alg::es256), b(wa::cose_alg::eddsa, 40);
  const bytes handle = f.enrol("alice", a);
  REQUIRE(f.enrol("alice", b) == handle);

  auto opts = f.svc.passkey_login_options(f.s, "alice");
  REQUIRE(opts);
  CHECK(allowed(opts->json) == std::vector<bytes>{a.credential_id, b.credential_id});
  CHECK(opts->json.find("\"userVerification\":\"required\"") != std::string::npos);

  SECTION("with the userHandle") {
    auto in = f.login(a, f.sign(a, opts->json), handle);
    REQUIRE(in);
    CHECK(in->user == "alice");
  }
  SECTION("without a userHandle (a credential the options named needs none)") {
    auto in = f.login(b, f.sign(b, opts->json), {});
    REQUIRE(in);
    CHECK(in->user == "alice");
  }
  SECTION("a wrong userHandle is still refused") {
    bytes other = handle;
    other[0] ^= 1U;
    CHECK(f.login(a, f.sign(a, opts->json), other).error() == errc::webauthn_rejected);
  }
  SECTION("a discoverable login still needs the userHandle") {
    auto open = f.svc.passkey_login_options(f.s);
    REQUIRE(open);
    CHECK(allowed(open->json).empty());
    CHECK(f.login(a, f.sign(a, open->json), {}).error() == errc::webauthn_rejected);
    CHECK(f.login(a, f.sign(a, open->json), handle));
  }
}

TEST_CASE("passkey login options by user: another user's credential is refused on them, and spends nothing",
          "[passkey][named]") {
  INFO(test_loop::name);
  fixture f;
  wa_test::authenticator a(wa::cose_alg::es256), m(wa::cose_alg::es256, 48);
  const bytes alice = f.enrol("alice", a);
  const bytes mallory = f.enrol("mallory", m);

  auto opts = f.svc.passkey_login_options(f.s, "alice");
  REQUIRE(opts);
  // mallory's own, valid assertion on the challenge of alice's options
  CHECK(f.login(m, f.sign(m, opts->json), mallory).error() == errc::webauthn_rejected);
  CHECK(f.login(m, f.sign(m, opts->json), {}).error() == errc::webauthn_rejected);
  // the ceremony is still alice's to use, once
  auto x = f.sign(a, opts->json);
  auto in = f.login(a, x, alice);
  REQUIRE(in);
  CHECK(in->user == "alice");
  CHECK(f.login(a, f.sign(a, opts->json), alice).error() == errc::webauthn_rejected);

  // and options for an unknown account admit no one's credential
  auto ghost = f.svc.passkey_login_options(f.s, "nobody");
  REQUIRE(ghost);
  CHECK(f.login(a, f.sign(a, ghost->json), alice).error() == errc::webauthn_rejected);
  CHECK(f.login(m, f.sign(m, ghost->json), mallory).error() == errc::webauthn_rejected);
}

TEST_CASE("passkey login options by user: no passkeys or no such user give one stable made-up id, same shape",
          "[passkey][named]") {
  INFO(test_loop::name);
  fixture f;
  wa_test::authenticator a(wa::cose_alg::es256);

  auto unknown1 = f.svc.passkey_login_options(f.s, "nobody@example.test");
  auto unknown2 = f.svc.passkey_login_options(f.s, "nobody@example.test");
  auto before = f.svc.passkey_login_options(f.s, "alice");
  REQUIRE(unknown1);
  REQUIRE(unknown2);
  REQUIRE(before);
  REQUIRE(allowed(unknown1->json).size() == 1);
  CHECK(allowed(unknown1->json) == allowed(unknown2->json));  // stable
  CHECK(json_field(unknown1->json, "challenge") != json_field(unknown2->json, "challenge"));
  REQUIRE(allowed(before->json).size() == 1);
  CHECK(allowed(before->json) != allowed(unknown1->json));  // one per user

  f.enrol("alice", a);
  auto with = f.svc.passkey_login_options(f.s, "alice");
  REQUIRE(with);
  CHECK(allowed(with->json) == std::vector<bytes>{a.credential_id});
  // an unknown user, a user without passkeys and a user with one: one shape
  CHECK(shape(unknown1->json) == shape(with->json));
  CHECK(shape(before->json) == shape(with->json));

  // the made-up id is the server key's: another key, another id
  mfakit::passkey_settings other = settings(0x33);
  auto elsewhere = f.svc.passkey_login_options(other, "nobody@example.test");
  REQUIRE(elsewhere);
  CHECK(allowed(elsewhere->json) != allowed(unknown1->json));

  // the last passkey deleted: the same made-up id as before the registration
  REQUIRE(f.svc.delete_passkey("alice", a.credential_id));
  auto after = f.svc.passkey_login_options(f.s, "alice");
  REQUIRE(after);
  CHECK(allowed(after->json) == allowed(before->json));
}

TEST_CASE("passkey login options by user: refused without a decoy key or with an invalid user", "[passkey][named]") {
  INFO(test_loop::name);
  fixture f;
  mfakit::passkey_settings keyless = settings();
  keyless.decoy_key.clear();
  CHECK(f.svc.passkey_login_options(keyless, "alice").error() == errc::invalid_argument);
  CHECK(f.svc.passkey_login_options(f.s, "").error() == errc::invalid_argument);
  CHECK(f.svc.passkey_login_options(keyless));  // the discoverable form needs no key
}
