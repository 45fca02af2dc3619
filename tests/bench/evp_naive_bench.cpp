// Two other ways to compute the same thing with OpenSSL:
//  - "evp": mfakit's EVP engine (detail::evp_counter_mac: EVP_MAC with the key
//    schedule kept, re-initialised with a null key per counter), driven by a
//    copy of verify_totp / match_counters so it can live in the same
//    executable as the lean engine (mfakit_bench_evp measures the real
//    MFAKIT_USE_EVP_HMAC build as a cross-check);
//  - "hmac_oneshot": the naive baseline, OpenSSL's one-shot HMAC() per
//    candidate (key schedule every time), truncation, CRYPTO_memcmp.
// And the yardstick: one block compression of SHA-1, SHA-256, SHA-512.
#include <array>
#include <cstring>
#include <limits>
#include <string>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mfakit/otp.hpp"

namespace mfakit_bench {
namespace {

using mfakit::byte_view;
using mfakit::errc;
using mfakit::mac_bytes;
using mfakit::result;

// --- the EVP engine, mirroring otp.hpp ---------------------------------------------

result<std::uint64_t> evp_match(const mfakit::detail::evp_counter_mac& m, mfakit::algorithm alg,
                                const mfakit::otp_code& code, int digits, std::uint64_t first, std::uint64_t last,
                                std::optional<std::uint64_t> after) {
  std::uint64_t matched = 0;
  unsigned found = 0;
  unsigned replayed = 0;
  unsigned failed = 0;
  mac_bytes mac{};
  const std::size_t size = mfakit::digest_size(alg);
  for (std::uint64_t c = first;; ++c) {
    failed |= m.mac(mfakit::big_endian(c), mac) ? 0U : 1U;
    const mfakit::otp_code candidate = mfakit::otp_code(mfakit::detail::truncate(mac, size), digits);
    const unsigned eq = CRYPTO_memcmp(candidate.str().data(), code.str().data(), code.size()) == 0 ? 1U : 0U;
    const unsigned fresh = (!after || c > *after) ? 1U : 0U;
    const unsigned take = eq & fresh & (found ^ 1U);
    matched |= (static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(take)) & c;
    found |= take;
    replayed |= eq & (fresh ^ 1U);
    if (c == last) break;
  }
  mfakit::cleanse(mac.data(), mac.size());
  if (failed != 0U) return errc::crypto_failure;
  if (found != 0U) return matched;
  return replayed != 0U ? errc::code_replayed : errc::code_mismatch;
}

result<std::uint64_t> evp_verify_prepared(const mfakit::detail::evp_counter_mac& m, mfakit::algorithm alg,
                                          std::string_view code, std::int64_t unix_time, const mfakit::totp_params& p,
                                          const mfakit::totp_verify_options& o) {
  if (o.window.behind > mfakit::max_window || o.window.ahead > mfakit::max_window) return errc::invalid_argument;
  if (alg != p.alg) return errc::invalid_argument;
  auto step = mfakit::totp_step(unix_time, p);
  if (!step) return step.error();
  auto input = mfakit::normalize_code(code, p.digits);
  if (!input) return input.error();
  const std::uint64_t first = *step >= o.window.behind ? *step - o.window.behind : 0;
  const std::uint64_t last = *step <= std::numeric_limits<std::uint64_t>::max() - o.window.ahead
                                 ? *step + o.window.ahead
                                 : std::numeric_limits<std::uint64_t>::max();
  return evp_match(m, alg, *input, p.digits, first, last, o.after_step);
}

result<std::uint64_t> evp_verify(byte_view key, std::string_view code, std::int64_t unix_time,
                                 const mfakit::totp_params& p, const mfakit::totp_verify_options& o) {
  if (key.empty()) return errc::invalid_secret;
  mfakit::detail::evp_counter_mac m;
  if (auto r = m.init(p.alg, key); !r) return r.error();
  return evp_verify_prepared(m, p.alg, code, unix_time, p, o);
}

result<mfakit::otp_code> evp_hotp_prepared(const mfakit::detail::evp_counter_mac& m, mfakit::algorithm alg,
                                           std::uint64_t counter, int digits) {
  mac_bytes mac{};
  if (!m.mac(mfakit::big_endian(counter), mac)) return errc::crypto_failure;
  mfakit::otp_code c(mfakit::detail::truncate(mac, mfakit::digest_size(alg)), digits);
  mfakit::cleanse(mac.data(), mac.size());
  return c;
}

result<mfakit::otp_code> evp_hotp(byte_view key, std::uint64_t counter, const mfakit::hotp_params& p) {
  if (key.empty()) return errc::invalid_secret;
  mfakit::detail::evp_counter_mac m;
  if (auto r = m.init(p.alg, key); !r) return r.error();
  return evp_hotp_prepared(m, p.alg, counter, p.digits);
}

const mfakit::totp_verify_options window_1{{1, 1}, std::nullopt};
mfakit::totp_params params_of(const otp_case& c) { return {c.alg, 6, c.period, 0}; }

void evp_hotp_bench(benchmark::State& st, const otp_case& c) {
  const mfakit::hotp_params p{c.alg, 6};
  if (!check_hotp(st, c, [&] { return evp_hotp(c.key, c.hotp_counter, p)->to_string(); })) return;
  for (auto _ : st) {
    auto r = evp_hotp(c.key, c.hotp_counter, p);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = evp_hotp(c.key, c.hotp_counter, p);
    benchmark::DoNotOptimize(r);
  });
}

void evp_hotp_prepared_bench(benchmark::State& st, const otp_case& c) {
  mfakit::detail::evp_counter_mac m;
  if (!m.init(c.alg, c.key)) {
    st.SkipWithError("evp_counter_mac::init failed");
    return;
  }
  if (!check_hotp(st, c, [&] { return evp_hotp_prepared(m, c.alg, c.hotp_counter, 6)->to_string(); })) return;
  for (auto _ : st) {
    auto r = evp_hotp_prepared(m, c.alg, c.hotp_counter, 6);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = evp_hotp_prepared(m, c.alg, c.hotp_counter, 6);
    benchmark::DoNotOptimize(r);
  });
}

void evp_key_schedule_bench(benchmark::State& st, const otp_case& c) {
  for (auto _ : st) {
    mfakit::detail::evp_counter_mac m;
    auto r = m.init(c.alg, c.key);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(m);
  }
  count_allocs(st, [&] {
    mfakit::detail::evp_counter_mac m;
    auto r = m.init(c.alg, c.key);
    benchmark::DoNotOptimize(r);
  });
}

void evp_verify_bench(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  if (!check_verify(st, c, [&](const std::string& code) {
        return evp_verify(c.key, code, c.unix_time, p, window_1).has_value();
      }))
    return;
  for (auto _ : st) {
    auto r = evp_verify(c.key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = evp_verify(c.key, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  });
}

void evp_verify_prepared_bench(benchmark::State& st, const otp_case& c) {
  const auto p = params_of(c);
  mfakit::detail::evp_counter_mac m;
  if (!m.init(c.alg, c.key)) {
    st.SkipWithError("evp_counter_mac::init failed");
    return;
  }
  if (!check_verify(st, c, [&](const std::string& code) {
        return evp_verify_prepared(m, c.alg, code, c.unix_time, p, window_1).has_value();
      }))
    return;
  for (auto _ : st) {
    auto r = evp_verify_prepared(m, c.alg, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  }
  count_allocs(st, [&] {
    auto r = evp_verify_prepared(m, c.alg, c.wrong_code, c.unix_time, p, window_1);
    benchmark::DoNotOptimize(r);
  });
}

// --- the naive baseline: one-shot HMAC() per candidate ----------------------------

std::array<char, 6> six_digits(std::uint32_t v) {
  std::array<char, 6> s{};
  v %= 1000000U;
  for (std::size_t i = s.size(); i-- > 0;) {
    s[i] = static_cast<char>('0' + v % 10U);
    v /= 10U;
  }
  return s;
}

bool oneshot_code(const otp_case& c, std::uint64_t counter, std::array<char, 6>& out) {
  const mfakit::counter_bytes msg = mfakit::big_endian(counter);
  mac_bytes md{};
  unsigned int len = 0;
  if (HMAC(mfakit::detail::evp_digest(c.alg), c.key.data(), static_cast<int>(c.key.size()), msg.data(), msg.size(),
           md.data(), &len) == nullptr ||
      len != mfakit::digest_size(c.alg))
    return false;
  out = six_digits(mfakit::detail::truncate(md, len));
  OPENSSL_cleanse(md.data(), md.size());
  return true;
}

bool oneshot_verify(const otp_case& c, const std::string& code) {
  if (code.size() != 6) return false;
  unsigned found = 0;
  bool ok = true;
  for (std::uint64_t s = c.step - 1; s <= c.step + 1; ++s) {
    std::array<char, 6> cand{};
    ok &= oneshot_code(c, s, cand);
    found |= CRYPTO_memcmp(cand.data(), code.data(), cand.size()) == 0 ? 1U : 0U;
  }
  return ok && found != 0U;
}

void oneshot_hotp_bench(benchmark::State& st, const otp_case& c) {
  if (!check_hotp(st, c, [&] {
        std::array<char, 6> s{};
        return oneshot_code(c, c.hotp_counter, s) ? std::string(s.data(), s.size()) : std::string();
      }))
    return;
  for (auto _ : st) {
    std::array<char, 6> s{};
    benchmark::DoNotOptimize(oneshot_code(c, c.hotp_counter, s));
    benchmark::DoNotOptimize(s);
  }
  count_allocs(st, [&] {
    std::array<char, 6> s{};
    benchmark::DoNotOptimize(oneshot_code(c, c.hotp_counter, s));
  });
}

void oneshot_verify_bench(benchmark::State& st, const otp_case& c) {
  if (!check_verify(st, c, [&](const std::string& code) { return oneshot_verify(c, code); })) return;
  for (auto _ : st) benchmark::DoNotOptimize(oneshot_verify(c, c.wrong_code));
  count_allocs(st, [&] { benchmark::DoNotOptimize(oneshot_verify(c, c.wrong_code)); });
}

// --- one block compression ------------------------------------------------------------

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
template <class Ctx, std::size_t Block>
void compress_bench(benchmark::State& st, int (*init)(Ctx*), void (*transform)(Ctx*, const unsigned char*)) {
  Ctx ctx{};
  init(&ctx);
  std::array<unsigned char, Block> block{};
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<unsigned char>(i);
  for (auto _ : st) {
    transform(&ctx, block.data());
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(ctx);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(Block));
}

void sha1_block(benchmark::State& st) { compress_bench<SHA_CTX, 64>(st, SHA1_Init, SHA1_Transform); }
void sha256_block(benchmark::State& st) { compress_bench<SHA256_CTX, 64>(st, SHA256_Init, SHA256_Transform); }
void sha512_block(benchmark::State& st) { compress_bench<SHA512_CTX, 128>(st, SHA512_Init, SHA512_Transform); }
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

}  // namespace

void register_evp() {
  register_per_alg("hotp", "evp", evp_hotp_bench);
  register_per_alg("hotp_prepared", "evp", evp_hotp_prepared_bench);
  register_per_alg("key_schedule", "evp", evp_key_schedule_bench);
  register_per_alg("totp_verify", "evp", evp_verify_bench);
  register_per_alg("totp_verify_prepared", "evp", evp_verify_prepared_bench);
}

void register_naive() {
  register_per_alg("hotp", "hmac_oneshot", oneshot_hotp_bench);
  register_per_alg("totp_verify", "hmac_oneshot", oneshot_verify_bench);
}

void register_compress() {
  benchmark::RegisterBenchmark("compress/openssl/SHA1", sha1_block);
  benchmark::RegisterBenchmark("compress/openssl/SHA256", sha256_block);
  benchmark::RegisterBenchmark("compress/openssl/SHA512", sha512_block);
}

}  // namespace mfakit_bench
