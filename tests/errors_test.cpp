#include <mfakit/errors.hpp>

#include <memory>
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
  for (int v = 1; v <= static_cast<int>(errc::webauthn_counter_regressed); ++v) {
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

TEST_CASE("every errc's group, restated", "[errors]") {
  using mfakit::error_group;
  const auto expected = [](errc e) {
    switch (e) {
      case errc::malformed_code:
      case errc::missing_code:
      case errc::missing_token:
      case errc::invalid_base32:
      case errc::invalid_secret:
      case errc::invalid_uri:
      case errc::invalid_argument:
      case errc::unsupported_algorithm:
      case errc::not_pending:
      case errc::not_enabled: return error_group::misuse;
      case errc::code_mismatch:
      case errc::code_replayed:
      case errc::challenge_invalid:
      case errc::challenge_exhausted:
      case errc::throttled:
      case errc::locked:
      case errc::webauthn_malformed:
      case errc::webauthn_rejected:
      case errc::webauthn_unsupported:
      case errc::webauthn_counter_regressed: return error_group::rejected;
      case errc::already_enabled: return error_group::conflict;
      case errc::random_failure:
      case errc::crypto_failure:
      case errc::storage_conflict:
      case errc::storage_failure:
      case errc::malformed_record:
      case errc::seal_failure: return error_group::unavailable;
    }
    return error_group::none;
  };
  for (int v = 1; v <= static_cast<int>(errc::webauthn_counter_regressed); ++v) {
    const auto e = static_cast<errc>(v);
    INFO(mfakit::make_error_code(e).message());
    CHECK(mfakit::group_of(e) == expected(e));
  }
  CHECK(mfakit::group_of(mfakit::make_error_code(static_cast<errc>(999))) == error_group::unavailable);
}

TEST_CASE("the error table has one row per errc, in order, and drives the category", "[errors]") {
  const auto& table = mfakit::detail::error_table;
  STATIC_REQUIRE(table.size() == static_cast<std::size_t>(errc::webauthn_counter_regressed));
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& row = table[i];
    CHECK(static_cast<std::size_t>(row.code) == i + 1);
    CHECK(mfakit::make_error_code(row.code).message() == row.message);
    CHECK(mfakit::group_of(row.code) == row.group);
    CHECK(mfakit::detail::row_of(row.code) == &row);
  }
  CHECK(mfakit::detail::row_of({}) == nullptr);
  CHECK(mfakit::detail::row_of(std::make_error_code(std::errc::io_error)) == nullptr);
  CHECK(mfakit::detail::row_of(mfakit::make_error_code(static_cast<errc>(0))) == nullptr);
  CHECK(mfakit::detail::row_of(mfakit::make_error_code(static_cast<errc>(999))) == nullptr);
#if MFAKIT_DETAIL_ENUMERATOR_CHECK
  STATIC_REQUIRE(mfakit::detail::is_enumerator<errc::locked>());
  STATIC_REQUIRE(!mfakit::detail::is_enumerator<static_cast<errc>(999)>());
#endif
}

TEST_CASE("a default result holds no answer yet (what asio::co_spawn starts from)", "[errors]") {
  const mfakit::result<int> none;
  CHECK_FALSE(none.has_value());
  CHECK(none.error() == errc::invalid_argument);
  mfakit::result<int> later;
  later = 42;
  REQUIRE(later);
  CHECK(*later == 42);
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

namespace {
/// Counts its live instances, so a test sees every value destroyed once.
struct counted {
  static inline int live = 0;
  std::string text;
  explicit counted(std::string t) : text(std::move(t)) { ++live; }
  counted(const counted& o) : text(o.text) { ++live; }
  counted(counted&& o) noexcept : text(std::move(o.text)) { ++live; }
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  ~counted() { --live; }
};
}  // namespace

TEST_CASE("result copies, moves and assigns between a value and an error, destroying each value once", "[errors]") {
  {
    mfakit::result<counted> a = counted("first");
    REQUIRE(a);
    CHECK(counted::live == 1);
    mfakit::result<counted> b = a;  // copy of a value
    CHECK(counted::live == 2);
    CHECK(b->text == "first");
    mfakit::result<counted> c = errc::storage_failure;
    c = b;  // error <- value (counted is not assignable: destroy and construct)
    REQUIRE(c);
    CHECK(c->text == "first");
    CHECK(counted::live == 3);
    c = mfakit::result<counted>(errc::throttled).with_retry_after(4);  // value <- error
    REQUIRE_FALSE(c);
    CHECK(c.error() == errc::throttled);
    CHECK(c.retry_after() == 4);
    CHECK(counted::live == 2);
    mfakit::result<counted> d = std::move(a);  // move of a value
    CHECK(d->text == "first");
    CHECK(counted::live == 3);
    d = counted("second");  // value <- value
    CHECK(d->text == "second");
    CHECK(counted::live == 3);
    counted taken = std::move(d).value();
    CHECK(taken.text == "second");
  }
  CHECK(counted::live == 0);
  // A result is copyable exactly when its value is.
  static_assert(std::is_copy_constructible_v<mfakit::result<counted>>);
  static_assert(!std::is_copy_constructible_v<mfakit::result<std::unique_ptr<int>>>);
  static_assert(!std::is_copy_assignable_v<mfakit::result<std::unique_ptr<int>>>);
  static_assert(std::is_move_constructible_v<mfakit::result<std::unique_ptr<int>>>);
  static_assert(std::is_nothrow_move_constructible_v<mfakit::result<std::unique_ptr<int>>>);
  mfakit::result<std::unique_ptr<int>> p = std::make_unique<int>(7);
  mfakit::result<std::unique_ptr<int>> q = std::move(p);
  REQUIRE(q);
  CHECK(**q == 7);
}
