// A strict JSON (RFC 8259) reader into a small tree, and the string writer,
// for clientDataJSON and the PublicKeyCredential JSON forms (internal).
// Strict: one value and only whitespace around it, no duplicate member names
// at any level, escapes and UTF-8 checked (no lone surrogates), numbers by
// the grammar, depth and size bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/webauthn/cbor.hpp"

namespace mfakit::webauthn::detail {

struct json_value {
  enum class kind : std::uint8_t { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  std::string text;  ///< string: the unescaped UTF-8; number: the literal as written
  std::vector<json_value> elements;
  std::vector<std::string> names;  ///< object: member names, in order (std::pair would need json_value complete)
  std::vector<json_value> values;  ///< object: the members' values, in the same order

  [[nodiscard]] const json_value* member(std::string_view name) const noexcept {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return &values[i];
    return nullptr;
  }
  /// A number that is an integer literal within int64_t, else false.
  [[nodiscard]] bool as_int(std::int64_t& out) const noexcept {
    if (type != kind::number || text.empty()) return false;
    std::size_t i = 0;
    const bool neg = text[0] == '-';
    if (neg) i = 1;
    if (i >= text.size() || text.size() - i > 18) return false;  // 18 digits never overflow
    std::int64_t v = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return false;  // fractions and exponents are not integers here
      v = v * 10 + (text[i] - '0');
    }
    out = neg ? -v : v;
    return true;
  }
};

struct json_limits {
  std::size_t max_bytes = std::size_t{64} * 1024;
  std::size_t max_depth = 16;
  std::size_t max_nodes = 2048;
};

class json_reader {
 public:
  json_reader(std::string_view in, const json_limits& lim) noexcept : in_(in), lim_(lim) {}

  [[nodiscard]] bool document(json_value& out) {
    if (in_.size() > lim_.max_bytes) return false;
    skip_ws();
    if (!value(out, 0)) return false;
    skip_ws();
    return at_ == in_.size();
  }

 private:
  void skip_ws() noexcept {
    while (at_ < in_.size() && (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r')) ++at_;
  }
  [[nodiscard]] bool literal(std::string_view word) noexcept {
    if (in_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  [[nodiscard]] bool value(json_value& out, std::size_t depth) {
    if (++nodes_ > lim_.max_nodes || at_ >= in_.size()) return false;
    const char c = in_[at_];
    switch (c) {
      case 'n': out.type = json_value::kind::null; return literal("null");
      case 't':
        out.type = json_value::kind::boolean;
        out.boolean = true;
        return literal("true");
      case 'f':
        out.type = json_value::kind::boolean;
        out.boolean = false;
        return literal("false");
      case '"': out.type = json_value::kind::string; return string(out.text);
      case '[': {
        if (depth + 1 > lim_.max_depth) return false;
        out.type = json_value::kind::array;
        ++at_;
        skip_ws();
        if (at_ < in_.size() && in_[at_] == ']') {
          ++at_;
          return true;
        }
        for (;;) {
          skip_ws();
          out.elements.emplace_back();
          if (!value(out.elements.back(), depth + 1)) return false;
          skip_ws();
          if (at_ >= in_.size()) return false;
          if (in_[at_] == ',') {
            ++at_;
            continue;
          }
          if (in_[at_] != ']') return false;
          ++at_;
          return true;
        }
      }
      case '{': {
        if (depth + 1 > lim_.max_depth) return false;
        out.type = json_value::kind::object;
        ++at_;
        skip_ws();
        if (at_ < in_.size() && in_[at_] == '}') {
          ++at_;
          return true;
        }
        for (;;) {
          skip_ws();
          if (at_ >= in_.size() || in_[at_] != '"') return false;
          std::string name;
          if (!string(name)) return false;
          for (const auto& n : out.names)
            if (n == name) return false;  // duplicate member
          skip_ws();
          if (at_ >= in_.size() || in_[at_] != ':') return false;
          ++at_;
          skip_ws();
          out.names.push_back(std::move(name));
          out.values.emplace_back();
          if (!value(out.values.back(), depth + 1)) return false;
          skip_ws();
          if (at_ >= in_.size()) return false;
          if (in_[at_] == ',') {
            ++at_;
            continue;
          }
          if (in_[at_] != '}') return false;
          ++at_;
          return true;
        }
      }
      default: out.type = json_value::kind::number; return number(out.text);
    }
  }

  [[nodiscard]] bool digits() noexcept {
    const std::size_t start = at_;
    while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
    return at_ > start;
  }
  [[nodiscard]] bool number(std::string& out) {
    const std::size_t start = at_;
    if (at_ < in_.size() && in_[at_] == '-') ++at_;
    if (at_ < in_.size() && in_[at_] == '0') {
      ++at_;
    } else if (!digits()) {
      return false;
    }
    if (at_ < in_.size() && in_[at_] == '.') {
      ++at_;
      if (!digits()) return false;
    }
    if (at_ < in_.size() && (in_[at_] == 'e' || in_[at_] == 'E')) {
      ++at_;
      if (at_ < in_.size() && (in_[at_] == '+' || in_[at_] == '-')) ++at_;
      if (!digits()) return false;
    }
    out.assign(in_.substr(start, at_ - start));
    return true;
  }

  [[nodiscard]] bool hex4(unsigned& v) noexcept {
    if (in_.size() - at_ < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = in_[at_++];
      v <<= 4U;
      if (h >= '0' && h <= '9') {
        v |= static_cast<unsigned>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        v |= static_cast<unsigned>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        v |= static_cast<unsigned>(h - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0U | (cp >> 6U)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0U | (cp >> 12U)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    } else {
      out.push_back(static_cast<char>(0xF0U | (cp >> 18U)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
      out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
    }
  }

  [[nodiscard]] bool string(std::string& out) {
    ++at_;  // the opening quote
    const std::size_t start = at_;
    // the common case: no escape, copied in one go
    while (at_ < in_.size() && in_[at_] != '"' && in_[at_] != '\\' && static_cast<unsigned char>(in_[at_]) >= 0x20)
      ++at_;
    out.assign(in_.substr(start, at_ - start));
    while (at_ < in_.size()) {
      const char c = in_[at_];
      if (c == '"') {
        ++at_;
        return valid_utf8(as_bytes(out));
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        ++at_;
        continue;
      }
      if (++at_ >= in_.size()) return false;
      const char e = in_[at_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo = 0;
            if (in_.size() - at_ < 2 || in_[at_] != '\\' || in_[at_ + 1] != 'u') return false;
            at_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10U) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;  // no closing quote
  }

  std::string_view in_;
  const json_limits& lim_;
  std::size_t at_ = 0;
  std::size_t nodes_ = 0;
};

[[nodiscard]] inline result<json_value> parse_json(std::string_view text, const json_limits& limits = {}) {
  json_value v;
  json_reader reader(text, limits);
  if (!reader.document(v)) return errc::webauthn_malformed;
  return v;
}

/// Appends a JSON string literal, quotes included.
inline void append_json_string(std::string& out, std::string_view s) {
  constexpr std::string_view hex = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(hex[u >> 4U]);
      out.push_back(hex[u & 0xFU]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace mfakit::webauthn::detail
