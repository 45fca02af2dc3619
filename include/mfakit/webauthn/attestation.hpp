// Attestation objects (WebAuthn L3 §6.5) and the statement formats the
// verifier takes (§8): `none`, `packed` (§8.2: self attestation, and x5c
// with the leaf certificate's signature and required fields) and `fido-u2f`
// (§8.6). Trust anchors are optional and off by default: without them an
// x5c statement is checked but reported as not trusted. Any other format is
// refused, or treated as `none` when the host asks for that.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/authenticator_data.hpp"
#include "mfakit/webauthn/cbor.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/cose_key.hpp"
#include "mfakit/webauthn/detail/fail.hpp"
#include "mfakit/webauthn/detail/openssl.hpp"

namespace mfakit::webauthn {

inline constexpr std::size_t max_attestation_object_bytes = std::size_t{64} * 1024;

enum class attestation_type : std::uint8_t {
  none,   ///< no statement (format none, or a format taken as none)
  self,   ///< packed, signed by the credential key itself
  basic,  ///< packed or fido-u2f with an attestation certificate
};

struct attestation_policy {
  /// Take a format other than none, packed and fido-u2f as if it were none
  /// (its statement is not checked). Off: such formats are refused.
  bool unsupported_formats_as_none = false;
  /// DER certificates an x5c chain must lead to. Empty (the default): the
  /// chain is not checked, and the result says it is not trusted.
  std::vector<std::vector<unsigned char>> trust_anchors;
  /// Trust anchors only: when the certificates must be valid (Unix seconds),
  /// from the host's clock; none: validity periods are not checked.
  std::optional<std::int64_t> verification_time;
  /// Trust anchors only: refuse a statement that does not lead to one
  /// (else the registration goes on with trusted = false).
  bool require_trusted = true;
};

struct attestation_object {
  std::string fmt;
  cbor_item statement;  ///< the attStmt map (views into the input)
  authenticator_data auth_data;
};

struct attestation_result {
  std::string fmt;
  attestation_type type = attestation_type::none;
  bool trusted = false;                       ///< an x5c chain led to a trust anchor
  std::vector<unsigned char> certificate;     ///< the leaf attestation certificate (DER), if any
};

/// Decodes an attestation object: a map of exactly fmt, attStmt and authData
/// in canonical order, the authenticator data parsed (it must carry the
/// attested credential data).
[[nodiscard]] inline result<attestation_object> parse_attestation_object(byte_view bytes, check* failed = nullptr) {
  using detail::fail;
  if (bytes.size() > max_attestation_object_bytes)
    return fail(failed, check::attestation_object, errc::webauthn_malformed);
  auto top = cbor_decode(bytes, cbor_limits{max_attestation_object_bytes, 4, 1024});
  if (!top || top->type != cbor_item::kind::map || top->map_size() != 3)
    return fail(failed, check::attestation_object, errc::webauthn_malformed);
  const cbor_item* fmt = top->find("fmt");
  const cbor_item* stmt = top->find("attStmt");
  const cbor_item* auth = top->find("authData");
  if (fmt == nullptr || fmt->type != cbor_item::kind::text || stmt == nullptr || stmt->type != cbor_item::kind::map ||
      auth == nullptr || auth->type != cbor_item::kind::bytes)
    return fail(failed, check::attestation_object, errc::webauthn_malformed);
  auto ad = parse_authenticator_data(auth->data, failed);
  if (!ad) return ad.error();
  if (!ad->attested) return fail(failed, check::authenticator_data, errc::webauthn_malformed);
  attestation_object out{std::string(fmt->text()), *stmt, std::move(*ad)};
  return out;
}

namespace detail {

/// The leaf and the rest of an x5c array, each certificate DER with nothing after it.
[[nodiscard]] inline bool read_x5c(const cbor_item& x5c, std::vector<x509_ptr>& out) {
  if (x5c.type != cbor_item::kind::array || x5c.items.empty() || x5c.items.size() > 8) return false;
  for (const cbor_item& c : x5c.items) {
    if (c.type != cbor_item::kind::bytes || c.data.empty()) return false;
    const unsigned char* p = c.data.data();
    x509_ptr cert(d2i_X509(nullptr, &p, static_cast<long>(c.data.size())));
    if (!cert || p != c.data.data() + c.data.size()) return false;
    out.push_back(std::move(cert));
  }
  return true;
}

/// Whether a certificate's key is the kind `alg` signs with.
[[nodiscard]] inline bool key_fits_alg(EVP_PKEY* key, cose_alg alg) {
  if (key == nullptr) return false;
  switch (alg) {
    case cose_alg::es256: {
      if (EVP_PKEY_is_a(key, "EC") != 1) return false;
      std::array<char, 32> group{};
      std::size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &len) != 1)
        return false;
      const std::string_view g(group.data(), len);
      return g == "prime256v1" || g == "P-256";
    }
    case cose_alg::eddsa: return EVP_PKEY_is_a(key, "ED25519") == 1;
    case cose_alg::rs256:
      return EVP_PKEY_is_a(key, "RSA") == 1 && EVP_PKEY_get_bits(key) >= static_cast<int>(min_rsa_bits);
  }
  return false;
}

[[nodiscard]] inline std::optional<std::string> subject_entry(X509* cert, int nid) {
  X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return std::nullopt;
  const int at = X509_NAME_get_index_by_NID(name, nid, -1);
  if (at < 0) return std::nullopt;
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  if (s == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),  // NOLINT
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

/// §8.2.1: version 3, subject C / O / OU "Authenticator Attestation" / CN,
/// not a CA, and the id-fido-gen-ce-aaguid extension, if present, not
/// critical and equal to the authenticator data's AAGUID.
[[nodiscard]] inline bool packed_certificate_ok(X509* leaf, const std::array<unsigned char, 16>& aaguid) {
  if (X509_get_version(leaf) != X509_VERSION_3) return false;
  const auto c = subject_entry(leaf, NID_countryName);
  const auto o = subject_entry(leaf, NID_organizationName);
  const auto ou = subject_entry(leaf, NID_organizationalUnitName);
  const auto cn = subject_entry(leaf, NID_commonName);
  if (!c || c->size() != 2 || !o || o->empty() || !ou || *ou != "Authenticator Attestation" || !cn || cn->empty())
    return false;
  const std::uint32_t xflags = X509_get_extension_flags(leaf);
  if ((xflags & EXFLAG_INVALID) != 0 || (xflags & EXFLAG_CA) != 0) return false;
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.45724.1.1.4", 1);
  if (oid == nullptr) return false;
  const int at = X509_get_ext_by_OBJ(leaf, oid, -1);
  ASN1_OBJECT_free(oid);
  if (at >= 0) {
    X509_EXTENSION* ext = X509_get_ext(leaf, at);
    if (ext == nullptr || X509_EXTENSION_get_critical(ext) != 0) return false;
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
    // the extension's value is itself a DER OCTET STRING of 16 bytes
    if (v == nullptr || ASN1_STRING_length(v) != 18) return false;
    const unsigned char* d = ASN1_STRING_get0_data(v);
    if (d[0] != 0x04 || d[1] != 0x10 || std::memcmp(d + 2, aaguid.data(), 16) != 0) return false;
  }
  return true;
}

/// The chain leaf, x5c[1..] to one of the anchors.
[[nodiscard]] inline result<bool> chain_trusted(const std::vector<x509_ptr>& x5c, const attestation_policy& policy) {
  x509_store_ptr store(X509_STORE_new());
  x509_stack_ptr untrusted(sk_X509_new_null());
  if (!store || !untrusted) return errc::crypto_failure;
  for (const auto& der : policy.trust_anchors) {
    const unsigned char* p = der.data();
    x509_ptr anchor(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!anchor || X509_STORE_add_cert(store.get(), anchor.get()) != 1) return errc::invalid_argument;
  }
  for (std::size_t i = 1; i < x5c.size(); ++i) {
    if (X509_up_ref(x5c[i].get()) != 1) return errc::crypto_failure;
    if (sk_X509_push(untrusted.get(), x5c[i].get()) <= 0) {
      X509_free(x5c[i].get());
      return errc::crypto_failure;
    }
  }
  x509_store_ctx_ptr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), x5c[0].get(), untrusted.get()) != 1)
    return errc::crypto_failure;
  if (policy.verification_time) {
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(*policy.verification_time));
  } else {
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  }
  return X509_verify_cert(ctx.get()) == 1;
}

[[nodiscard]] inline std::vector<unsigned char> der_of(X509* cert) {
  std::vector<unsigned char> out;
  const int n = i2d_X509(cert, nullptr);
  if (n <= 0) return out;
  out.resize(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  if (i2d_X509(cert, &p) != n) out.clear();
  return out;
}

/// Every key of the statement map must be one of `allowed`.
[[nodiscard]] inline bool only_keys(const cbor_item& map, std::initializer_list<std::string_view> allowed) {
  for (std::size_t i = 0; i < map.items.size(); i += 2) {
    if (map.items[i].type != cbor_item::kind::text) return false;
    if (std::find(allowed.begin(), allowed.end(), map.items[i].text()) == allowed.end()) return false;
  }
  return true;
}

[[nodiscard]] inline result<attestation_result> trust_step(attestation_result out, const std::vector<x509_ptr>& x5c,
                                                           const attestation_policy& policy, check* failed) {
  out.certificate = der_of(x5c[0].get());
  if (policy.trust_anchors.empty()) return out;
  auto trusted = chain_trusted(x5c, policy);
  if (!trusted) return fail(failed, check::internal, trusted.error());
  out.trusted = *trusted;
  if (!out.trusted && policy.require_trusted)
    return fail(failed, check::attestation_certificate, errc::webauthn_rejected);
  return out;
}

}  // namespace detail

/// Verifies the attestation statement over the authenticator data and the
/// hash of the client data (§7.1 steps 21-24).
[[nodiscard]] inline result<attestation_result> verify_attestation(const attestation_object& obj,
                                                                   const sha256_digest& client_data_hash,
                                                                   const attestation_policy& policy = {},
                                                                   check* failed = nullptr) {
  using detail::fail;
  const cbor_item& st = obj.statement;
  const attested_credential_data& cred = *obj.auth_data.attested;
  attestation_result out;
  out.fmt = obj.fmt;
  if (obj.fmt == "none") {
    if (!st.items.empty()) return fail(failed, check::attestation_statement, errc::webauthn_malformed);
    return out;
  }
  if (obj.fmt == "packed") {
    const cbor_item* alg = st.find("alg");
    const cbor_item* sig = st.find("sig");
    const cbor_item* x5c = st.find("x5c");
    if (!detail::only_keys(st, {"alg", "sig", "x5c"}) || alg == nullptr || !alg->is_int() || sig == nullptr ||
        sig->type != cbor_item::kind::bytes)
      return fail(failed, check::attestation_statement, errc::webauthn_malformed);
    const std::int64_t alg_v = alg->as_int().value_or(0);
    if (!is_supported_alg(alg_v)) return fail(failed, check::attestation_statement, errc::webauthn_unsupported);
    const auto a = static_cast<cose_alg>(alg_v);
    if (x5c == nullptr) {  // self attestation: the credential key signs, under its own algorithm
      if (a != cred.public_key.alg()) return fail(failed, check::attestation_statement, errc::webauthn_rejected);
      if (!cred.public_key.verify(obj.auth_data.raw, client_data_hash, sig->data))
        return fail(failed, check::attestation_statement, errc::webauthn_rejected);
      out.type = attestation_type::self;
      return out;
    }
    std::vector<detail::x509_ptr> chain;
    if (!detail::read_x5c(*x5c, chain)) return fail(failed, check::attestation_statement, errc::webauthn_malformed);
    EVP_PKEY* leaf_key = X509_get0_pubkey(chain[0].get());
    if (!detail::key_fits_alg(leaf_key, a))
      return fail(failed, check::attestation_certificate, errc::webauthn_unsupported);
    if (!detail::verify_two_parts(leaf_key, a == cose_alg::eddsa ? nullptr : detail::sha256_md(), obj.auth_data.raw,
                                  client_data_hash, sig->data))
      return fail(failed, check::attestation_statement, errc::webauthn_rejected);
    if (!detail::packed_certificate_ok(chain[0].get(), cred.aaguid))
      return fail(failed, check::attestation_certificate, errc::webauthn_rejected);
    out.type = attestation_type::basic;
    return detail::trust_step(std::move(out), chain, policy, failed);
  }
  if (obj.fmt == "fido-u2f") {
    const cbor_item* sig = st.find("sig");
    const cbor_item* x5c = st.find("x5c");
    if (st.map_size() != 2 || sig == nullptr || sig->type != cbor_item::kind::bytes || x5c == nullptr ||
        x5c->type != cbor_item::kind::array || x5c->items.size() != 1)
      return fail(failed, check::attestation_statement, errc::webauthn_malformed);
    std::vector<detail::x509_ptr> chain;
    if (!detail::read_x5c(*x5c, chain)) return fail(failed, check::attestation_statement, errc::webauthn_malformed);
    EVP_PKEY* cert_key = X509_get0_pubkey(chain[0].get());
    if (!detail::key_fits_alg(cert_key, cose_alg::es256))
      return fail(failed, check::attestation_certificate, errc::webauthn_unsupported);
    if (cred.public_key.alg() != cose_alg::es256)
      return fail(failed, check::credential_public_key, errc::webauthn_unsupported);
    // 0x00 || rpIdHash || clientDataHash || credentialId || 0x04 || x || y
    std::vector<unsigned char> signed_data;
    signed_data.reserve(1 + 32 + 32 + cred.credential_id.size() + 65);
    signed_data.push_back(0x00);
    signed_data.insert(signed_data.end(), obj.auth_data.rp_id_hash.begin(), obj.auth_data.rp_id_hash.end());
    signed_data.insert(signed_data.end(), client_data_hash.begin(), client_data_hash.end());
    signed_data.insert(signed_data.end(), cred.credential_id.begin(), cred.credential_id.end());
    const auto& point = cred.public_key.ec_point();
    signed_data.insert(signed_data.end(), point.begin(), point.end());
    if (!detail::verify_two_parts(cert_key, detail::sha256_md(), signed_data, byte_view{}, sig->data))
      return fail(failed, check::attestation_statement, errc::webauthn_rejected);
    out.type = attestation_type::basic;
    return detail::trust_step(std::move(out), chain, policy, failed);
  }
  if (policy.unsupported_formats_as_none) return out;  // type none, nothing checked
  return fail(failed, check::attestation_format, errc::webauthn_unsupported);
}

}  // namespace mfakit::webauthn
