// The protocol of the flow: each request is a sans-I/O operation, an object
// that says what it needs next, takes the answer back, and in the end hands
// over the result, having fired its events. It does no I/O itself, so the
// loops that drive it are a few lines each and run exactly the same rules:
//
//     for (;;) switch (op.wants()) {
//       case next_step::load:             op.on_load(store.load(op.key()));  break;
//       case next_step::compare_and_swap: op.on_swap(store.compare_and_swap(
//                                              op.key(), op.expected_version(), op.next_bytes()));  break;
//       case next_step::compute:          op.compute();  break;   // costly: anywhere, e.g. a thread pool
//       case next_step::done:             return op.finish();
//     }
//
// The synchronous loop is mfakit::run (service.hpp), the coroutine loop
// mfakit::run_async (async.hpp), which hands each compute step to the
// host's offload. The operations are in operations/account.hpp and
// operations/login.hpp; the engine they share, with its authorship check
// after a store error, in detail/account_update.hpp.
//
// The store contract the operations rely on (store.hpp): a compare-and-swap
// takes effect at most once, before its call returns, and versions only grow.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/write_id_pool.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/store.hpp"

namespace mfakit {

/// What an operation needs next.
enum class next_step : std::uint8_t {
  load,              ///< store.load(op.key()), answer with op.on_load
  compare_and_swap,  ///< store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()), op.on_swap
  compute,           ///< op.compute(): a costly step (scrypt), here or on another thread; then ask again
  done,              ///< op.finish() gives the result
};

/// The store's answers as an operation takes them. An error (whatever its
/// code) or an exception the loop caught (pass store_failure()) counts as a
/// store failure.
using load_answer = result<std::optional<stored_record>>;
using swap_answer = result<bool>;

/// What the loops accept: an object with these calls. wants() says which
/// one comes next; a call that does not match it is ignored.
template <class Op>
concept store_operation = requires(Op& op, load_answer l, swap_answer s) {
  typename Op::value_type;
  { op.wants() } -> std::same_as<next_step>;
  { op.key() } -> std::same_as<std::string_view>;
  { op.expected_version() } -> std::same_as<std::uint64_t>;
  { op.next_bytes() } -> std::same_as<const std::optional<std::string>&>;
  op.on_load(std::move(l));
  op.on_swap(s);
  op.compute();  ///< may run on any thread, while nothing else touches the operation
  { op.finish() } -> std::same_as<result<typename Op::value_type>>;
};

[[nodiscard]] inline std::error_code store_failure() noexcept { return make_error_code(errc::storage_failure); }

/// An operation's costly step, as the coroutine loop hands it to a host's
/// offload: call it once, on any thread, then complete the awaitable the
/// offload returned. It refers to the operation (which waits, suspended, in
/// its coroutine frame): a copy is as good as the original, and none may be
/// called after the awaitable completed.
class compute_job {
 public:
  template <class Op>
  requires requires(Op& o) { o.compute(); }
  explicit compute_job(Op& op) noexcept : op_(&op), run_([](void* p) { static_cast<Op*>(p)->compute(); }) {}
  void operator()() const { run_(op_); }

 private:
  void* op_;
  void (*run_)(void*);
};

/// What every operation reads: the rules, the clock, the random source, the
/// pool of write ids and the service's options. The service owns them; an
/// operation holds this for its lifetime.
template <clock_source Clock, random_source Rng>
struct operation_context {
  const flow_config* cfg;
  const Clock* clock;
  Rng* rng;
  detail::write_id_pool* write_ids;
  unsigned max_retries = 32;             ///< service_options::max_retries
  const event_hook* on_event = nullptr;  ///< service_options::on_event

  [[nodiscard]] std::int64_t now() const { return unix_seconds(clock->now()); }
  void emit(const event& e) const noexcept {
    if (on_event == nullptr || !*on_event) return;
    try {
      (*on_event)(e);
    } catch (...) {  // a failing audit hook must not undo or hide a stored change
    }
  }
};

/// How an operation ends: the answer, the events to fire, the retry-after.
template <class T>
struct completion {
  result<T> outcome = errc::storage_conflict;
  std::vector<event> events;
  std::int64_t retry_after = 0;
};

}  // namespace mfakit
