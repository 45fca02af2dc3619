// Secrets at rest (seal.hpp): AES-256-GCM bound to the user id, key ids and
// rotation, tamper detection on every byte, fresh nonces from the injected
// random source, and the named unsafe_plaintext scheme kept apart from it.
#include <mfakit/seal.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"

using mfakit::errc;
using mfakit::sealing_key;
using mfakit::secret_box;

namespace {

std::array<unsigned char, 32> key_bytes(unsigned char seed) {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(seed * 17U + i * 5U + 1U);
  return k;
}

mfakit::secret make_secret(std::size_t n, unsigned char seed = 1) {
  std::vector<unsigned char> b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed + i * 11U);
  return mfakit::secret::from_bytes(b).value();
}

/// Hands out a scripted byte sequence and counts what was asked.
struct scripted_random {
  std::deque<unsigned char> bytes;
  int calls = 0;
  std::size_t requested = 0;
  bool fill(std::span<unsigned char> out) {
    ++calls;
    requested += out.size();
    if (bytes.size() < out.size()) return false;
    for (auto& b : out) {
      b = bytes.front();
      bytes.pop_front();
    }
    return true;
  }
};

struct failing_random {
  int calls = 0;
  bool fill(std::span<unsigned char> /*out*/) {
    ++calls;
    return false;
  }
};

secret_box box_with(std::uint32_t current, std::vector<std::pair<std::uint32_t, unsigned char>> ids) {
  std::vector<sealing_key> keys;
  for (auto [id, seed] : ids) keys.emplace_back(id, key_bytes(seed));
  auto b = secret_box::aes_256_gcm(current, std::move(keys));
  REQUIRE(b);
  return std::move(*b);
}

std::uint32_t key_id_of(const std::string& sealed) {
  REQUIRE(sealed.size() >= 5);
  std::uint32_t id = 0;
  for (std::size_t i = 1; i <= 4; ++i) id = (id << 8U) | static_cast<unsigned char>(sealed[i]);
  return id;
}

}  // namespace

TEST_CASE("AES-256-GCM round trip for every secret length", "[seal]") {
  const secret_box box = box_with(1, {{1, 1}});
  mfakit::openssl_random rng;
  CHECK_FALSE(box.is_unsafe_plaintext());
  CHECK(box.current_key_id() == 1);
  for (std::size_t n = mfakit::min_secret_bytes; n <= mfakit::max_secret_bytes; ++n) {
    const auto s = make_secret(n, static_cast<unsigned char>(n));
    auto sealed = box.seal("alice", s, rng);
    REQUIRE(sealed);
    CHECK(sealed->size() == 1 + 4 + secret_box::nonce_bytes + n + secret_box::tag_bytes);
    CHECK(static_cast<unsigned char>((*sealed)[0]) == secret_box::scheme_aes_256_gcm);
    CHECK(key_id_of(*sealed) == 1);
    // the secret does not appear in clear
    const std::string clear(reinterpret_cast<const char*>(s.bytes().data()), s.size());  // NOLINT
    CHECK(sealed->find(clear) == std::string::npos);
    auto opened = box.open("alice", *sealed);
    REQUIRE(opened);
    CHECK(*opened == s);
  }
}

TEST_CASE("the user id is bound as associated data", "[seal]") {
  const secret_box box = box_with(1, {{1, 1}});
  mfakit::openssl_random rng;
  const auto s = make_secret(20);
  const std::string user("alice\0x", 7);
  auto sealed = box.seal(user, s, rng);
  REQUIRE(sealed);
  REQUIRE(box.open(user, *sealed));
  for (std::string other : {std::string("alice"), std::string("alice\0y", 7), std::string("Alice\0x", 7),
                            std::string("alice\0x\0", 8), std::string(), std::string("bob")}) {
    auto r = box.open(other, *sealed);
    CHECK_FALSE(r);
    CHECK(r.error() == errc::seal_failure);
  }
}

TEST_CASE("changing any byte of a sealed secret makes it fail to open", "[seal]") {
  const secret_box box = box_with(1, {{1, 1}, {2, 2}});
  mfakit::openssl_random rng;
  const auto s = make_secret(32);
  auto sealed = box.seal("alice", s, rng);
  REQUIRE(sealed);
  std::size_t checked = 0;
  for (std::size_t pos = 0; pos < sealed->size(); ++pos) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      std::string t = *sealed;
      t[pos] = static_cast<char>(static_cast<unsigned char>(t[pos]) ^ (1U << bit));
      auto r = box.open("alice", t);
      if (r || r.error() != errc::seal_failure)
        FAIL(fmt::format("bit {} of byte {} flipped: not a seal_failure", bit, pos));
      ++checked;
    }
  }
  CHECK(checked == sealed->size() * 8);
  // shorter and longer blobs
  for (std::size_t n = 0; n < sealed->size(); ++n)
    CHECK(box.open("alice", sealed->substr(0, n)).error() == errc::seal_failure);
  CHECK(box.open("alice", *sealed + '\0').error() == errc::seal_failure);
  CHECK(box.open("alice", *sealed + std::string(100, 'x')).error() == errc::seal_failure);
  // the id of the other key held by the box: a known key, still refused
  std::string other_id = *sealed;
  other_id[4] = 2;
  CHECK(box.open("alice", other_id).error() == errc::seal_failure);
}

TEST_CASE("unknown key ids and wrong key material are refused", "[seal]") {
  mfakit::openssl_random rng;
  const auto s = make_secret(20);
  auto sealed = box_with(1, {{1, 1}}).seal("alice", s, rng);
  REQUIRE(sealed);
  CHECK(box_with(2, {{2, 2}}).open("alice", *sealed).error() == errc::seal_failure);  // id unknown
  CHECK(box_with(1, {{1, 9}}).open("alice", *sealed).error() == errc::seal_failure);  // same id, other key
  CHECK(box_with(7, {{7, 1}}).open("alice", *sealed).error() == errc::seal_failure);  // same key, other id
  CHECK(box_with(2, {{2, 2}, {1, 1}}).open("alice", *sealed).value() == s);           // held: opens
}

TEST_CASE("key rotation: old records open, new records use the new key", "[seal]") {
  mfakit::openssl_random rng;
  const auto s = make_secret(20);
  const secret_box v1 = box_with(1, {{1, 1}});
  auto old_sealed = v1.seal("alice", s, rng);
  REQUIRE(old_sealed);
  CHECK(key_id_of(*old_sealed) == 1);

  const secret_box v2 = box_with(2, {{1, 1}, {2, 2}});
  CHECK(v2.current_key_id() == 2);
  auto opened = v2.open("alice", *old_sealed);
  REQUIRE(opened);
  CHECK(*opened == s);
  auto new_sealed = v2.seal("alice", s, rng);
  REQUIRE(new_sealed);
  CHECK(key_id_of(*new_sealed) == 2);
  CHECK(v2.open("alice", *new_sealed).value() == s);
  CHECK(v1.open("alice", *new_sealed).error() == errc::seal_failure);  // the old box lacks key 2
  // once key 1 is retired, its records no longer open
  const secret_box v3 = box_with(2, {{2, 2}});
  CHECK(v3.open("alice", *old_sealed).error() == errc::seal_failure);
  CHECK(v3.open("alice", *new_sealed).value() == s);
  // large ids survive the big-endian encoding
  const secret_box big = box_with(0xFEDCBA98U, {{0xFEDCBA98U, 3}});
  auto b = big.seal("alice", s, rng);
  REQUIRE(b);
  CHECK(key_id_of(*b) == 0xFEDCBA98U);
  CHECK(big.open("alice", *b).value() == s);
}

TEST_CASE("reseal: a record under an older key is sealed again under the current one", "[seal]") {
  mfakit::openssl_random rng;
  const auto s = make_secret(32);
  const secret_box v1 = box_with(1, {{1, 1}});
  const secret_box v2 = box_with(2, {{1, 1}, {2, 2}});
  auto old_sealed = v1.seal("alice", s, rng).value();
  CHECK_FALSE(v1.needs_reseal(old_sealed));
  CHECK(v2.needs_reseal(old_sealed));
  auto moved = v2.reseal("alice", old_sealed, rng);
  REQUIRE(moved);
  CHECK(key_id_of(*moved) == 2);
  CHECK_FALSE(v2.needs_reseal(*moved));
  CHECK(box_with(2, {{2, 2}}).open("alice", *moved).value() == s);
  // a fresh nonce: resealing under the same key twice gives different bytes
  auto again = v2.reseal("alice", *moved, rng);
  REQUIRE(again);
  CHECK(*again != *moved);
  CHECK(v2.open("alice", *again).value() == s);
  // the user id still binds: another user's record does not move
  CHECK(v2.reseal("bob", old_sealed, rng).error() == errc::seal_failure);
  // nothing to move for a plaintext box, a record of another scheme or a scrap
  CHECK_FALSE(secret_box::unsafe_plaintext().needs_reseal(old_sealed));
  CHECK_FALSE(v2.needs_reseal(secret_box::unsafe_plaintext().seal("alice", s, rng).value()));
  CHECK_FALSE(v2.needs_reseal(""));
  CHECK_FALSE(v2.needs_reseal(std::string_view(old_sealed).substr(0, 4)));
}

TEST_CASE("a context reused after a good open still checks the tag of the next one", "[seal]") {
  // contexts are reused between calls, and GCM keeps the last tag it saw:
  // each open must be checked against its own tag, on one thread, in a row
  mfakit::openssl_random rng;
  const secret_box box = box_with(1, {{1, 1}});
  const auto s = make_secret(20);
  const std::string x = box.seal("alice", s, rng).value();
  const std::string y = box.seal("bob", make_secret(20, 9), rng).value();
  for (int round = 0; round < 3; ++round) {
    REQUIRE(box.open("alice", x).value() == s);
    std::string bad_tag = x;
    bad_tag.back() = static_cast<char>(bad_tag.back() ^ 0x80);
    CHECK(box.open("alice", bad_tag).error() == errc::seal_failure);
    REQUIRE(box.open("alice", x).value() == s);
    // bob's record carrying alice's (good) tag
    std::string swapped = y;
    std::copy(x.end() - secret_box::tag_bytes, x.end(), swapped.end() - secret_box::tag_bytes);
    CHECK(box.open("bob", swapped).error() == errc::seal_failure);
    REQUIRE(box.open("alice", x).value() == s);
    CHECK(box.open("bob", x).error() == errc::seal_failure);  // the right tag, the wrong user
    // a seal between opens leaves no tag behind either
    REQUIRE(box.seal("carol", s, rng));
    CHECK(box.open("alice", bad_tag).error() == errc::seal_failure);
  }
}

TEST_CASE("one box used concurrently by more threads than it keeps spare contexts: every seal and open round-trips",
          "[seal]") {
  // more threads than the box keeps spare contexts per key (8), on two keys,
  // with a refused open (tampered) mixed in: a context that saw an error is
  // not reused, the others are handed between threads (the tsan preset runs this)
  const secret_box box = box_with(2, {{1, 1}, {2, 2}});
  mfakit::openssl_random rng;
  const auto s = make_secret(20);
  const std::string old_sealed = box_with(1, {{1, 1}}).seal("alice", s, rng).value();
  constexpr int threads = 12;
  constexpr int rounds = 300;
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      mfakit::openssl_random local_rng;
      const std::string user = fmt::format("user-{}", t);
      const auto mine = make_secret(16 + static_cast<std::size_t>(t), static_cast<unsigned char>(t));
      for (int i = 0; i < rounds; ++i) {
        auto sealed = box.seal(user, mine, local_rng);
        if (!sealed) {
          ++failures;
          continue;
        }
        auto opened = box.open(user, *sealed);
        if (!opened || !(*opened == mine)) ++failures;
        auto old_opened = box.open("alice", old_sealed);
        if (!old_opened || !(*old_opened == s)) ++failures;
        std::string tampered = *sealed;
        tampered.back() = static_cast<char>(tampered.back() ^ 1);
        if (box.open(user, tampered).error() != errc::seal_failure) ++failures;
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(failures.load() == 0);
}

TEST_CASE("keyrings with duplicate ids or without the current key are refused", "[seal]") {
  CHECK(secret_box::aes_256_gcm(1, {sealing_key(1, key_bytes(1)), sealing_key(1, key_bytes(2))}).error() ==
        errc::invalid_argument);
  CHECK(secret_box::aes_256_gcm(
            1, {sealing_key(1, key_bytes(1)), sealing_key(2, key_bytes(2)), sealing_key(2, key_bytes(3))})
            .error() == errc::invalid_argument);
  CHECK(secret_box::aes_256_gcm(3, {sealing_key(1, key_bytes(1)), sealing_key(2, key_bytes(2))}).error() ==
        errc::invalid_argument);
  CHECK(secret_box::aes_256_gcm(0, {}).error() == errc::invalid_argument);
  // an all-zero key is a configuration never filled in, current or retired
  const std::array<unsigned char, 32> zero{};
  CHECK(secret_box::aes_256_gcm(1, {sealing_key(1, zero)}).error() == errc::invalid_argument);
  CHECK(secret_box::aes_256_gcm(2, {sealing_key(1, zero), sealing_key(2, key_bytes(2))}).error() ==
        errc::invalid_argument);
  std::array<unsigned char, 32> one_bit{};
  one_bit[31] = 1;
  CHECK(secret_box::aes_256_gcm(1, {sealing_key(1, one_bit)}));
  CHECK(secret_box::aes_256_gcm(2, {sealing_key(1, key_bytes(1)), sealing_key(2, key_bytes(2))}));
}

TEST_CASE("every seal draws a fresh nonce from the random source", "[seal]") {
  const secret_box box = box_with(1, {{1, 1}});
  const auto s = make_secret(20);
  mfakit::openssl_random real;
  auto a = box.seal("alice", s, real);
  auto b = box.seal("alice", s, real);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->substr(5, secret_box::nonce_bytes) != b->substr(5, secret_box::nonce_bytes));
  CHECK(*a != *b);
  CHECK(box.open("alice", *a).value() == box.open("alice", *b).value());

  scripted_random scripted;
  for (unsigned i = 0; i < secret_box::nonce_bytes; ++i) scripted.bytes.push_back(static_cast<unsigned char>(0xC0 + i));
  auto c = box.seal("alice", s, scripted);
  REQUIRE(c);
  CHECK(scripted.calls == 1);
  CHECK(scripted.requested == secret_box::nonce_bytes);
  std::string expected_nonce;
  for (unsigned i = 0; i < secret_box::nonce_bytes; ++i) expected_nonce.push_back(static_cast<char>(0xC0 + i));
  CHECK(c->substr(5, secret_box::nonce_bytes) == expected_nonce);
  CHECK(box.open("alice", *c).value() == s);
}

TEST_CASE("a failing random source gives random_failure and no blob", "[seal]") {
  const secret_box box = box_with(1, {{1, 1}});
  failing_random rng;
  auto r = box.seal("alice", make_secret(20), rng);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::random_failure);
  CHECK(rng.calls == 1);
  scripted_random short_script;  // fewer bytes than a nonce: the source refuses
  short_script.bytes.assign(5, 0);
  CHECK(box.seal("alice", make_secret(20), short_script).error() == errc::random_failure);
}

TEST_CASE("unsafe_plaintext round trips and stays apart from AES-GCM", "[seal]") {
  const secret_box plain = secret_box::unsafe_plaintext();
  const secret_box aes = box_with(1, {{1, 1}});
  CHECK(plain.is_unsafe_plaintext());
  failing_random no_rng;  // plaintext needs no randomness
  const auto s = make_secret(20);
  auto p = plain.seal("alice", s, no_rng);
  REQUIRE(p);
  CHECK(no_rng.calls == 0);
  CHECK(p->size() == 1 + s.size());
  CHECK(static_cast<unsigned char>((*p)[0]) == secret_box::scheme_unsafe_plaintext);
  CHECK(p->substr(1) == std::string(reinterpret_cast<const char*>(s.bytes().data()), s.size()));  // NOLINT
  CHECK(plain.open("alice", *p).value() == s);

  mfakit::openssl_random rng;
  auto a = aes.seal("alice", s, rng);
  REQUIRE(a);
  CHECK(aes.open("alice", *p).error() == errc::seal_failure);
  CHECK(plain.open("alice", *a).error() == errc::seal_failure);
  CHECK(plain.open("alice", "").error() == errc::seal_failure);
  CHECK(aes.open("alice", "").error() == errc::seal_failure);
}

TEST_CASE("only secrets of a usable length are sealed", "[seal]") {
  mfakit::openssl_random rng;
  const mfakit::secret empty;
  for (const secret_box& box : {box_with(1, {{1, 1}}), secret_box::unsafe_plaintext()}) {
    auto r = box.seal("alice", empty, rng);
    CHECK_FALSE(r);
    CHECK(r.error() == errc::invalid_secret);
  }
  // a plaintext blob of a length no secret has does not open (whatever the error says)
  const secret_box plain = secret_box::unsafe_plaintext();
  // (each built in place, not std::string(1, '\0') + std::string(n, 'k'): g++ 12
  // warns a false -Warray-bounds on that operator+, GCC bug 105651)
  for (std::size_t n : {std::size_t{15}, std::size_t{65}}) {
    std::string blob(1 + n, 'k');
    blob[0] = '\0';
    CHECK_FALSE(plain.open("alice", blob));
  }
  CHECK_FALSE(plain.open("alice", std::string(1, '\0')));
}
