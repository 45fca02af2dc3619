// The OpenSSL layer (crypto.hpp): wiping, constant-time compare, uniform
// indices, SHA-256, HMAC-SHA-256, scrypt and the cleansing allocator.
//
// This executable replaces the global operator new/delete with a thin
// wrapper over malloc/free that can scan each block as it is freed, so the
// cleansing_allocator test can check that no freed block still holds the
// secret bytes (and that the check fires for a plain std::vector).
#include <mfakit/crypto.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

// --- freed-block scanner ---------------------------------------------------------------------

namespace {

constexpr std::string_view probe = "mfakit:cleanse-probe";  // 20 bytes, never in ordinary data
std::atomic<bool> scanning{false};
std::atomic<int> freed_with_probe{0};
constexpr std::size_t header = alignof(std::max_align_t);

bool contains_probe(const unsigned char* p, std::size_t n) noexcept {
  if (n < probe.size()) return false;
  for (std::size_t i = 0; i + probe.size() <= n; ++i)
    if (std::memcmp(p + i, probe.data(), probe.size()) == 0) return true;
  return false;
}

void* hooked_alloc(std::size_t n) {
  void* raw = std::malloc(n + header);  // NOLINT(cppcoreguidelines-no-malloc)
  if (raw == nullptr) throw std::bad_alloc();
  std::memcpy(raw, &n, sizeof n);
  return static_cast<unsigned char*>(raw) + header;
}

void hooked_free(void* p) noexcept {
  if (p == nullptr) return;
  unsigned char* raw = static_cast<unsigned char*>(p) - header;
  std::size_t n = 0;
  std::memcpy(&n, raw, sizeof n);
  if (scanning.load(std::memory_order_relaxed) && contains_probe(static_cast<unsigned char*>(p), n))
    freed_with_probe.fetch_add(1, std::memory_order_relaxed);
  std::free(raw);  // NOLINT(cppcoreguidelines-no-malloc)
}

}  // namespace

// NOLINTBEGIN(misc-new-delete-overloads,cert-dcl54-cpp)
void* operator new(std::size_t n) { return hooked_alloc(n); }
void* operator new[](std::size_t n) { return hooked_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  try {
    return hooked_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
  try {
    return hooked_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { hooked_free(p); }
void operator delete[](void* p) noexcept { hooked_free(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { hooked_free(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { hooked_free(p); }
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept { hooked_free(p); }
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept { hooked_free(p); }
// NOLINTEND(misc-new-delete-overloads,cert-dcl54-cpp)

namespace {

using mfakit::errc;
using mfakit_test::ascii;
using mfakit_test::from_hex;
using mfakit_test::to_hex;

/// Appends the probe 40 times, one at a time, so the vector reallocates
/// (and frees its old block) several times; returns how many freed blocks
/// still held the probe.
template <class Vec>
int freed_blocks_with_probe() {
  freed_with_probe.store(0);
  scanning.store(true);
  {
    Vec v;
    for (int i = 0; i < 40; ++i) v.insert(v.end(), probe.begin(), probe.end());
    // keep the contents observable so nothing is optimised away
    if (v.size() != 40 * probe.size() || !contains_probe(v.data(), v.size())) freed_with_probe.store(-1000);
  }
  scanning.store(false);
  return freed_with_probe.load();
}

}  // namespace

TEST_CASE("cleansing_allocator wipes every block it frees, also on vector growth", "[crypto][memory]") {
  SECTION("the scanner sees what a plain vector leaves behind") {
    CHECK(freed_blocks_with_probe<std::vector<unsigned char>>() > 0);
  }
  SECTION("secure_bytes leaves nothing") { CHECK(freed_blocks_with_probe<mfakit::secure_bytes>() == 0); }
  SECTION("with a wider element type too") {
    freed_with_probe.store(0);
    scanning.store(true);
    {
      std::vector<std::uint64_t, mfakit::cleansing_allocator<std::uint64_t>> v;
      for (int i = 0; i < 200; ++i) {
        std::uint64_t w = 0;
        std::memcpy(&w, probe.data() + (static_cast<std::size_t>(i) % 3) * 4, sizeof w);
        v.push_back(w);
      }
      v.shrink_to_fit();
    }
    scanning.store(false);
    CHECK(freed_with_probe.load() == 0);
  }
}

TEST_CASE("cleansing_allocator keeps contents through growth and compares equal", "[crypto][memory]") {
  mfakit::secure_bytes v;
  for (int i = 0; i < 10000; ++i) v.push_back(static_cast<unsigned char>(i * 31));
  REQUIRE(v.size() == 10000);
  bool same = true;
  for (int i = 0; i < 10000; ++i) same = same && v[static_cast<std::size_t>(i)] == static_cast<unsigned char>(i * 31);
  CHECK(same);
  mfakit::secure_bytes copy = v;
  CHECK(copy == v);
  v.clear();
  v.shrink_to_fit();
  CHECK(v.capacity() == 0);
  const mfakit::cleansing_allocator<unsigned char> a;
  const mfakit::cleansing_allocator<int> b(a);
  CHECK(a == b);
  STATIC_REQUIRE(std::is_same_v<mfakit::secure_bytes::allocator_type, mfakit::cleansing_allocator<unsigned char>>);
}

TEST_CASE("cleanse zeroes memory and accepts null/empty", "[crypto]") {
  std::array<unsigned char, 32> buf{};
  buf.fill(0xAB);
  mfakit::cleanse(buf.data(), 16);
  for (std::size_t i = 0; i < 16; ++i) CHECK(buf[i] == 0);
  for (std::size_t i = 16; i < 32; ++i) CHECK(buf[i] == 0xAB);
  mfakit::cleanse(nullptr, 0);
  mfakit::cleanse(nullptr, 10);
  mfakit::cleanse(buf.data(), 0);
  CHECK(buf[16] == 0xAB);
}

TEST_CASE("as_bytes views the characters", "[crypto]") {
  const std::string_view s("a\0b", 3);
  const auto b = mfakit::as_bytes(s);
  REQUIRE(b.size() == 3);
  CHECK(b[0] == 'a');
  CHECK(b[1] == 0);
  CHECK(b[2] == 'b');
  CHECK(static_cast<const void*>(b.data()) == static_cast<const void*>(s.data()));
  CHECK(mfakit::as_bytes("").empty());
}

TEST_CASE("constant_time_equal", "[crypto]") {
  const auto a = from_hex("00112233445566778899aabbccddeeff");
  auto b = a;
  CHECK(mfakit::constant_time_equal(a, b));
  b[0] ^= 1;
  CHECK_FALSE(mfakit::constant_time_equal(a, b));
  b = a;
  b[15] ^= 0x80;
  CHECK_FALSE(mfakit::constant_time_equal(a, b));
  b = a;
  b.pop_back();
  CHECK_FALSE(mfakit::constant_time_equal(a, b));  // a prefix is not equal
  CHECK_FALSE(mfakit::constant_time_equal(b, a));
  CHECK(mfakit::constant_time_equal({}, {}));
  CHECK_FALSE(mfakit::constant_time_equal(a, {}));
  CHECK(mfakit::constant_time_equal(ascii("abc"), ascii("abc")));
}

// --- randomness ---------------------------------------------------------------------------------

TEST_CASE("in_range_mask is the range test as a mask, for every byte and range", "[crypto]") {
  // 256^3 cases: lo > hi (an empty range) included
  long wrong = 0;
  for (int lo = 0; lo < 256; ++lo)
    for (int hi = 0; hi < 256; ++hi)
      for (int c = 0; c < 256; ++c)
        wrong += mfakit::detail::in_range_mask(c, lo, hi) != (lo <= c && c <= hi ? -1 : 0) ? 1 : 0;
  CHECK(wrong == 0);
}

TEST_CASE("openssl_random fills buffers", "[crypto][random]") {
  STATIC_REQUIRE(mfakit::random_source<mfakit::openssl_random>);
  STATIC_REQUIRE(mfakit::random_source<mfakit_test::scripted_random>);
  STATIC_REQUIRE_FALSE(mfakit::random_source<int>);
  struct returns_int {
    int fill(std::span<unsigned char> /*out*/) { return 1; }  // RAND_bytes-style int is not accepted
  };
  STATIC_REQUIRE_FALSE(mfakit::random_source<returns_int>);
  mfakit::openssl_random rng;
  std::array<unsigned char, 64> a{};
  std::array<unsigned char, 64> b{};
  REQUIRE(rng.fill(a));
  REQUIRE(rng.fill(b));
  CHECK(a != b);
  CHECK(rng.fill(std::span<unsigned char>{}));
}

TEST_CASE("uniform_indices: n must be 1..256", "[crypto][random]") {
  std::array<std::uint8_t, 8> out{};
  mfakit_test::scripted_random src;
  CHECK(mfakit::uniform_indices(src, out, 0).error() == errc::invalid_argument);
  CHECK(mfakit::uniform_indices(src, out, 257).error() == errc::invalid_argument);
  CHECK(mfakit::uniform_indices(src, out, 100000).error() == errc::invalid_argument);
  CHECK(src.calls == 0);
}

TEST_CASE("uniform_indices: n = 1 and n = 256 reject nothing", "[crypto][random]") {
  mfakit_test::scripted_random src;
  for (int b = 0; b < 256; ++b) src.script.push_back(static_cast<unsigned char>(255 - b));
  SECTION("n = 256 is the identity on bytes") {
    std::array<std::uint8_t, 256> out{};
    REQUIRE(mfakit::uniform_indices(src, out, 256));
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == 255 - i);
  }
  SECTION("n = 1 is always 0") {
    std::array<std::uint8_t, 256> out{};
    out.fill(9);
    REQUIRE(mfakit::uniform_indices(src, out, 1));
    for (auto v : out) CHECK(v == 0);
  }
}

TEST_CASE("uniform_indices: rejection threshold 256 - 256 % n", "[crypto][random]") {
  struct row {
    unsigned n;
    unsigned limit;
  };
  const auto r = GENERATE(row{2, 256}, row{3, 255}, row{10, 250}, row{31, 248}, row{100, 200}, row{128, 256},
                          row{200, 200}, row{255, 255});
  INFO("n " << r.n);
  // every byte once: exactly `limit` are used and each index gets limit/n
  mfakit_test::scripted_random src;
  for (int b = 0; b < 256; ++b) src.script.push_back(static_cast<unsigned char>(b));
  std::vector<std::uint8_t> out(r.limit);
  REQUIRE(mfakit::uniform_indices(src, std::span<std::uint8_t>(out), r.n));
  std::vector<unsigned> counts(r.n);
  for (std::size_t i = 0; i < out.size(); ++i) {
    REQUIRE(out[i] < r.n);
    CHECK(out[i] == i % r.n);  // byte i was used, as i mod n
    ++counts[out[i]];
  }
  for (unsigned c : counts) CHECK(c == r.limit / r.n);
  // the next byte after the script is `limit` itself (if < 256) and must be skipped
  if (r.limit < 256) {
    mfakit_test::scripted_random edge{{static_cast<unsigned char>(r.limit), static_cast<unsigned char>(r.limit - 1)}};
    std::array<std::uint8_t, 1> one{};
    REQUIRE(mfakit::uniform_indices(edge, one, r.n));
    CHECK(one[0] == (r.limit - 1) % r.n);
  }
}

TEST_CASE("uniform_indices: failures", "[crypto][random]") {
  SECTION("an empty output never asks the source") {
    mfakit_test::failing_random src;
    CHECK(mfakit::uniform_indices(src, std::span<std::uint8_t>{}, 31));
    CHECK(src.calls == 0);
  }
  SECTION("a failing source") {
    mfakit_test::failing_random src;
    std::array<std::uint8_t, 8> out{};
    CHECK(mfakit::uniform_indices(src, out, 31).error() == errc::random_failure);
  }
  SECTION("only rejected bytes: gives up and wipes the output") {
    mfakit_test::scripted_random src{{1, 2, 3}, 250};  // three good bytes, then only rejects
    std::array<std::uint8_t, 8> out{};
    out.fill(0x55);
    CHECK(mfakit::uniform_indices(src, out, 31).error() == errc::random_failure);
    for (auto v : out) CHECK(v == 0);
    CHECK(src.calls <= 4096 / 64 + 2);
  }
  SECTION("rejections that are not in a row do not give up") {
    // 4095 rejects, one good byte, repeated: always just under the limit
    mfakit_test::scripted_random src;
    for (int k = 0; k < 8; ++k) {
      src.script.insert(src.script.end(), 4095, 255);
      src.script.push_back(static_cast<unsigned char>(k));
    }
    std::array<std::uint8_t, 8> out{};
    REQUIRE(mfakit::uniform_indices(src, out, 31));
    for (std::size_t i = 0; i < out.size(); ++i) CHECK(out[i] == i);
  }
}

// --- SHA-256 / HMAC-SHA-256 ----------------------------------------------------------------------

TEST_CASE("sha256: FIPS 180-2 vectors", "[crypto][rfc]") {
  struct row {
    std::string_view input;
    std::string_view digest;
  };
  const auto r = GENERATE(row{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
                          row{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                          row{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"});
  auto d = mfakit::sha256(ascii(r.input));
  REQUIRE(d);
  CHECK(to_hex(*d) == r.digest);
}

TEST_CASE("sha256: one million 'a'", "[crypto][rfc]") {
  const std::string a(1000000, 'a');
  auto d = mfakit::sha256(ascii(a));
  REQUIRE(d);
  CHECK(to_hex(*d) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("hmac_sha256: RFC 4231 test cases 1, 2, 6, 7", "[crypto][rfc]") {
  struct row {
    std::vector<unsigned char> key;
    std::string_view data;
    std::string_view mac;
  };
  const std::vector<row> rows{
      {std::vector<unsigned char>(20, 0x0b), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {from_hex("4a656665"), "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::vector<unsigned char>(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::vector<unsigned char>(131, 0xaa),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& r : rows) {
    INFO("data " << std::string(r.data));
    auto m = mfakit::hmac_sha256(r.key, ascii(r.data));
    REQUIRE(m);
    CHECK(to_hex(*m) == r.mac);
  }
}

TEST_CASE("hmac_sha256: empty key and empty data", "[crypto]") {
  // reference values from Python's hmac module
  auto m = mfakit::hmac_sha256({}, ascii("abc"));
  REQUIRE(m);
  CHECK(to_hex(*m) == "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351");
  auto e = mfakit::hmac_sha256(ascii("key"), {});
  REQUIRE(e);
  CHECK(to_hex(*e) == "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0");
}

// --- scrypt -----------------------------------------------------------------------------------------

TEST_CASE("scrypt: RFC 7914 section 12 vectors", "[crypto][rfc][scrypt]") {
  struct row {
    std::string_view password;
    std::string_view salt;
    mfakit::scrypt_params cost;
    std::string_view out;
  };
  const auto r = GENERATE(row{"",
                              "",
                              {16, 1, 1},
                              "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                              "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
                          row{"password",
                              "NaCl",
                              {1024, 8, 16},
                              "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                              "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"},
                          row{"pleaseletmein",
                              "SodiumChloride",
                              {16384, 8, 1},
                              "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
                              "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"});
  INFO("password \"" << std::string(r.password) << "\", N " << r.cost.n);
  std::array<unsigned char, 64> out{};
  REQUIRE(mfakit::scrypt(ascii(r.password), ascii(r.salt), r.cost, out));
  CHECK(to_hex(out) == r.out);
  // a shorter output is a prefix (PBKDF2 output blocks)
  std::array<unsigned char, 16> part{};
  REQUIRE(mfakit::scrypt(ascii(r.password), ascii(r.salt), r.cost, part));
  CHECK(to_hex(part) == r.out.substr(0, 32));
}

TEST_CASE("scrypt: parameter validation", "[crypto][scrypt]") {
  struct row {
    mfakit::scrypt_params p;
    bool ok;
  };
  const auto r = GENERATE(
      row{{2, 1, 1}, true}, row{{1, 1, 1}, false}, row{{0, 1, 1}, false}, row{{3, 1, 1}, false},
      row{{1024, 8, 1}, true}, row{{1000, 8, 1}, false}, row{{1ULL << 15, 1, 1}, true},
      row{{1ULL << 16, 1, 1}, false} /* RFC 7914: N < 2^(16 r) */, row{{1ULL << 18, 8, 1}, true},
      row{{1ULL << 19, 8, 1}, false} /* 512 MiB: over max_scrypt_memory */, row{{1ULL << 24, 1, 1}, false},
      row{{1ULL << 25, 1, 1}, false}, row{{1ULL << 63, 1, 1}, false}, row{{16, 0, 1}, false}, row{{16, 64, 1}, true},
      row{{16, 65, 1}, false}, row{{16, 1, 0}, false}, row{{16, 1, 16}, true}, row{{16, 1, 17}, false});
  INFO("N " << r.p.n << " r " << r.p.r << " p " << r.p.p);
  CHECK(mfakit::valid(r.p) == r.ok);
  if (!r.ok) {
    std::array<unsigned char, 8> out{};
    CHECK(mfakit::scrypt(ascii("pw"), ascii("salt"), r.p, out).error() == errc::invalid_argument);
  }
}

TEST_CASE("scrypt: an empty output is invalid, defaults are 2^14, 8, 1", "[crypto][scrypt]") {
  CHECK(mfakit::scrypt(ascii("pw"), ascii("salt"), {16, 1, 1}, std::span<unsigned char>{}).error() ==
        errc::invalid_argument);
  const mfakit::scrypt_params d{};
  CHECK(d.n == 16384);
  CHECK(d.r == 8);
  CHECK(d.p == 1);
  CHECK(mfakit::valid(d));
}
