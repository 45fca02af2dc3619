// The known-answer self-test (FIPS 140-3 style power-on self-test): once
// per process, at the first call that verifies or generates a code, seals or
// opens a secret, or digests a backup code, the library checks that its
// cryptography gives the published answers through the very code paths it
// uses. If any check fails, every such call refuses with
// errc::crypto_failure (and the services fire event_kind::self_test_failed):
// a broken provider is an outage, never a wrong answer. The checks are in
// detail/self_test_checks.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "mfakit/detail/self_test_checks.hpp"
#include "mfakit/errors.hpp"

namespace mfakit {

/// What the self-test found: the first check that failed, or none.
struct self_test_report {
  self_test_check failed = self_test_check::none;

  [[nodiscard]] bool ok() const noexcept { return failed == self_test_check::none; }
  explicit operator bool() const noexcept { return ok(); }
  /// errc::crypto_failure when a check failed, else no error.
  [[nodiscard]] std::error_code error() const noexcept {
    return ok() ? std::error_code{} : make_error_code(errc::crypto_failure);
  }
};

#if defined(MFAKIT_DETAIL_SELF_TEST_FAULT)
namespace detail {
// For tests only (tests/self_test_refusal_test.cpp): a program that defines
// this macro for every translation unit defines this function, and the
// self-test passes every check's answer through it before comparing it, as
// a provider that computes wrong answers would. Production builds have no
// such hook: nothing can reset or alter the self-test once it ran.
void MFAKIT_DETAIL_SELF_TEST_FAULT(self_test_check check, std::span<unsigned char> answer) noexcept;
}  // namespace detail
// a separate name, so a program that mixed the two builds would not merge them
inline namespace self_test_with_fault {
#else
inline namespace self_test_v1 {
#endif

/// Runs the self-test the first time it is called in the process (once,
/// whichever thread gets there first; the others wait) and returns its
/// cached report from then on. Every gated call asks this first, so a host
/// need not call it; calling it at start-up moves its cost (the first use of
/// each OpenSSL algorithm: microseconds) out of the first request and lets
/// the host refuse to start when it fails. The result never changes: after
/// a failure, restart the process (after fixing the OpenSSL installation).
/// An exception (std::bad_alloc) leaves it to be run again at the next call.
[[nodiscard]] inline self_test_report self_test() {
#if defined(MFAKIT_DETAIL_SELF_TEST_FAULT)
  static const self_test_report once{detail::run_self_test(&detail::MFAKIT_DETAIL_SELF_TEST_FAULT)};
#else
  static const self_test_report once{detail::run_self_test()};
#endif
  return once;
}

}  // inline namespace

namespace detail {
/// The gate of every entry point: true when the self-test passed.
[[nodiscard]] inline bool self_test_passed() { return self_test().ok(); }
}  // namespace detail

}  // namespace mfakit
