// The scanner of tests/memscan: it knows the secrets of a run only in masked
// form (each byte XORed with a random mask, so no copy it keeps matches) and
// looks for them in every heap block the process frees, in live heap blocks,
// in writable memory and in a stretch of stack. See memscan.cpp for how frees
// are hooked in a plain glibc build and under AddressSanitizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace memscan {

inline constexpr std::size_t max_needle = 256;

/// How much of a needle is a hit: `window` consecutive bytes of it anywhere
/// (window == size: the whole needle); `fold`: ASCII letter case ignored.
struct needle_rule {
  std::size_t window;
  bool fold;
};

/// Random mask bytes for needles (getrandom; never derived from a secret).
void random_mask(std::span<unsigned char> out);

/// Registers a needle given masked (bytes ^ mask). `label` must live for the
/// whole run (a string literal or a buffer that is never freed).
void add_needle(std::string_view label, std::span<const unsigned char> masked, std::span<const unsigned char> mask,
                needle_rule rule);

/// Whether `data` equals needle `index` (masked compare), for the test's own
/// consistency checks.
[[nodiscard]] bool equals_needle(std::size_t index, std::span<const unsigned char> data);
[[nodiscard]] std::size_t needle_count();

/// The phase frees and scans are attributed to (a string literal).
void set_phase(const char* phase);
/// Scanning of freed blocks on or off (off while the harness itself works).
void set_armed(bool armed);

/// Scans a region now (a heap block at free, a live block, a mapping, the stack).
void scan(const void* p, std::size_t n, const char* where);
/// As scan(), for memory outside the sanitizer's view (stack below the
/// current frame, shadow-free mappings).
void scan_unchecked(const void* p, std::size_t n, const char* where);

/// After everything holding a secret was destroyed: every writable mapping
/// (glibc build) or every live heap block and every file-backed writable
/// mapping (ASan build, where anonymous mappings include the shadow).
void scan_heap_and_writable_memory();

struct stats {
  std::uint64_t frees_scanned = 0;
  std::uint64_t bytes_scanned = 0;
  std::uint64_t hits = 0;
};
[[nodiscard]] stats totals();
/// Prints the per-phase table and every hit (with a symbolised stack for
/// hits in freed blocks); returns the number of hits.
std::uint64_t report();
/// What the build hooks: a line for the report.
[[nodiscard]] const char* coverage();
/// Whether CRYPTO_set_mem_functions took (it must run before OpenSSL's first allocation).
[[nodiscard]] bool openssl_hooked();

}  // namespace memscan
