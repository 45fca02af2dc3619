// Must NOT compile, and fail at the concept (check_diagnostic.cmake counts
// the lines): a store whose awaitables the service's coroutine type cannot
// co_await.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include <mfakit/async.hpp>

namespace {
struct asio_store {
  boost::asio::awaitable<mfakit::load_answer> load(std::string_view);
  boost::asio::awaitable<mfakit::swap_answer> compare_and_swap(std::string_view, std::uint64_t,
                                                               const std::optional<std::string>&);
};
struct mixed_store {  // load for Asio, compare_and_swap an mfakit::task
  boost::asio::awaitable<mfakit::load_answer> load(std::string_view);
  mfakit::task<mfakit::swap_answer> compare_and_swap(std::string_view, std::uint64_t,
                                                     const std::optional<std::string>&);
};
}  // namespace

#if defined(MFAKIT_CASE_asio_store_with_mfakit_task)
using bad = mfakit::async_service<asio_store, mfakit::system_clock_source, mfakit::openssl_random, mfakit::no_offload,
                                  mfakit::task_family<mfakit::task>>;
#elif defined(MFAKIT_CASE_store_with_mixed_types)
using bad = mfakit::async_service<mixed_store>;
#else
#error "define one MFAKIT_CASE_..."
#endif
bad* instance = nullptr;
