// The HTTP face of the flow (the API of the seed document: setup, enable,
// login verify, disable, regenerate, status): which status each error maps to
// on each endpoint, the message a client may see (a replayed code and a wrong
// one read the same), and the JSON bodies the API documents, so a host's
// handlers stay a few lines long. No HTTP library is involved.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "mfakit/backup_codes.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/decimal.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/transitions.hpp"

namespace mfakit::http {

/// The endpoints of the API.
enum class endpoint : std::uint8_t { setup, enable, login, verify, disable, regenerate, status };
inline constexpr std::size_t endpoint_count = 7;

namespace detail {
/// An error's HTTP status on each endpoint: one status, with exceptions.
struct statuses {
  std::array<std::uint16_t, endpoint_count> on{};
  constexpr explicit statuses(std::uint16_t all) noexcept { on.fill(all); }
  [[nodiscard]] constexpr statuses but(endpoint ep, std::uint16_t status) const noexcept {
    statuses s = *this;
    s.on[static_cast<std::size_t>(ep)] = status;
    return s;
  }
};

/// An error's HTTP face.
struct http_row {
  errc code;
  std::string_view public_message;  ///< public_message(): what a client may be told
  statuses status;                  ///< status_of()
};

// Public messages shared by several rows.
inline constexpr std::string_view public_invalid_code = "Invalid code";  // wrong, malformed, replayed: one text
inline constexpr std::string_view public_internal_error = "Internal error";
inline constexpr std::string_view public_unavailable = "Service unavailable";
inline constexpr std::string_view public_passkey_refused = "Passkey verification failed";

/// One row per errc, in the enum's order (checked below, as errors.hpp
/// checks its own table). The statuses are flows.md's: 400 for an
/// incomplete request or one that does not fit the state, 401 for a wrong
/// code or a dead challenge at login, 422 for a wrong code at enable, 409
/// for already enabled, 429 for too many attempts, 503 for a store that may
/// answer next time, 500 for the server's own state. The public messages
/// name the API's JSON fields ("mfaToken").
inline constexpr std::array http_table{
    // input the caller can fix
    http_row{errc::malformed_code, public_invalid_code, statuses(401).but(endpoint::enable, 422)},
    http_row{errc::missing_code, "code is required", statuses(400)},
    http_row{errc::missing_token, "mfaToken is required", statuses(400)},
    http_row{errc::invalid_base32, public_internal_error, statuses(500)},
    http_row{errc::invalid_secret, public_internal_error, statuses(500)},
    http_row{errc::invalid_uri, public_internal_error, statuses(500)},
    http_row{errc::invalid_argument, "Invalid request", statuses(400)},
    http_row{errc::unsupported_algorithm, public_internal_error, statuses(500)},
    // verification outcomes
    http_row{errc::code_mismatch, public_invalid_code, statuses(401).but(endpoint::enable, 422)},
    http_row{errc::code_replayed, public_invalid_code, statuses(401).but(endpoint::enable, 422)},
    // the flow
    http_row{errc::not_pending, "TOTP setup is required first", statuses(400)},
    http_row{errc::already_enabled, "TOTP is already enabled", statuses(409)},
    http_row{errc::not_enabled, "MFA is not enabled", statuses(400).but(endpoint::verify, 401)},
    http_row{errc::challenge_invalid, "Invalid or expired MFA token", statuses(401)},
    http_row{errc::challenge_exhausted, "Too many attempts; log in again", statuses(429)},
    http_row{errc::throttled, "Too many failed attempts; try again later", statuses(429)},
    http_row{errc::locked, "Too many failed attempts; account locked", statuses(429)},
    // the environment
    http_row{errc::random_failure, public_internal_error, statuses(500)},
    http_row{errc::crypto_failure, public_internal_error, statuses(500)},
    http_row{errc::storage_conflict, public_unavailable, statuses(503)},
    http_row{errc::storage_failure, public_unavailable, statuses(503)},
    http_row{errc::malformed_record, public_internal_error, statuses(500)},
    http_row{errc::seal_failure, public_internal_error, statuses(500)},
    // passkeys: one public text and status for every refusal, malformed or not
    http_row{errc::webauthn_malformed, public_passkey_refused, statuses(401).but(endpoint::enable, 422)},
    http_row{errc::webauthn_rejected, public_passkey_refused, statuses(401).but(endpoint::enable, 422)},
    http_row{errc::webauthn_unsupported, public_passkey_refused, statuses(401).but(endpoint::enable, 422)},
    http_row{errc::webauthn_counter_regressed, public_passkey_refused, statuses(401).but(endpoint::enable, 422)},
};

[[nodiscard]] constexpr bool http_rows_complete() noexcept {
  for (const http_row& row : http_table) {
    if (row.public_message.empty()) return false;
    for (std::uint16_t s : row.status.on)
      if (s < 400 || s > 599) return false;
  }
  return true;
}

[[nodiscard]] constexpr bool same_to_client(errc a, errc b) noexcept {
  const http_row& x = http_table[static_cast<std::size_t>(a) - 1];
  const http_row& y = http_table[static_cast<std::size_t>(b) - 1];
  return x.public_message == y.public_message && x.status.on == y.status.on;
}

static_assert(::mfakit::detail::one_row_per_errc(http_table), "http_table: row i must be errc(i + 1)");
static_assert(http_table.size() == ::mfakit::detail::error_table.size(), "http_table: one row per errc");
#if MFAKIT_DETAIL_ENUMERATOR_CHECK
static_assert(!::mfakit::detail::is_enumerator<static_cast<errc>(http_table.size() + 1)>(),
              "an errc enumerator has no row in http_table");
static_assert(!::mfakit::detail::is_enumerator<static_cast<endpoint>(endpoint_count)>(),
              "endpoint_count must count every endpoint");
#endif
static_assert(static_cast<std::size_t>(endpoint::status) + 1 == endpoint_count);
static_assert(http_rows_complete(), "http_table: every row needs a public message and 4xx/5xx statuses");
// A client must not learn which check refused its code.
static_assert(same_to_client(errc::code_replayed, errc::code_mismatch) &&
              same_to_client(errc::malformed_code, errc::code_mismatch));
// Nor which check refused its passkey.
static_assert(same_to_client(errc::webauthn_malformed, errc::webauthn_rejected) &&
              same_to_client(errc::webauthn_unsupported, errc::webauthn_rejected) &&
              same_to_client(errc::webauthn_counter_regressed, errc::webauthn_rejected));

/// The row of an error of mfakit's category; nullptr otherwise.
[[nodiscard]] inline const http_row* http_row_of(std::error_code ec) noexcept {
  if (::mfakit::detail::row_of(ec) == nullptr) return nullptr;
  return &http_table[static_cast<std::size_t>(ec.value()) - 1];
}
}  // namespace detail

/// The status code an error maps to on an endpoint (200 for no error, 503
/// for another category's error: the host's own store or service failed).
[[nodiscard]] inline int status_of(endpoint ep, std::error_code ec) noexcept {
  if (!ec) return 200;
  if (ec.category() != error_category()) return 503;
  const auto* row = detail::http_row_of(ec);
  const auto at = static_cast<std::size_t>(ep);
  return row != nullptr && at < endpoint_count ? row->status.on[at] : 500;
}

/// What a client is told. Deliberately coarse: every rejected code reads
/// "Invalid code", whether it was wrong, malformed or replayed.
[[nodiscard]] inline std::string_view public_message(std::error_code ec) noexcept {
  if (!ec) return "OK";
  if (ec.category() != error_category()) return detail::public_unavailable;
  const auto* row = detail::http_row_of(ec);
  return row != nullptr ? row->public_message : detail::public_internal_error;
}

namespace detail {
/// Appends a JSON string literal, quotes included, without temporaries (the
/// bodies below carry secrets and backup codes: no stale copies on the heap).
inline void append_json_string(std::string& out, std::string_view s) {
  constexpr std::string_view hex = ::mfakit::detail::hex_digits;
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(hex[u >> 4U]);
      out.push_back(hex[u & 0xFU]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

/// Room for a JSON string of `s` in the worst case (every byte escaped).
[[nodiscard]] constexpr std::size_t json_room(std::string_view s) noexcept { return 2 + 6 * s.size(); }

inline void append_json_codes(std::string& out, std::span<const backup_code> codes) {
  out.push_back('[');
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, codes[i].str());
  }
  out.push_back(']');
}
}  // namespace detail

/// A JSON string literal, quotes included.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(detail::json_room(s));
  detail::append_json_string(out, s);
  return out;
}

/// {"error": "..."}
[[nodiscard]] inline std::string error_body(std::error_code ec) {
  std::string out = R"({"error":)";
  detail::append_json_string(out, public_message(ec));
  out.push_back('}');
  return out;
}

// The bodies below contain a secret or backup codes. Each is built in one
// buffer reserved up front (no reallocation leaves a copy behind); the caller
// sends it and should then wipe it (mfakit::cleanse(body.data(), body.size())).

/// Setup: {"secret", "qrCode", "otpauthUri"}. The QR code (a data: URI of a
/// PNG) is the host's to render from otpauth_uri.
[[nodiscard]] inline std::string setup_body(const setup_result& r, std::string_view qr_code_data_uri) {
  std::string b32 = r.key.to_base32();
  std::string out;
  out.reserve(64 + detail::json_room(b32) + detail::json_room(qr_code_data_uri) + detail::json_room(r.otpauth_uri));
  out += R"({"secret":)";
  detail::append_json_string(out, b32);
  cleanse(b32.data(), b32.size());
  out += R"(,"qrCode":)";
  detail::append_json_string(out, qr_code_data_uri);
  out += R"(,"otpauthUri":)";
  detail::append_json_string(out, r.otpauth_uri);
  out.push_back('}');
  return out;
}

namespace detail {
[[nodiscard]] inline std::string codes_body(std::string_view head, std::span<const backup_code> codes) {
  std::string out;
  out.reserve(head.size() + 4 + codes.size() * (json_room("xxxx-xxxx") + 1));
  out += head;
  append_json_codes(out, codes);
  out.push_back('}');
  return out;
}
}  // namespace detail

/// Enable: {"enabled": true, "backupCodes": [...]}
[[nodiscard]] inline std::string enable_body(const enable_result& r) {
  return detail::codes_body(R"({"enabled":true,"backupCodes":)", r.backup_codes);
}

/// Regenerate: {"backupCodes": [...]}
[[nodiscard]] inline std::string regenerate_body(const regenerate_result& r) {
  return detail::codes_body(R"({"backupCodes":)", r.backup_codes);
}

/// Disable: {"disabled": true}
[[nodiscard]] inline std::string disable_body() { return R"({"disabled":true})"; }

/// Status: {"totpEnabled", "backupCodesRemaining"} (+ the host's passkeysCount),
/// and "clockDrift": "behind" or "ahead" only while the user's clock looks
/// off (status_result::clock_drift), so the documented body is unchanged
/// otherwise.
[[nodiscard]] inline std::string status_body(const status_result& r, std::optional<int> passkeys_count = std::nullopt) {
  std::string out = R"({"totpEnabled":)";
  out += r.totp_enabled ? "true" : "false";
  out += R"(,"backupCodesRemaining":)";
  ::mfakit::detail::append_decimal(out, r.backup_codes_remaining);
  if (r.clock_drift != drift_direction::none) {
    out += R"(,"clockDrift":")";
    out += to_string(r.clock_drift);
    out.push_back('"');
  }
  if (passkeys_count) {
    out += R"(,"passkeysCount":)";
    ::mfakit::detail::append_decimal(out, *passkeys_count);
  }
  out.push_back('}');
  return out;
}

/// Login with TOTP enabled: {"mfa_required": true, "mfa_token", "mfa_methods"}.
[[nodiscard]] inline std::string challenge_body(const challenge_result& r) {
  std::string out;
  out.reserve(64 + detail::json_room(r.token) + 48);
  out += R"({"mfa_required":true,"mfa_token":)";
  detail::append_json_string(out, r.token);
  out += R"(,"mfa_methods":["totp","backup_code"]})";
  return out;
}

/// Parses the verify body's "type": "totp" (also when absent) or "backup".
[[nodiscard]] inline result<factor> parse_factor(std::string_view type) noexcept {
  if (type.empty() || type == "totp") return factor::totp;
  if (type == "backup" || type == "backup_code") return factor::backup_code;
  return errc::invalid_argument;
}

}  // namespace mfakit::http
