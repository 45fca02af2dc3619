// Passkey assertion verification against a bare OpenSSL verify of the same
// signature with a prepared key, per algorithm (ES256, EdDSA, RS256).
//   verify_assertion:  webauthn::verify_assertion on the response's bytes
//                      (clientDataJSON parsed and checked, authenticator data
//                      parsed, rpIdHash, flags, counter, SHA-256 of the client
//                      data, the signature) with the stored key parsed once;
//   bare_verify:       EVP_DigestVerify over authenticatorData || hash with
//                      the hash computed beforehand and the key prepared;
//   stored_key:        verify_assertion plus cose_key::parse of the stored
//                      COSE bytes (a host that keeps no parsed keys);
//   response_json:     parse_authentication_response (the JSON body, base64url)
//                      then verify_assertion.
// At the end: each row's CPU time over bare_verify's (target: verify_assertion
// at most 1.2x; CPU time, as the machine may be shared, and the fastest of
// the repetitions). Run:
//   build/rel/tests/bench/mfakit_bench_webauthn --benchmark_repetitions=7
//     --benchmark_enable_random_interleaving=true --benchmark_min_time=0.5
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "webauthn/soft_authenticator.hpp"

namespace {

namespace wa = mfakit::webauthn;
using wa_test::bytes;

struct fixture {
  wa_test::authenticator a;
  wa::cose_key key;
  bytes challenge = wa_test::fixed_challenge(9);
  bytes handle = bytes(32, 7);
  wa_test::assertion as;
  bytes cdh;
  std::string json;

  explicit fixture(wa::cose_alg alg) : a(alg), key(*wa::cose_key::parse(a.cose())) {
    a.counter = 10;
    as = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(challenge));
    cdh = wa_test::sha256_of(as.client_data_json);
    const std::string id = wa::base64url_encode(a.credential_id);
    json = "{\"id\":\"" + id + "\",\"rawId\":\"" + id + "\",\"type\":\"public-key\",\"response\":{\"clientDataJSON\":\"" +
           wa::base64url_encode(as.client_data_json) + "\",\"authenticatorData\":\"" +
           wa::base64url_encode(as.authenticator_data) + "\",\"signature\":\"" + wa::base64url_encode(as.signature) +
           "\",\"userHandle\":\"" + wa::base64url_encode(handle) + "\"},\"authenticatorAttachment\":\"platform\"," +
           "\"clientExtensionResults\":{}}";
  }
  wa::stored_credential record(const wa::cose_key* k) const {
    wa::stored_credential r;
    r.id = a.credential_id;
    r.public_key = k;
    r.sign_count = 9;
    r.user_verified = true;
    r.user_handle = handle;
    return r;
  }
  wa::assertion_input input() const {
    return {a.credential_id, as.client_data_json, as.authenticator_data, as.signature, handle, challenge, {}};
  }
};

fixture& get(wa::cose_alg alg) {
  static std::map<wa::cose_alg, fixture> all = [] {
    std::map<wa::cose_alg, fixture> m;
    for (auto a : {wa::cose_alg::es256, wa::cose_alg::eddsa, wa::cose_alg::rs256}) m.emplace(a, fixture(a));
    return m;
  }();
  return all.at(alg);
}

const wa::relying_party& rp() {
  static const wa::relying_party r = wa_test::test_rp();
  return r;
}

void bare_verify(benchmark::State& state, wa::cose_alg alg) {
  fixture& f = get(alg);
  EVP_PKEY* k = f.a.key.get();
  const EVP_MD* md = alg == wa::cose_alg::eddsa ? nullptr : EVP_sha256();
  const bytes whole = wa_test::concat(f.as.authenticator_data, f.cdh);
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, k) == 1;
    if (md == nullptr) {
      ok = ok && EVP_DigestVerify(ctx, f.as.signature.data(), f.as.signature.size(), whole.data(), whole.size()) == 1;
    } else {
      ok = ok && EVP_DigestVerifyUpdate(ctx, f.as.authenticator_data.data(), f.as.authenticator_data.size()) == 1 &&
           EVP_DigestVerifyUpdate(ctx, f.cdh.data(), f.cdh.size()) == 1 &&
           EVP_DigestVerifyFinal(ctx, f.as.signature.data(), f.as.signature.size()) == 1;
    }
    EVP_MD_CTX_free(ctx);
    if (!ok) state.SkipWithError("bare verify failed");
    benchmark::DoNotOptimize(ok);
  }
}

void verify_assertion(benchmark::State& state, wa::cose_alg alg) {
  fixture& f = get(alg);
  const auto rec = f.record(&f.key);
  const auto in = f.input();
  for (auto _ : state) {
    auto r = wa::verify_assertion(rp(), rec, in);
    if (!r) state.SkipWithError("verify_assertion failed");
    benchmark::DoNotOptimize(r);
  }
}

void stored_key(benchmark::State& state, wa::cose_alg alg) {
  fixture& f = get(alg);
  const bytes cose(f.key.encoded().begin(), f.key.encoded().end());
  const auto in = f.input();
  for (auto _ : state) {
    auto k = wa::cose_key::parse(cose);
    if (!k) state.SkipWithError("cose_key::parse failed");
    auto r = wa::verify_assertion(rp(), f.record(&*k), in);
    if (!r) state.SkipWithError("verify_assertion failed");
    benchmark::DoNotOptimize(r);
  }
}

void response_json(benchmark::State& state, wa::cose_alg alg) {
  fixture& f = get(alg);
  const auto rec = f.record(&f.key);
  for (auto _ : state) {
    auto resp = wa::parse_authentication_response(f.json);
    if (!resp) state.SkipWithError("parse failed");
    auto r = wa::verify_assertion(rp(), rec,
                                  {resp->raw_id, resp->client_data_json, resp->authenticator_data, resp->signature,
                                   resp->user_handle, f.challenge, {}});
    if (!r) state.SkipWithError("verify_assertion failed");
    benchmark::DoNotOptimize(r);
  }
}

/// Prints the table, then each row's time over its algorithm's bare_verify.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        // with repetitions, the fastest: the one least disturbed by other work on the machine
        const auto [it, fresh] = times_.emplace(r.benchmark_name(), r.GetAdjustedCPUTime());
        if (!fresh && r.GetAdjustedCPUTime() < it->second) it->second = r.GetAdjustedCPUTime();
      }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nratio of CPU time to bare_verify (same run; target for verify_assertion: <= 1.20)\n");
    for (const char* alg : {"ES256", "EdDSA", "RS256"}) {
      const auto base = times_.find(std::string("bare_verify/") + alg);
      if (base == times_.end() || base->second <= 0) continue;
      for (const char* row : {"verify_assertion", "stored_key", "response_json"}) {
        const auto t = times_.find(std::string(row) + "/" + alg);
        if (t != times_.end())
          std::printf("  %-6s %-17s %8.2f us  %5.2fx\n", alg, row, t->second / 1000.0, t->second / base->second);
      }
      std::printf("  %-6s %-17s %8.2f us\n", alg, "bare_verify", base->second / 1000.0);
    }
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::pair<const char*, wa::cose_alg> algs[] = {
      {"ES256", wa::cose_alg::es256}, {"EdDSA", wa::cose_alg::eddsa}, {"RS256", wa::cose_alg::rs256}};
  for (const auto& [name, alg] : algs) {
    benchmark::RegisterBenchmark((std::string("bare_verify/") + name).c_str(), bare_verify, alg);
    benchmark::RegisterBenchmark((std::string("verify_assertion/") + name).c_str(), verify_assertion, alg);
    benchmark::RegisterBenchmark((std::string("stored_key/") + name).c_str(), stored_key, alg);
    benchmark::RegisterBenchmark((std::string("response_json/") + name).c_str(), response_json, alg);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
