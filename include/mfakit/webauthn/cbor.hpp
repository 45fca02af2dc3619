// A strict decoder for the subset of CBOR (RFC 8949) that WebAuthn uses:
// attestation objects, COSE keys and authenticator extensions. Only the
// CTAP2 canonical form is taken (FIDO CTAP 2.1 §8 "Message Encoding"):
// definite lengths, the shortest encoding of every argument, map keys
// (integers or text) in canonical order and never twice; no tags, no floats,
// simple values false / true / null only. Depth, item count and total size
// are bounded and every length is checked against what is left before
// anything is allocated. Decoding returns how many bytes it consumed, which
// is how the authenticator data finds its extensions after the COSE key.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"

namespace mfakit::webauthn {

struct cbor_limits {
  std::size_t max_bytes = std::size_t{64} * 1024;  ///< the whole input
  std::size_t max_depth = 8;          ///< nested arrays and maps (a top-level map is depth 1)
  std::size_t max_items = 4096;       ///< data items in all
};

/// One decoded data item. Byte and text strings point into the input, which
/// must outlive the item.
struct cbor_item {
  enum class kind : std::uint8_t { unsigned_int, negative_int, bytes, text, array, map, boolean, null };
  kind type = kind::null;
  std::uint64_t arg = 0;  ///< the value (unsigned), -1 - value (negative), the length or count, 0/1 (boolean)
  byte_view data;         ///< bytes and text: the content
  byte_view encoded;      ///< the item's whole encoding
  std::vector<cbor_item> items;  ///< array: elements; map: key, value, key, value...

  [[nodiscard]] bool is_int() const noexcept { return type == kind::unsigned_int || type == kind::negative_int; }
  /// The integer, when it fits an int64_t.
  [[nodiscard]] std::optional<std::int64_t> as_int() const noexcept {
    if (type == kind::unsigned_int && arg <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(arg);
    if (type == kind::negative_int && arg <= static_cast<std::uint64_t>(INT64_MAX))
      return -1 - static_cast<std::int64_t>(arg);
    return std::nullopt;
  }
  [[nodiscard]] std::string_view text() const noexcept {
    return {reinterpret_cast<const char*>(data.data()), data.size()};  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  }
  [[nodiscard]] std::size_t map_size() const noexcept { return items.size() / 2; }
  /// A map's value under an integer key, or nullptr.
  [[nodiscard]] const cbor_item* find(std::int64_t key) const noexcept {
    for (std::size_t i = 0; i + 1 < items.size(); i += 2)
      if (items[i].is_int() && items[i].as_int() == key) return &items[i + 1];
    return nullptr;
  }
  /// A map's value under a text key, or nullptr.
  [[nodiscard]] const cbor_item* find(std::string_view key) const noexcept {
    for (std::size_t i = 0; i + 1 < items.size(); i += 2)
      if (items[i].type == kind::text && items[i].text() == key) return &items[i + 1];
    return nullptr;
  }
};

/// A decoded item and the bytes it took from the front of the input.
struct cbor_decoded {
  cbor_item item;
  std::size_t consumed = 0;
};

namespace detail {

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] inline bool valid_utf8(byte_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned b = s[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

class cbor_reader {
 public:
  cbor_reader(byte_view in, const cbor_limits& lim) noexcept : in_(in), lim_(lim) {}

  [[nodiscard]] result<void> item(cbor_item& out, std::size_t depth) {
    if (++count_ > lim_.max_items) return errc::webauthn_malformed;
    const std::size_t start = at_;
    if (at_ >= in_.size()) return errc::webauthn_malformed;
    const unsigned initial = in_[at_++];
    const unsigned major = initial >> 5U;
    const unsigned info = initial & 0x1FU;
    std::uint64_t arg = 0;
    if (info < 24) {
      arg = info;
    } else if (info <= 27) {
      const std::size_t n = std::size_t{1} << (info - 24);  // 1, 2, 4, 8 bytes
      if (in_.size() - at_ < n) return errc::webauthn_malformed;
      for (std::size_t k = 0; k < n; ++k) arg = (arg << 8U) | in_[at_ + k];
      at_ += n;
      // shortest form: the value would not have fitted the form below
      const std::uint64_t floor = n == 1 ? 24 : (std::uint64_t{1} << (4 * n));  // 24, 2^8, 2^16, 2^32
      if (major != 7 && arg < floor) return errc::webauthn_malformed;
    } else {
      return errc::webauthn_malformed;  // 28-30 reserved, 31 indefinite length
    }
    out.arg = arg;
    switch (major) {
      case 0: out.type = cbor_item::kind::unsigned_int; break;
      case 1: out.type = cbor_item::kind::negative_int; break;
      case 2:
      case 3: {
        if (arg > in_.size() - at_) return errc::webauthn_malformed;
        const auto n = static_cast<std::size_t>(arg);
        out.data = in_.subspan(at_, n);
        at_ += n;
        out.type = major == 2 ? cbor_item::kind::bytes : cbor_item::kind::text;
        if (major == 3 && !valid_utf8(out.data)) return errc::webauthn_malformed;
        break;
      }
      case 4:
      case 5: {
        if (depth + 1 > lim_.max_depth) return errc::webauthn_malformed;
        // every item takes at least one byte: a count beyond what is left is a lie
        const std::uint64_t per = major == 5 ? 2 : 1;
        if (arg > (in_.size() - at_) / per) return errc::webauthn_malformed;
        if (arg * per > lim_.max_items - count_) return errc::webauthn_malformed;
        const auto n = static_cast<std::size_t>(arg * per);
        out.type = major == 4 ? cbor_item::kind::array : cbor_item::kind::map;
        // grown as items arrive: nested claims never allocate ahead of the bytes
        out.items.reserve(std::min<std::size_t>(n, 16));
        for (std::size_t k = 0; k < n; ++k) {
          out.items.emplace_back();
          if (auto r = item(out.items.back(), depth + 1); !r) return r;
          if (major == 5 && k % 2 == 0) {
            const cbor_item& key = out.items[k];
            if (!key.is_int() && key.type != cbor_item::kind::text) return errc::webauthn_malformed;
            // canonical order: shorter encoding first, then bytewise (this
            // also puts unsigned before negative before text); equal = duplicate
            if (k >= 2 && !canonical_before(out.items[k - 2].encoded, key.encoded)) return errc::webauthn_malformed;
          }
        }
        break;
      }
      case 7:
        if (info == 20 || info == 21) {
          out.type = cbor_item::kind::boolean;
          out.arg = info - 20;
        } else if (info == 22) {
          out.type = cbor_item::kind::null;
          out.arg = 0;
        } else {
          return errc::webauthn_malformed;  // floats, undefined, other simple values
        }
        break;
      default: return errc::webauthn_malformed;  // 6: tags
    }
    out.encoded = in_.subspan(start, at_ - start);
    return {};
  }

  [[nodiscard]] std::size_t position() const noexcept { return at_; }

  [[nodiscard]] static bool canonical_before(byte_view a, byte_view b) noexcept {
    if (a.size() != b.size()) return a.size() < b.size();
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  byte_view in_;
  const cbor_limits& lim_;
  std::size_t at_ = 0;
  std::size_t count_ = 0;
};

}  // namespace detail

/// Decodes one data item from the front of `in`; the rest is left alone
/// (cbor_decoded::consumed says where it starts).
[[nodiscard]] inline result<cbor_decoded> cbor_decode_prefix(byte_view in, const cbor_limits& limits = {}) {
  if (in.size() > limits.max_bytes) return errc::webauthn_malformed;
  detail::cbor_reader reader(in, limits);
  cbor_decoded out;
  if (auto r = reader.item(out.item, 0); !r) return r.error();
  out.consumed = reader.position();
  return out;
}

/// Decodes exactly one data item that spans all of `in`.
[[nodiscard]] inline result<cbor_item> cbor_decode(byte_view in, const cbor_limits& limits = {}) {
  auto d = cbor_decode_prefix(in, limits);
  if (!d) return d.error();
  if (d->consumed != in.size()) return errc::webauthn_malformed;
  return std::move(d->item);
}

/// A data item that owns its bytes: a copy of the item's encoding and the
/// decoded item, whose views point into that copy. It outlives the input it
/// was taken from; copies and moves keep their views on their own bytes. What
/// the verifier hands back to the caller (extension outputs) is one of these.
class cbor_value {
 public:
  cbor_value() = default;
  /// A copy of `item` (and of the bytes it views, item.encoded).
  explicit cbor_value(const cbor_item& item) : bytes_(item.encoded.begin(), item.encoded.end()), item_(item) {
    rebase(item_, item.encoded.data(), bytes_.data());
  }
  cbor_value(const cbor_value& o) : bytes_(o.bytes_), item_(o.item_) { rebase(item_, o.bytes_.data(), bytes_.data()); }
  cbor_value(cbor_value&& o) noexcept : bytes_(std::move(o.bytes_)), item_(std::move(o.item_)) {
    o.bytes_.clear();
    o.item_ = cbor_item{};
  }
  cbor_value& operator=(const cbor_value& o) {
    if (this != &o) *this = cbor_value(o);
    return *this;
  }
  cbor_value& operator=(cbor_value&& o) noexcept {
    if (this != &o) {
      bytes_ = std::move(o.bytes_);  // std::allocator: the buffer moves, the views stay valid
      item_ = std::move(o.item_);
      o.bytes_.clear();
      o.item_ = cbor_item{};
    }
    return *this;
  }
  ~cbor_value() = default;

  [[nodiscard]] const cbor_item& item() const noexcept { return item_; }
  [[nodiscard]] const cbor_item& operator*() const noexcept { return item_; }
  [[nodiscard]] const cbor_item* operator->() const noexcept { return &item_; }
  /// The item's encoding (the owned bytes).
  [[nodiscard]] byte_view encoded() const noexcept { return bytes_; }

 private:
  static byte_view moved(byte_view v, const unsigned char* from, const unsigned char* to) noexcept {
    if (v.empty()) return {};
    return {to + (v.data() - from), v.size()};
  }
  static void rebase(cbor_item& it, const unsigned char* from, const unsigned char* to) noexcept {
    it.data = moved(it.data, from, to);
    it.encoded = moved(it.encoded, from, to);
    for (auto& sub : it.items) rebase(sub, from, to);
  }

  std::vector<unsigned char> bytes_;
  cbor_item item_;
};

}  // namespace mfakit::webauthn
