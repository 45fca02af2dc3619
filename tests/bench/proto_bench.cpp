// Times the prototype patch of proto_lean.hpp step by step, next to "ours".
#include <array>
#include <optional>
#include <string>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "proto_lean.hpp"

namespace mfakit_bench {
namespace {

using mfakit_proto::step;
const mfakit::totp_verify_options window_1{{1, 1}, std::nullopt};
mfakit::totp_params params_of(const otp_case& c) { return {c.alg, 6, c.period, 0}; }

/// The prototype must answer exactly as the library does: every window up
/// to 4 steps each side, codes of 6 steps around, with and without replay
/// protection, through the raw key and a prepared one.
template <step S>
bool agrees_with_library(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  mfakit_proto::otp_key2 key;
  if (!key.init(c.alg, c.key)) {
    st.SkipWithError("init failed");
    return false;
  }
  const std::array<std::optional<std::uint64_t>, 4> afters{std::nullopt, c.step - 2, c.step, c.step + 1};
  for (std::uint32_t behind = 0; behind <= 4; ++behind) {
    for (std::uint32_t ahead = 0; ahead <= 4; ++ahead) {
      for (std::int64_t off = -6; off <= 6; ++off) {
        auto code = mfakit::totp(c.key, c.unix_time + off * c.period, p);
        for (const auto& after : afters) {
          const mfakit::totp_verify_options o{{behind, ahead}, after};
          const auto want = mfakit::verify_totp(c.key, code->str(), c.unix_time, p, o);
          const auto got = mfakit_proto::verify_totp<S>(mfakit::byte_view(c.key), code->str(), c.unix_time, p, o);
          const auto got_prepared = mfakit_proto::verify_totp<S>(key, code->str(), c.unix_time, p, o);
          const bool same = want.error() == got.error() && want.error() == got_prepared.error() &&
                            (!want || (*want == *got && *want == *got_prepared));
          if (!same) {
            st.SkipWithError("prototype disagrees with mfakit::verify_totp");
            return false;
          }
        }
      }
    }
  }
  return true;
}

template <step S>
void verify(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  if (!agrees_with_library<S>(st, c)) return;
  if (!check_verify(st, c, [&](const std::string& code) {
        return mfakit_proto::verify_totp<S>(mfakit::byte_view(c.key), code, c.unix_time, p, window_1).has_value();
      }))
    return;
  if (mfakit_proto::verify_totp<S>(mfakit::byte_view(c.key), c.wrong_code, c.unix_time, p, window_1).error() !=
      mfakit::errc::code_mismatch) {
    st.SkipWithError("the wrong code did not give code_mismatch");
    return;
  }
  for (auto _ : st) {
    auto r = mfakit_proto::verify_totp<S>(mfakit::byte_view(c.key), c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = mfakit_proto::verify_totp<S>(mfakit::byte_view(c.key), c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  });
}

template <step S>
void verify_prepared(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  if (!agrees_with_library<S>(st, c)) return;
  mfakit_proto::otp_key2 key;
  if (!key.init(c.alg, c.key)) {
    st.SkipWithError("init failed");
    return;
  }
  if (!check_verify(st, c, [&](const std::string& code) {
        return mfakit_proto::verify_totp<S>(key, code, c.unix_time, p, window_1).has_value();
      }))
    return;
  for (auto _ : st) {
    auto r = mfakit_proto::verify_totp<S>(key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
}

void hotp(benchmark::State& st, const otp_case& c) {
  const mfakit::hotp_params p{c.alg, 6};
  if (!check_hotp(st, c, [&] { return mfakit_proto::hotp(c.key, c.hotp_counter, p)->to_string(); })) return;
  for (auto _ : st) {
    auto r = mfakit_proto::hotp(c.key, c.hotp_counter, p);
    benchmark::DoNotOptimize(r);
  }
}

void key_in_place(benchmark::State& st, const otp_case& c) {
  for (auto _ : st) {
    mfakit_proto::otp_key2 k;
    auto r = k.init(c.alg, c.key);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(k);
  }
}

}  // namespace

void register_proto() {
  register_per_alg("totp_verify", "proto1_engine", verify<step::engine>);
  register_per_alg("totp_verify", "proto2_in_place_key", verify<step::in_place_key>);
  register_per_alg("totp_verify", "proto3_verify_loop", verify<step::verify_loop>);
  register_per_alg("totp_verify", "proto4_batched", verify<step::batched>);
  register_per_alg("totp_verify_prepared", "proto1_engine", verify_prepared<step::engine>);
  register_per_alg("totp_verify_prepared", "proto3_verify_loop", verify_prepared<step::verify_loop>);
  register_per_alg("totp_verify_prepared", "proto4_batched", verify_prepared<step::batched>);
  register_per_alg("hotp", "proto2_in_place_key", hotp);
  register_per_alg("key_schedule", "proto2_in_place_key", key_in_place);
}

}  // namespace mfakit_bench
