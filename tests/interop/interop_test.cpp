// Differential tests: mfakit's HOTP/TOTP codes against two independent
// implementations, oathtool (OATH Toolkit, Debian package) and the npm
// package otpauth (pinned in package-lock.json), on thousands of random
// cases from a fixed seed, plus: mfakit's verify_totp / verify_hotp accept
// each reference code at exactly the step (counter) it belongs to, and key
// URIs pass between mfakit and otpauth in both directions.
//
// A missing reference (oathtool not installed, node or node_modules absent)
// fails these tests: .ci/install-deps installs both.
//
// What each reference can represent, and therefore covers:
//  - otpauth: every algorithm, digits 6-8, any period, times 0..2^40 s, HOTP
//    counters 0..2^53-1. JavaScript numbers are exact only up to 2^53 - 1
//    (otpauth converts the counter with plain arithmetic, and the TOTP time is
//    passed in milliseconds, 2^40 * 1000 < 2^53), so HOTP counters above
//    2^53 - 1 go to oathtool only.
//  - oathtool 2.6: TOTP with SHA1/SHA256/SHA512, digits 6-8, any period,
//    a start time T0 (-S), times 0..2^40 s (--now=@T); HOTP with the full
//    64-bit counter range, but SHA1 only (its --hotp mode has no hash choice).
#include <mfakit/mfakit.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "interop/subprocess.hpp"

#ifndef MFAKIT_INTEROP_DIR
#error "MFAKIT_INTEROP_DIR must name tests/interop (where node_modules lives)"
#endif

namespace {

using mfakit::algorithm;

constexpr std::uint64_t max_safe_integer = (std::uint64_t{1} << 53U) - 1;  // JavaScript's exact-integer limit
constexpr std::int64_t max_time = std::int64_t{1} << 40U;
constexpr std::size_t totp_cases = 1500;
constexpr std::size_t hotp_cases = 1200;
constexpr std::size_t uri_cases = 300;

struct otp_case {
  bool totp = true;
  algorithm alg = algorithm::sha1;
  int digits = 6;
  std::int64_t period = 30;
  std::int64_t t0 = 0;
  std::int64_t time = 0;
  std::uint64_t counter = 0;
  std::vector<unsigned char> key;
  bool base32_key = true;  // how oathtool is given the key (-b or hex)

  [[nodiscard]] mfakit::byte_view key_view() const { return {key.data(), key.size()}; }
  [[nodiscard]] mfakit::totp_params totp_params() const { return {alg, digits, period, t0}; }
  [[nodiscard]] std::uint64_t step() const {
    return static_cast<std::uint64_t>(time - t0) / static_cast<std::uint64_t>(period);
  }
};

std::string hex(mfakit::byte_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(digits[c >> 4U]);
    s.push_back(digits[c & 0xFU]);
  }
  return s;
}

std::string describe(const otp_case& c) {
  std::ostringstream os;
  os << (c.totp ? "totp" : "hotp") << " alg=" << mfakit::to_string(c.alg) << " digits=" << c.digits;
  if (c.totp) {
    os << " period=" << c.period << " t0=" << c.t0 << " time=" << c.time;
  } else {
    os << " counter=" << c.counter;
  }
  os << " key(" << c.key.size() << ")=" << hex(c.key_view());
  return os.str();
}

/// Random cases from a fixed seed: the same cases on every run and machine.
class case_generator {
 public:
  explicit case_generator(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }

  std::vector<unsigned char> key() {
    // Mostly 16..64 bytes (what secrets are); some shorter and longer keys,
    // beyond the 64-byte SHA-1/SHA-256 block where HMAC hashes the key first.
    std::size_t n = 0;
    const auto kind = between(0, 19);
    if (kind == 0) {
      n = between(1, 15);
    } else if (kind == 1) {
      n = between(65, 200);
    } else {
      n = between(16, 64);
    }
    std::vector<unsigned char> k(n);
    for (auto& b : k) b = static_cast<unsigned char>(between(0, 255));
    return k;
  }

  algorithm alg() {
    static constexpr algorithm all[] = {algorithm::sha1, algorithm::sha256, algorithm::sha512};
    return all[between(0, 2)];
  }
  int digits() { return static_cast<int>(between(6, 8)); }
  std::int64_t period() {
    static constexpr std::int64_t common[] = {15, 30, 60, 90};
    static constexpr std::int64_t odd[] = {1, 2, 7, 13, 29, 31, 45, 59, 61, 97, 120, 300, 3599, 3600};
    switch (between(0, 3)) {
      case 0:
      case 1: return common[between(0, std::size(common) - 1)];
      case 2: return odd[between(0, std::size(odd) - 1)];
      default: return static_cast<std::int64_t>(between(1, 3600));
    }
  }
  std::int64_t time(std::int64_t period) {
    const auto u = [&](std::int64_t lo, std::int64_t hi) {
      return static_cast<std::int64_t>(between(static_cast<std::uint64_t>(lo), static_cast<std::uint64_t>(hi)));
    };
    switch (between(0, 6)) {
      case 0: return u(0, 1000);
      case 1: return u(0, (std::int64_t{1} << 31) - 1);
      case 2: {  // around the 32-bit signed and unsigned limits (year 2038 / 2106)
        const std::int64_t edge = between(0, 1) == 0 ? (std::int64_t{1} << 31) : (std::int64_t{1} << 32);
        return edge + u(0, 4 * period) - 2 * period;
      }
      case 3: {  // on a step boundary: last second of a step, first, second
        const std::int64_t k = u(1, max_time / period - 1);
        return k * period + u(-1, 1);
      }
      case 4: return max_time - u(0, 10 * period);
      default: return u(0, max_time);
    }
  }
  std::uint64_t counter(std::uint64_t max) {
    switch (between(0, 6)) {
      case 0: return between(0, 1000);
      case 1: return between(0, 0xFFFFFFFFULL);
      case 2: return (std::uint64_t{1} << 32) - 1000 + between(0, 2000);  // crossing 2^32
      case 3: return max - between(0, 1000);                              // the top of the range
      case 4: return between(0, max);
      case 5: return std::min(max, (std::uint64_t{1} << 53) - 1000 + between(0, 2000));  // around 2^53
      default: return std::min(max, std::uint64_t{1} << between(33, 63)) - between(0, 1);
    }
  }

  otp_case totp_case(bool with_t0) {
    otp_case c;
    c.totp = true;
    c.alg = alg();
    c.digits = digits();
    c.period = period();
    c.time = time(c.period);
    if (with_t0 && between(0, 5) == 0) c.t0 = static_cast<std::int64_t>(between(0, static_cast<std::uint64_t>(c.time)));
    c.key = key();
    c.base32_key = between(0, 1) == 0;
    return c;
  }
  otp_case hotp_case(bool any_alg, std::uint64_t max_counter) {
    otp_case c;
    c.totp = false;
    c.alg = any_alg ? alg() : algorithm::sha1;
    c.digits = digits();
    c.counter = counter(max_counter);
    c.key = key();
    c.base32_key = between(0, 1) == 0;
    return c;
  }

 private:
  std::mt19937_64 rng_;
};

std::string ours(const otp_case& c) {
  auto r = c.totp ? mfakit::totp(c.key_view(), c.time, c.totp_params())
                  : mfakit::hotp(c.key_view(), c.counter, mfakit::hotp_params{c.alg, c.digits});
  return r ? r->to_string() : "error: " + r.error().message();
}

/// Checks that our verifiers accept a reference code where it belongs:
/// TOTP at its own time in strict mode (the step), one period later with one
/// step of drift behind (the same step), and not after that step was used;
/// HOTP at its counter (next counter = counter + 1) and from a few counters
/// earlier with look-ahead. Returns a description of the first failure.
std::string verify_reference(const otp_case& c, const std::string& code) {
  if (c.totp) {
    const auto p = c.totp_params();
    const std::uint64_t s = c.step();
    auto strict = mfakit::verify_totp(c.key_view(), code, c.time, p, {{0, 0}, std::nullopt});
    if (!strict || *strict != s) return "verify_totp strict did not return the step";
    auto drift = mfakit::verify_totp(c.key_view(), code, c.time + c.period, p, {{1, 0}, std::nullopt});
    if (!drift || *drift != s) return "verify_totp one step later (window behind 1) did not return the step";
    auto replay = mfakit::verify_totp(c.key_view(), code, c.time, p, {{0, 0}, s});
    if (replay.error() != mfakit::errc::code_replayed) return "verify_totp did not report the replay";
    return {};
  }
  const mfakit::hotp_params p{c.alg, c.digits};
  if (c.counter == std::numeric_limits<std::uint64_t>::max()) {
    // there is no next counter to return: verify_hotp refuses the counter
    auto r = mfakit::verify_hotp(c.key_view(), code, c.counter, p, 0);
    return r.error() == mfakit::errc::invalid_argument ? std::string{} : "verify_hotp at 2^64-1 not refused";
  }
  auto exact = mfakit::verify_hotp(c.key_view(), code, c.counter, p, 0);
  if (!exact || *exact != c.counter + 1) return "verify_hotp did not return counter + 1";
  const std::uint64_t back = std::min<std::uint64_t>(c.counter, 3);
  // the first counter in [counter - back, counter] with this code (earlier collisions win)
  std::uint64_t first = c.counter;
  for (std::uint64_t k = c.counter - back; k < c.counter; ++k) {
    if (mfakit::hotp(c.key_view(), k, p)->str() == code) {
      first = k;
      break;
    }
  }
  auto ahead = mfakit::verify_hotp(c.key_view(), code, c.counter - back, p, static_cast<std::uint32_t>(back));
  if (!ahead || *ahead != first + 1) return "verify_hotp with look-ahead did not find the counter";
  return {};
}

/// Compares a batch with the reference's answers: counts mismatches and
/// verification failures, reporting the first few.
struct tally {
  std::size_t compared = 0;
  std::size_t mismatches = 0;
  std::size_t verify_failures = 0;
  std::vector<std::string> report;

  void check(const otp_case& c, const std::string& reference) {
    ++compared;
    const std::string mine = ours(c);
    if (mine != reference) {
      ++mismatches;
      if (report.size() < 10)
        report.push_back("mismatch: ours " + mine + " reference " + reference + " for " + describe(c));
      return;
    }
    if (auto why = verify_reference(c, reference); !why.empty()) {
      ++verify_failures;
      if (report.size() < 10) report.push_back(why + ": " + describe(c));
    }
  }
  [[nodiscard]] std::string summary() const {
    std::string s = std::to_string(compared) + " compared, " + std::to_string(mismatches) + " mismatches, " +
                    std::to_string(verify_failures) + " verify failures";
    for (const auto& r : report) s += "\n  " + r;
    return s;
  }
};

// --- otpauth (node) ----------------------------------------------------------------

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (u < 0x20) {
      static constexpr char digits[] = "0123456789abcdef";
      out += "\\u00";
      out.push_back(digits[u >> 4U]);
      out.push_back(digits[u & 0xFU]);
    } else {
      out.push_back(ch);
    }
  }
  return out + "\"";
}

std::string otp_case_json(const otp_case& c) {
  std::ostringstream os;
  os << "{\"op\":\"" << (c.totp ? "totp" : "hotp") << "\",\"secret\":\"" << mfakit::base32_encode(c.key_view())
     << "\",\"algorithm\":\"" << mfakit::to_string(c.alg) << "\",\"digits\":" << c.digits;
  if (c.totp) {
    os << ",\"period\":" << c.period << ",\"time\":" << c.time;
  } else {
    os << ",\"counter\":" << c.counter;
  }
  os << "}";
  return os.str();
}

/// Runs the node script on a JSON array of cases; returns one line per case.
std::vector<std::string> otpauth(const std::vector<std::string>& json_cases) {
  std::string input = "[";
  for (std::size_t i = 0; i < json_cases.size(); ++i) input += (i ? ",\n" : "\n") + json_cases[i];
  input += "\n]\n";
  const auto r = mfakit_test::run({"node", MFAKIT_INTEROP_DIR "/otpauth_reference.cjs"}, input);
  INFO("node exit " << r.exit_code << "; stderr: " << r.err.substr(0, 2000)
                    << "\n(.ci/install-deps installs nodejs and runs npm ci in tests/interop)");
  REQUIRE(r.spawned);
  REQUIRE(r.exit_code == 0);
  auto out = mfakit_test::lines(r.out);
  REQUIRE(!out.empty());
  REQUIRE(out.front().rfind("otpauth ", 0) == 0);
  out.erase(out.begin());
  REQUIRE(out.size() == json_cases.size());
  return out;
}

// --- oathtool ------------------------------------------------------------------------

std::vector<std::string> oathtool_argv(const otp_case& c, bool next_too) {
  std::vector<std::string> a{"oathtool"};
  if (c.totp) {
    a.push_back("--totp=" + std::string(mfakit::to_string(c.alg)));
    a.push_back("--time-step-size=" + std::to_string(c.period) + "s");
    if (c.t0 != 0) a.push_back("--start-time=@" + std::to_string(c.t0));
    a.push_back("--now=@" + std::to_string(c.time));
  } else {
    a.emplace_back("--hotp");
    a.push_back("--counter=" + std::to_string(c.counter));
  }
  a.push_back("--digits=" + std::to_string(c.digits));
  if (next_too) a.emplace_back("--window=1");
  if (c.base32_key) {
    a.emplace_back("--base32");
    a.push_back(mfakit::base32_encode(c.key_view()));
  } else {
    a.push_back(hex(c.key_view()));
  }
  return a;
}

/// The oathtool codes for the case and (when next_too) the following step or
/// counter; an empty vector when oathtool failed.
std::vector<std::string> oathtool(const otp_case& c, bool next_too, std::string& error) {
  const auto r = mfakit_test::run(oathtool_argv(c, next_too));
  if (!r.spawned || r.exit_code != 0) {
    error = "oathtool exit " + std::to_string(r.exit_code) + ": " + r.err.substr(0, 300);
    return {};
  }
  auto out = mfakit_test::lines(r.out);
  if (out.size() != (next_too ? 2U : 1U)) {
    error = "oathtool printed " + std::to_string(out.size()) + " lines";
    return {};
  }
  return out;
}

void check_oathtool_available() {
  const auto r = mfakit_test::run({"oathtool", "--version"});
  INFO("oathtool is missing or broken (.ci/install-deps installs it): " << r.err);
  REQUIRE(r.spawned);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("otpauth: TOTP codes agree (SHA1/256/512, 6-8 digits, periods, times to 2^40)", "[interop][otpauth]") {
  case_generator gen(0x6f7470617574681ULL);
  std::vector<otp_case> cases;
  std::vector<std::string> json;
  for (std::size_t i = 0; i < totp_cases; ++i) {
    cases.push_back(gen.totp_case(false));
    json.push_back(otp_case_json(cases.back()));
  }
  const auto reference = otpauth(json);
  tally t;
  for (std::size_t i = 0; i < cases.size(); ++i) t.check(cases[i], reference[i]);
  INFO(t.summary());
  CHECK(t.compared == totp_cases);
  CHECK(t.mismatches == 0);
  CHECK(t.verify_failures == 0);
}

TEST_CASE("otpauth: HOTP codes agree (counters to 2^53-1)", "[interop][otpauth]") {
  case_generator gen(0x6f7470617574682ULL);
  std::vector<otp_case> cases;
  std::vector<std::string> json;
  std::size_t above_32_bits = 0;
  for (std::size_t i = 0; i < hotp_cases; ++i) {
    cases.push_back(gen.hotp_case(true, max_safe_integer));
    above_32_bits += cases.back().counter > 0xFFFFFFFFULL ? 1U : 0U;
    json.push_back(otp_case_json(cases.back()));
  }
  CHECK(above_32_bits >= hotp_cases / 4);
  const auto reference = otpauth(json);
  tally t;
  for (std::size_t i = 0; i < cases.size(); ++i) t.check(cases[i], reference[i]);
  INFO(t.summary());
  CHECK(t.compared == hotp_cases);
  CHECK(t.mismatches == 0);
  CHECK(t.verify_failures == 0);
}

TEST_CASE("oathtool: TOTP codes agree (SHA1/256/512, 6-8 digits, periods, T0, times to 2^40)", "[interop][oathtool]") {
  check_oathtool_available();
  case_generator gen(0x6f617468746f6f1ULL);
  tally t;
  std::size_t with_t0 = 0;
  std::size_t tool_errors = 0;
  std::string first_error;
  for (std::size_t i = 0; i < totp_cases; ++i) {
    const otp_case c = gen.totp_case(true);
    with_t0 += c.t0 != 0 ? 1U : 0U;
    std::string error;
    const auto codes = oathtool(c, true, error);  // the case's step and the next one
    if (codes.empty()) {
      ++tool_errors;
      if (first_error.empty()) first_error = error + " for " + describe(c);
      continue;
    }
    t.check(c, codes[0]);
    otp_case next = c;
    next.time = c.time + c.period;  // the same code one step later comes from --window=1
    t.check(next, codes[1]);
  }
  INFO(t.summary() << "\noathtool failures: " << tool_errors << " " << first_error);
  CHECK(tool_errors == 0);
  CHECK(t.compared == 2 * totp_cases);
  CHECK(with_t0 > 0);
  CHECK(t.mismatches == 0);
  CHECK(t.verify_failures == 0);
}

TEST_CASE("oathtool: HOTP codes agree (SHA1, the full 64-bit counter range)", "[interop][oathtool]") {
  check_oathtool_available();
  case_generator gen(0x6f617468746f6f2ULL);
  tally t;
  std::size_t above_53_bits = 0;
  std::size_t tool_errors = 0;
  std::string first_error;
  for (std::size_t i = 0; i < hotp_cases; ++i) {
    const otp_case c = gen.hotp_case(false, std::numeric_limits<std::uint64_t>::max());
    above_53_bits += c.counter > max_safe_integer ? 1U : 0U;
    const bool next_too = c.counter != std::numeric_limits<std::uint64_t>::max();
    std::string error;
    const auto codes = oathtool(c, next_too, error);
    if (codes.empty()) {
      ++tool_errors;
      if (first_error.empty()) first_error = error + " for " + describe(c);
      continue;
    }
    t.check(c, codes[0]);
    if (next_too) {
      otp_case next = c;
      ++next.counter;
      t.check(next, codes[1]);
    }
  }
  INFO(t.summary() << "\noathtool failures: " << tool_errors << " " << first_error);
  CHECK(tool_errors == 0);
  CHECK(t.compared >= 2 * hotp_cases - 20);
  CHECK(above_53_bits >= hotp_cases / 5);
  CHECK(t.mismatches == 0);
  CHECK(t.verify_failures == 0);
}

namespace {

/// Text for issuers and accounts: letters, digits, punctuation that URIs
/// must escape, spaces inside, and multi-byte UTF-8. No ':' in issuers
/// (otpauth splits a label at the first ':' or "%3A", ours at the first
/// literal ':', so an encoded ':' inside an issuer is read differently; see
/// key_uri.hpp) and no leading spaces (both parsers drop them).
std::string uri_text(case_generator& gen, bool allow_colon) {
  static const std::vector<std::string> pieces{"a",
                                               "Z",
                                               "7",
                                               "-",
                                               ".",
                                               "_",
                                               "~",
                                               " ",
                                               "@",
                                               "&",
                                               "=",
                                               "?",
                                               "#",
                                               "/",
                                               "+",
                                               "%",
                                               "'",
                                               "(",
                                               "!",
                                               "*",
                                               ",",
                                               ";",
                                               "\xc3\xa9",
                                               "\xe6\x97\xa5\xe6\x9c\xac",
                                               "\xf0\x9f\x94\x91",
                                               ":"};
  std::string s;
  const auto n = gen.between(1, 24);
  while (s.size() < n) {
    const std::string& p = pieces[gen.between(0, pieces.size() - 1)];
    if (p == ":" && !allow_colon) continue;
    if (p == " " && s.empty()) continue;
    s += p;
  }
  return s;
}

std::string unhex(std::string_view h) {
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    s.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return s;
}

}  // namespace

TEST_CASE("otpauth: key URIs pass both ways (otpauth parses ours, we parse otpauth's)", "[interop][otpauth][uri]") {
  case_generator gen(0x6f7470617574683ULL);
  std::vector<mfakit::key_uri> keys;
  std::vector<std::string> json;
  std::vector<std::string> our_uris;
  for (std::size_t i = 0; i < uri_cases; ++i) {
    mfakit::key_uri k;
    k.type = gen.between(0, 3) == 0 ? mfakit::otp_type::hotp : mfakit::otp_type::totp;
    k.issuer = gen.between(0, 4) == 0 ? std::string{} : uri_text(gen, false);
    k.account = uri_text(gen, !k.issuer.empty());
    auto key = gen.key();
    key.resize(std::clamp<std::size_t>(key.size(), mfakit::min_secret_bytes, mfakit::max_secret_bytes), 0x5a);
    k.key = *mfakit::secret::from_bytes(key);
    k.alg = gen.alg();
    k.digits = gen.digits();
    if (k.type == mfakit::otp_type::totp) k.period = gen.period();
    if (k.type == mfakit::otp_type::hotp) k.counter = gen.counter(max_safe_integer);
    our_uris.push_back(mfakit::to_string(k));
    json.push_back("{\"op\":\"parse\",\"uri\":" + json_string(our_uris.back()) + "}");
    std::ostringstream b;
    b << "{\"op\":\"build\",\"type\":\"" << (k.type == mfakit::otp_type::totp ? "totp" : "hotp")
      << "\",\"issuer\":" << json_string(k.issuer) << ",\"label\":" << json_string(k.account) << ",\"secret\":\""
      << k.key.to_base32() << "\",\"algorithm\":\"" << mfakit::to_string(k.alg) << "\",\"digits\":" << k.digits
      << ",\"period\":" << k.period << ",\"counter\":" << k.counter << "}";
    json.push_back(b.str());
    keys.push_back(std::move(k));
  }
  const auto reference = otpauth(json);
  std::size_t parsed_by_them = 0, parsed_by_us = 0;
  std::vector<std::string> report;
  const auto fail = [&](const std::string& what) {
    if (report.size() < 10) report.push_back(what);
  };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const bool totp = k.type == mfakit::otp_type::totp;
    const std::string number = std::to_string(totp ? static_cast<std::uint64_t>(k.period) : k.counter);
    // 1. otpauth read our URI
    std::istringstream fields(reference[2 * i]);
    std::string type, issuer_hex, label_hex, secret, alg, digits, last;
    fields >> type >> issuer_hex >> label_hex >> secret >> alg >> digits >> last;
    if (type == (totp ? "totp" : "hotp") && unhex(issuer_hex.substr(1)) == k.issuer &&
        unhex(label_hex.substr(1)) == k.account && secret == k.key.to_base32() && alg == mfakit::to_string(k.alg) &&
        digits == std::to_string(k.digits) && last == number) {
      ++parsed_by_them;
    } else {
      fail("otpauth read " + our_uris[i] + " as: " + reference[2 * i]);
    }
    // 2. we read otpauth's URI
    const std::string& theirs = reference[2 * i + 1];
    auto p = mfakit::parse_key_uri(theirs);
    if (p && p->type == k.type && p->issuer == k.issuer && p->account == k.account && p->key == k.key &&
        p->alg == k.alg && p->digits == k.digits && (totp ? p->period == k.period : p->counter == k.counter)) {
      ++parsed_by_us;
    } else {
      fail("we read otpauth's " + theirs + (p ? " differently" : " as invalid: " + p.error().message()) +
           " (expected issuer '" + k.issuer + "' account '" + k.account + "')");
    }
  }
  std::string summary;
  for (const auto& r : report) summary += "\n  " + r;
  INFO(summary);
  CHECK(parsed_by_them == uri_cases);
  CHECK(parsed_by_us == uri_cases);
}
