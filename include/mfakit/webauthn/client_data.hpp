// The client data (WebAuthn L3 §5.8.1) and its checks (§7.1 steps 5-11,
// §7.2 steps 9-14): clientDataJSON read strictly as one JSON object (type,
// challenge, origin, crossOrigin, topOrigin; other members are ignored as
// the specification asks, but must be well-formed and no member may appear
// twice); the challenge compared in constant time; the origin matched
// exactly against the host's list; crossOrigin and topOrigin refused unless
// the host allows them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/base64url.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/detail/fail.hpp"
#include "mfakit/webauthn/detail/json.hpp"

namespace mfakit::webauthn {

inline constexpr std::size_t max_client_data_bytes = std::size_t{16} * 1024;
inline constexpr std::size_t max_challenge_bytes = 1024;

struct client_data {
  std::string type;
  std::vector<unsigned char> challenge;  ///< decoded from base64url
  std::string origin;
  bool cross_origin = false;
  std::optional<std::string> top_origin;
};

/// What the host accepts as the caller of a ceremony.
struct relying_party {
  std::string id;                    ///< the RP ID ("example.org")
  std::vector<std::string> origins;  ///< exact origins ("https://example.org"), compared byte for byte
  /// Take crossOrigin: true (a ceremony in a cross-origin iframe): off by default.
  bool allow_cross_origin = false;
  /// With allow_cross_origin: the top-level origins such a ceremony may come from.
  std::vector<std::string> top_origins;
};

/// Parses clientDataJSON (the bytes as the client sent them).
[[nodiscard]] inline result<client_data> parse_client_data(byte_view json, check* failed = nullptr) {
  using detail::fail;
  using kind = detail::json_value::kind;
  if (json.size() > max_client_data_bytes) return fail(failed, check::client_data_json, errc::webauthn_malformed);
  const std::string_view text(reinterpret_cast<const char*>(json.data()), json.size());  // NOLINT
  auto v = detail::parse_json(text, detail::json_limits{max_client_data_bytes, 16, 1024});
  if (!v || v->type != kind::object) return fail(failed, check::client_data_json, errc::webauthn_malformed);
  client_data out;
  const auto* type = v->member("type");
  const auto* challenge = v->member("challenge");
  const auto* origin = v->member("origin");
  const auto* cross = v->member("crossOrigin");
  const auto* top = v->member("topOrigin");
  if (type == nullptr || type->type != kind::string || challenge == nullptr || challenge->type != kind::string ||
      origin == nullptr || origin->type != kind::string)
    return fail(failed, check::client_data_json, errc::webauthn_malformed);
  if (cross != nullptr && cross->type != kind::boolean)
    return fail(failed, check::client_data_json, errc::webauthn_malformed);
  if (top != nullptr && top->type != kind::string)
    return fail(failed, check::client_data_json, errc::webauthn_malformed);
  if (auto r = base64url_decode_into(challenge->text, out.challenge, max_challenge_bytes); !r)
    return fail(failed, check::client_data_json, errc::webauthn_malformed);
  out.type = type->text;
  out.origin = origin->text;
  out.cross_origin = cross != nullptr && cross->boolean;
  if (top != nullptr) out.top_origin = top->text;
  return out;
}

/// The checks of the client data for a ceremony of `expected_type`
/// ("webauthn.create" or "webauthn.get") and the challenge it issued.
[[nodiscard]] inline result<void> check_client_data(const client_data& c, std::string_view expected_type,
                                                    byte_view expected_challenge, const relying_party& rp,
                                                    check* failed = nullptr) {
  using detail::fail;
  if (c.type != expected_type) return fail(failed, check::client_data_type, errc::webauthn_rejected);
  // an empty expected challenge would match an empty one: never a ceremony's
  if (expected_challenge.empty() || !constant_time_equal(c.challenge, expected_challenge))
    return fail(failed, check::challenge, errc::webauthn_rejected);
  bool origin_ok = false;
  for (const std::string& o : rp.origins) origin_ok = origin_ok || (o == c.origin);
  if (!origin_ok) return fail(failed, check::origin, errc::webauthn_rejected);
  if (c.cross_origin && !rp.allow_cross_origin) return fail(failed, check::cross_origin, errc::webauthn_rejected);
  if (c.top_origin) {
    // a top origin only comes with a cross-origin call, and only from a listed page
    if (!c.cross_origin || !rp.allow_cross_origin) return fail(failed, check::cross_origin, errc::webauthn_rejected);
    bool top_ok = false;
    for (const std::string& o : rp.top_origins) top_ok = top_ok || (o == *c.top_origin);
    if (!top_ok) return fail(failed, check::cross_origin, errc::webauthn_rejected);
  }
  return {};
}

}  // namespace mfakit::webauthn
