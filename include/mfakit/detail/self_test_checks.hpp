// The checks of the self-test (self_test.hpp), each a published known answer
// computed through the code path the library itself uses:
//  - HMAC-SHA-1/256/512 (RFC 2202 / RFC 4231 test case 1: key 0x0b x 20,
//    message "Hi There", which is 8 bytes: exactly a counter) through the
//    otp_key engine in use (lean or EVP), both its one-counter path (hotp)
//    and its batch path (verify);
//  - AES-256-GCM through secret_box's context pool (The Galois/Counter Mode
//    of Operation, McGrew and Viega, test case 16: 60 bytes with 20 bytes of
//    associated data): the seal gives the published ciphertext and tag, the
//    published ciphertext opens to the plaintext, and a forged tag is refused;
//  - scrypt through mfakit::scrypt (RFC 7914 section 12, the first vector:
//    "", "", N = 16, r = 1, p = 1, 64 bytes);
//  - the CSPRNG (openssl_random): two 32-byte draws differ, neither constant.
// Every vector, key and answer here is published: nothing is secret but the
// random draws, which are wiped.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "mfakit/algorithm.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/seal_context.hpp"
#include "mfakit/hmac.hpp"

namespace mfakit {

/// The checks of the self-test, in the order they run (self_test.hpp).
enum class self_test_check : std::uint8_t {
  none,         ///< every check passed
  hmac_sha1,    ///< RFC 2202 test case 1 through the HMAC engine
  hmac_sha256,  ///< RFC 4231 test case 1
  hmac_sha512,  ///< RFC 4231 test case 1
  aes_256_gcm,  ///< one seal and one open of a fixed vector, a forged tag refused
  scrypt,       ///< RFC 7914, N = 16, r = 1, p = 1
  random,       ///< the CSPRNG returns non-constant output
};

[[nodiscard]] constexpr std::string_view to_string(self_test_check c) noexcept {
  switch (c) {
    case self_test_check::none: return "none";
    case self_test_check::hmac_sha1: return "hmac_sha1";
    case self_test_check::hmac_sha256: return "hmac_sha256";
    case self_test_check::hmac_sha512: return "hmac_sha512";
    case self_test_check::aes_256_gcm: return "aes_256_gcm";
    case self_test_check::scrypt: return "scrypt";
    case self_test_check::random: return "random";
  }
  return "unknown";
}

namespace detail {

/// The fault of a correct provider: none. (Tests pass their own, which
/// alters a check's answer before it is compared.)
struct no_self_test_fault {
  void operator()(self_test_check /*check*/, std::span<unsigned char> /*answer*/) const noexcept {}
};

namespace kat {
inline constexpr std::array<unsigned char, 20> hmac_key{0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                                        0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
inline constexpr std::uint64_t hmac_message = 0x4869205468657265ULL;  // "Hi There", as a big-endian counter
inline constexpr std::array<unsigned char, 20> hmac_sha1{0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                                                         0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
inline constexpr std::array<unsigned char, 32> hmac_sha256{
    0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b,
    0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7};
inline constexpr std::array<unsigned char, 64> hmac_sha512{
    0x87, 0xaa, 0x7c, 0xde, 0xa5, 0xef, 0x61, 0x9d, 0x4f, 0xf0, 0xb4, 0x24, 0x1a, 0x1d, 0x6c, 0xb0,
    0x23, 0x79, 0xf4, 0xe2, 0xce, 0x4e, 0xc2, 0x78, 0x7a, 0xd0, 0xb3, 0x05, 0x45, 0xe1, 0x7c, 0xde,
    0xda, 0xa8, 0x33, 0xb7, 0xd6, 0xb8, 0xa7, 0x02, 0x03, 0x8b, 0x27, 0x4e, 0xae, 0xa3, 0xf4, 0xe4,
    0xbe, 0x9d, 0x91, 0x4e, 0xeb, 0x61, 0xf1, 0x70, 0x2e, 0x69, 0x6c, 0x20, 0x3a, 0x12, 0x68, 0x54};

inline constexpr std::array<unsigned char, 32> gcm_key{0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f,
                                                       0x94, 0x67, 0x30, 0x83, 0x08, 0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65,
                                                       0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08};
inline constexpr gcm_nonce gcm_iv{0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
inline constexpr std::array<unsigned char, 20> gcm_aad{0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
                                                       0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
inline constexpr std::array<unsigned char, 60> gcm_plain{
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
    0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
    0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
    0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
/// Ciphertext, then tag.
inline constexpr std::array<unsigned char, 76> gcm_sealed{
    0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07, 0xf4, 0x7f, 0x37, 0xa3, 0x2a, 0x84, 0x42, 0x7d,
    0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9, 0x75, 0x98, 0xa2, 0xbd, 0x25, 0x55, 0xd1, 0xaa,
    0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb, 0x3d, 0xa7, 0xb0, 0x8b, 0x10, 0x56, 0x82, 0x88, 0x38,
    0xc5, 0xf6, 0x1e, 0x63, 0x93, 0xba, 0x7a, 0x0a, 0xbc, 0xc9, 0xf6, 0x62,  // tag:
    0x76, 0xfc, 0x6e, 0xce, 0x0f, 0x4e, 0x17, 0x68, 0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55, 0x1b};

inline constexpr scrypt_params scrypt_cost{16, 1, 1};
inline constexpr std::array<unsigned char, 64> scrypt_out{
    0x77, 0xd6, 0x57, 0x62, 0x38, 0x65, 0x7b, 0x20, 0x3b, 0x19, 0xca, 0x42, 0xc1, 0x8a, 0x04, 0x97,
    0xf1, 0x6b, 0x48, 0x44, 0xe3, 0x07, 0x4a, 0xe8, 0xdf, 0xdf, 0xfa, 0x3f, 0xed, 0xe2, 0x14, 0x42,
    0xfc, 0xd0, 0x06, 0x9d, 0xed, 0x09, 0x48, 0xf8, 0x32, 0x6a, 0x75, 0x3a, 0x0f, 0xc8, 0x1f, 0x17,
    0xe8, 0xd3, 0xe0, 0xfb, 0x2e, 0x0d, 0x36, 0x28, 0xcf, 0x35, 0xe2, 0x0c, 0x38, 0xd1, 0x89, 0x06};
}  // namespace kat

/// HMAC of "Hi There" under the RFC key through otp_key: mac() (what hotp
/// uses) gives the published value, and so does the first lane of a full
/// batch (what verification uses), whose other lanes agree with mac() of
/// their counters.
template <class Fault>
[[nodiscard]] bool hmac_answers(algorithm alg, byte_view expected, self_test_check check, const Fault& fault) {
  otp_key key(otp_key_in_place);
  if (!otp_key_access::init(key, alg, kat::hmac_key)) return false;
  const std::size_t n = expected.size();
  if (n != digest_size(alg)) return false;
  mac_bytes one{};
  bool ok = key.mac(kat::hmac_message, one);
  fault(check, std::span<unsigned char>(one.data(), n));
  ok = ok && constant_time_equal(byte_view(one.data(), n), expected);
  return ok && otp_key_access::with_engine(key, [&](const auto& e) {
           using engine = std::decay_t<decltype(e)>;
           typename engine::batch w;
           engine::prepare(w, engine::lanes);
           bool good = e.mac_lanes(kat::hmac_message, engine::lanes, w);
           fault(check, std::span<unsigned char>(w[0].mac.data(), n));
           good = good && constant_time_equal(byte_view(w[0].mac.data(), n), expected);
           for (std::size_t i = 1; i < engine::lanes; ++i) {
             mac_bytes single{};
             good = good && key.mac(kat::hmac_message + i, single) &&
                    constant_time_equal(byte_view(single.data(), n), byte_view(w[i].mac.data(), n));
           }
           cleanse(w.data(), sizeof w);
           return good;
         });
}

/// AES-256-GCM through a context pool like secret_box's: seal, open, and a
/// forged tag refused.
template <class Fault>
[[nodiscard]] bool gcm_answers(const Fault& fault) {
  const auto pool = gcm_context_pool::make(1, kat::gcm_key);
  if (!pool) return false;
  constexpr std::size_t size = kat::gcm_plain.size();
  std::array<unsigned char, kat::gcm_sealed.size()> sealed{};
  bool ok = pool->crypt(true, kat::gcm_iv, kat::gcm_aad, kat::gcm_plain, std::span(sealed).first(size),
                        std::span(sealed).subspan(size));
  fault(self_test_check::aes_256_gcm, sealed);
  ok = ok && constant_time_equal(sealed, kat::gcm_sealed);
  if (!ok) return false;
  std::array<unsigned char, size> opened{};
  std::array<unsigned char, 16> tag{};
  std::copy(kat::gcm_sealed.begin() + size, kat::gcm_sealed.end(), tag.begin());
  const byte_view cipher(kat::gcm_sealed.data(), size);
  ok = pool->crypt(false, kat::gcm_iv, kat::gcm_aad, cipher, opened, tag);
  fault(self_test_check::aes_256_gcm, opened);
  ok = ok && constant_time_equal(opened, kat::gcm_plain);
  if (!ok) return false;
  tag[0] ^= 0x01U;  // a provider that skips the tag check would open this too
  return !pool->crypt(false, kat::gcm_iv, kat::gcm_aad, cipher, opened, tag);
}

/// scrypt through the call backup codes use.
template <class Fault>
[[nodiscard]] bool scrypt_answers(const Fault& fault) {
  std::array<unsigned char, kat::scrypt_out.size()> out{};
  const bool ok = static_cast<bool>(scrypt(byte_view{}, byte_view{}, kat::scrypt_cost, out));
  fault(self_test_check::scrypt, out);
  return ok && constant_time_equal(out, kat::scrypt_out);
}

/// The CSPRNG secrets, nonces and salts come from: two draws that differ,
/// neither of them one byte repeated.
template <class Fault>
[[nodiscard]] bool random_answers(const Fault& fault) {
  constexpr std::size_t draw = 32;
  std::array<unsigned char, 2 * draw> both{};
  const std::span<unsigned char> first = std::span(both).first(draw), second = std::span(both).last(draw);
  const openssl_random rng;
  bool ok = rng.fill(first) && rng.fill(second);
  fault(self_test_check::random, both);
  const auto constant = [](std::span<const unsigned char> s) noexcept {
    unsigned diff = 0;
    for (unsigned char b : s) diff |= static_cast<unsigned>(b ^ s[0]);
    return diff == 0;
  };
  ok = ok && !constant_time_equal(first, second) && !constant(first) && !constant(second);
  cleanse(both.data(), both.size());
  return ok;
}

/// Runs every check in order and names the first that failed (none: all
/// passed). Not cached: self_test() runs it once per process.
template <class Fault = no_self_test_fault>
[[nodiscard]] self_test_check run_self_test(const Fault& fault = {}) {
  if (!hmac_answers(algorithm::sha1, kat::hmac_sha1, self_test_check::hmac_sha1, fault))
    return self_test_check::hmac_sha1;
  if (!hmac_answers(algorithm::sha256, kat::hmac_sha256, self_test_check::hmac_sha256, fault))
    return self_test_check::hmac_sha256;
  if (!hmac_answers(algorithm::sha512, kat::hmac_sha512, self_test_check::hmac_sha512, fault))
    return self_test_check::hmac_sha512;
  if (!gcm_answers(fault)) return self_test_check::aes_256_gcm;
  if (!scrypt_answers(fault)) return self_test_check::scrypt;
  if (!random_answers(fault)) return self_test_check::random;
  return self_test_check::none;
}

}  // namespace detail
}  // namespace mfakit
