// The thin layer over OpenSSL 3 libcrypto that everything else stands on:
// wiping memory, constant-time comparison, the CSPRNG (injectable), uniform
// choices without modulo bias, SHA-256, keyed HMAC-SHA-256 and scrypt.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "mfakit/errors.hpp"

namespace mfakit {

/// Overwrites memory in a way the compiler may not optimise away.
inline void cleanse(void* p, std::size_t n) noexcept {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}

namespace detail {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MFAKIT_CLEANSE_VECTOR_REGISTERS 1
// ymm16-31 (AVX-512): zeroing the 256-bit form clears the whole register
// without a 512-bit instruction; vzeroall then clears ymm0-15.
__attribute__((target("avx512f"))) inline void zero_vector_registers_avx512() noexcept {
  asm volatile(
      "vpxord %%ymm16, %%ymm16, %%ymm16\n\t"
      "vpxord %%ymm17, %%ymm17, %%ymm17\n\t"
      "vpxord %%ymm18, %%ymm18, %%ymm18\n\t"
      "vpxord %%ymm19, %%ymm19, %%ymm19\n\t"
      "vpxord %%ymm20, %%ymm20, %%ymm20\n\t"
      "vpxord %%ymm21, %%ymm21, %%ymm21\n\t"
      "vpxord %%ymm22, %%ymm22, %%ymm22\n\t"
      "vpxord %%ymm23, %%ymm23, %%ymm23\n\t"
      "vpxord %%ymm24, %%ymm24, %%ymm24\n\t"
      "vpxord %%ymm25, %%ymm25, %%ymm25\n\t"
      "vpxord %%ymm26, %%ymm26, %%ymm26\n\t"
      "vpxord %%ymm27, %%ymm27, %%ymm27\n\t"
      "vpxord %%ymm28, %%ymm28, %%ymm28\n\t"
      "vpxord %%ymm29, %%ymm29, %%ymm29\n\t"
      "vpxord %%ymm30, %%ymm30, %%ymm30\n\t"
      "vpxord %%ymm31, %%ymm31, %%ymm31\n\t"
      "vzeroall"
      :
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",          //
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",    //
        "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",  //
        "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}
__attribute__((target("avx"))) inline void zero_vector_registers_avx() noexcept {
  asm volatile("vzeroall"
               :
               :
               : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",  //
                 "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
inline void zero_vector_registers_sse() noexcept {
  asm volatile(
      "pxor %%xmm0, %%xmm0\n\t"
      "pxor %%xmm1, %%xmm1\n\t"
      "pxor %%xmm2, %%xmm2\n\t"
      "pxor %%xmm3, %%xmm3\n\t"
      "pxor %%xmm4, %%xmm4\n\t"
      "pxor %%xmm5, %%xmm5\n\t"
      "pxor %%xmm6, %%xmm6\n\t"
      "pxor %%xmm7, %%xmm7\n\t"
      "pxor %%xmm8, %%xmm8\n\t"
      "pxor %%xmm9, %%xmm9\n\t"
      "pxor %%xmm10, %%xmm10\n\t"
      "pxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\t"
      "pxor %%xmm13, %%xmm13\n\t"
      "pxor %%xmm14, %%xmm14\n\t"
      "pxor %%xmm15, %%xmm15"
      :
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",  //
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}
#else
#define MFAKIT_CLEANSE_VECTOR_REGISTERS 0
#endif
}  // namespace detail

/// Zeroes the CPU's vector registers (x86-64 with GCC or Clang; elsewhere it
/// does nothing). After a copy of key material: glibc's memcpy on AVX-512
/// machines moves data through ymm16-31, which ordinary code seldom touches,
/// and the dynamic linker's lazy symbol binding (or a signal frame) later
/// saves every vector register on the stack, where the key then stays
/// (tests/memscan found the sealing key there, left by EVP_CIPHER_CTX_copy).
/// Costs a few nanoseconds; used where keys are copied or expanded, not per call.
inline void cleanse_vector_registers() noexcept {
#if MFAKIT_CLEANSE_VECTOR_REGISTERS
  if (__builtin_cpu_supports("avx512f")) {
    detail::zero_vector_registers_avx512();
  } else if (__builtin_cpu_supports("avx")) {
    detail::zero_vector_registers_avx();
  } else {
    detail::zero_vector_registers_sse();
  }
#endif
}

/// An allocator that wipes every block before giving it back, so a
/// std::vector of secret bytes leaves nothing behind, not even on growth.
template <class T>
struct cleansing_allocator {
  using value_type = T;
  cleansing_allocator() noexcept = default;
  template <class U>
  cleansing_allocator(const cleansing_allocator<U>& /*other*/) noexcept {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    cleanse(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const cleansing_allocator&, const cleansing_allocator<U>&) noexcept {
    return true;
  }
};

/// Bytes that are wiped when freed.
using secure_bytes = std::vector<unsigned char, cleansing_allocator<unsigned char>>;

using byte_view = std::span<const unsigned char>;

[[nodiscard]] inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const unsigned char*>(s.data()),
          s.size()};  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

namespace detail {
/// The lowercase hex digit of a nibble by arithmetic, not a table lookup: a
/// load indexed by secret data showed in the time on the CI machine even
/// within one cache line (tests/ct: base32_encode, challenge_key).
[[nodiscard]] constexpr char hex_digit(unsigned v) noexcept {
  const unsigned letter = ((9U - v) >> 8U) & 1U;  // 1 for 10..15 (v < 16: 9 - v wraps)
  return static_cast<char>('0' + v + letter * ('a' - '0' - 10));
}
static_assert(hex_digit(0) == '0' && hex_digit(9) == '9' && hex_digit(10) == 'a' && hex_digit(15) == 'f');

/// A range test as a mask, without a branch: -1 when lo <= c <= hi, 0
/// otherwise, for 0 <= c, lo, hi <= 255 (both differences are negative only
/// inside the range; >> of a negative int is arithmetic since C++20). For
/// characters of secrets (base32.hpp) and tokens (well_formed_token), where
/// a branch per character range showed in the time (tests/ct).
[[nodiscard]] constexpr int in_range_mask(int c, int lo, int hi) noexcept { return ((lo - 1 - c) & (c - hi - 1)) >> 8; }
static_assert(in_range_mask(0, 0, 25) == -1 && in_range_mask(25, 0, 25) == -1 && in_range_mask(26, 0, 25) == 0 &&
              in_range_mask('@', 'A', 'Z') == 0 && in_range_mask('[', 'A', 'Z') == 0 &&
              in_range_mask(255, 0, 254) == 0 && in_range_mask(255, 0, 255) == -1 && in_range_mask(0, 1, 255) == 0);

/// For text that is not secret (JSON escapes).
inline constexpr std::string_view hex_digits = "0123456789abcdef";

/// Writes lowercase hex of `data` at `p` (2 * data.size() characters), in
/// time that depends only on the length; returns the end.
inline char* write_hex(char* p, byte_view data) noexcept {
  for (unsigned char b : data) {
    *p++ = hex_digit(b >> 4U);
    *p++ = hex_digit(b & 0xFU);
  }
  return p;
}
}  // namespace detail

/// Appends lowercase hex of `data` to `out` (store keys, tokens): the one hex
/// encoder, in time that depends only on the length.
inline void append_hex(std::string& out, byte_view data) {
  const std::size_t at = out.size();
  out.resize(at + 2 * data.size());  // then plain stores: push_back checks the capacity per character
  detail::write_hex(out.data() + at, data);
}

/// Compares in time that depends only on the lengths (which are not secret).
[[nodiscard]] inline bool constant_time_equal(byte_view a, byte_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// --- randomness ------------------------------------------------------------------

/// A source of cryptographically secure random bytes. fill() returns false
/// when the source failed; callers then produce no secret and no code. A
/// service calls its source from every thread that calls the service, at the
/// same time, and in a process forked from the one that built it: fill() must
/// be safe for both (openssl_random is).
template <class R>
concept random_source = requires(R& r, std::span<unsigned char> out) {
  { r.fill(out) } -> std::same_as<bool>;
};

/// The default source: OpenSSL's RAND_bytes (the process DRBG).
struct openssl_random {
  [[nodiscard]] bool fill(std::span<unsigned char> out) const noexcept {
    constexpr auto max_chunk = static_cast<std::size_t>(std::numeric_limits<int>::max());
    while (!out.empty()) {
      const std::size_t n = out.size() < max_chunk ? out.size() : max_chunk;
      if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) return false;
      out = out.subspan(n);
    }
    return true;
  }
};
static_assert(random_source<openssl_random>);

/// Fills `out` with indices uniformly distributed in [0, n), 1 <= n <= 256,
/// by rejection sampling: a byte b is used only when b < 256 - 256 % n, so
/// every index has exactly the same number of pre-images. A source that keeps
/// yielding only rejected bytes ends in random_failure, never in a bias.
template <random_source R>
[[nodiscard]] result<void> uniform_indices(R& rng, std::span<std::uint8_t> out, unsigned n) {
  if (n == 0 || n > 256) return errc::invalid_argument;
  const unsigned limit = 256U - (256U % n);
  std::array<unsigned char, 64> pool{};
  std::size_t filled = 0;
  std::size_t rejected_in_a_row = 0;
  constexpr std::size_t give_up_after = 4096;  // p = (8/256)^4096 for n = 31 with a real RNG
  while (filled < out.size()) {
    if (!rng.fill(pool)) {
      cleanse(pool.data(), pool.size());
      cleanse(out.data(), out.size());
      return errc::random_failure;
    }
    for (unsigned char b : pool) {
      if (b >= limit) {
        if (++rejected_in_a_row >= give_up_after) {
          cleanse(pool.data(), pool.size());
          cleanse(out.data(), out.size());
          return errc::random_failure;
        }
        continue;
      }
      rejected_in_a_row = 0;
      out[filled++] = static_cast<std::uint8_t>(b % n);
      if (filled == out.size()) break;
    }
  }
  cleanse(pool.data(), pool.size());
  return {};
}

// --- hashing and KDF -------------------------------------------------------------------

using sha256_digest = std::array<unsigned char, 32>;

[[nodiscard]] inline result<sha256_digest> sha256(byte_view data) {
  sha256_digest out{};
  unsigned int len = 0;
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // once, not per call
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != out.size())
    return errc::crypto_failure;
  return out;
}

/// HMAC-SHA-256 for occasional use (keyed digests, token hashes); the OTP hot
/// path uses otp_key (hmac.hpp), which keeps the key schedule.
[[nodiscard]] inline result<sha256_digest> hmac_sha256(byte_view key, byte_view data) {
  sha256_digest out{};
  std::size_t len = 0;
  static const unsigned char empty_key = 0;
  const unsigned char* k = key.empty() ? &empty_key : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, k, key.size(), data.data(), data.size(), out.data(),
                out.size(), &len) == nullptr ||
      len != out.size()) {
    cleanse(out.data(), out.size());
    return errc::crypto_failure;
  }
  result<sha256_digest> r = out;
  cleanse(out.data(), out.size());
  return r;
}

/// scrypt cost parameters (RFC 7914): N (a power of two), r, p.
struct scrypt_params {
  std::uint64_t n = 1U << 14;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
  friend bool operator==(const scrypt_params&, const scrypt_params&) = default;
};

/// The most memory one scrypt run may take (128 * r * N bytes). A stored
/// backup-code set carries its own cost, so a tampered record must not be
/// able to ask for more.
inline constexpr std::uint64_t max_scrypt_memory = 256ULL << 20;

[[nodiscard]] inline bool valid(const scrypt_params& s) noexcept {
  const bool pow2 = s.n >= 2 && (s.n & (s.n - 1)) == 0;
  // RFC 7914 also needs N < 2^(128 * r / 8); OpenSSL refuses anything else.
  const bool n_fits_r = s.r >= 4 || s.n < (1ULL << (16U * s.r));
  return pow2 && s.n <= (1ULL << 24) && s.r >= 1 && s.r <= 64 && s.p >= 1 && s.p <= 16 && n_fits_r &&
         128ULL * s.r * s.n <= max_scrypt_memory;
}

/// scrypt through OpenSSL's EVP_PBE_scrypt; `out` receives out.size() bytes.
[[nodiscard]] inline result<void> scrypt(byte_view password, byte_view salt, const scrypt_params& cost,
                                         std::span<unsigned char> out) {
  if (!valid(cost) || out.empty()) return errc::invalid_argument;
  // What scrypt needs (128*r*N for V, 128*r*p for B) plus a margin.
  const std::uint64_t maxmem = 128ULL * cost.r * (cost.n + cost.p + 2) + (1U << 20);
  static const unsigned char empty = 0;
  const auto* pw = password.empty() ? &empty : password.data();
  const auto* sa = salt.empty() ? &empty : salt.data();
  const auto* pw_chars = reinterpret_cast<const char*>(pw);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  if (EVP_PBE_scrypt(pw_chars, password.size(), sa, salt.size(), cost.n, cost.r, cost.p, maxmem, out.data(),
                     out.size()) != 1) {
    cleanse(out.data(), out.size());
    return errc::crypto_failure;
  }
  return {};
}

}  // namespace mfakit
