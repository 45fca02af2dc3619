// The self-test (self_test.hpp): what its checks cost when run again in a
// warm process (self_test/run: detail::run_self_test(), not the cached
// self_test()), and what the first self_test() of a process costs
// (`mfakit_bench --cold-self-test MODE`: one sample in a fresh process, which
// tests/bench/self_test_cold.py runs many times, see tests/bench/README.md).
//
// Every mode first pays OpenSSL's own lazy initialisation, which the
// library's first seal, random draw and KDF run pay with or without a
// self-test ("openssl_init": fetching AES-256-GCM, one RAND_bytes, one
// scrypt run), then:
//  - first: the first self_test() of the process ("first"), then every check
//    again ("warm");
//  - split: each check on its own, in order, cold ("sha1" ... "random"),
//    then each again, warm ("warm:sha1" ...);
//  - added: first what the library's first operations do without any
//    self-test, with keys and inputs other than the self-test's ("first_use":
//    an HMAC through otp_key for each hash, one-counter and batch; a pool of
//    AES-256-GCM contexts keyed, a seal and an open; one scrypt run at N=16,
//    r=1, p=1; one random draw; a constant-time compare and a wipe), then the
//    first self_test() ("added": what the self-test adds to the first
//    operations of a process), then every check again ("warm").
// Each field prints as name=nanoseconds/minor-page-faults.
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

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

long minor_faults() {
  rusage u{};
  return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_minflt : 0;
}

/// Times f() (which returns success) and prints name=ns/faults; false when f failed.
template <class F>
bool timed(const char* name, F&& f) {
  const long f0 = minor_faults();
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = f();
  const auto t1 = std::chrono::steady_clock::now();
  const long f1 = minor_faults();
  std::printf("%s=%lld/%ld%s ", name,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()), f1 - f0,
              ok ? "" : "!FAIL");
  return ok;
}

bool openssl_init() {
  EVP_CIPHER_free(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  std::array<unsigned char, 64> out{};
  const bool ok = RAND_bytes(out.data(), 32) == 1;
  return EVP_PBE_scrypt("", 0, out.data(), 0, 16, 1, 1, 0, out.data(), out.size()) == 1 && ok;
}

/// What the library's first operations do without a self-test: its
/// primitives below the gate, on inputs other than the self-test's.
bool first_use_without_self_test() {
  using namespace mfakit;
  using namespace mfakit::detail;
  bool ok = true;
  std::array<unsigned char, 64> key{};
  key.fill(0x5a);
  for (algorithm a : all_algorithms) {
    otp_key k(otp_key_in_place);
    ok = ok && static_cast<bool>(otp_key_access::init(k, a, byte_view(key.data(), digest_size(a))));
    mac_bytes m{};
    ok = ok && k.mac(1, m);
    ok = ok && otp_key_access::with_engine(k, [&](const auto& e) {
           using engine = std::decay_t<decltype(e)>;
           typename engine::batch w;
           engine::prepare(w, engine::lanes);
           const bool good = e.mac_lanes(1, engine::lanes, w) &&
                             constant_time_equal(byte_view(w[0].mac.data(), 20), byte_view(m.data(), 20));
           cleanse(w.data(), sizeof w);
           return good;
         });
  }
  const auto pool = gcm_context_pool::make(7, std::span<const unsigned char, 32>(key.data(), 32));
  ok = ok && pool != nullptr;
  std::array<unsigned char, 40> plain{}, sealed{}, opened{};
  std::array<unsigned char, 16> tag{};
  const gcm_nonce nonce{};
  const seal_aad aad("bench-user", 7);
  ok = ok && pool->crypt(true, nonce, aad.bytes(), plain, sealed, tag) &&
       pool->crypt(false, nonce, aad.bytes(), sealed, opened, tag) && constant_time_equal(opened, plain);
  std::array<unsigned char, 32> derived{};
  ok = ok && static_cast<bool>(scrypt(byte_view(key.data(), 8), byte_view(key.data(), 16), {16, 1, 1}, derived));
  const openssl_random rng;
  ok = ok && rng.fill(derived);
  cleanse(derived.data(), derived.size());
  return ok;
}

template <class Fault>
void each_check(const char* prefix, const Fault& fault, bool& ok) {
  using namespace mfakit;
  using namespace mfakit::detail;
  const auto name = [&](const char* n) { return std::string(prefix) + n; };
  ok = timed(name("sha1").c_str(),
             [&] { return hmac_answers(algorithm::sha1, kat::hmac_sha1, self_test_check::hmac_sha1, fault); }) &&
       ok;
  ok = timed(name("sha256").c_str(),
             [&] { return hmac_answers(algorithm::sha256, kat::hmac_sha256, self_test_check::hmac_sha256, fault); }) &&
       ok;
  ok = timed(name("sha512").c_str(),
             [&] { return hmac_answers(algorithm::sha512, kat::hmac_sha512, self_test_check::hmac_sha512, fault); }) &&
       ok;
  ok = timed(name("gcm").c_str(), [&] { return gcm_answers(fault); }) && ok;
  ok = timed(name("scrypt").c_str(), [&] { return scrypt_answers(fault); }) && ok;
  ok = timed(name("random").c_str(), [&] { return random_answers(fault); }) && ok;
}

}  // namespace

int cold_self_test(std::string_view mode) {
  using mfakit::self_test_check;
  bool ok = timed("openssl_init", openssl_init);
  const auto again = [] { return mfakit::detail::run_self_test() == self_test_check::none; };
  if (mode == "first") {
    ok = timed("first", [] { return mfakit::self_test().ok(); }) && ok;
    ok = timed("warm", again) && ok;
  } else if (mode == "split") {
    const mfakit::detail::no_self_test_fault fault;
    each_check("", fault, ok);
    std::printf("| ");
    each_check("warm:", fault, ok);
  } else if (mode == "added") {
    ok = timed("first_use", first_use_without_self_test) && ok;
    ok = timed("added", [] { return mfakit::self_test().ok(); }) && ok;
    ok = timed("warm", again) && ok;
  } else {
    std::fprintf(stderr, "--cold-self-test: mode first, split or added\n");
    return 64;
  }
  std::printf("\n");
  return ok ? 0 : 1;
}

void register_self_test() {
  benchmark::RegisterBenchmark("self_test/run", self_test_run)->Unit(benchmark::kMicrosecond);
}

}  // namespace mfakit_bench
