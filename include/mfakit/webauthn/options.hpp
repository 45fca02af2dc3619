// The options a relying party sends to the browser, in the Level 3 JSON
// forms (WebAuthn L3 §5.4 PublicKeyCredentialCreationOptionsJSON, §5.5
// PublicKeyCredentialRequestOptionsJSON) that PublicKeyCredential.
// parseCreationOptionsFromJSON() / parseRequestOptionsFromJSON() take: a
// fresh random challenge of 32 bytes each time (§13.4.3: at least 16),
// pubKeyCredParams -8, -7, -257, a discoverable credential and user
// verification required, excludeCredentials / allowCredentials filled in.
// The caller stores the challenge with the ceremony; the user handle is
// random, made once per user (§14.6.1: never an e-mail or a user name).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/detail/decimal.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/base64url.hpp"
#include "mfakit/webauthn/cose_key.hpp"
#include "mfakit/webauthn/detail/json.hpp"

namespace mfakit::webauthn {

inline constexpr std::size_t challenge_bytes = 32;
inline constexpr std::size_t min_user_handle_bytes = 16;
inline constexpr std::size_t max_user_handle_bytes = 64;  // §5.4.3: user.id is at most 64 bytes

/// A credential to exclude (registration) or allow (login).
struct credential_descriptor {
  std::vector<unsigned char> id;
  std::vector<std::string> transports;  ///< as the registration reported them ("internal", "usb", "hybrid"...)
};

struct creation_options_input {
  std::string rp_id;
  std::string rp_name;
  std::vector<unsigned char> user_handle;  ///< new_user_handle(), kept with the account
  std::string user_name;                   ///< shown by the authenticator's account picker
  std::string user_display_name;
  std::vector<credential_descriptor> exclude;  ///< the user's credentials already registered
  std::uint32_t timeout_ms = 300000;
  std::vector<cose_alg> algorithms{cose_alg::eddsa, cose_alg::es256, cose_alg::rs256};
};

struct request_options_input {
  std::string rp_id;
  std::vector<credential_descriptor> allow;  ///< empty: a discoverable credential of anyone (passwordless)
  std::uint32_t timeout_ms = 300000;
};

/// The options' JSON and the challenge it carries (to store with the ceremony).
struct ceremony_options {
  std::array<unsigned char, challenge_bytes> challenge{};
  std::string json;
};

/// A random user handle of `bytes` (16 to 64) bytes.
template <random_source R>
[[nodiscard]] result<std::vector<unsigned char>> new_user_handle(R& rng, std::size_t bytes = 32) {
  if (bytes < min_user_handle_bytes || bytes > max_user_handle_bytes) return errc::invalid_argument;
  std::vector<unsigned char> out(bytes);
  if (!rng.fill(out)) return errc::random_failure;
  return out;
}

namespace detail {
inline void append_descriptors(std::string& out, std::string_view name, const std::vector<credential_descriptor>& list) {
  out += R"(,")";
  out += name;
  out += R"(":[)";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out.push_back(',');
    out += R"({"type":"public-key","id":")";
    append_base64url(out, list[i].id);
    out += '"';
    if (!list[i].transports.empty()) {
      out += R"(,"transports":[)";
      for (std::size_t k = 0; k < list[i].transports.size(); ++k) {
        if (k != 0) out.push_back(',');
        append_json_string(out, list[i].transports[k]);
      }
      out += ']';
    }
    out += '}';
  }
  out += ']';
}
}  // namespace detail

/// PublicKeyCredentialCreationOptionsJSON with a fresh challenge.
template <random_source R>
[[nodiscard]] result<ceremony_options> make_creation_options(R& rng, const creation_options_input& in) {
  if (in.rp_id.empty() || in.user_handle.size() < min_user_handle_bytes ||
      in.user_handle.size() > max_user_handle_bytes || in.algorithms.empty())
    return errc::invalid_argument;
  ceremony_options out;
  if (!rng.fill(out.challenge)) return errc::random_failure;
  std::string& j = out.json;
  j += R"({"rp":{"id":)";
  detail::append_json_string(j, in.rp_id);
  j += R"(,"name":)";
  detail::append_json_string(j, in.rp_name.empty() ? in.rp_id : in.rp_name);
  j += R"(},"user":{"id":")";
  append_base64url(j, in.user_handle);
  j += R"(","name":)";
  detail::append_json_string(j, in.user_name);
  j += R"(,"displayName":)";
  detail::append_json_string(j, in.user_display_name.empty() ? in.user_name : in.user_display_name);
  j += R"(},"challenge":")";
  append_base64url(j, out.challenge);
  j += R"(","pubKeyCredParams":[)";
  for (std::size_t i = 0; i < in.algorithms.size(); ++i) {
    if (i != 0) j.push_back(',');
    j += R"({"type":"public-key","alg":)";
    ::mfakit::detail::append_decimal(j, static_cast<std::int32_t>(in.algorithms[i]));
    j.push_back('}');
  }
  j += R"(],"timeout":)";
  ::mfakit::detail::append_decimal(j, in.timeout_ms);
  detail::append_descriptors(j, "excludeCredentials", in.exclude);
  j += R"(,"authenticatorSelection":{"residentKey":"required","requireResidentKey":true,)"
       R"("userVerification":"required"},"attestation":"none","extensions":{"credProps":true}})";
  return out;
}

/// PublicKeyCredentialRequestOptionsJSON with a fresh challenge.
template <random_source R>
[[nodiscard]] result<ceremony_options> make_request_options(R& rng, const request_options_input& in) {
  if (in.rp_id.empty()) return errc::invalid_argument;
  ceremony_options out;
  if (!rng.fill(out.challenge)) return errc::random_failure;
  std::string& j = out.json;
  j += R"({"challenge":")";
  append_base64url(j, out.challenge);
  j += R"(","timeout":)";
  ::mfakit::detail::append_decimal(j, in.timeout_ms);
  j += R"(,"rpId":)";
  detail::append_json_string(j, in.rp_id);
  detail::append_descriptors(j, "allowCredentials", in.allow);
  j += R"(,"userVerification":"required"})";
  return out;
}

}  // namespace mfakit::webauthn
