// Which step of a WebAuthn ceremony refused a response. The error code a
// client sees is coarse (errors.hpp: every refusal reads "Passkey
// verification failed"); this detail is for the host's log and events only.
#pragma once

#include <cstdint>
#include <string_view>

namespace mfakit::webauthn {

enum class check : std::uint8_t {
  none,
  response_json,          ///< the PublicKeyCredential JSON: syntax, types, sizes, base64url
  credential_id,          ///< id / rawId disagree, too long, or not the stored / an allowed credential
  user_handle,            ///< the response's user handle is not the stored one (or is missing when required)
  client_data_json,       ///< clientDataJSON does not parse
  client_data_type,       ///< type is not webauthn.create / webauthn.get
  challenge,              ///< not the ceremony's challenge
  origin,                 ///< not an allowed origin
  cross_origin,           ///< crossOrigin true, or a topOrigin, where not allowed
  attestation_object,     ///< the attestation object does not decode
  authenticator_data,     ///< authenticator data lengths, flags layout, trailing bytes
  rp_id_hash,             ///< rpIdHash is not SHA-256 of the RP ID
  user_present,           ///< UP not set
  user_verified,          ///< UV not set where required
  backup_state,           ///< BS set without BE
  backup_eligibility,     ///< BE went from true to false (or changed where the host forbids it)
  credential_public_key,  ///< the COSE key is malformed, unsupported, or its parameters disagree
  algorithm,              ///< the key's algorithm is not one the ceremony allowed
  attestation_format,     ///< an attestation format the verifier does not take
  attestation_statement,  ///< the attestation statement is malformed or its signature is wrong
  attestation_certificate,  ///< the attestation certificate lacks a required field or is not trusted
  signature,              ///< the assertion signature is wrong
  counter,                ///< the signature counter did not increase: possible cloned authenticator
  internal,               ///< an OpenSSL call failed
};

/// A name for logs ("challenge", "origin"...); never shown to a client.
[[nodiscard]] constexpr std::string_view name(check c) noexcept {
  switch (c) {
    case check::none: return "none";
    case check::response_json: return "response_json";
    case check::credential_id: return "credential_id";
    case check::user_handle: return "user_handle";
    case check::client_data_json: return "client_data_json";
    case check::client_data_type: return "client_data_type";
    case check::challenge: return "challenge";
    case check::origin: return "origin";
    case check::cross_origin: return "cross_origin";
    case check::attestation_object: return "attestation_object";
    case check::authenticator_data: return "authenticator_data";
    case check::rp_id_hash: return "rp_id_hash";
    case check::user_present: return "user_present";
    case check::user_verified: return "user_verified";
    case check::backup_state: return "backup_state";
    case check::backup_eligibility: return "backup_eligibility";
    case check::credential_public_key: return "credential_public_key";
    case check::algorithm: return "algorithm";
    case check::attestation_format: return "attestation_format";
    case check::attestation_statement: return "attestation_statement";
    case check::attestation_certificate: return "attestation_certificate";
    case check::signature: return "signature";
    case check::counter: return "counter";
    case check::internal: return "internal";
  }
  return "unknown";
}

}  // namespace mfakit::webauthn
