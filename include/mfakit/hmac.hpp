// HMAC (RFC 2104) of 8-byte counters, the only message HOTP/TOTP ever MACs:
// otp_key, a key whose schedule (the inner and outer pad states) is computed
// once, at make(). The engines that compute it are in detail/hmac_engines.hpp:
// by default a lean one over OpenSSL's SHA block functions (one compression
// per hash), an EVP_MAC one where OpenSSL is built without its deprecated
// low-level API (OPENSSL_NO_DEPRECATED_3_0) or when MFAKIT_USE_EVP_HMAC is
// defined for the whole program. MFAKIT_LEAN_HMAC says which one is in use.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>

#include "mfakit/algorithm.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/detail/hmac_engines.hpp"
#include "mfakit/errors.hpp"

namespace mfakit {

namespace detail {
/// Selects otp_key's in-place constructor (see otp_key_access).
struct otp_key_in_place_t {
  explicit otp_key_in_place_t() = default;
};
inline constexpr otp_key_in_place_t otp_key_in_place{};
struct otp_key_access;

}  // namespace detail

// otp_key's layout depends on the engine, so the engine is part of its
// mangled name: a program that mixes translation units with and without
// MFAKIT_USE_EVP_HMAC fails to link instead of corrupting memory.
#if MFAKIT_LEAN_HMAC
inline namespace hmac_lean {
#else
inline namespace hmac_evp {
#endif

/// A key ready to MAC counters: the key schedule is done once, at make().
class otp_key {
 public:
  [[nodiscard]] static result<otp_key> make(algorithm alg, byte_view key) {
    otp_key k;
    if (auto r = k.init(alg, key); !r) return r.error();
    return k;
  }

  /// For otp.hpp: a key with no engine, which detail::otp_key_access::init()
  /// sets up where it stands. (make() returns the key inside a result<>, and
  /// each move of a key copies and wipes the pad states.) mac() fails until
  /// then.
  explicit otp_key(detail::otp_key_in_place_t /*tag*/) noexcept {}

  [[nodiscard]] algorithm alg() const noexcept { return alg_; }

  /// HMAC(key, big-endian counter) into out[0, digest_size(alg())).
  // std::visit throws only for a valueless variant, which an otp_key never is.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  [[nodiscard]] bool mac(std::uint64_t counter, mac_bytes& out) const noexcept {
    const counter_bytes c = big_endian(counter);
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

 private:
  friend struct detail::otp_key_access;
  otp_key() = default;

  [[nodiscard]] result<void> init(algorithm alg, byte_view key) {
    alg_ = alg;
#if MFAKIT_LEAN_HMAC
    switch (alg) {
      case algorithm::sha1: return init_as<detail::lean_counter_mac<detail::sha1_compression>>(key);
      case algorithm::sha256: return init_as<detail::lean_counter_mac<detail::sha256_compression>>(key);
      case algorithm::sha512: return init_as<detail::lean_counter_mac<detail::sha512_compression>>(key);
    }
#else
    if (detail::evp_digest(alg) != nullptr) return init_as<detail::evp_counter_mac>(alg, key);
#endif
    return errc::unsupported_algorithm;
  }
  template <class E, class... A>
  result<void> init_as(A&&... args) {
    return engine_.template emplace<E>().init(std::forward<A>(args)...);
  }
  /// f(engine) once, for a whole window of counters; false for no engine.
  template <class F>
  [[nodiscard]] bool with_engine(F&& f) const {
    return std::visit(
        [&](const auto& e) -> bool {
          if constexpr (std::is_same_v<std::decay_t<decltype(e)>, std::monostate>) {
            return false;
          } else {
            return f(e);
          }
        },
        engine_);
  }

#if MFAKIT_LEAN_HMAC
  using engine = std::variant<std::monostate, detail::lean_counter_mac<detail::sha1_compression>,
                              detail::lean_counter_mac<detail::sha256_compression>,
                              detail::lean_counter_mac<detail::sha512_compression>>;
#else
  using engine = std::variant<std::monostate, detail::evp_counter_mac>;
#endif
  algorithm alg_ = algorithm::sha1;
  engine engine_;
};

}  // inline namespace

namespace detail {
/// What otp.hpp needs beyond otp_key's public interface. Every function
/// takes an otp_key, so its mangled name carries the engine too.
struct otp_key_access {
  [[nodiscard]] static result<void> init(otp_key& k, algorithm alg, byte_view key) { return k.init(alg, key); }
  template <class F>
  [[nodiscard]] static bool with_engine(const otp_key& k, F&& f) {
    return k.with_engine(std::forward<F>(f));
  }
};
}  // namespace detail

}  // namespace mfakit
