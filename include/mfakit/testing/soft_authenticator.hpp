// A software authenticator: real OpenSSL keys (P-256, Ed25519, RSA-2048),
// a small CBOR writer, authenticator data, clientDataJSON, registrations
// with the `none` attestation and signed assertions, each field open to
// change so that a test can break exactly one thing. The store conformance
// suite (store_conformance.hpp) makes its passkey ceremonies with it; the
// library's own tests add attestation statements and certificates on top.
// For tests only: nothing of mfakit needs it at run time. Its failures
// (OpenSSL refusing a key or a signature) throw std::runtime_error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "mfakit/crypto.hpp"
#include "mfakit/webauthn.hpp"

namespace mfakit::testing::soft {

using bytes = std::vector<unsigned char>;
namespace wa = mfakit::webauthn;

inline void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

// --- CBOR writing (canonical unless a test asks otherwise) ---------------------------

struct cbor_out {
  bytes b;
  cbor_out& head(unsigned major, std::uint64_t v) {
    const auto m = static_cast<unsigned char>(major << 5U);
    if (v < 24) {
      b.push_back(static_cast<unsigned char>(m | v));
    } else if (v <= 0xFF) {
      b.push_back(m | 24U);
      b.push_back(static_cast<unsigned char>(v));
    } else if (v <= 0xFFFF) {
      b.push_back(m | 25U);
      for (int s = 8; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    } else if (v <= 0xFFFFFFFFULL) {
      b.push_back(m | 26U);
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    } else {
      b.push_back(m | 27U);
      for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
    }
    return *this;
  }
  cbor_out& integer(std::int64_t v) {
    return v >= 0 ? head(0, static_cast<std::uint64_t>(v)) : head(1, static_cast<std::uint64_t>(-1 - v));
  }
  cbor_out& byte_string(mfakit::byte_view d) {
    head(2, d.size());
    b.insert(b.end(), d.begin(), d.end());
    return *this;
  }
  cbor_out& text(std::string_view t) {
    head(3, t.size());
    b.insert(b.end(), t.begin(), t.end());
    return *this;
  }
  cbor_out& array(std::size_t n) { return head(4, n); }
  cbor_out& map(std::size_t n) { return head(5, n); }
  cbor_out& raw(mfakit::byte_view d) {
    b.insert(b.end(), d.begin(), d.end());
    return *this;
  }
};

// --- keys ---------------------------------------------------------------------------

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using pkey = std::unique_ptr<EVP_PKEY, pkey_deleter>;

inline pkey generate(wa::cose_alg alg, int rsa_bits = 2048) {
  EVP_PKEY* k = nullptr;
  switch (alg) {
    case wa::cose_alg::es256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); break;
    case wa::cose_alg::eddsa: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"); break;
    case wa::cose_alg::rs256: k = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)); break;
  }
  require(k != nullptr, "keygen");
  return pkey(k);
}

inline bytes bn_param(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  require(EVP_PKEY_get_bn_param(k, name, &bn) == 1, "bn param");
  bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_free(bn);
  return out;
}

inline bytes ec_point(EVP_PKEY* k) {
  bytes out(65);
  std::size_t len = 0;
  require(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out.data(), out.size(), &len) == 1 &&
              len == 65,
          "ec point");
  return out;
}

/// The COSE_Key of a public key, canonical.
inline bytes cose_of(EVP_PKEY* k, wa::cose_alg alg) {
  cbor_out c;
  switch (alg) {
    case wa::cose_alg::es256: {
      const bytes p = ec_point(k);
      c.map(5).integer(1).integer(2).integer(3).integer(-7).integer(-1).integer(1);
      c.integer(-2).byte_string(mfakit::byte_view(p).subspan(1, 32)).integer(-3).byte_string(mfakit::byte_view(p).subspan(33, 32));
      break;
    }
    case wa::cose_alg::eddsa: {
      bytes raw(32);
      std::size_t len = raw.size();
      require(EVP_PKEY_get_raw_public_key(k, raw.data(), &len) == 1 && len == 32, "raw key");
      c.map(4).integer(1).integer(1).integer(3).integer(-8).integer(-1).integer(6).integer(-2).byte_string(raw);
      break;
    }
    case wa::cose_alg::rs256:
      c.map(4).integer(1).integer(3).integer(3).integer(-257);
      c.integer(-1).byte_string(bn_param(k, OSSL_PKEY_PARAM_RSA_N)).integer(-2).byte_string(bn_param(k, OSSL_PKEY_PARAM_RSA_E));
      break;
  }
  return c.b;
}

inline bytes sign(EVP_PKEY* k, wa::cose_alg alg, mfakit::byte_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  require(ctx != nullptr, "md ctx");
  require(EVP_DigestSignInit_ex(ctx.get(), nullptr, alg == wa::cose_alg::eddsa ? nullptr : "SHA256", nullptr, nullptr, k,
                                nullptr) == 1,
          "sign init");
  std::size_t len = 0;
  require(EVP_DigestSign(ctx.get(), nullptr, &len, data.data(), data.size()) == 1, "sign size");
  bytes sig(len);
  require(EVP_DigestSign(ctx.get(), sig.data(), &len, data.data(), data.size()) == 1, "sign");
  sig.resize(len);
  return sig;
}

inline bytes concat(mfakit::byte_view a, mfakit::byte_view b) {
  bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

inline bytes sha256_of(mfakit::byte_view d) {
  auto h = mfakit::sha256(d);
  require(h.has_value(), "sha256");
  return {h->begin(), h->end()};
}

// --- the authenticator --------------------------------------------------------------

inline constexpr std::string_view rp_id = "login.example.test";
inline constexpr std::string_view origin = "https://login.example.test";

inline wa::relying_party test_rp() {
  wa::relying_party rp;
  rp.id = std::string(rp_id);
  rp.origins = {std::string(origin), "https://other.example.test"};
  return rp;
}

/// The parts of clientDataJSON, written in this order; `extra` goes before the closing brace.
struct client_data_fields {
  std::string type;
  std::string challenge_b64;
  std::string origin{soft::origin};
  std::string cross_origin = "false";  ///< the JSON literal; empty: member left out
  std::string extra;
  std::string json() const {
    std::string j = R"({"type":")" + type + R"(","challenge":")" + challenge_b64 + R"(","origin":")" + origin + "\"";
    if (!cross_origin.empty()) j += ",\"crossOrigin\":" + cross_origin;
    j += extra + "}";
    return j;
  }
};

inline bytes as_vec(std::string_view s) { return {s.begin(), s.end()}; }

/// authenticatorData: rpIdHash || flags || signCount || [attested] || [extensions]
struct auth_data_fields {
  bytes rp_id_hash = sha256_of(mfakit::as_bytes(rp_id));
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  bytes attested;    ///< aaguid || len || id || COSE key, when AT
  bytes extensions;  ///< CBOR map, when ED
  bytes trailing;
  bytes build() const {
    bytes out = rp_id_hash;
    out.push_back(flags);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(sign_count >> s));
    out.insert(out.end(), attested.begin(), attested.end());
    out.insert(out.end(), extensions.begin(), extensions.end());
    out.insert(out.end(), trailing.begin(), trailing.end());
    return out;
  }
};

struct authenticator {
  wa::cose_alg alg;
  pkey key;
  bytes credential_id;
  bytes aaguid = bytes(16, 0x5A);
  std::uint32_t counter = 0;
  std::uint8_t base_flags = wa::flag::up | wa::flag::uv;

  explicit authenticator(wa::cose_alg a, std::size_t id_len = 32) : alg(a), key(generate(a)), credential_id(id_len) {
    for (std::size_t i = 0; i < credential_id.size(); ++i) credential_id[i] = static_cast<unsigned char>(i * 7 + 3);
  }

  [[nodiscard]] bytes cose() const { return cose_of(key.get(), alg); }

  [[nodiscard]] bytes attested_data(const bytes& cose_key) const {
    bytes out = aaguid;
    out.push_back(static_cast<unsigned char>(credential_id.size() >> 8U));
    out.push_back(static_cast<unsigned char>(credential_id.size() & 0xFFU));
    out.insert(out.end(), credential_id.begin(), credential_id.end());
    out.insert(out.end(), cose_key.begin(), cose_key.end());
    return out;
  }

  [[nodiscard]] auth_data_fields registration_auth_data() const {
    auth_data_fields f;
    f.flags = static_cast<std::uint8_t>(base_flags | wa::flag::at);
    f.sign_count = counter;
    f.attested = attested_data(cose());
    return f;
  }
  [[nodiscard]] auth_data_fields assertion_auth_data() const {
    auth_data_fields f;
    f.flags = base_flags;
    f.sign_count = counter;
    return f;
  }
};

/// A registration's bytes as a browser returns them.
struct registration {
  bytes challenge;
  bytes client_data_json;
  bytes attestation_object;
};

inline bytes attestation_object(std::string_view fmt, const bytes& stmt, const bytes& auth_data) {
  cbor_out o;
  o.map(3).text("fmt").text(fmt).text("attStmt").raw(stmt).text("authData").byte_string(auth_data);
  return o.b;
}

inline bytes fixed_challenge(unsigned char seed) {
  bytes c(32);
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<unsigned char>(seed + i * 13);
  return c;
}

inline client_data_fields create_client_data(const bytes& challenge) {
  client_data_fields f;
  f.type = "webauthn.create";
  f.challenge_b64 = wa::base64url_encode(challenge);
  return f;
}
inline client_data_fields get_client_data(const bytes& challenge) {
  client_data_fields f;
  f.type = "webauthn.get";
  f.challenge_b64 = wa::base64url_encode(challenge);
  return f;
}

/// A registration with the `none` attestation (an empty attStmt).
inline registration make_none_registration(const auth_data_fields& adf, const client_data_fields& cdf) {
  registration r;
  r.client_data_json = as_vec(cdf.json());
  r.attestation_object = attestation_object("none", bytes{0xA0}, adf.build());
  return r;
}

struct assertion {
  bytes client_data_json;
  bytes authenticator_data;
  bytes signature;
};

inline assertion make_assertion(const authenticator& a, const auth_data_fields& adf, const client_data_fields& cdf) {
  assertion s;
  s.client_data_json = as_vec(cdf.json());
  s.authenticator_data = adf.build();
  s.signature = sign(a.key.get(), a.alg, concat(s.authenticator_data, sha256_of(s.client_data_json)));
  return s;
}

}  // namespace mfakit::testing::soft
