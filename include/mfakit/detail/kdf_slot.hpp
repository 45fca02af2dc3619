// The KDF slot: backup_codes.hpp holds one around each scrypt run.
#pragma once

#include <algorithm>
#include <cstddef>
#include <semaphore>
#include <thread>

namespace mfakit::detail {

/// Bounds the scrypt runs in flight in this process (one per core, at least
/// two): a burst of concurrent backup-code guesses queues instead of taking
/// their memory each without limit. Throttling still decides who may guess at all.
class kdf_slot {
 public:
  kdf_slot() { slots().acquire(); }
  kdf_slot(const kdf_slot&) = delete;
  kdf_slot& operator=(const kdf_slot&) = delete;
  ~kdf_slot() { slots().release(); }

 private:
  static std::counting_semaphore<1024>& slots() {
    static std::counting_semaphore<1024> s(
        static_cast<std::ptrdiff_t>(std::clamp(std::thread::hardware_concurrency(), 2U, 1024U)));
    return s;
  }
};

}  // namespace mfakit::detail
