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

#include <concepts>
#include <cstdint>
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

/// The reference store: a map behind a mutex, safe to share between threads.
class memory_store {
 public:
  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) const {
    const std::lock_guard lock(mutex_);
    auto it = records_.find(key);
    if (it == records_.end()) return std::optional<stored_record>{};
    return std::optional<stored_record>{it->second};
  }

  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    const std::lock_guard lock(mutex_);
    auto it = records_.find(key);
    const std::uint64_t current = it == records_.end() ? 0 : it->second.version;
    if (current != expected) return false;
    if (!next) {
      if (it != records_.end()) records_.erase(it);
      return true;
    }
    const std::uint64_t version = ++sequence_;
    if (it == records_.end()) {
      records_.emplace(std::string(key), stored_record{*next, version});
    } else {
      it->second = stored_record{*next, version};
    }
    return true;
  }

  [[nodiscard]] std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return records_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, stored_record, std::less<>> records_;
  std::uint64_t sequence_ = 0;
};
static_assert(record_store<memory_store>);

}  // namespace mfakit
