// any_record_store: a store picked at run time passes the conformance suite
// as the store it wraps does, and a store that throws still throws through it
// (the loops turn that into storage_failure).
#include <mfakit/any_store.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "catch.hpp"

namespace {
struct throwing_store {
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view /*key*/) {
    throw std::runtime_error("connection reset");
  }
  mfakit::result<bool> compare_and_swap(std::string_view /*key*/, std::uint64_t /*expected*/,
                                        const std::optional<std::string>& /*next*/) {
    throw std::runtime_error("connection reset");
  }
};
}  // namespace

TEST_CASE("any_record_store over memory_store passes the conformance suite", "[store][conformance]") {
  auto store = mfakit::any_record_store::make<mfakit::memory_store>();
  mfakit::testing::conformance_options o;
  o.threads = 16;
  o.trials = 1;
  const auto report = mfakit::testing::run_store_conformance(store, o);
  for (const auto& f : report.failures) FAIL_CHECK(f);
  CHECK(report.ok());
  CHECK(report.checks > 20);
}

TEST_CASE("any_record_store passes a throwing store's exceptions to the loop", "[store]") {
  mfakit::any_record_store store(std::make_unique<throwing_store>());
  CHECK_THROWS_AS(store.load("k"), std::runtime_error);
  mfakit::service<mfakit::any_record_store> svc(store, mfakit::testing::detail::conformance_config());
  CHECK(svc.status("u").error() == mfakit::errc::storage_failure);
  CHECK(svc.setup("u", "u@example.com").error() == mfakit::errc::storage_failure);
}
