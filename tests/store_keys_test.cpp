// Store keys (store_keys.hpp): the documented layouts, against values
// computed independently (SHA-256 of "abc" is FIPS 180-2's example).
#include <mfakit/store_keys.hpp>

#include <string>

#include "catch.hpp"

TEST_CASE("challenge keys are the prefix and the hex of SHA-256(token)", "[store_keys]") {
  auto k = mfakit::challenge_key("abc");
  REQUIRE(k);
  CHECK(*k == "mfakit/challenge/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = mfakit::challenge_key("");
  REQUIRE(empty);
  CHECK(*empty == "mfakit/challenge/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(k->size() == 17 + 64);
}

TEST_CASE("account keys are the prefix and the hex of the user id", "[store_keys]") {
  CHECK(mfakit::account_key("alice") == "mfakit/account/616c696365");
  CHECK(mfakit::account_key(std::string("a\0B", 3)) == "mfakit/account/610042");
  const std::string long_id(600, 'x');  // beyond max_user_id_bytes: on the heap, never truncated
  CHECK(mfakit::account_key(long_id).size() == 15 + 1200);
}
