// The HTTP face of the flow (../shared/spec/flows.md): which status each
// error maps to on each endpoint, the message a client may see (a replayed
// code and a wrong one read the same), and the JSON bodies the API documents,
// so a host's handlers stay a few lines long. No HTTP library is involved.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "mfakit/backup_codes.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/transitions.hpp"

namespace mfakit::http {

enum class endpoint : std::uint8_t { setup, enable, login, verify, disable, regenerate, status };

/// The status code an error maps to on an endpoint (200 for no error).
[[nodiscard]] inline int status_of(endpoint ep, std::error_code ec) noexcept {
  if (!ec) return 200;
  if (ec.category() != error_category()) return 503;
  switch (static_cast<errc>(ec.value())) {
    case errc::missing_code:
    case errc::missing_token:
    case errc::invalid_argument:
    case errc::not_pending: return 400;
    case errc::not_enabled: return ep == endpoint::verify ? 401 : 400;
    case errc::already_enabled: return 409;
    case errc::malformed_code:
    case errc::code_mismatch:
    case errc::code_replayed: return ep == endpoint::enable ? 422 : 401;
    case errc::challenge_invalid: return 401;
    case errc::challenge_exhausted:
    case errc::throttled:
    case errc::locked: return 429;
    case errc::storage_conflict:
    case errc::storage_failure: return 503;
    default: return 500;
  }
}

/// What a client is told. Deliberately coarse: every rejected code reads
/// "Invalid code", whether it was wrong, malformed or replayed.
[[nodiscard]] inline std::string_view public_message(std::error_code ec) noexcept {
  if (!ec) return "OK";
  if (ec.category() != error_category()) return "Service unavailable";
  switch (static_cast<errc>(ec.value())) {
    case errc::missing_code: return "code is required";
    case errc::missing_token: return "mfaToken is required";
    case errc::invalid_argument: return "Invalid request";
    case errc::not_pending: return "TOTP setup is required first";
    case errc::not_enabled: return "MFA is not enabled";
    case errc::already_enabled: return "TOTP is already enabled";
    case errc::malformed_code:
    case errc::code_mismatch:
    case errc::code_replayed: return "Invalid code";
    case errc::challenge_invalid: return "Invalid or expired MFA token";
    case errc::challenge_exhausted: return "Too many attempts; log in again";
    case errc::throttled: return "Too many failed attempts; try again later";
    case errc::locked: return "Too many failed attempts; account locked";
    case errc::storage_conflict:
    case errc::storage_failure: return "Service unavailable";
    default: return "Internal error";
  }
}

/// A JSON string literal, quotes included.
[[nodiscard]] inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

namespace detail {
[[nodiscard]] inline std::string json_codes(std::span<const backup_code> codes) {
  std::string out = "[";
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += json_string(codes[i].str());
  }
  out.push_back(']');
  return out;
}
}  // namespace detail

/// {"error": "..."}
[[nodiscard]] inline std::string error_body(std::error_code ec) {
  return fmt::format("{{\"error\":{}}}", json_string(public_message(ec)));
}

/// Setup: {"secret", "qrCode", "otpauthUri"}. The QR code (a data: URI of a
/// PNG) is the host's to render from otpauth_uri.
[[nodiscard]] inline std::string setup_body(const setup_result& r, std::string_view qr_code_data_uri) {
  return fmt::format("{{\"secret\":{},\"qrCode\":{},\"otpauthUri\":{}}}", json_string(r.key.to_base32()),
                     json_string(qr_code_data_uri), json_string(r.otpauth_uri));
}

/// Enable: {"enabled": true, "backupCodes": [...]}
[[nodiscard]] inline std::string enable_body(const enable_result& r) {
  return fmt::format("{{\"enabled\":true,\"backupCodes\":{}}}", detail::json_codes(r.backup_codes));
}

/// Regenerate: {"backupCodes": [...]}
[[nodiscard]] inline std::string regenerate_body(const regenerate_result& r) {
  return fmt::format("{{\"backupCodes\":{}}}", detail::json_codes(r.backup_codes));
}

/// Disable: {"disabled": true}
[[nodiscard]] inline std::string disable_body() { return R"({"disabled":true})"; }

/// Status: {"totpEnabled", "backupCodesRemaining"} (+ the host's passkeysCount).
[[nodiscard]] inline std::string status_body(const status_result& r, std::optional<int> passkeys_count = std::nullopt) {
  std::string out = fmt::format("{{\"totpEnabled\":{},\"backupCodesRemaining\":{}", r.totp_enabled ? "true" : "false",
                                r.backup_codes_remaining);
  if (passkeys_count) out += fmt::format(",\"passkeysCount\":{}", *passkeys_count);
  out.push_back('}');
  return out;
}

/// Login with TOTP enabled: {"mfa_required": true, "mfa_token", "mfa_methods"}.
[[nodiscard]] inline std::string challenge_body(const challenge_result& r) {
  return fmt::format(R"({{"mfa_required":true,"mfa_token":{},"mfa_methods":["totp","backup_code"]}})",
                     json_string(r.token));
}

/// Parses the verify body's "type": "totp" (also when absent) or "backup".
[[nodiscard]] inline result<factor> parse_factor(std::string_view type) noexcept {
  if (type.empty() || type == "totp") return factor::totp;
  if (type == "backup" || type == "backup_code") return factor::backup_code;
  return errc::invalid_argument;
}

}  // namespace mfakit::http
