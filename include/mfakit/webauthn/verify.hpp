// The two ceremonies' verification, every step of WebAuthn L3 §7.1
// (registering a new credential) and §7.2 (verifying an authentication
// assertion), as pure functions: the response's bytes, the ceremony's
// challenge, the stored credential and the host's RP ID and origins in; a
// decision out. No I/O, no clock, no global state: the steps that need a
// store (the challenge used once, the credential ID registered to no one
// else, the new counter written) belong to the operation that wraps these.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/attestation.hpp"
#include "mfakit/webauthn/authenticator_data.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/client_data.hpp"
#include "mfakit/webauthn/cose_key.hpp"
#include "mfakit/webauthn/detail/fail.hpp"

namespace mfakit::webauthn {

// --- registration (§7.1) ------------------------------------------------------------

struct registration_policy {
  /// §7.1 step 15: UV required (options said userVerification "required").
  bool require_user_verification = true;
  /// §7.1 step 14: UP required; false only for a conditional create.
  bool require_user_presence = true;
  /// §7.1 step 19: the algorithms the options offered (pubKeyCredParams).
  std::vector<cose_alg> algorithms{cose_alg::eddsa, cose_alg::es256, cose_alg::rs256};
  attestation_policy attestation;
};

struct registration_input {
  byte_view client_data_json;
  byte_view attestation_object;
  byte_view expected_challenge;  ///< the challenge the creation options carried
  /// The response's rawId; when given it must be the attested credential ID.
  byte_view raw_id;
};

/// What a credential record keeps (§7.1 step 27), and what the ceremony showed.
struct registered_credential {
  std::vector<unsigned char> id;
  cose_key public_key;                     ///< public_key.encoded() is what to store
  std::uint32_t sign_count = 0;
  bool user_verified = false;              ///< the record's uvInitialized
  bool backup_eligible = false;
  bool backed_up = false;
  std::array<unsigned char, 16> aaguid{};
  attestation_result attestation;
  std::optional<cbor_value> extensions;    ///< authenticator extension outputs (a copy: owns its bytes)
};

[[nodiscard]] inline result<registered_credential> verify_registration(const relying_party& rp,
                                                                      const registration_input& in,
                                                                      const registration_policy& policy = {},
                                                                      check* failed = nullptr) {
  using detail::fail;
  // steps 5-6: parse clientDataJSON
  auto c = parse_client_data(in.client_data_json, failed);
  if (!c) return c.error();
  // steps 7-10: type, challenge, origin, crossOrigin / topOrigin
  if (auto r = check_client_data(*c, "webauthn.create", in.expected_challenge, rp, failed); !r) return r.error();
  // step 11: hash of the client data
  auto cdh = sha256(in.client_data_json);
  if (!cdh) return fail(failed, check::internal, cdh.error());
  // step 12: decode the attestation object (authenticator data, credential key)
  auto obj = parse_attestation_object(in.attestation_object, failed);
  if (!obj) return obj.error();
  const authenticator_data& ad = obj->auth_data;
  const attested_credential_data& cred = *ad.attested;
  // step 13: rpIdHash
  auto rp_hash = sha256(as_bytes(rp.id));
  if (!rp_hash) return fail(failed, check::internal, rp_hash.error());
  if (!constant_time_equal(ad.rp_id_hash, *rp_hash)) return fail(failed, check::rp_id_hash, errc::webauthn_rejected);
  // steps 14-16: UP, UV, BS only with BE
  if (policy.require_user_presence && !ad.user_present())
    return fail(failed, check::user_present, errc::webauthn_rejected);
  if (policy.require_user_verification && !ad.user_verified())
    return fail(failed, check::user_verified, errc::webauthn_rejected);
  if (ad.backed_up() && !ad.backup_eligible()) return fail(failed, check::backup_state, errc::webauthn_rejected);
  // step 19: the algorithm is one the options offered
  if (std::find(policy.algorithms.begin(), policy.algorithms.end(), cred.public_key.alg()) == policy.algorithms.end())
    return fail(failed, check::algorithm, errc::webauthn_rejected);
  // step 25 (and the response's own id): credential ID length, rawId agreement
  if (!in.raw_id.empty() && !constant_time_equal(in.raw_id, cred.credential_id))
    return fail(failed, check::credential_id, errc::webauthn_rejected);
  // steps 21-24: the statement, its trust path
  auto att = verify_attestation(*obj, *cdh, policy.attestation, failed);
  if (!att) return att.error();
  // step 27: the record's content (step 26, "registered to no one", is the store's)
  registered_credential out;
  out.id.assign(cred.credential_id.begin(), cred.credential_id.end());
  out.public_key = cred.public_key;
  out.sign_count = ad.sign_count;
  out.user_verified = ad.user_verified();
  out.backup_eligible = ad.backup_eligible();
  out.backed_up = ad.backed_up();
  out.aaguid = cred.aaguid;
  out.attestation = std::move(*att);
  if (ad.extensions) out.extensions.emplace(*ad.extensions);
  return out;
}

// --- authentication (§7.2) ------------------------------------------------------------

/// A credential record as the store keeps it (§7.2 steps 7, 24).
struct stored_credential {
  byte_view id;
  const cose_key* public_key = nullptr;  ///< parsed once from the stored COSE bytes (cose_key::parse)
  std::uint32_t sign_count = 0;
  bool backup_eligible = false;
  bool backed_up = false;
  bool user_verified = false;  ///< uvInitialized
  byte_view user_handle;       ///< the account's user handle (user.id at registration)
};

struct assertion_policy {
  /// §7.2 step 17: UV required (options said userVerification "required").
  bool require_user_verification = true;
  /// §7.2 step 16.
  bool require_user_presence = true;
  /// A passwordless login (no user named before the ceremony): the
  /// response must carry a user handle (§7.2 step 6).
  bool require_user_handle = false;
  /// §7.2 step 19: a credential stored as not backup eligible that now is
  /// (an authenticator that became synced) is taken and reported; false
  /// refuses it. Eligible to not eligible is always refused.
  bool allow_backup_eligibility_gain = true;
};

struct assertion_input {
  byte_view credential_id;  ///< the response's rawId
  byte_view client_data_json;
  byte_view authenticator_data;
  byte_view signature;
  byte_view user_handle;         ///< the response's userHandle (empty: absent)
  byte_view expected_challenge;  ///< the challenge the request options carried
  /// §7.2 step 5: the allowCredentials of the options, when it listed any.
  std::span<const std::vector<unsigned char>> allow_credentials;
};

/// What changed, for the record's update (§7.2 step 24) and the events.
struct assertion_result {
  std::uint32_t sign_count = 0;          ///< the new stored value
  bool user_verified = false;
  bool backup_eligible = false;
  bool backed_up = false;
  bool backup_eligibility_gained = false;  ///< BE false -> true: record it, tell the host
  bool backup_state_changed = false;
  bool user_verified_first_time = false;   ///< uvInitialized false -> true
  std::optional<cbor_value> extensions;    ///< authenticator extension outputs (a copy: owns its bytes)
};

/// The counter rule (§7.2 step 22): when either value is non-zero the new
/// one must be greater; a credential whose counter stays 0 (synced
/// passkeys) passes.
[[nodiscard]] constexpr bool counter_ok(std::uint32_t stored, std::uint32_t received) noexcept {
  return (stored == 0 && received == 0) || received > stored;
}

[[nodiscard]] inline result<assertion_result> verify_assertion(const relying_party& rp, const stored_credential& cred,
                                                              const assertion_input& in,
                                                              const assertion_policy& policy = {},
                                                              check* failed = nullptr) {
  using detail::fail;
  if (cred.public_key == nullptr) return fail(failed, check::credential_public_key, errc::invalid_argument);
  // step 5: listed in allowCredentials, when the options named some
  if (!in.allow_credentials.empty()) {
    bool listed = false;
    for (const auto& id : in.allow_credentials) listed = listed || constant_time_equal(id, in.credential_id);
    if (!listed) return fail(failed, check::credential_id, errc::webauthn_rejected);
  }
  // steps 6-7: the stored credential is the one that answered; its user's handle
  if (in.credential_id.empty() || !constant_time_equal(in.credential_id, cred.id))
    return fail(failed, check::credential_id, errc::webauthn_rejected);
  if (!in.user_handle.empty() && !constant_time_equal(in.user_handle, cred.user_handle))
    return fail(failed, check::user_handle, errc::webauthn_rejected);
  if (in.user_handle.empty() && policy.require_user_handle)
    return fail(failed, check::user_handle, errc::webauthn_rejected);
  // steps 8-10: parse
  auto c = parse_client_data(in.client_data_json, failed);
  if (!c) return c.error();
  auto ad = parse_authenticator_data(in.authenticator_data, failed);
  if (!ad) return ad.error();
  if (ad->attested) return fail(failed, check::authenticator_data, errc::webauthn_malformed);  // no AT in an assertion
  // steps 11-14
  if (auto r = check_client_data(*c, "webauthn.get", in.expected_challenge, rp, failed); !r) return r.error();
  // step 15: rpIdHash
  auto rp_hash = sha256(as_bytes(rp.id));
  if (!rp_hash) return fail(failed, check::internal, rp_hash.error());
  if (!constant_time_equal(ad->rp_id_hash, *rp_hash)) return fail(failed, check::rp_id_hash, errc::webauthn_rejected);
  // steps 16-19: UP, UV, BS only with BE, BE against the record
  if (policy.require_user_presence && !ad->user_present())
    return fail(failed, check::user_present, errc::webauthn_rejected);
  if (policy.require_user_verification && !ad->user_verified())
    return fail(failed, check::user_verified, errc::webauthn_rejected);
  if (ad->backed_up() && !ad->backup_eligible()) return fail(failed, check::backup_state, errc::webauthn_rejected);
  const bool gained = !cred.backup_eligible && ad->backup_eligible();
  if (cred.backup_eligible && !ad->backup_eligible())
    return fail(failed, check::backup_eligibility, errc::webauthn_rejected);
  if (gained && !policy.allow_backup_eligibility_gain)
    return fail(failed, check::backup_eligibility, errc::webauthn_rejected);
  // steps 20-21: the signature over authenticatorData || SHA-256(clientDataJSON)
  auto cdh = sha256(in.client_data_json);
  if (!cdh) return fail(failed, check::internal, cdh.error());
  if (!cred.public_key->verify(in.authenticator_data, *cdh, in.signature))
    return fail(failed, check::signature, errc::webauthn_rejected);
  // step 22: the counter (after the signature: an unsigned counter says nothing)
  if (!counter_ok(cred.sign_count, ad->sign_count))
    return fail(failed, check::counter, errc::webauthn_counter_regressed);
  // step 24: what the record becomes
  assertion_result out;
  out.sign_count = ad->sign_count;
  out.user_verified = ad->user_verified();
  out.backup_eligible = ad->backup_eligible();
  out.backed_up = ad->backed_up();
  out.backup_eligibility_gained = gained;
  out.backup_state_changed = cred.backed_up != ad->backed_up();
  out.user_verified_first_time = !cred.user_verified && ad->user_verified();
  if (ad->extensions) out.extensions.emplace(*ad->extensions);
  return out;
}

}  // namespace mfakit::webauthn
