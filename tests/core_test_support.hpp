// Shared by the core unit tests (hmac, hmac_evp, otp, crypto, backup_codes,
// secret): hex helpers, scripted random sources and the RFC test-vector
// tables, so the lean-HMAC and EVP-HMAC executables run the very same table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mfakit_test {

// --- hex -------------------------------------------------------------------------

inline std::vector<unsigned char> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> unsigned {
    if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<unsigned>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<unsigned>(c - 'A' + 10);
    throw std::invalid_argument("bad hex digit in a test vector");
  };
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length in a test vector");
  std::vector<unsigned char> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<unsigned char>((nibble(hex[i]) << 4U) | nibble(hex[i + 1])));
  return out;
}

inline std::string to_hex(std::span<const unsigned char> bytes) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4U]);
    out.push_back(digits[b & 0xFU]);
  }
  return out;
}

inline std::span<const unsigned char> ascii(std::string_view s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};  // NOLINT
}

// --- random sources for tests ---------------------------------------------------------

/// A source that always fails (RAND_bytes returning 0 or -1).
struct failing_random {
  int calls = 0;
  bool fill(std::span<unsigned char> /*out*/) {
    ++calls;
    return false;
  }
};

/// Plays a fixed byte script, then repeats `tail` forever (or fails if
/// `fail_after_script`).
struct scripted_random {
  std::vector<unsigned char> script;
  unsigned char tail = 0;
  bool fail_after_script = false;
  std::size_t pos = 0;
  int calls = 0;
  bool fill(std::span<unsigned char> out) {
    ++calls;
    for (auto& b : out) {
      if (pos < script.size()) {
        b = script[pos++];
      } else {
        if (fail_after_script) return false;
        b = tail;
      }
    }
    return true;
  }
};

// --- RFC 4226 Appendix D --------------------------------------------------------------

inline constexpr std::string_view rfc4226_key = "12345678901234567890";

struct hotp_vector {
  std::uint64_t counter;
  std::string_view hmac_hex;  // HMAC-SHA-1(K, C)
  std::uint32_t truncated;    // 31-bit dynamic truncation
  std::string_view code;      // 6 digits
};

inline constexpr std::array<hotp_vector, 10> rfc4226_vectors{{
    {0, "cc93cf18508d94934c64b65d8ba7667fb7cde4b0", 0x4c93cf18, "755224"},
    {1, "75a48a19d4cbe100644e8ac1397eea747a2d33ab", 0x41397eea, "287082"},
    {2, "0bacb7fa082fef30782211938bc1c5e70416ff44", 0x082fef30, "359152"},
    {3, "66c28227d03a2d5529262ff016a1e6ef76557ece", 0x66ef7655, "969429"},
    {4, "a904c900a64b35909874b33e61c5938a8e15ed1c", 0x61c5938a, "338314"},
    {5, "a37e783d7b7233c083d4f62926c7a25f238d0316", 0x33c083d4, "254676"},
    {6, "bc9cd28561042c83f219324d3c607256c03272ae", 0x7256c032, "287922"},
    {7, "a4fb960c0bc06e1eabb804e5b397cdc4b45596fa", 0x04e5b397, "162583"},
    {8, "1b3c89f65e6c9e883012052823443f048b4332db", 0x2823443f, "399871"},
    {9, "1637409809a679dc698207310c8c7fc07290d9e5", 0x2679dc69, "520489"},
}};

// --- RFC 6238 Appendix B (seeds per the errata: 20/32/64 bytes), 8 digits ---------------

inline constexpr std::string_view rfc6238_seed_sha1 = "12345678901234567890";
inline constexpr std::string_view rfc6238_seed_sha256 = "12345678901234567890123456789012";
inline constexpr std::string_view rfc6238_seed_sha512 =
    "1234567890123456789012345678901234567890123456789012345678901234";

enum class vec_alg { sha1, sha256, sha512 };

struct totp_vector {
  std::int64_t time;
  vec_alg alg;
  std::string_view code;
};

inline constexpr std::array<totp_vector, 18> rfc6238_vectors{{
    {59, vec_alg::sha1, "94287082"},
    {59, vec_alg::sha256, "46119246"},
    {59, vec_alg::sha512, "90693936"},
    {1111111109, vec_alg::sha1, "07081804"},
    {1111111109, vec_alg::sha256, "68084774"},
    {1111111109, vec_alg::sha512, "25091201"},
    {1111111111, vec_alg::sha1, "14050471"},
    {1111111111, vec_alg::sha256, "67062674"},
    {1111111111, vec_alg::sha512, "99943326"},
    {1234567890, vec_alg::sha1, "89005924"},
    {1234567890, vec_alg::sha256, "91819424"},
    {1234567890, vec_alg::sha512, "93441116"},
    {2000000000, vec_alg::sha1, "69279037"},
    {2000000000, vec_alg::sha256, "90698825"},
    {2000000000, vec_alg::sha512, "38618901"},
    {20000000000, vec_alg::sha1, "65353130"},
    {20000000000, vec_alg::sha256, "77737706"},
    {20000000000, vec_alg::sha512, "47863826"},
}};

inline std::string_view rfc6238_seed(vec_alg a) {
  switch (a) {
    case vec_alg::sha1: return rfc6238_seed_sha1;
    case vec_alg::sha256: return rfc6238_seed_sha256;
    case vec_alg::sha512: return rfc6238_seed_sha512;
  }
  return rfc6238_seed_sha1;
}

// --- RFC 2202 / RFC 4231 test case 1: key 0x0b x 20, data "Hi There" --------------------
// "Hi There" is exactly 8 bytes, so it is the counter 0x4869205468657265.

inline constexpr std::uint64_t hi_there_counter = 0x4869205468657265ULL;
inline constexpr std::string_view hi_there_sha1 = "b617318655057264e28bc0b6fb378c8ef146be00";
inline constexpr std::string_view hi_there_sha256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
inline constexpr std::string_view hi_there_sha512 =
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854";

}  // namespace mfakit_test
