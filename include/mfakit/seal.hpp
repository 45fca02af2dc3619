// Secrets at rest: the TOTP secret is stored sealed with AES-256-GCM
// (OpenSSL EVP), bound to the user id as associated data, under a key id so
// keys can rotate: a keyring seals with its current key and opens records
// sealed under any key it still holds. The only unsealed alternative is named
// secret_box::unsafe_plaintext(). The box also derives, per key, the pepper
// that backup-code digests are keyed with by default (detail/pepper_ring.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/detail/pepper_ring.hpp"
#include "mfakit/detail/seal_context.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/self_test.hpp"

namespace mfakit {

/// One AES-256 key of a keyring. key_loading.hpp loads one from hex,
/// base64 or a file, with an error instead of an exception.
struct sealing_key {
  std::uint32_t id = 0;
  std::array<unsigned char, 32> bytes{};
  sealing_key() = default;
  /// Any 32 contiguous bytes (a std::vector, a span); std::invalid_argument
  /// for another size.
  sealing_key(std::uint32_t key_id, byte_view key) : id(key_id) {
    if (key.size() != bytes.size())
      throw std::invalid_argument("mfakit: a sealing key is 32 bytes, not " + std::to_string(key.size()));
    std::copy(key.begin(), key.end(), bytes.begin());
  }
  /// A std::array: its size is checked where it is compiled.
  template <std::size_t N>
  sealing_key(std::uint32_t key_id, const std::array<unsigned char, N>& key) : id(key_id) {
    static_assert(N == 32, "mfakit::sealing_key: an AES-256 key is 32 bytes");
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
  static constexpr std::size_t nonce_bytes = detail::gcm_nonce_bytes;
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
    auto peppers = std::make_shared<detail::pepper_ring>();
    for (const auto& k : keys) {
      auto pool = detail::gcm_context_pool::make(k.id, k.bytes);
      if (!pool) return errc::crypto_failure;
      b.keys_.push_back(std::move(pool));
      if (!peppers->add(k.id, k.bytes)) return errc::crypto_failure;
    }
    peppers->set_current(current);
    cleanse_vector_registers();  // the HMAC of each key (crypto.hpp says why)
    b.peppers_ = std::move(peppers);
    return b;
  }

  /// Stores secrets as they are. Only for tests and migrations: anyone who
  /// can read the database can then log in as any user.
  [[nodiscard]] static secret_box unsafe_plaintext() {
    secret_box b;
    b.scheme_ = scheme_unsafe_plaintext;
    b.peppers_ = std::make_shared<const detail::pepper_ring>();  // no keys: backup codes unpeppered too
    return b;
  }

  /// Seals `s` for `user`. The nonce comes from `rng`.
  template <random_source R>
  [[nodiscard]] result<std::string> seal(std::string_view user, const secret& s, R& rng) const {
    if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
    if (s.size() < min_secret_bytes || s.size() > max_secret_bytes) return errc::invalid_secret;
    std::string out(1, static_cast<char>(scheme_));
    if (scheme_ == scheme_unsafe_plaintext) {
      out.append(reinterpret_cast<const char*>(s.bytes().data()), s.size());  // NOLINT
      return out;
    }
    const detail::gcm_context_pool* k = find(current_);
    if (k == nullptr) return errc::seal_failure;
    detail::gcm_nonce nonce{};
    if (!rng.fill(nonce)) return errc::random_failure;
    out.resize(1 + 4 + nonce_bytes + s.size() + tag_bytes);
    auto* p = reinterpret_cast<unsigned char*>(out.data());  // NOLINT
    detail::put_be32(p + 1, k->id());
    std::copy(nonce.begin(), nonce.end(), p + 5);
    if (!k->crypt(true, nonce, detail::seal_aad(user, k->id()).bytes(), s.bytes(), {p + 5 + nonce_bytes, s.size()},
                  {p + 5 + nonce_bytes + s.size(), tag_bytes})) {
      cleanse(out.data(), out.size());
      return errc::crypto_failure;
    }
    return out;
  }

  /// Opens a sealed secret; errc::seal_failure for a wrong user, a tampered
  /// record, an unknown key id or a scheme this box does not use.
  /// Like seal(), errc::crypto_failure when the self-test failed (self_test.hpp).
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
    if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
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
    const std::uint32_t id = detail::get_be32(p + 1);
    const detail::gcm_context_pool* k = find(id);
    if (k == nullptr) return errc::seal_failure;
    detail::gcm_nonce nonce{};
    std::copy(p + 5, p + 5 + nonce_bytes, nonce.begin());
    const std::size_t n = sealed.size() - (1 + 4 + nonce_bytes + tag_bytes);  // <= max_secret_bytes (checked above)
    auto* tag = const_cast<unsigned char*>(p + 5 + nonce_bytes + n);          // NOLINT: read only, EVP takes void*
    if (!k->crypt(false, nonce, detail::seal_aad(user, id).bytes(), {p + 5 + nonce_bytes, n}, out.first(n),
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
    return detail::get_be32(reinterpret_cast<const unsigned char*>(sealed.data()) + 1) != current_;  // NOLINT
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

  /// The backup-code peppers derived from this box's keys, one per key id
  /// (none for unsafe_plaintext): what backup_code_hasher's default pepper
  /// takes. Shared by every copy of the box (null only in a moved-from one).
  [[nodiscard]] const detail::pepper_ring* backup_code_peppers() const noexcept { return peppers_.get(); }
  [[nodiscard]] std::uint32_t current_key_id() const noexcept { return current_; }

 private:
  secret_box() = default;

  [[nodiscard]] const detail::gcm_context_pool* find(std::uint32_t id) const noexcept {
    for (const auto& k : keys_)
      if (k->id() == id) return k.get();
    return nullptr;
  }

  unsigned char scheme_ = scheme_unsafe_plaintext;
  std::uint32_t current_ = 0;
  /// One context pool per key of the ring, shared by every copy of the box.
  std::vector<std::shared_ptr<const detail::gcm_context_pool>> keys_;
  std::shared_ptr<const detail::pepper_ring> peppers_;
};

}  // namespace mfakit
