// PROTOTYPE (benchmark only): the changes to include/mfakit/hmac.hpp and
// otp.hpp proposed in tests/bench/README.md, in their own namespace so the
// benchmark can time them beside the library. Three steps, each timed:
//
//  1. engine: lean_counter_mac2::mac() writes big-endian words with one
//     byte-swapped store each (the byte-by-byte store_be32/big_endian of
//     hmac.hpp compile to byte stores and store-forwarding stalls at -O2),
//     keeps both final blocks laid out in a scratch (no zero fill per MAC),
//     reads the inner digest straight into the outer block and wipes the
//     scratch with one OPENSSL_cleanse call;
//  2. in-place key: the key schedule is made in the otp_key that is used,
//     instead of otp_key::make() -> result<otp_key>, whose two moves copy the
//     pad states and wipe the sources (5 wipes of the states per key);
//  3. verify loop: the engine is picked once per verify (not std::visit per
//     candidate), one scratch serves every candidate and is wiped once, and
//     candidates are compared as integers (truncated value mod 10^digits,
//     4 bytes through CRYPTO_memcmp) instead of building an otp_code
//     (digit string, wiped on destruction) per candidate.
//
// Secrets are still wiped (pad block, scratch, MAC buffer, the key
// schedule), every candidate is computed and compared without an early exit,
// CRYPTO_memcmp still does the compare.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include <openssl/crypto.h>

#include "mfakit/otp.hpp"

#if !MFAKIT_LEAN_HMAC
#error "proto_lean.hpp prototypes the lean engine"
#endif

#ifndef MFAKIT_PROTO_SHA512_LANES
#define MFAKIT_PROTO_SHA512_LANES 1
#endif

namespace mfakit_proto {

using mfakit::algorithm;
using mfakit::byte_view;
using mfakit::errc;
using mfakit::mac_bytes;
using mfakit::result;

// --- 1. the engine ------------------------------------------------------------------

[[nodiscard]] constexpr std::uint32_t to_be32(std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little)
    return (v >> 24U) | ((v >> 8U) & 0xFF00U) | ((v << 8U) & 0xFF0000U) | (v << 24U);  // one bswap
  else
    return v;
}
inline void store_be32(unsigned char* p, std::uint32_t v) noexcept {
  v = to_be32(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be64(unsigned char* p, std::uint64_t v) noexcept {
  store_be32(p, static_cast<std::uint32_t>(v >> 32U));
  store_be32(p + 4, static_cast<std::uint32_t>(v));
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
struct sha1_compression : mfakit::detail::sha1_compression {
  static void read(const state& s, unsigned char* out) noexcept {
    store_be32(out, s.h0);
    store_be32(out + 4, s.h1);
    store_be32(out + 8, s.h2);
    store_be32(out + 12, s.h3);
    store_be32(out + 16, s.h4);
  }
};
struct sha256_compression : mfakit::detail::sha256_compression {
  static void read(const state& s, unsigned char* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) store_be32(out + 4 * i, s.h[i]);
  }
};
struct sha512_compression : mfakit::detail::sha512_compression {
  static void read(const state& s, unsigned char* out) noexcept {
    for (std::size_t i = 0; i < 8; ++i) store_be64(out + 8 * i, s.h[i]);
  }
};
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

template <class H>
class lean_counter_mac2 {
 public:
  /// What one MAC works in: a copy of a pad state and the two final blocks,
  /// laid out once by prepare() and reusable for any number of counters.
  struct scratch {
    typename H::state s;
    std::array<unsigned char, H::block> inner_blk;
    std::array<unsigned char, H::block> outer_blk;
  };

  lean_counter_mac2() = default;
  lean_counter_mac2(const lean_counter_mac2&) = delete;
  lean_counter_mac2& operator=(const lean_counter_mac2&) = delete;
  lean_counter_mac2(lean_counter_mac2&& o) noexcept { take(o); }
  lean_counter_mac2& operator=(lean_counter_mac2&& o) noexcept {
    if (this != &o) take(o);
    return *this;
  }
  ~lean_counter_mac2() { wipe(); }

  [[nodiscard]] result<void> init(byte_view key) {
    std::array<unsigned char, H::block> pad{};
    if (key.size() > H::block) {
      unsigned int n = 0;
      if (EVP_Digest(key.data(), key.size(), pad.data(), &n, mfakit::detail::evp_digest(H::alg), nullptr) != 1)
        return errc::crypto_failure;
    } else if (!key.empty()) {
      std::memcpy(pad.data(), key.data(), key.size());
    }
    for (auto& b : pad) b ^= 0x36U;
    const bool inner_ok = H::init(inner_);
    H::compress(inner_, pad.data());
    for (auto& b : pad) b ^= 0x36U ^ 0x5cU;
    const bool outer_ok = H::init(outer_);
    H::compress(outer_, pad.data());
    mfakit::cleanse(pad.data(), pad.size());
    if (!inner_ok || !outer_ok) {
      wipe();
      return errc::crypto_failure;
    }
    return {};
  }

  static void prepare(scratch& w) noexcept {
    w.inner_blk.fill(0);
    w.inner_blk[8] = 0x80U;
    store_be64(w.inner_blk.data() + H::block - 8, (H::block + 8) * 8U);
    w.outer_blk.fill(0);
    w.outer_blk[H::digest] = 0x80U;
    store_be64(w.outer_blk.data() + H::block - 8, (H::block + H::digest) * 8U);
  }

  /// HMAC(key, counter) into out with a prepared scratch; wipes nothing (the
  /// caller wipes the scratch once it is done with every counter).
  void mac(std::uint64_t counter, mac_bytes& out, scratch& w) const noexcept {
    store_be64(w.inner_blk.data(), counter);
    w.s = inner_;
    H::compress(w.s, w.inner_blk.data());
    H::read(w.s, w.outer_blk.data());  // the inner digest goes straight into the outer block
    w.s = outer_;
    H::compress(w.s, w.outer_blk.data());
    H::read(w.s, out.data());
  }

  /// Step 4: up to `lanes` consecutive counters at once. The candidates are
  /// independent, so laying every block out first and running the inner
  /// compressions back to back (then the outer ones) lets the CPU overlap
  /// them, and no compression has to wait for a block stored just before it
  /// (a store-forwarding stall when a 16-byte load covers 4- or 8-byte
  /// stores). One lane at a time, each MAC is a chain of two dependent
  /// compressions plus such stalls.
  static constexpr std::size_t lanes = H::block == 64 ? 4 : MFAKIT_PROTO_SHA512_LANES;
  struct lane {
    typename H::state s;
    std::array<unsigned char, H::block> inner_blk;
    std::array<unsigned char, H::block> outer_blk;
    mac_bytes mac;
  };
  using batch = std::array<lane, lanes>;
  /// Lays out the final blocks of lanes [0, n).
  static void prepare(batch& w, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      w[i].inner_blk.fill(0);
      w[i].inner_blk[8] = 0x80U;
      store_be64(w[i].inner_blk.data() + H::block - 8, (H::block + 8) * 8U);
      w[i].outer_blk.fill(0);
      w[i].outer_blk[H::digest] = 0x80U;
      store_be64(w[i].outer_blk.data() + H::block - 8, (H::block + H::digest) * 8U);
    }
  }
  /// MACs of first, first+1, ..., first+n-1 (n <= lanes, prepared) into w[i].mac.
  void mac_lanes(std::uint64_t first, std::size_t n, batch& w) const noexcept {
    for (std::size_t i = 0; i < n; ++i) store_be64(w[i].inner_blk.data(), first + i);
    for (std::size_t i = 0; i < n; ++i) {
      w[i].s = inner_;
      H::compress(w[i].s, w[i].inner_blk.data());
    }
    for (std::size_t i = 0; i < n; ++i) H::read(w[i].s, w[i].outer_blk.data());
    for (std::size_t i = 0; i < n; ++i) {
      w[i].s = outer_;
      H::compress(w[i].s, w[i].outer_blk.data());
    }
    for (std::size_t i = 0; i < n; ++i) H::read(w[i].s, w[i].mac.data());
  }

  /// The drop-in replacement of lean_counter_mac::mac().
  [[nodiscard]] bool mac(const mfakit::counter_bytes& counter, mac_bytes& out) const noexcept {
    scratch w;
    prepare(w);
    std::uint64_t c = 0;
    for (unsigned char b : counter) c = (c << 8U) | b;
    mac(c, out, w);
    mfakit::cleanse(&w, sizeof w);
    return true;
  }

 private:
  void take(lean_counter_mac2& o) noexcept {
    inner_ = o.inner_;
    outer_ = o.outer_;
    o.wipe();
  }
  void wipe() noexcept {
    mfakit::cleanse(&inner_, sizeof inner_);
    mfakit::cleanse(&outer_, sizeof outer_);
  }
  typename H::state inner_{};
  typename H::state outer_{};
};

// --- 2. the key, made in place or through make() ----------------------------------

class otp_key2 {
 public:
  [[nodiscard]] static result<otp_key2> make(algorithm alg, byte_view key) {  // as today: two moves
    otp_key2 k;
    if (auto r = k.init(alg, key); !r) return r.error();
    return k;
  }
  /// In the patch this is reachable only through a detail:: friend (see
  /// README): an empty key that init() sets up where it stands.
  otp_key2() = default;
  [[nodiscard]] result<void> init(algorithm alg, byte_view key) {
    alg_ = alg;
    switch (alg) {
      case algorithm::sha1: return engine_.emplace<1>().init(key);
      case algorithm::sha256: return engine_.emplace<2>().init(key);
      case algorithm::sha512: return engine_.emplace<3>().init(key);
    }
    return errc::unsupported_algorithm;
  }

  [[nodiscard]] algorithm alg() const noexcept { return alg_; }

  /// Step 1 only: the per-candidate interface of today's otp_key.
  [[nodiscard]] bool mac(std::uint64_t counter, mac_bytes& out) const noexcept {
    const mfakit::counter_bytes c = mfakit::big_endian(counter);
    return std::visit(
        [&](const auto& e) noexcept -> bool {
          if constexpr (std::is_same_v<std::decay_t<decltype(e)>, std::monostate>) {
            return false;
          } else {
            return e.mac(c, out);
          }
        },
        engine_);
  }

  /// Step 3: f(engine) once per verify; false for an empty key.
  template <class F>
  [[nodiscard]] bool with_engine(F&& f) const {
    return std::visit(
        [&](const auto& e) -> bool {
          if constexpr (std::is_same_v<std::decay_t<decltype(e)>, std::monostate>) {
            return false;
          } else {
            f(e);
            return true;
          }
        },
        engine_);
  }

 private:
  using engine = std::variant<std::monostate, lean_counter_mac2<sha1_compression>, lean_counter_mac2<sha256_compression>,
                              lean_counter_mac2<sha512_compression>>;
  algorithm alg_ = algorithm::sha1;
  engine engine_;
};

// --- 3. the verify loop -----------------------------------------------------------------

/// Step 1/2: today's match_counters, over otp_key2 (otp_code per candidate).
[[nodiscard]] inline result<std::uint64_t> match_counters_old(const otp_key2& key, const mfakit::otp_code& code,
                                                              int digits, std::uint64_t first, std::uint64_t last,
                                                              std::optional<std::uint64_t> after) {
  std::uint64_t matched = 0;
  unsigned found = 0;
  unsigned replayed = 0;
  unsigned failed = 0;
  mac_bytes mac{};
  const std::size_t size = mfakit::digest_size(key.alg());
  for (std::uint64_t c = first;; ++c) {
    failed |= key.mac(c, mac) ? 0U : 1U;
    const mfakit::otp_code candidate = mfakit::otp_code(mfakit::detail::truncate(mac, size), digits);
    const unsigned eq = CRYPTO_memcmp(candidate.str().data(), code.str().data(), code.size()) == 0 ? 1U : 0U;
    const unsigned fresh = (!after || c > *after) ? 1U : 0U;
    const unsigned take = eq & fresh & (found ^ 1U);
    matched |= (static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(take)) & c;
    found |= take;
    replayed |= eq & (fresh ^ 1U);
    if (c == last) break;
  }
  mfakit::cleanse(mac.data(), mac.size());
  if (failed != 0U) return errc::crypto_failure;
  if (found != 0U) return matched;
  return replayed != 0U ? errc::code_replayed : errc::code_mismatch;
}

/// Step 3: one engine dispatch, one scratch, integer compares.
[[nodiscard]] inline result<std::uint64_t> match_counters_new(const otp_key2& key, std::uint32_t code, int digits,
                                                              std::uint64_t first, std::uint64_t last,
                                                              std::optional<std::uint64_t> after) {
  std::uint64_t matched = 0;
  unsigned found = 0;
  unsigned replayed = 0;
  const std::uint32_t modulus = mfakit::detail::pow10[static_cast<std::size_t>(digits)];
  const std::size_t size = mfakit::digest_size(key.alg());
  const bool ok = key.with_engine([&](const auto& e) {
    typename std::decay_t<decltype(e)>::scratch w;
    e.prepare(w);
    mac_bytes mac;
    for (std::uint64_t c = first;; ++c) {
      e.mac(c, mac, w);
      const std::uint32_t v = mfakit::detail::truncate(mac, size) % modulus;
      const unsigned eq = CRYPTO_memcmp(&v, &code, sizeof v) == 0 ? 1U : 0U;
      const unsigned fresh = (!after || c > *after) ? 1U : 0U;
      const unsigned take = eq & fresh & (found ^ 1U);
      matched |= (static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(take)) & c;
      found |= take;
      replayed |= eq & (fresh ^ 1U);
      if (c == last) break;
    }
    mfakit::cleanse(&w, sizeof w);
    mfakit::cleanse(mac.data(), mac.size());
  });
  if (!ok) return errc::crypto_failure;
  if (found != 0U) return matched;
  return replayed != 0U ? errc::code_replayed : errc::code_mismatch;
}

/// Step 4: as step 3, with the candidates computed `lanes` at a time.
[[nodiscard]] inline result<std::uint64_t> match_counters_batched(const otp_key2& key, std::uint32_t code, int digits,
                                                                  std::uint64_t first, std::uint64_t last,
                                                                  std::optional<std::uint64_t> after) {
  std::uint64_t matched = 0;
  unsigned found = 0;
  unsigned replayed = 0;
  const std::uint32_t modulus = mfakit::detail::pow10[static_cast<std::size_t>(digits)];
  const std::size_t size = mfakit::digest_size(key.alg());
  const bool ok = key.with_engine([&](const auto& e) {
    using engine = std::decay_t<decltype(e)>;
    typename engine::batch w;
    const std::size_t used = last - first >= engine::lanes - 1 ? engine::lanes : static_cast<std::size_t>(last - first) + 1;
    engine::prepare(w, used);
    for (std::uint64_t c = first;;) {
      const std::size_t n = last - c >= engine::lanes - 1 ? engine::lanes : static_cast<std::size_t>(last - c) + 1;
      e.mac_lanes(c, n, w);
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t ci = c + i;
        const std::uint32_t v = mfakit::detail::truncate(w[i].mac, size) % modulus;
        const unsigned eq = CRYPTO_memcmp(&v, &code, sizeof v) == 0 ? 1U : 0U;
        const unsigned fresh = (!after || ci > *after) ? 1U : 0U;
        const unsigned take = eq & fresh & (found ^ 1U);
        matched |= (static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(take)) & ci;
        found |= take;
        replayed |= eq & (fresh ^ 1U);
      }
      if (last - c == n - 1) break;
      c += n;
    }
    mfakit::cleanse(w.data(), used * sizeof(w[0]));
  });
  if (!ok) return errc::crypto_failure;
  if (found != 0U) return matched;
  return replayed != 0U ? errc::code_replayed : errc::code_mismatch;
}

/// The digits of a normalized code as a number (the code is public input
/// already checked by normalize_code; the number is wiped by the caller).
[[nodiscard]] inline std::uint32_t code_value(const mfakit::otp_code& c) noexcept {
  std::uint32_t v = 0;
  for (char ch : c.str()) v = v * 10U + static_cast<std::uint32_t>(ch - '0');
  return v;
}

enum class step { engine = 1, in_place_key = 2, verify_loop = 3, batched = 4 };

template <step S>
[[nodiscard]] result<std::uint64_t> verify_totp(const otp_key2& key, std::string_view code, std::int64_t unix_time,
                                                const mfakit::totp_params& p, const mfakit::totp_verify_options& o) {
  if (o.window.behind > mfakit::max_window || o.window.ahead > mfakit::max_window) return errc::invalid_argument;
  if (key.alg() != p.alg) return errc::invalid_argument;
  auto st = mfakit::totp_step(unix_time, p);
  if (!st) return st.error();
  auto input = mfakit::normalize_code(code, p.digits);
  if (!input) return input.error();
  const std::uint64_t first = *st >= o.window.behind ? *st - o.window.behind : 0;
  const std::uint64_t last = *st <= std::numeric_limits<std::uint64_t>::max() - o.window.ahead
                                 ? *st + o.window.ahead
                                 : std::numeric_limits<std::uint64_t>::max();
  if constexpr (S == step::verify_loop || S == step::batched) {
    std::uint32_t v = code_value(*input);
    auto r = S == step::batched ? match_counters_batched(key, v, p.digits, first, last, o.after_step)
                                : match_counters_new(key, v, p.digits, first, last, o.after_step);
    mfakit::cleanse(&v, sizeof v);
    return r;
  } else {
    return match_counters_old(key, *input, p.digits, first, last, o.after_step);
  }
}

template <step S>
[[nodiscard]] result<std::uint64_t> verify_totp(byte_view key, std::string_view code, std::int64_t unix_time,
                                                const mfakit::totp_params& p, const mfakit::totp_verify_options& o) {
  if (key.empty()) return errc::invalid_secret;
  if constexpr (S == step::engine) {
    auto k = otp_key2::make(p.alg, key);
    if (!k) return k.error();
    return verify_totp<S>(*k, code, unix_time, p, o);
  } else {
    otp_key2 k;
    if (auto r = k.init(p.alg, key); !r) return r.error();
    return verify_totp<S>(k, code, unix_time, p, o);
  }
}

/// hotp(byte_view) with steps 1+2 (an in-place key and the new engine).
[[nodiscard]] inline result<mfakit::otp_code> hotp(byte_view key, std::uint64_t counter, const mfakit::hotp_params& p) {
  if (key.empty()) return errc::invalid_secret;
  if (!mfakit::detail::valid_digits(p.digits)) return errc::invalid_argument;
  otp_key2 k;
  if (auto r = k.init(p.alg, key); !r) return r.error();
  mac_bytes mac{};
  if (!k.mac(counter, mac)) return errc::crypto_failure;
  mfakit::otp_code c(mfakit::detail::truncate(mac, mfakit::digest_size(p.alg)), p.digits);
  mfakit::cleanse(mac.data(), mac.size());
  return c;
}

}  // namespace mfakit_proto
