// The write ids of operation.hpp: one fresh random id per account write.
#pragma once

#include <array>
#include <atomic>
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

/// Fresh random write ids, drawn from the service's random source 64 at a
/// time, so a write pays for a sixty-fourth of a random-source call.
/// Thread-safe; refilled after a fork. Write ids are not secret (they only
/// tell writes apart), so the pool is not wiped.
class write_id_pool {
 public:
  template <random_source Rng>
  [[nodiscard]] bool next(Rng& rng, write_id& out) {
    const std::lock_guard lock(mutex_);
    const std::uint64_t generation = fork_generation();
    if (used_ == pool_.size() || generation != generation_) {
      if (!rng.fill(pool_)) {
        used_ = pool_.size();
        return false;
      }
      used_ = 0;
      generation_ = generation;
    }
    std::memcpy(out.data(), pool_.data() + used_, out.size());  // each handed out once
    used_ += out.size();
    return true;
  }

 private:
  std::mutex mutex_;
  std::array<unsigned char, 64 * write_id_bytes> pool_{};
  std::size_t used_ = pool_.size();
  std::uint64_t generation_ = 0;
};

}  // namespace mfakit::detail
