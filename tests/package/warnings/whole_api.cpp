// Compiled by mfakit_warnings_* (tests/package/CMakeLists.txt) the way a host
// with strict flags builds it: mfakit's headers on a plain -I path (not
// SYSTEM, so their warnings are the host's), -O2 -Wall -Wextra -Werror, with
// g++ and clang++. It uses the whole API, so the optimiser's warnings
// (-Warray-bounds, -Wstringop-overflow...) see every inlined path a host can
// reach: both services on the reference store, every call, the primitives,
// the loaders and the conformance suite.
#include <mfakit/mfakit.hpp>
#include <mfakit/testing/archetypes.hpp>
#include <mfakit/testing/async_adapter.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

template class mfakit::service<mfakit::memory_store>;
template class mfakit::service<mfakit::memory_store, mfakit::testing::manual_clock>;
template class mfakit::async_service<mfakit::testing::awaitable_adapter<mfakit::memory_store>>;
template class mfakit::testing::async_driven_service<mfakit::memory_store, mfakit::testing::manual_clock>;

int whole_api(int argc, char** argv) {
  int score = 0;
  // keys and the box
  auto from_file = mfakit::sealing_key_from_file(argc > 1 ? argv[1] : "/nonexistent");
  auto from_hex = mfakit::sealing_key_from_hex(argc > 2 ? argv[2] : "");
  auto from_b64 = mfakit::sealing_key_from_base64(argc > 3 ? argv[3] : "");
  const std::vector<unsigned char> raw(32, static_cast<unsigned char>(argc));
  auto from_bytes = mfakit::sealing_key_from_bytes(raw);
  score += from_file ? 1 : 0;
  score += from_hex ? 1 : 0;
  score += from_b64 ? 1 : 0;
  if (!from_bytes) return 1;
  auto box = mfakit::secret_box::aes_256_gcm(1, {*from_bytes, mfakit::sealing_key(2, raw)});
  if (!box) return 2;

  // the flow through the synchronous service
  mfakit::memory_store store;
  mfakit::flow_config cfg(std::move(*box));
  cfg.issuer = "Whole API";
  mfakit::service svc(store, std::move(cfg));
  const std::string user = argc > 4 ? argv[4] : "alice";
  auto s = svc.setup(user, user + "@example.com");
  if (s) {
    auto code = mfakit::totp(s->key.bytes(), 1'700'000'000);
    score += code ? static_cast<int>(code->to_string().size()) : 0;
    std::puts(mfakit::http::setup_body(*s, "data:image/png;base64,").c_str());
    auto uri = mfakit::parse_key_uri(s->otpauth_uri);
    if (uri) {
      std::puts(mfakit::to_string(*uri).c_str());
      score += static_cast<int>(mfakit::lint(*uri).size());
    }
    std::puts(mfakit::base32_encode(s->key.bytes()).c_str());
  }
  auto e = svc.enable(user, "123456");
  if (e) std::puts(mfakit::http::enable_body(*e).c_str());
  auto b = svc.begin_login(user);
  if (b) {
    std::puts(mfakit::http::challenge_body(*b).c_str());
    auto l = svc.complete_login(b->token, "123456");
    score += l ? 1 : 0;
    if (!l) std::puts(mfakit::http::error_body(l.error()).c_str());
  } else {
    score += mfakit::http::status_of(mfakit::http::endpoint::login, b.error());
  }
  auto v = svc.verify(user, "abcd-efgh", mfakit::factor::backup_code);
  score += v ? 1 : mfakit::http::status_of(mfakit::http::endpoint::verify, v.error());
  auto st = svc.status(user);
  if (st) std::puts(mfakit::http::status_body(*st).c_str());
  auto r = svc.regenerate_backup_codes(user);
  if (r) std::puts(mfakit::http::regenerate_body(*r).c_str());
  score += svc.reseal(user) ? 1 : 0;
  score += svc.reset_throttle(user) ? 1 : 0;
  score += svc.disable(user) ? 1 : 0;
  score += mfakit::http::parse_factor(argc > 5 ? argv[5] : "totp") ? 1 : 0;

  // keys, records and codes by hand
  auto ck = mfakit::challenge_key(user);
  if (ck) std::puts(ck->c_str());
  std::puts(mfakit::account_key(user).c_str());
  auto codes = mfakit::generate_backup_codes();
  if (codes) {
    const auto hasher = mfakit::backup_code_hasher::unsafe_without_pepper(mfakit::scrypt_params{1024, 8, 1});
    auto d = hasher.digest(*codes);
    if (d) {
      auto m = hasher.match(*d, (*codes)[0].str());
      score += m ? static_cast<int>(*m) : 0;
      mfakit::account_record rec;
      rec.status = mfakit::account_status::enabled;
      rec.sealed_secret = std::string(45, 'x');
      rec.backup = *d;
      auto back = mfakit::decode_account(mfakit::encode(rec));
      score += back ? 1 : 0;
    }
  }
  score += mfakit::self_test() ? 1 : 0;

  // the conformance suite, which runs both loops
  mfakit::memory_store other;
  auto report = mfakit::testing::run_store_conformance(other);
  score += static_cast<int>(report.failures.size());
  return score;
}

int main(int argc, char** argv) { return whole_api(argc, argv) == 12345 ? 1 : 0; }
