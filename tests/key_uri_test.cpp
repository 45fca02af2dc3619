// otpauth:// key URIs (key_uri.hpp): building, parsing, the label policy and
// lint warnings.
#include <mfakit/key_uri.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::algorithm;
using mfakit::errc;
using mfakit::key_uri;
using mfakit::otp_type;

constexpr std::string_view secret_b32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";  // "12345678901234567890"

mfakit::secret test_secret() {
  auto s = mfakit::secret::from_bytes(mfakit_test::ascii("12345678901234567890"));
  REQUIRE(s);
  return std::move(*s);
}

key_uri make_uri(std::string issuer, std::string account) {
  key_uri k;
  k.issuer = std::move(issuer);
  k.account = std::move(account);
  k.key = test_secret();
  return k;
}

mfakit::result<key_uri> parse(std::string_view s) { return mfakit::parse_key_uri(s); }

std::string with_secret(std::string_view prefix_and_label, std::string_view extra = "") {
  return std::string(prefix_and_label) + "?secret=" + std::string(secret_b32) + std::string(extra);
}

bool has_warning(const std::vector<std::string>& w, std::string_view word) {
  for (const auto& s : w)
    if (s.find(word) != std::string::npos) return true;
  return false;
}

}  // namespace

// --- building ----------------------------------------------------------------------------

TEST_CASE("to_string: golden strings", "[key_uri]") {
  SECTION("issuer and account, defaults omitted") {
    const key_uri k = make_uri("Example", "alice@google.com");
    CHECK(mfakit::to_string(k) ==
          "otpauth://totp/Example:alice%40google.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example");
  }
  SECTION("no issuer") {
    const key_uri k = make_uri("", "alice");
    CHECK(mfakit::to_string(k) == "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  }
  SECTION("non-default algorithm, digits and period") {
    key_uri k = make_uri("ACME Co", "john.doe@email.com");
    k.alg = algorithm::sha512;
    k.digits = 8;
    k.period = 60;
    CHECK(mfakit::to_string(k) ==
          "otpauth://totp/ACME%20Co:john.doe%40email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
          "&issuer=ACME%20Co&algorithm=SHA512&digits=8&period=60");
  }
  SECTION("hotp writes the counter (also 0) and never the period") {
    key_uri k = make_uri("", "Alice Smith");
    k.type = otp_type::hotp;
    k.period = 60;
    CHECK(mfakit::to_string(k) == "otpauth://hotp/Alice%20Smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0");
    k.counter = 18446744073709551615ULL;
    CHECK(mfakit::to_string(k) ==
          "otpauth://hotp/Alice%20Smith?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=18446744073709551615");
  }
  SECTION("a ':' inside a part is %3A, the separator is literal") {
    const key_uri k = make_uri("a:b", "c:d");
    CHECK(mfakit::to_string(k) == "otpauth://totp/a%3Ab:c%3Ad?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a%3Ab");
  }
  SECTION("only unreserved characters stay literal") {
    const key_uri k = make_uri("", "AZaz09-._~ +&=?/#%");
    CHECK(mfakit::to_string(k) ==
          "otpauth://totp/AZaz09-._~%20%2B%26%3D%3F%2F%23%25?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  }
}

// --- round trips ---------------------------------------------------------------------------

TEST_CASE("build then parse round-trips issuer and account", "[key_uri]") {
  struct row {
    std::string_view issuer;
    std::string_view account;
  };
  const auto r = GENERATE(
      row{"Example", "alice@google.com"}, row{"ACME Co", "john doe"}, row{"a:b", "c:d"}, row{"x", "user:with:colons"},
      row{"100%", "50% off"}, row{"A&B", "k=v&x=y"}, row{"What?", "why?/how#"}, row{"Slash/Corp", "a/b/c"},
      row{"Zürich AG", "jürgen@bücher.de"}, row{"日本", "ユーザー"}, row{"A+B", "a+b@x.y"}, row{"%3A", "%3A"},
      row{"Example", "trailing "}, row{"", "alice"}, row{"", "alice@example.com"}, row{"", "a b+c&d=e?f/g%h"});
  INFO("issuer [" << std::string(r.issuer) << "] account [" << std::string(r.account) << "]");
  const key_uri k = make_uri(std::string(r.issuer), std::string(r.account));
  const std::string s = mfakit::to_string(k);
  INFO("uri " << s);
  auto p = parse(s);
  REQUIRE(p);
  CHECK(p->issuer == r.issuer);
  CHECK(p->account == r.account);
  CHECK(p->key == k.key);
  CHECK(p->type == otp_type::totp);
  CHECK(p->alg == algorithm::sha1);
  CHECK(p->digits == 6);
  CHECK(p->period == 30);
  CHECK(mfakit::to_string(*p) == s);
}

TEST_CASE("build then parse round-trips type, algorithm, digits, period, counter", "[key_uri]") {
  const algorithm alg = GENERATE(algorithm::sha1, algorithm::sha256, algorithm::sha512);
  const int digits = GENERATE(6, 7, 8);
  const otp_type type = GENERATE(otp_type::totp, otp_type::hotp);
  key_uri k = make_uri("Issuer", "acct");
  k.type = type;
  k.alg = alg;
  k.digits = digits;
  if (type == otp_type::totp) {
    k.period = 45;
  } else {
    k.counter = 1ULL << 40U;
  }
  const std::string s = mfakit::to_string(k);
  INFO("uri " << s);
  auto p = parse(s);
  REQUIRE(p);
  CHECK(p->type == type);
  CHECK(p->alg == alg);
  CHECK(p->digits == digits);
  if (type == otp_type::totp) {
    CHECK(p->period == 45);
  } else {
    CHECK(p->counter == (1ULL << 40U));
    CHECK(p->period == 30);
  }
  CHECK(mfakit::to_string(*p) == s);
}

// --- the label policy ----------------------------------------------------------------------

TEST_CASE("label: the separator is the first literal ':', else the first %3A", "[key_uri][label]") {
  struct row {
    std::string_view label;
    std::string_view issuer;
    std::string_view account;
  };
  const auto r =
      GENERATE(row{"Example:alice", "Example", "alice"}, row{"Example%3Aalice", "Example", "alice"},
               row{"Example%3aalice", "Example", "alice"}, row{"a%3Ab:c", "a:b", "c"}, row{"a:b%3Ac", "a", "b:c"},
               row{"a:b:c", "a", "b:c"}, row{"a%3Ab%3Ac", "a", "b:c"}, row{"Example: alice", "Example", "alice"},
               row{"Example:%20%20alice", "Example", "alice"}, row{"Example%3A alice", "Example", "alice"},
               row{"alice", "", "alice"}, row{"%20alice", "", "alice"}, row{"A%20B:c%20d", "A B", "c d"},
               row{"Example:alice ", "Example", "alice "});
  INFO("label " << std::string(r.label));
  auto p = parse(with_secret("otpauth://totp/" + std::string(r.label)));
  REQUIRE(p);
  CHECK(p->issuer == r.issuer);
  CHECK(p->account == r.account);
}

TEST_CASE("label: issuer parameter and prefix", "[key_uri][label]") {
  SECTION("parameter only: the parameter is the issuer") {
    auto p = parse(with_secret("otpauth://totp/alice", "&issuer=Example"));
    REQUIRE(p);
    CHECK(p->issuer == "Example");
    CHECK(p->account == "alice");
  }
  SECTION("prefix only: the prefix is the issuer") {
    auto p = parse(with_secret("otpauth://totp/Example:alice"));
    REQUIRE(p);
    CHECK(p->issuer == "Example");
  }
  SECTION("both, agreeing (after decoding)") {
    auto p = parse(with_secret("otpauth://totp/ACME%20Co:alice", "&issuer=ACME%20Co"));
    REQUIRE(p);
    CHECK(p->issuer == "ACME Co");
  }
  SECTION("both, disagreeing: rejected") {
    const std::string_view extra =
        GENERATE(as<std::string_view>{}, "&issuer=Other", "&issuer=example", "&issuer=Example%20", "&issuer=Exampl");
    INFO("extra " << std::string(extra));
    auto p = parse(with_secret("otpauth://totp/Example:alice", extra));
    REQUIRE_FALSE(p);
    CHECK(p.error() == errc::invalid_uri);
  }
  SECTION("'+' is not a space: prefix 'A B' and parameter 'A+B' disagree") {
    CHECK(parse(with_secret("otpauth://totp/A%20B:alice", "&issuer=A+B")).error() == errc::invalid_uri);
    auto p = parse(with_secret("otpauth://totp/A+B:alice", "&issuer=A+B"));
    REQUIRE(p);
    CHECK(p->issuer == "A+B");
  }
  SECTION("an empty issuer parameter is rejected") {
    CHECK(parse(with_secret("otpauth://totp/alice", "&issuer=")).error() == errc::invalid_uri);
  }
}

TEST_CASE("label: rejected forms", "[key_uri][label]") {
  const std::string_view label =
      GENERATE(as<std::string_view>{}, "", ":alice", "%3Aalice", "Example:", "Example:   ", "Example%3A", "%20",
               "Example:al%0Aice", "Ex%00ample:alice", "Example:alice%7F", "Example:ali%", "Example:ali%4",
               "Example:ali%GG", "Example:ali%4G", "Ex%ample:alice");
  INFO("label [" << std::string(label) << "]");
  auto p = parse(with_secret("otpauth://totp/" + std::string(label)));
  REQUIRE_FALSE(p);
  CHECK(p.error() == errc::invalid_uri);
}

TEST_CASE("label: text an app would show misleadingly is rejected", "[key_uri][label][text]") {
  const std::string_view label = GENERATE(as<std::string_view>{},
                                          "Example:al%FFice",            // not UTF-8
                                          "Example:al%80ice",            // a lone continuation byte
                                          "Example:alice%C3",            // cut short
                                          "Example:al%C3%28ice",         // a bad continuation byte
                                          "Example:%C0%AFalice",         // overlong '/'
                                          "Example:%E0%80%AFalice",      // overlong '/', 3 bytes
                                          "Example:%ED%A0%80alice",      // a surrogate
                                          "Example:%F4%90%80%80alice",   // past U+10FFFF
                                          "Example:%F8%88%80%80%80",     // 5-byte form
                                          "Example:ali\xff\xfe" "ce",     // raw bytes that are not UTF-8
                                          "Example:%C2%85alice",         // U+0085, C1
                                          "Example:alice%C2%9F",         // U+009F, C1
                                          "Example:a%E2%80%A8b",         // U+2028 line separator
                                          "Example:a%E2%80%A9b",         // U+2029 paragraph separator
                                          "Example:%D8%9Calice",         // U+061C arabic letter mark
                                          "Example:a%E2%80%8Eb",         // U+200E LRM
                                          "Example:a%E2%80%8Fb",         // U+200F RLM
                                          "Example:a%E2%80%AAb",         // U+202A LRE
                                          "Example:a%E2%80%ABb",         // U+202B RLE
                                          "Example:a%E2%80%ACb",         // U+202C PDF
                                          "Example:a%E2%80%ADb",         // U+202D LRO
                                          "Example:moc.elgoog%E2%80%AE",  // U+202E RLO
                                          "Example:a\xe2\x80\xae" "b",   // U+202E, raw
                                          "Example:a%E2%81%A6b",         // U+2066 LRI
                                          "Example:a%E2%81%A7b",         // U+2067 RLI
                                          "Example:a%E2%81%A8b",         // U+2068 FSI
                                          "Example:a%E2%81%A9b",         // U+2069 PDI
                                          "Ex%E2%80%AEample:alice",      // in the issuer prefix
                                          "Ex%FFample:alice",            // in the issuer prefix
                                          "Example:ali#ce",              // a raw '#' starts a fragment
                                          "Example#:alice", "Example:alice#");
  INFO("label [" << std::string(label) << "]");
  auto p = parse(with_secret("otpauth://totp/" + std::string(label)));
  REQUIRE_FALSE(p);
  CHECK(p.error() == errc::invalid_uri);
}

TEST_CASE("the issuer parameter and the query: same text rules, no raw '#'", "[key_uri][params][text]") {
  const std::string_view extra =
      GENERATE(as<std::string_view>{}, "&issuer=%FF", "&issuer=A%E2%80%AEB", "&issuer=A%C2%80", "&issuer=%E2%81%A6A",
               "&issuer=A#B", "#", "#fragment", "&image=x#y");
  INFO("extra " << std::string(extra));
  auto p = parse(with_secret("otpauth://totp/alice", extra));
  REQUIRE_FALSE(p);
  CHECK(p.error() == errc::invalid_uri);
}

TEST_CASE("label: other Unicode is accepted (right-to-left letters, joiners, emoji)", "[key_uri][label][text]") {
  struct row {
    std::string_view label;
    std::string_view account;
  };
  const auto r = GENERATE(row{"Example:%D7%A9%D7%9C%D7%95%D7%9D", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"},  // Hebrew
                          row{"Example:%F0%9F%94%91", "\xf0\x9f\x94\x91"},                           // U+1F511
                          row{"Example:a%E2%80%8Db", "a\xe2\x80\x8d" "b"},                            // U+200D ZWJ
                          row{"Example:%C2%A0x", "\xc2\xa0x"},                                         // U+00A0
                          row{"Example:%EF%BF%BD", "\xef\xbf\xbd"},                                   // U+FFFD
                          row{"Example:%F4%8F%BF%BF", "\xf4\x8f\xbf\xbf"},                           // U+10FFFF
                          row{"Example:j%C3%BCrgen", "j\xc3\xbcrgen"});
  INFO("label [" << std::string(r.label) << "]");
  auto p = parse(with_secret("otpauth://totp/" + std::string(r.label)));
  REQUIRE(p);
  CHECK(p->account == r.account);
}

TEST_CASE("label policy consequences that do not round-trip (documented behaviour)", "[key_uri][label]") {
  SECTION("no issuer and a ':' in the account: the %3A fallback splits it") {
    // The builder writes "a%3Ab" (no literal ':' since there is no issuer); the
    // parser, finding no literal ':', splits at %3A. Hosts that allow ':' in
    // account names should always set an issuer.
    const key_uri k = make_uri("", "a:b");
    const std::string s = mfakit::to_string(k);
    CHECK(s == with_secret("otpauth://totp/a%3Ab"));
    auto p = parse(s);
    REQUIRE(p);
    CHECK(p->issuer == "a");
    CHECK(p->account == "b");
    // with an issuer it round-trips
    auto q = parse(mfakit::to_string(make_uri("I", "a:b")));
    REQUIRE(q);
    CHECK(q->issuer == "I");
    CHECK(q->account == "a:b");
  }
  SECTION("leading spaces of the account are dropped") {
    auto p = parse(mfakit::to_string(make_uri("I", "  bob")));
    REQUIRE(p);
    CHECK(p->account == "bob");
  }
  SECTION("an empty account builds a URI that does not parse") {
    CHECK(parse(mfakit::to_string(make_uri("I", ""))).error() == errc::invalid_uri);
  }
}

// --- parameters ------------------------------------------------------------------------------

TEST_CASE("parameters: algorithm", "[key_uri][params]") {
  struct row {
    std::string_view value;
    algorithm alg;
  };
  const auto r =
      GENERATE(row{"SHA1", algorithm::sha1}, row{"SHA256", algorithm::sha256}, row{"SHA512", algorithm::sha512},
               row{"sha256", algorithm::sha256}, row{"Sha512", algorithm::sha512});
  auto p = parse(with_secret("otpauth://totp/a", "&algorithm=" + std::string(r.value)));
  REQUIRE(p);
  CHECK(p->alg == r.alg);
  const std::string_view bad = GENERATE(as<std::string_view>{}, "MD5", "SHA-256", "SHA384", "", "SHA1 ");
  INFO("algorithm=" << std::string(bad));
  CHECK(parse(with_secret("otpauth://totp/a", "&algorithm=" + std::string(bad))).error() ==
        errc::unsupported_algorithm);
}

TEST_CASE("parameters: digits, period, counter ranges", "[key_uri][params]") {
  SECTION("digits") {
    CHECK(parse(with_secret("otpauth://totp/a", "&digits=6"))->digits == 6);
    CHECK(parse(with_secret("otpauth://totp/a", "&digits=7"))->digits == 7);
    CHECK(parse(with_secret("otpauth://totp/a", "&digits=8"))->digits == 8);
    const std::string_view bad = GENERATE(as<std::string_view>{}, "5", "9", "0", "-6", "+6", "6 ", " 6", "6x", "",
                                          "six", "99999999999999999999");
    INFO("digits=" << std::string(bad));
    CHECK(parse(with_secret("otpauth://totp/a", "&digits=" + std::string(bad))).error() == errc::invalid_uri);
  }
  SECTION("period") {
    CHECK(parse(with_secret("otpauth://totp/a", "&period=1"))->period == 1);
    CHECK(parse(with_secret("otpauth://totp/a", "&period=60"))->period == 60);
    CHECK(parse(with_secret("otpauth://totp/a", "&period=9223372036854775807"))->period == 9223372036854775807LL);
    const std::string_view bad =
        GENERATE(as<std::string_view>{}, "0", "-30", "30s", "", "9223372036854775808", "1e3", "0x1E");
    INFO("period=" << std::string(bad));
    CHECK(parse(with_secret("otpauth://totp/a", "&period=" + std::string(bad))).error() == errc::invalid_uri);
  }
  SECTION("counter") {
    CHECK(parse(with_secret("otpauth://hotp/a", "&counter=0"))->counter == 0);
    CHECK(parse(with_secret("otpauth://hotp/a", "&counter=18446744073709551615"))->counter == 18446744073709551615ULL);
    const std::string_view bad =
        GENERATE(as<std::string_view>{}, "-1", "", "18446744073709551616", "1.5", "one", "99999999999999999999999");
    INFO("counter=" << std::string(bad));
    CHECK(parse(with_secret("otpauth://hotp/a", "&counter=" + std::string(bad))).error() == errc::invalid_uri);
  }
}

TEST_CASE("hotp requires a counter, totp accepts and ignores one", "[key_uri][params]") {
  CHECK(parse(with_secret("otpauth://hotp/a")).error() == errc::invalid_uri);
  auto h = parse(with_secret("otpauth://hotp/a", "&counter=7"));
  REQUIRE(h);
  CHECK(h->type == otp_type::hotp);
  CHECK(h->counter == 7);
  auto t = parse(with_secret("otpauth://totp/a", "&counter=7"));
  REQUIRE(t);
  CHECK(t->type == otp_type::totp);
  CHECK(mfakit::to_string(*t).find("counter") == std::string::npos);
}

TEST_CASE("a repeated known parameter is rejected", "[key_uri][params]") {
  const std::string_view extra =
      GENERATE(as<std::string_view>{}, "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "&issuer=I&issuer=I",
               "&algorithm=SHA1&algorithm=SHA1", "&digits=6&digits=6", "&period=30&period=30", "&counter=1&counter=1");
  INFO("extra " << std::string(extra));
  auto p = parse(with_secret("otpauth://totp/a", extra));
  REQUIRE_FALSE(p);
  CHECK(p.error() == errc::invalid_uri);
}

TEST_CASE("unknown parameters are ignored, also repeated, empty pairs skipped", "[key_uri][params]") {
  auto p = parse(with_secret("otpauth://totp/Example:alice",
                             "&image=https%3A%2F%2Fexample.com%2Flogo.png&foo=1&foo=2&&Secret=XYZ&&issuer=Example&"));
  REQUIRE(p);
  CHECK(p->issuer == "Example");
  CHECK(p->account == "alice");
  CHECK(p->key == test_secret());
}

TEST_CASE("malformed query", "[key_uri][params]") {
  SECTION("a pair without '=' is rejected") {
    CHECK(parse(with_secret("otpauth://totp/a", "&flag")).error() == errc::invalid_uri);
  }
  SECTION("bad percent escapes in a value") {
    const std::string_view v = GENERATE(as<std::string_view>{}, "%", "%4", "%GG", "x%zz", "%%41");
    INFO("issuer=" << std::string(v));
    CHECK(parse(with_secret("otpauth://totp/a", "&issuer=" + std::string(v))).error() == errc::invalid_uri);
  }
  SECTION("control characters in the issuer parameter") {
    CHECK(parse(with_secret("otpauth://totp/a", "&issuer=A%0AB")).error() == errc::invalid_uri);
  }
}

TEST_CASE("the secret parameter", "[key_uri][secret]") {
  SECTION("missing") {
    CHECK(parse("otpauth://totp/Example:alice?issuer=Example").error() == errc::invalid_uri);
    CHECK(parse("otpauth://totp/Example:alice").error() == errc::invalid_uri);
  }
  SECTION("empty or too short is invalid_secret") {
    CHECK(parse("otpauth://totp/a?secret=").error() == errc::invalid_secret);
    CHECK(parse("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBV").error() == errc::invalid_secret);  // 15 bytes
  }
  SECTION("not base32 is invalid_base32") {
    CHECK(parse("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1").error() == errc::invalid_base32);
    CHECK(parse("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQ=GEZDGNBVGY3TQOJQ").error() == errc::invalid_base32);
  }
  SECTION("lower case, padding, %20 spaces and %3D padding are accepted") {
    const std::string_view v = GENERATE(as<std::string_view>{}, "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
                                        "GEZD%20GNBV%20GY3T%20QOJQ%20GEZDGNBVGY3TQOJQ");
    auto p = parse("otpauth://totp/a?secret=" + std::string(v));
    REQUIRE(p);
    CHECK(p->key == test_secret());
  }
  SECTION("padded secret") {
    // 16 bytes: 26 characters + 6 padding
    std::vector<unsigned char> raw(16, 0x42);
    const std::string b32 = mfakit::base32_encode(raw);
    REQUIRE(b32.size() == 26);
    auto p = parse("otpauth://totp/a?secret=" + b32 + "%3D%3D%3D%3D%3D%3D");
    REQUIRE(p);
    CHECK(p->key.size() == 16);
    auto q = parse("otpauth://totp/a?secret=" + b32 + "======");
    REQUIRE(q);
    CHECK(q->key.size() == 16);
  }
}

TEST_CASE("the Key URI wiki example has an 80-bit secret and is rejected (policy: >= 128 bits)", "[key_uri][secret]") {
  // google-authenticator wiki "Key Uri Format": JBSWY3DPEHPK3PXP is 10 bytes.
  // RFC 4226 section 4 R6 says the secret MUST be at least 128 bits, so
  // secret::from_base32 refuses it, and with it the whole URI.
  auto p = parse("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
  REQUIRE_FALSE(p);
  CHECK(p.error() == errc::invalid_secret);
  // the same URI with a 160-bit secret parses
  auto q = parse("otpauth://totp/Example:alice@google.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example");
  REQUIRE(q);
  CHECK(q->issuer == "Example");
  CHECK(q->account == "alice@google.com");
}

TEST_CASE("scheme and type", "[key_uri]") {
  SECTION("case-insensitive") {
    const std::string_view prefix =
        GENERATE(as<std::string_view>{}, "otpauth://totp/", "OTPAUTH://TOTP/", "OtpAuth://Totp/");
    auto p = parse(with_secret(std::string(prefix) + "a"));
    REQUIRE(p);
    CHECK(p->type == otp_type::totp);
    auto h = parse(with_secret("OTPAUTH://HOTP/a", "&counter=1"));
    REQUIRE(h);
    CHECK(h->type == otp_type::hotp);
  }
  SECTION("rejected") {
    const std::string_view bad =
        GENERATE(as<std::string_view>{}, "", "otpauth:", "otpauth://", "otpauth://totp", "http://totp/a",
                 "otpauth:/totp/a", "otpauth:totp/a", " otpauth://totp/a", "otpauth://motp/a", "otpauth://totpx/a",
                 "otpauth:///a", "otpauth://tot/a", "otpauth://steam/a");
    INFO("uri [" << std::string(bad) << "]");
    const std::string uri =
        std::string(bad) +
        (bad.find('/', 10) != std::string_view::npos ? "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" : "");
    auto p = parse(uri);
    REQUIRE_FALSE(p);
    CHECK(p.error() == errc::invalid_uri);
  }
  SECTION("longer than 4096 characters") {
    const std::string long_label(4096, 'a');
    CHECK(parse(with_secret("otpauth://totp/" + long_label)).error() == errc::invalid_uri);
    const std::string ok_label(4000, 'a');
    CHECK(parse(with_secret("otpauth://totp/" + ok_label)).has_value());
  }
}

// --- lint ---------------------------------------------------------------------------------

TEST_CASE("lint: defaults with an issuer and a 160-bit secret give no warning", "[key_uri][lint]") {
  CHECK(mfakit::lint(make_uri("Example", "alice")).empty());
}

TEST_CASE("lint: one warning per setting apps are known to ignore", "[key_uri][lint]") {
  SECTION("algorithm") {
    key_uri k = make_uri("Example", "alice");
    k.alg = algorithm::sha256;
    const auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "SHA1"));
  }
  SECTION("digits") {
    key_uri k = make_uri("Example", "alice");
    k.digits = 8;
    const auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "digits"));
  }
  SECTION("period") {
    key_uri k = make_uri("Example", "alice");
    k.period = 60;
    const auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "period"));
  }
  SECTION("no issuer") {
    const auto w = mfakit::lint(make_uri("", "alice"));
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "issuer"));
  }
  SECTION("hotp (and its period is not looked at)") {
    key_uri k = make_uri("Example", "alice");
    k.type = otp_type::hotp;
    k.period = 60;
    const auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "hotp"));
  }
  SECTION("secret shorter than 160 bits") {
    key_uri k = make_uri("Example", "alice");
    k.key = std::move(*mfakit::secret::from_bytes(mfakit_test::ascii("1234567890123456")));
    const auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "160"));
  }
  SECTION("all at once") {
    key_uri k = make_uri("", "alice");
    k.alg = algorithm::sha512;
    k.digits = 7;
    k.period = 15;
    CHECK(mfakit::lint(k).size() == 4);
  }
  SECTION("text apps would show misleadingly, in the issuer or the account") {
    const std::string_view bad = GENERATE(as<std::string_view>{}, "a\x1b[31mb", "a\xe2\x80\xae" "b", "\xff", "a\nb",
                                          "\xc2\x85", "a\xe2\x81\xa6");
    key_uri k = make_uri("Example", std::string(bad));
    auto w = mfakit::lint(k);
    CHECK(w.size() == 1);
    CHECK(has_warning(w, "misleading"));
    k = make_uri(std::string(bad), "alice");
    w = mfakit::lint(k);
    CHECK(has_warning(w, "misleading"));
  }
  SECTION("warnings never contain the secret") {
    key_uri k = make_uri("", "alice");
    k.alg = algorithm::sha512;
    for (const auto& w : mfakit::lint(k)) {
      CHECK(w.find(std::string(secret_b32.substr(0, 8))) == std::string::npos);
      CHECK(w.find("1234567890") == std::string::npos);
    }
  }
}
