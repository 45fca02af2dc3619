// Access tokens: JSON Web Tokens (RFC 7519) signed with HMAC-SHA-256 (JWS
// "HS256", RFC 7515/7518), on OpenSSL and Boost.JSON. Small on purpose, so it
// can be audited in one sitting. What verify() enforces, in this order:
//  - the token is three base64url segments (no padding, canonical: no stray
//    bits), at most max_token_bytes;
//  - the header is a JSON object whose "alg" is exactly "HS256" ("none",
//    "RS256", "HS512", "hs256", a missing or non-string alg: refused; so a
//    public key can never be used as an HMAC secret), "typ" when present is
//    "JWT", and there is no "crit" (no extension is understood);
//  - the signature is exactly 32 bytes and equals HMAC-SHA-256(key,
//    header "." payload), compared with CRYPTO_memcmp (constant time);
//  - only then is the payload parsed: "exp" is required and must be in the
//    future, "nbf" when present must not be in the future (both with the
//    configured leeway, 0 by default), "sub" is a non-empty string.
// The key must have at least 32 bytes (RFC 7518 section 3.2).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <mfakit/crypto.hpp>
#include <mfakit/http.hpp>

namespace mfakit_examples::jwt {

inline constexpr std::size_t max_token_bytes = 4096;
inline constexpr std::size_t min_key_bytes = 32;

struct claims {
  std::string sub;
  std::string jti;  ///< empty when the token has none
  std::int64_t iat = 0;
  std::int64_t nbf = 0;
  std::int64_t exp = 0;
  std::string fam;                ///< the refresh family (session) it belongs to; empty when none
  std::vector<std::string> amr;   ///< how the login was made (RFC 8176): "pwd", "otp", ...
};

inline constexpr std::size_t max_amr = 4;

enum class error : std::uint8_t {
  none,
  malformed,        ///< not three base64url segments, or too long
  bad_header,       ///< header not a JSON object, typ not JWT, crit present
  unsupported_alg,  ///< alg other than HS256 (none, RS256, ...)
  bad_signature,
  bad_claims,  ///< payload not a JSON object, no exp, no sub, wrong types
  expired,
  not_yet_valid,
};

[[nodiscard]] constexpr std::string_view to_string(error e) noexcept {
  switch (e) {
    case error::none: return "none";
    case error::malformed: return "malformed";
    case error::bad_header: return "bad_header";
    case error::unsupported_alg: return "unsupported_alg";
    case error::bad_signature: return "bad_signature";
    case error::bad_claims: return "bad_claims";
    case error::expired: return "expired";
    case error::not_yet_valid: return "not_yet_valid";
  }
  return "unknown";
}

struct verified {
  error err = error::malformed;
  claims c;
  explicit operator bool() const noexcept { return err == error::none; }
};

namespace detail {

inline constexpr std::string_view b64url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

inline void append_base64url(std::string& out, const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16U) | (std::uint32_t{p[i + 1]} << 8U) | p[i + 2];
    out.push_back(b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(b64url_alphabet[(v >> 12U) & 63U]);
    out.push_back(b64url_alphabet[(v >> 6U) & 63U]);
    out.push_back(b64url_alphabet[v & 63U]);
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16U;
    out.push_back(b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(b64url_alphabet[(v >> 12U) & 63U]);
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16U) | (std::uint32_t{p[i + 1]} << 8U);
    out.push_back(b64url_alphabet[(v >> 18U) & 63U]);
    out.push_back(b64url_alphabet[(v >> 12U) & 63U]);
    out.push_back(b64url_alphabet[(v >> 6U) & 63U]);
  }
}

[[nodiscard]] constexpr int b64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/// Strict base64url without padding; false on any other character, a
/// length of 1 mod 4, or non-zero bits left over (a non-canonical encoding).
[[nodiscard]] inline bool decode_base64url(std::string_view in, std::string& out) {
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  unsigned bits = 0;
  for (char c : in) {
    const int v = b64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6U) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFU));
    }
  }
  return (acc & ((1U << bits) - 1U)) == 0;  // leftover bits must be zero
}

/// A JSON number as whole seconds (a fraction is cut off); nullopt otherwise.
[[nodiscard]] inline std::optional<std::int64_t> seconds_of(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (!(d > -9.0e18 && d < 9.0e18)) return std::nullopt;  // also NaN
    return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

[[nodiscard]] inline std::optional<boost::json::object> parse_object(std::string_view text) {
  boost::json::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 8;
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace detail

class hs256 {
 public:
  /// Throws std::invalid_argument for a key shorter than 32 bytes,
  /// std::runtime_error when OpenSSL cannot key HMAC-SHA-256.
  explicit hs256(mfakit::byte_view key) {
    if (key.size() < min_key_bytes) throw std::invalid_argument("the JWT secret must have at least 32 bytes");
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) throw std::runtime_error("HMAC unavailable");
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    std::array<char, 7> digest{'S', 'H', 'A', '2', '5', '6', '\0'};
    const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
                                           OSSL_PARAM_construct_end()};
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, key.data(), key.size(), params.data()) != 1) {
      EVP_MAC_CTX_free(ctx_);
      throw std::runtime_error("cannot key HMAC-SHA-256");
    }
  }
  hs256(const hs256&) = delete;
  hs256& operator=(const hs256&) = delete;
  ~hs256() { EVP_MAC_CTX_free(ctx_); }

  /// header.payload.signature for these claims (iat, nbf, exp, sub, jti;
  /// iss when given). Throws std::runtime_error if HMAC fails.
  [[nodiscard]] std::string sign(const claims& c, std::string_view issuer = {}) const {
    std::string payload = "{\"sub\":";
    payload += mfakit::http::json_string(c.sub);
    if (!issuer.empty()) payload += ",\"iss\":" + mfakit::http::json_string(issuer);
    if (!c.jti.empty()) payload += ",\"jti\":" + mfakit::http::json_string(c.jti);
    payload += ",\"iat\":" + std::to_string(c.iat);
    payload += ",\"nbf\":" + std::to_string(c.nbf);
    payload += ",\"exp\":" + std::to_string(c.exp);
    if (!c.fam.empty()) payload += ",\"fam\":" + mfakit::http::json_string(c.fam);
    if (!c.amr.empty()) {
      payload += ",\"amr\":[";
      for (std::size_t i = 0; i < c.amr.size(); ++i) {
        if (i != 0) payload += ',';
        payload += mfakit::http::json_string(c.amr[i]);
      }
      payload += ']';
    }
    payload += '}';
    // base64url of {"alg":"HS256","typ":"JWT"}
    std::string token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.";
    token.reserve(token.size() + payload.size() * 4 / 3 + 48);
    detail::append_base64url(token, reinterpret_cast<const unsigned char*>(payload.data()),  // NOLINT
                             payload.size());
    std::array<unsigned char, 32> mac{};
    if (!hmac(token, mac)) {
      mfakit::cleanse(mac.data(), mac.size());
      throw std::runtime_error("HMAC failed");
    }
    token.push_back('.');
    detail::append_base64url(token, mac.data(), mac.size());
    mfakit::cleanse(mac.data(), mac.size());  // the raw signature is not left on the stack
    return token;
  }

  /// The claims of a token this key signed and that is valid at `now`.
  [[nodiscard]] verified verify(std::string_view token, std::int64_t now, std::int64_t leeway = 0) const {
    verified out;
    if (token.empty() || token.size() > max_token_bytes) return out;
    const std::size_t dot1 = token.find('.');
    if (dot1 == std::string_view::npos) return out;
    const std::size_t dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) return out;
    const std::string_view head_b64 = token.substr(0, dot1);
    const std::string_view body_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view sig_b64 = token.substr(dot2 + 1);
    if (head_b64.empty() || body_b64.empty() || sig_b64.empty()) return out;

    // 1. the header: only HS256
    std::string text;
    if (!detail::decode_base64url(head_b64, text)) return out;
    auto head = detail::parse_object(text);
    if (!head) return out.err = error::bad_header, out;
    const auto* alg = head->if_contains("alg");
    if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") return out.err = error::unsupported_alg, out;
    if (const auto* typ = head->if_contains("typ"); typ != nullptr && (!typ->is_string() || typ->get_string() != "JWT"))
      return out.err = error::bad_header, out;
    if (head->contains("crit")) return out.err = error::bad_header, out;

    // 2. the signature, in constant time, before the payload is even parsed
    std::string sig;
    // (both buffers wiped: the raw signature is not left in freed memory)
    const bool decoded = detail::decode_base64url(sig_b64, sig);
    std::array<unsigned char, 32> mac{};
    const bool ran = decoded && hmac(token.substr(0, dot2), mac);
    const bool same = ran && sig.size() == mac.size() && CRYPTO_memcmp(sig.data(), mac.data(), mac.size()) == 0;
    mfakit::cleanse(mac.data(), mac.size());
    mfakit::cleanse(sig.data(), sig.size());
    if (!decoded) return out;
    if (!ran) return out.err = error::bad_signature, out;
    if (!same) return out.err = error::bad_signature, out;

    // 3. the claims
    if (!detail::decode_base64url(body_b64, text)) return out;
    auto body = detail::parse_object(text);
    if (!body) return out.err = error::bad_claims, out;
    const auto* sub = body->if_contains("sub");
    const auto* exp = body->if_contains("exp");
    if (sub == nullptr || !sub->is_string() || sub->get_string().empty() || exp == nullptr)
      return out.err = error::bad_claims, out;
    const auto exp_s = detail::seconds_of(*exp);
    if (!exp_s) return out.err = error::bad_claims, out;
    out.c.exp = *exp_s;
    if (const auto* nbf = body->if_contains("nbf"); nbf != nullptr) {
      const auto s = detail::seconds_of(*nbf);
      if (!s) return out.err = error::bad_claims, out;
      out.c.nbf = *s;
    }
    if (const auto* iat = body->if_contains("iat"); iat != nullptr) {
      const auto s = detail::seconds_of(*iat);
      if (!s) return out.err = error::bad_claims, out;
      out.c.iat = *s;
    }
    if (const auto* jti = body->if_contains("jti"); jti != nullptr) {
      if (!jti->is_string() || jti->get_string().size() > 128) return out.err = error::bad_claims, out;
      out.c.jti = std::string(jti->get_string());
    }
    if (const auto* fam = body->if_contains("fam"); fam != nullptr) {
      if (!fam->is_string() || fam->get_string().size() > 128) return out.err = error::bad_claims, out;
      out.c.fam = std::string(fam->get_string());
    }
    if (const auto* amr = body->if_contains("amr"); amr != nullptr) {
      if (!amr->is_array() || amr->get_array().size() > max_amr) return out.err = error::bad_claims, out;
      for (const auto& m : amr->get_array()) {
        if (!m.is_string() || m.get_string().empty() || m.get_string().size() > 16)
          return out.err = error::bad_claims, out;
        out.c.amr.emplace_back(m.get_string());
      }
    }
    if (now - leeway >= out.c.exp) return out.err = error::expired, out;
    if (out.c.nbf != 0 && now + leeway < out.c.nbf) return out.err = error::not_yet_valid, out;
    out.c.sub = std::string(sub->get_string());
    out.err = error::none;
    return out;
  }

 private:
  /// HMAC-SHA-256 with a copy of the keyed context (the shared one is only
  /// read, so concurrent calls are safe).
  [[nodiscard]] bool hmac(std::string_view data, std::array<unsigned char, 32>& out) const noexcept {
    EVP_MAC_CTX* c = EVP_MAC_CTX_dup(ctx_);
    if (c == nullptr) return false;
    std::size_t len = 0;
    const bool ok = EVP_MAC_update(c, reinterpret_cast<const unsigned char*>(data.data()),  // NOLINT
                                   data.size()) == 1 &&
                    EVP_MAC_final(c, out.data(), &len, out.size()) == 1 && len == out.size();
    EVP_MAC_CTX_free(c);
    return ok;
  }

  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace mfakit_examples::jwt
