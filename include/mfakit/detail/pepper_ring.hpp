// The backup-code peppers of a keyring: for each sealing key, a 32-byte key
// HMAC-SHA-256(sealing key, label), so backup codes are keyed with a secret
// that is not in the database without the host managing a second key.
// secret_box makes the ring when it is built (it holds no raw key after);
// backup_code_hasher digests with the current entry and checks a stored set
// with the entry of the key id the set names, so a key rotation leaves every
// set verifiable while its key stays in the ring.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit::detail {

class pepper_ring {
 public:
  static constexpr std::string_view label = "mfakit/backup-code-pepper/v1";
  using key_type = std::array<unsigned char, 32>;
  struct entry {
    std::uint32_t id = 0;
    key_type key{};
  };

  pepper_ring() = default;  // no entries: a box that seals nothing (unsafe_plaintext)
  pepper_ring(const pepper_ring&) = delete;
  pepper_ring& operator=(const pepper_ring&) = delete;
  pepper_ring(pepper_ring&&) = delete;
  pepper_ring& operator=(pepper_ring&&) = delete;
  ~pepper_ring() {
    for (auto& e : entries_) cleanse(e.key.data(), e.key.size());
  }

  /// Derives the pepper of sealing key `id`.
  [[nodiscard]] result<void> add(std::uint32_t id, byte_view sealing_key) {
    auto k = hmac_sha256(sealing_key, as_bytes(label));
    if (!k) return k.error();
    entries_.push_back(entry{id, *k});  // (a cleansing allocator: growth leaves no copy)
    cleanse(k->data(), k->size());
    return {};
  }
  void set_current(std::uint32_t id) noexcept { current_ = id; }

  /// The pepper new sets are made with; nullptr for a ring without keys.
  [[nodiscard]] const entry* current() const noexcept { return find(current_); }
  [[nodiscard]] const entry* find(std::uint32_t id) const noexcept {
    for (const auto& e : entries_)
      if (e.id == id) return &e;
    return nullptr;
  }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

 private:
  std::vector<entry, cleansing_allocator<entry>> entries_;
  std::uint32_t current_ = 0;
};

}  // namespace mfakit::detail
