// A store for Boost.Asio hosts: mfakit::memory_store behind calls that hop
// to a thread pool and back (as a database client on its own pool would)
// and return asio::awaitable. on_pool() is the hop: the function runs on the
// pool, the awaiting coroutine resumes on its own executor with the answer.
// (asio::co_spawn(pool, ..., use_awaitable) would be the one-line form; with
// Boost 1.81 its entry point can still be destroying its frame on the pool
// thread while the resumed caller frees memory it uses: ASan reports it, in
// an example without mfakit. So the hop is written out.)
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

#include <mfakit/async.hpp>
#include <mfakit/store.hpp>

namespace asio_test {
namespace asio = boost::asio;

/// Runs f() on `pool`; the awaiting coroutine resumes on its own executor with f's answer.
template <class R, class F>
asio::awaitable<R> on_pool(asio::thread_pool& pool, F f) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
      [&pool, &f](auto handler) {
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(pool, [&f, handler = std::move(handler), work = std::move(work)]() mutable {
          R answer = f();
          auto home = work.get_executor();
          asio::post(home, [handler = std::move(handler), answer = std::move(answer),
                            work = std::move(work)]() mutable { std::move(handler)(std::move(answer)); });
        });
      },
      asio::use_awaitable);
}

class asio_store {
 public:
  asio_store(mfakit::memory_store& store, asio::thread_pool& pool) : store_(&store), pool_(&pool) {}

  asio::awaitable<mfakit::load_answer> load(std::string_view key) {
    return on_pool<mfakit::load_answer>(*pool_, [s = store_, k = std::string(key)] { return s->load(k); });
  }
  asio::awaitable<mfakit::swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                        const std::optional<std::string>& next) {
    return on_pool<mfakit::swap_answer>(
        *pool_, [s = store_, k = std::string(key), expected, n = next] { return s->compare_and_swap(k, expected, n); });
  }

 private:
  mfakit::memory_store* store_;
  asio::thread_pool* pool_;
};

}  // namespace asio_test
