#include "alloc_counter.hpp"

#include <atomic>
#include <cstdlib>

#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MFAKIT_BENCH_INTERPOSE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define MFAKIT_BENCH_INTERPOSE 0
#endif
#endif
#if !defined(MFAKIT_BENCH_INTERPOSE) && defined(__GLIBC__)
#define MFAKIT_BENCH_INTERPOSE 1
#endif
#ifndef MFAKIT_BENCH_INTERPOSE
#define MFAKIT_BENCH_INTERPOSE 0
#endif

namespace {
// Constant-initialised, so usable by allocations made before main().
std::atomic<bool> counting{false};
std::atomic<long long> n_allocs{0};
std::atomic<long long> n_bytes{0};
std::atomic<long long> live{0};
std::atomic<long long> peak{0};

void note_alloc(void* p, std::size_t requested) noexcept {
  if (p == nullptr || !counting.load(std::memory_order_relaxed)) return;
  n_allocs.fetch_add(1, std::memory_order_relaxed);
  n_bytes.fetch_add(static_cast<long long>(requested), std::memory_order_relaxed);
  const long long now = live.fetch_add(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed) +
                        static_cast<long long>(malloc_usable_size(p));
  long long old = peak.load(std::memory_order_relaxed);
  while (now > old && !peak.compare_exchange_weak(old, now, std::memory_order_relaxed)) {
  }
}
void note_free(void* p) noexcept {
  if (p == nullptr || !counting.load(std::memory_order_relaxed)) return;
  live.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
}
}  // namespace

#if MFAKIT_BENCH_INTERPOSE
// glibc exports its allocator under these names too; the executable's malloc
// takes precedence over libc's for every library in the process.
extern "C" {
void* __libc_malloc(std::size_t);               // NOLINT(bugprone-reserved-identifier)
void* __libc_calloc(std::size_t, std::size_t);  // NOLINT(bugprone-reserved-identifier)
void* __libc_realloc(void*, std::size_t);       // NOLINT(bugprone-reserved-identifier)
void __libc_free(void*);                        // NOLINT(bugprone-reserved-identifier)

void* malloc(std::size_t n) noexcept {
  void* p = __libc_malloc(n);
  note_alloc(p, n);
  return p;
}
void* calloc(std::size_t n, std::size_t size) noexcept {
  void* p = __libc_calloc(n, size);
  note_alloc(p, n * size);
  return p;
}
void* realloc(void* old, std::size_t n) noexcept {
  note_free(old);
  void* p = __libc_realloc(old, n);
  note_alloc(p, n);
  return p;
}
void free(void* p) noexcept {
  note_free(p);
  __libc_free(p);
}
}
#endif

namespace mfakit_bench {

bool alloc_counting_available() noexcept { return MFAKIT_BENCH_INTERPOSE != 0; }

alloc_scope::alloc_scope() noexcept {
  n_allocs.store(0);
  n_bytes.store(0);
  live.store(0);
  peak.store(0);
  counting.store(true);
}

alloc_scope::~alloc_scope() {
  if (open_) counting.store(false);
}

alloc_stats alloc_scope::stop() noexcept {
  counting.store(false);
  open_ = false;
  return {n_allocs.load(), n_bytes.load(), peak.load()};
}

}  // namespace mfakit_bench
