// Passkeys: the WebAuthn Level 3 relying-party verifier (strict CBOR, COSE
// keys, authenticator and client data, attestation none / packed /
// fido-u2f, §7.1 and §7.2), the options builders and the response parser.
#pragma once

#include "mfakit/webauthn/attestation.hpp"
#include "mfakit/webauthn/authenticator_data.hpp"
#include "mfakit/webauthn/base64url.hpp"
#include "mfakit/webauthn/cbor.hpp"
#include "mfakit/webauthn/check.hpp"
#include "mfakit/webauthn/client_data.hpp"
#include "mfakit/webauthn/cose_key.hpp"
#include "mfakit/webauthn/options.hpp"
#include "mfakit/webauthn/response.hpp"
#include "mfakit/webauthn/verify.hpp"
