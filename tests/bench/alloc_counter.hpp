// Counts heap allocations made by the benchmarked operations: every malloc,
// calloc and realloc of the process (operator new, OpenSSL's CRYPTO_malloc,
// libgcrypt, Botan all end there) while a scope is open. The counting is
// done by interposing malloc & co. in the benchmark executable and
// forwarding to glibc; under a sanitizer (which owns malloc) nothing is
// interposed and available() is false.
#pragma once

#include <cstddef>

namespace mfakit_bench {

struct alloc_stats {
  long long count = 0;       ///< malloc/calloc/realloc calls
  long long bytes = 0;       ///< bytes requested in total
  long long peak_bytes = 0;  ///< the most bytes live at once (usable sizes), relative to the start
};

/// True when the allocation functions are interposed (not under a sanitizer).
[[nodiscard]] bool alloc_counting_available() noexcept;

/// Counts allocations from construction to stop(); scopes do not nest.
class alloc_scope {
 public:
  alloc_scope() noexcept;
  alloc_scope(const alloc_scope&) = delete;
  alloc_scope& operator=(const alloc_scope&) = delete;
  ~alloc_scope();
  alloc_stats stop() noexcept;

 private:
  bool open_ = true;
};

}  // namespace mfakit_bench
