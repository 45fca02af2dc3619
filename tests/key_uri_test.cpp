// otpauth:// key URIs (key_uri.hpp): building, parsing, the label policy and
// lint warnings.
#include <mfakit/key_uri.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
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
                                          "Example:al%FFice",             // not UTF-8
                                          "Example:al%80ice",             // a lone continuation byte
                                          "Example:alice%C3",             // cut short
                                          "Example:al%C3%28ice",          // a bad continuation byte
                                          "Example:%C0%AFalice",          // overlong '/'
                                          "Example:%E0%80%AFalice",       // overlong '/', 3 bytes
                                          "Example:%ED%A0%80alice",       // a surrogate
                                          "Example:%F4%90%80%80alice",    // past U+10FFFF
                                          "Example:%F8%88%80%80%80",      // 5-byte form
                                          "Example:ali\xff\xfe-ce",       // raw bytes that are not UTF-8
                                          "Example:%C2%85alice",          // U+0085, C1
                                          "Example:alice%C2%9F",          // U+009F, C1
                                          "Example:a%E2%80%A8b",          // U+2028 line separator
                                          "Example:a%E2%80%A9b",          // U+2029 paragraph separator
                                          "Example:%D8%9Calice",          // U+061C arabic letter mark
                                          "Example:a%E2%80%8Eb",          // U+200E LRM
                                          "Example:a%E2%80%8Fb",          // U+200F RLM
                                          "Example:a%E2%80%AAb",          // U+202A LRE
                                          "Example:a%E2%80%ABb",          // U+202B RLE
                                          "Example:a%E2%80%ACb",          // U+202C PDF
                                          "Example:a%E2%80%ADb",          // U+202D LRO
                                          "Example:moc.elgoog%E2%80%AE",  // U+202E RLO
                                          "Example:a\xe2\x80\xae-b",      // U+202E, raw
                                          "Example:a%E2%81%A6b",          // U+2066 LRI
                                          "Example:a%E2%81%A7b",          // U+2067 RLI
                                          "Example:a%E2%81%A8b",          // U+2068 FSI
                                          "Example:a%E2%81%A9b",          // U+2069 PDI
                                          "Ex%E2%80%AEample:alice",       // in the issuer prefix
                                          "Ex%FFample:alice",             // in the issuer prefix
                                          "Example:ali#ce",               // a raw '#' starts a fragment
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
                          row{"Example:%F0%9F%94%91", "\xf0\x9f\x94\x91"},                              // U+1F511
                          row{"Example:a%E2%80%8D-b", "a\xe2\x80\x8d-b"},                               // U+200D ZWJ
                          row{"Example:%C2%A0x", "\xc2\xa0x"},                                          // U+00A0
                          row{"Example:%EF%BF%BD", "\xef\xbf\xbd"},                                     // U+FFFD
                          row{"Example:%F4%8F%BF%BF", "\xf4\x8f\xbf\xbf"},                              // U+10FFFF
                          row{"Example:j%C3%BCrgen", "j\xc3\xbcrgen"});
  INFO("label [" << std::string(r.label) << "]");
  auto p = parse(with_secret("otpauth://totp/" + std::string(r.label)));
  REQUIRE(p);
  CHECK(p->account == r.account);
}

TEST_CASE("to_string refuses what would not parse back as it is (check_key_uri)", "[key_uri][check]") {
  struct row {
    std::string_view what;
    std::string_view issuer;
    std::string_view account;
    errc error;
  };
  const auto r =
      GENERATE(row{"empty account", "I", "", errc::invalid_uri},
               row{"leading spaces (the parser drops them)", "I", "  bob", errc::invalid_uri},
               row{"':' in the account without an issuer (the parser splits there)", "", "a:b", errc::invalid_uri},
               row{"a control character", "I", "a\tb", errc::invalid_uri},
               row{"an ANSI escape", "I", "a\x1b[31mb", errc::invalid_uri}, row{"DEL", "I", "a\x7f", errc::invalid_uri},
               row{"a C1 control", "I", "a\xc2\x85", errc::invalid_uri},
               row{"U+202E in the account", "I", "moc.elgoog\xe2\x80\xae", errc::invalid_uri},
               row{"U+2066 in the issuer", "A\xe2\x81\xa6", "bob", errc::invalid_uri},
               row{"invalid UTF-8 in the issuer", "\xff", "bob", errc::invalid_uri},
               row{"invalid UTF-8 in the account", "I", "b\xc3", errc::invalid_uri},
               row{"a NUL byte", "I", std::string_view("a\0b", 3), errc::invalid_uri});
  INFO(std::string(r.what));
  const key_uri k = make_uri(std::string(r.issuer), std::string(r.account));
  const auto checked = mfakit::check_key_uri(k);
  REQUIRE_FALSE(checked);
  CHECK(checked.error() == r.error);
  try {
    (void)mfakit::to_string(k);
    FAIL("to_string wrote a key check_key_uri refuses");
  } catch (const std::system_error& e) {
    CHECK(e.code() == r.error);
    CHECK(std::string(e.what()).find(std::string(secret_b32.substr(0, 8))) == std::string::npos);
  }
  // with an issuer, a ':' in the account round-trips
  auto q = parse(mfakit::to_string(make_uri("I", "a:b")));
  REQUIRE(q);
  CHECK(q->issuer == "I");
  CHECK(q->account == "a:b");
}

TEST_CASE("check_key_uri: fields outside what parse_key_uri returns", "[key_uri][check]") {
  SECTION("digits, period, type, algorithm, secret") {
    key_uri k = make_uri("I", "a");
    REQUIRE(mfakit::check_key_uri(k));
    k.digits = 5;
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
    k.digits = 9;
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
    k.digits = 8;
    k.period = 0;
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
    CHECK_THROWS_AS(mfakit::to_string(k), std::system_error);
    k.type = otp_type::hotp;  // the period is not written for hotp
    CHECK(mfakit::check_key_uri(k));
    k.type = static_cast<otp_type>(7);
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
    k.type = otp_type::totp;
    k.period = 30;
    k.alg = static_cast<algorithm>(9);
    CHECK(mfakit::check_key_uri(k).error() == errc::unsupported_algorithm);
    k.alg = algorithm::sha1;
    k.key = mfakit::secret{};
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_secret);
    CHECK_THROWS_AS(mfakit::to_string(k), std::system_error);
  }
  SECTION("the length limit is the written length, exactly") {
    key_uri k = make_uri("I", "a");
    const std::size_t base = mfakit::to_string(k).size();
    k.account.assign(1 + mfakit::max_key_uri_size - base, 'a');
    REQUIRE(mfakit::check_key_uri(k));
    const std::string s = mfakit::to_string(k);
    CHECK(s.size() == mfakit::max_key_uri_size);
    CHECK(parse(s).has_value());
    k.account.push_back('b');
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
    k.account.pop_back();
    k.account.back() = ' ';  // %20: two characters more
    CHECK(mfakit::check_key_uri(k).error() == errc::invalid_uri);
  }
  SECTION("parse refuses a URI whose written form would be too long") {
    // 1200 raw two-byte characters as the issuer parameter: 2400 characters
    // read, 2 x 7200 written (label and parameter, each byte as %XX)
    std::string issuer;
    for (int i = 0; i < 1200; ++i) issuer += "\xc3\xa9";
    const std::string uri = with_secret("otpauth://totp/alice", "&issuer=" + issuer);
    REQUIRE(uri.size() <= mfakit::max_key_uri_size);
    CHECK(parse(uri).error() == errc::invalid_uri);
  }
  SECTION("parse keeps only the field the type uses") {
    auto t = parse(with_secret("otpauth://totp/a", "&counter=7&period=60"));
    REQUIRE(t);
    CHECK(t->counter == 0);
    CHECK(t->period == 60);
    auto h = parse(with_secret("otpauth://hotp/a", "&counter=7&period=60"));
    REQUIRE(h);
    CHECK(h->counter == 7);
    CHECK(h->period == 30);
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
    // non-canonical trailing bits: "...GY" is the canonical 16-byte secret, "...GZ" is not
    CHECK(parse("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY").has_value());
    CHECK(parse("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGZ").error() == errc::invalid_base32);
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
    const std::string_view bad =
        GENERATE(as<std::string_view>{}, "a\x1b[31mb", "a\xe2\x80\xae-b", "\xff", "a\nb", "\xc2\x85", "a\xe2\x81\xa6");
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

// --- round-trip properties -----------------------------------------------------------------

namespace {

/// Pieces of labels and parameter values: ordinary text, what URIs escape,
/// and hostile bytes (bidi controls, C0/C1, invalid UTF-8, '#', stray '%').
const std::vector<std::string_view> hostile_pieces{
    "a", "Z", "7", "-", ".", "_", "~", " ", "%20", "@", "%40", "&", "%26", "=", "%3D", "?", "%3F", "/", "+", "%2B",
    "%25", ":", "%3A", "%3a", "\xc3\xa9", "%C3%A9", "\xe6\x97\xa5", "%F0%9F%94%91", "%D7%A9", "%E2%80%8D",
    // hostile
    "%E2%80%AE", "%e2%80%8f", "%E2%81%A6", "%D8%9C", "%E2%80%A8", "%C2%85", "%0A", "%00", "%7F", "\x7f", "\x1b", "%FF",
    "\xff", "%C0%AF", "%ED%A0%80", "%C3", "\xc3", "#", "%23", "%", "%G1", "\xe2\x80\xae"};

std::string random_text(std::mt19937_64& rng, std::size_t max_pieces, std::size_t hostile_one_in) {
  std::string out;
  const std::size_t n = rng() % (max_pieces + 1);
  const std::size_t benign = 30;  // the first pieces above
  for (std::size_t i = 0; i < n; ++i) {
    const bool hostile = rng() % hostile_one_in == 0;
    const std::size_t at = hostile ? benign + rng() % (hostile_pieces.size() - benign) : rng() % benign;
    out += hostile_pieces[at];
  }
  return out;
}

std::string random_key_uri(std::mt19937_64& rng) {
  static const std::vector<std::string_view> prefixes{"otpauth://totp/", "otpauth://hotp/", "OTPAUTH://TOTP/",
                                                      "otpauth://Hotp/"};
  std::string uri(prefixes[rng() % prefixes.size()]);
  const auto label_kind = rng() % 4;
  std::string prefix;
  if (label_kind == 0) {
    uri += random_text(rng, 6, 24);
  } else {
    prefix = random_text(rng, 4, 24);
    uri += prefix;
    uri += label_kind == 1 ? "%3A" : ":";
    uri += random_text(rng, 6, 24);
  }
  std::vector<std::string> params;
  if (rng() % 16 != 0) {
    static const std::vector<std::string_view> secrets{
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
        "GEZD%20GNBV%20GY3TQOJQGEZDGNBVGY3TQOJQ",
        "IFBEGRCFIZDUQSKKJNGE2TSPKBIVEUY",
        "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPIYTEMZUGU3DOOBZGAYTEMZUGU3DOOBZGA",
        "EHPK3PXP",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"};
    params.push_back("secret=" + std::string(secrets[rng() % secrets.size()]));
  }
  if (rng() % 2 == 0)
    params.push_back("issuer=" + (prefix.empty() || rng() % 4 == 0 ? random_text(rng, 5, 24) : prefix));
  if (rng() % 3 == 0) params.push_back(std::string("algorithm=") + (rng() % 2 ? "SHA256" : "sha512"));
  if (rng() % 3 == 0) params.push_back("digits=" + std::to_string(5 + rng() % 4));
  if (rng() % 3 == 0) params.push_back("period=" + std::to_string(static_cast<int>(rng() % 120) - 2));
  if (rng() % 4 != 0) params.push_back("counter=" + std::to_string(rng() >> (rng() % 64)));
  if (rng() % 4 == 0) params.push_back("image=" + random_text(rng, 3, 6));
  if (rng() % 8 == 0) params.emplace_back("");
  std::shuffle(params.begin(), params.end(), rng);
  if (!params.empty() || rng() % 2 == 0) uri += "?";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i != 0) uri += "&";
    uri += params[i];
  }
  return uri;
}

void require_same_key(const key_uri& a, const key_uri& b) {
  REQUIRE(a.type == b.type);
  REQUIRE(a.issuer == b.issuer);
  REQUIRE(a.account == b.account);
  REQUIRE(a.key == b.key);
  REQUIRE(a.alg == b.alg);
  REQUIRE(a.digits == b.digits);
  if (a.type == otp_type::totp) {
    REQUIRE(a.period == b.period);
  } else {
    REQUIRE(a.counter == b.counter);
  }
}

}  // namespace

TEST_CASE("property: whatever parse accepts, to_string writes back and parse reads the same key",
          "[key_uri][property]") {
  std::mt19937_64 rng(0x6b65795f75726931ULL);
  std::size_t accepted = 0;
  std::size_t refused = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string x = random_key_uri(rng);
    INFO("uri [" << x << "]");
    auto p = parse(x);
    if (!p) {
      ++refused;
      continue;
    }
    ++accepted;
    REQUIRE(mfakit::check_key_uri(*p));
    REQUIRE(mfakit::detail::displayable_text(p->issuer));
    REQUIRE(mfakit::detail::displayable_text(p->account));
    const std::string s = mfakit::to_string(*p);
    INFO("written [" << s << "]");
    auto q = parse(s);
    REQUIRE(q);
    require_same_key(*p, *q);
    REQUIRE(q->period == p->period);  // parse keeps the unused field at its default
    REQUIRE(q->counter == p->counter);
    REQUIRE(mfakit::to_string(*q) == s);  // the written form is a fixed point
  }
  INFO("accepted " << accepted << ", refused " << refused);
  CHECK(accepted >= 600);
  CHECK(refused >= 800);
}

TEST_CASE("property: to_string writes only what parse reads back as the same key, and refuses the rest",
          "[key_uri][property]") {
  std::mt19937_64 rng(0x6b65795f75726932ULL);
  std::size_t written = 0;
  std::size_t refused = 0;
  for (int i = 0; i < 4000; ++i) {
    key_uri k;
    // raw (already decoded) text: the pieces taken literally, '%' and all
    k.issuer = rng() % 4 == 0 ? std::string{} : random_text(rng, 5, 10);
    k.account = random_text(rng, 6, 10);
    if (rng() % 64 == 0) k.account = std::string(rng() % 4200, 'x');
    k.type = rng() % 3 == 0 ? otp_type::hotp : otp_type::totp;
    k.alg = static_cast<algorithm>(rng() % 3);
    k.digits = static_cast<int>(5 + rng() % 5);
    k.period = static_cast<std::int64_t>(rng() % 100) - 2;
    k.counter = rng() >> (rng() % 64);
    if (rng() % 32 != 0) {
      std::vector<unsigned char> raw(16 + rng() % 49);
      for (auto& b : raw) b = static_cast<unsigned char>(rng());
      k.key = std::move(*mfakit::secret::from_bytes(raw));
    }
    INFO("issuer [" << k.issuer << "] account [" << k.account << "]");
    const auto checked = mfakit::check_key_uri(k);
    const bool text_ok = mfakit::detail::displayable_text(k.issuer) && mfakit::detail::displayable_text(k.account);
    if (!text_ok) {
      REQUIRE_FALSE(checked);
      bool warned = false;
      for (const auto& w : mfakit::lint(k)) warned = warned || w.find("misleading") != std::string::npos;
      REQUIRE(warned);
    }
    if (!checked) {
      ++refused;
      REQUIRE_THROWS_AS(mfakit::to_string(k), std::system_error);
      continue;
    }
    ++written;
    const std::string s = mfakit::to_string(k);
    INFO("written [" << s << "]");
    REQUIRE(s.size() <= mfakit::max_key_uri_size);
    auto p = parse(s);
    REQUIRE(p);
    require_same_key(k, *p);
    REQUIRE(mfakit::to_string(*p) == s);
  }
  INFO("written " << written << ", refused " << refused);
  CHECK(written >= 1000);
  CHECK(refused >= 800);
}
