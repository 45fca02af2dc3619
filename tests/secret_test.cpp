// The shared secret (secret.hpp): generation, length limits, move-only,
// redacted printing.
#include <mfakit/secret.hpp>

#include <fmt/format.h>

#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {
using mfakit::errc;
using mfakit::secret;
}  // namespace

TEST_CASE("secret is move-only", "[secret]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<secret>);
  STATIC_REQUIRE_FALSE(std::is_copy_assignable_v<secret>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<secret>);
  STATIC_REQUIRE(std::is_nothrow_move_assignable_v<secret>);
  STATIC_REQUIRE(mfakit::min_secret_bytes == 16);
  STATIC_REQUIRE(mfakit::default_secret_bytes == 20);
  STATIC_REQUIRE(mfakit::max_secret_bytes == 64);
}

TEST_CASE("generate: 20 bytes by default", "[secret]") {
  auto s = secret::generate();
  REQUIRE(s);
  CHECK(s->size() == 20);
  CHECK_FALSE(s->empty());
  CHECK(s->bytes().size() == 20);
  CHECK(s->to_base32().size() == 32);
}

TEST_CASE("generate: 16..64 bytes accepted, 15 and 65 rejected", "[secret]") {
  for (std::size_t n = 0; n <= 80; ++n) {
    INFO("bytes " << n);
    auto s = secret::generate(n);
    if (n >= 16 && n <= 64) {
      REQUIRE(s);
      CHECK(s->size() == n);
    } else {
      REQUIRE_FALSE(s);
      CHECK(s.error() == errc::invalid_argument);
    }
  }
}

TEST_CASE("generate: the bytes are the source's bytes", "[secret]") {
  mfakit_test::scripted_random src;
  for (int i = 0; i < 32; ++i) src.script.push_back(static_cast<unsigned char>(i * 7 + 1));
  auto s = secret::generate(32, src);
  REQUIRE(s);
  CHECK(std::vector<unsigned char>(s->bytes().begin(), s->bytes().end()) == src.script);
  CHECK(src.calls == 1);
}

TEST_CASE("generate: a failing random source gives random_failure", "[secret]") {
  SECTION("rvalue source") {
    auto s = secret::generate(20, mfakit_test::failing_random{});
    REQUIRE_FALSE(s);
    CHECK(s.error() == errc::random_failure);
  }
  SECTION("lvalue source") {
    mfakit_test::failing_random src;
    auto s = secret::generate(32, src);
    REQUIRE_FALSE(s);
    CHECK(s.error() == errc::random_failure);
    CHECK(src.calls == 1);
  }
  SECTION("the length check comes before the source is asked") {
    mfakit_test::failing_random src;
    CHECK(secret::generate(8, src).error() == errc::invalid_argument);
    CHECK(src.calls == 0);
  }
}

TEST_CASE("two generated secrets differ", "[secret]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto s = secret::generate();
    REQUIRE(s);
    CHECK(seen.insert(s->to_base32()).second);
  }
  auto a = secret::generate();
  auto b = secret::generate();
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(*a == *b);
}

TEST_CASE("from_bytes: 16..64 bytes, else invalid_secret", "[secret]") {
  std::vector<unsigned char> raw(80);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(i);
  for (std::size_t n = 0; n <= raw.size(); ++n) {
    INFO("bytes " << n);
    auto s = secret::from_bytes(std::span<const unsigned char>(raw.data(), n));
    if (n >= 16 && n <= 64) {
      REQUIRE(s);
      CHECK(std::vector<unsigned char>(s->bytes().begin(), s->bytes().end()) ==
            std::vector<unsigned char>(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n)));
    } else {
      REQUIRE_FALSE(s);
      CHECK(s.error() == errc::invalid_secret);
    }
  }
}

TEST_CASE("from_base32: decoding and length errors", "[secret]") {
  SECTION("a 20-byte secret in the forms people type") {
    const std::string_view text =
        GENERATE(as<std::string_view>{}, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
                 "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
    auto s = secret::from_base32(text);
    REQUIRE(s);
    CHECK(s->size() == 20);
    CHECK(std::string(s->bytes().begin(), s->bytes().end()) == "12345678901234567890");
    CHECK(s->to_base32() == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  }
  SECTION("10 bytes (the Key URI wiki example) is too short") {
    auto s = secret::from_base32("JBSWY3DPEHPK3PXP");
    REQUIRE_FALSE(s);
    CHECK(s.error() == errc::invalid_secret);
  }
  SECTION("15 bytes too short, 16 fine, 64 fine, 65 too long") {
    auto make = [](std::size_t n) {
      std::vector<unsigned char> raw(n, 0x5A);
      return mfakit::base32_encode(raw);
    };
    CHECK(secret::from_base32(make(15)).error() == errc::invalid_secret);
    CHECK(secret::from_base32(make(16))->size() == 16);
    CHECK(secret::from_base32(make(64))->size() == 64);
    CHECK(secret::from_base32(make(65)).error() == errc::invalid_secret);
  }
  SECTION("bad base32 is invalid_base32, not invalid_secret") {
    CHECK(secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1").error() == errc::invalid_base32);
    CHECK(secret::from_base32("").error() == errc::invalid_secret);
  }
  SECTION("non-canonical trailing bits are invalid_base32 (the import path is strict)") {
    // 16 bytes are 26 characters; the last one carries 3 key bits and 2
    // unused ones. 'Y' leaves them 0; 'Z' sets one: the same 16 bytes.
    auto canonical = secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY");
    REQUIRE(canonical);
    CHECK(std::string(canonical->bytes().begin(), canonical->bytes().end()) == "1234567890123456");
    CHECK(mfakit::base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGZ").has_value());  // the lenient decoder takes it
    const std::string_view text =
        GENERATE(as<std::string_view>{}, "GEZDGNBVGY3TQOJQGEZDGNBVGZ", "gezdgnbvgy3tqojqgezdgnbvgz",
                 "GEZDGNBVGY3TQOJQGEZDGNBVG7======", "GEZDGNBVGY3TQOJQGEZDGNBVG3");
    INFO("text " << std::string(text));
    CHECK(secret::from_base32(text).error() == errc::invalid_base32);
  }
}

TEST_CASE("clone is equal, equality compares bytes", "[secret]") {
  auto a = secret::generate();
  REQUIRE(a);
  const secret c = a->clone();
  CHECK(c == *a);
  CHECK(c.to_base32() == a->to_base32());
  CHECK(c.bytes().data() != a->bytes().data());  // its own storage
  auto other = secret::generate();
  REQUIRE(other);
  CHECK_FALSE(*other == *a);
  // same prefix, different length
  auto longer = secret::from_bytes(mfakit_test::ascii("1234567890123456789012"));
  auto shorter = secret::from_bytes(mfakit_test::ascii("123456789012345678901"));
  REQUIRE(longer);
  REQUIRE(shorter);
  CHECK_FALSE(*longer == *shorter);
  CHECK(secret{} == secret{});
  CHECK(secret{}.empty());
}

TEST_CASE("moving a secret moves the bytes", "[secret]") {
  auto a = secret::generate();
  REQUIRE(a);
  const std::string b32 = a->to_base32();
  secret moved = std::move(*a);
  CHECK(moved.to_base32() == b32);
  CHECK(moved.size() == 20);
  secret assigned;
  assigned = std::move(moved);
  CHECK(assigned.to_base32() == b32);
}

TEST_CASE("a secret prints as [redacted] through fmt and iostreams", "[secret]") {
  auto s = secret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  REQUIRE(s);
  CHECK(fmt::format("{}", *s) == "[redacted]");
  CHECK(fmt::format("key={}!", *s) == "key=[redacted]!");
  CHECK(fmt::format("{:>12}", *s) == "  [redacted]");
  std::ostringstream os;
  os << *s;
  CHECK(os.str() == "[redacted]");
  // neither form contains the secret in any encoding
  for (const std::string& out : {fmt::format("{}", *s), os.str()}) {
    CHECK(out.find("GEZDGNBV") == std::string::npos);
    CHECK(out.find("1234567890") == std::string::npos);
  }
}
