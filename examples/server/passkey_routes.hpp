// The demo server's passkey (WebAuthn) endpoints, over the library's passkey
// calls (mfakit/operations/passkey.hpp): credentials, ceremonies and
// counters live in the store beside the accounts, so every server process
// on one database serves the others' passkeys.
//
//   POST   /api/v1/passkey/register/options            Bearer -> creation options
//   POST   /api/v1/passkey/register {name, response}   Bearer -> {id, name, createdAt, lastUsedAt}
//   GET    /api/v1/passkey                             Bearer -> [{id, name, createdAt, lastUsedAt}]
//   DELETE /api/v1/passkey/{id}                        Bearer -> {"deleted": true}
//   POST   /api/auth/passkey/login/options {email?}    -> request options
//   POST   /api/auth/passkey/login {response}          -> {token, refresh_token, ...} (amr "passkey")
//
// Registration and deletion change the account's factors: like TOTP
// enable/disable they end the user's other sessions (the session epoch
// moves). Refusals say what was wrong with the request, never which check of
// a ceremony failed; no error string carries a key, a user handle or a
// challenge. The flags (--rp-id, --rp-name, --origin) are read here too.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include <mfakit/crypto.hpp>
#include <mfakit/operations/passkey.hpp>
#include <mfakit/webauthn.hpp>

namespace mfakit_examples::demo {

class router;
class host;

/// --rp-id, --rp-name, --origin, and the key of the made-up credential id.
struct passkey_flags {
  std::string rp_id = "localhost";
  std::string rp_name;               ///< empty: the issuer
  std::vector<std::string> origins;  ///< empty: http://localhost:PORT, the port the server listens on
  std::vector<unsigned char> decoy_key;
};

namespace passkey_detail {

[[nodiscard]] inline bool domain_label_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/// A lower-case DNS name that is not an IP address (an RP ID cannot be one).
[[nodiscard]] inline bool valid_rp_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 253 || id.front() == '.' || id.back() == '.') return false;
  bool all_digits = true;
  std::size_t label = 0;
  for (char c : id) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!domain_label_char(c) || ++label > 63) return false;
    if (c < '0' || c > '9') all_digits = false;
  }
  return !all_digits;  // 127.0.0.1 and the like
}

/// "http(s)://HOST[:PORT]" with HOST the RP ID or a name under it.
[[nodiscard]] inline bool origin_on(std::string_view origin, std::string_view rp_id) noexcept {
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return false;
  }
  const std::size_t colon = rest.find(':');
  const std::string_view host = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
  }
  if (!valid_rp_id(host)) return false;
  return host == rp_id || (host.size() > rp_id.size() + 1 && host.ends_with(rp_id) &&
                           host[host.size() - rp_id.size() - 1] == '.');
}

}  // namespace passkey_detail

/// One of --rp-id ID, --rp-name NAME, --origin ORIGIN (repeatable): true when
/// `flag` was one (its value taken with value()), false to leave it to others.
/// fail(message) must not return.
template <class Value, class Fail>
[[nodiscard]] bool parse_passkey_flag(passkey_flags& f, std::string_view flag, Value&& value, Fail&& fail) {
  if (flag == "--rp-id") {
    const std::string_view v = value();
    if (!passkey_detail::valid_rp_id(v)) fail("--rp-id wants a lower-case domain name (not an IP address)");
    f.rp_id = std::string(v);
  } else if (flag == "--rp-name") {
    const std::string_view v = value();
    if (v.empty() || v.size() > 64 || !mfakit::webauthn::detail::valid_utf8(mfakit::as_bytes(v)) ||
        std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
      fail("--rp-name wants 1 to 64 bytes of UTF-8 without control characters");
    f.rp_name = std::string(v);
  } else if (flag == "--origin") {
    const std::string_view v = value();
    if (f.origins.size() >= 16) fail("--origin: at most 16");
    f.origins.emplace_back(v);
  } else {
    return false;
  }
  return true;
}

/// After the command line: every origin on the RP ID (the order of the flags
/// is free, so this is checked once they are all read).
template <class Fail>
void check_passkey_flags(const passkey_flags& f, Fail&& fail) {
  for (const auto& o : f.origins)
    if (!passkey_detail::origin_on(o, f.rp_id)) fail("--origin wants http(s)://HOST[:PORT] with HOST on --rp-id");
  if (f.origins.empty() && f.rp_id != "localhost") fail("--rp-id other than localhost needs --origin");
}

/// The key of the made-up credential id (login options for an email without
/// passkeys), derived from the JWT secret: the same on every server of one
/// deployment and across restarts, and no new secret to manage.
[[nodiscard]] inline std::vector<unsigned char> passkey_decoy_key(std::string_view jwt_secret) {
  constexpr std::string_view label = "mfakit demo server: passkey decoy key";
  auto k = mfakit::hmac_sha256(mfakit::as_bytes(jwt_secret), mfakit::as_bytes(label));
  if (!k) throw std::runtime_error("HMAC failed");
  std::vector<unsigned char> out(k->begin(), k->end());
  mfakit::cleanse(k->data(), k->size());
  return out;
}

/// The endpoints' settings (RP ID and name, origins, the decoy key), shared by their handlers.
struct passkey_site {
  mfakit::passkey_settings settings;
  /// Once the server listens, before any request: the default origin http://localhost:PORT.
  void listening_on(unsigned short port);
  ~passkey_site() { mfakit::cleanse(settings.decoy_key.data(), settings.decoy_key.size()); }
};

/// Registers the six endpoints above (DELETE .../{id} as a prefix route).
[[nodiscard]] std::shared_ptr<passkey_site> add_passkey_routes(router& r, host& h, const passkey_flags& f,
                                                              std::string_view issuer);

/// The user's passkey count (the MFA status's passkeysCount); nullopt when the store failed.
boost::asio::awaitable<std::optional<int>> passkey_count(host& h, const std::string& user);

}  // namespace mfakit_examples::demo
