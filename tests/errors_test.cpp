#include <mfakit/errors.hpp>

#include <set>
#include <string>

#include "catch.hpp"

using mfakit::errc;

TEST_CASE("errc values start at 1 and convert to std::error_code", "[errors]") {
  STATIC_REQUIRE(static_cast<int>(errc::malformed_code) == 1);
  std::error_code ec = errc::code_mismatch;
  CHECK(ec.category() == mfakit::error_category());
  CHECK(std::string(ec.category().name()) == "mfakit");
  CHECK(ec.message() == "code rejected");
  CHECK(ec == errc::code_mismatch);
  CHECK(ec != errc::code_replayed);
}

TEST_CASE("every errc has its own message, none unknown", "[errors]") {
  std::set<std::string> seen;
  for (int v = 1; v <= static_cast<int>(errc::seal_failure); ++v) {
    const std::string m = mfakit::make_error_code(static_cast<errc>(v)).message();
    CHECK(m != "unknown mfakit error");
    CHECK(seen.insert(m).second);
  }
  CHECK(mfakit::make_error_code(static_cast<errc>(999)).message() == "unknown mfakit error");
}

TEST_CASE("error groups", "[errors]") {
  using mfakit::error_group;
  CHECK(mfakit::group_of({}) == error_group::none);
  CHECK(mfakit::group_of(errc::malformed_code) == error_group::misuse);
  CHECK(mfakit::group_of(errc::code_replayed) == error_group::rejected);
  CHECK(mfakit::group_of(errc::code_mismatch) == error_group::rejected);
  CHECK(mfakit::group_of(errc::already_enabled) == error_group::conflict);
  CHECK(mfakit::group_of(errc::storage_failure) == error_group::unavailable);
  CHECK(mfakit::group_of(std::make_error_code(std::errc::io_error)) == error_group::unavailable);
}

TEST_CASE("result holds a value or an error", "[errors]") {
  mfakit::result<int> ok = 42;
  REQUIRE(ok);
  CHECK(*ok == 42);
  CHECK(!ok.error());
  mfakit::result<int> bad = errc::invalid_argument;
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::invalid_argument);
  CHECK_THROWS_AS(bad.value(), std::system_error);
  mfakit::result<void> v;
  CHECK(v);
  mfakit::result<void> verr = errc::crypto_failure;
  CHECK_FALSE(verr);
  CHECK_THROWS_AS(verr.value(), std::system_error);
}
