// HOTP (RFC 4226) and TOTP (RFC 6238): vectors, parameters, the drift
// window, replay protection and code parsing (otp.hpp).
#include <mfakit/otp.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::algorithm;
using mfakit::drift_window;
using mfakit::errc;
using mfakit::hotp_params;
using mfakit::totp_params;
using mfakit::totp_verify_options;
using mfakit_test::ascii;

constexpr std::uint64_t u64max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t i64max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64min = std::numeric_limits<std::int64_t>::min();

algorithm to_alg(mfakit_test::vec_alg a) {
  switch (a) {
    case mfakit_test::vec_alg::sha1: return algorithm::sha1;
    case mfakit_test::vec_alg::sha256: return algorithm::sha256;
    case mfakit_test::vec_alg::sha512: return algorithm::sha512;
  }
  return algorithm::sha1;
}

/// value mod 10^digits, zero-padded: an independent formatting of a truncated value.
std::string padded(std::uint32_t value, int digits) {
  std::uint32_t mod = 1;
  for (int i = 0; i < digits; ++i) mod *= 10;
  std::string s = std::to_string(value % mod);
  return std::string(static_cast<std::size_t>(digits) - s.size(), '0') + s;
}

std::string hotp_str(std::string_view key, std::uint64_t counter, hotp_params p = {}) {
  auto c = mfakit::hotp(ascii(key), counter, p);
  return c ? c->to_string() : std::string("error: ") + c.error().message();
}

std::string totp_str(std::string_view key, std::int64_t t, totp_params p = {}) {
  auto c = mfakit::totp(ascii(key), t, p);
  return c ? c->to_string() : std::string("error: ") + c.error().message();
}

const std::string_view key20 = mfakit_test::rfc6238_seed_sha1;

}  // namespace

// --- types ---------------------------------------------------------------------------

TEST_CASE("times, steps and counters are 64-bit", "[otp]") {
  STATIC_REQUIRE(std::is_same_v<decltype(totp_params::t0), std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(totp_params::period), std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(totp_verify_options::after_step), std::optional<std::uint64_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(mfakit::totp_step(0)), mfakit::result<std::uint64_t>>);
  using totp_fn = mfakit::result<mfakit::otp_code> (*)(mfakit::byte_view, std::int64_t, const totp_params&);
  using hotp_fn = mfakit::result<mfakit::otp_code> (*)(mfakit::byte_view, std::uint64_t, const hotp_params&);
  using verify_hotp_fn = mfakit::result<std::uint64_t> (*)(mfakit::byte_view, std::string_view, std::uint64_t,
                                                           const hotp_params&, std::uint32_t);
  [[maybe_unused]] const totp_fn f1 = &mfakit::totp;
  [[maybe_unused]] const hotp_fn f2 = &mfakit::hotp;
  [[maybe_unused]] const verify_hotp_fn f3 = &mfakit::verify_hotp;
  STATIC_REQUIRE(mfakit::min_digits == 6);
  STATIC_REQUIRE(mfakit::max_digits == 8);
  STATIC_REQUIRE(totp_params{}.period == 30);
  STATIC_REQUIRE(totp_params{}.t0 == 0);
  STATIC_REQUIRE(totp_params{}.digits == 6);
  STATIC_REQUIRE(totp_params{}.alg == algorithm::sha1);
  STATIC_REQUIRE(drift_window{}.behind == 1);
  STATIC_REQUIRE(drift_window{}.ahead == 1);
}

// --- vectors ---------------------------------------------------------------------------

TEST_CASE("RFC 4226 Appendix D: 6-digit HOTP codes for counters 0-9", "[otp][rfc]") {
  for (const auto& v : mfakit_test::rfc4226_vectors) {
    INFO("counter " << v.counter);
    CHECK(hotp_str(mfakit_test::rfc4226_key, v.counter) == v.code);
    // the code is the RFC's truncated value mod 10^6
    CHECK(padded(v.truncated, 6) == v.code);
  }
}

TEST_CASE("RFC 4226 truncated values give the 7- and 8-digit codes", "[otp][rfc]") {
  const int digits = GENERATE(6, 7, 8);
  for (const auto& v : mfakit_test::rfc4226_vectors) {
    INFO("counter " << v.counter << ", digits " << digits);
    const std::string got = hotp_str(mfakit_test::rfc4226_key, v.counter, hotp_params{algorithm::sha1, digits});
    CHECK(got == padded(v.truncated, digits));
    CHECK(got.size() == static_cast<std::size_t>(digits));
  }
}

TEST_CASE("RFC 6238 Appendix B: all 18 vectors (SHA-1/256/512, 20/32/64-byte seeds, 8 digits)", "[otp][rfc]") {
  for (const auto& v : mfakit_test::rfc6238_vectors) {
    const algorithm a = to_alg(v.alg);
    INFO("time " << v.time << ", " << mfakit::to_string(a));
    const totp_params p{a, 8, 30, 0};
    CHECK(totp_str(mfakit_test::rfc6238_seed(v.alg), v.time, p) == v.code);
    // and the verifier accepts it in strict mode at that time, naming the step
    auto step = mfakit::verify_totp(ascii(mfakit_test::rfc6238_seed(v.alg)), v.code, v.time, p,
                                    totp_verify_options{drift_window{0, 0}, std::nullopt});
    REQUIRE(step);
    CHECK(*step == static_cast<std::uint64_t>(v.time / 30));
  }
}

TEST_CASE("t = 20000000000 is a step beyond 32 bits of time", "[otp][rfc]") {
  auto step = mfakit::totp_step(20000000000);
  REQUIRE(step);
  CHECK(*step == 666666666ULL);
  CHECK(totp_str(key20, 20000000000, totp_params{algorithm::sha1, 8}) == "65353130");
}

TEST_CASE("the classic mistake: SHA-256 with the 20-byte seed is a different code", "[otp][rfc]") {
  const totp_params p{algorithm::sha256, 8, 30, 0};
  const std::string wrong_seed = totp_str(mfakit_test::rfc6238_seed_sha1, 59, p);
  const std::string right_seed = totp_str(mfakit_test::rfc6238_seed_sha256, 59, p);
  CHECK(wrong_seed == "32247374");
  CHECK(right_seed == "46119246");
  CHECK(wrong_seed != right_seed);
}

TEST_CASE("SHA-256/512 truncate at the last byte, not byte 19", "[otp]") {
  // Check detail::truncate on a synthetic MAC: the offset nibble sits in byte
  // size-1 and bytes before it must not matter.
  mfakit::mac_bytes mac{};
  for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<unsigned char>(i);
  mac[19] = 0x0F;  // what a byte-19 implementation would read for SHA-256/512
  mac[31] = 0x02;  // SHA-256: offset 2 -> bytes 2..5
  mac[63] = 0x05;  // SHA-512: offset 5 -> bytes 5..8
  CHECK(mfakit::detail::truncate(mac, 32) == 0x02030405U);
  CHECK(mfakit::detail::truncate(mac, 64) == 0x05060708U);
  mac[0] = 0xFF;  // the top bit is masked off
  mac[19] = 0x00;
  CHECK(mfakit::detail::truncate(mac, 20) == 0x7F010203U);
  mac[19] = 0x0F;  // the highest offset reads bytes 15..18
  CHECK(mfakit::detail::truncate(mac, 20) == 0x0F101112U);
}

// --- digits, period, t0 ----------------------------------------------------------------------

TEST_CASE("digits outside 6..8 are rejected everywhere", "[otp][params]") {
  const int digits = GENERATE(-1, 0, 4, 5, 9, 10, 100);
  INFO("digits " << digits);
  const auto key = ascii(key20);
  auto h = mfakit::hotp(key, 0, hotp_params{algorithm::sha1, digits});
  REQUIRE_FALSE(h);
  CHECK(h.error() == errc::invalid_argument);
  auto t = mfakit::totp(key, 59, totp_params{algorithm::sha1, digits});
  REQUIRE_FALSE(t);
  CHECK(t.error() == errc::invalid_argument);
  auto vt = mfakit::verify_totp(key, "123456", 59, totp_params{algorithm::sha1, digits});
  REQUIRE_FALSE(vt);
  CHECK(vt.error() == errc::invalid_argument);
  auto vh = mfakit::verify_hotp(key, "123456", 0, hotp_params{algorithm::sha1, digits});
  REQUIRE_FALSE(vh);
  CHECK(vh.error() == errc::invalid_argument);
  auto n = mfakit::normalize_code("12345", digits);
  REQUIRE_FALSE(n);
  CHECK(n.error() == errc::invalid_argument);
  auto k = mfakit::otp_key::make(algorithm::sha1, key);
  REQUIRE(k);
  auto hk = mfakit::hotp(*k, 0, digits);
  REQUIRE_FALSE(hk);
  CHECK(hk.error() == errc::invalid_argument);
  // an otp_code built with bad digits is empty (and so matches nothing)
  CHECK(mfakit::otp_code(123456, digits).str().empty());
}

TEST_CASE("otp_code formats value mod 10^digits with leading zeros", "[otp]") {
  CHECK(mfakit::otp_code(0, 6).str() == "000000");
  CHECK(mfakit::otp_code(7, 8).str() == "00000007");
  CHECK(mfakit::otp_code(1234567890, 6).str() == "567890");
  CHECK(mfakit::otp_code(1234567890, 7).str() == "4567890");
  CHECK(mfakit::otp_code(0x7FFFFFFF, 8).str() == "47483647");
  CHECK(mfakit::otp_code(1234567, 6).size() == 6);
  const mfakit::otp_code a(42, 6);
  const mfakit::otp_code b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  CHECK(b.str() == "000042");
  CHECK(a.to_string() == "000042");
  CHECK(mfakit::otp_code{}.str().empty());
}

TEST_CASE("an empty key is an invalid secret", "[otp][params]") {
  const mfakit::byte_view none{};
  CHECK(mfakit::hotp(none, 0).error() == errc::invalid_secret);
  CHECK(mfakit::totp(none, 59).error() == errc::invalid_secret);
  CHECK(mfakit::verify_totp(none, "123456", 59).error() == errc::invalid_secret);
  CHECK(mfakit::verify_hotp(none, "123456", 0).error() == errc::invalid_secret);
}

TEST_CASE("totp_step: floor((t - t0) / period)", "[otp][params]") {
  struct row {
    std::int64_t t;
    std::int64_t period;
    std::int64_t t0;
    std::uint64_t step;
  };
  const auto r = GENERATE(row{0, 30, 0, 0}, row{29, 30, 0, 0}, row{30, 30, 0, 1}, row{59, 30, 0, 1}, row{60, 30, 0, 2},
                          row{1111111111, 30, 0, 37037037}, row{159, 60, 100, 0}, row{160, 60, 100, 1},
                          row{100, 60, 100, 0}, row{-1, 30, -90, 2}, row{-91, 30, -91, 0}, row{12345, 1, 0, 12345},
                          row{i64max, i64max, 0, 1}, row{i64max, 30, 0, 307445734561825860ULL},
                          row{i64max, 1, i64min, u64max}, row{0, 1, i64min, 0x8000000000000000ULL});
  INFO("t " << r.t << " period " << r.period << " t0 " << r.t0);
  auto s = mfakit::totp_step(r.t, totp_params{algorithm::sha1, 6, r.period, r.t0});
  REQUIRE(s);
  CHECK(*s == r.step);
}

TEST_CASE("period < 1 and times before t0 are rejected", "[otp][params]") {
  struct row {
    std::int64_t t;
    std::int64_t period;
    std::int64_t t0;
  };
  const auto r = GENERATE(row{59, 0, 0}, row{59, -30, 0}, row{59, i64min, 0}, row{-1, 30, 0}, row{99, 30, 100},
                          row{i64min, 30, i64min + 1}, row{0, 30, i64max});
  INFO("t " << r.t << " period " << r.period << " t0 " << r.t0);
  const totp_params p{algorithm::sha1, 6, r.period, r.t0};
  CHECK(mfakit::totp_step(r.t, p).error() == errc::invalid_argument);
  CHECK(mfakit::totp(ascii(key20), r.t, p).error() == errc::invalid_argument);
  CHECK(mfakit::verify_totp(ascii(key20), "123456", r.t, p).error() == errc::invalid_argument);
}

TEST_CASE("t0 and period shift the step: totp equals hotp at the computed step", "[otp][params]") {
  const totp_params p{algorithm::sha1, 6, 60, 1000};
  for (std::int64_t t : {1000, 1059, 1060, 1119, 1120, 100000}) {
    INFO("t " << t);
    const auto step = static_cast<std::uint64_t>((t - 1000) / 60);
    CHECK(totp_str(key20, t, p) == hotp_str(key20, step));
  }
  // with t0 = 0 and period 30 this is the RFC: step 1 at t = 59
  CHECK(totp_str(key20, 59) == hotp_str(key20, 1));
  CHECK(totp_str(key20, 59, totp_params{algorithm::sha1, 6, 30, 29}) == hotp_str(key20, 1));
  CHECK(totp_str(key20, 59, totp_params{algorithm::sha1, 6, 30, 30}) == hotp_str(key20, 0));
}

// --- the drift window ---------------------------------------------------------------------------

namespace {

constexpr std::int64_t base_time = 1111111111;  // step 37037037, 1 s into it
constexpr std::uint64_t base_step = 37037037;

std::string code_at_step(std::uint64_t step, int digits = 6) {
  return hotp_str(key20, step, hotp_params{algorithm::sha1, digits});
}

mfakit::result<std::uint64_t> verify_at(std::string_view code, std::int64_t t, drift_window w = {},
                                        std::optional<std::uint64_t> after = std::nullopt) {
  return mfakit::verify_totp(ascii(key20), code, t, totp_params{}, totp_verify_options{w, after});
}

}  // namespace

TEST_CASE("default window (1,1): offsets -2..+2 -> reject, accept, accept, accept, reject", "[otp][window]") {
  REQUIRE(base_time / 30 == static_cast<std::int64_t>(base_step));
  std::vector<std::string> codes;
  for (int off = -2; off <= 2; ++off) codes.push_back(code_at_step(base_step + static_cast<std::uint64_t>(off)));
  // the table is only meaningful if the five codes differ
  for (std::size_t i = 0; i < codes.size(); ++i)
    for (std::size_t j = i + 1; j < codes.size(); ++j) REQUIRE(codes[i] != codes[j]);

  struct row {
    int offset;
    bool accept;
  };
  const auto r = GENERATE(row{-2, false}, row{-1, true}, row{0, true}, row{1, true}, row{2, false});
  INFO("offset " << r.offset);
  const std::string& code = codes[static_cast<std::size_t>(r.offset + 2)];
  auto v = verify_at(code, base_time);
  if (r.accept) {
    REQUIRE(v);
    CHECK(*v == base_step + static_cast<std::uint64_t>(static_cast<std::int64_t>(r.offset)));
  } else {
    REQUIRE_FALSE(v);
    CHECK(v.error() == errc::code_mismatch);
  }
}

TEST_CASE("one second either side of a step edge", "[otp][window]") {
  // k*30 - 1 is the last second of step k-1, k*30 the first of step k.
  constexpr std::uint64_t k = 50000000;
  constexpr auto edge = static_cast<std::int64_t>(k * 30);
  struct row {
    std::int64_t time;
    std::int64_t code_step_offset;  // relative to k
    bool accept;
  };
  const auto r = GENERATE(
      // at edge-1 (step k-1): steps k-2, k-1, k accepted; k+1 and k-3 not
      row{edge - 1, -3, false}, row{edge - 1, -2, true}, row{edge - 1, -1, true}, row{edge - 1, 0, true},
      row{edge - 1, 1, false},
      // at edge (step k): steps k-1, k, k+1 accepted; k-2 and k+2 not
      row{edge, -2, false}, row{edge, -1, true}, row{edge, 0, true}, row{edge, 1, true}, row{edge, 2, false});
  const std::uint64_t step = k + static_cast<std::uint64_t>(r.code_step_offset);
  INFO("time " << r.time << ", code for step k" << (r.code_step_offset >= 0 ? "+" : "") << r.code_step_offset);
  auto v = verify_at(code_at_step(step), r.time);
  if (r.accept) {
    REQUIRE(v);
    CHECK(*v == step);
  } else {
    REQUIRE_FALSE(v);
    CHECK(v.error() == errc::code_mismatch);
  }
}

TEST_CASE("strict and asymmetric windows", "[otp][window]") {
  const std::string prev = code_at_step(base_step - 1);
  const std::string cur = code_at_step(base_step);
  const std::string next = code_at_step(base_step + 1);
  const std::string next2 = code_at_step(base_step + 2);
  SECTION("strict (0,0): only the current step") {
    const drift_window strict{0, 0};
    CHECK(verify_at(cur, base_time, strict).has_value());
    CHECK(verify_at(prev, base_time, strict).error() == errc::code_mismatch);
    CHECK(verify_at(next, base_time, strict).error() == errc::code_mismatch);
  }
  SECTION("(1,0): the previous step too, never the next") {
    const drift_window w{1, 0};
    CHECK(*verify_at(prev, base_time, w) == base_step - 1);
    CHECK(*verify_at(cur, base_time, w) == base_step);
    CHECK(verify_at(next, base_time, w).error() == errc::code_mismatch);
  }
  SECTION("(0,2)") {
    const drift_window w{0, 2};
    CHECK(verify_at(prev, base_time, w).error() == errc::code_mismatch);
    CHECK(*verify_at(next2, base_time, w) == base_step + 2);
  }
  SECTION("max_window is accepted, max_window + 1 is not") {
    const std::string far = code_at_step(base_step - mfakit::max_window);
    CHECK(*verify_at(far, base_time, drift_window{mfakit::max_window, 0}) == base_step - mfakit::max_window);
    CHECK(verify_at(cur, base_time, drift_window{mfakit::max_window + 1, 0}).error() == errc::invalid_argument);
    CHECK(verify_at(cur, base_time, drift_window{0, mfakit::max_window + 1}).error() == errc::invalid_argument);
    CHECK(verify_at(cur, base_time, drift_window{std::numeric_limits<std::uint32_t>::max(), 0}).error() ==
          errc::invalid_argument);
  }
}

TEST_CASE("a window at step 0 does not wrap below zero", "[otp][window]") {
  // t = t0: step 0; the window behind is clamped, the step ahead still counts
  CHECK(*verify_at(code_at_step(0), 0) == 0);
  CHECK(*verify_at(code_at_step(1), 0) == 1);
  CHECK(verify_at(code_at_step(u64max), 0).error() == errc::code_mismatch);
}

TEST_CASE("a window at step 2^64-1 does not wrap above", "[otp][window]") {
  const totp_params p{algorithm::sha1, 6, 1, i64min};  // t = INT64_MAX is step 2^64-1
  const auto key = ascii(key20);
  const std::string last = code_at_step(u64max);
  const std::string before = code_at_step(u64max - 1);
  auto v = mfakit::verify_totp(key, last, i64max, p, totp_verify_options{drift_window{1, 1}, std::nullopt});
  REQUIRE(v);
  CHECK(*v == u64max);
  CHECK(*mfakit::verify_totp(key, before, i64max, p) == u64max - 1);
  CHECK(mfakit::verify_totp(key, code_at_step(0), i64max, p).error() == errc::code_mismatch);
  auto replay = mfakit::verify_totp(key, last, i64max, p, totp_verify_options{drift_window{1, 1}, u64max});
  REQUIRE_FALSE(replay);
  CHECK(replay.error() == errc::code_replayed);
}

// --- replay ---------------------------------------------------------------------------------

TEST_CASE("after_step: a code accepted at step s is replayed when after_step = s", "[otp][replay]") {
  const std::string cur = code_at_step(base_step);
  auto first = verify_at(cur, base_time);
  REQUIRE(first);
  REQUIRE(*first == base_step);
  auto second = verify_at(cur, base_time, drift_window{}, *first);
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::code_replayed);
  // still replayed 29 seconds later (same step) and one step later (in the window)
  CHECK(verify_at(cur, base_time + 28, drift_window{}, *first).error() == errc::code_replayed);
  CHECK(verify_at(cur, base_time + 30, drift_window{}, *first).error() == errc::code_replayed);
  // two steps later it is simply out of the window
  CHECK(verify_at(cur, base_time + 60, drift_window{}, *first).error() == errc::code_mismatch);
}

TEST_CASE("a code for step s+1 accepted at step s, then replayed at s+1", "[otp][replay]") {
  // catches "stored the current step instead of the matched one"
  const std::string next = code_at_step(base_step + 1);
  auto first = verify_at(next, base_time);
  REQUIRE(first);
  CHECK(*first == base_step + 1);  // the matched step, not the current one
  auto replay = verify_at(next, base_time + 30, drift_window{}, *first);
  REQUIRE_FALSE(replay);
  CHECK(replay.error() == errc::code_replayed);
  // had the caller stored the current step (s), the replay would have passed:
  CHECK(verify_at(next, base_time + 30, drift_window{}, base_step).has_value());
}

TEST_CASE("an older code after a newer one is replayed, fresh steps pass", "[otp][replay]") {
  const std::string prev = code_at_step(base_step - 1);
  const std::string cur = code_at_step(base_step);
  const std::string next = code_at_step(base_step + 1);
  // the last accepted step is s: s-1 and s are replays, s+1 is fresh
  CHECK(verify_at(prev, base_time, drift_window{}, base_step).error() == errc::code_replayed);
  CHECK(verify_at(cur, base_time, drift_window{}, base_step).error() == errc::code_replayed);
  CHECK(*verify_at(next, base_time, drift_window{}, base_step) == base_step + 1);
  // last accepted s-1: s is fresh
  CHECK(*verify_at(cur, base_time, drift_window{}, base_step - 1) == base_step);
  // an after_step far ahead makes every valid code a replay
  CHECK(verify_at(next, base_time, drift_window{}, base_step + 100).error() == errc::code_replayed);
  // after_step = 0 does not block step 1 (only steps <= after_step)
  CHECK(*verify_at(code_at_step(1), 30, drift_window{}, 0) == 1);
  CHECK(verify_at(code_at_step(0), 30, drift_window{}, 0).error() == errc::code_replayed);
}

TEST_CASE("code_replayed vs code_mismatch", "[otp][replay]") {
  std::string wrong = code_at_step(base_step);
  wrong[5] = wrong[5] == '0' ? '1' : '0';
  // a wrong code is a mismatch whether or not there is an after_step
  for (int w = -1; w <= 1; ++w) {
    REQUIRE(wrong != code_at_step(base_step + static_cast<std::uint64_t>(static_cast<std::int64_t>(w))));
  }
  CHECK(verify_at(wrong, base_time).error() == errc::code_mismatch);
  CHECK(verify_at(wrong, base_time, drift_window{}, base_step).error() == errc::code_mismatch);
  CHECK(verify_at(wrong, base_time, drift_window{}, base_step + 5).error() == errc::code_mismatch);
  // a valid, used code is a replay, and the two errors differ
  const std::error_code replayed = verify_at(code_at_step(base_step), base_time, drift_window{}, base_step).error();
  CHECK(replayed == errc::code_replayed);
  CHECK(replayed != make_error_code(errc::code_mismatch));
}

TEST_CASE("verify with a prepared otp_key equals verify with raw bytes", "[otp]") {
  auto k = mfakit::otp_key::make(algorithm::sha1, ascii(key20));
  REQUIRE(k);
  for (int off = -2; off <= 2; ++off) {
    const std::string code = code_at_step(base_step + static_cast<std::uint64_t>(static_cast<std::int64_t>(off)));
    auto a = mfakit::verify_totp(*k, code, base_time);
    auto b = verify_at(code, base_time);
    CHECK(a.has_value() == b.has_value());
    CHECK(a.error() == b.error());
    if (a && b) CHECK(*a == *b);
  }
  // the key's algorithm must be the one in the parameters
  auto mismatch = mfakit::verify_totp(*k, code_at_step(base_step), base_time, totp_params{algorithm::sha256});
  REQUIRE_FALSE(mismatch);
  CHECK(mismatch.error() == errc::invalid_argument);
}

// --- code parsing ----------------------------------------------------------------------------

TEST_CASE("malformed codes are malformed_code and never throw", "[otp][parse]") {
  const std::string_view input =
      GENERATE(as<std::string_view>{}, "", " ", "      ", "12345", "1234567", "12a456", "+12345", "-12345", "12345.",
               "0x1234", "123\t456", "\t123456", "123456\n", "123-456", "１２３４５６",  // full-width digits (UTF-8)
               "\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96",
               "١٢٣٤٥٦",  // Arabic-Indic digits
               "12345６", "123 4567", "1 2 3 4 5 6 7", "12345\xff", "ABCDEF");
  INFO("input [" << std::string(input) << "]");
  mfakit::result<std::uint64_t> r = errc::crypto_failure;
  CHECK_NOTHROW(r = verify_at(input, base_time));
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::malformed_code);
  mfakit::result<mfakit::otp_code> n = errc::crypto_failure;
  CHECK_NOTHROW(n = mfakit::normalize_code(input, 6));
  CHECK(n.error() == errc::malformed_code);
  CHECK(mfakit::verify_hotp(ascii(key20), input, 0).error() == errc::malformed_code);
}

TEST_CASE("embedded NUL and very long input are malformed", "[otp][parse]") {
  const std::string with_nul(
      "123\0"
      "456",
      7);
  CHECK(mfakit::normalize_code(with_nul, 6).error() == errc::malformed_code);
  const std::string six_with_nul("12345\0", 6);
  CHECK(mfakit::normalize_code(six_with_nul, 6).error() == errc::malformed_code);
  const std::string long_digits(100000, '1');
  CHECK(mfakit::normalize_code(long_digits, 6).error() == errc::malformed_code);
  // Not std::string(100000, ' ') + "123456": g++ 12 at -O2 warns a false
  // -Warray-bounds on that operator+ (GCC bug 105651) once the test is
  // compiled with the precompiled header.
  std::string many_spaces(100006, ' ');
  many_spaces.replace(many_spaces.size() - 6, 6, "123456");
  CHECK(mfakit::normalize_code(many_spaces, 6)->str() == "123456");
}

TEST_CASE("ASCII spaces inside or around a code are ignored", "[otp][parse]") {
  const std::string cur = code_at_step(base_step);
  const std::string spaced_mid = cur.substr(0, 3) + " " + cur.substr(3);
  const std::string spaced_all = std::string{cur[0], ' ', cur[1], ' ', cur[2], ' ', cur[3], ' ', cur[4], ' ', cur[5]};
  const std::string padded_code = "  " + cur + "   ";
  for (const std::string& s : {cur, spaced_mid, spaced_all, padded_code}) {
    INFO("input [" << s << "]");
    auto v = verify_at(s, base_time);
    REQUIRE(v);
    CHECK(*v == base_step);
  }
  CHECK(mfakit::normalize_code("1234 5678", 8)->str() == "12345678");
  CHECK(mfakit::normalize_code(" 0000000 ", 7)->str() == "0000000");
  CHECK(mfakit::normalize_code("000000", 6)->str() == "000000");
}

TEST_CASE("the code length must equal the configured digits", "[otp][parse]") {
  const std::string eight = code_at_step(base_step, 8);
  const totp_params p8{algorithm::sha1, 8};
  CHECK(*mfakit::verify_totp(ascii(key20), eight, base_time, p8) == base_step);
  // its last six digits are the 6-digit code, but a 6-digit verifier rejects 8 digits
  CHECK(verify_at(eight, base_time).error() == errc::malformed_code);
  CHECK(mfakit::verify_totp(ascii(key20), eight.substr(2), base_time, p8).error() == errc::malformed_code);
  CHECK(*verify_at(eight.substr(2), base_time) == base_step);
}

// --- HOTP verification ---------------------------------------------------------------------

TEST_CASE("verify_hotp: look-ahead returns matched + 1 and rejects beyond", "[otp][hotp]") {
  const std::uint64_t c = 1000;
  SECTION("look-ahead 0") {
    CHECK(*mfakit::verify_hotp(ascii(key20), code_at_step(c), c) == c + 1);
    CHECK(mfakit::verify_hotp(ascii(key20), code_at_step(c + 1), c).error() == errc::code_mismatch);
  }
  SECTION("look-ahead 3") {
    for (std::uint64_t i = 0; i <= 3; ++i) {
      INFO("counter + " << i);
      auto r = mfakit::verify_hotp(ascii(key20), code_at_step(c + i), c, hotp_params{}, 3);
      REQUIRE(r);
      CHECK(*r == c + i + 1);
    }
    CHECK(mfakit::verify_hotp(ascii(key20), code_at_step(c + 4), c, hotp_params{}, 3).error() == errc::code_mismatch);
    // values before the stored counter are used up
    CHECK(mfakit::verify_hotp(ascii(key20), code_at_step(c - 1), c, hotp_params{}, 3).error() == errc::code_mismatch);
  }
  SECTION("RFC 4226 vectors through the verifier") {
    for (const auto& v : mfakit_test::rfc4226_vectors) {
      INFO("counter " << v.counter);
      auto r = mfakit::verify_hotp(ascii(mfakit_test::rfc4226_key), v.code, 0, hotp_params{}, 9);
      REQUIRE(r);
      CHECK(*r == v.counter + 1);
    }
  }
  SECTION("look-ahead above max_window is rejected") {
    CHECK(mfakit::verify_hotp(ascii(key20), code_at_step(c), c, hotp_params{}, mfakit::max_window).has_value());
    CHECK(mfakit::verify_hotp(ascii(key20), code_at_step(c), c, hotp_params{}, mfakit::max_window + 1).error() ==
          errc::invalid_argument);
  }
}

TEST_CASE("verify_hotp near 2^64: the next counter never overflows", "[otp][hotp]") {
  const auto key = ascii(key20);
  // counter 2^64-1 has no successor to store
  CHECK(mfakit::verify_hotp(key, code_at_step(u64max), u64max).error() == errc::invalid_argument);
  // 2^64-2 is the last usable counter; its successor is 2^64-1
  CHECK(*mfakit::verify_hotp(key, code_at_step(u64max - 1), u64max - 1) == u64max);
  // with look-ahead 3 the highest start is 2^64-5 (covers 2^64-5 .. 2^64-2)
  CHECK(mfakit::verify_hotp(key, code_at_step(u64max - 1), u64max - 3, hotp_params{}, 3).error() ==
        errc::invalid_argument);
  CHECK(*mfakit::verify_hotp(key, code_at_step(u64max - 1), u64max - 4, hotp_params{}, 3) == u64max);
  CHECK(mfakit::verify_hotp(key, code_at_step(u64max), u64max - 4, hotp_params{}, 3).error() == errc::code_mismatch);
  CHECK(*mfakit::verify_hotp(key, code_at_step(u64max - 4), u64max - 4, hotp_params{}, 3) == u64max - 3);
}

TEST_CASE("HOTP with SHA-256/512 and 8 digits round-trips through the verifier", "[otp][hotp]") {
  const algorithm a = GENERATE(algorithm::sha256, algorithm::sha512);
  const int digits = GENERATE(6, 7, 8);
  const hotp_params p{a, digits};
  const std::string_view key =
      a == algorithm::sha256 ? mfakit_test::rfc6238_seed_sha256 : mfakit_test::rfc6238_seed_sha512;
  for (std::uint64_t c : {std::uint64_t{0}, std::uint64_t{77}, std::uint64_t{1} << 40U}) {
    const std::string code = hotp_str(key, c, p);
    REQUIRE(code.size() == static_cast<std::size_t>(digits));
    CHECK(*mfakit::verify_hotp(ascii(key), code, c, p) == c + 1);
  }
}
