// Archetypes: the least a type must have to model each of mfakit's concepts,
// and nothing more (in the manner of Boost.Beast's and Asio's archetypes).
// A host's adapter that compiles where an archetype compiles is accepted by
// every part of the library; tests/compile instantiates the services, both
// loops and every operation with these, so a concept that asks too little
// (the library uses something the concept does not promise) fails the build.
// For tests and compile-time checks only: a program that uses mfakit never
// needs this header at run time (it is installed so a host's tests can use it).
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mfakit/async.hpp"
#include "mfakit/clock.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/store.hpp"

namespace mfakit::testing {

/// record_store: load and compare_and_swap with exactly these signatures.
class store_archetype {
 public:
  store_archetype() = delete;  // the library never makes a store
  store_archetype(const store_archetype&) = delete;
  store_archetype& operator=(const store_archetype&) = delete;
  store_archetype(store_archetype&&) = delete;
  store_archetype& operator=(store_archetype&&) = delete;
  ~store_archetype() = default;
  result<std::optional<stored_record>> load(std::string_view key);
  result<bool> compare_and_swap(std::string_view key, std::uint64_t expected, const std::optional<std::string>& next);
};

/// awaitable_record_store: each call returns an awaiter that yields the answer.
class awaitable_store_archetype {
 public:
  template <class Answer>
  struct awaiter {
    [[nodiscard]] bool await_ready() const noexcept;
    void await_suspend(std::coroutine_handle<> h) const noexcept;
    Answer await_resume();
  };
  awaitable_store_archetype() = delete;
  awaitable_store_archetype(const awaitable_store_archetype&) = delete;
  awaitable_store_archetype& operator=(const awaitable_store_archetype&) = delete;
  awaitable_store_archetype(awaitable_store_archetype&&) = delete;
  awaitable_store_archetype& operator=(awaitable_store_archetype&&) = delete;
  ~awaitable_store_archetype() = default;
  awaiter<load_answer> load(std::string_view key);
  awaiter<swap_answer> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next);
};

/// clock_source: a const now().
struct clock_archetype {
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept;
};

/// random_source: fill(span) -> bool, safe to call from several threads at once.
struct random_archetype {
  [[nodiscard]] bool fill(std::span<unsigned char> out);
};

static_assert(record_store<store_archetype>);
static_assert(awaitable_record_store<awaitable_store_archetype>);
static_assert(clock_source<clock_archetype>);
static_assert(random_source<random_archetype>);

}  // namespace mfakit::testing
