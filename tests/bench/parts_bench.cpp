// The pieces of a verify, timed alone (SHA-1), to say where the time beyond
// the block compressions goes: the std::visit per MAC, the per-candidate
// otp_code (digit string + wipe) against an integer compare, the wipes,
// normalize_code, the error result, the key's moves, and the MAC engine.
#include <array>
#include <cstdint>

#include <openssl/crypto.h>

#include "bench_common.hpp"
#include "mfakit/otp.hpp"
#include "proto_lean.hpp"

namespace mfakit_bench {
namespace {

using sha1_engine = mfakit::detail::lean_counter_mac<mfakit::detail::sha1_compression>;
using sha1_engine2 = mfakit_proto::lean_counter_mac2<mfakit_proto::sha1_compression>;

const otp_case& sha1() { return case_for(mfakit::algorithm::sha1); }

void mac_via_otp_key(benchmark::State& st) {
  auto key = mfakit::otp_key::make(mfakit::algorithm::sha1, sha1().key);
  mfakit::mac_bytes mac{};
  std::uint64_t c = sha1().step;
  for (auto _ : st) {
    benchmark::DoNotOptimize(key->mac(c, mac));
    benchmark::ClobberMemory();
  }
}

void mac_engine_direct(benchmark::State& st) {
  sha1_engine e;
  if (!e.init(sha1().key)) st.SkipWithError("init");
  mfakit::mac_bytes mac{};
  const auto c = mfakit::big_endian(sha1().step);
  for (auto _ : st) {
    benchmark::DoNotOptimize(e.mac(c, mac));
    benchmark::ClobberMemory();
  }
}

void mac_engine2_direct(benchmark::State& st) {
  sha1_engine2 e;
  if (!e.init(sha1().key)) st.SkipWithError("init");
  mfakit::mac_bytes mac{};
  const auto c = mfakit::big_endian(sha1().step);
  for (auto _ : st) {
    benchmark::DoNotOptimize(e.mac(c, mac));
    benchmark::ClobberMemory();
  }
}

void candidate_as_otp_code(benchmark::State& st) {
  const auto code = mfakit::normalize_code(sha1().wrong_code, 6);
  std::uint32_t v = 0x12345678U;
  for (auto _ : st) {
    benchmark::DoNotOptimize(v);
    const mfakit::otp_code candidate(v, 6);
    benchmark::DoNotOptimize(CRYPTO_memcmp(candidate.str().data(), code->str().data(), code->size()));
  }
}

void candidate_as_integer(benchmark::State& st) {
  const std::uint32_t code = 123456U;
  std::uint32_t v = 0x12345678U;
  std::uint32_t modulus = 1000000U;
  benchmark::DoNotOptimize(modulus);
  for (auto _ : st) {
    benchmark::DoNotOptimize(v);
    const std::uint32_t r = v % modulus;
    benchmark::DoNotOptimize(CRYPTO_memcmp(&r, &code, sizeof r));
  }
}

void normalize(benchmark::State& st) {
  for (auto _ : st) {
    auto r = mfakit::normalize_code(sha1().wrong_code, 6);
    benchmark::DoNotOptimize(r);
  }
}

void mismatch_result(benchmark::State& st) {
  for (auto _ : st) {
    mfakit::result<std::uint64_t> r = mfakit::errc::code_mismatch;
    benchmark::DoNotOptimize(r);
  }
}

template <std::size_t N>
void cleanse(benchmark::State& st) {
  std::array<unsigned char, N> b{};
  for (auto _ : st) {
    mfakit::cleanse(b.data(), b.size());
    benchmark::ClobberMemory();
  }
}

void key_make_with_moves(benchmark::State& st) {
  for (auto _ : st) {
    auto k = mfakit::otp_key::make(mfakit::algorithm::sha1, sha1().key);
    benchmark::DoNotOptimize(k);
  }
}

void key_in_place(benchmark::State& st) {
  for (auto _ : st) {
    mfakit_proto::otp_key2 k;
    auto r = k.init(mfakit::algorithm::sha1, sha1().key);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(k);
  }
}

}  // namespace

void register_parts() {
  benchmark::RegisterBenchmark("part/mac_otp_key_visit/SHA1", mac_via_otp_key);
  benchmark::RegisterBenchmark("part/mac_engine_direct/SHA1", mac_engine_direct);
  benchmark::RegisterBenchmark("part/mac_engine_proto/SHA1", mac_engine2_direct);
  benchmark::RegisterBenchmark("part/candidate_otp_code_memcmp/SHA1", candidate_as_otp_code);
  benchmark::RegisterBenchmark("part/candidate_integer_memcmp/SHA1", candidate_as_integer);
  benchmark::RegisterBenchmark("part/normalize_code/SHA1", normalize);
  benchmark::RegisterBenchmark("part/result_code_mismatch/SHA1", mismatch_result);
  benchmark::RegisterBenchmark("part/cleanse_8B/SHA1", cleanse<8>);
  benchmark::RegisterBenchmark("part/cleanse_96B/SHA1", cleanse<96>);
  benchmark::RegisterBenchmark("part/cleanse_192B/SHA1", cleanse<192>);
  benchmark::RegisterBenchmark("part/key_make_two_moves/SHA1", key_make_with_moves);
  benchmark::RegisterBenchmark("part/key_in_place/SHA1", key_in_place);
}

}  // namespace mfakit_bench
