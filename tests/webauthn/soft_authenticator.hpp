// A software authenticator for the tests: mfakit/testing/soft_authenticator.hpp
// (keys, CBOR, authenticator data, client data, `none` registrations and
// assertions), and here the attestation statements (packed self and x5c,
// fido-u2f) with their certificates, each field open to change so that a
// test can break exactly one thing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <mfakit/testing/soft_authenticator.hpp>
#include <mfakit/webauthn.hpp>

namespace wa_test {

using namespace mfakit::testing::soft;  // NOLINT(google-build-using-namespace)
namespace wa = mfakit::webauthn;

// --- certificates --------------------------------------------------------------------

struct x509_deleter {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
using cert = std::unique_ptr<X509, x509_deleter>;

struct cert_fields {
  std::string c = "AA", o = "mfakit tests", ou = "Authenticator Attestation", cn = "mfakit test authenticator";
  bool ca = false;
  std::optional<bytes> aaguid;  ///< the id-fido-gen-ce-aaguid extension
  bool aaguid_critical = false;
  long version = X509_VERSION_3;
};

/// A certificate for `subject_key`, signed by `issuer_key` (self-signed when equal).
inline cert make_cert(EVP_PKEY* subject_key, EVP_PKEY* issuer_key, X509* issuer, const cert_fields& f) {
  cert x(X509_new());
  require(x != nullptr, "x509");
  X509_set_version(x.get(), f.version);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600L * 24 * 365);
  X509_set_pubkey(x.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(x.get());
  auto add = [&](const char* field, const std::string& v) {
    if (!v.empty())
      X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC, reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1, 0);
  };
  add("C", f.c);
  add("O", f.o);
  add("OU", f.ou);
  add("CN", f.cn);
  X509_set_issuer_name(x.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer != nullptr ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
  X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &v3, NID_basic_constraints, f.ca ? "critical,CA:TRUE" : "CA:FALSE");
  require(bc != nullptr, "bc");
  X509_add_ext(x.get(), bc, -1);
  X509_EXTENSION_free(bc);
  if (f.aaguid) {
    bytes der{0x04, 0x10};
    der.insert(der.end(), f.aaguid->begin(), f.aaguid->end());
    ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, der.data(), static_cast<int>(der.size()));
    ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, oid, f.aaguid_critical ? 1 : 0, os);
    require(ext != nullptr, "aaguid ext");
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(oid);
    ASN1_OCTET_STRING_free(os);
  }
  const bool ed = EVP_PKEY_is_a(issuer_key, "ED25519") == 1;
  require(X509_sign(x.get(), issuer_key, ed ? nullptr : EVP_sha256()) > 0, "x509 sign");
  return x;
}

inline bytes der_of(X509* x) {
  const int n = i2d_X509(x, nullptr);
  require(n > 0, "i2d");
  bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(x, &p);
  return out;
}

// --- attestation statements ----------------------------------------------------------

enum class format { none, packed_self, packed_x5c, fido_u2f };

/// The attStmt for `fmt` over authData and the client data hash.
inline bytes statement(const authenticator& a, format fmt, const bytes& auth_data, const bytes& cdh,
                       const bytes& aaguid, cert_fields cf = {}) {
  cbor_out st;
  switch (fmt) {
    case format::none: st.map(0); break;
    case format::packed_self:
      st.map(2).text("alg").integer(static_cast<std::int64_t>(a.alg)).text("sig").byte_string(
          sign(a.key.get(), a.alg, concat(auth_data, cdh)));
      break;
    case format::packed_x5c: {
      const pkey ca_key = generate(wa::cose_alg::es256);
      cert_fields ca_fields;
      ca_fields.ca = true;
      ca_fields.ou = "Root";
      const cert ca = make_cert(ca_key.get(), ca_key.get(), nullptr, ca_fields);
      const pkey att_key = generate(a.alg);
      if (!cf.aaguid) cf.aaguid = aaguid;
      const cert leaf = make_cert(att_key.get(), ca_key.get(), ca.get(), cf);
      st.map(3).text("alg").integer(static_cast<std::int64_t>(a.alg)).text("sig").byte_string(
          sign(att_key.get(), a.alg, concat(auth_data, cdh)));
      st.text("x5c").array(2).byte_string(der_of(leaf.get())).byte_string(der_of(ca.get()));
      break;
    }
    case format::fido_u2f: {
      const pkey att_key = generate(wa::cose_alg::es256);
      const cert leaf = make_cert(att_key.get(), att_key.get(), nullptr, cf);
      bytes data{0x00};
      const bytes rp_hash(auth_data.begin(), auth_data.begin() + 32);
      data.insert(data.end(), rp_hash.begin(), rp_hash.end());
      data.insert(data.end(), cdh.begin(), cdh.end());
      data.insert(data.end(), a.credential_id.begin(), a.credential_id.end());
      const bytes point = ec_point(a.key.get());
      data.insert(data.end(), point.begin(), point.end());
      st.map(2).text("sig").byte_string(sign(att_key.get(), wa::cose_alg::es256, data));
      st.text("x5c").array(1).byte_string(der_of(leaf.get()));
      break;
    }
  }
  return st.b;
}

inline std::string_view fmt_name(format f) {
  switch (f) {
    case format::none: return "none";
    case format::packed_self:
    case format::packed_x5c: return "packed";
    case format::fido_u2f: return "fido-u2f";
  }
  return "";
}

/// A complete registration; the hooks change one part before it is signed.
inline registration make_registration(const authenticator& a, format fmt, const auth_data_fields& adf,
                                      const client_data_fields& cdf, cert_fields cf = {}) {
  registration r;
  r.client_data_json = as_vec(cdf.json());
  const bytes ad = adf.build();
  r.attestation_object = attestation_object(fmt_name(fmt), statement(a, fmt, ad, sha256_of(r.client_data_json), a.aaguid, std::move(cf)), ad);
  return r;
}

}  // namespace wa_test
