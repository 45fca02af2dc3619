// A strict little JSON reader for the fuzz harnesses (RFC 8259: objects,
// arrays, strings, numbers, true, false, null; nothing after the value), so a
// harness can check that a body http.hpp built is JSON and read its fields
// back. Strings come back as the bytes they stand for (\uXXXX as UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz_json {

struct value {
  enum class kind { null, boolean, number, string, array, object } k = kind::null;
  bool b = false;
  std::string text;                ///< a string's bytes, or a number's spelling
  std::vector<value> items;        ///< an array's values, or an object's
  std::vector<std::string> names;  ///< an object's member names, one per item

  [[nodiscard]] const value* get(std::string_view key) const {
    const value* found = nullptr;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == key) found = &items[i];
    return found;
  }
};

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  /// The whole input as one value (whitespace around it allowed).
  bool document(value& out) {
    space();
    if (!parse(out, 0)) return false;
    space();
    return pos_ == in_.size();
  }

  /// One string literal at the start of the input, and nothing after it.
  bool string_only(std::string& out) {
    if (!string(out)) return false;
    return pos_ == in_.size();
  }

 private:
  bool parse(value& v, int depth) {
    if (depth > 32 || pos_ >= in_.size()) return false;
    const char c = in_[pos_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.k = value::kind::string;
      return string(v.text);
    }
    if (literal("true")) {
      v.k = value::kind::boolean;
      v.b = true;
      return true;
    }
    if (literal("false")) {
      v.k = value::kind::boolean;
      return true;
    }
    if (literal("null")) return true;
    return number(v);
  }

  bool object(value& v, int depth) {
    v.k = value::kind::object;
    ++pos_;
    space();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      space();
      std::string name;
      if (!string(name)) return false;
      space();
      if (peek() != ':') return false;
      ++pos_;
      space();
      value item;
      if (!parse(item, depth + 1)) return false;
      v.names.push_back(std::move(name));
      v.items.push_back(std::move(item));
      space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') return false;
      ++pos_;
      return true;
    }
  }

  bool array(value& v, int depth) {
    v.k = value::kind::array;
    ++pos_;
    space();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      space();
      value item;
      if (!parse(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ']') return false;
      ++pos_;
      return true;
    }
  }

  bool string(std::string& out) {
    if (peek() != '"') return false;
    ++pos_;
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;  // a raw control character
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) return false;
      const char e = in_[pos_++];
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
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool number(value& v) {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digit()) {
      while (digit()) ++pos_;
    } else {
      return false;
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit()) return false;
      while (digit()) ++pos_;
    }
    v.k = value::kind::number;
    v.text = std::string(in_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(std::uint32_t& cp) {
    if (in_.size() - pos_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
      const char h = in_[pos_++];
      std::uint32_t d = 0;
      if (h >= '0' && h <= '9') {
        d = static_cast<std::uint32_t>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        d = static_cast<std::uint32_t>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        d = static_cast<std::uint32_t>(h - 'A' + 10);
      } else {
        return false;
      }
      cp = cp * 16 + d;
    }
    return true;
  }

  static void utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  [[nodiscard]] char peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  [[nodiscard]] bool digit() const { return pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9'; }
  void space() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
      ++pos_;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace fuzz_json
