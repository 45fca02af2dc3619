// Base32 (RFC 4648 section 6) as used for otpauth secrets (base32.hpp).
#include <mfakit/base32.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::errc;
using mfakit_test::ascii;

std::string decoded(std::string_view text) {
  auto r = mfakit::base32_decode(text);
  if (!r) return "error: " + r.error().message();
  return {r->begin(), r->end()};
}

struct rfc_row {
  std::string_view plain;
  std::string_view padded;
  std::string_view unpadded;
};

// RFC 4648 section 10
constexpr rfc_row rfc4648[] = {
    {"", "", ""},
    {"f", "MY======", "MY"},
    {"fo", "MZXQ====", "MZXQ"},
    {"foo", "MZXW6===", "MZXW6"},
    {"foob", "MZXW6YQ=", "MZXW6YQ"},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
};

// --- references: the straightforward (branching, table-driven) implementations ---
// base32.hpp computes characters with masks so that the time does not depend
// on a secret (tests/ct); these say what it must compute, in the plainest way.

int ref_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

std::string ref_encode(const std::vector<unsigned char>& data) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char b : data) {
    buffer = (buffer << 8U) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(mfakit::base32_alphabet[(buffer >> static_cast<unsigned>(bits)) & 0x1FU]);
    }
  }
  if (bits > 0) out.push_back(mfakit::base32_alphabet[(buffer << static_cast<unsigned>(5 - bits)) & 0x1FU]);
  return out;
}

/// The decoder's rules, one at a time: spaces skipped, '=' only at the end
/// and exactly as many as the final group needs (or none), no length an
/// encoder cannot produce, and (strict) no set bit left over. nullopt: invalid.
std::optional<std::vector<unsigned char>> ref_decode(std::string_view text, bool strict) {
  std::vector<unsigned char> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t data_chars = 0;
  std::size_t pad_chars = 0;
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      ++pad_chars;
      continue;
    }
    const int v = ref_value(c);
    if (v < 0 || pad_chars != 0) return std::nullopt;
    buffer = (buffer << 5U) | static_cast<std::uint32_t>(v);
    bits += 5;
    ++data_chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>(buffer >> static_cast<unsigned>(bits)));
    }
  }
  const std::size_t rem = data_chars % 8;
  if (rem == 1 || rem == 3 || rem == 6) return std::nullopt;
  const std::size_t need[8] = {0, 0, 6, 0, 4, 3, 0, 1};
  if (pad_chars != 0 && pad_chars != need[rem]) return std::nullopt;
  if (strict && (buffer & ((1U << static_cast<unsigned>(bits)) - 1U)) != 0) return std::nullopt;
  return out;
}

/// base32_decode against ref_decode, both modes: the same verdict, the same
/// error, the same bytes. Returns false (after recording a failure) on a difference.
bool same_as_reference(std::string_view text) {
  for (const bool strict : {false, true}) {
    const auto want = ref_decode(text, strict);
    const auto got = mfakit::base32_decode(
        text, strict ? mfakit::base32_trailing_bits::reject : mfakit::base32_trailing_bits::ignore);
    const bool same =
        got.has_value() == want.has_value() &&
        (got ? std::vector<unsigned char>(got->begin(), got->end()) == *want : got.error() == errc::invalid_base32);
    if (!same) {
      FAIL_CHECK("base32_decode differs from the reference on [" << mfakit_test::to_hex(mfakit_test::ascii(text))
                                                                 << "] (hex), strict " << strict);
      return false;
    }
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

TEST_CASE("RFC 4648 section 10 vectors: encode writes the unpadded form", "[base32][rfc]") {
  for (const auto& r : rfc4648) {
    INFO("plain \"" << std::string(r.plain) << "\"");
    CHECK(mfakit::base32_encode(ascii(r.plain)) == r.unpadded);
  }
}

TEST_CASE("RFC 4648 section 10 vectors decode padded and unpadded", "[base32][rfc]") {
  for (const auto& r : rfc4648) {
    INFO("plain \"" << std::string(r.plain) << "\"");
    CHECK(decoded(r.padded) == r.plain);
    CHECK(decoded(r.unpadded) == r.plain);
    CHECK(decoded(lower(r.padded)) == r.plain);
    CHECK(decoded(lower(r.unpadded)) == r.plain);
  }
}

TEST_CASE("the Key URI example secret", "[base32]") {
  // google-authenticator wiki: JBSWY3DPEHPK3PXP = "Hello!" DE AD BE EF
  auto r = mfakit::base32_decode("JBSWY3DPEHPK3PXP");
  REQUIRE(r);
  CHECK(mfakit_test::to_hex(*r) == "48656c6c6f21deadbeef");
  CHECK(mfakit::base32_encode(*r) == "JBSWY3DPEHPK3PXP");
}

TEST_CASE("the alphabet maps to 0..31 in order", "[base32]") {
  STATIC_REQUIRE(mfakit::base32_alphabet.size() == 32);
  for (std::size_t i = 0; i < 32; ++i) {
    CHECK(mfakit::detail::base32_value(mfakit::base32_alphabet[i]) == static_cast<int>(i));
    CHECK(mfakit::detail::base32_value(lower(mfakit::base32_alphabet.substr(i, 1))[0]) == static_cast<int>(i));
  }
  // every other byte value is foreign
  int valid = 0;
  for (int c = 0; c < 256; ++c) valid += mfakit::detail::base32_value(static_cast<char>(c)) >= 0 ? 1 : 0;
  CHECK(valid == 32 + 26);
}

TEST_CASE("lenient input: case, spaces anywhere, padding present or absent", "[base32]") {
  const std::string_view text =
      GENERATE(as<std::string_view>{}, "MZXW6YTBOI", "MZXW6YTBOI======", "mzxw6ytboi", "MzXw6YtBoI", "MZXW 6YTB OI",
               " MZXW6YTBOI ", "M Z X W 6 Y T B O I", "MZXW6YTBOI== ====", "MZXW6YTBOI ======", "mzxw6ytboi======  ");
  INFO("input [" << std::string(text) << "]");
  CHECK(decoded(text) == "foobar");
}

TEST_CASE("foreign characters are rejected", "[base32]") {
  const std::string_view text =
      GENERATE(as<std::string_view>{}, "MZXW6YT0", "MZXW6YT1", "MZXW6YT8", "MZXW6YT9", "MZXW6YT!", "MZXW-6YTB",
               "MZXW\t6YTB", "MZXW6YTB\n", "MZXW6YTB\r", "MZXW_6YTB", "MZXW+6YTB", "MZXW/6YTB", "ÄZXW6YTB",
               "MZXW6YT\xff", "MZXW6YTB.", "=", "MY=====\xff");
  INFO("input [" << std::string(text) << "]");
  auto r = mfakit::base32_decode(text);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::invalid_base32);
}

TEST_CASE("a NUL byte is a foreign character, not an end of string", "[base32]") {
  const std::string with_nul(
      "MZXW\0"
      "6YTB",
      9);
  CHECK(mfakit::base32_decode(with_nul).error() == errc::invalid_base32);
}

TEST_CASE("misplaced and wrong padding is rejected", "[base32]") {
  const std::string_view text = GENERATE(as<std::string_view>{},
                                         "MY=====",    // 5 instead of 6
                                         "MY=======",  // 7
                                         "MY=",        // 1
                                         "MZXQ===",    // 3 instead of 4
                                         "MZXQ=====",  // 5
                                         "MZXW6==",    // 2 instead of 3
                                         "MZXW6YQ==",  // 2 instead of 1
                                         "MZXW6YTB=",  // a full group needs none
                                         "MZXW6YTB========", "========", "=MZXW6YTB", "MZ=XW6YTB", "MY======MY",
                                         "MY======MY======", "MZXW6YTBOI======A");
  INFO("input [" << std::string(text) << "]");
  auto r = mfakit::base32_decode(text);
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::invalid_base32);
}

TEST_CASE("lengths no encoder produces (1, 3 or 6 characters in the last group)", "[base32]") {
  const std::string full = "MZXW6YTBOIMZXW6Y";  // 16 characters
  for (std::size_t len = 0; len <= full.size(); ++len) {
    const std::string text = full.substr(0, len);
    INFO("length " << len);
    const std::size_t rem = len % 8;
    const bool possible = rem != 1 && rem != 3 && rem != 6;
    auto r = mfakit::base32_decode(text);
    CHECK(r.has_value() == possible);
    if (r) {
      CHECK(r->size() == len * 5 / 8);
    } else {
      CHECK(r.error() == errc::invalid_base32);
    }
  }
  // padded forms of impossible lengths are rejected as well
  CHECK(mfakit::base32_decode("M=======").error() == errc::invalid_base32);
  CHECK(mfakit::base32_decode("MZX=====").error() == errc::invalid_base32);
  CHECK(mfakit::base32_decode("MZXW6Y==").error() == errc::invalid_base32);
}

TEST_CASE("non-canonical trailing bits are accepted by default (RFC 4648 3.5 makes rejecting optional)", "[base32]") {
  // "MY" and "MZ" differ only in the two unused low bits of the last character.
  CHECK(decoded("MY") == "f");
  CHECK(decoded("MZ") == "f");
  // the encoder always writes the canonical form
  CHECK(mfakit::base32_encode(ascii("f")) == "MY");
}

TEST_CASE("base32_trailing_bits::reject refuses non-canonical trailing bits", "[base32]") {
  constexpr auto strict = mfakit::base32_trailing_bits::reject;
  CHECK(mfakit::base32_decode("MY", strict).has_value());
  CHECK(mfakit::base32_decode("MZ", strict).error() == errc::invalid_base32);
  CHECK(mfakit::base32_decode("MZ======", strict).error() == errc::invalid_base32);
  CHECK(mfakit::base32_decode("mz", strict).error() == errc::invalid_base32);
  // every final group length that leaves unused bits (2, 4, 1, 3 of them), every last character
  for (const std::string_view prefix : {"M", "MZXW6YTBOIM", "MZX", "MZXW", "MZXW6Y"}) {
    const std::size_t unused = (prefix.size() + 1) * 5 % 8;
    REQUIRE(unused != 0);
    for (const char last : mfakit::base32_alphabet) {
      const std::string text = std::string(prefix) + last;
      const auto v = static_cast<unsigned>(mfakit::detail::base32_value(last));
      const bool canonical = (v & ((1U << unused) - 1U)) == 0;
      INFO("text " << text);
      auto lenient = mfakit::base32_decode(text);
      auto r = mfakit::base32_decode(text, strict);
      REQUIRE(lenient);
      CHECK(r.has_value() == canonical);
      if (r) {
        CHECK(mfakit::base32_encode(*r) == text);
      } else {
        CHECK(r.error() == errc::invalid_base32);
      }
    }
  }
  // a full last group has no unused bits: everything valid stays valid
  CHECK(mfakit::base32_decode("MZXW6YTB", strict).has_value());
  CHECK(mfakit::base32_decode("", strict).has_value());
}

TEST_CASE("round trip for every length 0..300 with random bytes", "[base32][property]") {
  std::mt19937_64 rng(0x6261736533320001ULL);
  for (std::size_t len = 0; len <= 300; ++len) {
    std::vector<unsigned char> data(len);
    for (auto& b : data) b = static_cast<unsigned char>(rng() & 0xFFU);
    const std::string text = mfakit::base32_encode(data);
    INFO("length " << len << ", text " << text);
    CHECK(text.size() == (len * 8 + 4) / 5);
    CHECK(text.find('=') == std::string::npos);
    CHECK(text.find_first_not_of(mfakit::base32_alphabet) == std::string::npos);
    auto back = mfakit::base32_decode(text);
    REQUIRE(back);
    CHECK(std::vector<unsigned char>(back->begin(), back->end()) == data);
    // and the lower-case, padded, spaced variant gives the same bytes
    std::string variant = lower(text);
    const int pad = mfakit::detail::base32_padding_for(text.size());
    REQUIRE(pad >= 0);
    variant.append(static_cast<std::size_t>(pad), '=');
    if (variant.size() > 4) variant.insert(4, " ");
    auto back2 = mfakit::base32_decode(variant);
    REQUIRE(back2);
    CHECK(std::vector<unsigned char>(back2->begin(), back2->end()) == data);
  }
}

TEST_CASE("every byte value in every position round-trips", "[base32][property]") {
  for (int v = 0; v < 256; ++v) {
    for (std::size_t pos = 0; pos < 5; ++pos) {
      std::vector<unsigned char> data(5, 0);
      data[pos] = static_cast<unsigned char>(v);
      auto back = mfakit::base32_decode(mfakit::base32_encode(data));
      REQUIRE(back);
      if (std::vector<unsigned char>(back->begin(), back->end()) != data) {
        FAIL_CHECK("byte value " << v << " at position " << pos << " did not round-trip");
      }
    }
  }
}

TEST_CASE("decode returns secure_bytes", "[base32]") {
  STATIC_REQUIRE(std::is_same_v<decltype(mfakit::base32_decode("")), mfakit::result<mfakit::secure_bytes>>);
}

// --- the mask-based (constant-time) code against the references ---------------------

TEST_CASE("base32_value equals the branching reference for every byte value", "[base32][reference]") {
  for (int c = 0; c < 256; ++c) {
    INFO("byte " << c);
    CHECK(mfakit::detail::base32_value(static_cast<char>(c)) == ref_value(static_cast<char>(c)));
  }
}

TEST_CASE("base32_char equals the alphabet for every 5-bit value", "[base32][reference]") {
  for (std::uint32_t v = 0; v < 32; ++v) {
    INFO("value " << v);
    CHECK(mfakit::detail::base32_char(v) == mfakit::base32_alphabet[v]);
    CHECK(mfakit::detail::base32_char(v | 0xFFFFFFE0U) == mfakit::base32_alphabet[v]);  // only the low 5 bits count
  }
}

TEST_CASE("base32_decode equals the reference: every one- and two-character input", "[base32][reference]") {
  bool ok = true;
  for (int a = 0; a < 256 && ok; ++a) {
    const char ca = static_cast<char>(a);
    ok = same_as_reference(std::string_view(&ca, 1));
    for (int b = 0; b < 256 && ok; ++b) {
      const char two[2] = {ca, static_cast<char>(b)};
      ok = same_as_reference(std::string_view(two, 2));
    }
  }
  CHECK(ok);
}

TEST_CASE("base32_decode equals the reference: every byte value at every position", "[base32][reference]") {
  // valid texts of every final-group length, padded, spaced and lower-case
  // ones among them; each position of each takes each of the 256 byte values
  const std::string_view bases[] = {"MZXW6YTBOI", "MZXW6YTBOI======", "mzxw6ytb",
                                    "MZXW 6YTB",  "JBSWY3DPEHPK3PXP", "MY======",
                                    "MZXW6YQ=",   "MZXW6===",         "MZXQ",
                                    "MZ",         " MZXW6YQ ",        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"};
  bool ok = true;
  for (const std::string_view base : bases) {
    REQUIRE(same_as_reference(base));
    REQUIRE(mfakit::base32_decode(base).has_value());
    for (std::size_t pos = 0; pos < base.size() && ok; ++pos) {
      std::string text(base);
      for (int v = 0; v < 256 && ok; ++v) {
        text[pos] = static_cast<char>(v);
        ok = same_as_reference(text);
      }
    }
  }
  CHECK(ok);
}

TEST_CASE("base32_decode equals the reference on random strings", "[base32][reference][property]") {
  std::mt19937_64 rng(0x6261736533320002ULL);
  // mostly the alphabet (so that many inputs are valid), some layout, some of anything
  const std::string_view common = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz";
  std::size_t valid = 0;
  bool ok = true;
  for (int i = 0; i < 200000 && ok; ++i) {
    std::string text(rng() % 41, ' ');
    const auto mode = rng() % 4;  // 0: anything; 1: alphabet only; 2, 3: alphabet, layout, rare foreign bytes
    for (auto& c : text) {
      const auto r = rng();
      if (mode == 0) {
        c = static_cast<char>(r & 0xFFU);
      } else if (mode == 1 || (r >> 8U) % 16 < 13) {
        c = common[(r >> 16U) % common.size()];
      } else {
        c = (r >> 8U) % 16 == 13 ? ' ' : (r >> 8U) % 16 == 14 ? '=' : static_cast<char>(r & 0xFFU);
      }
    }
    if (mode >= 2 && rng() % 2 == 0) {  // move the padding to the end, as an encoder would
      std::string data, pad;
      for (char c : text) (c == '=' ? pad : data).push_back(c);
      text = data + pad;
    }
    ok = same_as_reference(text);
    valid += mfakit::base32_decode(text).has_value() ? 1 : 0;
  }
  CHECK(ok);
  CHECK(valid > 20000);  // the valid path is exercised, not only the errors
}

TEST_CASE("base32_encode equals the table-driven reference", "[base32][reference][property]") {
  std::mt19937_64 rng(0x6261736533320003ULL);
  bool ok = true;
  // every byte value at every position of every length 1..12, the other bytes random
  for (std::size_t len = 1; len <= 12 && ok; ++len) {
    std::vector<unsigned char> data(len);
    for (std::size_t pos = 0; pos < len && ok; ++pos) {
      for (auto& b : data) b = static_cast<unsigned char>(rng() & 0xFFU);
      for (int v = 0; v < 256 && ok; ++v) {
        data[pos] = static_cast<unsigned char>(v);
        ok = mfakit::base32_encode(data) == ref_encode(data);
        if (!ok) FAIL_CHECK("length " << len << ", byte " << v << " at " << pos);
      }
    }
  }
  // random data of random lengths 0..100
  for (int i = 0; i < 20000 && ok; ++i) {
    std::vector<unsigned char> data(rng() % 101);
    for (auto& b : data) b = static_cast<unsigned char>(rng() & 0xFFU);
    ok = mfakit::base32_encode(data) == ref_encode(data);
    if (!ok) FAIL_CHECK("random data " << mfakit_test::to_hex(data));
  }
  CHECK(ok);
}
