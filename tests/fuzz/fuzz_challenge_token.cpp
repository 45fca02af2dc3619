// Fuzzes the login challenge token check: flow::well_formed_token accepts
// exactly 64 lower-case hex digits; flow::challenge_key(token) is
// "mfakit/challenge/" + the SHA-256 of the token in lower-case hex (checked
// against OpenSSL's digest directly), so a different token is another key;
// and service::complete_login with the token, against a store that holds a
// live challenge, answers missing_token (blank), challenge_invalid (malformed
// or unknown), never a login, and changes nothing.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

bool model_well_formed(std::string_view t) {
  if (t.size() != 64) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string expected_key(std::string_view token) {
  std::array<unsigned char, 32> h{};
  std::size_t len = 0;
  FUZZ_CHECK(EVP_Q_digest(nullptr, "SHA256", nullptr, token.data(), token.size(), h.data(), &len) == 1 && len == 32);
  std::string key = "mfakit/challenge/";
  constexpr std::string_view hex = "0123456789abcdef";
  for (unsigned char b : h) {
    key.push_back(hex[b >> 4U]);
    key.push_back(hex[b & 0xFU]);
  }
  return key;
}

struct world {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::unique_ptr<mfakit::service<mfakit::memory_store, mfakit::testing::manual_clock>> svc;
  std::string live_token;

  world() {
    mfakit::flow_config cfg(mfakit::secret_box::unsafe_plaintext());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.backup_code_count = 1;
    svc = std::make_unique<mfakit::service<mfakit::memory_store, mfakit::testing::manual_clock>>(store, std::move(cfg),
                                                                                                 clock);
    auto s = svc->setup("alice", "alice@example.com");
    FUZZ_CHECK(s.has_value());
    FUZZ_CHECK(svc->enable("alice", mfakit::totp(s->key.bytes(), clock.unix_time())->str()).has_value());
    auto c = svc->begin_login("alice");
    FUZZ_CHECK(c.has_value());
    live_token = c->token;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static world w;
  const std::string token(reinterpret_cast<const char*>(data), size);  // NOLINT
  const bool well_formed = mfakit::flow::well_formed_token(token);
  FUZZ_CHECK(well_formed == model_well_formed(token));

  auto key = mfakit::flow::challenge_key(token);
  FUZZ_CHECK(key.has_value());
  FUZZ_CHECK(*key == expected_key(token));
  if (!token.empty()) {
    std::string other = token;
    other[size / 2] = static_cast<char>(other[size / 2] ^ 0x01);
    FUZZ_CHECK(*mfakit::flow::challenge_key(other) != *key);
  }

  if (token == w.live_token) return 0;  // (2^-256)
  const std::size_t records = w.store.size();
  auto r = w.svc->complete_login(token, "123456");
  FUZZ_CHECK(!r.has_value());
  if (mfakit::flow::detail::blank(token)) {
    FUZZ_CHECK(r.error() == mfakit::errc::missing_token);
  } else {
    FUZZ_CHECK(r.error() == mfakit::errc::challenge_invalid);
  }
  FUZZ_CHECK(w.store.size() == records);
  return 0;
}
