// The flow's backup codes are peppered by default: with the key derived from
// the box's sealing key, through a key rotation, with a host key or the
// named opt-out, and records stored before sets named their pepper still
// work. Through the service on memory_store.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"

using mfakit::errc;
using mfakit::factor;

namespace {

using pepper_service = mfakit::service<mfakit::memory_store, mfakit::testing::manual_clock>;
constexpr mfakit::scrypt_params cheap{16, 1, 1};

mfakit::sealing_key key(std::uint32_t id) {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(id * 31 + i * 7 + 1);
  return {id, k};
}

/// A config with the box of `current` over `ids`, and the default pepper
/// unless `hasher` says otherwise.
mfakit::flow_config config(std::uint32_t current, std::vector<std::uint32_t> ids,
                           mfakit::backup_code_hasher hasher = mfakit::backup_code_hasher(cheap)) {
  std::vector<mfakit::sealing_key> keys;
  for (auto id : ids) keys.push_back(key(id));
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(current, std::move(keys)).value());
  cfg.hasher = std::move(hasher);
  return cfg;
}

struct world {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;

  /// setup + enable for `user` under `cfg`; the backup codes
  std::vector<mfakit::backup_code> enrol(const std::string& user, mfakit::flow_config cfg) {
    pepper_service svc(store, std::move(cfg), clock);
    auto s = svc.setup(user, user + "@example.com");
    REQUIRE(s);
    const auto& c = svc.config();
    auto code = mfakit::totp(s->key.bytes(), clock.unix_time(), {c.alg, c.digits, c.period, 0});
    REQUIRE(code);
    auto e = svc.enable(user, code->to_string());
    REQUIRE(e);
    clock.advance(30);
    return std::move(e->backup_codes);
  }

  mfakit::result<mfakit::login_result> redeem(const std::string& user, const mfakit::backup_code& code,
                                              mfakit::flow_config cfg) {
    pepper_service svc(store, std::move(cfg), clock);
    return svc.verify(user, code.str(), factor::backup_code);
  }

  mfakit::account_record record(const std::string& user) {
    auto stored = store.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    auto r = mfakit::decode_account((*stored)->bytes);
    REQUIRE(r);
    return *r;
  }

  void rewrite(const std::string& user, const mfakit::account_record& r) {
    auto stored = store.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    REQUIRE(*store.compare_and_swap(mfakit::account_key(user), (*stored)->version, mfakit::encode(r)));
  }
};

}  // namespace

TEST_CASE("a default flow_config peppers backup codes with the sealing key's derived key", "[flow][pepper]") {
  world w;
  const auto codes = w.enrol("alice", config(7, {7}));
  const auto r = w.record("alice");
  CHECK(r.backup.pepper == mfakit::backup_pepper::sealing_key);
  CHECK(r.backup.pepper_key_id == 7);
  auto ok = w.redeem("alice", codes[0], config(7, {7}));
  REQUIRE(ok);
  CHECK(ok->via == factor::backup_code);
  // the same digests are not the unpeppered ones of the same codes
  const auto none = mfakit::backup_code_hasher::unsafe_without_pepper(cheap);
  auto stripped = r.backup;
  stripped.pepper = mfakit::backup_pepper::none;
  CHECK(none.match(stripped, codes[1].str()).error() == errc::code_mismatch);
}

TEST_CASE("backup codes survive a key rotation while the old key is in the ring", "[flow][pepper]") {
  world w;
  const auto codes = w.enrol("bob", config(1, {1}));
  // key 2 becomes current, key 1 stays to open old records
  REQUIRE(w.redeem("bob", codes[0], config(2, {1, 2})));
  // a set made after the rotation is under key 2
  const auto later = w.enrol("carol", config(2, {1, 2}));
  CHECK(w.record("carol").backup.pepper_key_id == 2);
  // key 1 retired: bob's set cannot be checked, and the service says so
  // (not a wrong code: no failure counted)
  auto refused = w.redeem("bob", codes[1], config(2, {2}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::seal_failure);
  CHECK(w.record("bob").failures == 0);
  REQUIRE(w.redeem("carol", later[0], config(2, {2})));
}

TEST_CASE("a forged unpeppered set is not a login", "[flow][pepper]") {
  // someone who can write the database but not read the keys replaces a
  // user's set with digests of codes of their own, marked unpeppered
  world w;
  (void)w.enrol("dave", config(7, {7}));
  auto mine = mfakit::generate_backup_codes(1);
  REQUIRE(mine);
  auto forged = mfakit::backup_code_hasher::unsafe_without_pepper(cheap).digest(*mine);
  REQUIRE(forged);
  auto r = w.record("dave");
  r.backup = *forged;
  w.rewrite("dave", r);
  auto refused = w.redeem("dave", (*mine)[0], config(7, {7}));
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::seal_failure);
}

TEST_CASE("a host key, the opt-out and the plaintext box", "[flow][pepper]") {
  world w;
  const std::vector<unsigned char> host_key(32, 0x42);
  const auto with_host = [&] { return config(7, {7}, mfakit::backup_code_hasher(cheap, host_key)); };
  const auto a = w.enrol("erin", with_host());
  CHECK(w.record("erin").backup.pepper == mfakit::backup_pepper::host_key);
  REQUIRE(w.redeem("erin", a[0], with_host()));
  // without the host key the set cannot be checked
  CHECK(w.redeem("erin", a[1], config(7, {7})).error() == errc::seal_failure);

  const auto opted_out = [] {
    return config(7, {7}, mfakit::backup_code_hasher::unsafe_without_pepper(cheap));
  };
  const auto b = w.enrol("frank", opted_out());
  CHECK(w.record("frank").backup.pepper == mfakit::backup_pepper::none);
  REQUIRE(w.redeem("frank", b[0], opted_out()));
  // a peppered configuration does not take an unpeppered set
  CHECK(w.redeem("frank", b[1], config(7, {7})).error() == errc::seal_failure);

  const auto plaintext = [] {
    mfakit::flow_config cfg(mfakit::secret_box::unsafe_plaintext());
    cfg.hasher = mfakit::backup_code_hasher(cheap);
    return cfg;
  };
  const auto c = w.enrol("grace", plaintext());
  CHECK(w.record("grace").backup.pepper == mfakit::backup_pepper::none);
  REQUIRE(w.redeem("grace", c[0], plaintext()));
}

TEST_CASE("records stored before sets named their pepper still redeem their codes", "[flow][pepper]") {
  world w;
  // the old default: no host key, unpeppered digests, read back as host_key_if_any
  const auto a = w.enrol("heidi", config(7, {7}, mfakit::backup_code_hasher::unsafe_without_pepper(cheap)));
  auto r = w.record("heidi");
  r.backup.pepper = mfakit::backup_pepper::host_key_if_any;
  w.rewrite("heidi", r);
  REQUIRE(w.redeem("heidi", a[0], config(7, {7})));
  CHECK(w.record("heidi").backup.pepper == mfakit::backup_pepper::host_key_if_any);  // written back as made
  REQUIRE(w.redeem("heidi", a[1], config(7, {7})));

  // a host that gave a key of its own: still checked with that key
  const std::vector<unsigned char> host_key(32, 0x24);
  const auto with_host = [&] { return config(7, {7}, mfakit::backup_code_hasher(cheap, host_key)); };
  const auto b = w.enrol("ivan", with_host());
  auto s = w.record("ivan");
  s.backup.pepper = mfakit::backup_pepper::host_key_if_any;
  w.rewrite("ivan", s);
  REQUIRE(w.redeem("ivan", b[0], with_host()));
  CHECK(w.redeem("ivan", b[1], config(7, {7})).error() == errc::code_mismatch);
}

TEST_CASE("a host key under 16 bytes is a configuration error", "[flow][pepper]") {
  mfakit::memory_store store;
  const mfakit::testing::manual_clock clock;
  auto cfg = config(7, {7}, mfakit::backup_code_hasher(cheap, std::vector<unsigned char>(8, 1)));
  REQUIRE(cfg.problem());
  CHECK_THROWS_AS(pepper_service(store, std::move(cfg), clock), std::invalid_argument);
}
