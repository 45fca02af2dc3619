// mfakit: two-factor authentication with authenticator apps, header-only.
// The umbrella header: the whole public API (codes, secrets, backup codes,
// the synchronous and coroutine services with their passkey calls, the
// WebAuthn verifier, HTTP bodies, key loading, the self-test); each part can
// also be included on its own. Not in it, each one include away: the store
// components <mfakit/stores/sqlite.hpp> and <mfakit/stores/postgresql.hpp>
// (they need their database's client headers) and the test helpers under
// <mfakit/testing/>. What it costs to compile: tests/bench/compile_time.sh.
#pragma once

#include "mfakit/account_transitions.hpp"
#include "mfakit/algorithm.hpp"
#include "mfakit/any_store.hpp"
#include "mfakit/async.hpp"
#include "mfakit/backup_codes.hpp"
#include "mfakit/base32.hpp"
#include "mfakit/calls.hpp"
#include "mfakit/challenge_transitions.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/hmac.hpp"
#include "mfakit/http.hpp"
#include "mfakit/key_loading.hpp"
#include "mfakit/key_uri.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/operations/account.hpp"
#include "mfakit/operations/login.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/secret.hpp"
#include "mfakit/self_test.hpp"
#include "mfakit/service.hpp"
#include "mfakit/store.hpp"
#include "mfakit/store_keys.hpp"
#include "mfakit/throttle.hpp"
#include "mfakit/transitions.hpp"
#include "mfakit/version.hpp"
#include "mfakit/webauthn.hpp"
