// Which loop the flow suites drive. CMake builds each suite that includes
// this twice: once against mfakit::service (the synchronous loop) and once,
// with MFAKIT_TEST_ASYNC_LOOP, against the coroutine loop of async.hpp seen
// through mfakit::testing::async_driven_service. Same test bodies, so the
// two loops cannot drift apart.
#pragma once

#include <string_view>

#include <mfakit/clock.hpp>
#include <mfakit/crypto.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/async_adapter.hpp>

namespace test_loop {
#if defined(MFAKIT_TEST_ASYNC_LOOP)
template <class Store, class Clock = mfakit::system_clock_source, class Rng = mfakit::openssl_random>
using service = mfakit::testing::async_driven_service<Store, Clock, Rng>;
inline constexpr std::string_view name = "coroutine loop (async_service)";
#else
template <class Store, class Clock = mfakit::system_clock_source, class Rng = mfakit::openssl_random>
using service = mfakit::service<Store, Clock, Rng>;
inline constexpr std::string_view name = "synchronous loop (service)";
#endif
}  // namespace test_loop
