// The storage concept: the host brings its database, mfakit brings the
// rules. A store keeps opaque records (records.hpp encodes them) under string
// keys, each with a version, and needs two operations:
//
//   load(key)                      -> the bytes and version, or nothing
//   compare_and_swap(key, v, next) -> writes `next` (nullopt deletes) only if
//                                     the stored version is still v (0: the
//                                     key must not exist); false if it lost
//
// Keys are printable ASCII (the user id inside is hex-encoded) and must be
// compared exactly: case-sensitive, trailing spaces significant (mind SQL
// collations). Records are arbitrary bytes (BLOB / bytea, not text).
// Contract: compare_and_swap is atomic; a successful write gives the key a
// version it never had before (a counter that only grows, also across a
// delete and re-create: use a global sequence, not "version + 1" after a
// delete); a lost race returns false and changes nothing. Failures are
// reported as an error result (or thrown; the service turns either into
// errc::storage_failure and reports no success). In SQL:
//   UPDATE mfa SET data = ?, version = nextval(...) WHERE key = ? AND version = ?
// Every single-use rule (replayed steps, backup codes, attempt counters)
// follows from this one primitive, on one server or many.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mfakit/errors.hpp"

namespace mfakit {

/// A record as a store keeps it.
struct stored_record {
  std::string bytes;
  std::uint64_t version = 0;  ///< never 0 for a stored record
  friend bool operator==(const stored_record&, const stored_record&) = default;
};

template <class S>
concept record_store_load = requires(S& s, std::string_view key) {
  { s.load(key) } -> std::same_as<result<std::optional<stored_record>>>;
};

template <class S>
concept record_store_cas = requires(S& s, std::string_view key, std::uint64_t expected,
                                    const std::optional<std::string>& next) {
  { s.compare_and_swap(key, expected, next) } -> std::same_as<result<bool>>;
};

/// Both operations; see the contract above.
template <class S>
concept record_store = record_store_load<S> && record_store_cas<S>;

/// The reference store: maps behind mutexes, safe to share between threads.
/// Keys are spread over 64 stripes (by hash), each with its own map, mutex
/// and version counter, so requests for different users rarely meet on a
/// lock or a cache line. A key always lives in the same stripe, so its
/// versions still only grow.
class memory_store {
 public:
  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) const {
    const stripe& s = stripe_of(key);
    const std::lock_guard lock(s.mutex);
    auto it = s.records.find(key);
    if (it == s.records.end()) return std::optional<stored_record>{};
    return std::optional<stored_record>{it->second};
  }

  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    stripe& s = stripe_of(key);
    const std::lock_guard lock(s.mutex);
    auto it = s.records.find(key);
    const std::uint64_t current = it == s.records.end() ? 0 : it->second.version;
    if (current != expected) return false;
    if (!next) {
      if (it != s.records.end()) s.records.erase(it);
      return true;
    }
    const std::uint64_t version = ++s.sequence;
    if (it == s.records.end()) {
      s.records.emplace(std::string(key), stored_record{*next, version});
    } else {
      it->second.bytes.assign(*next);  // reuses the stored buffer
      it->second.version = version;
    }
    return true;
  }

  /// The number of records (stripe by stripe: not a snapshot while writes run).
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : stripes_) {
      const std::lock_guard lock(s.mutex);
      n += s.records.size();
    }
    return n;
  }

 private:
  static constexpr std::size_t stripe_count = 64;
  struct alignas(64) stripe {  // on cache lines of its own
    mutable std::mutex mutex;
    std::map<std::string, stored_record, std::less<>> records;
    std::uint64_t sequence = 0;
  };
  [[nodiscard]] stripe& stripe_of(std::string_view key) noexcept {
    return stripes_[std::hash<std::string_view>{}(key) % stripe_count];
  }
  [[nodiscard]] const stripe& stripe_of(std::string_view key) const noexcept {
    return stripes_[std::hash<std::string_view>{}(key) % stripe_count];
  }

  std::array<stripe, stripe_count> stripes_;
};
static_assert(record_store<memory_store>);

}  // namespace mfakit
