// The self-test (self_test.hpp): what its checks cost when run again in a
// warm process (self_test/run: detail::run_self_test(), not the cached
// self_test()), and, once, in a cold process before any benchmark ran (the
// context entries): first what OpenSSL's own lazy initialisation costs, which
// the library's first seal, random draw and backup-code digest pay with or
// without a self-test (openssl_init_ns: the AES-256-GCM fetch, one
// RAND_bytes, one scrypt), then the first self_test() (self_test_first_call_ns).
#include <array>
#include <chrono>
#include <string>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bench_common.hpp"
#include "mfakit/self_test.hpp"

namespace mfakit_bench {
namespace {

void self_test_run(benchmark::State& st) {
  if (!mfakit::self_test().ok()) {
    st.SkipWithError("correctness gate: the self-test failed");
    return;
  }
  for (auto _ : st) {
    auto failed = mfakit::detail::run_self_test();
    benchmark::DoNotOptimize(failed);
    if (failed != mfakit::self_test_check::none) {
      st.SkipWithError("correctness gate: a self-test check failed");
      return;
    }
  }
}

}  // namespace

void measure_first_self_test() {
  const auto ns = [](auto from, auto to) {
    return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
  };
  const auto t0 = std::chrono::steady_clock::now();
  EVP_CIPHER_free(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  std::array<unsigned char, 64> out{};
  bool init_ok = RAND_bytes(out.data(), 32) == 1;
  init_ok = EVP_PBE_scrypt("", 0, out.data(), 0, 16, 1, 1, 0, out.data(), out.size()) == 1 && init_ok;
  const auto t1 = std::chrono::steady_clock::now();
  const bool ok = mfakit::self_test().ok();
  const auto t2 = std::chrono::steady_clock::now();
  benchmark::AddCustomContext("openssl_init_ns", init_ok ? ns(t0, t1) : "failed");
  benchmark::AddCustomContext("self_test_first_call_ns", ns(t1, t2));
  benchmark::AddCustomContext("self_test_ok", ok ? "yes" : "no");
}

void register_self_test() {
  benchmark::RegisterBenchmark("self_test/run", self_test_run)->Unit(benchmark::kMicrosecond);
}

}  // namespace mfakit_bench
