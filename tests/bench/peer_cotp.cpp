// libcotp: get_hotp / get_totp_at. Takes the base32 secret on every call
// (decodes it into a fresh buffer), opens a libgcrypt HMAC handle and sets
// the key per call (key schedule included), returns a malloc'd string.
// Its totp_verify() only checks the current wall-clock step, so the +-1
// window is three get_totp_at() calls and a compare, as a caller would write.
#include <cstdlib>
#include <cstring>
#include <string>

#include "alloc_counter.hpp"
#include "bench_common.hpp"

// After the mfakit (OpenSSL) headers: cotp.h defines macros SHA1, SHA256 and
// SHA512, which would rename OpenSSL's functions of those names.
#include <cotp.h>  // NOLINT(llvm-include-order)

namespace mfakit_bench {
namespace {

int algo_of(const otp_case& c) {
  switch (c.alg) {
    case mfakit::algorithm::sha1: return GCRY_MD_SHA1;
    case mfakit::algorithm::sha256: return GCRY_MD_SHA256;
    case mfakit::algorithm::sha512: return GCRY_MD_SHA512;
  }
  return GCRY_MD_SHA1;
}

std::string take(char* s) {
  std::string r = s != nullptr ? std::string(s) : std::string();
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  return r;
}

bool generate(const otp_case& c) {
  cotp_error_t err = VALID;
  char* s = get_hotp(c.key_base32.c_str(), static_cast<long>(c.hotp_counter), 6, algo_of(c), &err);
  const bool ok = s != nullptr && err == VALID;
  std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
  return ok;
}

bool verify(const otp_case& c, const char* code) {
  bool found = false;
  bool ok = true;
  for (long i = -1; i <= 1; ++i) {
    cotp_error_t err = VALID;
    char* s = get_totp_at(c.key_base32.c_str(), static_cast<long>(c.unix_time) + i * c.period, 6,
                          static_cast<int>(c.period), algo_of(c), &err);
    ok &= s != nullptr && err == VALID;
    if (s != nullptr) {
      found |= std::strcmp(s, code) == 0;
      std::free(s);  // NOLINT(cppcoreguidelines-no-malloc)
    }
  }
  return ok && found;
}

void hotp(benchmark::State& st, const otp_case& c) {
  if (!check_hotp(st, c, [&] {
        cotp_error_t err = VALID;
        return take(get_hotp(c.key_base32.c_str(), static_cast<long>(c.hotp_counter), 6, algo_of(c), &err));
      }))
    return;
  for (auto _ : st) benchmark::DoNotOptimize(generate(c));
  count_allocs(st, [&] { benchmark::DoNotOptimize(generate(c)); });
}

void totp_verify(benchmark::State& st, const otp_case& c) {
  if (!check_verify(st, c, [&](const std::string& code) { return verify(c, code.c_str()); })) return;
  for (auto _ : st) benchmark::DoNotOptimize(verify(c, c.wrong_code.c_str()));
  count_allocs(st, [&] { benchmark::DoNotOptimize(verify(c, c.wrong_code.c_str())); });
}

}  // namespace

void register_cotp() {
  gcry_check_version(nullptr);  // libgcrypt's required initialisation
  gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
  register_per_alg("hotp", "libcotp", hotp);
  register_per_alg("totp_verify", "libcotp", totp_verify);
}

}  // namespace mfakit_bench
