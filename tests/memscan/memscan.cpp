// How tests/memscan sees every block the process frees, before it is freed:
//
//  glibc build  the executable defines malloc, calloc, realloc and free (the
//               dynamic linker binds every library's calls to them: libcrypto,
//               libstdc++, fmt) and forwards to glibc's __libc_* functions;
//               free scans the block (malloc_usable_size bytes), realloc is
//               done as malloc + copy + scan + free so the old block is
//               scanned even where glibc would have moved it. The global
//               operator new and delete (every form) are replaced too, so C++
//               frees are told apart from C ones in the report.
//  ASan build   AddressSanitizer owns malloc (interposing it there would
//               bypass ASan), so the hooks are ASan's own:
//               __sanitizer_install_malloc_and_free_hooks; the free hook runs
//               before ASan poisons or quarantines the block, and covers
//               malloc/free, realloc's old block, operator delete and
//               OpenSSL's frees alike. A table of live blocks (kept by the
//               malloc hook) replaces the walk over anonymous mappings, which
//               under ASan include terabytes of shadow.
//  both         CRYPTO_set_mem_functions, installed by a constructor before
//               OpenSSL allocates anything: OpenSSL's frees are scanned with
//               the file:line OpenSSL passes (then handed to the plain free
//               without a second scan), its reallocs like realloc above.
//
// A scan looks at every byte offset of a block: the 8 bytes there (ASCII
// letters folded to lower case) are hashed and looked up among the hashes of
// the first 8 bytes of every window of every needle; a candidate is then
// compared in full against the masked needle. Only masks and hashes are kept,
// never a needle's bytes, so the scanner's own memory cannot match.
#include "memscan.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <dlfcn.h>
#include <execinfo.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/crypto.h>

#if defined(__SANITIZE_ADDRESS__)
#define MEMSCAN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMSCAN_ASAN 1
#endif
#endif
#ifndef MEMSCAN_ASAN
#define MEMSCAN_ASAN 0
#endif

#if defined(__clang__)
#define MEMSCAN_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define MEMSCAN_NO_ASAN __attribute__((no_sanitize_address))
#endif

namespace memscan {
namespace {

struct needle {
  std::array<char, 64> label{};
  std::array<unsigned char, max_needle> masked{};
  std::array<unsigned char, max_needle> mask{};
  std::size_t size = 0;
  needle_rule rule{8, false};
};

struct entry {
  std::uint64_t h = 0;  // 0: empty
  std::uint32_t needle = 0;
  std::uint32_t offset = 0;
};

struct hit {
  const char* phase = nullptr;
  const char* where = nullptr;
  const char* file = nullptr;  // OpenSSL's free: its caller
  int line = 0;
  std::uint32_t needle = 0;
  std::uint32_t needle_offset = 0;
  const void* block = nullptr;
  std::size_t block_size = 0;
  std::size_t at = 0;
  std::array<void*, 24> frames{};
  int nframes = 0;
};

struct phase_stats {
  const char* phase = nullptr;
  stats s;
};

constexpr std::size_t max_needles = 512;
constexpr std::size_t table_size = 1U << 14;
constexpr std::size_t bloom_bits = 1U << 16;
constexpr std::size_t max_hits = 256;
constexpr std::size_t max_phases = 64;

// Plain arrays in .bss: nothing here allocates, so all of it works inside free().
std::array<needle, max_needles> needles;
std::size_t n_needles = 0;
std::array<entry, table_size> table;
std::array<std::uint64_t, bloom_bits / 64> bloom;
std::array<hit, max_hits> hits;
std::size_t n_hits_kept = 0;
std::uint64_t n_hits = 0;
std::array<phase_stats, max_phases> phases;
std::size_t n_phases = 0;
std::atomic<const char*> current_phase{"startup"};
std::atomic<bool> armed{false};
std::atomic_flag lock = ATOMIC_FLAG_INIT;
thread_local bool in_hook = false;
thread_local const void* scanned_by_openssl_hook = nullptr;
bool crypto_hooked = false;

/// ASCII upper-case letters to lower case, in each byte of a word.
constexpr std::uint64_t fold64(std::uint64_t x) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  const std::uint64_t low7 = x & (0x7F * ones);
  const std::uint64_t ge_a = low7 + (0x80 - 'A') * ones;      // high bit: byte >= 'A'
  const std::uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones;  // high bit: byte > 'Z'
  const std::uint64_t upper = ge_a & ~gt_z & ~x & (0x80 * ones);
  return x | (upper >> 2U);
}
static_assert(fold64(0x415A5B40617A3132ULL) == 0x617A5B40617A3132ULL);

constexpr std::uint64_t mix64(std::uint64_t z) noexcept {  // a bijection: distinct keys stay distinct
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  z ^= z >> 31U;
  return z == 0 ? 1 : z;
}

constexpr unsigned char fold8(unsigned char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + ('a' - 'A')) : c;
}

struct spin {
  spin() noexcept {
    while (lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~spin() { lock.clear(std::memory_order_release); }
  spin(const spin&) = delete;
  spin& operator=(const spin&) = delete;
};

phase_stats& stats_of(const char* phase) noexcept {
  for (std::size_t i = 0; i < n_phases; ++i)
    if (phases[i].phase == phase) return phases[i];
  if (n_phases < max_phases) {
    phases[n_phases].phase = phase;
    return phases[n_phases++];
  }
  return phases[max_phases - 1];
}

MEMSCAN_NO_ASAN bool verify(const needle& nd, std::uint32_t offset, const unsigned char* p, std::size_t left) noexcept {
  const std::size_t w = nd.rule.window;
  if (left < w) return false;
  for (std::size_t j = 0; j < w; ++j) {
    const auto want = static_cast<unsigned char>(nd.masked[offset + j] ^ nd.mask[offset + j]);
    const unsigned char got = p[j];
    if (nd.rule.fold ? fold8(got) != fold8(want) : got != want) return false;
  }
  return true;
}

/// The scan proper; the caller holds the lock. Not instrumented: it reads
/// stack below the current frame and whole mappings, as raw memory.
MEMSCAN_NO_ASAN void scan_locked(const unsigned char* p, std::size_t n, const char* where, const char* file, int line,
                                 bool want_stack) noexcept {
  const char* phase = current_phase.load(std::memory_order_relaxed);
  phase_stats& ps = stats_of(phase);
  ps.s.bytes_scanned += n;
  if (n < 8 || n_needles == 0) return;
  std::array<std::uint32_t, 16> seen{};
  std::size_t n_seen = 0;
  for (std::size_t i = 0; i + 8 <= n; ++i) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, 8);
    const std::uint64_t h = mix64(fold64(w));
    const std::uint64_t b = h >> 48U;
    if ((bloom[b / 64] & (1ULL << (b % 64))) == 0) continue;
    for (std::size_t s = h & (table_size - 1);; s = (s + 1) & (table_size - 1)) {
      const entry& e = table[s];
      if (e.h == 0) break;
      if (e.h != h || !verify(needles[e.needle], e.offset, p + i, n - i)) continue;
      bool dup = false;
      for (std::size_t k = 0; k < n_seen; ++k) dup = dup || seen[k] == e.needle;
      if (dup) continue;  // one hit per needle and block
      if (n_seen < seen.size()) seen[n_seen++] = e.needle;
      ++n_hits;
      ++ps.s.hits;
      if (n_hits_kept < max_hits) {
        hit& h_ = hits[n_hits_kept++];
        h_ = hit{phase, where, file, line, e.needle, e.offset, p, n, i, {}, 0};
        if (want_stack) h_.nframes = backtrace(h_.frames.data(), static_cast<int>(h_.frames.size()));
      }
    }
  }
}

void on_free(const void* p, std::size_t n, const char* where, const char* file = nullptr, int line = 0) noexcept {
  if (p == nullptr || in_hook || !armed.load(std::memory_order_relaxed)) return;
  in_hook = true;
  {
    const spin s;
    ++stats_of(current_phase.load(std::memory_order_relaxed)).s.frees_scanned;
    scan_locked(static_cast<const unsigned char*>(p), n, where, file, line, true);
  }
  in_hook = false;
}

}  // namespace

void random_mask(std::span<unsigned char> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t r = getrandom(out.data() + done, out.size() - done, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) std::abort();
    done += static_cast<std::size_t>(r);
  }
}

void add_needle(std::string_view label, std::span<const unsigned char> masked, std::span<const unsigned char> mask,
                needle_rule rule) {
  if (n_needles == max_needles || masked.size() != mask.size() || masked.size() > max_needle || masked.size() < 8) {
    std::fprintf(stderr, "memscan: needle %.*s not registered (size %zu)\n", static_cast<int>(label.size()),
                 label.data(), masked.size());
    std::abort();
  }
  if (rule.window > masked.size() || rule.window == 0) rule.window = masked.size();
  if (rule.window < 8) rule.window = 8;
  const spin s;
  needle& nd = needles[n_needles];
  const std::size_t l = label.size() < nd.label.size() - 1 ? label.size() : nd.label.size() - 1;
  std::memcpy(nd.label.data(), label.data(), l);
  std::memcpy(nd.masked.data(), masked.data(), masked.size());
  std::memcpy(nd.mask.data(), mask.data(), mask.size());
  nd.size = masked.size();
  nd.rule = rule;
  for (std::size_t o = 0; o + rule.window <= nd.size; ++o) {
    volatile unsigned char first[8];  // the only plain bytes of a needle: 8, wiped below
    for (std::size_t j = 0; j < 8; ++j) first[j] = static_cast<unsigned char>(nd.masked[o + j] ^ nd.mask[o + j]);
    std::uint64_t w = 0;
    for (std::size_t j = 0; j < 8; ++j) w |= static_cast<std::uint64_t>(first[j]) << (8U * j);
    for (auto& c : first) c = 0;
    const std::uint64_t h = mix64(fold64(w));
    w = 0;
    std::size_t slot = h & (table_size - 1);
    std::size_t probes = 0;
    while (table[slot].h != 0) {
      slot = (slot + 1) & (table_size - 1);
      if (++probes == table_size) std::abort();
    }
    table[slot] = entry{h, static_cast<std::uint32_t>(n_needles), static_cast<std::uint32_t>(o)};
    const std::uint64_t b = h >> 48U;
    bloom[b / 64] |= 1ULL << (b % 64);
  }
  ++n_needles;
}

bool equals_needle(std::size_t index, std::span<const unsigned char> data) {
  if (index >= n_needles) return false;
  const needle& nd = needles[index];
  if (data.size() != nd.size) return false;
  unsigned diff = 0;
  for (std::size_t j = 0; j < nd.size; ++j) diff |= static_cast<unsigned>(data[j] ^ nd.masked[j] ^ nd.mask[j]);
  return diff == 0;
}

std::size_t needle_count() { return n_needles; }

void set_phase(const char* phase) { current_phase.store(phase, std::memory_order_relaxed); }
void set_armed(bool a) { armed.store(a, std::memory_order_relaxed); }

void scan(const void* p, std::size_t n, const char* where) {
  const spin s;
  scan_locked(static_cast<const unsigned char*>(p), n, where, nullptr, 0, false);
}
void scan_unchecked(const void* p, std::size_t n, const char* where) { scan(p, n, where); }

// --- live blocks (ASan build) ---------------------------------------------------------------

#if MEMSCAN_ASAN
namespace {
constexpr std::size_t live_slots = 1U << 20;
struct live_block {
  std::uintptr_t p = 0;  // 0: empty, 1: deleted
  std::size_t n = 0;
};
std::array<live_block, live_slots> live;
std::atomic_flag live_lock = ATOMIC_FLAG_INIT;
std::size_t live_hash(std::uintptr_t p) { return (mix64(p) >> 8U) & (live_slots - 1); }

void live_insert(const volatile void* vp, std::size_t n) noexcept {
  const auto p = reinterpret_cast<std::uintptr_t>(const_cast<const void*>(vp));
  while (live_lock.test_and_set(std::memory_order_acquire)) {
  }
  for (std::size_t s = live_hash(p), k = 0; k < live_slots; s = (s + 1) & (live_slots - 1), ++k) {
    if (live[s].p <= 1) {
      live[s] = {p, n};
      break;
    }
  }
  live_lock.clear(std::memory_order_release);
}
std::size_t live_remove(const volatile void* vp) noexcept {
  const auto p = reinterpret_cast<std::uintptr_t>(const_cast<const void*>(vp));
  std::size_t n = static_cast<std::size_t>(-1);
  while (live_lock.test_and_set(std::memory_order_acquire)) {
  }
  for (std::size_t s = live_hash(p), k = 0; k < live_slots; s = (s + 1) & (live_slots - 1), ++k) {
    if (live[s].p == 0) break;
    if (live[s].p == p) {
      n = live[s].n;
      live[s].p = 1;
      break;
    }
  }
  live_lock.clear(std::memory_order_release);
  return n;
}
}  // namespace
#endif

// --- writable memory ------------------------------------------------------------------------------

namespace {
std::array<char, 1U << 18> maps_text;

/// Calls f(start, end, perms, path) for each line of /proc/self/maps (no allocation).
template <class F>
void each_mapping(F&& f) {
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::size_t len = 0;
  for (;;) {
    const ssize_t r = ::read(fd, maps_text.data() + len, maps_text.size() - 1 - len);
    if (r <= 0) break;
    len += static_cast<std::size_t>(r);
  }
  ::close(fd);
  maps_text[len] = '\0';
  char* line = maps_text.data();
  while (*line != '\0') {
    char* nl = std::strchr(line, '\n');
    if (nl != nullptr) *nl = '\0';
    unsigned long start = 0, end = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) >= 3) {
      const char* path = path_at > 0 ? line + path_at : "";
      f(static_cast<std::uintptr_t>(start), static_cast<std::uintptr_t>(end), perms, path);
    }
    if (nl == nullptr) break;
    line = nl + 1;
  }
}
}  // namespace

void scan_heap_and_writable_memory() {
  const char* saved = current_phase.load();
  each_mapping([](std::uintptr_t start, std::uintptr_t end, const char* perms, const char* path) {
    if (perms[0] != 'r' || perms[1] != 'w') return;
    const bool anonymous = path[0] == '\0';
    if (std::strcmp(path, "[stack]") == 0) {
      set_phase("final scan: [stack]");
    } else if (std::strcmp(path, "[heap]") == 0) {
      set_phase("final scan: [heap]");
    } else if (anonymous) {
      if (MEMSCAN_ASAN) return;  // shadow and allocator regions: the live blocks are scanned below
      set_phase("final scan: anonymous mappings");
    } else if (path[0] == '[') {
      return;  // [vvar] and co.
    } else {
      set_phase("final scan: writable data of loaded files");
    }
    scan_unchecked(reinterpret_cast<const void*>(start), end - start, path[0] != '\0' ? path : "anonymous");
  });
#if MEMSCAN_ASAN
  set_phase("final scan: live heap blocks (ASan)");
  for (const auto& b : live)
    if (b.p > 1) scan_unchecked(reinterpret_cast<const void*>(b.p), b.n, "live block");
#endif
  set_phase(saved);
}

stats totals() {
  stats t;
  for (std::size_t i = 0; i < n_phases; ++i) {
    t.frees_scanned += phases[i].s.frees_scanned;
    t.bytes_scanned += phases[i].s.bytes_scanned;
    t.hits += phases[i].s.hits;
  }
  return t;
}

namespace {
/// "function at file:line" for a code address, through addr2line (report time only).
void print_frame(void* addr) {
  Dl_info info{};
  if (dladdr(addr, &info) == 0 || info.dli_fname == nullptr) {
    std::printf("      %p\n", addr);
    return;
  }
  const auto offset = reinterpret_cast<std::uintptr_t>(addr) - reinterpret_cast<std::uintptr_t>(info.dli_fbase) - 1;
  char cmd[1024];
  std::snprintf(cmd, sizeof cmd, "addr2line -C -f -i -p -e '%s' 0x%lx 2>/dev/null", info.dli_fname,
                static_cast<unsigned long>(offset));
  std::string_view shown;
  char out[2048] = {};
  if (FILE* f = ::popen(cmd, "r")) {
    const std::size_t r = std::fread(out, 1, sizeof out - 1, f);
    ::pclose(f);
    out[r] = '\0';
    shown = out;
  }
  if (shown.empty() || shown.find("??") == 0) {
    std::printf("      %s (%s+0x%lx)\n", info.dli_sname != nullptr ? info.dli_sname : "?", info.dli_fname,
                static_cast<unsigned long>(offset));
  } else {
    std::printf("      %s", out);
    if (shown.back() != '\n') std::printf("\n");
  }
}
}  // namespace

std::uint64_t report() {
  const bool was = armed.exchange(false);
  std::printf("\nmemscan: %s\n", coverage());
  std::printf("memscan: %zu needles; CRYPTO_set_mem_functions %s\n\n", n_needles,
              crypto_hooked ? "installed" : "NOT installed (OpenSSL allocated before main?)");
  std::printf("%-52s %10s %14s %6s\n", "phase", "frees", "bytes scanned", "hits");
  for (std::size_t i = 0; i < n_phases; ++i)
    std::printf(
        "%-52s %10llu %14llu %6llu\n", phases[i].phase, static_cast<unsigned long long>(phases[i].s.frees_scanned),
        static_cast<unsigned long long>(phases[i].s.bytes_scanned), static_cast<unsigned long long>(phases[i].s.hits));
  const stats t = totals();
  std::printf("%-52s %10llu %14llu %6llu\n", "total", static_cast<unsigned long long>(t.frees_scanned),
              static_cast<unsigned long long>(t.bytes_scanned), static_cast<unsigned long long>(t.hits));
  for (std::size_t i = 0; i < n_hits_kept; ++i) {
    const hit& h = hits[i];
    const needle& nd = needles[h.needle];
    std::printf("\nHIT %zu: %s (bytes %u..%zu of it) in %s, phase \"%s\"", i + 1, nd.label.data(), h.needle_offset,
                h.needle_offset + nd.rule.window, h.where, h.phase);
    if (h.file != nullptr) std::printf(" (OPENSSL_free at %s:%d)", h.file, h.line);
    std::printf("\n    block %p, %zu bytes, at offset %zu\n", h.block, h.block_size, h.at);
    if (h.nframes > 0) {
      std::printf("    freed from:\n");
      for (int f = 1; f < h.nframes; ++f) print_frame(h.frames[static_cast<std::size_t>(f)]);
    }
  }
  if (n_hits > n_hits_kept)
    std::printf("\n(%llu more hits not kept)\n", static_cast<unsigned long long>(n_hits - n_hits_kept));
  std::fflush(stdout);
  armed.store(was);
  return n_hits;
}

const char* coverage() {
  return MEMSCAN_ASAN
             ? "ASan build: frees seen through __sanitizer_install_malloc_and_free_hooks (malloc/free, realloc, "
               "operator delete, OpenSSL) and CRYPTO_set_mem_functions; final scan: live heap blocks, [stack], "
               "writable data of loaded files"
             : "glibc build: malloc/calloc/realloc/free interposed, operator new/delete replaced, "
               "CRYPTO_set_mem_functions; final scan: every writable mapping ([heap], anonymous, [stack], "
               "data of loaded files)";
}

bool openssl_hooked() { return crypto_hooked; }

}  // namespace memscan

// --- the hooks -------------------------------------------------------------------------------------

namespace {
#if MEMSCAN_ASAN
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void*, std::size_t),
                                                         void (*)(const volatile void*));
extern "C" std::size_t __sanitizer_get_allocated_size(const volatile void*);

void asan_malloc_hook(const volatile void* p, std::size_t n) { memscan::live_insert(p, n); }
void asan_free_hook(const volatile void* vp) {
  const void* p = const_cast<const void*>(vp);
  const std::size_t n = memscan::live_remove(vp);
  if (p == memscan::scanned_by_openssl_hook) return;  // OpenSSL's free hook scanned it a moment ago
  memscan::on_free(p, n != static_cast<std::size_t>(-1) ? n : __sanitizer_get_allocated_size(vp), "free (ASan hook)");
}
std::size_t block_size(void* p) { return __sanitizer_get_allocated_size(p); }
void plain_free(void* p) { std::free(p); }
void* plain_malloc(std::size_t n) { return std::malloc(n); }
#else
extern "C" {
void* __libc_malloc(std::size_t);               // NOLINT(bugprone-reserved-identifier)
void* __libc_calloc(std::size_t, std::size_t);  // NOLINT(bugprone-reserved-identifier)
void __libc_free(void*);                        // NOLINT(bugprone-reserved-identifier)
}
std::size_t block_size(void* p) { return malloc_usable_size(p); }
void plain_free(void* p) { __libc_free(p); }
void* plain_malloc(std::size_t n) { return __libc_malloc(n); }
#endif

void* crypto_malloc(std::size_t n, const char* /*file*/, int /*line*/) { return plain_malloc(n); }
void crypto_free(void* p, const char* file, int line) {
  if (p == nullptr) return;
  memscan::on_free(p, block_size(p), "OPENSSL_free", file, line);
  memscan::scanned_by_openssl_hook = p;
  plain_free(p);
  memscan::scanned_by_openssl_hook = nullptr;
}
void* crypto_realloc(void* p, std::size_t n, const char* file, int line) {
  if (p == nullptr) return plain_malloc(n);
  if (n == 0) {
    crypto_free(p, file, line);
    return nullptr;
  }
  void* q = plain_malloc(n);
  if (q == nullptr) return nullptr;
  const std::size_t old = block_size(p);
  std::memcpy(q, p, old < n ? old : n);
  crypto_free(p, file, line);
  return q;
}

__attribute__((constructor(101))) void install_hooks() {
  memscan::crypto_hooked = CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free) == 1;
#if MEMSCAN_ASAN
  __sanitizer_install_malloc_and_free_hooks(asan_malloc_hook, asan_free_hook);
#endif
  void* warm[2];
  (void)backtrace(warm, 2);  // loads the unwinder now, not inside a free
}
}  // namespace

#if !MEMSCAN_ASAN
extern "C" {
void* malloc(std::size_t n) { return __libc_malloc(n); }
void* calloc(std::size_t n, std::size_t size) { return __libc_calloc(n, size); }
void free(void* p) {
  if (p != nullptr) memscan::on_free(p, malloc_usable_size(p), "free");
  __libc_free(p);
}
void* realloc(void* p, std::size_t n) {
  if (p == nullptr) return __libc_malloc(n);
  if (n == 0) {
    free(p);
    return nullptr;
  }
  void* q = __libc_malloc(n);
  if (q == nullptr) return nullptr;
  const std::size_t old = malloc_usable_size(p);
  std::memcpy(q, p, old < n ? old : n);
  memscan::on_free(p, old, "realloc (old block)");
  __libc_free(p);
  return q;
}
}

namespace {
void* new_block(std::size_t n) {
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* new_aligned(std::size_t n, std::align_val_t a) {
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<std::size_t>(a) < sizeof(void*) ? sizeof(void*) : static_cast<std::size_t>(a),
                     n == 0 ? 1 : n) != 0)
    throw std::bad_alloc();
  return p;
}
void delete_block(void* p) noexcept {
  if (p == nullptr) return;
  memscan::on_free(p, malloc_usable_size(p), "operator delete");
  __libc_free(p);
}
}  // namespace

void* operator new(std::size_t n) { return new_block(n); }
void* operator new[](std::size_t n) { return new_block(n); }
void* operator new(std::size_t n, const std::nothrow_t& /*tag*/) noexcept { return __libc_malloc(n == 0 ? 1 : n); }
void* operator new[](std::size_t n, const std::nothrow_t& /*tag*/) noexcept { return __libc_malloc(n == 0 ? 1 : n); }
void* operator new(std::size_t n, std::align_val_t a) { return new_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return new_aligned(n, a); }
void operator delete(void* p) noexcept { delete_block(p); }
void operator delete[](void* p) noexcept { delete_block(p); }
void operator delete(void* p, std::size_t /*n*/) noexcept { delete_block(p); }
void operator delete[](void* p, std::size_t /*n*/) noexcept { delete_block(p); }
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept { delete_block(p); }
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept { delete_block(p); }
void operator delete(void* p, std::align_val_t /*a*/) noexcept { delete_block(p); }
void operator delete[](void* p, std::align_val_t /*a*/) noexcept { delete_block(p); }
void operator delete(void* p, std::size_t /*n*/, std::align_val_t /*a*/) noexcept { delete_block(p); }
void operator delete[](void* p, std::size_t /*n*/, std::align_val_t /*a*/) noexcept { delete_block(p); }
#endif
