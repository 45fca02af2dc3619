// Backup codes (NIST SP 800-63B "look-up secrets"): ten single-use codes
// "xxxx-xxxx" over a 31-symbol alphabet without look-alikes (39.6 bits each),
// shown once and stored only as salted, memory-hard digests (scrypt), keyed
// first with a pepper kept outside the database: by default one derived from
// the sealing key (detail/pepper_ring.hpp), or a host key; a set records
// which, so a stolen database alone cannot be attacked offline.
// One salt per set, so checking a guess costs one KDF run whatever the number
// of codes, followed by constant-time compares against every remaining digest.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/detail/kdf_slot.hpp"
#include "mfakit/detail/pepper_ring.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/self_test.hpp"

namespace mfakit {

inline constexpr std::string_view backup_code_alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
static_assert(backup_code_alphabet.size() == 31);
inline constexpr std::size_t default_backup_code_count = 10;
inline constexpr std::size_t max_backup_code_count = 64;
inline constexpr std::size_t backup_code_salt_bytes = 16;
inline constexpr std::size_t backup_code_digest_bytes = 32;

/// One code as shown to the user, "xxxx-xxxx"; wiped when destroyed.
class backup_code {
 public:
  backup_code() = default;
  backup_code(const backup_code&) = default;
  backup_code& operator=(const backup_code&) = default;
  ~backup_code() { cleanse(buf_.data(), buf_.size()); }
  [[nodiscard]] std::string_view str() const noexcept { return {buf_.data(), buf_.size()}; }
  /// The eight symbols without the dash: what gets digested.
  [[nodiscard]] std::array<char, 8> symbols() const noexcept {
    std::array<char, 8> s{};
    for (std::size_t i = 0; i < 4; ++i) {
      s[i] = buf_[i];
      s[i + 4] = buf_[i + 5];
    }
    return s;
  }

  /// Parses user input: any letter case, with or without the dash,
  /// surrounding white space ignored. errc::malformed_code otherwise.
  [[nodiscard]] static result<backup_code> parse(std::string_view input) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!input.empty() && is_space(input.front())) input.remove_prefix(1);
    while (!input.empty() && is_space(input.back())) input.remove_suffix(1);
    if (input.size() == 9) {
      if (input[4] != '-') return errc::malformed_code;
    } else if (input.size() != 8) {
      return errc::malformed_code;
    }
    backup_code c;
    std::size_t n = 0;
    for (std::size_t i = 0; i < input.size(); ++i) {
      if (input.size() == 9 && i == 4) continue;
      char ch = input[i];
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (backup_code_alphabet.find(ch) == std::string_view::npos) return errc::malformed_code;
      c.buf_[n < 4 ? n : n + 1] = ch;
      ++n;
    }
    c.buf_[4] = '-';
    return c;
  }

  /// Builds a code from eight alphabet indices (each < 31).
  [[nodiscard]] static backup_code from_indices(std::span<const std::uint8_t, 8> idx) noexcept {
    backup_code c;
    for (std::size_t i = 0; i < 8; ++i)
      c.buf_[i < 4 ? i : i + 1] = backup_code_alphabet[idx[i] % backup_code_alphabet.size()];
    c.buf_[4] = '-';
    return c;
  }

 private:
  std::array<char, 9> buf_{};
};

/// `count` fresh codes, each symbol chosen uniformly (rejection sampling).
template <random_source R = openssl_random>
[[nodiscard]] result<std::vector<backup_code>> generate_backup_codes(std::size_t count = default_backup_code_count,
                                                                     R&& rng = R{}) {
  if (count == 0 || count > max_backup_code_count) return errc::invalid_argument;
  std::vector<std::uint8_t, cleansing_allocator<std::uint8_t>> idx(count * 8);
  if (auto r = uniform_indices(rng, idx, static_cast<unsigned>(backup_code_alphabet.size())); !r) return r.error();
  std::vector<backup_code> codes;
  codes.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    codes.push_back(backup_code::from_indices(std::span<const std::uint8_t, 8>(idx.data() + i * 8, 8)));
  return codes;
}

using backup_code_digest = std::array<unsigned char, backup_code_digest_bytes>;

namespace detail {
/// Where a guess's digest is among the stored ones.
struct digest_match {
  std::size_t index = 0;  ///< the first equal digest (0 when none)
  unsigned found = 0;     ///< 1 when one was equal
};

/// Compares `g` with every digest, each in full (CRYPTO_memcmp), with no
/// early exit and no branch on a comparison: the time depends only on the
/// number of digests (tests/ct measures it). backup_code_hasher::match()
/// calls it after the KDF run.
[[nodiscard]] inline digest_match find_digest(const backup_code_digest& g,
                                              std::span<const backup_code_digest> digests) noexcept {
  digest_match m;
  for (std::size_t i = 0; i < digests.size(); ++i) {
    const unsigned eq = constant_time_equal(g, digests[i]) ? 1U : 0U;
    const unsigned take = eq & (m.found ^ 1U);
    m.index |= (static_cast<std::size_t>(0) - take) & i;
    m.found |= take;
  }
  return m;
}
}  // namespace detail

/// Which key HMACs a set's codes before the KDF (stored with the set).
enum class backup_pepper : std::uint8_t {
  host_key_if_any = 0,  ///< a set stored before sets named their pepper: the hasher's host key if it has one, else none
  none = 1,             ///< no pepper (backup_code_hasher::unsafe_without_pepper, or a box that seals nothing)
  host_key = 2,         ///< the hasher's host key
  sealing_key = 3,      ///< the pepper derived from sealing key `pepper_key_id`
};

/// What is stored for a set: the salt, the cost it was made with (so the
/// cost can change without invalidating old sets), its pepper and one
/// digest per remaining code.
struct backup_code_digests {
  std::array<unsigned char, backup_code_salt_bytes> salt{};
  scrypt_params cost{};
  backup_pepper pepper = backup_pepper::host_key_if_any;
  std::uint32_t pepper_key_id = 0;  ///< with backup_pepper::sealing_key
  std::vector<backup_code_digest> digests;
  [[nodiscard]] std::size_t remaining() const noexcept { return digests.size(); }
  friend bool operator==(const backup_code_digests&, const backup_code_digests&) = default;
};

/// A guess digested under one set's salt, cost and pepper: the costly half
/// of a match (one scrypt run), kept so that a request deciding again on the
/// same set (a lost race) does not pay it twice, and so that a host can run
/// it away from its event loop. Wiped when destroyed.
struct backup_guess {
  std::array<unsigned char, backup_code_salt_bytes> salt{};
  scrypt_params cost{};
  backup_code_digest digest{};
  bool ready = false;

  backup_guess() = default;
  backup_guess(const backup_guess&) = default;
  backup_guess& operator=(const backup_guess&) = default;
  ~backup_guess() { cleanse(digest.data(), digest.size()); }
  /// Whether this digest was made for `d` (its salt is fresh per set, so it
  /// names the set and with it the set's pepper).
  [[nodiscard]] bool for_set(const backup_code_digests& d) const noexcept {
    return ready && salt == d.salt && cost == d.cost;
  }
};

/// How codes are digested: the scrypt cost for new sets and the pepper that
/// HMACs each code before the KDF. By default the pepper is derived from the
/// sealing key: flow_config passes its box's ring (secret_box::
/// backup_code_peppers()), and nothing else is needed. A host that keeps a
/// key of its own apart from the database gives it instead; a host with no
/// key at all must say so with unsafe_without_pepper().
class backup_code_hasher {
 public:
  enum class pepper_source : std::uint8_t { sealing_key, host_key, none };
  static constexpr std::size_t min_host_key_bytes = 16;

  /// N = 2^13, r = 8, p = 1 (8 MiB), chosen so that checking a guess stays
  /// under 30 ms and digesting a set of ten under 300 ms on a server core
  /// (tests/bench/README.md has the measurements). Against an offline
  /// attacker each set still costs ~4e11 such runs per code found (31^8 / 2).
  /// Raise it if your servers allow.
  static constexpr scrypt_params default_cost{1U << 13, 8, 1};

  /// The default cost, peppered with the key derived from the sealing key.
  backup_code_hasher() = default;
  /// `cost`, peppered with the key derived from the sealing key.
  explicit backup_code_hasher(scrypt_params cost) : cost_(cost) {}
  /// `cost`, peppered with `host_key` (at least min_host_key_bytes, kept
  /// apart from the database) instead of the derived key.
  backup_code_hasher(scrypt_params cost, byte_view host_key)
      : cost_(cost), source_(pepper_source::host_key), key_(host_key.begin(), host_key.end()) {}

  /// No pepper: a stolen database alone is then enough to search every
  /// code of a set offline (31^8 guesses, each one KDF run). For a host with
  /// neither a sealing key nor a key of its own, which says so here.
  [[nodiscard]] static backup_code_hasher unsafe_without_pepper(scrypt_params cost = default_cost) {
    backup_code_hasher h(cost);
    h.source_ = pepper_source::none;
    return h;
  }

  [[nodiscard]] const scrypt_params& cost() const noexcept { return cost_; }
  [[nodiscard]] pepper_source pepper() const noexcept { return source_; }

  /// What makes this hasher unusable (flow_config::problem() reports it), or nothing.
  [[nodiscard]] std::optional<std::string_view> problem() const noexcept {
    if (!valid(cost_)) return "hasher cost is not a valid scrypt setting";
    if (source_ == pepper_source::host_key && key_.size() < min_host_key_bytes)
      return "hasher host key must have at least 16 bytes";
    return std::nullopt;
  }

  /// Digests of every code under a fresh salt, without a keyring: for a
  /// hasher with a host key or none (errc::invalid_argument for the default,
  /// which needs the ring: the overload below).
  template <random_source R = openssl_random>
  [[nodiscard]] result<backup_code_digests> digest(std::span<const backup_code> codes, R&& rng = R{}) const {
    return digest(codes, nullptr, rng);
  }

  /// Digests of every code under a fresh salt; `peppers` is the keyring's
  /// (secret_box::backup_code_peppers()), used by the default pepper. A ring
  /// without keys (secret_box::unsafe_plaintext, which already gives the
  /// database every secret) makes an unpeppered set.
  template <random_source R = openssl_random>
  [[nodiscard]] result<backup_code_digests> digest(std::span<const backup_code> codes,
                                                   const detail::pepper_ring* peppers, R&& rng = R{}) const {
    if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
    if (problem()) return errc::invalid_argument;
    backup_code_digests d;
    d.cost = cost_;
    byte_view key;
    switch (source_) {
      case pepper_source::none: d.pepper = backup_pepper::none; break;
      case pepper_source::host_key:
        d.pepper = backup_pepper::host_key;
        key = byte_view(key_.data(), key_.size());
        break;
      case pepper_source::sealing_key: {
        if (peppers == nullptr) return errc::invalid_argument;
        const detail::pepper_ring::entry* e = peppers->current();
        if (e == nullptr) {
          if (!peppers->empty()) return errc::invalid_argument;
          d.pepper = backup_pepper::none;
        } else {
          d.pepper = backup_pepper::sealing_key;
          d.pepper_key_id = e->id;
          key = e->key;
        }
        break;
      }
    }
    if (!rng.fill(d.salt)) return errc::random_failure;
    d.digests.resize(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
      if (auto r = digest_one(codes[i], key, d.salt, d.cost, d.digests[i]); !r) return r.error();
    }
    return d;
  }

  /// Which remaining code `guess` is (its index in d.digests): one KDF run,
  /// then a constant-time compare against every digest with no early exit.
  /// errc::malformed_code or errc::code_mismatch otherwise; errc::seal_failure
  /// when the set's pepper is not at hand (its sealing key left the ring, or
  /// the host key it was made with is not given) or is weaker than this
  /// hasher's (an unpeppered set for a peppered hasher, unless the ring has
  /// no keys). A set stored before sets named their pepper is checked as it
  /// was made: with the host key if this hasher has one, else unpeppered.
  /// Sets made with the derived pepper need `peppers` (the overload below).
  [[nodiscard]] result<std::size_t> match(const backup_code_digests& d, std::string_view guess) const {
    return match(d, guess, nullptr);
  }

  [[nodiscard]] result<std::size_t> match(const backup_code_digests& d, std::string_view guess,
                                          const detail::pepper_ring* peppers) const {
    backup_guess g;
    if (auto r = digest_guess(d, guess, peppers, g); !r) return r.error();
    return match(d, guess, g);
  }

  /// Whether checking `guess` against `d` costs a KDF run: a well-formed
  /// code and codes left (a malformed guess or an empty set is answered at once).
  [[nodiscard]] static bool needs_kdf(const backup_code_digests& d, std::string_view guess) {
    return !d.digests.empty() && backup_code::parse(guess).has_value();
  }

  /// The costly half of match(): the guess digested under d's salt, cost and
  /// pepper into `out`. Nothing to do (out unchanged) when needs_kdf() is
  /// false; the pepper errors of match() otherwise.
  [[nodiscard]] result<void> digest_guess(const backup_code_digests& d, std::string_view guess,
                                          const detail::pepper_ring* peppers, backup_guess& out) const {
    if (!detail::self_test_passed()) return errc::crypto_failure;  // self_test.hpp: never a wrong answer
    auto code = backup_code::parse(guess);
    if (!code || d.digests.empty()) return {};
    byte_view key;
    if (auto r = pepper_of(d, peppers, key); !r) return r.error();
    out.ready = false;
    if (auto r = digest_one(*code, key, d.salt, d.cost, out.digest); !r) return r.error();
    out.salt = d.salt;
    out.cost = d.cost;
    out.ready = true;
    return {};
  }

  /// The cheap half: `guess` against every remaining digest, with its
  /// digest `g` made by digest_guess() for this set (errc::crypto_failure
  /// when it was made for another). Same answers as match(d, guess, peppers).
  [[nodiscard]] result<std::size_t> match(const backup_code_digests& d, std::string_view guess,
                                          const backup_guess& g) const {
    if (!detail::self_test_passed()) return errc::crypto_failure;
    auto code = backup_code::parse(guess);
    if (!code) return code.error();
    if (d.digests.empty()) return errc::code_mismatch;  // nothing left to find: no KDF run
    if (!g.for_set(d)) return errc::crypto_failure;
    const detail::digest_match m = detail::find_digest(g.digest, d.digests);
    if (m.found == 0U) return errc::code_mismatch;
    return m.index;
  }

 private:
  /// The pepper a stored set was made with, into `key`.
  [[nodiscard]] result<void> pepper_of(const backup_code_digests& d, const detail::pepper_ring* peppers,
                                       byte_view& key) const {
    switch (d.pepper) {
      case backup_pepper::host_key_if_any:
        if (source_ == pepper_source::host_key) key = byte_view(key_.data(), key_.size());
        return {};
      case backup_pepper::none:
        // never weaker than configured: someone who can write the database
        // but not read the keys could otherwise store unpeppered digests of
        // codes they chose
        if (source_ == pepper_source::host_key) return errc::seal_failure;
        if (source_ == pepper_source::sealing_key && (peppers == nullptr || !peppers->empty()))
          return errc::seal_failure;
        return {};
      case backup_pepper::host_key:
        if (source_ != pepper_source::host_key || key_.empty()) return errc::seal_failure;
        key = byte_view(key_.data(), key_.size());
        return {};
      case backup_pepper::sealing_key: {
        const detail::pepper_ring::entry* e = peppers == nullptr ? nullptr : peppers->find(d.pepper_key_id);
        if (e == nullptr) return errc::seal_failure;
        key = e->key;
        return {};
      }
    }
    return errc::malformed_record;
  }

  [[nodiscard]] static result<void> digest_one(const backup_code& code, byte_view key, byte_view salt,
                                               const scrypt_params& cost, backup_code_digest& out) {
    std::array<char, 8> sym = code.symbols();
    byte_view input = as_bytes(std::string_view(sym.data(), sym.size()));
    sha256_digest keyed{};
    if (!key.empty()) {
      auto h = hmac_sha256(key, input);
      if (!h) {
        cleanse(sym.data(), sym.size());
        return h.error();
      }
      keyed = *h;
      cleanse(h->data(), h->size());
      input = keyed;
    }
    result<void> r;
    {
      const detail::kdf_slot slot;
      r = scrypt(input, salt, cost, out);
    }
    cleanse(sym.data(), sym.size());
    cleanse(keyed.data(), keyed.size());
    return r;
  }

  scrypt_params cost_ = default_cost;
  pepper_source source_ = pepper_source::sealing_key;
  secure_bytes key_;
};

}  // namespace mfakit
