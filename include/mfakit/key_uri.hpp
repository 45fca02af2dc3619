// Key URIs (otpauth://TYPE/LABEL?PARAMETERS), the format authenticator apps
// scan from a QR code. Label policy, both ways:
//  - building: the label is ISSUER ":" ACCOUNT with each part percent-encoded
//    (so a ':' inside a part becomes %3A) and a literal ':' between them;
//  - parsing: the label splits at its first literal ':', or when there is
//    none at its first "%3A"; each part is then percent-decoded and spaces
//    after the separator are dropped. An `issuer` parameter wins over a
//    missing label prefix; when both are present they must agree.
// Only %XX escapes are decoded ('+' stays '+'); unknown parameters are
// ignored, repeated known ones rejected. The parser refuses a raw '#' (an
// app's URI parser starts a fragment there) and an issuer or account that an
// app would show misleadingly: invalid UTF-8, control characters,
// bidirectional controls (see detail::displayable_text).
//
// The two directions agree: check_key_uri says whether to_string can write a
// key so that parse_key_uri reads back the same fields, to_string refuses
// (throws) what it rejects, and parse_key_uri returns only keys it accepts.
// So to_string(parse_key_uri(x)) always parses back to the same key.
#pragma once

#include <charconv>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "mfakit/detail/decimal.hpp"

#include "mfakit/algorithm.hpp"
#include "mfakit/base32.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/secret.hpp"

namespace mfakit {

enum class otp_type : std::uint8_t { totp, hotp };

struct key_uri {
  otp_type type = otp_type::totp;
  std::string issuer;   ///< may be empty
  std::string account;  ///< required
  secret key;
  algorithm alg = algorithm::sha1;
  int digits = 6;
  std::int64_t period = 30;   ///< totp only
  std::uint64_t counter = 0;  ///< hotp only
};

/// The longest key URI parse_key_uri reads and to_string writes.
inline constexpr std::size_t max_key_uri_size = 4096;

namespace detail {
[[nodiscard]] inline bool uri_unreserved(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

inline void percent_encode_to(std::string& out, std::string_view s) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  for (char c : s) {
    if (uri_unreserved(c)) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[u >> 4U]);
      out.push_back(hex[u & 0xFU]);
    }
  }
}

[[nodiscard]] constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[nodiscard]] inline std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

template <class Int>
[[nodiscard]] bool parse_int(std::string_view s, Int& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

/// Whether an authenticator app would show `s` as it is: valid UTF-8 (RFC
/// 3629: no overlong form, no surrogate, nothing past U+10FFFF) with no C0 or
/// C1 control character or DEL, no line or paragraph separator (U+2028,
/// U+2029) and no bidirectional control (the Bidi_Control set: U+061C,
/// U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), which reorders the text
/// around it ("moc.elgoog" shown as "google.com"). Right-to-left letters and
/// joiners are ordinary text.
[[nodiscard]] constexpr bool displayable_text(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    std::size_t len = 1;
    if (lead < 0x80U) {
      cp = lead;
    } else if ((lead & 0xE0U) == 0xC0U) {
      cp = lead & 0x1FU;
      min = 0x80;
      len = 2;
    } else if ((lead & 0xF0U) == 0xE0U) {
      cp = lead & 0x0FU;
      min = 0x800;
      len = 3;
    } else if ((lead & 0xF8U) == 0xF0U) {
      cp = lead & 0x07U;
      min = 0x10000;
      len = 4;
    } else {
      return false;  // a continuation byte first, or 0xF8..0xFF
    }
    if (s.size() - i < len) return false;  // cut short
    for (std::size_t j = 1; j < len; ++j) {
      const auto b = static_cast<unsigned char>(s[i + j]);
      if ((b & 0xC0U) != 0x80U) return false;
      cp = (cp << 6U) | (b & 0x3FU);
    }
    if (cp < min || cp > 0x10FFFFU || (cp >= 0xD800U && cp <= 0xDFFFU)) return false;
    if (cp < 0x20U || (cp >= 0x7FU && cp <= 0x9FU)) return false;  // C0, DEL, C1
    if (cp == 0x2028U || cp == 0x2029U) return false;              // line breaks
    if (cp == 0x061CU || cp == 0x200EU || cp == 0x200FU || (cp >= 0x202AU && cp <= 0x202EU) ||
        (cp >= 0x2066U && cp <= 0x2069U))
      return false;  // bidirectional controls
    i += len;
  }
  return true;
}

[[nodiscard]] inline std::size_t percent_encoded_size(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += uri_unreserved(c) ? 1 : 3;
  return n;
}

[[nodiscard]] constexpr std::size_t decimal_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  for (; v >= 10; v /= 10) ++n;
  return n;
}

/// The exact length of what to_string writes for `k` (k passes the field
/// checks of check_key_uri: period >= 1, digits 6..8).
[[nodiscard]] inline std::size_t key_uri_size(const key_uri& k) noexcept {
  std::size_t n = std::string_view("otpauth://totp/").size() + percent_encoded_size(k.account) +
                  std::string_view("?secret=").size() + (k.key.size() * 8 + 4) / 5;
  if (!k.issuer.empty()) n += 1 + std::string_view("&issuer=").size() + 2 * percent_encoded_size(k.issuer);
  if (k.alg != algorithm::sha1) n += std::string_view("&algorithm=").size() + to_string(k.alg).size();
  if (k.digits != 6) n += std::string_view("&digits=").size() + decimal_size(static_cast<std::uint64_t>(k.digits));
  if (k.type == otp_type::totp && k.period != 30)
    n += std::string_view("&period=").size() + decimal_size(static_cast<std::uint64_t>(k.period));
  if (k.type == otp_type::hotp) n += std::string_view("&counter=").size() + decimal_size(k.counter);
  return n;
}
}  // namespace detail

/// Whether to_string can write `k` as a URI that parse_key_uri reads back to
/// the same key: type, issuer, account, secret, algorithm, digits, and the
/// period of a TOTP key or the counter of an HOTP key (the field the type
/// does not use is not written, and parse_key_uri leaves it at its default).
/// parse_key_uri returns only keys this accepts. Errors:
///  - errc::invalid_uri: an issuer or account an app would show misleadingly
///    (detail::displayable_text), an empty account or one that starts with a
///    space (the parser drops those spaces), a ':' in the account without an
///    issuer (the parser would split the label there), digits outside 6..8, a
///    TOTP period below 1, an unknown type, or a URI longer than
///    max_key_uri_size;
///  - errc::invalid_secret: a key outside 16..64 bytes;
///  - errc::unsupported_algorithm: an algorithm value outside the enum.
[[nodiscard]] inline result<void> check_key_uri(const key_uri& k) {
  if (k.type != otp_type::totp && k.type != otp_type::hotp) return errc::invalid_uri;
  if (k.alg != algorithm::sha1 && k.alg != algorithm::sha256 && k.alg != algorithm::sha512)
    return errc::unsupported_algorithm;
  if (k.key.size() < min_secret_bytes || k.key.size() > max_secret_bytes) return errc::invalid_secret;
  if (k.digits < min_digits || k.digits > max_digits) return errc::invalid_uri;
  if (k.type == otp_type::totp && k.period < 1) return errc::invalid_uri;
  if (!detail::displayable_text(k.issuer) || !detail::displayable_text(k.account)) return errc::invalid_uri;
  if (k.account.empty() || k.account.front() == ' ') return errc::invalid_uri;
  if (k.issuer.empty() && k.account.find(':') != std::string::npos) return errc::invalid_uri;
  if (detail::key_uri_size(k) > max_key_uri_size) return errc::invalid_uri;
  return {};
}

/// Builds the URI. The result contains the secret: treat it like one (it is
/// built in one buffer reserved up front, so no stale copy is left behind;
/// wipe it with mfakit::cleanse when done).
///
/// Throws std::system_error with check_key_uri's error for a key it rejects
/// (as result::value() does) rather than hand out a URI that parses to
/// another key or not at all. A host that builds from user input (an account
/// name typed at sign-up, say) calls check_key_uri first; flow::setup does.
[[nodiscard]] inline std::string to_string(const key_uri& k) {
  if (auto ok = check_key_uri(k); !ok) throw std::system_error(ok.error(), "mfakit: key_uri cannot be written");
  std::string b32 = k.key.to_base32();
  std::string out;
  out.reserve(detail::key_uri_size(k));
  out += k.type == otp_type::totp ? "otpauth://totp/" : "otpauth://hotp/";
  if (!k.issuer.empty()) {
    detail::percent_encode_to(out, k.issuer);
    out.push_back(':');
  }
  detail::percent_encode_to(out, k.account);
  out += "?secret=";
  out += b32;
  cleanse(b32.data(), b32.size());
  if (!k.issuer.empty()) {
    out += "&issuer=";
    detail::percent_encode_to(out, k.issuer);
  }
  if (k.alg != algorithm::sha1) {
    out += "&algorithm=";
    out += to_string(k.alg);
  }
  if (k.digits != 6) {
    out += "&digits=";
    detail::append_decimal(out, k.digits);
  }
  if (k.type == otp_type::totp && k.period != 30) {
    out += "&period=";
    detail::append_decimal(out, k.period);
  }
  if (k.type == otp_type::hotp) {
    out += "&counter=";
    detail::append_decimal(out, k.counter);
  }
  return out;
}

/// Parses and validates a key URI (secret, digits 6-8, period >= 1, the text
/// rules above); what it returns passes check_key_uri.
[[nodiscard]] inline result<key_uri> parse_key_uri(std::string_view uri) {
  constexpr std::string_view scheme = "otpauth://";
  if (uri.size() > max_key_uri_size || uri.size() < scheme.size() ||
      !detail::iequals(uri.substr(0, scheme.size()), scheme))
    return errc::invalid_uri;
  // A raw '#' starts a fragment: the URI parser of an app cuts the label or
  // the query there, so it would read another key than this parser.
  if (uri.find('#') != std::string_view::npos) return errc::invalid_uri;
  uri.remove_prefix(scheme.size());
  key_uri k;
  const auto slash = uri.find('/');
  if (slash == std::string_view::npos) return errc::invalid_uri;
  const std::string_view type = uri.substr(0, slash);
  if (detail::iequals(type, "totp")) {
    k.type = otp_type::totp;
  } else if (detail::iequals(type, "hotp")) {
    k.type = otp_type::hotp;
  } else {
    return errc::invalid_uri;
  }
  uri.remove_prefix(slash + 1);
  const auto qmark = uri.find('?');
  const std::string_view label = uri.substr(0, qmark);
  std::string_view query = qmark == std::string_view::npos ? std::string_view{} : uri.substr(qmark + 1);

  // label: ISSUER:ACCOUNT or ACCOUNT
  std::string_view raw_issuer;
  std::string_view raw_account = label;
  bool has_prefix = false;
  if (auto colon = label.find(':'); colon != std::string_view::npos) {
    raw_issuer = label.substr(0, colon);
    raw_account = label.substr(colon + 1);
    has_prefix = true;
  } else {
    for (std::size_t i = 0; i + 3 <= label.size(); ++i) {
      if (label[i] == '%' && label[i + 1] == '3' && (label[i + 2] == 'A' || label[i + 2] == 'a')) {
        raw_issuer = label.substr(0, i);
        raw_account = label.substr(i + 3);
        has_prefix = true;
        break;
      }
    }
  }
  auto label_issuer = detail::percent_decode(raw_issuer);
  auto account = detail::percent_decode(raw_account);
  if (!label_issuer || !account) return errc::invalid_uri;
  const auto first = account->find_first_not_of(' ');
  account->erase(0, first == std::string::npos ? account->size() : first);
  if (account->empty() || !detail::displayable_text(*account) || !detail::displayable_text(*label_issuer))
    return errc::invalid_uri;
  if (has_prefix && label_issuer->empty()) return errc::invalid_uri;
  k.account = std::move(*account);

  bool seen_secret = false, seen_issuer = false, seen_alg = false, seen_digits = false, seen_period = false,
       seen_counter = false;
  std::string param_issuer;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return errc::invalid_uri;
    const std::string_view name = pair.substr(0, eq);
    auto value = detail::percent_decode(pair.substr(eq + 1));
    if (!value) return errc::invalid_uri;
    auto once = [](bool& seen) {
      const bool first_time = !seen;
      seen = true;
      return first_time;
    };
    if (name == "secret") {
      if (!once(seen_secret)) {
        cleanse(value->data(), value->size());
        return errc::invalid_uri;
      }
      auto s = secret::from_base32(*value);
      cleanse(value->data(), value->size());
      if (!s) return s.error();
      k.key = std::move(*s);
    } else if (name == "issuer") {
      if (!once(seen_issuer) || value->empty() || !detail::displayable_text(*value)) return errc::invalid_uri;
      param_issuer = std::move(*value);
    } else if (name == "algorithm") {
      if (!once(seen_alg)) return errc::invalid_uri;
      if (detail::iequals(*value, "SHA1")) {
        k.alg = algorithm::sha1;
      } else if (detail::iequals(*value, "SHA256")) {
        k.alg = algorithm::sha256;
      } else if (detail::iequals(*value, "SHA512")) {
        k.alg = algorithm::sha512;
      } else {
        return errc::unsupported_algorithm;
      }
    } else if (name == "digits") {
      if (!once(seen_digits) || !detail::parse_int(*value, k.digits) || k.digits < min_digits || k.digits > max_digits)
        return errc::invalid_uri;
    } else if (name == "period") {
      if (!once(seen_period) || !detail::parse_int(*value, k.period) || k.period < 1) return errc::invalid_uri;
    } else if (name == "counter") {
      if (!once(seen_counter) || !detail::parse_int(*value, k.counter)) return errc::invalid_uri;
    }
  }
  if (!seen_secret) return errc::invalid_uri;
  if (k.type == otp_type::hotp && !seen_counter) return errc::invalid_uri;
  if (has_prefix && seen_issuer && *label_issuer != param_issuer) return errc::invalid_uri;
  k.issuer = seen_issuer ? std::move(param_issuer) : std::move(*label_issuer);
  // Only the field the type uses is part of the key (to_string writes only it).
  if (k.type == otp_type::totp) {
    k.counter = 0;
  } else {
    k.period = 30;
  }
  // What is returned can be written back: this also refuses a URI whose
  // written form would pass max_key_uri_size (the issuer is written twice,
  // raw UTF-8 as %XX).
  if (auto ok = check_key_uri(k); !ok) return ok.error();
  return k;
}

/// Settings that common authenticator apps are known to ignore or reject:
/// each is a warning a host may show before it hands out the QR code.
[[nodiscard]] inline std::vector<std::string> lint(const key_uri& k) {
  std::vector<std::string> w;
  if (k.alg != algorithm::sha1)
    w.emplace_back(
        "algorithm is not SHA1: several apps (Google Authenticator among them) ignore it and compute SHA1 codes");
  if (k.digits != 6) w.emplace_back("digits is not 6: several apps ignore it and show 6-digit codes");
  if (k.type == otp_type::totp && k.period != 30)
    w.emplace_back("period is not 30 seconds: several apps ignore it and use 30");
  if (k.type == otp_type::hotp) w.emplace_back("hotp: many apps support only totp");
  if (k.issuer.empty()) w.emplace_back("no issuer: apps list the account without the service name");
  if (k.issuer.find(':') != std::string::npos || (k.issuer.empty() && k.account.find(':') != std::string::npos))
    w.emplace_back("':' in the issuer (or in the account without an issuer): apps split the label there");
  if (!detail::displayable_text(k.issuer) || !detail::displayable_text(k.account))
    w.emplace_back(
        "issuer or account is not plain text (invalid UTF-8, a control character or a bidirectional control): apps "
        "could show it misleadingly, and to_string refuses it");
  if (k.key.size() < default_secret_bytes) w.emplace_back("secret shorter than 160 bits (RFC 4226 recommends 160)");
  return w;
}

}  // namespace mfakit
