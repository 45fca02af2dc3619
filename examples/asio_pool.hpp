// mfakit's store on a thread pool, as an Asio host's async_service sees it
// (examples/minimal and examples/server both use it):
//
//     mfakit_examples::pooled_store<mfakit::sqlite_store> store{&db, &pool};   // asio::thread_pool pool(4);
//     mfakit::async_service svc(store, std::move(cfg), options);               // calls: asio::awaitable<result<T>>
//
// Each store call runs on the pool (a blocking database client stays off the
// io_context thread) and the awaiting coroutine resumes on its own executor
// with the answer. The hop is asio::async_initiate + asio::post, not
// co_spawn(pool, ..., use_awaitable): ASan finds Boost 1.81's co_spawn across
// executors unsafe. A host with a pool of its own type gives it an
// on_pool<R>(Pool&, F) overload (found by argument-dependent lookup) that
// answers R's failure when the pool refuses (examples/server: a bounded pool).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mfakit/operation.hpp>

namespace mfakit_examples {

/// Runs f() on `pool`; the awaiting coroutine resumes on its own executor
/// with R(f()).
template <class R, class F>
boost::asio::awaitable<R> on_pool(boost::asio::thread_pool& pool, F f) {
  namespace asio = boost::asio;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&pool, &f](auto handler) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(pool, [&f, handler = std::move(handler), work = std::move(work)]() mutable {
          auto home = work.get_executor();
          asio::post(home, [handler = std::move(handler), answer = R(f()), work = std::move(work)]() mutable {
            std::move(handler)(std::move(answer));
          });
        });
      },
      asio::use_awaitable);
}

/// A synchronous mfakit store (sqlite_store, postgresql_store, memory_store,
/// any_record_store) with its two calls on a pool, returning asio::awaitable:
/// async_service over it gives calls of asio::awaitable<result<T>>.
template <class Store, class Pool = boost::asio::thread_pool>
struct pooled_store {
  Store* store;
  Pool* pool;

  boost::asio::awaitable<mfakit::load_answer> load(std::string_view key) {
    return on_pool<mfakit::load_answer>(*pool, [s = store, k = std::string(key)] { return s->load(k); });
  }
  boost::asio::awaitable<mfakit::swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                               const std::optional<std::string>& next) {
    return on_pool<mfakit::swap_answer>(
        *pool, [s = store, k = std::string(key), expected, next] { return s->compare_and_swap(k, expected, next); });
  }
};

}  // namespace mfakit_examples
