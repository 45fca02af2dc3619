// The demo server's secrets (secrets.hpp).
#include "secrets.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include <mfakit/crypto.hpp>

#include "jwt.hpp"
#include "log.hpp"
#include "passwords.hpp"

namespace mfakit_examples::demo {
namespace {

[[nodiscard]] std::optional<std::array<unsigned char, 32>> parse_hex_key(std::string_view hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.remove_suffix(1);
  if (hex.size() != 64) return std::nullopt;
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc{} || p != hex.data() + 2 * i + 2) return std::nullopt;
    key[i] = static_cast<unsigned char>(v);
  }
  return key;
}

/// One warning line when a secret's file can be read by its group or others.
void warn_if_shared(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 077U) == 0) return;
  fmt::print(stderr, "mfakit_demo_server: WARNING: {} {} is readable by group or others (mode {:o}); chmod 600 it\n",
             what, mfakit_examples::log_escape(path), st.st_mode & 0777U);
}

[[nodiscard]] std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

void wipe_secret_args(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string_view a = argv[i];
    char* v = argv[i + 1];
    if (a == "--user") {
      if (char* colon = std::strchr(v, ':'); colon != nullptr) mfakit::cleanse(colon + 1, std::strlen(colon + 1));
      ++i;
    } else if (a == "--jwt-secret") {
      mfakit::cleanse(v, std::strlen(v));
      ++i;
    }
  }
}

/// MFAKIT_DEMO_SEALING_KEY, else the key file (created with mode 0600 on the
/// first start), else: a random key for the memory store; for SQLite a key
/// file next to the database (PATH.key, with a warning: fine for the demo
/// and the benchmark, not for production); PostgreSQL needs one given.
std::array<unsigned char, 32> load_sealing_key(const options& o, const std::string& sqlite_path) {
  if (const char* env = std::getenv("MFAKIT_DEMO_SEALING_KEY"); env != nullptr && *env != '\0') {
    auto k = parse_hex_key(env);
    if (!k) usage_error("MFAKIT_DEMO_SEALING_KEY must be 64 hex digits");
    return *k;
  }
  std::array<unsigned char, 32> key{};
  std::string file = o.key_file;
  if (file.empty()) {
    if (o.db == "memory") {
      if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
      return key;
    }
    if (sqlite_path.empty()) usage_error("a PostgreSQL database needs --key-file or MFAKIT_DEMO_SEALING_KEY");
    file = sqlite_path + ".key";
    fmt::print(stderr,
               "mfakit_demo_server: WARNING: no --key-file; using {} next to the database (give a key kept apart "
               "from the database in production)\n",
               mfakit_examples::log_escape(file));
  }
  if (auto text = read_file(file)) {
    auto k = parse_hex_key(*text);
    mfakit::cleanse(text->data(), text->size());
    if (!k) usage_error("the key file must hold 64 hex digits");
    warn_if_shared(file, "the key file");
    return *k;
  }
  if (!mfakit::openssl_random{}.fill(key)) usage_error("random generator failed");
  std::string hex = mfakit_examples::to_hex(key) + "\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  if (fd >= 0) ::close(fd);
  mfakit::cleanse(hex.data(), hex.size());
  if (!written) {
    // another server on the same database created it first: use theirs
    if (auto text = read_file(file)) {
      auto k = parse_hex_key(*text);
      mfakit::cleanse(text->data(), text->size());
      if (k) return *k;
    }
    usage_error("cannot create the key file");
  }
  fmt::print(stderr, "mfakit_demo_server: created a new sealing key in {}\n", mfakit_examples::log_escape(file));
  return key;
}

/// --jwt-secret, --jwt-secret-file, MFAKIT_DEMO_JWT_SECRET; else a random
/// one (tokens then die with the process and no second process accepts them).
std::string load_jwt_secret(const options& o) {
  std::string s = o.jwt_secret;
  if (!o.jwt_secret_file.empty()) {
    auto text = read_file(o.jwt_secret_file);
    if (!text) usage_error("cannot read --jwt-secret-file");
    warn_if_shared(o.jwt_secret_file, "the JWT secret file");
    s = std::move(*text);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  }
  if (s.empty()) {
    if (char* env = std::getenv("MFAKIT_DEMO_JWT_SECRET"); env != nullptr) {
      s = env;
      mfakit::cleanse(env, std::strlen(env));
    }
  }
  if (s.empty()) {
    std::array<unsigned char, 32> raw{};
    if (!mfakit::openssl_random{}.fill(raw)) usage_error("random generator failed");
    s = mfakit_examples::to_hex(raw);
    mfakit::cleanse(raw.data(), raw.size());
    fmt::print(stderr,
               "mfakit_demo_server: WARNING: no --jwt-secret; using a random one (tokens die with this process)\n");
  }
  if (s.size() < mfakit_examples::jwt::min_key_bytes) usage_error("the JWT secret must have at least 32 bytes");
  return s;
}

}  // namespace mfakit_examples::demo
