// The demo server's mfakit::async_service: the library's store (SQLite,
// PostgreSQL or memory, behind mfakit::any_record_store) with its calls on
// the store pool, and its costly steps (scrypt) offloaded to the fair KDF
// pool for the client's network and the user the call runs for.
#pragma once

#include <array>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <mfakit/any_store.hpp>
#include <mfakit/async.hpp>

#include "../asio_pool.hpp"
#include "demo_clock.hpp"
#include "fair_pool.hpp"
#include "worker_pool.hpp"

namespace mfakit_examples {
/// pooled_store's hop on the store pool: a full pool is a failing store call.
template <class R, class F>
boost::asio::awaitable<R> on_pool(worker_pool& pool, F f) {
  auto r = co_await pool.run(std::move(f));
  if (!r) co_return R(mfakit::store_failure());
  co_return std::move(*r);
}
}  // namespace mfakit_examples

namespace mfakit_examples::demo {

/// The service's offload: a call's costly step (scrypt of backup codes) on
/// the fair KDF pool, for the client's network and the user (fair_pool.hpp);
/// a job the pool refuses ends the call with storage_failure and the pool's
/// Retry-After (mfakit::offload_refused), without running it.
struct kdf_offload {
  fair_pool* pool = nullptr;
  std::array<std::string, 2> keys;
  boost::asio::awaitable<void> operator()(mfakit::compute_job job) const {
    auto ran = co_await pool->run(keys, [job] {
      job();
      return true;
    });
    if (!ran.value) throw mfakit::offload_refused(ran.retry_after);
  }
};

/// The store is picked from the command line (mfakit::any_record_store: one
/// virtual call per store call); its calls run on the store pool, so the
/// service's calls are net::awaitable and never block an io thread.
using store_on_pool = mfakit_examples::pooled_store<mfakit::any_record_store, worker_pool>;
using demo_service = mfakit::async_service<store_on_pool, demo_clock, mfakit::openssl_random, kdf_offload>;

}  // namespace mfakit_examples::demo
