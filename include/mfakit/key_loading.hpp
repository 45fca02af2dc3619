// Sealing keys from where hosts keep them: 64 hex digits or base64 text
// (what `openssl rand -hex 32` and `openssl rand -base64 32` print), any
// contiguous 32 bytes (a std::vector, a span), or a file holding that text,
// refused when its group or others have any access to it. A refusal is a
// key_error whose message names the problem, never a byte of the key; every
// buffer that held key material is wiped. Decoding takes the same time
// whatever the key's characters (no lookup table, no branch on them).
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <fstream>
#endif

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/seal.hpp"

namespace mfakit {

/// Why a sealing key was not loaded.
enum class key_error {
  wrong_length = 1,    ///< not 32 bytes, 64 hex digits or 43/44 base64 characters
  not_hex,             ///< 64 characters, not all hex digits
  not_base64,          ///< 43/44 characters, not all base64 (or not a canonical encoding)
  all_zero,            ///< 32 zero bytes: a placeholder, not a key
  file_unreadable,     ///< the file could not be opened or read
  file_not_regular,    ///< a directory, a device, a FIFO...
  file_shared,         ///< group or others have access to the file
  file_too_large,      ///< more than a key file could hold
};

namespace detail {
class key_error_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "mfakit.key"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<key_error>(ev)) {
      case key_error::wrong_length:
        return "a sealing key must be 32 bytes: 64 hex digits or 44 base64 characters";
      case key_error::not_hex: return "the sealing key holds a character that is not a hex digit";
      case key_error::not_base64: return "the sealing key is not valid base64 of 32 bytes";
      case key_error::all_zero: return "the sealing key is all zero bytes (a placeholder, not a key)";
      case key_error::file_unreadable: return "the sealing key file cannot be opened or read";
      case key_error::file_not_regular: return "the sealing key file is not a regular file";
      case key_error::file_shared:
        return "the sealing key file is accessible to its group or others: chmod 600 (or 400) it";
      case key_error::file_too_large: return "the sealing key file is larger than a key file can be";
    }
    return "unknown sealing key error";
  }
};
}  // namespace detail

[[nodiscard]] inline const std::error_category& key_error_category() noexcept {
  static const detail::key_error_category_impl instance;
  return instance;
}
[[nodiscard]] inline std::error_code make_error_code(key_error e) noexcept {
  return {static_cast<int>(e), key_error_category()};
}

}  // namespace mfakit

template <>
struct std::is_error_code_enum<mfakit::key_error> : std::true_type {};

namespace mfakit {

namespace detail {
[[nodiscard]] inline std::string_view trim_key_text(std::string_view s) noexcept {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// The value of a hex digit, and -1 in `bad` when `c` is not one; no branch
/// and no table on the character (in_range_mask, crypto.hpp).
[[nodiscard]] inline int hex_value(unsigned char c, int& bad) noexcept {
  const int ch = c;
  const int digit = in_range_mask(ch, '0', '9');
  const int lower = in_range_mask(ch, 'a', 'f');
  const int upper = in_range_mask(ch, 'A', 'F');
  bad |= ~(digit | lower | upper);
  return (digit & (ch - '0')) | (lower & (ch - 'a' + 10)) | (upper & (ch - 'A' + 10));
}

/// The same for base64 (standard or URL-safe alphabet).
[[nodiscard]] inline int base64_value(unsigned char c, int& bad) noexcept {
  const int ch = c;
  const int upper = in_range_mask(ch, 'A', 'Z');
  const int lower = in_range_mask(ch, 'a', 'z');
  const int digit = in_range_mask(ch, '0', '9');
  const int plus = in_range_mask(ch, '+', '+') | in_range_mask(ch, '-', '-');
  const int slash = in_range_mask(ch, '/', '/') | in_range_mask(ch, '_', '_');
  bad |= ~(upper | lower | digit | plus | slash);
  return (upper & (ch - 'A')) | (lower & (ch - 'a' + 26)) | (digit & (ch - '0' + 52)) | (plus & 62) | (slash & 63);
}

[[nodiscard]] inline bool all_zero(const std::array<unsigned char, 32>& k) noexcept {
  unsigned char any = 0;
  for (unsigned char b : k) any |= b;
  return any == 0;
}

[[nodiscard]] inline result<sealing_key> finish_key(std::uint32_t id, std::array<unsigned char, 32>& bytes, int bad,
                                                    key_error on_bad) {
  if (bad != 0) {
    cleanse(bytes.data(), bytes.size());
    return make_error_code(on_bad);
  }
  if (all_zero(bytes)) return make_error_code(key_error::all_zero);
  result<sealing_key> k = sealing_key(id, std::span<const unsigned char, 32>(bytes));
  cleanse(bytes.data(), bytes.size());
  return k;
}
}  // namespace detail

/// 64 hex digits, either case, with surrounding white space (a trailing
/// newline) ignored.
[[nodiscard]] inline result<sealing_key> sealing_key_from_hex(std::string_view text, std::uint32_t id = 1) {
  text = detail::trim_key_text(text);
  if (text.size() != 64) return make_error_code(key_error::wrong_length);
  std::array<unsigned char, 32> bytes{};
  int bad = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const int hi = detail::hex_value(static_cast<unsigned char>(text[2 * i]), bad);
    const int lo = detail::hex_value(static_cast<unsigned char>(text[2 * i + 1]), bad);
    bytes[i] = static_cast<unsigned char>(((hi << 4) | lo) & 0xFF);
  }
  return detail::finish_key(id, bytes, bad, key_error::not_hex);
}

/// Base64 of 32 bytes: 44 characters ending in '=' or 43 without it, the
/// standard or the URL-safe alphabet, surrounding white space ignored.
[[nodiscard]] inline result<sealing_key> sealing_key_from_base64(std::string_view text, std::uint32_t id = 1) {
  text = detail::trim_key_text(text);
  if (text.size() == 44 && text.back() == '=') text.remove_suffix(1);
  if (text.size() != 43) return make_error_code(key_error::wrong_length);
  std::array<unsigned char, 32> bytes{};
  int bad = 0;
  std::uint32_t acc = 0;
  unsigned bits = 0;
  std::size_t out = 0;
  for (char c : text) {
    acc = ((acc << 6U) | static_cast<std::uint32_t>(detail::base64_value(static_cast<unsigned char>(c), bad))) & 0x3FFFU;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = static_cast<unsigned char>((acc >> bits) & 0xFFU);
    }
  }
  // 43 characters carry 258 bits: the last two must be zero (one encoding per key)
  if ((acc & ((1U << bits) - 1U)) != 0) bad = -1;
  acc = 0;
  return detail::finish_key(id, bytes, bad, key_error::not_base64);
}

/// Any contiguous 32 bytes: a std::vector<std::uint8_t>, a std::span, a
/// buffer from a secret manager's client. The caller wipes its own copy.
[[nodiscard]] inline result<sealing_key> sealing_key_from_bytes(byte_view raw, std::uint32_t id = 1) {
  if (raw.size() != 32) return make_error_code(key_error::wrong_length);
  std::array<unsigned char, 32> bytes{};
  std::copy(raw.begin(), raw.end(), bytes.begin());
  return detail::finish_key(id, bytes, 0, key_error::wrong_length);
}
[[nodiscard]] inline result<sealing_key> sealing_key_from_bytes(std::span<const std::byte> raw, std::uint32_t id = 1) {
  return sealing_key_from_bytes(byte_view(reinterpret_cast<const unsigned char*>(raw.data()), raw.size()),  // NOLINT
                                id);
}

namespace detail {
[[nodiscard]] inline result<sealing_key> sealing_key_from_path(const char* path, std::uint32_t id) {
  constexpr std::size_t max_bytes = 4096;  // a key file is under 100 bytes: a larger one is the wrong file
  std::array<char, max_bytes + 1> buf{};
  std::size_t n = 0;
#ifndef _WIN32
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (fd < 0) return make_error_code(key_error::file_unreadable);
  struct stat st {};
  std::error_code refused;
  if (::fstat(fd, &st) != 0) {
    refused = make_error_code(key_error::file_unreadable);
  } else if (!S_ISREG(st.st_mode)) {
    refused = make_error_code(key_error::file_not_regular);
  } else if ((st.st_mode & 077U) != 0) {
    refused = make_error_code(key_error::file_shared);
  } else {
    while (n < buf.size()) {
      const ssize_t got = ::read(fd, buf.data() + n, buf.size() - n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        refused = make_error_code(key_error::file_unreadable);
        break;
      }
      if (got == 0) break;
      n += static_cast<std::size_t>(got);
    }
  }
  ::close(fd);
#else
  std::error_code refused;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error_code(key_error::file_unreadable);
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  n = static_cast<std::size_t>(in.gcount());
  if (in.bad()) refused = make_error_code(key_error::file_unreadable);
#endif
  if (!refused && n > max_bytes) refused = make_error_code(key_error::file_too_large);
  result<sealing_key> k = refused;
  if (!refused) {
    const std::string_view text = detail::trim_key_text(std::string_view(buf.data(), n));
    k = text.size() == 64 ? sealing_key_from_hex(text, id) : sealing_key_from_base64(text, id);
  }
  cleanse(buf.data(), buf.size());
  return k;
}
}  // namespace detail

/// A file holding the key as hex or base64 text (what `openssl rand -hex 32
/// > key` writes; a trailing newline is fine). Refused unless it is a
/// regular file that neither its group nor others can access in any way
/// (chmod 600 or 400; on Windows the mode is not checked). A host whose
/// platform mounts secrets group-readable reads the file itself and calls
/// sealing_key_from_hex(). The path is any text (a string literal, a
/// std::string, a std::string_view) or a std::filesystem::path.
[[nodiscard]] inline result<sealing_key> sealing_key_from_file(std::string_view path, std::uint32_t id = 1) {
  if (path.find('\0') != std::string_view::npos) return make_error_code(key_error::file_unreadable);
  const std::string p(path);
  return detail::sealing_key_from_path(p.c_str(), id);
}
/// A std::filesystem::path, or another type with a char c_str() that is not
/// text (this header spares its users <filesystem>).
template <class Path>
  requires(!std::is_convertible_v<const Path&, std::string_view>) && requires(const Path& p) {
    { p.c_str() } -> std::same_as<const char*>;
  }
[[nodiscard]] result<sealing_key> sealing_key_from_file(const Path& path, std::uint32_t id = 1) {
  return detail::sealing_key_from_path(path.c_str(), id);
}

}  // namespace mfakit
