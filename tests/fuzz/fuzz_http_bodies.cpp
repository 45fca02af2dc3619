// Fuzzes the HTTP body helpers (http.hpp) with hostile strings: quotes,
// backslashes, control characters, NULs, invalid UTF-8, very long values.
// Every body must be JSON (a strict reader, json_check.hpp) whose fields read
// back exactly as given; a body that carries a secret must fit the buffer it
// reserves up front (no reallocation may leave a copy behind); status_of and
// public_message answer every endpoint and error code, of any category.
#include <mfakit/http.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_check.hpp"
#include "json_check.hpp"

namespace {

using fuzz_json::value;

value parse_body(const std::string& body) {
  value v;
  FUZZ_CHECK(fuzz_json::reader(body).document(v));
  FUZZ_CHECK(v.k == value::kind::object);
  return v;
}

const std::string& string_member(const value& v, std::string_view key) {
  const value* m = v.get(key);
  FUZZ_CHECK(m != nullptr && m->k == value::kind::string);
  return m->text;
}

void check_json_string(const std::string& s) {
  const std::string lit = mfakit::http::json_string(s);
  FUZZ_CHECK(lit.size() <= mfakit::http::detail::json_room(s));
  std::string back;
  FUZZ_CHECK(fuzz_json::reader(lit).string_only(back));
  FUZZ_CHECK(back == s);
}

void check_setup_body(FuzzedDataProvider& in) {
  const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(mfakit::min_secret_bytes, mfakit::max_secret_bytes);
  std::vector<unsigned char> raw = in.ConsumeBytes<unsigned char>(n);
  raw.resize(n, 0x5A);
  auto key = mfakit::secret::from_bytes(mfakit::byte_view(raw));
  FUZZ_CHECK(key.has_value());
  const std::string b32 = key->to_base32();
  const std::string uri = in.ConsumeRandomLengthString(4096);
  const std::string qr = in.ConsumeRandomLengthString(4096);
  const mfakit::setup_result r(std::move(*key), uri);
  const std::string body = mfakit::http::setup_body(r, qr);
  FUZZ_CHECK(body.size() <= 64 + mfakit::http::detail::json_room(b32) + mfakit::http::detail::json_room(qr) +
                                mfakit::http::detail::json_room(uri));
  const value v = parse_body(body);
  FUZZ_CHECK(v.names.size() == 3);
  FUZZ_CHECK(string_member(v, "secret") == b32);
  FUZZ_CHECK(string_member(v, "qrCode") == qr);
  FUZZ_CHECK(string_member(v, "otpauthUri") == uri);
}

std::vector<mfakit::backup_code> some_codes(FuzzedDataProvider& in) {
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, mfakit::max_backup_code_count);
  std::vector<mfakit::backup_code> codes;
  for (std::size_t i = 0; i < count; ++i) {
    std::array<std::uint8_t, 8> idx{};
    for (auto& x : idx) x = in.ConsumeIntegral<std::uint8_t>();
    codes.push_back(mfakit::backup_code::from_indices(idx));
  }
  return codes;
}

void check_codes(const value& v, std::string_view key, const std::vector<mfakit::backup_code>& codes) {
  const value* a = v.get(key);
  FUZZ_CHECK(a != nullptr && a->k == value::kind::array && a->items.size() == codes.size());
  for (std::size_t i = 0; i < codes.size(); ++i) {
    FUZZ_CHECK(a->items[i].k == value::kind::string);
    FUZZ_CHECK(a->items[i].text == codes[i].str());
    FUZZ_CHECK(mfakit::backup_code::parse(a->items[i].text).has_value());
  }
}

std::size_t codes_room(std::string_view head, std::size_t n) {
  return head.size() + 4 + n * (mfakit::http::detail::json_room("xxxx-xxxx") + 1);
}

void check_code_bodies(FuzzedDataProvider& in) {
  auto codes = some_codes(in);
  {
    const mfakit::enable_result r{codes};
    const std::string body = mfakit::http::enable_body(r);
    FUZZ_CHECK(body.size() <= codes_room(R"({"enabled":true,"backupCodes":)", codes.size()));
    const value v = parse_body(body);
    const value* enabled = v.get("enabled");
    FUZZ_CHECK(enabled != nullptr && enabled->k == value::kind::boolean && enabled->b);
    check_codes(v, "backupCodes", codes);
  }
  {
    const mfakit::regenerate_result r{codes};
    const std::string body = mfakit::http::regenerate_body(r);
    FUZZ_CHECK(body.size() <= codes_room(R"({"backupCodes":)", codes.size()));
    check_codes(parse_body(body), "backupCodes", codes);
  }
}

void check_challenge_body(FuzzedDataProvider& in) {
  mfakit::challenge_result r;
  r.token = in.ConsumeRandomLengthString(8192);
  r.expires_at = in.ConsumeIntegral<std::int64_t>();
  const std::string body = mfakit::http::challenge_body(r);
  FUZZ_CHECK(body.size() <= 64 + mfakit::http::detail::json_room(r.token) + 48);
  const value v = parse_body(body);
  const value* req = v.get("mfa_required");
  FUZZ_CHECK(req != nullptr && req->k == value::kind::boolean && req->b);
  FUZZ_CHECK(string_member(v, "mfa_token") == r.token);
  const value* methods = v.get("mfa_methods");
  FUZZ_CHECK(methods != nullptr && methods->k == value::kind::array && methods->items.size() == 2);
  FUZZ_CHECK(methods->items[0].text == "totp" && methods->items[1].text == "backup_code");
}

std::error_code some_error(FuzzedDataProvider& in) {
  const int v = in.ConsumeIntegral<int>();
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return {};
    case 1: return {v, mfakit::error_category()};  // also values no errc names
    case 2: return {v, std::generic_category()};
    default: return {v % 32, mfakit::error_category()};
  }
}

void check_status_and_errors(FuzzedDataProvider& in) {
  const std::error_code ec = some_error(in);
  const value v = parse_body(mfakit::http::error_body(ec));
  FUZZ_CHECK(v.names.size() == 1 && string_member(v, "error") == mfakit::http::public_message(ec));
  FUZZ_CHECK(!mfakit::http::public_message(ec).empty());
  for (int ep = 0; ep <= static_cast<int>(mfakit::http::endpoint::status); ++ep) {
    const int s = mfakit::http::status_of(static_cast<mfakit::http::endpoint>(ep), ec);
    FUZZ_CHECK(s == 200 || s == 400 || s == 401 || s == 409 || s == 422 || s == 429 || s == 500 || s == 503);
    FUZZ_CHECK((s == 200) == !ec);
  }

  mfakit::status_result st;
  st.totp_enabled = in.ConsumeBool();
  st.setup_pending = in.ConsumeBool();
  st.backup_codes_remaining = in.ConsumeIntegral<std::size_t>();
  std::optional<int> passkeys;
  if (in.ConsumeBool()) passkeys = in.ConsumeIntegral<int>();
  st.clock_drift = static_cast<mfakit::drift_direction>(in.ConsumeIntegralInRange<int>(-1, 1));
  const value s = parse_body(mfakit::http::status_body(st, passkeys));
  const value* enabled = s.get("totpEnabled");
  FUZZ_CHECK(enabled != nullptr && enabled->k == value::kind::boolean && enabled->b == st.totp_enabled);
  const value* remaining = s.get("backupCodesRemaining");
  FUZZ_CHECK(remaining != nullptr && remaining->k == value::kind::number &&
             remaining->text == std::to_string(st.backup_codes_remaining));
  const value* pk = s.get("passkeysCount");
  FUZZ_CHECK((pk != nullptr) == passkeys.has_value());
  if (pk != nullptr) FUZZ_CHECK(pk->k == value::kind::number && pk->text == std::to_string(*passkeys));
  const value* drift = s.get("clockDrift");
  FUZZ_CHECK((drift != nullptr) == (st.clock_drift != mfakit::drift_direction::none));
  if (drift != nullptr)
    FUZZ_CHECK(string_member(s, "clockDrift") == (st.clock_drift == mfakit::drift_direction::behind ? "behind" : "ahead"));

  const value d = parse_body(mfakit::http::disable_body());
  FUZZ_CHECK(d.get("disabled") != nullptr && d.get("disabled")->b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: check_json_string(in.ConsumeRemainingBytesAsString()); break;
    case 1: check_setup_body(in); break;
    case 2: check_code_bodies(in); break;
    case 3: check_challenge_body(in); break;
    default: check_status_and_errors(in); break;
  }
  return 0;
}
