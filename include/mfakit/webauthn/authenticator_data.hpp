// Authenticator data (WebAuthn L3 §6.1): rpIdHash, flags, signCount, the
// attested credential data of a registration (§6.5.2) and the extensions,
// each of exact length, with nothing after the last part.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/cbor.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/cose_key.hpp"
#include "mfakit/webauthn/detail/fail.hpp"

namespace mfakit::webauthn {

/// The flags byte (§6.1); bits 1 and 5 are reserved and ignored.
namespace flag {
inline constexpr std::uint8_t up = 0x01;  ///< user present
inline constexpr std::uint8_t uv = 0x04;  ///< user verified
inline constexpr std::uint8_t be = 0x08;  ///< backup eligible
inline constexpr std::uint8_t bs = 0x10;  ///< backed up
inline constexpr std::uint8_t at = 0x40;  ///< attested credential data included
inline constexpr std::uint8_t ed = 0x80;  ///< extension data included
}  // namespace flag

/// The longest credential ID a relying party takes (§7.1 step 25).
inline constexpr std::size_t max_credential_id_bytes = 1023;

struct attested_credential_data {
  std::array<unsigned char, 16> aaguid{};
  byte_view credential_id;  ///< into the authenticator data
  cose_key public_key;
};

/// Parsed authenticator data; its views point into the bytes given to
/// parse_authenticator_data, which must outlive it.
struct authenticator_data {
  byte_view raw;
  byte_view rp_id_hash;  ///< 32 bytes
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  std::optional<attested_credential_data> attested;
  std::optional<cbor_item> extensions;  ///< a map, when ED is set

  [[nodiscard]] bool user_present() const noexcept { return (flags & flag::up) != 0; }
  [[nodiscard]] bool user_verified() const noexcept { return (flags & flag::uv) != 0; }
  [[nodiscard]] bool backup_eligible() const noexcept { return (flags & flag::be) != 0; }
  [[nodiscard]] bool backed_up() const noexcept { return (flags & flag::bs) != 0; }
};

inline constexpr std::size_t authenticator_data_header_bytes = 37;  // rpIdHash 32, flags 1, signCount 4
inline constexpr std::size_t max_authenticator_data_bytes = std::size_t{16} * 1024;

/// Parses authenticator data: AT set means attested credential data follows
/// (its COSE key decoded and checked), ED set means one CBOR map of
/// extensions ends the data; any byte beyond is refused.
[[nodiscard]] inline result<authenticator_data> parse_authenticator_data(byte_view raw, check* failed = nullptr) {
  using detail::fail;
  if (raw.size() < authenticator_data_header_bytes || raw.size() > max_authenticator_data_bytes)
    return fail(failed, check::authenticator_data, errc::webauthn_malformed);
  authenticator_data out;
  out.raw = raw;
  out.rp_id_hash = raw.first(32);
  out.flags = raw[32];
  out.sign_count = (std::uint32_t{raw[33]} << 24U) | (std::uint32_t{raw[34]} << 16U) | (std::uint32_t{raw[35]} << 8U) |
                   std::uint32_t{raw[36]};
  byte_view rest = raw.subspan(authenticator_data_header_bytes);
  if ((out.flags & flag::at) != 0) {
    if (rest.size() < 18) return fail(failed, check::authenticator_data, errc::webauthn_malformed);
    attested_credential_data acd;
    std::memcpy(acd.aaguid.data(), rest.data(), 16);
    const std::size_t id_len = (std::size_t{rest[16]} << 8U) | rest[17];
    rest = rest.subspan(18);
    if (id_len > rest.size()) return fail(failed, check::authenticator_data, errc::webauthn_malformed);
    if (id_len == 0 || id_len > max_credential_id_bytes)
      return fail(failed, check::credential_id, errc::webauthn_malformed);
    acd.credential_id = rest.first(id_len);
    rest = rest.subspan(id_len);
    auto key_item = cbor_decode_prefix(rest, cbor_limits{max_authenticator_data_bytes, 1, 16});
    if (!key_item) return fail(failed, check::credential_public_key, key_item.error());
    auto key = cose_key::from_item(key_item->item);
    if (!key) return fail(failed, check::credential_public_key, key.error());
    rest = rest.subspan(key_item->consumed);
    out.attested = attested_credential_data{acd.aaguid, acd.credential_id, std::move(*key)};
  }
  if ((out.flags & flag::ed) != 0) {
    auto ext = cbor_decode(rest, cbor_limits{max_authenticator_data_bytes, 4, 256});
    if (!ext || ext->type != cbor_item::kind::map || ext->items.empty())
      return fail(failed, check::authenticator_data, errc::webauthn_malformed);
    out.extensions = std::move(*ext);
    rest = {};
  }
  if (!rest.empty()) return fail(failed, check::authenticator_data, errc::webauthn_malformed);
  return out;
}

}  // namespace mfakit::webauthn
