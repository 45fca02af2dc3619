// Shared fixtures of the OTP benchmarks: one case per HMAC hash (the RFC 6238
// seeds), the time and the codes around it, a code that matches none of the
// three candidates of a +-1 window, and the helpers every implementation's
// benchmarks use (naming, the correctness gate, allocation counters).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "mfakit/hmac.hpp"

namespace mfakit_bench {

inline constexpr std::array<mfakit::algorithm, 3> all_algorithms{mfakit::algorithm::sha1, mfakit::algorithm::sha256,
                                                                 mfakit::algorithm::sha512};

struct otp_case {
  mfakit::algorithm alg{};
  std::string alg_name;    ///< "SHA1", "SHA256", "SHA512" (benchmark names)
  std::string botan_name;  ///< "SHA-1", ...
  std::vector<unsigned char> key;
  std::string key_base32;
  std::int64_t period = 30;
  std::int64_t unix_time = 0;               ///< the middle of a step
  std::uint64_t step = 0;                   ///< unix_time / period
  std::array<std::string, 3> window_codes;  ///< codes of step-1, step, step+1
  std::string wrong_code;                   ///< matches none of window_codes
  std::uint64_t hotp_counter = 0;
  std::string hotp_code;  ///< the code of hotp_counter
};

/// The case of one algorithm, computed once with mfakit itself (every other
/// implementation is checked against it before it is timed).
[[nodiscard]] const otp_case& case_for(mfakit::algorithm a);

/// Registers `fn` as "<op>/<impl>/<ALG>" for each algorithm.
void register_per_alg(const std::string& op, const std::string& impl,
                      const std::function<void(benchmark::State&, const otp_case&)>& fn);

/// The correctness gate: `accepts(code)` must take each window code and
/// refuse the wrong one. On failure the benchmark is skipped with an error
/// (which tests/bench/report.py turns into a failure). Returns success.
bool check_verify(benchmark::State& st, const otp_case& c, const std::function<bool(const std::string&)>& accepts);
/// `generate()` must give c.hotp_code.
bool check_hotp(benchmark::State& st, const otp_case& c, const std::function<std::string()>& generate);

/// Runs `op` once more, after the timed loop, with allocation counting on,
/// and reports counters allocs (per op) and heap_peak_B.
void count_allocs(benchmark::State& st, const std::function<void()>& op);

// Registration functions of each translation unit (main.cpp calls those
// that were built).
void register_ours();
void register_evp();
void register_naive();
void register_compress();
void register_backup();
void register_flow();
void register_self_test();
/// `mfakit_bench --cold-self-test MODE`: one sample of the first self-test of
/// this process, printed (self_test_bench.cpp); the exit status.
int cold_self_test(std::string_view mode);
void register_oath();
void register_cotp();
void register_botan();

}  // namespace mfakit_bench
