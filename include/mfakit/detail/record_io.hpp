// The byte-level writer and reader behind records.hpp's encode() and
// decode_*(): single bytes, LEB128 varints (zigzag for signed values), raw
// bytes and length-prefixed strings. The writer fills a buffer sized up front
// and throws rather than hand out a truncated record; the reader refuses
// truncated input, varints longer than 64 bits and varints with redundant
// zero bytes, so every value has one encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mfakit/crypto.hpp"

namespace mfakit::detail {

class record_writer {
 public:
  /// `capacity` must cover everything written (encode() sizes it).
  explicit record_writer(std::size_t capacity) : out_(capacity, '\0'), p_(out_.data()), end_(p_ + capacity) {}
  record_writer(const record_writer&) = delete;  // p_ and end_ point into out_
  record_writer& operator=(const record_writer&) = delete;
  record_writer(record_writer&&) = delete;
  record_writer& operator=(record_writer&&) = delete;
  ~record_writer() = default;
  void u8(unsigned v) noexcept {
    if (p_ != end_)
      *p_++ = static_cast<char>(v & 0xFFU);
    else
      overflow_ = true;
  }
  void varint(std::uint64_t v) noexcept {
    while (v >= 0x80U) {
      u8(static_cast<unsigned>(v & 0x7FU) | 0x80U);
      v >>= 7U;
    }
    u8(static_cast<unsigned>(v));
  }
  void svarint(std::int64_t v) noexcept {  // zigzag
    varint((static_cast<std::uint64_t>(v) << 1U) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void raw(byte_view b) noexcept { append(b.data(), b.size()); }
  void bytes(std::string_view s) noexcept {
    varint(s.size());
    append(s.data(), s.size());
  }
  /// The encoding. A capacity that was too small is a bug in encode(): it
  /// throws rather than store a truncated record.
  std::string take() {
    if (overflow_) throw std::logic_error("mfakit: record_writer capacity too small");
    out_.resize(static_cast<std::size_t>(p_ - out_.data()));
    return std::move(out_);
  }

 private:
  void append(const void* data, std::size_t n) noexcept {
    if (n > static_cast<std::size_t>(end_ - p_)) {
      overflow_ = true;
      return;
    }
    if (n != 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  std::string out_;
  char* p_;
  char* end_;
  bool overflow_ = false;
};

class record_reader {
 public:
  explicit record_reader(std::string_view in) : in_(in) {}
  bool u8(unsigned& v) {
    if (in_.empty()) return false;
    v = static_cast<unsigned char>(in_.front());
    in_.remove_prefix(1);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      unsigned b = 0;
      if (!u8(b)) return false;
      if (shift == 63 && b > 1) return false;  // overflow
      v |= static_cast<std::uint64_t>(b & 0x7FU) << shift;
      if ((b & 0x80U) == 0) return b != 0 || shift == 0;  // no redundant zero bytes
    }
    return false;
  }
  bool svarint(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!varint(u)) return false;
    v = static_cast<std::int64_t>((u >> 1U) ^ (~(u & 1U) + 1U));
    return true;
  }
  bool raw(std::span<unsigned char> out) {
    if (in_.size() < out.size()) return false;
    // (std::copy from char to unsigned char compiles to a byte loop)
    if (!out.empty()) std::memcpy(out.data(), in_.data(), out.size());
    in_.remove_prefix(out.size());
    return true;
  }
  bool bytes(std::string& out, std::size_t max) {
    std::uint64_t n = 0;
    if (!varint(n) || n > max || n > in_.size()) return false;
    out.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  [[nodiscard]] bool done() const noexcept { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace mfakit::detail
