// The write ids of operation.hpp: one fresh random id per account write.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include "mfakit/crypto.hpp"
#include "mfakit/records.hpp"

namespace mfakit::detail {

// Bumped in a child after fork(), so a child never hands out the write ids its
// parent buffered (a prefork server builds its services before forking).
inline std::atomic<std::uint64_t> fork_count{0};

[[nodiscard]] inline std::uint64_t fork_generation() noexcept {
#if defined(__unix__) || defined(__APPLE__)
  static const bool registered =
      ::pthread_atfork(nullptr, nullptr, [] { fork_count.fetch_add(1, std::memory_order_relaxed); }) == 0;
  (void)registered;
#endif
  return fork_count.load(std::memory_order_relaxed);
}

// Which stripe of a write_id_pool this thread draws from: threads are dealt
// out round robin as they first write, so two threads share a stripe only
// when there are more threads than stripes.
[[nodiscard]] inline std::size_t write_id_stripe_of_this_thread() noexcept {
  static std::atomic<std::size_t> next_thread{0};
  thread_local const std::size_t mine = next_thread.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

/// Fresh random write ids, drawn from the service's random source 64 at a
/// time, so a write pays for a sixty-fourth of a random-source call.
/// Thread-safe and striped: each thread draws from one of eight stripes,
/// each with its own lock and buffer, so threads writing at once do not queue
/// on one lock (one shared lock, held across each refill, made a login verify
/// on 2 threads block about once in 100 calls and scale 1.4x instead of 2x).
/// Refilled after a fork. Write ids are not secret (they only tell writes
/// apart), so the buffers are not wiped.
class write_id_pool {
 public:
  static constexpr std::size_t stripes = 8;
  static constexpr std::size_t ids_per_refill = 64;

  template <random_source Rng>
  [[nodiscard]] bool next(Rng& rng, write_id& out) {
    stripe& s = stripes_[write_id_stripe_of_this_thread() % stripes];
    const std::lock_guard lock(s.mutex);
    const std::uint64_t generation = fork_generation();
    if (s.used == s.ids.size() || generation != s.generation) {
      if (!rng.fill(s.ids)) {
        s.used = s.ids.size();
        return false;
      }
      s.used = 0;
      s.generation = generation;
    }
    std::memcpy(out.data(), s.ids.data() + s.used, out.size());  // each handed out once
    s.used += out.size();
    return true;
  }

 private:
  // Padded to whole cache lines (not alignas, which would make a heap-
  // allocated service go through aligned new), so no two stripes' locks
  // share a line.
  struct stripe_fields {
    std::mutex mutex;  // the fields a write touches first, together
    std::size_t used = ids_per_refill * write_id_bytes;
    std::uint64_t generation = 0;
    std::array<unsigned char, ids_per_refill * write_id_bytes> ids{};
  };
  static constexpr std::size_t cache_line = 64;
  struct stripe : stripe_fields {
    std::array<unsigned char, cache_line - sizeof(stripe_fields) % cache_line> padding{};
  };
  std::array<stripe, stripes> stripes_{};
};

}  // namespace mfakit::detail
