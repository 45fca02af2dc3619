// liboath (oath-toolkit): oath_hotp_generate / oath_totp_validate4. Takes the
// raw key on every call and runs a complete HMAC (key schedule included) per
// candidate; compares codes with strcmp.
#include <array>
#include <string>

#include <liboath/oath.h>

#include "alloc_counter.hpp"
#include "bench_common.hpp"

namespace mfakit_bench {
namespace {

int flags_of(const otp_case& c) {
  switch (c.alg) {
    case mfakit::algorithm::sha1: return 0;
    case mfakit::algorithm::sha256: return OATH_TOTP_HMAC_SHA256;
    case mfakit::algorithm::sha512: return OATH_TOTP_HMAC_SHA512;
  }
  return 0;
}

const char* key_of(const otp_case& c) {
  return reinterpret_cast<const char*>(c.key.data());  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

// oath_hotp_generate is SHA-1 only; for SHA-256/512 the HOTP value of a
// counter is the TOTP value with a one-second step at time = counter.
int generate(const otp_case& c, std::array<char, 16>& out) {
  if (c.alg == mfakit::algorithm::sha1)
    return oath_hotp_generate(key_of(c), c.key.size(), c.hotp_counter, 6, false, OATH_HOTP_DYNAMIC_TRUNCATION,
                              out.data());
  return oath_totp_generate2(key_of(c), c.key.size(), static_cast<time_t>(c.hotp_counter), 1, 0, 6, flags_of(c),
                             out.data());
}

int validate(const otp_case& c, const char* code) {
  return oath_totp_validate4(key_of(c), c.key.size(), static_cast<time_t>(c.unix_time), static_cast<unsigned>(c.period),
                             0, 1, nullptr, nullptr, flags_of(c), code);
}

void hotp(benchmark::State& st, const otp_case& c) {
  if (!check_hotp(st, c, [&] {
        std::array<char, 16> out{};
        return generate(c, out) == OATH_OK ? std::string(out.data()) : std::string();
      }))
    return;
  for (auto _ : st) {
    std::array<char, 16> out{};
    benchmark::DoNotOptimize(generate(c, out));
    benchmark::DoNotOptimize(out);
  }
  count_allocs(st, [&] {
    std::array<char, 16> out{};
    benchmark::DoNotOptimize(generate(c, out));
  });
}

void totp_verify(benchmark::State& st, const otp_case& c) {
  if (!check_verify(st, c, [&](const std::string& code) { return validate(c, code.c_str()) >= 0; })) return;
  if (validate(c, c.wrong_code.c_str()) != OATH_INVALID_OTP) {
    st.SkipWithError("liboath did not answer OATH_INVALID_OTP for the wrong code");
    return;
  }
  for (auto _ : st) benchmark::DoNotOptimize(validate(c, c.wrong_code.c_str()));
  count_allocs(st, [&] { benchmark::DoNotOptimize(validate(c, c.wrong_code.c_str())); });
}

}  // namespace

void register_oath() {
  oath_init();
  register_per_alg("hotp", "liboath", hotp);
  register_per_alg("totp_verify", "liboath", totp_verify);
}

}  // namespace mfakit_bench
