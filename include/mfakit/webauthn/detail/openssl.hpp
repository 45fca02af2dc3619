// Owning handles for the OpenSSL 3 objects the WebAuthn verifier uses, and
// the digest and verification calls it shares (internal).
#pragma once

#include <memory>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit::webauthn::detail {

struct pkey_free {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct bn_free {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
};
struct params_free {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct x509_free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct x509_store_free {
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
};
struct x509_store_ctx_free {
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
};
struct x509_stack_free {
  void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, param_bld_free>;
using params_ptr = std::unique_ptr<OSSL_PARAM, params_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using x509_store_ptr = std::unique_ptr<X509_STORE, x509_store_free>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, x509_store_ctx_free>;
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), x509_stack_free>;

/// SHA-256, fetched once (a cache of an immutable object, as crypto.hpp's
/// sha256() keeps; nullptr if the provider has none).
[[nodiscard]] inline const EVP_MD* sha256_md() noexcept {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

/// true when `sig` is a valid signature by `key` over a || b: with SHA-256
/// for ECDSA (DER) and RSASSA-PKCS1-v1_5, pure for Ed25519 (md == nullptr,
/// which needs the message in one piece: `scratch` holds it).
[[nodiscard]] inline bool verify_two_parts(EVP_PKEY* key, const EVP_MD* md, byte_view a, byte_view b, byte_view sig) {
  if (key == nullptr || sig.empty()) return false;
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, md == nullptr ? nullptr : EVP_MD_get0_name(md), nullptr, nullptr,
                              key, nullptr) != 1)
    return false;
  if (md == nullptr) {
    std::vector<unsigned char> whole;
    whole.reserve(a.size() + b.size());
    whole.insert(whole.end(), a.begin(), a.end());
    whole.insert(whole.end(), b.begin(), b.end());
    return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), whole.data(), whole.size()) == 1;
  }
  if (EVP_DigestVerifyUpdate(ctx.get(), a.data(), a.size()) != 1) return false;
  if (EVP_DigestVerifyUpdate(ctx.get(), b.data(), b.size()) != 1) return false;
  return EVP_DigestVerifyFinal(ctx.get(), sig.data(), sig.size()) == 1;
}

}  // namespace mfakit::webauthn::detail
