// The machinery under secret_box (seal.hpp): a pool of AES-256-GCM contexts
// per key of the ring, keyed once, and the associated-data buffer that binds
// a sealed secret to its key id and user.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mfakit/crypto.hpp"

namespace mfakit::detail {

/// The nonce length: GCM's default IV length, so a call sets the nonce
/// without EVP_CTRL_GCM_SET_IVLEN.
inline constexpr std::size_t gcm_nonce_bytes = 12;
using gcm_nonce = std::array<unsigned char, gcm_nonce_bytes>;

inline void put_be32(unsigned char* p, std::uint32_t v) noexcept {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<unsigned char>(v & 0xFFU);
    v >>= 8U;
  }
}
[[nodiscard]] inline std::uint32_t get_be32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) | p[3];
}

/// The associated data of a sealed secret: a purpose label, the key id and
/// the user id; on the stack when they fit (user ids up to 230 bytes), else
/// on the heap.
class seal_aad {
 public:
  static constexpr std::string_view label{"mfakit/totp-secret/v1\0", 22};

  seal_aad(std::string_view user, std::uint32_t key_id) {
    const std::size_t n = label.size() + 4 + user.size();
    unsigned char* p = small_.data();
    if (n > small_.size()) {
      large_.resize(n);
      p = large_.data();
    }
    // (memcpy: std::copy from char to unsigned char compiles to a byte loop)
    std::memcpy(p, label.data(), label.size());
    put_be32(p + label.size(), key_id);
    if (!user.empty()) std::memcpy(p + label.size() + 4, user.data(), user.size());
    view_ = byte_view(p, n);
  }
  seal_aad(const seal_aad&) = delete;  // view_ points into small_
  seal_aad& operator=(const seal_aad&) = delete;
  seal_aad(seal_aad&&) = delete;
  seal_aad& operator=(seal_aad&&) = delete;
  ~seal_aad() = default;
  [[nodiscard]] byte_view bytes() const noexcept { return view_; }

 private:
  std::array<unsigned char, 256> small_;  // NOLINT(cppcoreguidelines-pro-type-member-init): written before read
  std::vector<unsigned char> large_;
  byte_view view_;
};

/// A key of the ring as secret_box keeps it: AES-256-GCM contexts keyed once
/// (the AES key schedule and the GHASH key are computed when the box is made,
/// not per call), shared by every copy of the box.
///
/// `keyed_` is never modified after construction. A call takes a context of
/// its own from `spare_`, a few slots of contexts already keyed: it sets only
/// the nonce (EVP keeps the key when the key argument is null), and hands the
/// context back afterwards, so a busy server reuses a handful of contexts
/// instead of allocating, copying and wiping one per call. A slot is an
/// atomic pointer on a cache line of its own, taken by exchange: no lock, and
/// two threads meet on a slot only when more threads than slots are busy at
/// once, when a context is copied from `keyed_`. A context that saw an error
/// is freed, not reused. A reused context keeps the last tag it saw, so every
/// decryption sets its expected tag with its nonce (crypt_with), never
/// relying on a tag set earlier. Between calls a spare context holds what GCM
/// leaves in it (the key schedule, the last keystream block), as the template
/// holds the key: process memory is trusted with the sealing key either way.
/// Freeing a context wipes it (the provider clears its context), so the key
/// leaves memory with the last copy of the box.
class gcm_context_pool {
 public:
  /// A pool for the AES-256 key `key` with id `key_id`; nullptr when OpenSSL
  /// fails.
  [[nodiscard]] static std::shared_ptr<const gcm_context_pool> make(std::uint32_t key_id,
                                                                    std::span<const unsigned char, 32> key) {
    // owned here until the pool owns it, so a failed allocation still frees (and wipes) it
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(keyed_context(key), &EVP_CIPHER_CTX_free);
    if (!ctx) return nullptr;
    auto pool = std::make_shared<const gcm_context_pool>(key_id, ctx.get());
    ctx.release();  // NOLINT(bugprone-unused-return-value): the pool owns it now
    return pool;
  }

  /// Takes ownership of `keyed`, a context keyed for AES-256-GCM.
  gcm_context_pool(std::uint32_t key_id, EVP_CIPHER_CTX* keyed) : id_(key_id), keyed_(keyed) {}
  gcm_context_pool(const gcm_context_pool&) = delete;
  gcm_context_pool& operator=(const gcm_context_pool&) = delete;
  gcm_context_pool(gcm_context_pool&&) = delete;
  gcm_context_pool& operator=(gcm_context_pool&&) = delete;
  ~gcm_context_pool() {
    for (auto& s : spare_) EVP_CIPHER_CTX_free(s.ctx.exchange(nullptr));
    EVP_CIPHER_CTX_free(keyed_);
  }
  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }

  /// One AES-256-GCM encryption (`tag` receives the tag) or decryption
  /// (`tag` is the expected one) of `in` into `out`, same size, with a
  /// context of the pool. false on any failure, and then `out` is wiped.
  [[nodiscard]] bool crypt(bool encrypt, const gcm_nonce& nonce, byte_view aad, byte_view in,
                           std::span<unsigned char> out, std::span<unsigned char> tag) const {
    EVP_CIPHER_CTX* ctx = acquire();
    if (ctx == nullptr) return false;
    const bool ok = crypt_with(ctx, encrypt, nonce, aad, in, out, tag);
    release(ctx, ok);
    if (!ok) cleanse(out.data(), out.size());
    return ok;
  }

 private:
  /// A keyed context for one call (nullptr when OpenSSL fails); give it
  /// back with release().
  [[nodiscard]] EVP_CIPHER_CTX* acquire() const noexcept {
    const std::size_t first = slot_hint();
    for (std::size_t i = 0; i < spare_slots; ++i) {
      auto& s = slot(first + i);
      if (s.load(std::memory_order_relaxed) == nullptr) continue;
      if (EVP_CIPHER_CTX* c = s.exchange(nullptr, std::memory_order_acquire)) return c;
    }
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    const bool copied = c != nullptr && EVP_CIPHER_CTX_copy(c, keyed_) == 1;
    // the copy (OpenSSL's dupctx: a memcpy of the key schedule, whose first
    // round keys are the key itself) leaves parts of it in vector registers
    cleanse_vector_registers();
    if (!copied) {
      EVP_CIPHER_CTX_free(c);
      return nullptr;
    }
    return c;
  }

  /// Takes back a context from acquire(); `reusable` false frees it.
  void release(EVP_CIPHER_CTX* c, bool reusable) const noexcept {
    if (reusable) {
      const std::size_t first = slot_hint();
      for (std::size_t i = 0; i < spare_slots; ++i) {
        EVP_CIPHER_CTX* empty = nullptr;
        if (slot(first + i).compare_exchange_strong(empty, c, std::memory_order_release, std::memory_order_relaxed))
          return;
      }
    }
    EVP_CIPHER_CTX_free(c);
  }

  // Threads start at different slots, so two busy threads do not share one.
  [[nodiscard]] static std::size_t slot_hint() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
    return mine;
  }

  // Fetched once per process: OpenSSL 3's implicit fetch by EVP_aes_256_gcm()
  // on every init costs more than the decryption and serialises threads.
  [[nodiscard]] static const EVP_CIPHER* aes_256_gcm_cipher() noexcept {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher;
  }

  // A context keyed with `key` (owned by the caller), or nullptr.
  [[nodiscard]] static EVP_CIPHER_CTX* keyed_context(std::span<const unsigned char, 32> key) noexcept {
    const EVP_CIPHER* cipher = aes_256_gcm_cipher();
    if (cipher == nullptr) return nullptr;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const bool keyed = ctx != nullptr && EVP_CipherInit_ex(ctx, cipher, nullptr, key.data(), nullptr, 0) == 1;
    cleanse_vector_registers();  // the key expansion ran in them (see acquire())
    if (!keyed) {
      EVP_CIPHER_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  [[nodiscard]] static bool crypt_with(EVP_CIPHER_CTX* ctx, bool encrypt, const gcm_nonce& nonce, byte_view aad,
                                       byte_view in, std::span<unsigned char> out,
                                       std::span<unsigned char> tag) noexcept {
    int len = 0;
    // A decryption sets its expected tag with the nonce, every time: a reused
    // context would otherwise check the tag of an earlier call (and it is one
    // call into the provider fewer than EVP_CTRL_GCM_SET_TAG afterwards).
    // (Filled in here rather than by OSSL_PARAM_construct_octet_string() and
    // OSSL_PARAM_construct_end(): two calls into libcrypto fewer per call, and
    // two symbols fewer for the dynamic linker to resolve at the first call.)
    std::array<OSSL_PARAM, 2> expected_tag{};  // [1], all zero, ends the list
    expected_tag[0].key = OSSL_CIPHER_PARAM_AEAD_TAG;
    expected_tag[0].data_type = OSSL_PARAM_OCTET_STRING;
    expected_tag[0].data = tag.data();
    expected_tag[0].data_size = tag.size();
    expected_tag[0].return_size = OSSL_PARAM_UNMODIFIED;
    if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nonce.data(), encrypt ? 1 : 0,
                           encrypt ? nullptr : expected_tag.data()) != 1)
      return false;
    if (EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) return false;
    if (EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
        static_cast<std::size_t>(len) != in.size())
      return false;
    std::array<unsigned char, 16> final_block{};
    if (EVP_CipherFinal_ex(ctx, final_block.data(), &len) != 1 || len != 0) return false;
    return !encrypt || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  }

  static constexpr std::size_t spare_slots = 8;
  // A slot takes a cache line's worth of bytes, its pointer first, and
  // spare_[0] is padding, never used: any two slots in use, and a slot and
  // the fields above (or the shared_ptr control block before them), are at
  // least 64 bytes apart, so they never share a cache line, wherever the pool
  // lies. (alignas(64) would do the same, but make_shared would then take the
  // aligned operator new, glibc's memalign, whose first call in a process
  // costs microseconds: cold code and five more symbols to bind; the
  // self-test makes the process's first pool. tests/bench/README.md)
  static constexpr std::size_t cache_line = 64;
  struct spare_slot {
    mutable std::atomic<EVP_CIPHER_CTX*> ctx{nullptr};
    std::array<unsigned char, cache_line - sizeof(std::atomic<EVP_CIPHER_CTX*>)> padding{};
  };
  static_assert(sizeof(spare_slot) == cache_line);
  [[nodiscard]] std::atomic<EVP_CIPHER_CTX*>& slot(std::size_t i) const noexcept {
    return spare_[1 + i % spare_slots].ctx;
  }

  std::uint32_t id_ = 0;
  EVP_CIPHER_CTX* keyed_ = nullptr;
  mutable std::array<spare_slot, 1 + spare_slots> spare_{};
};

}  // namespace mfakit::detail
