// The HTTP face (http.hpp) against ../shared/spec/flows.md: the status of
// every error on every endpoint, the same public message for every rejected
// code, the JSON bodies exactly as the API documents them (parsed back with
// a small strict JSON reader), json_string escaping and parse_factor. The
// errors are also produced for real by the service, so the mapping is
// checked on what the endpoints actually return.
#include <mfakit/http.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"
#include "loop.hpp"

using mfakit::errc;
using mfakit::factor;
using mfakit::http::endpoint;

namespace {

// --- a small strict JSON reader (RFC 8259), enough to read the bodies back --------

struct json {
  enum class kind { null, boolean, number, string, array, object } k = kind::null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<json> items;        // array elements, or object values
  std::vector<std::string> keys;  // object keys, in order, one per item
  [[nodiscard]] const json* get(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return &items[i];
    return nullptr;
  }
  static json of(bool v) {
    json j;
    j.k = kind::boolean;
    j.b = v;
    return j;
  }
  static json of(std::string v) {
    json j;
    j.k = kind::string;
    j.str = std::move(v);
    return j;
  }
};

class json_reader {
 public:
  explicit json_reader(std::string_view in) : in_(in) {}
  /// The value, or nothing if the text is not exactly one JSON value.
  std::optional<json> document() {
    auto v = value();
    ws();
    if (!v || pos_ != in_.size()) return std::nullopt;
    return v;
  }

 private:
  void ws() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t'))
      ++pos_;
  }
  bool eat(char c) {
    ws();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  std::optional<json> value() {
    ws();
    if (pos_ >= in_.size()) return std::nullopt;
    const char c = in_[pos_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') {
      auto s = string();
      if (!s) return std::nullopt;
      return json::of(std::move(*s));
    }
    if (literal("true")) return json::of(true);
    if (literal("false")) return json::of(false);
    if (literal("null")) return json{};
    return number();
  }
  std::optional<json> number() {
    const std::size_t start = pos_;
    if (pos_ < in_.size() && in_[pos_] == '-') ++pos_;
    if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return std::nullopt;
    if (in_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    }
    // the bodies hold only integers
    json j;
    j.k = json::kind::number;
    j.num = std::stod(std::string(in_.substr(start, pos_ - start)));
    return j;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;  // raw control characters are not JSON
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) return std::nullopt;
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
          if (pos_ + 4 > in_.size()) return std::nullopt;
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = in_[pos_++];
            cp <<= 4U;
            if (h >= '0' && h <= '9')
              cp |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f')
              cp |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
              cp |= static_cast<unsigned>(h - 'A' + 10);
            else
              return std::nullopt;
          }
          if (cp >= 0x80) return std::nullopt;  // not needed here
          out.push_back(static_cast<char>(cp));
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<json> array() {
    eat('[');
    json a;
    a.k = json::kind::array;
    if (eat(']')) return a;
    do {
      auto v = value();
      if (!v) return std::nullopt;
      a.items.push_back(std::move(*v));
    } while (eat(','));
    if (!eat(']')) return std::nullopt;
    return a;
  }
  std::optional<json> object() {
    eat('{');
    json o;
    o.k = json::kind::object;
    if (eat('}')) return o;
    do {
      ws();
      auto k = string();
      if (!k || !eat(':')) return std::nullopt;
      auto v = value();
      if (!v) return std::nullopt;
      if (o.get(*k) != nullptr) return std::nullopt;  // duplicate keys: refuse
      o.keys.push_back(std::move(*k));
      o.items.push_back(std::move(*v));
    } while (eat(','));
    if (!eat('}')) return std::nullopt;
    return o;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

json parse(std::string_view text) {
  auto j = json_reader(text).document();
  if (!j) FAIL("not valid JSON: " << text);
  return std::move(*j);
}

std::vector<std::string> keys_of(const json& j) {
  REQUIRE(j.k == json::kind::object);
  return j.keys;
}

std::string text(const json* j) {
  REQUIRE(j != nullptr);
  REQUIRE(j->k == json::kind::string);
  return j->str;
}

const std::vector<endpoint> all_endpoints{endpoint::setup,   endpoint::enable,     endpoint::login, endpoint::verify,
                                          endpoint::disable, endpoint::regenerate, endpoint::status};

std::vector<errc> all_errors() {
  std::vector<errc> v;
  for (int i = static_cast<int>(errc::malformed_code); i <= static_cast<int>(errc::webauthn_counter_regressed); ++i)
    v.push_back(static_cast<errc>(i));
  return v;
}

/// flows.md, restated: what each error means to a client on each endpoint.
int documented_status(endpoint ep, errc e) {
  switch (e) {
    // 400: the request is incomplete or does not fit the state
    case errc::missing_code:   // enable and verify: "code missing"
    case errc::missing_token:  // verify: "mfaToken missing"
    case errc::invalid_argument:
    case errc::not_pending:
      return 400;  // enable before setup
    // regenerate: "400: MFA is not enabled"; on verify the challenge no longer counts
    case errc::not_enabled: return ep == endpoint::verify ? 401 : 400;
    case errc::already_enabled:
      return 409;  // setup and enable
    // enable: "422: the code is wrong"; verify: "401 ... or a wrong code"
    case errc::malformed_code:
    case errc::code_mismatch:
    case errc::code_replayed: return ep == endpoint::enable ? 422 : 401;
    case errc::challenge_invalid: return 401;  // "unknown or expired challenge"
    case errc::challenge_exhausted:            // "429: too many failed attempts"
    case errc::throttled:
    case errc::locked: return 429;
    case errc::storage_conflict:
    case errc::storage_failure:
      return 503;  // try again
    // the server's own state or environment: nothing the client can fix
    case errc::invalid_base32:
    case errc::invalid_secret:
    case errc::invalid_uri:
    case errc::unsupported_algorithm:
    case errc::random_failure:
    case errc::crypto_failure:
    case errc::malformed_record:
    case errc::seal_failure: return 500;
    // passkeys: every refusal reads the same (a registration's like a wrong code at enable)
    case errc::webauthn_malformed:
    case errc::webauthn_rejected:
    case errc::webauthn_unsupported:
    case errc::webauthn_counter_regressed: return ep == endpoint::enable ? 422 : 401;
  }
  return -1;
}

std::string body_key_order(const json& j) { return fmt::format("{}", fmt::join(keys_of(j), ",")); }

// --- the service, for producing real errors ---------------------------------------

using svc_t = test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock>;

struct world {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::optional<svc_t> svc;

  explicit world(mfakit::throttle_policy policy = mfakit::throttle_policy::nist()) {
    std::array<unsigned char, 32> k{};
    k.fill(3);
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, k)}).value());
    cfg.issuer = "Storno";
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.throttle = policy;
    svc.emplace(store, std::move(cfg), clock);
  }
  std::string code(const mfakit::secret& key, std::int64_t steps = 0) const {
    return mfakit::totp(key.bytes(), clock.unix_time() + 30 * steps)->to_string();
  }
};

template <class T>
int status(endpoint ep, const mfakit::result<T>& r) {
  return mfakit::http::status_of(ep, r.error());
}

}  // namespace

TEST_CASE("status_of: every error on every endpoint, as flows.md documents", "[http]") {
  std::size_t pairs = 0;
  for (endpoint ep : all_endpoints) {
    CHECK(mfakit::http::status_of(ep, {}) == 200);
    for (errc e : all_errors()) {
      INFO("endpoint " << static_cast<int>(ep) << ", error " << mfakit::make_error_code(e).message());
      CHECK(mfakit::http::status_of(ep, e) == documented_status(ep, e));
      ++pairs;
    }
    // a host's own error reaching the mapping: the service is unavailable, not the client's fault
    const int foreign = mfakit::http::status_of(ep, std::make_error_code(std::errc::io_error));
    CHECK(foreign >= 500);
    CHECK(foreign <= 599);
  }
  CHECK(pairs == all_endpoints.size() * (static_cast<std::size_t>(errc::webauthn_counter_regressed)));
}

TEST_CASE("the endpoints' real errors map to the documented statuses", "[http]") {
  world w;
  const std::string u = "u1";
  // setup, enable
  CHECK(status(endpoint::enable, w.svc->enable(u, "123456")) == 400);  // before setup
  auto s = w.svc->setup(u, "u1@example.com");
  REQUIRE(s);
  CHECK(status(endpoint::setup, s) == 200);
  CHECK(status(endpoint::enable, w.svc->enable(u, "")) == 400);        // code missing
  CHECK(status(endpoint::enable, w.svc->enable(u, " \t")) == 400);     // blank is missing
  CHECK(status(endpoint::enable, w.svc->enable(u, "12a456")) == 422);  // malformed reads as wrong
  std::string wrong = w.code(s->key, 40);
  for (std::int64_t d = -1; d <= 1; ++d)
    if (wrong == w.code(s->key, d)) wrong = "000000";
  CHECK(status(endpoint::enable, w.svc->enable(u, wrong)) == 422);
  CHECK(status(endpoint::enable, w.svc->enable(u, w.code(s->key))) == 429);  // throttled after the failure
  w.clock.advance(1);
  auto e = w.svc->enable(u, w.code(s->key));
  REQUIRE(e);
  CHECK(status(endpoint::enable, e) == 200);
  CHECK(status(endpoint::enable, w.svc->enable(u, w.code(s->key))) == 409);
  CHECK(status(endpoint::setup, w.svc->setup(u, "u1@example.com")) == 409);

  // verify
  auto c = w.svc->begin_login(u);
  REQUIRE(c);
  CHECK(status(endpoint::verify, w.svc->complete_login("", "123456")) == 400);
  CHECK(status(endpoint::verify, w.svc->complete_login(c->token, "")) == 400);
  CHECK(status(endpoint::verify, w.svc->complete_login(std::string(64, 'a'), "123456")) == 401);  // unknown
  CHECK(status(endpoint::verify, w.svc->complete_login("not-a-token", "123456")) == 401);
  auto replayed = w.svc->complete_login(c->token, w.code(s->key));  // the code that enabled: spent
  CHECK(replayed.error() == errc::code_replayed);
  CHECK(status(endpoint::verify, replayed) == 401);
  CHECK(status(endpoint::verify, w.svc->complete_login(c->token, w.code(s->key))) == 429);  // throttled
  w.clock.advance(2);
  w.clock.advance(300);
  CHECK(status(endpoint::verify, w.svc->complete_login(c->token, w.code(s->key))) == 401);  // expired

  // exhausted: five wrong codes on one challenge (no throttle, to isolate the rule)
  world x(mfakit::throttle_policy::unsafe_none());
  auto xs = x.svc->setup(u, "u1@example.com");
  REQUIRE(xs);
  REQUIRE(x.svc->enable(u, x.code(xs->key)));
  x.clock.advance(30);
  auto xc = x.svc->begin_login(u);
  REQUIRE(xc);
  for (int i = 0; i < 5; ++i) {
    auto r = x.svc->complete_login(xc->token, "aaaa-aaaa", factor::backup_code);
    CHECK(status(endpoint::verify, r) == 401);
  }
  auto dead = x.svc->complete_login(xc->token, x.code(xs->key));
  CHECK(dead.error() == errc::challenge_exhausted);
  CHECK(status(endpoint::verify, dead) == 429);
  auto ok_login = x.svc->begin_login(u);
  REQUIRE(ok_login);
  CHECK(status(endpoint::verify, x.svc->complete_login(ok_login->token, x.code(xs->key))) == 200);

  // regenerate, disable, status
  CHECK(status(endpoint::regenerate, x.svc->regenerate_backup_codes("nobody")) == 400);
  CHECK(status(endpoint::disable, x.svc->disable("nobody")) == 400);
  CHECK(status(endpoint::regenerate, x.svc->regenerate_backup_codes(u)) == 200);
  CHECK(status(endpoint::status, x.svc->status(u)) == 200);
  CHECK(status(endpoint::disable, x.svc->disable(u)) == 200);
  CHECK(status(endpoint::regenerate, x.svc->regenerate_backup_codes(u)) == 400);
}

TEST_CASE("public messages: one text for every rejected code, nothing internal", "[http]") {
  using mfakit::http::public_message;
  const std::string_view invalid = public_message(errc::code_mismatch);
  CHECK(invalid == "Invalid code");
  CHECK(public_message(errc::code_replayed) == invalid);
  CHECK(public_message(errc::malformed_code) == invalid);
  CHECK(mfakit::http::error_body(errc::code_replayed) == mfakit::http::error_body(errc::code_mismatch));
  CHECK(mfakit::http::error_body(errc::malformed_code) == mfakit::http::error_body(errc::code_mismatch));
  CHECK(public_message({}) == "OK");
  for (errc e : all_errors()) {
    const std::string m(public_message(e));
    INFO(m);
    CHECK_FALSE(m.empty());
    for (std::string_view leak : {"replay", "malformed", "record", "seal", "scrypt", "crypto", "random", "step"})
      CHECK(m.find(leak) == std::string::npos);
    // every other error reads differently from "Invalid code", so a client can act on it
    if (e != errc::code_mismatch && e != errc::code_replayed && e != errc::malformed_code) CHECK(m != invalid);
  }
  CHECK(public_message(errc::storage_failure) == public_message(errc::storage_conflict));
  CHECK(public_message(errc::throttled) != public_message(errc::locked));
  CHECK(public_message(std::make_error_code(std::errc::io_error)) == public_message(errc::storage_failure));
}

TEST_CASE("JSON bodies are exactly the documented ones", "[http]") {
  using namespace mfakit::http;
  CHECK(error_body(errc::code_mismatch) == R"({"error":"Invalid code"})");
  CHECK(error_body(errc::missing_code) == R"({"error":"code is required"})");
  CHECK(disable_body() == R"({"disabled":true})");
  CHECK(status_body({true, false, 8}) == R"({"totpEnabled":true,"backupCodesRemaining":8})");
  CHECK(status_body({false, true, 0}, 2) == R"({"totpEnabled":false,"backupCodesRemaining":0,"passkeysCount":2})");

  std::vector<mfakit::backup_code> codes;
  for (std::string_view c : {"a3km-v7np", "ABCD2345", "zzzz-9999"})
    codes.push_back(mfakit::backup_code::parse(c).value());
  CHECK(enable_body({codes}) == R"({"enabled":true,"backupCodes":["a3km-v7np","abcd-2345","zzzz-9999"]})");
  CHECK(regenerate_body({codes}) == R"({"backupCodes":["a3km-v7np","abcd-2345","zzzz-9999"]})");
  CHECK(enable_body({}) == R"({"enabled":true,"backupCodes":[]})");

  const std::string token(64, 'f');
  CHECK(challenge_body({token, 1}) ==
        fmt::format(R"({{"mfa_required":true,"mfa_token":"{}","mfa_methods":["totp","backup_code"]}})", token));

  // every body is valid JSON with the documented keys, in the documented order
  CHECK(body_key_order(parse(error_body(errc::throttled))) == "error");
  CHECK(body_key_order(parse(disable_body())) == "disabled");
  CHECK(body_key_order(parse(status_body({true, false, 8}, 2))) == "totpEnabled,backupCodesRemaining,passkeysCount");
  CHECK(body_key_order(parse(enable_body({codes}))) == "enabled,backupCodes");
  CHECK(body_key_order(parse(regenerate_body({codes}))) == "backupCodes");
  const json ch = parse(challenge_body({token, 1}));
  CHECK(body_key_order(ch) == "mfa_required,mfa_token,mfa_methods");
  CHECK(text(ch.get("mfa_token")) == token);
  for (errc e : all_errors()) {
    const json j = parse(error_body(e));
    CHECK(text(j.get("error")) == public_message(e));
  }
}

TEST_CASE("bodies built from real results read back to the same values", "[http]") {
  using namespace mfakit::http;
  world w;
  auto s = w.svc->setup("u@x", "Ann O'Neil \"the\" user");
  REQUIRE(s);
  const std::string qr = "data:image/png;base64,iVBORw0KGgo=";
  const json sj = parse(setup_body(*s, qr));
  CHECK(body_key_order(sj) == "secret,qrCode,otpauthUri");
  CHECK(text(sj.get("secret")) == s->key.to_base32());
  CHECK(text(sj.get("qrCode")) == qr);
  const std::string uri = text(sj.get("otpauthUri"));
  CHECK(uri == s->otpauth_uri);
  CHECK(uri.rfind("otpauth://totp/Storno:", 0) == 0);
  CHECK(uri.find("secret=" + s->key.to_base32()) != std::string::npos);
  CHECK(uri.find("issuer=Storno") != std::string::npos);

  auto e = w.svc->enable("u@x", w.code(s->key));
  REQUIRE(e);
  const json ej = parse(enable_body(*e));
  CHECK(ej.get("enabled")->b);
  const auto& arr = ej.get("backupCodes")->items;
  REQUIRE(arr.size() == 10);
  for (std::size_t i = 0; i < arr.size(); ++i) CHECK(arr[i].str == e->backup_codes[i].str());

  auto st = w.svc->status("u@x");
  REQUIRE(st);
  const json stj = parse(status_body(*st, 0));
  CHECK(stj.get("totpEnabled")->b);
  CHECK(stj.get("backupCodesRemaining")->num == 10);
  CHECK(stj.get("passkeysCount")->num == 0);

  auto c = w.svc->begin_login("u@x");
  REQUIRE(c);
  const json cj = parse(challenge_body(*c));
  CHECK(text(cj.get("mfa_token")) == c->token);
  CHECK(c->token.size() == 64);
  const auto& methods = cj.get("mfa_methods")->items;
  REQUIRE(methods.size() == 2);
  CHECK(methods[0].str == "totp");
  CHECK(methods[1].str == "backup_code");
}

TEST_CASE("json_string escapes quotes, backslashes and every control character", "[http]") {
  using mfakit::http::json_string;
  CHECK(json_string("") == R"("")");
  CHECK(json_string("plain") == R"("plain")");
  CHECK(json_string("a\"b") == R"("a\"b")");
  CHECK(json_string("a\\b") == R"("a\\b")");
  CHECK(json_string("\\\"") == R"("\\\"")");
  CHECK(json_string("\n\r\t") == R"("\n\r\t")");
  CHECK(json_string(std::string_view("\0", 1)) == R"("\u0000")");
  CHECK(json_string("\x01\x1f") == R"("\u0001\u001f")");
  CHECK(json_string("\b\f") == R"("\u0008\u000c")");
  CHECK(json_string("\x7f/</script>") == "\"\x7f/</script>\"");
  CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // UTF-8 passes through
  // every ASCII character, alone and in company, reads back as itself
  std::string all;
  for (int c = 0; c < 0x80; ++c) {
    const std::string one(1, static_cast<char>(c));
    const std::string lit = json_string(one);
    const json j = parse(lit);
    CHECK(j.str == one);
    for (char ch : lit) CHECK(static_cast<unsigned char>(ch) >= 0x20);  // nothing raw below 0x20
    all += one;
  }
  CHECK(parse(json_string(all)).str == all);
  CHECK(parse(json_string(all + all)).str == all + all);
}

TEST_CASE("parse_factor: totp by default, backup by name, nothing else", "[http]") {
  using mfakit::http::parse_factor;
  CHECK(parse_factor("").value() == factor::totp);
  CHECK(parse_factor("totp").value() == factor::totp);
  CHECK(parse_factor("backup").value() == factor::backup_code);
  CHECK(parse_factor("backup_code").value() == factor::backup_code);
  using sv = std::string_view;
  for (std::string_view bad : std::initializer_list<sv>{"TOTP", "Backup", "sms", "totp ", " totp", "backup-code",
                                                        "backupcode", "webauthn", std::string_view("totp\0", 5)}) {
    auto r = parse_factor(bad);
    CHECK_FALSE(r);
    CHECK(r.error() == errc::invalid_argument);
    CHECK(mfakit::http::status_of(endpoint::verify, r.error()) == 400);
  }
}
