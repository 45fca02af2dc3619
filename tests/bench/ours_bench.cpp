// mfakit itself, through the public API. Built twice: into mfakit_bench with
// the default (lean) HMAC engine, and into mfakit_bench_evp with
// MFAKIT_USE_EVP_HMAC defined for the whole executable (defining it for only
// some translation units of one program would break the ODR).
#include <string>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mfakit/otp.hpp"

namespace mfakit_bench {
namespace {

#if MFAKIT_LEAN_HMAC
const std::string impl = "ours";
#else
const std::string impl = "ours_evp_build";
#endif

mfakit::totp_params params_of(const otp_case& c) { return {c.alg, 6, c.period, 0}; }
const mfakit::totp_verify_options window_1{{1, 1}, std::nullopt};

bool accepted(const mfakit::result<std::uint64_t>& r) { return r.has_value(); }
bool mismatch(const mfakit::result<std::uint64_t>& r) { return r.error() == mfakit::errc::code_mismatch; }

void hotp(benchmark::State& st, const otp_case& c) {
  const mfakit::hotp_params p{c.alg, 6};
  if (!check_hotp(st, c, [&] { return mfakit::hotp(c.key, c.hotp_counter, p)->to_string(); })) return;
  for (auto _ : st) {
    auto r = mfakit::hotp(c.key, c.hotp_counter, p);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = mfakit::hotp(c.key, c.hotp_counter, p);
    benchmark::DoNotOptimize(r);
  });
}

void hotp_prepared(benchmark::State& st, const otp_case& c) {
  auto key = mfakit::otp_key::make(c.alg, c.key);
  if (!key) {
    st.SkipWithError("otp_key::make failed");
    return;
  }
  if (!check_hotp(st, c, [&] { return mfakit::hotp(*key, c.hotp_counter, 6)->to_string(); })) return;
  for (auto _ : st) {
    auto r = mfakit::hotp(*key, c.hotp_counter, 6);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = mfakit::hotp(*key, c.hotp_counter, 6);
    benchmark::DoNotOptimize(r);
  });
}

void key_schedule(benchmark::State& st, const otp_case& c) {
  for (auto _ : st) {
    auto k = mfakit::otp_key::make(c.alg, c.key);
    benchmark::DoNotOptimize(k);
  }
  count_allocs(st, [&] {
    auto k = mfakit::otp_key::make(c.alg, c.key);
    benchmark::DoNotOptimize(k);
  });
}

void totp_verify(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  if (!check_verify(st, c, [&](const std::string& code) {
        return accepted(mfakit::verify_totp(c.key, code, c.unix_time, p, window_1));
      }))
    return;
  if (!mismatch(mfakit::verify_totp(c.key, c.wrong_code, c.unix_time, p, window_1))) {
    st.SkipWithError("the wrong code did not give code_mismatch");
    return;
  }
  for (auto _ : st) {
    auto r = mfakit::verify_totp(c.key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = mfakit::verify_totp(c.key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  });
}

void totp_verify_prepared(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  auto key = mfakit::otp_key::make(c.alg, c.key);
  if (!key) {
    st.SkipWithError("otp_key::make failed");
    return;
  }
  if (!check_verify(st, c, [&](const std::string& code) {
        return accepted(mfakit::verify_totp(*key, code, c.unix_time, p, window_1));
      }))
    return;
  for (auto _ : st) {
    auto r = mfakit::verify_totp(*key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = mfakit::verify_totp(*key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  });
}

}  // namespace

void register_ours() {
  register_per_alg("hotp", impl, hotp);
  register_per_alg("hotp_prepared", impl, hotp_prepared);
  register_per_alg("key_schedule", impl, key_schedule);
  register_per_alg("totp_verify", impl, totp_verify);
  register_per_alg("totp_verify_prepared", impl, totp_verify_prepared);
}

}  // namespace mfakit_bench
