// COSE public keys (RFC 9052 §7, RFC 9053) as WebAuthn credentials carry
// them, for the three algorithms a relying party should list (WebAuthn L3
// §5.8.3): EC2 P-256 with ES256 (-7), OKP Ed25519 with EdDSA (-8), RSA with
// RS256 (-257, modulus of 2048 bits or more). Key type, curve and algorithm
// must agree (a P-384 key under -7 or an Ed448 key under -8 is refused), no
// label beyond the type's own is taken (a private part is refused), and the
// key is built from OpenSSL 3 parameters and checked (the point on its
// curve) before anything is accepted.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <vector>

#include <openssl/core_names.h>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/cbor.hpp"
#include "mfakit/webauthn/detail/openssl.hpp"

namespace mfakit::webauthn {

/// COSE algorithm identifiers the verifier takes.
enum class cose_alg : std::int32_t { es256 = -7, eddsa = -8, rs256 = -257 };

[[nodiscard]] constexpr bool is_supported_alg(std::int64_t alg) noexcept {
  return alg == static_cast<std::int64_t>(cose_alg::es256) || alg == static_cast<std::int64_t>(cose_alg::eddsa) ||
         alg == static_cast<std::int64_t>(cose_alg::rs256);
}

inline constexpr std::size_t min_rsa_bits = 2048;
inline constexpr std::size_t max_rsa_bits = 8192;  // verification cost grows with it: no bigger keys

class cose_key {
 public:
  /// A key from its COSE encoding: exactly one canonical CBOR map.
  [[nodiscard]] static result<cose_key> parse(byte_view cose) {
    auto item = cbor_decode(cose, cbor_limits{4096, 1, 16});
    if (!item) return item.error();
    return from_item(*item);
  }

  /// A key from a decoded COSE_Key map (its encoding is kept, as stored).
  [[nodiscard]] static result<cose_key> from_item(const cbor_item& map) {
    if (map.type != cbor_item::kind::map) return errc::webauthn_malformed;
    const cbor_item* kty = map.find(1);
    const cbor_item* alg = map.find(3);
    if (kty == nullptr || alg == nullptr || !kty->is_int() || !alg->is_int()) return errc::webauthn_malformed;
    const std::int64_t kty_v = kty->as_int().value_or(0);
    const std::int64_t alg_v = alg->as_int().value_or(0);
    if (!is_supported_alg(alg_v)) return errc::webauthn_unsupported;
    cose_key out;
    out.alg_ = static_cast<cose_alg>(alg_v);
    out.encoded_.assign(map.encoded.begin(), map.encoded.end());
    switch (out.alg_) {
      case cose_alg::es256:
        if (kty_v != 2) return errc::webauthn_unsupported;
        if (auto r = out.build_ec2(map); !r) return r.error();
        break;
      case cose_alg::eddsa:
        if (kty_v != 1) return errc::webauthn_unsupported;
        if (auto r = out.build_okp(map); !r) return r.error();
        break;
      case cose_alg::rs256:
        if (kty_v != 3) return errc::webauthn_unsupported;
        if (auto r = out.build_rsa(map); !r) return r.error();
        break;
    }
    return out;
  }

  [[nodiscard]] cose_alg alg() const noexcept { return alg_; }
  /// The COSE encoding, as a credential record stores it.
  [[nodiscard]] byte_view encoded() const noexcept { return encoded_; }
  /// The OpenSSL key (owned by this object).
  [[nodiscard]] EVP_PKEY* native() const noexcept { return key_.get(); }
  /// EC2 only: the uncompressed point 0x04 || x || y (fido-u2f signs it).
  [[nodiscard]] const std::array<unsigned char, 65>& ec_point() const noexcept { return point_; }

  /// true when `sig` is this key's signature over a || b (the algorithm's
  /// encoding: DER for ES256, raw for EdDSA, PKCS#1 v1.5 for RS256).
  [[nodiscard]] bool verify(byte_view a, byte_view b, byte_view sig) const {
    return detail::verify_two_parts(key_.get(), alg_ == cose_alg::eddsa ? nullptr : detail::sha256_md(), a, b, sig);
  }

 private:
  /// Every label of the map must be one of `allowed`.
  [[nodiscard]] static bool only_labels(const cbor_item& map, std::initializer_list<std::int64_t> allowed) {
    for (std::size_t i = 0; i + 1 < map.items.size(); i += 2) {
      const auto label = map.items[i].as_int();
      if (!label || std::find(allowed.begin(), allowed.end(), *label) == allowed.end()) return false;
    }
    return true;
  }
  [[nodiscard]] static const cbor_item* bytes_at(const cbor_item& map, std::int64_t label) {
    const cbor_item* v = map.find(label);
    return v != nullptr && v->type == cbor_item::kind::bytes ? v : nullptr;
  }

  /// Keeps the key once OpenSSL's check of its public part passed: for
  /// P-256 the point is on the curve and not at infinity (the curve's
  /// cofactor is 1, so that is the whole validation; the full check's
  /// multiplication by the order would add a verify's cost for nothing).
  /// RSA keys (checked = false) are checked by build_rsa instead: OpenSSL's
  /// check of an RSA public key is a SP 800-56B primality test on n, about
  /// 5 ms for 3072 bits, which an attacker could make every parse pay.
  [[nodiscard]] result<void> keep(detail::pkey_ptr key, bool check_public = true) {
    if (!key) return errc::webauthn_unsupported;
    if (check_public) {
      detail::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
      if (!ctx) return errc::crypto_failure;
      if (EVP_PKEY_public_check_quick(ctx.get()) != 1) return errc::webauthn_unsupported;
    }
    key_ = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
    return {};
  }

  [[nodiscard]] static detail::pkey_ptr from_params(const char* type, OSSL_PARAM* params) {
    detail::pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
      return detail::pkey_ptr{};
    return detail::pkey_ptr(key);
  }

  [[nodiscard]] result<void> build_ec2(const cbor_item& map) {
    // 1 kty, 3 alg, -1 crv, -2 x, -3 y (a byte string: the compressed form is not taken)
    if (!only_labels(map, {1, 3, -1, -2, -3})) return errc::webauthn_unsupported;
    const cbor_item* crv = map.find(-1);
    if (crv == nullptr || !crv->is_int()) return errc::webauthn_malformed;
    if (crv->as_int() != 1) return errc::webauthn_unsupported;  // P-256 only under ES256
    const cbor_item* x = bytes_at(map, -2);
    const cbor_item* y = bytes_at(map, -3);
    if (x == nullptr || y == nullptr || x->data.size() != 32 || y->data.size() != 32) return errc::webauthn_malformed;
    point_[0] = 0x04;
    std::memcpy(point_.data() + 1, x->data.data(), 32);
    std::memcpy(point_.data() + 33, y->data.data(), 32);
    std::array<char, 6> group{'P', '-', '2', '5', '6', '\0'};
    std::array<OSSL_PARAM, 3> params{
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point_.data(), point_.size()),
        OSSL_PARAM_construct_end()};
    return keep(from_params("EC", params.data()));
  }

  [[nodiscard]] result<void> build_okp(const cbor_item& map) {
    // 1 kty, 3 alg, -1 crv, -2 x
    if (!only_labels(map, {1, 3, -1, -2})) return errc::webauthn_unsupported;
    const cbor_item* crv = map.find(-1);
    if (crv == nullptr || !crv->is_int()) return errc::webauthn_malformed;
    if (crv->as_int() != 6) return errc::webauthn_unsupported;  // Ed25519 only under EdDSA (Ed448 is 7)
    const cbor_item* x = bytes_at(map, -2);
    if (x == nullptr || x->data.size() != 32) return errc::webauthn_malformed;
    std::array<unsigned char, 32> raw{};
    std::memcpy(raw.data(), x->data.data(), raw.size());
    std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, raw.data(), raw.size()),
                                     OSSL_PARAM_construct_end()};
    return keep(from_params("ED25519", params.data()));
  }

  [[nodiscard]] result<void> build_rsa(const cbor_item& map) {
    // 1 kty, 3 alg, -1 n, -2 e (no private parameters)
    if (!only_labels(map, {1, 3, -1, -2})) return errc::webauthn_unsupported;
    const cbor_item* n = bytes_at(map, -1);
    const cbor_item* e = bytes_at(map, -2);
    if (n == nullptr || e == nullptr || n->data.empty() || e->data.empty() || e->data.size() > 8)
      return errc::webauthn_malformed;
    if (n->data[0] == 0 || e->data[0] == 0) return errc::webauthn_malformed;  // minimal big-endian
    const std::size_t bits = (n->data.size() - 1) * 8 + static_cast<std::size_t>(std::bit_width(unsigned{n->data[0]}));
    if (bits < min_rsa_bits || bits > max_rsa_bits) return errc::webauthn_unsupported;
    // n odd (a product of odd primes), e odd and at least 3 (e < n: e has at most 8 bytes, n at least 256)
    if ((n->data.back() & 1U) == 0 || (e->data.back() & 1U) == 0 || (e->data.size() == 1 && e->data[0] < 3))
      return errc::webauthn_unsupported;
    detail::bn_ptr bn_n(BN_bin2bn(n->data.data(), static_cast<int>(n->data.size()), nullptr));
    detail::bn_ptr bn_e(BN_bin2bn(e->data.data(), static_cast<int>(e->data.size()), nullptr));
    detail::param_bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
      return errc::crypto_failure;
    detail::params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return errc::crypto_failure;
    return keep(from_params("RSA", params.get()), false);
  }

  cose_alg alg_ = cose_alg::es256;
  std::shared_ptr<EVP_PKEY> key_;
  std::vector<unsigned char> encoded_;
  std::array<unsigned char, 65> point_{};
};

}  // namespace mfakit::webauthn
