// The demo server's secrets: the sealing key (TOTP secrets at rest, and the
// backup codes' pepper derived from it) and the JWT secret, from the
// environment, files or the command line, which is wiped once read.
#pragma once

#include <array>
#include <string>

#include "options.hpp"

namespace mfakit_examples::demo {

/// Wipes the passwords of --user and the value of --jwt-secret from argv
/// (and so from /proc/PID/cmdline for later readers), once parsed.
void wipe_secret_args(int argc, char** argv);

/// MFAKIT_DEMO_SEALING_KEY, else --key-file (created with mode 0600 on the
/// first start), else a random key (memory store) or PATH.key beside an
/// SQLite database (with a warning); PostgreSQL needs one given.
[[nodiscard]] std::array<unsigned char, 32> load_sealing_key(const options& o, const std::string& sqlite_path);

/// --jwt-secret, --jwt-secret-file, MFAKIT_DEMO_JWT_SECRET, else a random one (with a warning).
[[nodiscard]] std::string load_jwt_secret(const options& o);

}  // namespace mfakit_examples::demo
