// What the flow stores: one account record per user and one record per
// login challenge, and their compact, versioned binary encoding for any
// key-value store. Decoding is strict: a record that is not exactly what
// encode() writes is errc::malformed_record, never a partial value.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mfakit/algorithm.hpp"
#include "mfakit/backup_codes.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/record_io.hpp"
#include "mfakit/errors.hpp"

namespace mfakit {

enum class account_status : std::uint8_t { disabled = 0, pending = 1, enabled = 2 };

/// Who wrote a stored account record: 16 fresh random bytes that the request
/// making a write puts into it (operation.hpp). Two requests never write the
/// same id, so a request that reads its own id back knows its own write is
/// the stored one, even when two requests' records are otherwise equal.
inline constexpr std::size_t write_id_bytes = 16;
using write_id = std::array<unsigned char, write_id_bytes>;

/// Where the last few accepted TOTP codes fell against the server's clock,
/// newest first: -1 behind (a step or more), 0 on time, +1 ahead. Two bits
/// an entry in one byte, so it is bounded and costs the record one byte;
/// flow::clock_drift_of reads a drift from it.
struct offset_history {
  static constexpr std::size_t capacity = 4;
  /// Entry i (0 newest) in bits 2i and 2i+1: 0 none, 1 on time, 2 behind,
  /// 3 ahead. Entries are packed from bit 0: no entry after an empty slot.
  std::uint8_t packed = 0;

  /// Records an accepted code's offset in steps (its sign is kept); the
  /// oldest entry falls out once four are held.
  constexpr void push(std::int64_t offset) noexcept {
    const unsigned entry = offset < 0 ? 2U : offset > 0 ? 3U : 1U;
    packed = static_cast<std::uint8_t>(((static_cast<unsigned>(packed) << 2U) | entry) & 0xFFU);
  }
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 0;
    while (n < capacity && slot(n) != 0) ++n;
    return n;
  }
  /// The offset of entry i (0 the newest), i < size().
  [[nodiscard]] constexpr int operator[](std::size_t i) const noexcept {
    const unsigned e = slot(i);
    return e == 2U ? -1 : e == 3U ? 1 : 0;
  }
  /// Whether a byte is one push() can make: no entry after an empty slot.
  [[nodiscard]] static constexpr bool well_formed(unsigned bits) noexcept {
    if (bits > 0xFFU) return false;
    bool gap = false;
    for (std::size_t i = 0; i < capacity; ++i) {
      const bool empty = ((bits >> (2U * i)) & 3U) == 0;
      if (gap && !empty) return false;
      gap = gap || empty;
    }
    return true;
  }
  friend bool operator==(const offset_history&, const offset_history&) = default;

 private:
  [[nodiscard]] constexpr unsigned slot(std::size_t i) const noexcept {
    return (static_cast<unsigned>(packed) >> (2U * i)) & 3U;
  }
};

/// A user's second factor. Absent and `disabled` mean the same to the flow;
/// disable writes a `disabled` record instead of deleting, so a key's
/// version keeps growing and a stale compare-and-swap can never succeed.
struct account_record {
  account_status status = account_status::disabled;
  std::string sealed_secret;  ///< secret_box output; empty when disabled
  algorithm alg = algorithm::sha1;
  int digits = 6;
  std::int64_t period = 30;
  std::optional<std::uint64_t> last_step;  ///< the last accepted TOTP step (replay)
  backup_code_digests backup;              ///< digests of the remaining codes
  std::uint32_t failures = 0;              ///< consecutive failed attempts
  std::int64_t last_failure = 0;           ///< Unix time of the last one
  write_id written_by{};                   ///< the write that stored this record (all zero: unknown)
  offset_history offsets{};                ///< the accepted TOTP codes' offsets (clock drift)
  friend bool operator==(const account_record&, const account_record&) = default;
};

/// A pending login: which user, until when, and how many attempts were used.
struct challenge_record {
  std::string user;
  std::int64_t expires_at = 0;
  std::uint32_t attempts = 0;
  friend bool operator==(const challenge_record&, const challenge_record&) = default;
};

inline constexpr std::size_t max_user_id_bytes = 512;

namespace detail {
inline constexpr unsigned char record_format = 4;             ///< what encode() writes
inline constexpr unsigned char record_format_no_pepper = 3;   ///< still read: format 4 without the backup codes' pepper
inline constexpr unsigned char record_format_no_offsets = 2;  ///< still read: format 3 without the trailing offsets
inline constexpr unsigned char record_format_no_writer = 1;   ///< still read: format 2 without the trailing write id
inline constexpr unsigned char challenge_format = 1;
inline constexpr unsigned char tag_account = 'A';
inline constexpr unsigned char tag_challenge = 'C';
}  // namespace detail

/// Encodes an account record (a few hundred bytes with ten backup codes).
[[nodiscard]] inline std::string encode(const account_record& r) {
  // fixed fields and varints take at most 89 bytes: one allocation
  detail::record_writer w(96 + write_id_bytes + r.sealed_secret.size() + r.backup.salt.size() +
                          r.backup.digests.size() * backup_code_digest_bytes);
  w.u8(detail::tag_account);
  w.u8(detail::record_format);
  w.u8(static_cast<unsigned>(r.status));
  w.u8(static_cast<unsigned>(r.alg));
  w.u8(static_cast<unsigned>(r.digits));
  w.svarint(r.period);
  w.u8(r.last_step ? 1U : 0U);
  if (r.last_step) w.varint(*r.last_step);
  w.varint(r.failures);
  w.svarint(r.last_failure);
  w.bytes(r.sealed_secret);
  const bool has_codes = r.status != account_status::disabled && !r.backup.digests.empty();
  w.u8(has_codes ? 1U : 0U);
  if (has_codes) {
    w.raw(r.backup.salt);
    w.varint(r.backup.cost.n);
    w.varint(r.backup.cost.r);
    w.varint(r.backup.cost.p);
    w.u8(static_cast<unsigned>(r.backup.pepper));
    if (r.backup.pepper == backup_pepper::sealing_key) w.varint(r.backup.pepper_key_id);
    w.varint(r.backup.digests.size());
    for (const auto& d : r.backup.digests) w.raw(d);
  }
  w.raw(r.written_by);
  w.u8(r.offsets.packed);
  return w.take();
}

[[nodiscard]] inline std::string encode(const challenge_record& c) {
  detail::record_writer w(48 + c.user.size());
  w.u8(detail::tag_challenge);
  w.u8(detail::challenge_format);
  w.bytes(c.user);
  w.svarint(c.expires_at);
  w.varint(c.attempts);
  return w.take();
}

[[nodiscard]] inline result<account_record> decode_account(std::string_view bytes) {
  detail::record_reader in(bytes);
  account_record r;
  unsigned tag = 0, format = 0, status = 0, alg = 0, digits = 0, has_step = 0, has_codes = 0, offsets = 0;
  std::uint64_t step = 0, failures = 0;
  if (!in.u8(tag) || tag != detail::tag_account || !in.u8(format) ||
      (format != detail::record_format && format != detail::record_format_no_pepper &&
       format != detail::record_format_no_offsets && format != detail::record_format_no_writer))
    return errc::malformed_record;
  if (!in.u8(status) || status > 2 || !in.u8(alg) || alg > 2 || !in.u8(digits) ||
      !detail::valid_digits(static_cast<int>(digits)) || !in.svarint(r.period) || r.period < 1 || !in.u8(has_step) ||
      has_step > 1)
    return errc::malformed_record;
  if (has_step == 1) {
    if (!in.varint(step)) return errc::malformed_record;
    r.last_step = step;
  }
  if (!in.varint(failures) || failures > 0xFFFFFFFFU || !in.svarint(r.last_failure) ||
      !in.bytes(r.sealed_secret, 256) || !in.u8(has_codes) || has_codes > 1)
    return errc::malformed_record;
  r.status = static_cast<account_status>(status);
  r.alg = static_cast<algorithm>(alg);
  r.digits = static_cast<int>(digits);
  r.failures = static_cast<std::uint32_t>(failures);
  if (has_codes == 1) {
    std::uint64_t n = 0, rr = 0, p = 0, count = 0, pepper_key = 0;
    unsigned pepper = 0;  // formats before 4: backup_pepper::host_key_if_any
    if (!in.raw(r.backup.salt) || !in.varint(n) || !in.varint(rr) || !in.varint(p))
      return errc::malformed_record;
    if (format == detail::record_format) {
      // (host_key_if_any too: a set of an older record, written back as it was made)
      if (!in.u8(pepper) || pepper > static_cast<unsigned>(backup_pepper::sealing_key)) return errc::malformed_record;
      if (pepper == static_cast<unsigned>(backup_pepper::sealing_key) &&
          (!in.varint(pepper_key) || pepper_key > 0xFFFFFFFFU))
        return errc::malformed_record;
    }
    if (!in.varint(count) || count == 0 || count > max_backup_code_count || rr > 0xFFFFFFFFU || p > 0xFFFFFFFFU)
      return errc::malformed_record;
    r.backup.pepper = static_cast<backup_pepper>(pepper);
    r.backup.pepper_key_id = static_cast<std::uint32_t>(pepper_key);
    r.backup.cost = scrypt_params{n, static_cast<std::uint32_t>(rr), static_cast<std::uint32_t>(p)};
    if (!valid(r.backup.cost)) return errc::malformed_record;
    r.backup.digests.resize(count);
    for (auto& d : r.backup.digests)
      if (!in.raw(d)) return errc::malformed_record;
  }
  // format 1 ends here; format 2 adds the write id, format 3 the offsets
  // (and format 4 the backup codes' pepper, above)
  if (format != detail::record_format_no_writer && !in.raw(r.written_by)) return errc::malformed_record;
  if (format == detail::record_format || format == detail::record_format_no_pepper) {
    if (!in.u8(offsets) || !offset_history::well_formed(offsets)) return errc::malformed_record;
    r.offsets.packed = static_cast<std::uint8_t>(offsets);
  }
  if (!in.done()) return errc::malformed_record;
  // the status decides what must and must not be there
  const bool disabled = r.status == account_status::disabled;
  if (disabled != r.sealed_secret.empty()) return errc::malformed_record;
  if (has_codes == 1 && disabled) return errc::malformed_record;
  return r;
}

[[nodiscard]] inline result<challenge_record> decode_challenge(std::string_view bytes) {
  detail::record_reader in(bytes);
  challenge_record c;
  unsigned tag = 0, format = 0;
  std::uint64_t attempts = 0;
  if (!in.u8(tag) || tag != detail::tag_challenge || !in.u8(format) || format != detail::challenge_format ||
      !in.bytes(c.user, max_user_id_bytes) || c.user.empty() || !in.svarint(c.expires_at) || !in.varint(attempts) ||
      attempts > 0xFFFFFFFFU || !in.done())
    return errc::malformed_record;
  c.attempts = static_cast<std::uint32_t>(attempts);
  return c;
}

}  // namespace mfakit
