// Botan 2: Botan::HOTP / Botan::TOTP. Constructing the object creates the HMAC
// object (a lookup by name and a heap allocation) and keys it; the "prepared"
// rows reuse one object. Botan's HMAC keeps the padded key bytes, not the pad
// states, so every MAC still compresses the ipad and opad blocks: 4
// compressions per candidate even when prepared. Its verify_totp(otp, t, d)
// checks steps t-d .. t only (no look-ahead), so the +-1 window is
// verify_totp(otp, t + period, 2), i.e. steps t+1, t, t-1 (checked below).
#include <cstdlib>
#include <string>

#include <botan/otp.h>

#include "alloc_counter.hpp"
#include "bench_common.hpp"

namespace mfakit_bench {
namespace {

std::uint32_t as_number(const std::string& code) { return static_cast<std::uint32_t>(std::stoul(code)); }

std::string six(std::uint32_t v) {
  std::string s = std::to_string(v);
  s.insert(0, s.size() < 6 ? 6 - s.size() : 0, '0');
  return s;
}

bool verify_with(Botan::TOTP& t, const otp_case& c, std::uint32_t code) {
  return t.verify_totp(code, static_cast<std::uint64_t>(c.unix_time + c.period), 2);
}

void hotp(benchmark::State& st, const otp_case& c) {
  if (!check_hotp(st, c, [&] {
        Botan::HOTP h(c.key.data(), c.key.size(), c.botan_name, 6);
        return six(h.generate_hotp(c.hotp_counter));
      }))
    return;
  for (auto _ : st) {
    Botan::HOTP h(c.key.data(), c.key.size(), c.botan_name, 6);
    benchmark::DoNotOptimize(h.generate_hotp(c.hotp_counter));
  }
  count_allocs(st, [&] {
    Botan::HOTP h(c.key.data(), c.key.size(), c.botan_name, 6);
    benchmark::DoNotOptimize(h.generate_hotp(c.hotp_counter));
  });
}

void hotp_prepared(benchmark::State& st, const otp_case& c) {
  Botan::HOTP h(c.key.data(), c.key.size(), c.botan_name, 6);
  if (!check_hotp(st, c, [&] { return six(h.generate_hotp(c.hotp_counter)); })) return;
  for (auto _ : st) benchmark::DoNotOptimize(h.generate_hotp(c.hotp_counter));
  count_allocs(st, [&] { benchmark::DoNotOptimize(h.generate_hotp(c.hotp_counter)); });
}

void totp_verify(benchmark::State& st, const otp_case& c) {
  const auto period = static_cast<std::size_t>(c.period);
  if (!check_verify(st, c, [&](const std::string& code) {
        Botan::TOTP t(c.key.data(), c.key.size(), c.botan_name, 6, period);
        return verify_with(t, c, as_number(code));
      }))
    return;
  const std::uint32_t wrong = as_number(c.wrong_code);
  for (auto _ : st) {
    Botan::TOTP t(c.key.data(), c.key.size(), c.botan_name, 6, period);
    benchmark::DoNotOptimize(verify_with(t, c, wrong));
  }
  count_allocs(st, [&] {
    Botan::TOTP t(c.key.data(), c.key.size(), c.botan_name, 6, period);
    benchmark::DoNotOptimize(verify_with(t, c, wrong));
  });
}

void totp_verify_prepared(benchmark::State& st, const otp_case& c) {
  Botan::TOTP t(c.key.data(), c.key.size(), c.botan_name, 6, static_cast<std::size_t>(c.period));
  if (!check_verify(st, c, [&](const std::string& code) { return verify_with(t, c, as_number(code)); })) return;
  const std::uint32_t wrong = as_number(c.wrong_code);
  for (auto _ : st) benchmark::DoNotOptimize(verify_with(t, c, wrong));
  count_allocs(st, [&] { benchmark::DoNotOptimize(verify_with(t, c, wrong)); });
}

}  // namespace

void register_botan() {
  register_per_alg("hotp", "botan2", hotp);
  register_per_alg("hotp_prepared", "botan2", hotp_prepared);
  register_per_alg("totp_verify", "botan2", totp_verify);
  register_per_alg("totp_verify_prepared", "botan2", totp_verify_prepared);
}

}  // namespace mfakit_bench
