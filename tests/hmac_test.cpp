// otp_key and the two HMAC engines (hmac.hpp).
//
// The reference is OpenSSL's one-shot HMAC(), used here only as an independent
// oracle: it hashes the key and runs the full Init/Update/Final path, whereas
// otp_key keeps the pad states (lean engine) or re-initialises an EVP_MAC
// context without a key (EVP engine).
//
// tests/hmac_evp_test.cpp includes this file with MFAKIT_USE_EVP_HMAC
// defined, so every test case below also runs against the EVP engine in a
// second executable; the lean-vs-EVP comparison exists only where the lean
// engine is compiled in.
#include <mfakit/hmac.hpp>
#include <mfakit/otp.hpp>

#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::algorithm;
using mfakit::errc;
using mfakit::mac_bytes;
using mfakit::otp_key;
using mfakit_test::from_hex;
using mfakit_test::to_hex;

constexpr std::size_t max_key_len = 200;  // above SHA-512's 128-byte block

const std::array<std::uint64_t, 12> interesting_counters{
    0,
    1,
    0xFF,
    0x100,
    0xFFFFFFFFULL,
    0x100000000ULL,  // beyond 32 bits (RFC 6238 section 4.2)
    0x0123456789ABCDEFULL,
    0x7FFFFFFFFFFFFFFFULL,
    0x8000000000000000ULL,
    0xFFFFFFFFFFFFFFFEULL,
    0xFFFFFFFFFFFFFFFFULL,
    mfakit_test::hi_there_counter,
};

const EVP_MD* md_of(algorithm a) {
  switch (a) {
    case algorithm::sha1: return EVP_sha1();
    case algorithm::sha256: return EVP_sha256();
    case algorithm::sha512: return EVP_sha512();
  }
  return nullptr;
}

/// The oracle: OpenSSL's one-shot HMAC() over the 8-byte big-endian counter.
std::string reference_mac(algorithm a, const std::vector<unsigned char>& key, std::uint64_t counter) {
  static const unsigned char no_key = 0;
  const mfakit::counter_bytes c = mfakit::big_endian(counter);
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  const unsigned char* r = HMAC(md_of(a), key.empty() ? &no_key : key.data(), static_cast<int>(key.size()), c.data(),
                                c.size(), out.data(), &len);
  if (r == nullptr || len != mfakit::digest_size(a)) return "HMAC() failed";
  return to_hex(std::span<const unsigned char>(out.data(), len));
}

std::string mac_hex(const mac_bytes& m, algorithm a) {
  return to_hex(std::span<const unsigned char>(m.data(), mfakit::digest_size(a)));
}

std::vector<unsigned char> random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::vector<unsigned char> v(n);
  for (auto& b : v) b = static_cast<unsigned char>(rng() & 0xFFU);
  return v;
}

algorithm to_alg(mfakit_test::vec_alg a) {
  switch (a) {
    case mfakit_test::vec_alg::sha1: return algorithm::sha1;
    case mfakit_test::vec_alg::sha256: return algorithm::sha256;
    case mfakit_test::vec_alg::sha512: return algorithm::sha512;
  }
  return algorithm::sha1;
}

}  // namespace

TEST_CASE("algorithm names, digest sizes and the big-endian counter", "[hmac]") {
  STATIC_REQUIRE(mfakit::to_string(algorithm::sha1) == "SHA1");
  STATIC_REQUIRE(mfakit::to_string(algorithm::sha256) == "SHA256");
  STATIC_REQUIRE(mfakit::to_string(algorithm::sha512) == "SHA512");
  STATIC_REQUIRE(mfakit::digest_size(algorithm::sha1) == 20);
  STATIC_REQUIRE(mfakit::digest_size(algorithm::sha256) == 32);
  STATIC_REQUIRE(mfakit::digest_size(algorithm::sha512) == 64);
  STATIC_REQUIRE(mfakit::max_digest_size == 64);
  STATIC_REQUIRE(mfakit::big_endian(0x0102030405060708ULL) == mfakit::counter_bytes{1, 2, 3, 4, 5, 6, 7, 8});
  STATIC_REQUIRE(mfakit::big_endian(0) == mfakit::counter_bytes{});
  STATIC_REQUIRE(mfakit::big_endian(~0ULL) == mfakit::counter_bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  STATIC_REQUIRE(mfakit::big_endian(1) == mfakit::counter_bytes{0, 0, 0, 0, 0, 0, 0, 1});
  STATIC_REQUIRE(std::is_same_v<decltype(mfakit::big_endian(0)), std::array<unsigned char, 8>>);
}

TEST_CASE("otp_key is move-only", "[hmac]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<otp_key>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<otp_key>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<otp_key>);
  STATIC_REQUIRE(std::is_nothrow_move_assignable_v<otp_key>);
  STATIC_REQUIRE_FALSE(std::is_default_constructible_v<otp_key>);
}

TEST_CASE("RFC 2202 / RFC 4231 test case 1 (\"Hi There\" is an 8-byte counter)", "[hmac][rfc]") {
  struct row {
    algorithm alg;
    std::string_view expected;
  };
  const auto r =
      GENERATE(row{algorithm::sha1, mfakit_test::hi_there_sha1}, row{algorithm::sha256, mfakit_test::hi_there_sha256},
               row{algorithm::sha512, mfakit_test::hi_there_sha512});
  INFO("algorithm " << mfakit::to_string(r.alg));
  const std::vector<unsigned char> key(20, 0x0b);
  auto k = otp_key::make(r.alg, key);
  REQUIRE(k);
  CHECK(k->alg() == r.alg);
  mac_bytes out{};
  REQUIRE(k->mac(mfakit_test::hi_there_counter, out));
  CHECK(mac_hex(out, r.alg) == r.expected);
  // and the oracle agrees with the RFC, so the differential tests below mean something
  CHECK(reference_mac(r.alg, key, mfakit_test::hi_there_counter) == r.expected);
}

TEST_CASE("RFC 4226 Appendix D: HMAC-SHA-1 values and dynamic truncation", "[hmac][rfc]") {
  auto k = otp_key::make(algorithm::sha1, mfakit_test::ascii(mfakit_test::rfc4226_key));
  REQUIRE(k);
  for (const auto& v : mfakit_test::rfc4226_vectors) {
    INFO("counter " << v.counter);
    mac_bytes out{};
    REQUIRE(k->mac(v.counter, out));
    CHECK(mac_hex(out, algorithm::sha1) == v.hmac_hex);
    CHECK(mfakit::detail::truncate(out, 20) == v.truncated);
    auto code = mfakit::hotp(*k, v.counter, 6);
    REQUIRE(code);
    CHECK(code->str() == v.code);
  }
}

TEST_CASE("RFC 6238 Appendix B through a prepared otp_key, all 18 vectors", "[hmac][rfc]") {
  for (const auto& v : mfakit_test::rfc6238_vectors) {
    const algorithm a = to_alg(v.alg);
    INFO("time " << v.time << ", " << mfakit::to_string(a));
    auto k = otp_key::make(a, mfakit_test::ascii(mfakit_test::rfc6238_seed(v.alg)));
    REQUIRE(k);
    auto code = mfakit::hotp(*k, static_cast<std::uint64_t>(v.time / 30), 8);
    REQUIRE(code);
    CHECK(code->str() == v.code);
  }
}

TEST_CASE("otp_key::mac equals OpenSSL HMAC() for every key length 0..200", "[hmac][differential]") {
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  INFO("algorithm " << mfakit::to_string(alg));
  std::mt19937_64 rng(0x6d66616b69740001ULL + static_cast<unsigned>(alg));
  std::size_t compared = 0;
  for (std::size_t len = 0; len <= max_key_len; ++len) {
    const auto key = random_bytes(rng, len);
    auto k = otp_key::make(alg, key);
    REQUIRE(k);
    std::vector<std::uint64_t> counters(interesting_counters.begin(), interesting_counters.end());
    for (int i = 0; i < 4; ++i) counters.push_back(rng());
    for (std::uint64_t c : counters) {
      mac_bytes out{};
      out.fill(0xEE);
      REQUIRE(k->mac(c, out));
      const std::string want = reference_mac(alg, key, c);
      if (mac_hex(out, alg) != want) {
        INFO("key length " << len << " (" << to_hex(key) << "), counter " << c);
        CHECK(mac_hex(out, alg) == want);
      }
      // nothing is written past the digest
      const bool tail_untouched = std::all_of(out.begin() + static_cast<std::ptrdiff_t>(mfakit::digest_size(alg)),
                                              out.end(), [](unsigned char b) { return b == 0xEE; });
      if (!tail_untouched) {
        INFO("key length " << len << ", counter " << c);
        CHECK(tail_untouched);
      }
      ++compared;
    }
  }
  CHECK(compared == (max_key_len + 1) * (interesting_counters.size() + 4));
}

TEST_CASE("keys around the block size: 63/64/65 and 127/128/129 bytes", "[hmac][differential]") {
  // Spot the hash-the-long-key boundary explicitly (the loop above covers it too).
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  const std::size_t len =
      GENERATE(std::size_t{63}, std::size_t{64}, std::size_t{65}, std::size_t{127}, std::size_t{128}, std::size_t{129});
  INFO(mfakit::to_string(alg) << " key length " << len);
  const std::vector<unsigned char> key(len, 0xaa);
  auto k = otp_key::make(alg, key);
  REQUIRE(k);
  mac_bytes out{};
  REQUIRE(k->mac(42, out));
  CHECK(mac_hex(out, alg) == reference_mac(alg, key, 42));
  // A long key and its hash are the same HMAC key (RFC 2104): equal MACs.
  if (len > (alg == algorithm::sha512 ? 128U : 64U)) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> h{};
    unsigned int hl = 0;
    REQUIRE(EVP_Digest(key.data(), key.size(), h.data(), &hl, md_of(alg), nullptr) == 1);
    auto hk = otp_key::make(alg, std::span<const unsigned char>(h.data(), hl));
    REQUIRE(hk);
    mac_bytes out2{};
    REQUIRE(hk->mac(42, out2));
    CHECK(mac_hex(out2, alg) == mac_hex(out, alg));
  }
}

TEST_CASE("detail::evp_counter_mac equals OpenSSL HMAC()", "[hmac][differential]") {
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  INFO("algorithm " << mfakit::to_string(alg));
  std::mt19937_64 rng(0x6d66616b69740002ULL + static_cast<unsigned>(alg));
  for (std::size_t len = 0; len <= max_key_len; len += 7) {
    const auto key = random_bytes(rng, len);
    mfakit::detail::evp_counter_mac e;
    REQUIRE(e.init(alg, key));
    for (std::uint64_t c : interesting_counters) {
      mac_bytes out{};
      REQUIRE(e.mac(mfakit::big_endian(c), out));
      if (mac_hex(out, alg) != reference_mac(alg, key, c)) {
        INFO("key length " << len << ", counter " << c);
        CHECK(mac_hex(out, alg) == reference_mac(alg, key, c));
      }
    }
  }
}

TEST_CASE("a key is reusable: any order of counters gives the one-shot results", "[hmac]") {
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  const auto key = from_hex("000102030405060708090a0b0c0d0e0f10111213");
  auto k = otp_key::make(alg, key);
  REQUIRE(k);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t c = (i % 3 == 0) ? static_cast<std::uint64_t>(i) : rng();
    mac_bytes out{};
    REQUIRE(k->mac(c, out));
    CHECK(mac_hex(out, alg) == reference_mac(alg, key, c));
  }
}

TEST_CASE("two keys do not interfere", "[hmac]") {
  const auto ka = from_hex("0101010101010101010101010101010101010101");
  const auto kb = from_hex("0202020202020202020202020202020202020202");
  auto a = otp_key::make(algorithm::sha256, ka);
  auto b = otp_key::make(algorithm::sha256, kb);
  REQUIRE(a);
  REQUIRE(b);
  for (std::uint64_t c = 0; c < 20; ++c) {
    mac_bytes oa{};
    mac_bytes ob{};
    REQUIRE(a->mac(c, oa));
    REQUIRE(b->mac(c, ob));
    CHECK(mac_hex(oa, algorithm::sha256) == reference_mac(algorithm::sha256, ka, c));
    CHECK(mac_hex(ob, algorithm::sha256) == reference_mac(algorithm::sha256, kb, c));
    CHECK(mac_hex(oa, algorithm::sha256) != mac_hex(ob, algorithm::sha256));
  }
}

TEST_CASE("an unknown algorithm value is rejected", "[hmac]") {
  const auto bogus = static_cast<algorithm>(7);
  const auto key = from_hex("3132333435363738393031323334353637383930");
  auto k = otp_key::make(bogus, key);
  REQUIRE_FALSE(k);
  CHECK(k.error() == errc::unsupported_algorithm);
  auto code = mfakit::hotp(key, 0, mfakit::hotp_params{bogus, 6});
  REQUIRE_FALSE(code);
  CHECK(code.error() == errc::unsupported_algorithm);
}

TEST_CASE("moving an otp_key: the target works, the source fails cleanly", "[hmac]") {
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  INFO("algorithm " << mfakit::to_string(alg));
  const auto key = from_hex("3132333435363738393031323334353637383930");
  const std::string want = reference_mac(alg, key, 5);

  SECTION("move construction") {
    auto src = otp_key::make(alg, key);
    REQUIRE(src);
    otp_key dst = std::move(*src);
    mac_bytes out{};
    REQUIRE(dst.mac(5, out));
    CHECK(mac_hex(out, alg) == want);
    mac_bytes stale{};
    CHECK_FALSE(src->mac(5, stale));  // NOLINT(bugprone-use-after-move): that is the point
    CHECK_FALSE(mfakit::hotp(*src, 5, 6));
  }
  SECTION("move assignment over a live key") {
    auto src = otp_key::make(alg, key);
    auto dst = otp_key::make(alg, from_hex("ffff"));
    REQUIRE(src);
    REQUIRE(dst);
    *dst = std::move(*src);
    mac_bytes out{};
    REQUIRE(dst->mac(5, out));
    CHECK(mac_hex(out, alg) == want);
    mac_bytes stale{};
    CHECK_FALSE(src->mac(5, stale));  // NOLINT(bugprone-use-after-move)
  }
  SECTION("a failed verify on a moved-from key is an error, not a mismatch") {
    auto src = otp_key::make(alg, key);
    REQUIRE(src);
    otp_key dst = std::move(*src);
    auto r =
        mfakit::verify_totp(*src, "123456", 59, mfakit::totp_params{alg, 6, 30, 0});  // NOLINT(bugprone-use-after-move)
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::crypto_failure);
  }
}

TEST_CASE("default-constructed engines produce nothing", "[hmac]") {
  mac_bytes out{};
  const mfakit::detail::evp_counter_mac e;
  CHECK_FALSE(e.mac(mfakit::big_endian(0), out));
#if MFAKIT_LEAN_HMAC
  const mfakit::detail::lean_counter_mac<mfakit::detail::sha1_compression> l1;
  const mfakit::detail::lean_counter_mac<mfakit::detail::sha256_compression> l2;
  const mfakit::detail::lean_counter_mac<mfakit::detail::sha512_compression> l3;
  CHECK_FALSE(l1.mac(mfakit::big_endian(0), out));
  CHECK_FALSE(l2.mac(mfakit::big_endian(0), out));
  CHECK_FALSE(l3.mac(mfakit::big_endian(0), out));
#endif
}

TEST_CASE("moved-from detail engines fail cleanly", "[hmac]") {
  const auto key = from_hex("3132333435363738393031323334353637383930");
  mac_bytes out{};
  mfakit::detail::evp_counter_mac e;
  REQUIRE(e.init(algorithm::sha1, key));
  mfakit::detail::evp_counter_mac e2 = std::move(e);
  CHECK(e2.mac(mfakit::big_endian(1), out));
  CHECK_FALSE(e.mac(mfakit::big_endian(1), out));  // NOLINT(bugprone-use-after-move)
#if MFAKIT_LEAN_HMAC
  mfakit::detail::lean_counter_mac<mfakit::detail::sha1_compression> l;
  REQUIRE(l.init(key));
  mfakit::detail::lean_counter_mac<mfakit::detail::sha1_compression> l2 = std::move(l);
  REQUIRE(l2.mac(mfakit::big_endian(1), out));
  CHECK(mac_hex(out, algorithm::sha1) == reference_mac(algorithm::sha1, key, 1));
  CHECK_FALSE(l.mac(mfakit::big_endian(1), out));  // NOLINT(bugprone-use-after-move)
  // a moved-from engine can be initialised again
  REQUIRE(l.init(key));
  REQUIRE(l.mac(mfakit::big_endian(1), out));
  CHECK(mac_hex(out, algorithm::sha1) == reference_mac(algorithm::sha1, key, 1));
#endif
}

#if MFAKIT_LEAN_HMAC
TEMPLATE_TEST_CASE("the lean engine equals the EVP engine", "[hmac][differential]", mfakit::detail::sha1_compression,
                   mfakit::detail::sha256_compression, mfakit::detail::sha512_compression) {
  const algorithm alg = TestType::alg;
  std::mt19937_64 rng(0x6d66616b69740003ULL + static_cast<unsigned>(alg));
  for (std::size_t len = 0; len <= max_key_len; ++len) {
    const auto key = random_bytes(rng, len);
    mfakit::detail::lean_counter_mac<TestType> lean;
    mfakit::detail::evp_counter_mac evp;
    REQUIRE(lean.init(key));
    REQUIRE(evp.init(alg, key));
    std::vector<std::uint64_t> counters(interesting_counters.begin(), interesting_counters.end());
    for (int i = 0; i < 4; ++i) counters.push_back(rng());
    for (std::uint64_t c : counters) {
      mac_bytes a{};
      mac_bytes b{};
      REQUIRE(lean.mac(mfakit::big_endian(c), a));
      REQUIRE(evp.mac(mfakit::big_endian(c), b));
      if (mac_hex(a, alg) != mac_hex(b, alg)) {
        INFO("key length " << len << ", counter " << c);
        CHECK(mac_hex(a, alg) == mac_hex(b, alg));
      }
    }
  }
  SUCCEED("lean and EVP agree for key lengths 0.." << max_key_len);
}

TEST_CASE("otp_key uses the lean engine in this build", "[hmac]") { STATIC_REQUIRE(MFAKIT_LEAN_HMAC == 1); }
#endif

TEST_CASE("otp_key: concurrent mac calls on one shared const key", "[hmac][concurrency]") {
  // otp_key::mac is const: a host may cache one prepared key and verify from
  // several threads. Every result must stay correct (and TSan-clean).
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha512);
  const auto key = from_hex("3132333435363738393031323334353637383930");
  auto made = otp_key::make(alg, key);
  REQUIRE(made);
  const otp_key& k = *made;
  constexpr std::uint64_t n = 64;
  std::vector<std::string> want;
  for (std::uint64_t c = 0; c < n; ++c) want.push_back(reference_mac(alg, key, c));
  std::atomic<int> wrong{0};
  std::atomic<int> failed{0};
  auto work = [&](std::uint64_t offset) {
    for (int round = 0; round < 200; ++round) {
      for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t c = (i + offset) % n;
        mac_bytes out{};
        if (!k.mac(c, out)) {
          failed.fetch_add(1);
        } else if (mac_hex(out, alg) != want[c]) {
          wrong.fetch_add(1);
        }
      }
    }
  };
  std::thread t1(work, 0);
  std::thread t2(work, 17);
  std::thread t3(work, 33);
  t1.join();
  t2.join();
  t3.join();
  CHECK(failed.load() == 0);
  CHECK(wrong.load() == 0);
}
