// Unit tests of the demo server's small audited pieces: the HS256 JWT check
// (jwt.hpp), log escaping (log.hpp), password hash strings (passwords.hpp)
// and the wiping JSON body (json_body.hpp).
#include <catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "json_body.hpp"
#include "jwt.hpp"
#include "log.hpp"
#include "passwords.hpp"

namespace jwt = mfakit_examples::jwt;

namespace {

constexpr std::string_view secret = "unit-test-secret-0123456789abcdef";
constexpr std::int64_t now = 1'800'000'000;

std::string b64url(std::string_view s) {
  std::string out;
  jwt::detail::append_base64url(out, reinterpret_cast<const unsigned char*>(s.data()), s.size());  // NOLINT
  return out;
}

/// A token as any HS256 (or other HMAC) issuer would build it.
std::string make(std::string_view header, std::string_view payload, std::string_view key = secret,
                 const EVP_MD* md = EVP_sha256()) {
  std::string signing = b64url(header) + "." + b64url(payload);
  std::array<unsigned char, 64> mac{};
  unsigned len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(signing.data()),  // NOLINT
       signing.size(), mac.data(), &len);
  return signing + "." + b64url(std::string_view(reinterpret_cast<const char*>(mac.data()), len));  // NOLINT
}

const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
const std::string claims = R"({"sub":"ann@example.com","exp":1800000600,"iat":1800000000})";

jwt::error verify(const std::string& token, std::int64_t at = now) {
  const jwt::hs256 key(mfakit::as_bytes(secret));
  return key.verify(token, at).err;
}

}  // namespace

TEST_CASE("jwt: sign and verify round trip") {
  const jwt::hs256 key(mfakit::as_bytes(secret));
  const std::string t = key.sign({"ann@example.com", "abc", now, now, now + 3600, {}, {}}, "Issuer");
  auto v = key.verify(t, now + 10);
  REQUIRE(v);
  CHECK(v.c.sub == "ann@example.com");
  CHECK(v.c.jti == "abc");
  CHECK(v.c.exp == now + 3600);
  CHECK(t.rfind("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 0) == 0);
  CHECK(verify(make(hs256, claims)) == jwt::error::none);  // a token from another issuer with the secret
  CHECK(verify(make(R"({"typ":"JWT","alg":"HS256","kid":"k1"})", claims)) == jwt::error::none);
}

TEST_CASE("jwt: only HS256") {
  CHECK(verify(b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims) + ".") == jwt::error::malformed);
  const std::string none_sig = make(R"({"alg":"none"})", claims);
  CHECK(verify(none_sig) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"alg":"HS512","typ":"JWT"})", claims, secret, EVP_sha512())) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"alg":"RS256","typ":"JWT"})", claims)) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"alg":"hs256"})", claims)) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"alg":["HS256"]})", claims)) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"typ":"JWT"})", claims)) == jwt::error::unsupported_alg);
  CHECK(verify(make(R"({"alg":"HS256","crit":["b64"]})", claims)) == jwt::error::bad_header);
  CHECK(verify(make(R"({"alg":"HS256","typ":"JOSE+JSON"})", claims)) == jwt::error::bad_header);
  CHECK(verify(make(R"(["alg","HS256"])", claims)) == jwt::error::bad_header);
}

TEST_CASE("jwt: signature") {
  const std::string good = make(hs256, claims);
  CHECK(verify(make(hs256, claims, "another-secret-0123456789abcdef0123")) == jwt::error::bad_signature);
  std::string flipped = good;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  CHECK(verify(flipped) == jwt::error::bad_signature);
  // claims changed, signature kept
  const auto dot1 = good.find('.');
  const auto dot2 = good.find('.', dot1 + 1);
  const std::string swapped =
      good.substr(0, dot1 + 1) + b64url(R"({"sub":"eve@example.com","exp":1800000600})") + good.substr(dot2);
  CHECK(verify(swapped) == jwt::error::bad_signature);
  CHECK(verify(good.substr(0, good.size() - 1)) != jwt::error::none);  // truncated signature
  CHECK(verify(good + "A") != jwt::error::none);
  CHECK(verify(good + "=") == jwt::error::malformed);  // padding is not base64url
  CHECK(verify(good + ".x") == jwt::error::malformed);
  CHECK(verify(good.substr(0, dot2)) == jwt::error::malformed);
  CHECK(verify("") == jwt::error::malformed);
  CHECK(verify("..") == jwt::error::malformed);
  CHECK(verify(std::string(5000, 'a')) == jwt::error::malformed);
}

TEST_CASE("jwt: claims and time") {
  CHECK(verify(make(hs256, claims), 1'800'000'599) == jwt::error::none);
  CHECK(verify(make(hs256, claims), 1'800'000'600) == jwt::error::expired);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":1800000600,"nbf":1800000100})")) == jwt::error::not_yet_valid);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":1800000600,"nbf":1800000000})")) == jwt::error::none);
  CHECK(verify(make(hs256, R"({"sub":"a"})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":"1800000600"})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":1e300})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"exp":1800000600})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":"","exp":1800000600})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":7,"exp":1800000600})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":1800000600,"jti":5})")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, "not json")) == jwt::error::bad_claims);
  CHECK(verify(make(hs256, R"({"sub":"a","exp":9223372036854775807})")) == jwt::error::none);
}

TEST_CASE("jwt: short keys are refused") {
  CHECK_THROWS(jwt::hs256(mfakit::as_bytes("31 bytes 31 bytes 31 bytes 31 ")));
  CHECK_NOTHROW(jwt::hs256(mfakit::as_bytes("32 bytes 32 bytes 32 bytes 32 by")));
}

TEST_CASE("jwt: strict base64url") {
  std::string out;
  CHECK(jwt::detail::decode_base64url("YQ", out));
  CHECK(out == "a");
  CHECK_FALSE(jwt::detail::decode_base64url("YR", out));  // stray bits
  CHECK_FALSE(jwt::detail::decode_base64url("Y", out));
  CHECK_FALSE(jwt::detail::decode_base64url("YQ==", out));
  CHECK_FALSE(jwt::detail::decode_base64url("Y+", out));
  CHECK(jwt::detail::decode_base64url("-_8", out));
  CHECK(out == "\xfb\xff");
}

TEST_CASE("log lines: client-controlled text cannot break or forge a line") {
  using mfakit_examples::log_escape;
  CHECK(log_escape("ann@example.com") == "ann@example.com");
  CHECK(log_escape("a\nb") == "a\\x0ab");
  CHECK(log_escape("x audit event=enabled") == "x\\x20audit\\x20event\\x3denabled");
  CHECK(log_escape("\r\t\x1b[31m\"\\") == "\\x0d\\x09\\x1b[31m\\x22\\x5c");
  CHECK(log_escape("\xc3\xa9") == "\\xc3\\xa9");
  CHECK(log_escape(std::string(300, 'a'), 10) == "aaaaaaaaaa...");
}

TEST_CASE("password hashes") {
  const mfakit::scrypt_params cost{1U << 10, 8, 1};
  auto h = mfakit_examples::hash_password("pw", cost);
  REQUIRE(h);
  CHECK(h->rfind("scrypt$10$8$1$", 0) == 0);
  CHECK(mfakit_examples::check_password(*h, "pw"));
  CHECK_FALSE(mfakit_examples::check_password(*h, "pW"));
  CHECK(mfakit_examples::hash_uses(*h, cost));
  auto again = mfakit_examples::hash_password("pw", cost);
  REQUIRE(again);
  CHECK(*again != *h);  // a fresh salt
  CHECK_FALSE(mfakit_examples::check_password("scrypt$30$8$1$00$00", "pw"));  // cost out of range
  CHECK_FALSE(mfakit_examples::check_password("scrypt$10$8$1$zz", "pw"));
  CHECK_FALSE(mfakit_examples::check_password("", "pw"));
  std::string tampered = *h;
  tampered[5] = '9';  // N 2^10 -> 2^90: refused, not run
  CHECK_FALSE(mfakit_examples::check_password(tampered, "pw"));
}

TEST_CASE("json body: fields, and anything else reads as {}") {
  const mfakit_examples::json_body b(R"({"email":"a@b","password":"p\"w","n":5})");
  CHECK(b.is_object());
  CHECK(b.field("email") == "a@b");
  CHECK(b.field("password") == "p\"w");
  CHECK(b.field("n").empty());
  CHECK(b.field("missing").empty());
  CHECK_FALSE(mfakit_examples::json_body("not json").is_object());
  CHECK_FALSE(mfakit_examples::json_body("[1]").is_object());
  CHECK_FALSE(mfakit_examples::json_body("").is_object());
  const std::string big = R"({"code":")" + std::string(10000, 'x') + R"("})";  // spills past the inline buffer
  CHECK(mfakit_examples::json_body(big).field("code").size() == 10000);
}
