// Secrets at rest: the TOTP secret is stored sealed with AES-256-GCM
// (OpenSSL EVP), bound to the user id as associated data, under a key id so
// keys can rotate: a keyring seals with its current key and opens records
// sealed under any key it still holds. The only unsealed alternative is named
// secret_box::unsafe_plaintext().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/secret.hpp"

namespace mfakit {

/// One AES-256 key of a keyring.
struct sealing_key {
  std::uint32_t id = 0;
  std::array<unsigned char, 32> bytes{};
  sealing_key() = default;
  sealing_key(std::uint32_t key_id, std::span<const unsigned char, 32> key) : id(key_id) {
    std::copy(key.begin(), key.end(), bytes.begin());
  }
  sealing_key(const sealing_key&) = default;
  sealing_key& operator=(const sealing_key&) = default;
  ~sealing_key() { cleanse(bytes.data(), bytes.size()); }
};

class secret_box {
 public:
  static constexpr unsigned char scheme_unsafe_plaintext = 0x00;
  static constexpr unsigned char scheme_aes_256_gcm = 0x01;
  static constexpr std::size_t nonce_bytes = 12;
  static constexpr std::size_t tag_bytes = 16;

  /// Seals with `current`; opens records sealed under any key in `keys`.
  [[nodiscard]] static result<secret_box> aes_256_gcm(std::uint32_t current, std::vector<sealing_key> keys) {
    bool has_current = false;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      unsigned char any = 0;  // an all-zero key is a forgotten configuration, not a key
      for (unsigned char b : keys[i].bytes) any |= b;
      if (any == 0) return errc::invalid_argument;
      has_current = has_current || keys[i].id == current;
      for (std::size_t j = i + 1; j < keys.size(); ++j)
        if (keys[i].id == keys[j].id) return errc::invalid_argument;
    }
    if (!has_current) return errc::invalid_argument;
    secret_box b;
    b.scheme_ = scheme_aes_256_gcm;
    b.current_ = current;
    b.keys_.reserve(keys.size());
    for (const auto& k : keys) {
      // owned here until the keyed_key owns it, so a failed allocation still frees (and wipes) it
      std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(keyed_context(k), &EVP_CIPHER_CTX_free);
      if (!ctx) return errc::crypto_failure;
      auto key = std::make_shared<const keyed_key>(k.id, ctx.get());
      ctx.release();  // NOLINT(bugprone-unused-return-value): key owns it now
      b.keys_.push_back(std::move(key));
    }
    return b;
  }

  /// Stores secrets as they are. Only for tests and migrations: anyone who
  /// can read the database can then log in as any user.
  [[nodiscard]] static secret_box unsafe_plaintext() {
    secret_box b;
    b.scheme_ = scheme_unsafe_plaintext;
    return b;
  }

  /// Seals `s` for `user`. The nonce comes from `rng`.
  template <random_source R>
  [[nodiscard]] result<std::string> seal(std::string_view user, const secret& s, R& rng) const {
    if (s.size() < min_secret_bytes || s.size() > max_secret_bytes) return errc::invalid_secret;
    std::string out(1, static_cast<char>(scheme_));
    if (scheme_ == scheme_unsafe_plaintext) {
      out.append(reinterpret_cast<const char*>(s.bytes().data()), s.size());  // NOLINT
      return out;
    }
    const keyed_key* k = find(current_);
    if (k == nullptr) return errc::seal_failure;
    std::array<unsigned char, nonce_bytes> nonce{};
    if (!rng.fill(nonce)) return errc::random_failure;
    out.resize(1 + 4 + nonce_bytes + s.size() + tag_bytes);
    auto* p = reinterpret_cast<unsigned char*>(out.data());  // NOLINT
    put_u32(p + 1, k->id());
    std::copy(nonce.begin(), nonce.end(), p + 5);
    if (!crypt(true, *k, nonce, aad_text(user, k->id()).bytes(), s.bytes(), {p + 5 + nonce_bytes, s.size()},
               {p + 5 + nonce_bytes + s.size(), tag_bytes})) {
      cleanse(out.data(), out.size());
      return errc::crypto_failure;
    }
    return out;
  }

  /// Opens a sealed secret; errc::seal_failure for a wrong user, a tampered
  /// record, an unknown key id or a scheme this box does not use.
  [[nodiscard]] result<secret> open(std::string_view user, std::string_view sealed) const {
    std::array<unsigned char, max_secret_bytes> plain{};
    auto n = open_into(user, sealed, plain);
    auto s = n ? secret::from_bytes({plain.data(), *n}) : result<secret>(n.error());
    cleanse(plain.data(), plain.size());
    return s;
  }

  /// open() into the caller's buffer, for a caller that uses the secret at
  /// once and wipes it (no heap copy): the secret is out[0, returned size).
  /// Same errors as open(); out holds nothing on failure.
  [[nodiscard]] result<std::size_t> open_into(std::string_view user, std::string_view sealed,
                                              std::span<unsigned char, max_secret_bytes> out) const {
    if (sealed.empty() || static_cast<unsigned char>(sealed[0]) != scheme_) return errc::seal_failure;
    const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());  // NOLINT
    if (scheme_ == scheme_unsafe_plaintext) {
      const std::size_t n = sealed.size() - 1;
      if (n < min_secret_bytes || n > max_secret_bytes) return errc::seal_failure;
      std::copy(p + 1, p + 1 + n, out.begin());
      return n;
    }
    if (sealed.size() < 1 + 4 + nonce_bytes + min_secret_bytes + tag_bytes ||
        sealed.size() > 1 + 4 + nonce_bytes + max_secret_bytes + tag_bytes)
      return errc::seal_failure;
    const std::uint32_t id = get_u32(p + 1);
    const keyed_key* k = find(id);
    if (k == nullptr) return errc::seal_failure;
    std::array<unsigned char, nonce_bytes> nonce{};
    std::copy(p + 5, p + 5 + nonce_bytes, nonce.begin());
    const std::size_t n = sealed.size() - (1 + 4 + nonce_bytes + tag_bytes);  // <= max_secret_bytes (checked above)
    auto* tag = const_cast<unsigned char*>(p + 5 + nonce_bytes + n);          // NOLINT: read only, EVP takes void*
    if (!crypt(false, *k, nonce, aad_text(user, id).bytes(), {p + 5 + nonce_bytes, n}, out.first(n),
               {tag, tag_bytes})) {
      cleanse(out.data(), out.size());
      return errc::seal_failure;
    }
    return n;
  }

  /// Whether `sealed` was sealed by this box's scheme under a key other than
  /// the current one: after a rotation, such records still open, but the old
  /// key can only be retired once none is left (reseal() them first).
  [[nodiscard]] bool needs_reseal(std::string_view sealed) const noexcept {
    if (scheme_ == scheme_unsafe_plaintext || sealed.size() < 1 + 4 || static_cast<unsigned char>(sealed[0]) != scheme_)
      return false;
    return get_u32(reinterpret_cast<const unsigned char*>(sealed.data()) + 1) != current_;  // NOLINT
  }

  /// Opens `sealed` and seals the secret again under the current key, with a
  /// fresh nonce. Same errors as open() and seal().
  template <random_source R>
  [[nodiscard]] result<std::string> reseal(std::string_view user, std::string_view sealed, R& rng) const {
    auto s = open(user, sealed);
    if (!s) return s.error();
    return seal(user, *s, rng);
  }

  [[nodiscard]] bool is_unsafe_plaintext() const noexcept { return scheme_ == scheme_unsafe_plaintext; }
  [[nodiscard]] std::uint32_t current_key_id() const noexcept { return current_; }

 private:
  secret_box() = default;

  /// A key of the ring as the box keeps it: AES-256-GCM contexts keyed once
  /// (the AES key schedule and the GHASH key are computed when the box is
  /// made, not per call), shared by every copy of the box.
  ///
  /// `keyed_` is never modified after construction. A call takes a context
  /// of its own from `spare_`, a few slots of contexts already keyed: it sets
  /// only the nonce (EVP keeps the key when the key argument is null), and
  /// hands the context back afterwards, so a busy server reuses a handful of
  /// contexts instead of allocating, copying and wiping one per call (that
  /// was a third of an unseal). A slot is an atomic pointer on a cache line
  /// of its own, taken by exchange: no lock, and two threads meet on a slot
  /// only when more threads than slots are busy at once, when a context is
  /// copied from `keyed_` as before. A context that saw an error is freed,
  /// not reused. A reused context keeps the last tag it saw, so every
  /// decryption sets its expected tag with its nonce (crypt_with), never
  /// relying on a tag set earlier. Between calls a spare context holds what
  /// GCM leaves in it (the key schedule, the last keystream block), as the
  /// template holds the key: process memory is trusted with the sealing key
  /// either way. Freeing a context wipes it (the provider clears its
  /// context), so the key leaves memory with the last copy of the box.
  class keyed_key {
   public:
    keyed_key(std::uint32_t key_id, EVP_CIPHER_CTX* keyed) : id_(key_id), keyed_(keyed) {}
    keyed_key(const keyed_key&) = delete;
    keyed_key& operator=(const keyed_key&) = delete;
    keyed_key(keyed_key&&) = delete;
    keyed_key& operator=(keyed_key&&) = delete;
    ~keyed_key() {
      for (auto& s : spare_) EVP_CIPHER_CTX_free(s.ctx.exchange(nullptr));
      EVP_CIPHER_CTX_free(keyed_);
    }
    [[nodiscard]] std::uint32_t id() const noexcept { return id_; }

    /// A keyed context for one call (nullptr when OpenSSL fails); give it
    /// back with release().
    [[nodiscard]] EVP_CIPHER_CTX* acquire() const noexcept {
      const std::size_t first = slot_hint();
      for (std::size_t i = 0; i < spare_slots; ++i) {
        auto& slot = spare_[(first + i) % spare_slots].ctx;
        if (slot.load(std::memory_order_relaxed) == nullptr) continue;
        if (EVP_CIPHER_CTX* c = slot.exchange(nullptr, std::memory_order_acquire)) return c;
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
          if (spare_[(first + i) % spare_slots].ctx.compare_exchange_strong(empty, c, std::memory_order_release,
                                                                            std::memory_order_relaxed))
            return;
        }
      }
      EVP_CIPHER_CTX_free(c);
    }

   private:
    static constexpr std::size_t spare_slots = 8;
    struct alignas(64) spare_slot {
      mutable std::atomic<EVP_CIPHER_CTX*> ctx{nullptr};
    };
    // Threads start at different slots, so two busy threads do not share one.
    [[nodiscard]] static std::size_t slot_hint() noexcept {
      static std::atomic<std::size_t> next{0};
      thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
      return mine;
    }

    std::uint32_t id_ = 0;
    EVP_CIPHER_CTX* keyed_ = nullptr;
    mutable std::array<spare_slot, spare_slots> spare_{};
  };

  [[nodiscard]] const keyed_key* find(std::uint32_t id) const noexcept {
    for (const auto& k : keys_)
      if (k->id() == id) return k.get();
    return nullptr;
  }
  static void put_u32(unsigned char* p, std::uint32_t v) noexcept {
    for (int i = 3; i >= 0; --i) {
      p[i] = static_cast<unsigned char>(v & 0xFFU);
      v >>= 8U;
    }
  }
  [[nodiscard]] static std::uint32_t get_u32(const unsigned char* p) noexcept {
    return (std::uint32_t{p[0]} << 24U) | (std::uint32_t{p[1]} << 16U) | (std::uint32_t{p[2]} << 8U) | p[3];
  }
  // Associated data: a purpose label, the key id and the user id; on the
  // stack when they fit (user ids up to 230 bytes), else on the heap.
  static constexpr std::string_view aad_label{"mfakit/totp-secret/v1\0", 22};
  class aad_text {
   public:
    aad_text(std::string_view user, std::uint32_t id) {
      const std::size_t n = aad_label.size() + 4 + user.size();
      unsigned char* p = small_.data();
      if (n > small_.size()) {
        large_.resize(n);
        p = large_.data();
      }
      // (memcpy: std::copy from char to unsigned char compiles to a byte loop)
      std::memcpy(p, aad_label.data(), aad_label.size());
      put_u32(p + aad_label.size(), id);
      if (!user.empty()) std::memcpy(p + aad_label.size() + 4, user.data(), user.size());
      view_ = byte_view(p, n);
    }
    aad_text(const aad_text&) = delete;  // view_ points into small_
    aad_text& operator=(const aad_text&) = delete;
    aad_text(aad_text&&) = delete;
    aad_text& operator=(aad_text&&) = delete;
    ~aad_text() = default;
    [[nodiscard]] byte_view bytes() const noexcept { return view_; }

   private:
    std::array<unsigned char, 256> small_;  // NOLINT(cppcoreguidelines-pro-type-member-init): written before read
    std::vector<unsigned char> large_;
    byte_view view_;
  };

  // Fetched once per process: OpenSSL 3's implicit fetch by EVP_aes_256_gcm()
  // on every init costs more than the decryption and serialises threads.
  [[nodiscard]] static const EVP_CIPHER* aes_256_gcm_cipher() noexcept {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher;
  }

  // A context keyed with k (owned by the caller), or nullptr.
  [[nodiscard]] static EVP_CIPHER_CTX* keyed_context(const sealing_key& k) noexcept {
    const EVP_CIPHER* cipher = aes_256_gcm_cipher();
    if (cipher == nullptr) return nullptr;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const bool keyed = ctx != nullptr && EVP_CipherInit_ex(ctx, cipher, nullptr, k.bytes.data(), nullptr, 0) == 1;
    cleanse_vector_registers();  // the key expansion ran in them (see acquire())
    if (!keyed) {
      EVP_CIPHER_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  // The nonce is set with GCM's default IV length.
  static_assert(nonce_bytes == 12);

  [[nodiscard]] static bool crypt(bool encrypt, const keyed_key& k, const std::array<unsigned char, nonce_bytes>& nonce,
                                  byte_view aad, byte_view in, std::span<unsigned char> out,
                                  std::span<unsigned char> tag) {
    EVP_CIPHER_CTX* ctx = k.acquire();
    if (ctx == nullptr) return false;
    const bool ok = crypt_with(ctx, encrypt, nonce, aad, in, out, tag);
    k.release(ctx, ok);
    if (!ok) cleanse(out.data(), out.size());
    return ok;
  }

  [[nodiscard]] static bool crypt_with(EVP_CIPHER_CTX* ctx, bool encrypt,
                                       const std::array<unsigned char, nonce_bytes>& nonce, byte_view aad, byte_view in,
                                       std::span<unsigned char> out, std::span<unsigned char> tag) noexcept {
    int len = 0;
    // A decryption sets its expected tag with the nonce, every time: a reused
    // context would otherwise check the tag of an earlier call (and it is one
    // call into the provider fewer than EVP_CTRL_GCM_SET_TAG afterwards).
    std::array<OSSL_PARAM, 2> expected_tag{
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag.size()),
        OSSL_PARAM_construct_end()};
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

  unsigned char scheme_ = scheme_unsafe_plaintext;
  std::uint32_t current_ = 0;
  std::vector<std::shared_ptr<const keyed_key>> keys_;
};

}  // namespace mfakit
