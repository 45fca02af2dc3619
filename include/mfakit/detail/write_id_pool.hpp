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

// The stripe of a write_id_pool this thread tries first: threads are dealt
// out round robin as they first write.
[[nodiscard]] inline std::size_t write_id_home_stripe() noexcept {
  static std::atomic<std::size_t> next_thread{0};
  thread_local const std::size_t mine = next_thread.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

/// Fresh random write ids, drawn from the service's random source 32 at a
/// time, so a write pays for a thirty-second of a random-source call.
///
/// Striped: eight stripes, each with its own lock, buffer and fork
/// generation. A write takes the first free stripe, starting from its
/// thread's own, and waits only when all eight are busy, so one thread's
/// refill does not hold up the others. (One lock held across each refill made
/// a login verify on 2 threads block about 10 times in 1000 calls and scale
/// about 1.6x instead of 2x.) Each id is handed out once, under its stripe's
/// lock. Refills from different stripes may call the random source at the
/// same time: a service's source must be safe to call from several threads
/// at once, as it already was for challenge tokens and backup codes
/// (openssl_random is).
///
/// After a fork() the child refills every stripe before its first id, so it
/// never hands out what its parent buffered. Fork only while no call into the
/// service is in flight: a child forked while another thread held a stripe's
/// lock inherits that lock held. Write ids are not secret (they only tell
/// writes apart), so the buffers are not wiped.
class write_id_pool {
 public:
  static constexpr std::size_t stripes = 8;
  static constexpr std::size_t ids_per_refill = 32;

  template <random_source Rng>
  [[nodiscard]] bool next(Rng& rng, write_id& out) {
    const std::size_t home = write_id_home_stripe();
    for (std::size_t i = 0; i < stripes; ++i) {
      stripe& s = stripes_[(home + i) % stripes];
      const std::unique_lock lock(s.mutex, std::try_to_lock);
      if (lock.owns_lock()) return s.next(rng, out);
    }
    stripe& s = stripes_[home % stripes];
    const std::lock_guard lock(s.mutex);
    return s.next(rng, out);
  }

 private:
  // Stripes are 568 bytes apart, so two stripes' locks never share a cache
  // line (a lock may share one with the tail of the previous stripe's ids).
  struct stripe {
    std::mutex mutex;
    std::size_t used = ids_per_refill * write_id_bytes;
    std::uint64_t generation = 0;
    std::array<unsigned char, ids_per_refill * write_id_bytes> ids{};

    // Called with `mutex` held.
    template <random_source Rng>
    [[nodiscard]] bool next(Rng& rng, write_id& out) {
      const std::uint64_t now = fork_generation();
      if (used == ids.size() || now != generation) {
        if (!rng.fill(ids)) {
          used = ids.size();
          return false;
        }
        used = 0;
        generation = now;
      }
      std::memcpy(out.data(), ids.data() + used, out.size());  // each handed out once
      used += out.size();
      return true;
    }
  };
  std::array<stripe, stripes> stripes_{};
};

}  // namespace mfakit::detail
