// The two HMAC engines behind otp_key (hmac.hpp), which give identical
// results (tests/hmac_test.cpp checks it):
//  - lean_counter_mac keeps the two pad states of OpenSSL's own SHA
//    implementation and runs exactly one block compression for the inner and
//    one for the outer hash per counter (the message and padding fit one
//    block), through the low-level digest API that OpenSSL 3 marks deprecated;
//  - evp_counter_mac keys one EVP_MAC context once and, per counter, MACs
//    with a duplicate of it (EVP_MAC_CTX_dup copies the key schedule), so
//    the shared context is only read and concurrent mac() calls are safe.
// MFAKIT_LEAN_HMAC says which one otp_key uses: the lean engine while OpenSSL
// still ships the low-level API (not built with OPENSSL_NO_DEPRECATED_3_0 /
// OPENSSL_API_COMPAT >= 3.0) and MFAKIT_USE_EVP_HMAC is not defined.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "mfakit/algorithm.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(MFAKIT_USE_EVP_HMAC)
#define MFAKIT_LEAN_HMAC 1
#else
#define MFAKIT_LEAN_HMAC 0
#endif

namespace mfakit::detail {

[[nodiscard]] inline const char* digest_name(algorithm a) noexcept {
  switch (a) {
    case algorithm::sha1: return "SHA1";
    case algorithm::sha256: return "SHA256";
    case algorithm::sha512: return "SHA512";
  }
  return "SHA1";
}

[[nodiscard]] inline const EVP_MD* evp_digest(algorithm a) noexcept {
  switch (a) {
    case algorithm::sha1: return EVP_sha1();
    case algorithm::sha256: return EVP_sha256();
    case algorithm::sha512: return EVP_sha512();
  }
  return nullptr;
}

/// HMAC through EVP_MAC. The key schedule is set once; each counter works on
/// a duplicate of the keyed context (the stored inner/outer pad states are
/// copied, not recomputed), so mac() never writes to shared state and is
/// safe to call from several threads, as its const promises.
class evp_counter_mac {
 public:
  evp_counter_mac() = default;
  evp_counter_mac(const evp_counter_mac&) = delete;
  evp_counter_mac& operator=(const evp_counter_mac&) = delete;
  evp_counter_mac(evp_counter_mac&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), size_(o.size_) {}
  evp_counter_mac& operator=(evp_counter_mac&& o) noexcept {
    if (this != &o) {
      EVP_MAC_CTX_free(ctx_);
      ctx_ = std::exchange(o.ctx_, nullptr);
      size_ = o.size_;
    }
    return *this;
  }
  ~evp_counter_mac() { EVP_MAC_CTX_free(ctx_); }  // frees and wipes the key schedule

  [[nodiscard]] result<void> init(algorithm alg, byte_view key) {
    // fetched once per process: an implicit fetch per key costs more than the MACs
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) return errc::crypto_failure;
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    if (ctx == nullptr) return errc::crypto_failure;
    std::array<char, 8> name{};
    std::memcpy(name.data(), digest_name(alg), std::strlen(digest_name(alg)));
    const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name.data(), 0),
                                           OSSL_PARAM_construct_end()};
    static const unsigned char empty_key = 0;
    const unsigned char* k = key.empty() ? &empty_key : key.data();
    if (EVP_MAC_init(ctx, k, key.size(), params.data()) != 1) {
      EVP_MAC_CTX_free(ctx);
      return errc::crypto_failure;
    }
    EVP_MAC_CTX_free(ctx_);
    ctx_ = ctx;
    size_ = digest_size(alg);
    return {};
  }

  [[nodiscard]] bool mac(const counter_bytes& counter, mac_bytes& out) const noexcept {
    if (ctx_ == nullptr) return false;
    EVP_MAC_CTX* c = EVP_MAC_CTX_dup(ctx_);  // reads ctx_ only
    if (c == nullptr) return false;
    std::size_t len = 0;
    const bool ok = EVP_MAC_update(c, counter.data(), counter.size()) == 1 &&
                    EVP_MAC_final(c, out.data(), &len, out.size()) == 1 && len == size_;
    EVP_MAC_CTX_free(c);  // wipes the copy of the key schedule
    return ok;
  }

  // The batch interface detail::match_counters uses (see lean_counter_mac);
  // EVP has nothing to gain from it: one counter at a time.
  static constexpr std::size_t lanes = 1;
  struct lane {
    mac_bytes mac;
  };
  using batch = std::array<lane, lanes>;
  static void prepare(batch& /*w*/, std::size_t /*n*/) noexcept {}
  [[nodiscard]] bool mac_lanes(std::uint64_t first, std::size_t n, batch& w) const noexcept {
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) ok = mac(big_endian(first + i), w[i].mac) && ok;
    return ok;
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
  std::size_t size_ = 0;
};

#if MFAKIT_LEAN_HMAC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

[[nodiscard]] constexpr std::uint32_t to_big_endian32(std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return (v >> 24U) | ((v >> 8U) & 0xFF00U) | ((v << 8U) & 0xFF0000U) | (v << 24U);  // one bswap
  } else {
    return v;
  }
}
// One 4-byte store. (Written byte by byte, GCC 12 -O2 emits four byte
// stores, and the compression's 16-byte load of them then waits for the
// store buffer: a store-forwarding stall per block.)
inline void store_be32(unsigned char* p, std::uint32_t v) noexcept {
  v = to_big_endian32(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be64(unsigned char* p, std::uint64_t v) noexcept {
  store_be32(p, static_cast<std::uint32_t>(v >> 32U));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}

// One block compression of OpenSSL's SHA implementations, plus how to read
// the chaining state out as a digest.
struct sha1_compression {
  using state = SHA_CTX;
  static constexpr algorithm alg = algorithm::sha1;
  static constexpr std::size_t block = 64, digest = 20, length_field = 8;
  static bool init(state& s) noexcept { return SHA1_Init(&s) == 1; }
  static void compress(state& s, const unsigned char* b) noexcept { SHA1_Transform(&s, b); }
  static void read(const state& s, unsigned char* out) noexcept {
    store_be32(out, s.h0);
    store_be32(out + 4, s.h1);
    store_be32(out + 8, s.h2);
    store_be32(out + 12, s.h3);
    store_be32(out + 16, s.h4);
  }
};
struct sha256_compression {
  using state = SHA256_CTX;
  static constexpr algorithm alg = algorithm::sha256;
  static constexpr std::size_t block = 64, digest = 32, length_field = 8;
  static bool init(state& s) noexcept { return SHA256_Init(&s) == 1; }
  static void compress(state& s, const unsigned char* b) noexcept { SHA256_Transform(&s, b); }
  static void read(const state& s, unsigned char* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) store_be32(out + 4 * i, s.h[i]);
  }
};
struct sha512_compression {
  using state = SHA512_CTX;
  static constexpr algorithm alg = algorithm::sha512;
  static constexpr std::size_t block = 128, digest = 64, length_field = 16;
  static bool init(state& s) noexcept { return SHA512_Init(&s) == 1; }
  static void compress(state& s, const unsigned char* b) noexcept { SHA512_Transform(&s, b); }
  static void read(const state& s, unsigned char* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) store_be64(out + 8 * i, s.h[i]);
  }
};

/// HMAC-H(K, counter) with one compression for the inner and one for the
/// outer hash: the pad states are kept, and the final block of each hash
/// (message, 0x80, zeros, bit length) is laid out here once.
template <class H>
class lean_counter_mac {
 public:
  lean_counter_mac() = default;
  lean_counter_mac(const lean_counter_mac&) = delete;
  lean_counter_mac& operator=(const lean_counter_mac&) = delete;
  lean_counter_mac(lean_counter_mac&& o) noexcept { take(o); }
  lean_counter_mac& operator=(lean_counter_mac&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }
  ~lean_counter_mac() { wipe(); }

  [[nodiscard]] result<void> init(byte_view key) {
    std::array<unsigned char, H::block> pad{};
    if (key.size() > H::block) {  // RFC 2104: long keys are hashed first
      unsigned int n = 0;
      if (EVP_Digest(key.data(), key.size(), pad.data(), &n, evp_digest(H::alg), nullptr) != 1) {
        cleanse(pad.data(), pad.size());
        return errc::crypto_failure;
      }
    } else if (!key.empty()) {
      std::memcpy(pad.data(), key.data(), key.size());
    }
    for (auto& b : pad) b ^= 0x36U;
    const bool inner_ok = H::init(inner_);
    H::compress(inner_, pad.data());
    for (auto& b : pad) b ^= 0x36U ^ 0x5cU;
    const bool outer_ok = H::init(outer_);
    H::compress(outer_, pad.data());
    cleanse(pad.data(), pad.size());
    if (!inner_ok || !outer_ok) {
      wipe();
      return errc::crypto_failure;
    }
    ready_ = true;
    return {};
  }

  /// Counters MACed together by mac_lanes(). Their compressions are
  /// independent, so running the inner compressions of a batch back to back,
  /// then the outer ones, lets the CPU overlap them; one counter at a time,
  /// each MAC is a chain of two dependent compressions. That pays where a
  /// compression is latency-bound (the SHA extensions: SHA-1, SHA-256);
  /// SHA-512's is not, so it goes one at a time.
  static constexpr std::size_t lanes = H::block == 64 ? 4 : 1;
  /// One MAC's working memory: a copy of a pad state, both final blocks
  /// (laid out once by prepare()) and the result. Secret: wipe after use.
  struct lane {
    typename H::state s;
    std::array<unsigned char, H::block> inner_blk;
    std::array<unsigned char, H::block> outer_blk;
    mac_bytes mac;
  };
  using batch = std::array<lane, lanes>;

  /// Lays out the final blocks of lanes [0, n): the inner one is counter ||
  /// 0x80 || zeros || bit length, the outer one inner digest || 0x80 ||
  /// zeros || bit length; mac_lanes() then only writes counter and digest.
  static void prepare(batch& w, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) prepare(w[i]);
  }

  /// HMAC(key, first + i) into w[i].mac[0, H::digest) for i < n <= lanes,
  /// with lanes [0, n) prepared. The caller wipes the lanes when done.
  [[nodiscard]] bool mac_lanes(std::uint64_t first, std::size_t n, batch& w) const noexcept {
    if (!ready_) return false;  // default-constructed or moved-from: no key
    for (std::size_t i = 0; i < n; ++i) store_be64(w[i].inner_blk.data(), first + i);
    run(w.data(), n);
    return true;
  }

  [[nodiscard]] bool mac(const counter_bytes& counter, mac_bytes& out) const noexcept {
    if (!ready_) return false;
    lane w;
    prepare(w);
    std::memcpy(w.inner_blk.data(), counter.data(), counter.size());
    run(&w, 1);
    std::memcpy(out.data(), w.mac.data(), H::digest);
    cleanse(&w, sizeof w);  // pad-state copy, both blocks (inner digest), result
    return true;
  }

 private:
  void take(lean_counter_mac& o) noexcept {
    inner_ = o.inner_;
    outer_ = o.outer_;
    ready_ = o.ready_;
    o.wipe();
  }
  void wipe() noexcept {
    cleanse(&inner_, sizeof inner_);
    cleanse(&outer_, sizeof outer_);
    ready_ = false;
  }
  static void prepare(lane& l) noexcept {
    l.inner_blk.fill(0);
    l.inner_blk[sizeof(counter_bytes)] = 0x80U;
    store_be64(l.inner_blk.data() + H::block - 8, (H::block + sizeof(counter_bytes)) * 8U);
    l.outer_blk.fill(0);
    l.outer_blk[H::digest] = 0x80U;
    store_be64(l.outer_blk.data() + H::block - 8, (H::block + H::digest) * 8U);
  }
  /// The two compressions of lanes [0, n), whose counters are in place.
  void run(lane* w, std::size_t n) const noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      w[i].s = inner_;  // ipad block already absorbed
      H::compress(w[i].s, w[i].inner_blk.data());
    }
    for (std::size_t i = 0; i < n; ++i) H::read(w[i].s, w[i].outer_blk.data());  // inner digest
    for (std::size_t i = 0; i < n; ++i) {
      w[i].s = outer_;  // opad block already absorbed
      H::compress(w[i].s, w[i].outer_blk.data());
    }
    for (std::size_t i = 0; i < n; ++i) H::read(w[i].s, w[i].mac.data());
  }
  typename H::state inner_{};
  typename H::state outer_{};
  bool ready_ = false;
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif  // MFAKIT_LEAN_HMAC

}  // namespace mfakit::detail
