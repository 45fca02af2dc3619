// The coroutine loop seen through the synchronous API, so one test body can
// run against both loops:
//  - awaitable_adapter<Store>: a record_store as an awaitable_record_store,
//    each call a coroutine (mfakit::task) around the store's own call;
//  - async_driven_service<Store, Clock, Rng>: the calls of mfakit::service,
//    each one an async_service coroutine over that adapter, run to its end
//    with sync_wait.
// A host's own tests can use them the same way: its suites, written against
// mfakit::service, also check the coroutine loop.
// For tests only: a program that uses mfakit never needs this header at run
// time (it is installed so a host's tests can use it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/async.hpp"
#include "mfakit/store.hpp"

namespace mfakit::testing {

template <record_store Store>
class awaitable_adapter {
 public:
  explicit awaitable_adapter(Store& store) noexcept : store_(&store) {}
  task<load_answer> load(std::string_view key) { co_return store_->load(key); }
  task<swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                     const std::optional<std::string>& next) {
    co_return store_->compare_and_swap(key, expected, next);
  }

 private:
  Store* store_;
};

template <record_store Store, clock_source Clock = system_clock_source, random_source Rng = openssl_random>
class async_driven_service {
 public:
  async_driven_service(Store& store, flow_config config, Clock clock = Clock{}, Rng rng = Rng{})
      : adapter_(store), svc_(adapter_, std::move(config), std::move(clock), std::move(rng)) {}

  [[nodiscard]] const flow_config& config() const noexcept { return svc_.config(); }

  [[nodiscard]] result<setup_result> setup(std::string_view user, std::string_view account_name) {
    return sync_wait(svc_.setup(std::string(user), std::string(account_name)));
  }
  [[nodiscard]] result<enable_result> enable(std::string_view user, std::string_view code,
                                             attempt_info* info = nullptr) {
    return sync_wait(svc_.enable(std::string(user), std::string(code), info));
  }
  [[nodiscard]] result<void> disable(std::string_view user) { return sync_wait(svc_.disable(std::string(user))); }
  [[nodiscard]] result<regenerate_result> regenerate_backup_codes(std::string_view user) {
    return sync_wait(svc_.regenerate_backup_codes(std::string(user)));
  }
  [[nodiscard]] result<void> reset_throttle(std::string_view user) {
    return sync_wait(svc_.reset_throttle(std::string(user)));
  }
  [[nodiscard]] result<bool> reseal(std::string_view user) { return sync_wait(svc_.reseal(std::string(user))); }
  [[nodiscard]] result<status_result> status(std::string_view user) {
    return sync_wait(svc_.status(std::string(user)));
  }
  [[nodiscard]] result<login_result> verify(std::string_view user, std::string_view code, factor via = factor::totp,
                                            attempt_info* info = nullptr) {
    return sync_wait(svc_.verify(std::string(user), std::string(code), via, info));
  }
  [[nodiscard]] result<challenge_result> begin_login(std::string_view user) {
    return sync_wait(svc_.begin_login(std::string(user)));
  }
  [[nodiscard]] result<login_result> complete_login(std::string_view token, std::string_view code,
                                                    factor via = factor::totp, attempt_info* info = nullptr) {
    return sync_wait(svc_.complete_login(std::string(token), std::string(code), via, info));
  }

 private:
  awaitable_adapter<Store> adapter_;
  async_service<awaitable_adapter<Store>, Clock, Rng> svc_;
};

}  // namespace mfakit::testing
