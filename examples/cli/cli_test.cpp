// Runs the built `mfakit` binary: every command, the exit statuses 0/1/2,
// bad input (one line on stderr, never the secret), RFC 4226 / RFC 6238
// vectors through the command line.
#include <mfakit/mfakit.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "catch.hpp"
#include "interop/subprocess.hpp"

namespace {

using mfakit_test::lines;
using mfakit_test::run_result;

run_result cli(std::vector<std::string> args, const std::string& input = {}) {
  args.insert(args.begin(), MFAKIT_CLI_PATH);
  return mfakit_test::run(args, input);
}

// RFC 6238 appendix B keys: the ASCII digits repeated to 20, 32 and 64 bytes.
const std::string rfc_sha1 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const std::string rfc_sha256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====";
const std::string rfc_sha512 =
    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=";

struct rfc6238_row {
  std::int64_t time;
  const char* sha1;
  const char* sha256;
  const char* sha512;
};
// RFC 6238 appendix B, 8 digits, 30 s steps.
const rfc6238_row rfc6238[] = {
    {59, "94287082", "46119246", "90693936"},         {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"}, {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"}, {20000000000, "65353130", "77737706", "47863826"},
};
// RFC 4226 appendix D, counters 0..9, SHA-1, 6 digits.
const char* const rfc4226[] = {"755224", "287082", "359152", "969429", "338314",
                               "254676", "287922", "162583", "399871", "520489"};

// A distinctive secret: no error output may ever contain it.
const std::string marker_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

void require_ok(const run_result& r) {
  INFO("stderr: " << r.err);
  REQUIRE(r.spawned);
  REQUIRE(r.exit_code == 0);
}

/// Bad input: status 2, nothing on stdout, exactly one line on stderr that
/// names no secret.
void require_usage_error(const run_result& r, const std::string& secret = marker_secret) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.spawned);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.rfind("mfakit: ", 0) == 0);
  CHECK(r.err.find(secret) == std::string::npos);
}

std::string b32(std::string_view raw) { return mfakit::base32_encode(mfakit::as_bytes(raw)); }

}  // namespace

TEST_CASE("help and version", "[cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}, {"code", "--help"}}) {
    const auto r = cli(args);
    require_ok(r);
    CHECK(r.out.find("usage: mfakit") != std::string::npos);
    for (const char* cmd : {"secret", "code", "hotp", "verify", "uri", "backup-codes"})
      CHECK(r.out.find(cmd) != std::string::npos);
  }
  const auto v = cli({"--version"});
  require_ok(v);
  CHECK(v.out == std::string("mfakit ") + MFAKIT_VERSION_STRING + "\n");
  require_usage_error(cli({}));
}

TEST_CASE("secret prints a new base32 secret of the asked size", "[cli]") {
  std::set<std::string> seen;
  for (const auto& [args, bytes] :
       std::vector<std::pair<std::vector<std::string>, std::size_t>>{{{"secret"}, 20},
                                                                     {{"secret", "--bytes", "16"}, 16},
                                                                     {{"secret", "--bytes=64"}, 64},
                                                                     {{"secret", "--bytes", "33"}, 33}}) {
    const auto r = cli(args);
    require_ok(r);
    const auto out = lines(r.out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == (bytes * 8 + 4) / 5);
    auto raw = mfakit::base32_decode(out[0]);
    REQUIRE(raw);
    CHECK(raw->size() == bytes);
    CHECK(seen.insert(out[0]).second);
  }
  for (const char* bad : {"15", "65", "0", "-1", "abc", "20x", ""})
    require_usage_error(cli({"secret", "--bytes", bad}));
}

TEST_CASE("code reproduces RFC 6238 appendix B", "[cli][rfc]") {
  for (const auto& row : rfc6238) {
    const std::string t = std::to_string(row.time);
    for (const auto& [alg, key, expected] :
         {std::tuple{"sha1", rfc_sha1, row.sha1}, std::tuple{"sha256", rfc_sha256, row.sha256},
          std::tuple{"SHA512", rfc_sha512, row.sha512}}) {
      const auto r = cli({"code", "--secret", key, "--algorithm", alg, "--digits", "8", "--time", t});
      INFO(alg << " at " << t);
      require_ok(r);
      CHECK(r.out == std::string(expected) + "\n");
      // 6 digits are the last 6 of the 8-digit code
      const auto r6 = cli({"code", "--secret=" + key, "--algorithm=" + std::string(alg), "--time=" + t});
      require_ok(r6);
      CHECK(r6.out == std::string(expected).substr(2) + "\n");
    }
  }
}

TEST_CASE("code: period, t0 and the current time", "[cli]") {
  // period 60 at t is the 30 s code at t/2 (same step number)
  auto a = cli({"code", "--secret", rfc_sha1, "--period", "60", "--time", "2000000000", "--digits", "8"});
  auto b = cli({"code", "--secret", rfc_sha1, "--time", "1000000000", "--digits", "8"});
  require_ok(a);
  require_ok(b);
  CHECK(a.out == b.out);
  // t0 shifts the steps: t0 = 30 at 89 is step 1 = RFC time 59
  auto c = cli({"code", "--secret", rfc_sha1, "--t0", "30", "--time", "89", "--digits", "8"});
  require_ok(c);
  CHECK(c.out == "94287082\n");
  // without --time: the code for now (allow a step boundary in between)
  const auto key = mfakit::base32_decode(marker_secret);
  REQUIRE(key);
  const auto before = mfakit::unix_seconds(std::chrono::system_clock::now());
  auto now = cli({"code", "--secret", marker_secret});
  const auto after = mfakit::unix_seconds(std::chrono::system_clock::now());
  require_ok(now);
  std::set<std::string> expected;
  for (auto t : {before, after}) expected.insert(mfakit::totp(*key, t)->to_string() + "\n");
  CHECK(expected.count(now.out) == 1);
}

TEST_CASE("hotp reproduces RFC 4226 appendix D", "[cli][rfc]") {
  for (std::size_t c = 0; c < std::size(rfc4226); ++c) {
    const auto r = cli({"hotp", "--secret", rfc_sha1, "--counter", std::to_string(c)});
    require_ok(r);
    CHECK(r.out == std::string(rfc4226[c]) + "\n");
  }
  // counters beyond 2^32 and the largest one are accepted and match the library
  const auto key = mfakit::base32_decode(rfc_sha1);
  for (std::uint64_t c : {std::uint64_t{1} << 32, (std::uint64_t{1} << 40) + 7, UINT64_MAX}) {
    const auto r =
        cli({"hotp", "--secret", rfc_sha1, "--counter", std::to_string(c), "--digits", "7", "--algorithm", "sha256"});
    require_ok(r);
    CHECK(r.out == mfakit::hotp(*key, c, {mfakit::algorithm::sha256, 7})->to_string() + "\n");
  }
}

TEST_CASE("verify: 0 with the matched step, 1 when rejected, 2 when malformed", "[cli]") {
  const auto& row = rfc6238[3];  // 1234567890 -> step 41152263
  const std::string t = std::to_string(row.time);
  const std::string step = std::to_string(row.time / 30);
  auto ok = cli(
      {"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256, "--time", t});
  require_ok(ok);
  CHECK(ok.out == step + "\n");

  // one step later the same code still matches (window 1 behind), printing the old step
  auto drift = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256,
                    "--time", std::to_string(row.time + 30)});
  require_ok(drift);
  CHECK(drift.out == step + "\n");
  // strict mode rejects it
  auto strict = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256,
                     "--time", std::to_string(row.time + 30), "--window", "0"});
  CHECK(strict.exit_code == 1);
  CHECK(strict.out.empty());
  CHECK(lines(strict.err).size() == 1);
  // two steps away: rejected with window 1, accepted with window 2
  const std::string later = std::to_string(row.time + 60);
  auto far = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256,
                  "--time", later});
  CHECK(far.exit_code == 1);
  auto wide = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256,
                   "--time", later, "--window", "2"});
  require_ok(wide);
  CHECK(wide.out == step + "\n");
  // replay protection
  auto replay = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", row.sha256,
                     "--time", t, "--after-step", step});
  CHECK(replay.exit_code == 1);
  CHECK(replay.err.find("already used") != std::string::npos);
  // a wrong code (the right one plus one, mod 10^8)
  std::string wrong = row.sha256;
  wrong.back() = wrong.back() == '9' ? '0' : static_cast<char>(wrong.back() + 1);
  auto bad =
      cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", wrong, "--time", t});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find(wrong) == std::string::npos);
  // spaces inside a code are fine
  std::string spaced = std::string(row.sha256).substr(0, 4) + " " + std::string(row.sha256).substr(4);
  auto sp =
      cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8", "--code", spaced, "--time", t});
  require_ok(sp);
  // malformed codes are bad input
  for (const char* m : {"1234567", "123456789", "1234567a", "", "-1234567"}) {
    auto r = cli({"verify", "--secret", rfc_sha256, "--algorithm", "sha256", "--digits", "8",
                  "--code=" + std::string(m), "--time", t});
    require_usage_error(r, rfc_sha256);
  }
  // the RFC 6238 table for all algorithms at their exact steps
  for (const auto& rr : rfc6238) {
    for (const auto& [alg, key, code] :
         {std::tuple{"sha1", rfc_sha1, rr.sha1}, std::tuple{"sha256", rfc_sha256, rr.sha256},
          std::tuple{"sha512", rfc_sha512, rr.sha512}}) {
      auto r = cli({"verify", "--secret", key, "--algorithm", alg, "--digits", "8", "--code", code, "--time",
                    std::to_string(rr.time), "--window", "0"});
      require_ok(r);
      CHECK(r.out == std::to_string(rr.time / 30) + "\n");
    }
  }
}

TEST_CASE("secret from stdin with --secret -", "[cli]") {
  auto r = cli({"code", "--secret", "-", "--digits", "8", "--time", "59"}, rfc_sha1 + "\n");
  require_ok(r);
  CHECK(r.out == "94287082\n");
  auto crlf = cli({"hotp", "--secret", "-", "--counter", "0"}, rfc_sha1 + "\r\n");
  require_ok(crlf);
  CHECK(crlf.out == "755224\n");
  require_usage_error(cli({"code", "--secret", "-", "--time", "59"}, ""));
}

TEST_CASE("non-canonical trailing bits: code decodes leniently, uri (an import) refuses", "[cli]") {
  // 16 bytes: "...GY" is canonical, "...GZ" sets an unused bit of the last character
  const std::string canonical = "GEZDGNBVGY3TQOJQGEZDGNBVGY";
  const std::string loose = "GEZDGNBVGY3TQOJQGEZDGNBVGZ";
  auto a = cli({"hotp", "--secret", canonical, "--counter", "3"});
  auto b = cli({"hotp", "--secret", loose, "--counter", "3"});
  require_ok(a);
  require_ok(b);
  CHECK(a.out == b.out);
  require_ok(cli({"uri", "--secret", canonical, "--issuer", "I", "--account", "a"}));
  const auto r = cli({"uri", "--secret", loose, "--issuer", "I", "--account", "a"});
  require_usage_error(r, loose);
  CHECK(r.err.find("base32") != std::string::npos);
}

TEST_CASE("a secret is at most 1024 characters of base32 text", "[cli]") {
  // 1024 characters (640 bytes) is the largest accepted, from argv and from stdin
  const std::string at_limit(1024, 'A');
  const std::string raw_at_limit(640, '\0');
  const std::string expected =
      mfakit::hotp(mfakit::as_bytes(raw_at_limit), 1, {mfakit::algorithm::sha1, 6})->to_string() + "\n";
  auto ok = cli({"hotp", "--secret", at_limit, "--counter", "1"});
  require_ok(ok);
  CHECK(ok.out == expected);
  auto ok_in = cli({"hotp", "--secret", "-", "--counter", "1"}, at_limit + "\r\n");
  require_ok(ok_in);
  CHECK(ok_in.out == expected);
  // one more (spaces count), or a 100,000-character secret: bad input, one
  // line, the secret not echoed, from argv and from stdin
  const std::string marker_run = "JBSWY3DPEHPK3PXP";
  std::string huge;
  while (huge.size() < 100000) huge += marker_run;
  for (const std::string& s : {at_limit + "A", std::string("MZXW 6YTB ") + at_limit, huge}) {
    INFO("length " << s.size());
    for (const auto& args : std::vector<std::vector<std::string>>{{"code", "--secret", s},
                                                                  {"hotp", "--secret", s, "--counter", "1"},
                                                                  {"verify", "--secret", s, "--code", "123456"},
                                                                  {"uri", "--secret", s, "--account", "a"}}) {
      INFO(args[0]);
      const auto r = cli(args);
      require_usage_error(r, marker_run);
      CHECK(r.err == "mfakit: --secret is longer than 1024 characters\n");
    }
    for (const std::string& input : {s + "\n", s}) {
      const auto r = cli({"code", "--secret", "-", "--time", "59"}, input);
      require_usage_error(r, marker_run);
      CHECK(r.err == "mfakit: --secret is longer than 1024 characters\n");
    }
  }
}

TEST_CASE("code/hotp take keys of any non-empty length", "[cli]") {
  for (std::string raw : {std::string("k"), std::string(10, 'x'), std::string(100, 'y'), std::string(200, 'z')}) {
    const std::string key = b32(raw);
    auto r = cli({"hotp", "--secret", key, "--counter", "1", "--algorithm", "sha512"});
    require_ok(r);
    CHECK(r.out == mfakit::hotp(mfakit::as_bytes(raw), 1, {mfakit::algorithm::sha512, 6})->to_string() + "\n");
  }
}

TEST_CASE("uri builds a key URI, lints it, and parses one", "[cli]") {
  auto r = cli({"uri", "--secret", marker_secret, "--issuer", "ACME Co", "--account", "alice@example.com"});
  require_ok(r);
  CHECK(r.out == "otpauth://totp/ACME%20Co:alice%40example.com?secret=" + marker_secret + "&issuer=ACME%20Co\n");
  CHECK(r.err.empty());  // nothing to warn about

  auto w = cli({"uri", "--secret", marker_secret, "--account", "bob", "--algorithm", "sha512", "--digits", "8",
                "--period", "60"});
  require_ok(w);
  CHECK(w.out == "otpauth://totp/bob?secret=" + marker_secret + "&algorithm=SHA512&digits=8&period=60\n");
  const auto warnings = lines(w.err);
  CHECK(warnings.size() == 4);  // algorithm, digits, period, no issuer
  for (const auto& line : warnings) CHECK(line.rfind("warning: ", 0) == 0);

  auto h =
      cli({"uri", "--secret", marker_secret, "--issuer", "X", "--account", "a:b", "--type", "hotp", "--counter", "42"});
  require_ok(h);
  CHECK(h.out == "otpauth://hotp/X:a%3Ab?secret=" + marker_secret + "&issuer=X&counter=42\n");

  // parse what was built
  const std::string uri = lines(w.out).at(0);
  auto p = cli({"uri", "--parse", uri});
  require_ok(p);
  CHECK(lines(p.out) == std::vector<std::string>{"type=totp", "issuer=", "account=bob", "secret=" + marker_secret,
                                                 "algorithm=SHA512", "digits=8", "period=60", "counter=0"});
  auto ph = cli({"uri", "--parse", lines(h.out).at(0)});
  require_ok(ph);
  CHECK(lines(ph.out) == std::vector<std::string>{"type=hotp", "issuer=X", "account=a:b", "secret=" + marker_secret,
                                                  "algorithm=SHA1", "digits=6", "period=30", "counter=42"});
  // lenient input: lower case, padding, spaces in the secret, issuer only as a parameter
  auto pl =
      cli({"uri", "--parse", "otpauth://TOTP/carol?secret=gezd%20gnbvgy3tqojqgezdgnbvgy3tqojq&issuer=Big%20Bank"});
  require_ok(pl);
  CHECK(lines(pl.out).at(1) == "issuer=Big Bank");
  CHECK(lines(pl.out).at(3) == "secret=" + rfc_sha1);

  // bad URIs and bad builds are input errors
  for (const char* bad :
       {"http://totp/a?secret="
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "otpauth://totp/a", "otpauth://totp/a?secret=1", "otpauth://hotp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=9",
        "otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=MD5"})
    require_usage_error(cli({"uri", "--parse", bad}), rfc_sha1);
  require_usage_error(cli({"uri", "--parse", "otpauth://totp/a?secret=" + marker_secret, "--account", "x"}));
  require_usage_error(cli({"uri", "--secret", marker_secret}));  // no account
  require_usage_error(cli({"uri", "--secret", "GEZDGNBVGY3TQOJQ", "--account", "a"}), "GEZDGNBVGY3TQOJQ");  // 10 bytes
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a\tb"}));   // control character
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", " lead"}));  // lost on parsing
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "moc.elgoog\xe2\x80\xae"}));  // U+202E
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a\xff"}));                   // not UTF-8
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a:b"}));  // split without an issuer
  require_usage_error(cli({"uri", "--parse", "otpauth://totp/a%E2%80%AEb?secret=" + rfc_sha1}), rfc_sha1);
  require_usage_error(cli({"uri", "--parse", "otpauth://totp/a%FF?secret=" + rfc_sha1}), rfc_sha1);
  require_usage_error(cli({"uri", "--parse", "otpauth://totp/a#b?secret=" + rfc_sha1}), rfc_sha1);
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a", "--type", "hotp", "--period", "60"}));
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a", "--counter", "1"}));
  require_usage_error(cli({"uri", "--secret", marker_secret, "--account", "a", "--type", "motp"}));
}

TEST_CASE("backup-codes prints codes one per line", "[cli]") {
  for (const auto& [args, count] : std::vector<std::pair<std::vector<std::string>, std::size_t>>{
           {{"backup-codes"}, 10}, {{"backup-codes", "--count", "1"}, 1}, {{"backup-codes", "--count", "64"}, 64}}) {
    auto r = cli(args);
    require_ok(r);
    const auto out = lines(r.out);
    CHECK(out.size() == count);
    std::set<std::string> unique(out.begin(), out.end());
    CHECK(unique.size() == count);
    for (const auto& code : out) {
      auto parsed = mfakit::backup_code::parse(code);
      REQUIRE(parsed);
      CHECK(parsed->str() == code);
    }
  }
  for (const char* bad : {"0", "65", "ten", "-3"}) require_usage_error(cli({"backup-codes", "--count", bad}));
}

TEST_CASE("bad input: one line on stderr, status 2, no secret echoed", "[cli]") {
  const std::string& s = marker_secret;
  const std::vector<std::vector<std::string>> cases{
      {"frobnicate"},
      {s},  // a secret typed where the command goes is not echoed
      {"code"},
      {"code", "--secret"},
      {"code", "--secret", s, "--digits"},
      {"code", "--secret", s, "--bogus", "1"},
      {"code", "--secret", s, "--time", "59", s},  // stray positional argument
      {"code", "--secret", s, "--secret", s},
      {"code", "--secret", s, "--digits", "5"},
      {"code", "--secret", s, "--digits", "9"},
      {"code", "--secret", s, "--digits", "six"},
      {"code", "--secret", s, "--period", "0"},
      {"code", "--secret", s, "--period", "-30"},
      {"code", "--secret", s, "--time", "12.5"},
      {"code", "--secret", s, "--time", "99999999999999999999"},
      {"code", "--secret", s, "--time", "10", "--t0", "20"},
      {"code", "--secret", s, "--algorithm", "md5"},
      {"code", "--secret", s + "1"},   // '1' is not base32
      {"code", "--secret", s + "A"},   // impossible length
      {"code", "--secret", s + "=="},  // wrong padding
      {"code", "--secret", ""},
      {"code", "--secret=", "--time", "1"},
      {"hotp", "--secret", s},
      {"hotp", "--secret", s, "--counter", "-1"},
      {"hotp", "--secret", s, "--counter", "18446744073709551616"},
      {"hotp", "--secret", s, "--counter", "1", "--period", "30"},
      {"verify", "--secret", s},
      {"verify", "--secret", s, "--code", "123456", "--window", "33"},
      {"verify", "--secret", s, "--code", "123456", "--window", "-1"},
      {"verify", "--secret", s, "--code", "123456", "--after-step", "x"},
      {"secret", "--bytes"},
      {"secret", "--secret", s},
      {"backup-codes", "--help=yes"},
      {"uri", "--secret", s + "8", "--account", "a"},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += "[" + a + "] ";
    INFO(joined);
    require_usage_error(cli(args));
  }
}
