// The strict CBOR decoder: what it takes (RFC 8949 Appendix A examples in
// the subset), and the encodings it refuses.
#include <mfakit/webauthn/cbor.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "webauthn_test_support.hpp"

namespace wa = mfakit::webauthn;
using kind = wa::cbor_item::kind;
using mfakit::errc;
using wa_test::unhex;

TEST_CASE("cbor: RFC 8949 Appendix A values in the subset", "[webauthn][cbor]") {
  struct ok_case {
    std::string_view hex;
    kind type;
    std::uint64_t arg;
  };
  for (const ok_case& c : {ok_case{"00", kind::unsigned_int, 0}, ok_case{"17", kind::unsigned_int, 23},
                           ok_case{"1818", kind::unsigned_int, 24}, ok_case{"1903e8", kind::unsigned_int, 1000},
                           ok_case{"1a000f4240", kind::unsigned_int, 1000000},
                           ok_case{"1b000000e8d4a51000", kind::unsigned_int, 1000000000000},
                           ok_case{"1bffffffffffffffff", kind::unsigned_int, 18446744073709551615ULL},
                           ok_case{"20", kind::negative_int, 0}, ok_case{"3863", kind::negative_int, 99},
                           ok_case{"3903e7", kind::negative_int, 999}, ok_case{"40", kind::bytes, 0},
                           ok_case{"4401020304", kind::bytes, 4}, ok_case{"60", kind::text, 0},
                           ok_case{"6449455446", kind::text, 4}, ok_case{"62c3bc", kind::text, 2},
                           ok_case{"f4", kind::boolean, 0}, ok_case{"f5", kind::boolean, 1}, ok_case{"f6", kind::null, 0},
                           ok_case{"80", kind::array, 0}, ok_case{"83010203", kind::array, 3},
                           ok_case{"a0", kind::map, 0}, ok_case{"a201020304", kind::map, 2},
                           ok_case{"a26161016162820203", kind::map, 2}}) {
    INFO(c.hex);
    const auto in = unhex(c.hex);
    auto item = wa::cbor_decode(in);
    REQUIRE(item);
    CHECK(item->type == c.type);
    CHECK(item->arg == c.arg);
    CHECK(item->encoded.size() == in.size());
  }
  auto neg = wa::cbor_decode(unhex("3903e7"));
  CHECK(neg->as_int() == -1000);
  auto big = wa::cbor_decode(unhex("3bffffffffffffffff"));  // -2^64: no int64_t
  REQUIRE(big);
  CHECK_FALSE(big->as_int().has_value());
  const auto map_bytes = unhex("a26161016162820203");  // the items' views point into it
  auto m = wa::cbor_decode(map_bytes);
  REQUIRE(m->find("a") != nullptr);
  CHECK(m->find("a")->as_int() == 1);
  REQUIRE(m->find("b") != nullptr);
  CHECK(m->find("b")->items.size() == 2);
  CHECK(m->find("c") == nullptr);
}

TEST_CASE("cbor: every encoding outside the strict subset is refused", "[webauthn][cbor]") {
  for (std::string_view hex : {
           "",                    // nothing
           "1817",                // 23 in two bytes: not the shortest form
           "190017",              // 23 in three bytes
           "1900ff",              // 255 in three bytes
           "1a0000ffff",          // 65535 in five bytes
           "1b00000000ffffffff",  // 2^32-1 in nine bytes
           "3817",                // -24 in two bytes
           "5817" "0102030405060708090a0b0c0d0e0f1011121314151617",  // a 23-byte string with a 1-byte length
           "1c", "1d", "1e",      // reserved
           "5f4101ff",            // indefinite byte string
           "7f6161ff",            // indefinite text
           "9f01ff",              // indefinite array
           "bf616101ff",          // indefinite map
           "ff",                  // a lone break
           "c074323031332d30332d32315432303a30343a30305a",  // a tag
           "f93c00",              // half float
           "fa47c35000",          // float
           "fb3ff199999999999a",  // double
           "f7",                  // undefined
           "f0",                  // simple value 16
           "f818",                // simple value 24
           "a2616201616101",      // keys out of order ("b" before "a")
           "a2616101616102",      // a duplicate key
           "a2200101",            // -1 before 1: major type 1 sorts after 0
           "a2183f010501",        // 63 (two bytes) before 5 (one byte)
           "a1f501",              // a boolean key
           "a1410101",            // a byte-string key
           "a18001",              // an array key
           "62c3",                // text cut short
           "61ff",                // text not UTF-8
           "62c0af",              // an overlong UTF-8 '/'
           "63eda080",            // a UTF-8 surrogate
           "44010203",            // bytes cut short
           "5affffffff00",        // 4 GiB claimed
           "9bffffffffffffffff00",  // 2^64-1 elements claimed
           "bbffffffffffffffff",  // 2^64-1 pairs claimed
           "8301",                // array cut short
           "a101",                // map without its value
           "0000",                // trailing byte (cbor_decode takes one whole item)
       }) {
    INFO(hex);
    CHECK(wa::cbor_decode(unhex(hex)).error() == errc::webauthn_malformed);
  }
}

TEST_CASE("cbor: depth, item count and size are bounded", "[webauthn][cbor]") {
  wa::cbor_limits lim;
  lim.max_depth = 3;
  CHECK(wa::cbor_decode(unhex("8181818100"), lim).error() == errc::webauthn_malformed);  // 4 nested arrays
  CHECK(wa::cbor_decode(unhex("81818100"), lim));                                         // 3 nested arrays
  CHECK(wa::cbor_decode(unhex("8181818100"), wa::cbor_limits{1024, 4, 100}));
  std::vector<unsigned char> deep(100000, 0x81);
  deep.push_back(0x00);
  CHECK(wa::cbor_decode(deep, wa::cbor_limits{1 << 20, 8, 1 << 20}).error() == errc::webauthn_malformed);
  std::vector<unsigned char> wide{0x99, 0x01, 0x00};  // 256 elements
  wide.insert(wide.end(), 256, 0x00);
  CHECK(wa::cbor_decode(wide));
  CHECK(wa::cbor_decode(wide, wa::cbor_limits{1024, 8, 100}).error() == errc::webauthn_malformed);
  CHECK(wa::cbor_decode(wide, wa::cbor_limits{100, 8, 1000}).error() == errc::webauthn_malformed);
}

TEST_CASE("cbor: a prefix decode says how many bytes it took", "[webauthn][cbor]") {
  const auto in = unhex("a201020304" "ff00");
  auto d = wa::cbor_decode_prefix(in);
  REQUIRE(d);
  CHECK(d->consumed == 5);
  CHECK(d->item.map_size() == 2);
}
