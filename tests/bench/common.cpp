#include "bench_common.hpp"

#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string_view>

#include "alloc_counter.hpp"
#include "mfakit/base32.hpp"
#include "mfakit/otp.hpp"

namespace mfakit_bench {
namespace {

otp_case make_case(mfakit::algorithm a) {
  otp_case c;
  c.alg = a;
  c.alg_name = std::string(mfakit::to_string(a));
  std::string_view seed;
  switch (a) {
    case mfakit::algorithm::sha1:
      c.botan_name = "SHA-1";
      seed = "12345678901234567890";
      break;
    case mfakit::algorithm::sha256:
      c.botan_name = "SHA-256";
      seed = "12345678901234567890123456789012";
      break;
    case mfakit::algorithm::sha512:
      c.botan_name = "SHA-512";
      seed = "1234567890123456789012345678901234567890123456789012345678901234";
      break;
  }
  c.key.assign(seed.begin(), seed.end());
  c.key_base32 = mfakit::base32_encode(mfakit::byte_view(c.key.data(), c.key.size()));
  // base32_encode pads with '='; the peers that take base32 want it bare
  while (!c.key_base32.empty() && c.key_base32.back() == '=') c.key_base32.pop_back();
  c.unix_time = 1234567890;  // RFC 6238 test time; 0 s into step 41152263
  c.step = static_cast<std::uint64_t>(c.unix_time / c.period);
  const mfakit::totp_params p{a, 6, c.period, 0};
  for (std::size_t i = 0; i < 3; ++i) {
    auto code = mfakit::totp(c.key, c.unix_time + (static_cast<std::int64_t>(i) - 1) * c.period, p);
    if (!code) throw std::runtime_error("mfakit::totp failed");
    c.window_codes[i] = code->to_string();
  }
  unsigned v = (static_cast<unsigned>(std::stoul(c.window_codes[1])) + 500000U) % 1000000U;
  for (;; v = (v + 1) % 1000000U) {
    std::string s = std::to_string(v);
    s.insert(0, 6 - s.size(), '0');
    if (s != c.window_codes[0] && s != c.window_codes[1] && s != c.window_codes[2]) {
      c.wrong_code = s;
      break;
    }
  }
  c.hotp_counter = c.step;
  auto h = mfakit::hotp(c.key, c.hotp_counter, mfakit::hotp_params{a, 6});
  if (!h) throw std::runtime_error("mfakit::hotp failed");
  c.hotp_code = h->to_string();
  return c;
}

}  // namespace

const otp_case& case_for(mfakit::algorithm a) {
  static const std::map<mfakit::algorithm, otp_case> cases = [] {
    std::map<mfakit::algorithm, otp_case> m;
    for (auto alg : all_algorithms) m.emplace(alg, make_case(alg));
    return m;
  }();
  return cases.at(a);
}

void register_per_alg(const std::string& op, const std::string& impl,
                      const std::function<void(benchmark::State&, const otp_case&)>& fn) {
  for (auto a : all_algorithms) {
    const std::string name = op + "/" + impl + "/" + std::string(mfakit::to_string(a));
    benchmark::RegisterBenchmark(name.c_str(), [fn, a](benchmark::State& st) { fn(st, case_for(a)); });
  }
}

bool check_verify(benchmark::State& st, const otp_case& c, const std::function<bool(const std::string&)>& accepts) {
  for (const auto& code : c.window_codes) {
    if (!accepts(code)) {
      st.SkipWithError("correctness gate: a code of the +-1 window was refused");
      return false;
    }
  }
  if (accepts(c.wrong_code)) {
    st.SkipWithError("correctness gate: the wrong code was accepted");
    return false;
  }
  return true;
}

bool check_hotp(benchmark::State& st, const otp_case& c, const std::function<std::string()>& generate) {
  if (generate() != c.hotp_code) {
    st.SkipWithError("correctness gate: HOTP code differs from mfakit's");
    return false;
  }
  return true;
}

void count_allocs(benchmark::State& st, const std::function<void()>& op) {
  if (!alloc_counting_available()) return;
  alloc_scope scope;
  op();
  const alloc_stats s = scope.stop();
  st.counters["allocs"] = static_cast<double>(s.count);
  st.counters["heap_peak_B"] = static_cast<double>(s.peak_bytes);
}

}  // namespace mfakit_bench
