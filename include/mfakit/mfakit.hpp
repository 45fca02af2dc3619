// mfakit: two-factor authentication with authenticator apps, header-only.
// The umbrella header; each part can also be included on its own.
#pragma once

#include "mfakit/backup_codes.hpp"
#include "mfakit/base32.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/hmac.hpp"
#include "mfakit/key_uri.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/version.hpp"
