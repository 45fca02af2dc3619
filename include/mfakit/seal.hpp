// Secrets at rest: the TOTP secret is stored sealed with AES-256-GCM
// (OpenSSL EVP), bound to the user id as associated data, under a key id so
// keys can rotate: a keyring seals with its current key and opens records
// sealed under any key it still holds. The only unsealed alternative is named
// secret_box::unsafe_plaintext().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

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
    b.keys_ = std::move(keys);
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
    const sealing_key* k = find(current_);
    if (k == nullptr) return errc::seal_failure;
    std::array<unsigned char, nonce_bytes> nonce{};
    if (!rng.fill(nonce)) return errc::random_failure;
    out.resize(1 + 4 + nonce_bytes + s.size() + tag_bytes);
    auto* p = reinterpret_cast<unsigned char*>(out.data());  // NOLINT
    put_u32(p + 1, k->id);
    std::copy(nonce.begin(), nonce.end(), p + 5);
    if (!crypt(true, *k, nonce, aad(user, k->id), s.bytes(), {p + 5 + nonce_bytes, s.size()},
               {p + 5 + nonce_bytes + s.size(), tag_bytes})) {
      cleanse(out.data(), out.size());
      return errc::crypto_failure;
    }
    return out;
  }

  /// Opens a sealed secret; errc::seal_failure for a wrong user, a tampered
  /// record, an unknown key id or a scheme this box does not use.
  [[nodiscard]] result<secret> open(std::string_view user, std::string_view sealed) const {
    if (sealed.empty() || static_cast<unsigned char>(sealed[0]) != scheme_) return errc::seal_failure;
    const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());  // NOLINT
    if (scheme_ == scheme_unsafe_plaintext) {
      auto s = secret::from_bytes({p + 1, sealed.size() - 1});
      if (!s) return errc::seal_failure;
      return s;
    }
    if (sealed.size() < 1 + 4 + nonce_bytes + min_secret_bytes + tag_bytes ||
        sealed.size() > 1 + 4 + nonce_bytes + max_secret_bytes + tag_bytes)
      return errc::seal_failure;
    const std::uint32_t id = get_u32(p + 1);
    const sealing_key* k = find(id);
    if (k == nullptr) return errc::seal_failure;
    std::array<unsigned char, nonce_bytes> nonce{};
    std::copy(p + 5, p + 5 + nonce_bytes, nonce.begin());
    const std::size_t n = sealed.size() - (1 + 4 + nonce_bytes + tag_bytes);
    secure_bytes plain(n);
    auto* tag = const_cast<unsigned char*>(p + 5 + nonce_bytes + n);  // NOLINT: read only, EVP takes void*
    if (!crypt(false, *k, nonce, aad(user, id), {p + 5 + nonce_bytes, n}, plain, {tag, tag_bytes}))
      return errc::seal_failure;
    return secret::from_bytes(plain);
  }

  [[nodiscard]] bool is_unsafe_plaintext() const noexcept { return scheme_ == scheme_unsafe_plaintext; }
  [[nodiscard]] std::uint32_t current_key_id() const noexcept { return current_; }

 private:
  secret_box() = default;

  [[nodiscard]] const sealing_key* find(std::uint32_t id) const noexcept {
    for (const auto& k : keys_)
      if (k.id == id) return &k;
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
  // Associated data: a purpose label, the key id and the user id.
  [[nodiscard]] static std::string aad(std::string_view user, std::uint32_t id) {
    std::string a = "mfakit/totp-secret/v1";
    a.push_back('\0');
    std::array<unsigned char, 4> idb{};
    put_u32(idb.data(), id);
    a.append(reinterpret_cast<const char*>(idb.data()), idb.size());  // NOLINT
    a.append(user);
    return a;
  }

  // Fetched once per process: OpenSSL 3's implicit fetch by EVP_aes_256_gcm()
  // on every init costs more than the decryption and serialises threads.
  [[nodiscard]] static const EVP_CIPHER* aes_256_gcm_cipher() noexcept {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return cipher;
  }

  [[nodiscard]] static bool crypt(bool encrypt, const sealing_key& k,
                                  const std::array<unsigned char, nonce_bytes>& nonce, std::string_view aad_text,
                                  byte_view in, std::span<unsigned char> out, std::span<unsigned char> tag) {
    const EVP_CIPHER* cipher = aes_256_gcm_cipher();
    if (cipher == nullptr) return false;
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    if (!ctx) return false;
    const int enc = encrypt ? 1 : 0;
    int len = 0;
    const byte_view a = as_bytes(aad_text);
    if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr, enc) != 1) return false;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce_bytes), nullptr) != 1)
      return false;
    if (EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, k.bytes.data(), nonce.data(), enc) != 1) return false;
    if (EVP_CipherUpdate(ctx.get(), nullptr, &len, a.data(), static_cast<int>(a.size())) != 1) return false;
    if (EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) != 1 ||
        static_cast<std::size_t>(len) != in.size())
      return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1)
      return false;
    std::array<unsigned char, 16> final_block{};
    if (EVP_CipherFinal_ex(ctx.get(), final_block.data(), &len) != 1 || len != 0) {
      cleanse(out.data(), out.size());
      return false;
    }
    return !encrypt ||
           EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) == 1;
  }

  unsigned char scheme_ = scheme_unsafe_plaintext;
  std::uint32_t current_ = 0;
  std::vector<sealing_key> keys_;
};

}  // namespace mfakit
