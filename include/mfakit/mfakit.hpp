// mfakit: two-factor authentication with authenticator apps, header-only.
// The umbrella header; each part can also be included on its own.
#pragma once

#include "mfakit/backup_codes.hpp"
#include "mfakit/base32.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/hmac.hpp"
#include "mfakit/http.hpp"
#include "mfakit/key_uri.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/service.hpp"
#include "mfakit/store.hpp"
#include "mfakit/throttle.hpp"
#include "mfakit/transitions.hpp"
#include "mfakit/version.hpp"
