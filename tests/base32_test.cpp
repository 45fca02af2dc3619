// Base32 (RFC 4648 section 6) as used for otpauth secrets (base32.hpp).
#include <mfakit/base32.hpp>

#include <cstddef>
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
