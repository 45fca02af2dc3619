// The browser's answer in the form of PublicKeyCredential.toJSON()
// (WebAuthn L3 §5.1: RegistrationResponseJSON, AuthenticationResponseJSON),
// as @simplewebauthn/browser also sends it: base64url byte fields, read with
// strict types and sizes (unknown members are ignored, duplicates refused).
// The decoded bytes go to verify_registration / verify_assertion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/attestation.hpp"
#include "mfakit/webauthn/authenticator_data.hpp"
#include "mfakit/webauthn/base64url.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/client_data.hpp"
#include "mfakit/webauthn/detail/fail.hpp"
#include "mfakit/webauthn/detail/json.hpp"
#include "mfakit/webauthn/options.hpp"

namespace mfakit::webauthn {

inline constexpr std::size_t max_response_json_bytes = std::size_t{128} * 1024;
inline constexpr std::size_t max_signature_bytes = 1024;  // RSA-8192: 1024 bytes; ECDSA and EdDSA far fewer

struct registration_response {
  std::vector<unsigned char> raw_id;
  std::vector<unsigned char> client_data_json;
  std::vector<unsigned char> attestation_object;
  std::vector<std::string> transports;
  std::optional<std::string> authenticator_attachment;  ///< "platform" / "cross-platform"
};

struct authentication_response {
  std::vector<unsigned char> raw_id;
  std::vector<unsigned char> client_data_json;
  std::vector<unsigned char> authenticator_data;
  std::vector<unsigned char> signature;
  std::vector<unsigned char> user_handle;  ///< empty: absent or null
  std::optional<std::string> authenticator_attachment;
};

namespace detail {

struct response_common {
  const json_value* response = nullptr;
};

[[nodiscard]] inline bool b64_member(const json_value& obj, std::string_view name, std::vector<unsigned char>& out,
                                     std::size_t max_bytes, bool required) {
  const json_value* v = obj.member(name);
  if (v == nullptr) return !required;
  if (v->type != json_value::kind::string) return false;
  return base64url_decode_into(v->text, out, max_bytes).has_value();
}

/// The members both forms share: id == rawId (base64url), type
/// "public-key", an object response, clientExtensionResults an object,
/// authenticatorAttachment a string or null.
[[nodiscard]] inline bool read_common(const json_value& top, std::vector<unsigned char>& raw_id,
                                      std::vector<unsigned char>& client_data_json,
                                      std::optional<std::string>& attachment, const json_value*& response) {
  using kind = json_value::kind;
  if (top.type != kind::object) return false;
  const json_value* id = top.member("id");
  const json_value* raw = top.member("rawId");
  const json_value* type = top.member("type");
  const json_value* ext = top.member("clientExtensionResults");
  const json_value* att = top.member("authenticatorAttachment");
  response = top.member("response");
  if (id == nullptr || id->type != kind::string || raw == nullptr || raw->type != kind::string || type == nullptr ||
      type->type != kind::string || type->text != "public-key" || response == nullptr || response->type != kind::object)
    return false;
  if (ext == nullptr || ext->type != kind::object) return false;
  if (id->text != raw->text) return false;
  if (!base64url_decode_into(raw->text, raw_id, max_credential_id_bytes) || raw_id.empty()) return false;
  if (att != nullptr && att->type != kind::null) {
    if (att->type != kind::string) return false;
    attachment = att->text;
  }
  return b64_member(*response, "clientDataJSON", client_data_json, max_client_data_bytes, true);
}

}  // namespace detail

[[nodiscard]] inline result<registration_response> parse_registration_response(std::string_view json,
                                                                              check* failed = nullptr) {
  using detail::fail;
  using kind = detail::json_value::kind;
  auto top = detail::parse_json(json, detail::json_limits{max_response_json_bytes, 16, 4096});
  if (!top) return fail(failed, check::response_json, errc::webauthn_malformed);
  registration_response out;
  const detail::json_value* resp = nullptr;
  if (!detail::read_common(*top, out.raw_id, out.client_data_json, out.authenticator_attachment, resp) ||
      !detail::b64_member(*resp, "attestationObject", out.attestation_object, max_attestation_object_bytes, true))
    return fail(failed, check::response_json, errc::webauthn_malformed);
  if (const auto* t = resp->member("transports"); t != nullptr) {
    if (t->type != kind::array || t->elements.size() > 16)
      return fail(failed, check::response_json, errc::webauthn_malformed);
    for (const auto& e : t->elements) {
      if (e.type != kind::string || e.text.empty() || e.text.size() > 32)
        return fail(failed, check::response_json, errc::webauthn_malformed);
      out.transports.push_back(e.text);
    }
  }
  return out;
}

[[nodiscard]] inline result<authentication_response> parse_authentication_response(std::string_view json,
                                                                                  check* failed = nullptr) {
  using detail::fail;
  using kind = detail::json_value::kind;
  auto top = detail::parse_json(json, detail::json_limits{max_response_json_bytes, 16, 4096});
  if (!top) return fail(failed, check::response_json, errc::webauthn_malformed);
  authentication_response out;
  const detail::json_value* resp = nullptr;
  if (!detail::read_common(*top, out.raw_id, out.client_data_json, out.authenticator_attachment, resp) ||
      !detail::b64_member(*resp, "authenticatorData", out.authenticator_data, max_authenticator_data_bytes, true) ||
      !detail::b64_member(*resp, "signature", out.signature, max_signature_bytes, true) || out.signature.empty())
    return fail(failed, check::response_json, errc::webauthn_malformed);
  if (const auto* uh = resp->member("userHandle"); uh != nullptr && uh->type != kind::null) {
    if (uh->type != kind::string || !base64url_decode_into(uh->text, out.user_handle, max_user_handle_bytes) ||
        out.user_handle.empty())
      return fail(failed, check::response_json, errc::webauthn_malformed);
  }
  return out;
}

}  // namespace mfakit::webauthn
