// Compile-only: the services, both loops and every operation instantiated
// with the archetypes of testing/archetypes.hpp (types that have what the
// concepts ask and nothing else), and each concept shown to reject a type
// that lacks one of its requirements. Built as an object library: building
// it is the test.
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <mfakit/async.hpp>
#include <mfakit/operation.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/archetypes.hpp>

using mfakit::testing::awaitable_store_archetype;
using mfakit::testing::clock_archetype;
using mfakit::testing::random_archetype;
using mfakit::testing::store_archetype;
using op_ctx = mfakit::operation_context<clock_archetype, random_archetype>;

// every member of both services
template class mfakit::service<store_archetype, clock_archetype, random_archetype>;
template class mfakit::service_calls<mfakit::service<store_archetype, clock_archetype, random_archetype>>;
template class mfakit::async_service<awaitable_store_archetype, clock_archetype, random_archetype>;
template class mfakit::service_calls<
    mfakit::async_service<awaitable_store_archetype, clock_archetype, random_archetype>>;

// every operation, and each through both loops
template class mfakit::setup_operation<op_ctx>;
template class mfakit::enable_operation<op_ctx>;
template class mfakit::verify_operation<op_ctx>;
template class mfakit::disable_operation<op_ctx>;
template class mfakit::regenerate_operation<op_ctx>;
template class mfakit::reset_throttle_operation<op_ctx>;
template class mfakit::reseal_operation<op_ctx>;
template class mfakit::status_operation<op_ctx>;
template class mfakit::begin_login_operation<op_ctx>;
template class mfakit::complete_login_operation<op_ctx>;

// (V: the operation's value type)
#define MFAKIT_BOTH_LOOPS(OP, V)                                                                                      \
  template mfakit::result<V> mfakit::run<store_archetype, mfakit::OP<op_ctx>>(store_archetype&, mfakit::OP<op_ctx>&); \
  template mfakit::task<mfakit::result<V>> mfakit::run_async<awaitable_store_archetype, mfakit::OP<op_ctx>>(          \
      awaitable_store_archetype&, mfakit::OP<op_ctx>);
MFAKIT_BOTH_LOOPS(setup_operation, mfakit::setup_result)
MFAKIT_BOTH_LOOPS(enable_operation, mfakit::enable_result)
MFAKIT_BOTH_LOOPS(verify_operation, mfakit::login_result)
MFAKIT_BOTH_LOOPS(disable_operation, void)
MFAKIT_BOTH_LOOPS(regenerate_operation, mfakit::regenerate_result)
MFAKIT_BOTH_LOOPS(reset_throttle_operation, void)
MFAKIT_BOTH_LOOPS(reseal_operation, bool)
MFAKIT_BOTH_LOOPS(status_operation, mfakit::status_result)
MFAKIT_BOTH_LOOPS(begin_login_operation, mfakit::challenge_result)
MFAKIT_BOTH_LOOPS(complete_login_operation, mfakit::login_result)
#undef MFAKIT_BOTH_LOOPS

// --- each concept rejects a type that lacks one requirement -------------------------

namespace rejected {
using mfakit::load_answer;
using mfakit::stored_record;
using mfakit::swap_answer;
using opt_bytes = std::optional<std::string>;
template <class A>
using awaiter = awaitable_store_archetype::awaiter<A>;

struct store_without_load {
  swap_answer compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
struct store_load_not_a_result {
  std::optional<stored_record> load(std::string_view);
  swap_answer compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
struct store_without_cas {
  load_answer load(std::string_view);
};
struct store_cas_plain_bool {
  load_answer load(std::string_view);
  bool compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
static_assert(!mfakit::record_store<store_without_load>);
static_assert(!mfakit::record_store<store_load_not_a_result>);
static_assert(!mfakit::record_store<store_without_cas>);
static_assert(!mfakit::record_store<store_cas_plain_bool>);
static_assert(!mfakit::record_store<awaitable_store_archetype>);  // an awaitable store is not a synchronous one

struct awaitable_load_not_awaitable {
  load_answer load(std::string_view);
  awaiter<swap_answer> compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
struct awaitable_load_wrong_answer {
  awaiter<int> load(std::string_view);
  awaiter<swap_answer> compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
struct awaitable_without_cas {
  awaiter<load_answer> load(std::string_view);
};
struct awaitable_cas_wrong_answer {
  awaiter<load_answer> load(std::string_view);
  awaiter<std::string> compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
static_assert(!mfakit::awaitable_record_store<awaitable_load_not_awaitable>);
static_assert(!mfakit::awaitable_record_store<awaitable_load_wrong_answer>);
static_assert(!mfakit::awaitable_record_store<awaitable_without_cas>);
struct awaitable_cas_plain_bool {  // a driver's bool, or its int status (-1 would read as "stored")
  awaiter<load_answer> load(std::string_view);
  awaiter<bool> compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
struct awaitable_cas_int_status {
  awaiter<load_answer> load(std::string_view);
  awaiter<int> compare_and_swap(std::string_view, std::uint64_t, const opt_bytes&);
};
static_assert(!mfakit::awaitable_record_store<awaitable_cas_wrong_answer>);
static_assert(!mfakit::awaitable_record_store<awaitable_cas_plain_bool>);
static_assert(!mfakit::awaitable_record_store<awaitable_cas_int_status>);
static_assert(!mfakit::awaitable_record_store<store_archetype>);  // nor the other way round

struct clock_without_now {};
struct clock_now_not_const {
  std::chrono::system_clock::time_point now();
};
struct clock_now_wrong_type {
  int now() const;
};
static_assert(!mfakit::clock_source<clock_without_now>);
static_assert(!mfakit::clock_source<clock_now_not_const>);
static_assert(!mfakit::clock_source<clock_now_wrong_type>);

struct random_without_fill {};
struct random_fill_void {
  void fill(std::span<unsigned char>);
};
static_assert(!mfakit::random_source<random_without_fill>);
static_assert(!mfakit::random_source<random_fill_void>);

struct operation_without_finish {
  using value_type = int;
  mfakit::next_step wants() const;
  std::string_view key() const;
  std::uint64_t expected_version() const;
  const opt_bytes& next_bytes() const;
  void on_load(load_answer);
  void on_swap(swap_answer);
  void compute();
};
struct operation_without_compute {
  using value_type = int;
  mfakit::next_step wants() const;
  std::string_view key() const;
  std::uint64_t expected_version() const;
  const opt_bytes& next_bytes() const;
  void on_load(load_answer);
  void on_swap(swap_answer);
  mfakit::result<int> finish();
};
static_assert(!mfakit::store_operation<operation_without_finish>);
static_assert(!mfakit::store_operation<operation_without_compute>);
static_assert(mfakit::store_operation<mfakit::verify_operation<op_ctx>>);
}  // namespace rejected
