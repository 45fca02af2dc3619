// Backup codes at the default cost (backup_code_hasher::default_cost): one set
// of ten digested (what enabling 2FA or regenerating codes costs) and one
// guess checked against ten digests (what a login with a backup code costs).
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mfakit/backup_codes.hpp"

namespace mfakit_bench {
namespace {

// A pepper, as every real set has (the default derives one from the sealing
// key; a host key costs the same: one HMAC per code before the KDF).
const std::vector<unsigned char> bench_pepper(32, 0x5A);

struct backup_fixture {
  std::vector<mfakit::backup_code> codes;
  mfakit::backup_code_digests digests;
  std::string wrong_guess;
};

bool make_fixture(benchmark::State& st, const mfakit::backup_code_hasher& h, backup_fixture& f) {
  auto codes = mfakit::generate_backup_codes(mfakit::default_backup_code_count);
  if (!codes) {
    st.SkipWithError("generate_backup_codes failed");
    return false;
  }
  f.codes = std::move(*codes);
  auto d = h.digest(f.codes);
  if (!d || d->remaining() != f.codes.size()) {
    st.SkipWithError("digest failed");
    return false;
  }
  f.digests = std::move(*d);
  // a well-formed guess that is none of the codes
  for (char ch : mfakit::backup_code_alphabet) {
    std::string g(9, ch);
    g[4] = '-';
    bool taken = false;
    for (const auto& c : f.codes) taken |= c.str() == g;
    if (!taken) {
      f.wrong_guess = g;
      break;
    }
  }
  auto hit = h.match(f.digests, f.codes[3].str());
  auto miss = h.match(f.digests, f.wrong_guess);
  if (!hit || *hit != 3 || miss.error() != mfakit::errc::code_mismatch) {
    st.SkipWithError("correctness gate: match() did not find code 3 / refuse a wrong guess");
    return false;
  }
  return true;
}

void digest_set(benchmark::State& st) {
  const mfakit::backup_code_hasher h(mfakit::backup_code_hasher::default_cost, bench_pepper);
  backup_fixture f;
  if (!make_fixture(st, h, f)) return;
  for (auto _ : st) {
    auto d = h.digest(f.codes);
    benchmark::DoNotOptimize(d);
  }
  st.counters["scrypt_N"] = static_cast<double>(h.cost().n);
  st.counters["scrypt_r"] = static_cast<double>(h.cost().r);
  st.counters["codes"] = static_cast<double>(f.codes.size());
}

void match_guess(benchmark::State& st) {
  const mfakit::backup_code_hasher h(mfakit::backup_code_hasher::default_cost, bench_pepper);
  backup_fixture f;
  if (!make_fixture(st, h, f)) return;
  for (auto _ : st) {
    auto r = h.match(f.digests, f.wrong_guess);
    benchmark::DoNotOptimize(r);
  }
  st.counters["scrypt_N"] = static_cast<double>(h.cost().n);
  st.counters["scrypt_r"] = static_cast<double>(h.cost().r);
  st.counters["digests"] = static_cast<double>(f.digests.remaining());
  count_allocs(st, [&] {
    auto r = h.match(f.digests, f.wrong_guess);
    benchmark::DoNotOptimize(r);
  });
}

}  // namespace

void register_backup() {
  benchmark::RegisterBenchmark("backup/digest_set10/default_cost", digest_set)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("backup/match_guess/default_cost", match_guess)->Unit(benchmark::kMillisecond);
}

}  // namespace mfakit_bench
