// A store chosen at run time: mfakit::service is a template over its store,
// so a host that picks its database from configuration (SQLite in
// development, PostgreSQL in production, memory_store in tests) wraps the
// one it opened in any_record_store and builds one service type. One virtual
// call per store call; the wrapped store is owned.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/errors.hpp"
#include "mfakit/store.hpp"

namespace mfakit {

class any_record_store {
 public:
  /// Takes ownership of a store (anything that models record_store).
  template <record_store Store>
  explicit any_record_store(std::unique_ptr<Store> store) : impl_(std::make_unique<holder<Store>>(std::move(store))) {}

  /// Builds the store in place: any_record_store::make<sqlite_store>(options).
  template <record_store Store, class... Args>
  [[nodiscard]] static any_record_store make(Args&&... args) {
    return any_record_store(std::make_unique<Store>(std::forward<Args>(args)...));
  }

  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) { return impl_->load(key); }
  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    return impl_->compare_and_swap(key, expected, next);
  }

 private:
  struct base {
    base() = default;
    base(const base&) = delete;
    base& operator=(const base&) = delete;
    base(base&&) = delete;
    base& operator=(base&&) = delete;
    virtual ~base() = default;
    virtual result<std::optional<stored_record>> load(std::string_view key) = 0;
    virtual result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                          const std::optional<std::string>& next) = 0;
  };
  template <class Store>
  struct holder final : base {
    explicit holder(std::unique_ptr<Store> p) : store(std::move(p)) {}
    result<std::optional<stored_record>> load(std::string_view key) override { return store->load(key); }
    result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                  const std::optional<std::string>& next) override {
      return store->compare_and_swap(key, expected, next);
    }
    std::unique_ptr<Store> store;
  };
  std::unique_ptr<base> impl_;
};
static_assert(record_store<any_record_store>);

}  // namespace mfakit
