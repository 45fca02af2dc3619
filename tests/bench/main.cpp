// mfakit_bench (and mfakit_bench_evp): registers every benchmark that was
// built, records what report.py needs in the JSON context (the HMAC engine,
// which peers are in, object sizes), and runs Google Benchmark.
#include <string>
#include <string_view>

#include <openssl/opensslv.h>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mfakit/otp.hpp"

int main(int argc, char** argv) {
  using namespace mfakit_bench;
#if MFAKIT_BENCH_FULL
  // a fresh process for tests/bench/self_test_cold.py: nothing else has used OpenSSL
  if (argc == 3 && std::string_view(argv[1]) == "--cold-self-test") return cold_self_test(argv[2]);
#endif
  benchmark::AddCustomContext("mfakit_hmac_engine", MFAKIT_LEAN_HMAC ? "lean" : "evp");
  benchmark::AddCustomContext("openssl", OPENSSL_FULL_VERSION_STR);
  benchmark::AddCustomContext("alloc_counting", alloc_counting_available() ? "on" : "off");
  benchmark::AddCustomContext("sizeof_otp_key", std::to_string(sizeof(mfakit::otp_key)));
#if MFAKIT_LEAN_HMAC
  using mfakit::detail::lean_counter_mac;
  benchmark::AddCustomContext("sizeof_lean_mac_SHA1",
                              std::to_string(sizeof(lean_counter_mac<mfakit::detail::sha1_compression>)));
  benchmark::AddCustomContext("sizeof_lean_mac_SHA256",
                              std::to_string(sizeof(lean_counter_mac<mfakit::detail::sha256_compression>)));
  benchmark::AddCustomContext("sizeof_lean_mac_SHA512",
                              std::to_string(sizeof(lean_counter_mac<mfakit::detail::sha512_compression>)));
#endif
  benchmark::AddCustomContext("sizeof_evp_counter_mac", std::to_string(sizeof(mfakit::detail::evp_counter_mac)));

  std::string peers;
  register_ours();
#if MFAKIT_BENCH_FULL
  register_evp();
  register_naive();
  register_compress();
  register_backup();
  register_flow();
  register_self_test();
#if MFAKIT_BENCH_HAVE_OATH
  register_oath();
  peers += "liboath ";
#endif
#if MFAKIT_BENCH_HAVE_COTP
  register_cotp();
  peers += "libcotp ";
#endif
#if MFAKIT_BENCH_HAVE_BOTAN
  register_botan();
  peers += "botan2 ";
#endif
#endif
  if (!peers.empty()) peers.pop_back();
  benchmark::AddCustomContext("peers", peers);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
