// The synchronous service most hosts call: each call (calls.hpp lists them)
// builds the request's operation and runs it with mfakit::run against the
// host's store until it is done, costly steps included. The rules (retries
// on a lost race, the authorship check after a store error, the order of the
// login rules, events) live in the operations, shared with the coroutine
// service of async.hpp. Nothing is reported as a success, and no backup code
// is handed out, unless the write that makes it true is stored; a store that
// fails or throws is errc::storage_failure.
#pragma once

#include <utility>

#include "mfakit/calls.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/flow_types.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/store.hpp"

namespace mfakit {

namespace detail {
/// A store call's answer; a throwing store is a failing store.
template <class Answer, class Call>
[[nodiscard]] Answer answer_or_failure(Call&& call) noexcept {
  try {
    return Answer(call());
  } catch (...) {
    return Answer(store_failure());
  }
}
}  // namespace detail

/// The synchronous loop: runs an operation to its end against a store whose
/// calls return their answers, its costly steps inline. A store that throws
/// is a store failure.
template <record_store Store, store_operation Op>
[[nodiscard]] result<typename Op::value_type> run(Store& store, Op& op) {
  for (;;) {
    switch (op.wants()) {
      case next_step::load:
        op.on_load(detail::answer_or_failure<load_answer>([&] { return store.load(op.key()); }));
        break;
      case next_step::compare_and_swap:
        op.on_swap(detail::answer_or_failure<swap_answer>(
            [&] { return store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()); }));
        break;
      case next_step::compute: op.compute(); break;
      case next_step::done: return op.finish();
    }
  }
}

/// The calls of service_calls (calls.hpp), each answering result<...>.
template <record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random>
class service : public service_calls<service<Store, Clock, Rng>> {
 public:
  using context = operation_context<Clock, Rng>;

  /// Throws std::invalid_argument when the configuration is unusable
  /// (flow_config::problem and service_options::problem say which field).
  service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : service(store, std::move(config), service_options<>{}, std::move(clock), std::move(rng)) {}
  service(Store& store, flow_config config, service_options<> options, Clock clock = Clock{}, Rng rng = Rng{})
      : store_(store),
        cfg_(validated(std::move(config))),
        opts_(validated(std::move(options))),
        clock_(std::move(clock)),
        rng_(std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return cfg_; }
  [[nodiscard]] const service_options<>& options() const noexcept { return opts_; }

  /// Runs one operation of the flow (setup_operation, ..., or a host's own
  /// model of store_operation built on context) with these arguments.
  template <template <class> class Operation, class... Args>
  [[nodiscard]] auto call(Args&&... args) {
    Operation<context> op(ctx(), std::forward<Args>(args)...);
    return run(store_, op);
  }

 private:
  [[nodiscard]] context ctx() noexcept {
    return context{&cfg_, &clock_, &rng_, &write_ids_, opts_.max_retries, &opts_.on_event};
  }

  Store& store_;
  flow_config cfg_;
  service_options<> opts_;
  Clock clock_;
  Rng rng_;
  detail::write_id_pool write_ids_;
};

}  // namespace mfakit
