// Backup codes (backup_codes.hpp): generation without modulo bias, parsing,
// and salted scrypt digests keyed with a pepper: derived from the sealing
// key by default, a host key, or none when the host says so.
#include <mfakit/backup_codes.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::backup_code;
using mfakit::backup_code_hasher;
using mfakit::errc;

constexpr std::string_view alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
constexpr mfakit::scrypt_params cheap{1024, 8, 1};  // tests only; default is 2^13

/// A deterministic byte stream for reproducible statistics: SHA-256 of
/// (seed, block counter), through OpenSSL. Test-only, never a key source.
struct sha256_stream {
  std::uint64_t seed;
  std::uint64_t block = 0;
  std::array<unsigned char, 32> buf{};
  std::size_t used = 32;
  bool fill(std::span<unsigned char> out) {
    for (auto& b : out) {
      if (used == buf.size()) {
        std::array<unsigned char, 16> in{};
        for (int i = 0; i < 8; ++i) {
          in[static_cast<std::size_t>(i)] = static_cast<unsigned char>(seed >> (8 * i));
          in[static_cast<std::size_t>(8 + i)] = static_cast<unsigned char>(block >> (8 * i));
        }
        ++block;
        auto h = mfakit::sha256(in);
        if (!h) return false;
        buf = *h;
        used = 0;
      }
      b = buf[used++];
    }
    return true;
  }
};

std::vector<std::string> strings(const std::vector<backup_code>& codes) {
  std::vector<std::string> out;
  for (const auto& c : codes) out.emplace_back(c.str());
  return out;
}

bool well_formed(std::string_view s) {
  if (s.size() != 9 || s[4] != '-') return false;
  for (std::size_t i = 0; i < 9; ++i)
    if (i != 4 && alphabet.find(s[i]) == std::string_view::npos) return false;
  return true;
}

struct symbol_stats {
  double chi_square = 0;
  double max_relative_deviation = 0;
  std::size_t total = 0;
};

template <class R>
symbol_stats symbol_statistics(R& rng, std::size_t symbols) {
  std::array<std::size_t, 31> counts{};
  std::size_t foreign = 0;
  std::size_t remaining_codes = symbols / 8;
  while (remaining_codes > 0) {
    const std::size_t n = std::min<std::size_t>(remaining_codes, mfakit::max_backup_code_count);
    auto codes = mfakit::generate_backup_codes(n, rng);
    REQUIRE(codes);
    for (const auto& c : *codes) {
      for (char ch : c.symbols()) {
        const auto idx = alphabet.find(ch);
        if (idx == std::string_view::npos) {
          ++foreign;
        } else {
          ++counts[idx];
        }
      }
    }
    remaining_codes -= n;
  }
  REQUIRE(foreign == 0);
  symbol_stats st;
  for (std::size_t c : counts) st.total += c;
  const double expected = static_cast<double>(st.total) / 31.0;
  for (std::size_t c : counts) {
    const double d = static_cast<double>(c) - expected;
    st.chi_square += d * d / expected;
    st.max_relative_deviation = std::max(st.max_relative_deviation, (d < 0 ? -d : d) / expected);
  }
  return st;
}

}  // namespace

// --- generation -----------------------------------------------------------------------------

TEST_CASE("codes look like xxxx-xxxx over the 31-symbol alphabet", "[backup_codes]") {
  STATIC_REQUIRE(mfakit::backup_code_alphabet == alphabet);
  STATIC_REQUIRE(mfakit::default_backup_code_count == 10);
  for (char bad : std::string_view("ilo01")) CHECK(alphabet.find(bad) == std::string_view::npos);
  auto codes = mfakit::generate_backup_codes();
  REQUIRE(codes);
  CHECK(codes->size() == 10);
  for (const auto& c : *codes) {
    INFO("code " << std::string(c.str()));
    CHECK(well_formed(c.str()));
    const auto sym = c.symbols();
    CHECK(std::string(sym.begin(), sym.end()) == std::string(c.str().substr(0, 4)) + std::string(c.str().substr(5)));
  }
}

TEST_CASE("count: 1..64, else invalid_argument", "[backup_codes]") {
  CHECK(mfakit::generate_backup_codes(1)->size() == 1);
  CHECK(mfakit::generate_backup_codes(64)->size() == 64);
  CHECK(mfakit::generate_backup_codes(0).error() == errc::invalid_argument);
  CHECK(mfakit::generate_backup_codes(65).error() == errc::invalid_argument);
}

TEST_CASE("codes are unique within each set, over many sets", "[backup_codes]") {
  std::set<std::string> all;
  for (int set = 0; set < 2000; ++set) {
    auto codes = mfakit::generate_backup_codes();
    REQUIRE(codes);
    const auto s = strings(*codes);
    const std::set<std::string> unique(s.begin(), s.end());
    if (unique.size() != s.size()) FAIL_CHECK("set " << set << " repeats a code");
    all.insert(s.begin(), s.end());
  }
  // 20 000 codes from 31^8: a collision across sets has probability ~2e-4
  CHECK(all.size() >= 19990);
}

TEST_CASE("from_indices maps index i to alphabet[i]", "[backup_codes]") {
  const std::array<std::uint8_t, 8> idx{0, 1, 2, 3, 4, 5, 6, 7};
  CHECK(backup_code::from_indices(idx).str() == "abcd-efgh");
  const std::array<std::uint8_t, 8> top{30, 29, 28, 27, 26, 25, 24, 23};
  CHECK(backup_code::from_indices(top).str() == "9876-5432");
}

TEST_CASE("rejection sampling: bytes >= 248 are discarded, never folded", "[backup_codes][uniform]") {
  SECTION("248..255 then 0..7 gives abcd-efgh") {
    mfakit_test::scripted_random src{{248, 249, 250, 251, 252, 253, 254, 255, 0, 1, 2, 3, 4, 5, 6, 7}};
    auto codes = mfakit::generate_backup_codes(1, src);
    REQUIRE(codes);
    CHECK((*codes)[0].str() == "abcd-efgh");
    CHECK((*codes)[0].str()[0] == 'a');  // 248 % 31 would have been 0 too, 249 % 31 = 1 ('b'): not used
  }
  SECTION("the boundary: 247 is the last byte used, 248 the first rejected") {
    mfakit_test::scripted_random src{{247, 248, 31, 255, 61, 62, 250, 92, 93, 100, 200}};
    auto codes = mfakit::generate_backup_codes(1, src);
    REQUIRE(codes);
    // 247%31=30 '9', 31%31=0 'a', 61%31=30, 62%31=0, 92%31=30, 93%31=0, 100%31=7 'h', 200%31=14 'r'
    CHECK((*codes)[0].str() == "9a9a-9ahr");
  }
  SECTION("every byte value once: each symbol exactly 8 times in 248 symbols") {
    // With a naive b % 31 the symbols a..h would get 9 of 256, the rest 8.
    mfakit_test::scripted_random src;
    for (int r = 0; r < 2; ++r)
      for (int b = 0; b < 256; ++b) src.script.push_back(static_cast<unsigned char>(b));
    auto codes = mfakit::generate_backup_codes(31, src);
    REQUIRE(codes);
    std::array<int, 31> counts{};
    for (const auto& c : *codes)
      for (char ch : c.symbols()) ++counts[alphabet.find(ch)];
    for (std::size_t i = 0; i < counts.size(); ++i) {
      INFO("symbol " << alphabet[i]);
      CHECK(counts[i] == 8);
    }
  }
}

TEST_CASE("a source of only rejected bytes ends in random_failure, not a biased code", "[backup_codes][uniform]") {
  const unsigned char tail = GENERATE(static_cast<unsigned char>(248), static_cast<unsigned char>(255));
  mfakit_test::scripted_random src{{}, tail};
  auto codes = mfakit::generate_backup_codes(10, src);
  REQUIRE_FALSE(codes);
  CHECK(codes.error() == errc::random_failure);
  CHECK(src.calls >= 1);
  CHECK(src.calls <= 4096 / 64 + 1);  // gives up, does not spin forever
}

TEST_CASE("a failing source gives random_failure", "[backup_codes]") {
  SECTION("fails at once") {
    mfakit_test::failing_random src;
    auto codes = mfakit::generate_backup_codes(10, src);
    REQUIRE_FALSE(codes);
    CHECK(codes.error() == errc::random_failure);
  }
  SECTION("fails half-way through") {
    mfakit_test::scripted_random src{std::vector<unsigned char>(64, 5), 0, true};
    auto codes = mfakit::generate_backup_codes(10, src);  // needs 80 symbols
    REQUIRE_FALSE(codes);
    CHECK(codes.error() == errc::random_failure);
  }
}

TEST_CASE("uniformity: chi-square over 10^6 symbols, reproducible stream", "[backup_codes][uniform][statistics]") {
  // 30 degrees of freedom; p = 0.001 critical value 59.703. The stream is
  // fixed, so this cannot flake; a modulo bias would give a statistic near
  // 2800 (symbols a..h at 9/256 instead of 1/31).
  sha256_stream rng{0x6261636b75700001ULL};
  const symbol_stats st = symbol_statistics(rng, 1000000);
  INFO("chi-square " << st.chi_square << ", max relative deviation " << st.max_relative_deviation);
  CHECK(st.total == 1000000);
  CHECK(st.chi_square < 59.703);
  // sd of one count is sqrt(n p (1-p)) = 176.7 = 0.55 % of the expected
  // 32258; 3 % is 5.5 sd, so a 1 % bound would fail by chance most runs,
  // while the +9 % of a modulo bias stays far outside 3 %.
  CHECK(st.max_relative_deviation < 0.03);
}

TEST_CASE("uniformity: chi-square over 10^6 symbols from the OpenSSL source", "[backup_codes][uniform][statistics]") {
  // The production source is not reproducible, so the bound is p = 10^-6
  // (critical value 82.04 at 30 df) to keep CI from flaking.
  mfakit::openssl_random rng;
  const symbol_stats st = symbol_statistics(rng, 1000000);
  INFO("chi-square " << st.chi_square << ", max relative deviation " << st.max_relative_deviation);
  CHECK(st.total == 1000000);
  CHECK(st.chi_square < 82.04);
  CHECK(st.max_relative_deviation < 0.03);
}

// --- parsing ------------------------------------------------------------------------------------

TEST_CASE("parse: any case, with or without the dash, surrounding white space", "[backup_codes][parse]") {
  const std::string_view input =
      GENERATE(as<std::string_view>{}, "abcd-efgh", "abcdefgh", "ABCD-EFGH", "ABCDEFGH", "AbCd-eFgH", " abcd-efgh",
               "abcd-efgh ", "\tabcd-efgh\n", "\r\nABCDEFGH\r\n", "  \t abcdefgh \t  ");
  INFO("input [" << std::string(input) << "]");
  auto c = backup_code::parse(input);
  REQUIRE(c);
  CHECK(c->str() == "abcd-efgh");
}

TEST_CASE("parse: wrong forms are malformed_code", "[backup_codes][parse]") {
  const std::string_view input =
      GENERATE(as<std::string_view>{}, "", " ", "abcd-efg", "abcdefg", "abcd-efghj", "abcdefghj", "abc-defgh",
               "abcde-fgh", "abcdefgh-", "-abcdefgh", "abcd--efgh", "abcd efgh", "abcd_efgh", "abcd\tefgh", "abcd-efgi",
               "abcd-efgl", "abcd-efgo", "abcd-efg0", "abcd-efg1", "ABCD-EFGI", "ABCD-EFGL", "ABCD-EFGO", "abcd-ef!h",
               "abcd-éfgh", "abcd-efgh\v", "\fabcd-efgh", "ab cd-efgh");
  INFO("input [" << std::string(input) << "]");
  mfakit::result<backup_code> c = errc::crypto_failure;
  CHECK_NOTHROW(c = backup_code::parse(input));
  REQUIRE_FALSE(c);
  CHECK(c.error() == errc::malformed_code);
}

TEST_CASE("parse: a NUL byte is not accepted", "[backup_codes][parse]") {
  CHECK(backup_code::parse(std::string_view("abcd\0efg", 8)).error() == errc::malformed_code);
  CHECK(backup_code::parse(std::string_view("abcd-efgh\0", 10)).error() == errc::malformed_code);
}

// --- digests --------------------------------------------------------------------------------------

TEST_CASE("digest and match with a cheap cost", "[backup_codes][digest]") {
  auto codes = mfakit::generate_backup_codes();
  REQUIRE(codes);
  const auto hasher = backup_code_hasher::unsafe_without_pepper(cheap);
  CHECK(hasher.cost() == cheap);
  auto d = hasher.digest(*codes);
  REQUIRE(d);
  CHECK(d->remaining() == 10);
  CHECK(d->cost == cheap);  // the cost is stored with the set

  SECTION("each code is found at its index, in any input form") {
    for (std::size_t i = 0; i < codes->size(); ++i) {
      const std::string s((*codes)[i].str());
      std::string upper = s;
      for (char& ch : upper)
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
      const std::string no_dash = s.substr(0, 4) + s.substr(5);
      for (const std::string& form : {s, upper, no_dash, " " + s + "\n", "\t" + upper.substr(0, 4) + upper.substr(5)}) {
        INFO("index " << i << " form [" << form << "]");
        auto m = hasher.match(*d, form);
        REQUIRE(m);
        CHECK(*m == i);
      }
    }
  }
  SECTION("a wrong code is code_mismatch; a malformed one malformed_code") {
    std::set<std::string> issued;
    for (const auto& c : *codes) issued.emplace(c.str());
    std::string wrong((*codes)[0].str());
    for (char alt : alphabet) {
      wrong[8] = alt;
      if (issued.count(wrong) == 0) break;
    }
    REQUIRE(issued.count(wrong) == 0);
    CHECK(hasher.match(*d, wrong).error() == errc::code_mismatch);
    CHECK(hasher.match(*d, "abcd-efgi").error() == errc::malformed_code);
    CHECK(hasher.match(*d, "").error() == errc::malformed_code);
  }
  SECTION("a used (removed) code no longer matches") {
    auto m = hasher.match(*d, (*codes)[3].str());
    REQUIRE(m);
    d->digests.erase(d->digests.begin() + static_cast<std::ptrdiff_t>(*m));
    CHECK(hasher.match(*d, (*codes)[3].str()).error() == errc::code_mismatch);
    CHECK(*hasher.match(*d, (*codes)[4].str()) == 3);  // indices shift
    CHECK(d->remaining() == 9);
  }
  SECTION("an empty set matches nothing") {
    d->digests.clear();
    CHECK(hasher.match(*d, (*codes)[0].str()).error() == errc::code_mismatch);
  }
  SECTION("a set with a different salt does not match") {
    auto other = hasher.digest(*codes);
    REQUIRE(other);
    CHECK(other->salt != d->salt);
    auto swapped = *d;
    swapped.salt = other->salt;
    for (const auto& c : *codes) CHECK(hasher.match(swapped, c.str()).error() == errc::code_mismatch);
  }
  SECTION("the stored cost is used, not the hasher's") {
    const auto other_cost = backup_code_hasher::unsafe_without_pepper(mfakit::scrypt_params{2048, 8, 1});
    CHECK(*other_cost.match(*d, (*codes)[5].str()) == 5);
    auto changed = *d;
    changed.cost = mfakit::scrypt_params{2048, 8, 1};
    CHECK(hasher.match(changed, (*codes)[5].str()).error() == errc::code_mismatch);
  }
  SECTION("digests never contain the plaintext code") {
    for (std::size_t i = 0; i < codes->size(); ++i) {
      const auto sym = (*codes)[i].symbols();
      const std::string_view full = (*codes)[i].str();
      for (const auto& dig : d->digests) {
        const std::string_view bytes(reinterpret_cast<const char*>(dig.data()), dig.size());  // NOLINT
        CHECK(bytes.find(std::string_view(sym.data(), sym.size())) == std::string_view::npos);
        CHECK(bytes.find(full) == std::string_view::npos);
        CHECK(bytes.find(full.substr(0, 4)) == std::string_view::npos);
      }
    }
    // and all digests differ
    std::set<mfakit::backup_code_digest> unique(d->digests.begin(), d->digests.end());
    CHECK(unique.size() == d->digests.size());
  }
}

TEST_CASE("the same code under two salts gives different digests", "[backup_codes][digest]") {
  const std::array<std::uint8_t, 8> idx{1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<backup_code> one{backup_code::from_indices(idx)};
  const auto hasher = backup_code_hasher::unsafe_without_pepper(cheap);
  auto a = hasher.digest(one);
  auto b = hasher.digest(one);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->salt != b->salt);
  CHECK(a->digests[0] != b->digests[0]);
  CHECK_FALSE(*a == *b);
  // and a fixed salt makes the digest deterministic
  mfakit_test::scripted_random fixed{std::vector<unsigned char>(16, 0x11)};
  mfakit_test::scripted_random fixed2{std::vector<unsigned char>(16, 0x11)};
  auto c = hasher.digest(one, fixed);
  auto e = hasher.digest(one, fixed2);
  REQUIRE(c);
  REQUIRE(e);
  CHECK(*c == *e);
}

TEST_CASE("the digest is scrypt(symbols, salt) without a host key", "[backup_codes][digest]") {
  const std::array<std::uint8_t, 8> idx{0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<backup_code> one{backup_code::from_indices(idx)};
  mfakit_test::scripted_random fixed{std::vector<unsigned char>(16, 0x22)};
  auto d = backup_code_hasher::unsafe_without_pepper(cheap).digest(one, fixed);
  REQUIRE(d);
  std::array<unsigned char, 32> want{};
  REQUIRE(mfakit::scrypt(mfakit_test::ascii("abcdefgh"), d->salt, cheap, want));
  CHECK(d->digests[0] == want);
}

TEST_CASE("host key (pepper)", "[backup_codes][digest]") {
  auto codes = mfakit::generate_backup_codes(3);
  REQUIRE(codes);
  const std::vector<unsigned char> key_a(32, 0xA1);
  const std::vector<unsigned char> key_b(32, 0xB2);
  const backup_code_hasher with_a(cheap, key_a);
  auto d = with_a.digest(*codes);
  REQUIRE(d);
  for (std::size_t i = 0; i < codes->size(); ++i) CHECK(*with_a.match(*d, (*codes)[i].str()) == i);
  const auto without = backup_code_hasher::unsafe_without_pepper(cheap);
  const backup_code_hasher with_b(cheap, key_b);
  for (const auto& c : *codes) {
    CHECK(without.match(*d, c.str()).error() == errc::seal_failure);  // the set needs a host key
    CHECK(with_b.match(*d, c.str()).error() == errc::code_mismatch);
  }
  // and the other way round: a set made without a key is refused by a
  // hasher with one (never weaker than configured: someone who can write
  // the database could otherwise store unpeppered digests of codes of theirs)
  auto plain = without.digest(*codes);
  REQUIRE(plain);
  CHECK(with_a.match(*plain, (*codes)[0].str()).error() == errc::seal_failure);
  CHECK(*without.match(*plain, (*codes)[0].str()) == 0);
}

TEST_CASE("digest: failures", "[backup_codes][digest]") {
  auto codes = mfakit::generate_backup_codes(2);
  REQUIRE(codes);
  SECTION("a failing source for the salt") {
    CHECK(backup_code_hasher::unsafe_without_pepper(cheap).digest(*codes, mfakit_test::failing_random{}).error() == errc::random_failure);
  }
  SECTION("an invalid cost") {
    const mfakit::scrypt_params bad = GENERATE(mfakit::scrypt_params{1000, 8, 1}, mfakit::scrypt_params{0, 8, 1},
                                               mfakit::scrypt_params{1024, 0, 1}, mfakit::scrypt_params{1024, 8, 0});
    CHECK(backup_code_hasher::unsafe_without_pepper(bad).digest(*codes).error() == errc::invalid_argument);
    // a stored set with a corrupt cost is an error, not a mismatch
    auto d = backup_code_hasher::unsafe_without_pepper(cheap).digest(*codes);
    REQUIRE(d);
    d->cost = bad;
    CHECK(backup_code_hasher::unsafe_without_pepper(cheap).match(*d, (*codes)[0].str()).error() == errc::invalid_argument);
  }
  SECTION("zero codes: a salt and no digests") {
    auto d = backup_code_hasher::unsafe_without_pepper(cheap).digest(std::span<const backup_code>{});
    REQUIRE(d);
    CHECK(d->remaining() == 0);
  }
}

TEST_CASE("salts are distinct over many sets", "[backup_codes][digest]") {
  std::set<std::array<unsigned char, mfakit::backup_code_salt_bytes>> salts;
  const auto hasher = backup_code_hasher::unsafe_without_pepper(cheap);
  for (int i = 0; i < 10000; ++i) {
    auto d = hasher.digest(std::span<const backup_code>{});
    REQUIRE(d);
    salts.insert(d->salt);
  }
  CHECK(salts.size() == 10000);
}

TEST_CASE("digest and match at the default cost", "[backup_codes][digest][slow]") {
  const backup_code_hasher hasher;
  CHECK(hasher.cost() == backup_code_hasher::default_cost);
  CHECK(backup_code_hasher::default_cost == mfakit::scrypt_params{8192, 8, 1});
  mfakit::detail::pepper_ring ring;
  REQUIRE(ring.add(1, std::vector<unsigned char>(32, 0x5C)));
  ring.set_current(1);
  auto codes = mfakit::generate_backup_codes(2);
  REQUIRE(codes);
  auto d = hasher.digest(*codes, &ring);
  REQUIRE(d);
  CHECK(d->cost == backup_code_hasher::default_cost);
  CHECK(*hasher.match(*d, (*codes)[1].str(), &ring) == 1);
}

namespace {
using mfakit::backup_pepper;
using mfakit::detail::pepper_ring;

std::vector<unsigned char> sealing_bytes(unsigned char seed) {
  std::vector<unsigned char> k(32);
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(seed + 7 * i);
  return k;
}

void add_key(pepper_ring& ring, std::uint32_t id, unsigned char seed) { REQUIRE(ring.add(id, sealing_bytes(seed))); }
}  // namespace

TEST_CASE("the default pepper is derived from the sealing key", "[backup_codes][digest][pepper]") {
  pepper_ring ring;
  add_key(ring, 7, 1);
  ring.set_current(7);
  const backup_code_hasher hasher(cheap);  // the default: no host key, no opt-out
  CHECK(hasher.pepper() == backup_code_hasher::pepper_source::sealing_key);
  CHECK_FALSE(hasher.problem());
  auto codes = mfakit::generate_backup_codes(3);
  REQUIRE(codes);
  auto d = hasher.digest(*codes, &ring);
  REQUIRE(d);
  CHECK(d->pepper == backup_pepper::sealing_key);
  CHECK(d->pepper_key_id == 7);
  for (std::size_t i = 0; i < codes->size(); ++i) CHECK(*hasher.match(*d, (*codes)[i].str(), &ring) == i);

  // the digest is scrypt(HMAC(HMAC(sealing key, label), symbols), salt)
  auto pepper = mfakit::hmac_sha256(sealing_bytes(1), mfakit_test::ascii("mfakit/backup-code-pepper/v1"));
  REQUIRE(pepper);
  const auto sym = (*codes)[0].symbols();
  auto keyed = mfakit::hmac_sha256(*pepper, mfakit_test::ascii(std::string_view(sym.data(), sym.size())));
  REQUIRE(keyed);
  mfakit::backup_code_digest want{};
  REQUIRE(mfakit::scrypt(*keyed, d->salt, cheap, want));
  CHECK(d->digests[0] == want);

  // so neither an unpeppered hasher nor another sealing key finds the codes
  const auto none = backup_code_hasher::unsafe_without_pepper(cheap);
  pepper_ring other;
  add_key(other, 7, 2);  // the same id, another key
  other.set_current(7);
  for (const auto& c : *codes) {
    CHECK(hasher.match(*d, c.str(), &other).error() == errc::code_mismatch);
    mfakit::backup_code_digests unpeppered = *d;
    unpeppered.pepper = backup_pepper::none;
    CHECK(none.match(unpeppered, c.str()).error() == errc::code_mismatch);
  }
}

TEST_CASE("the default pepper needs the keyring", "[backup_codes][digest][pepper]") {
  auto codes = mfakit::generate_backup_codes(1);
  REQUIRE(codes);
  const backup_code_hasher hasher(cheap);
  // never an unpeppered set by omission
  CHECK(hasher.digest(*codes).error() == errc::invalid_argument);
  pepper_ring ring;
  add_key(ring, 1, 3);
  ring.set_current(1);
  auto d = hasher.digest(*codes, &ring);
  REQUIRE(d);
  CHECK(hasher.match(*d, (*codes)[0].str()).error() == errc::seal_failure);
  // a host that moved to a key of its own still checks the sets made with
  // the derived pepper while the ring holds their key
  const backup_code_hasher with_host(cheap, std::vector<unsigned char>(32, 0xA1));
  CHECK(*with_host.match(*d, (*codes)[0].str(), &ring) == 0);
  CHECK(with_host.match(*d, (*codes)[0].str()).error() == errc::seal_failure);
  // and an unpeppered set is refused where the ring has keys: a forged set
  // (digests of codes someone chose, written into the database) is not a login
  auto forged = backup_code_hasher::unsafe_without_pepper(cheap).digest(*codes);
  REQUIRE(forged);
  CHECK(hasher.match(*forged, (*codes)[0].str(), &ring).error() == errc::seal_failure);
  CHECK(with_host.match(*forged, (*codes)[0].str(), &ring).error() == errc::seal_failure);
}

TEST_CASE("sets stay verifiable across a key rotation while their key is in the ring", "[backup_codes][pepper]") {
  auto codes = mfakit::generate_backup_codes(2);
  REQUIRE(codes);
  const backup_code_hasher hasher(cheap);
  pepper_ring before;
  add_key(before, 1, 10);
  before.set_current(1);
  auto old_set = hasher.digest(*codes, &before);
  REQUIRE(old_set);

  pepper_ring rotated;  // key 2 is current, key 1 still held
  add_key(rotated, 1, 10);
  add_key(rotated, 2, 20);
  rotated.set_current(2);
  CHECK(*hasher.match(*old_set, (*codes)[1].str(), &rotated) == 1);
  auto new_set = hasher.digest(*codes, &rotated);
  REQUIRE(new_set);
  CHECK(new_set->pepper_key_id == 2);
  CHECK(*hasher.match(*new_set, (*codes)[0].str(), &rotated) == 0);

  pepper_ring retired;  // key 1 gone: its sets no longer verify, and say why
  add_key(retired, 2, 20);
  retired.set_current(2);
  CHECK(hasher.match(*old_set, (*codes)[0].str(), &retired).error() == errc::seal_failure);
  CHECK(*hasher.match(*new_set, (*codes)[0].str(), &retired) == 0);
}

TEST_CASE("a ring without keys makes unpeppered sets", "[backup_codes][pepper]") {
  // secret_box::unsafe_plaintext's ring: the database already holds every
  // secret in the clear, so a pepper would protect nothing
  const pepper_ring empty;
  auto codes = mfakit::generate_backup_codes(1);
  REQUIRE(codes);
  auto d = backup_code_hasher(cheap).digest(*codes, &empty);
  REQUIRE(d);
  CHECK(d->pepper == backup_pepper::none);
  CHECK(*backup_code_hasher::unsafe_without_pepper(cheap).match(*d, (*codes)[0].str()) == 0);
}

TEST_CASE("host key and opt-out sets name their pepper", "[backup_codes][pepper]") {
  auto codes = mfakit::generate_backup_codes(1);
  REQUIRE(codes);
  const backup_code_hasher with_host(cheap, std::vector<unsigned char>(32, 0xA1));
  CHECK(with_host.pepper() == backup_code_hasher::pepper_source::host_key);
  auto h = with_host.digest(*codes);
  REQUIRE(h);
  CHECK(h->pepper == backup_pepper::host_key);
  // a host key set needs the host key: the default hasher cannot check it
  pepper_ring ring;
  add_key(ring, 1, 4);
  ring.set_current(1);
  CHECK(backup_code_hasher(cheap).match(*h, (*codes)[0].str(), &ring).error() == errc::seal_failure);

  const auto none = backup_code_hasher::unsafe_without_pepper(cheap);
  CHECK(none.pepper() == backup_code_hasher::pepper_source::none);
  auto n = none.digest(*codes, &ring);  // the opt-out holds even with a ring at hand
  REQUIRE(n);
  CHECK(n->pepper == backup_pepper::none);
  CHECK(*none.match(*n, (*codes)[0].str(), &ring) == 0);
  CHECK(backup_code_hasher(cheap).match(*n, (*codes)[0].str(), &ring).error() == errc::seal_failure);
}

TEST_CASE("sets stored before sets named their pepper are still checked", "[backup_codes][pepper]") {
  auto codes = mfakit::generate_backup_codes(2);
  REQUIRE(codes);
  pepper_ring ring;
  add_key(ring, 1, 5);
  ring.set_current(1);
  // the old default (no host key): unpeppered digests
  auto plain = backup_code_hasher::unsafe_without_pepper(cheap).digest(*codes);
  REQUIRE(plain);
  plain->pepper = backup_pepper::host_key_if_any;
  CHECK(*backup_code_hasher(cheap).match(*plain, (*codes)[1].str(), &ring) == 1);
  // the old host key route (the pepper a host gave): still the host key
  const std::vector<unsigned char> key(32, 0xC3);
  auto keyed = backup_code_hasher(cheap, key).digest(*codes);
  REQUIRE(keyed);
  keyed->pepper = backup_pepper::host_key_if_any;
  CHECK(*backup_code_hasher(cheap, key).match(*keyed, (*codes)[0].str()) == 0);
  CHECK(backup_code_hasher(cheap).match(*keyed, (*codes)[0].str(), &ring).error() == errc::code_mismatch);
}

TEST_CASE("a host key shorter than 16 bytes is refused", "[backup_codes][pepper]") {
  auto codes = mfakit::generate_backup_codes(1);
  REQUIRE(codes);
  const backup_code_hasher short_key(cheap, std::vector<unsigned char>(15, 0x11));
  REQUIRE(short_key.problem());
  CHECK(std::string(*short_key.problem()).find("16 bytes") != std::string::npos);
  CHECK(short_key.digest(*codes).error() == errc::invalid_argument);
  const backup_code_hasher empty_key(cheap, {});
  CHECK(empty_key.problem());
  CHECK_FALSE(backup_code_hasher(cheap, std::vector<unsigned char>(16, 0x11)).problem());
}
