// Passkeys through the flow: real ceremonies of the software authenticator
// (registration options -> register -> login options -> login) through the
// service on memory_store, the single use of each ceremony, the counter
// compare-and-swap under 64 parallel requests, through erroring stores too.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../webauthn/soft_authenticator.hpp"
#include "../webauthn/webauthn_test_support.hpp"
#include "catch.hpp"
#include "loop.hpp"

namespace wa = mfakit::webauthn;
using mfakit::errc;
using wa_test::bytes;

namespace {

template <class Store>
using pk_service = test_loop::service<Store, mfakit::testing::manual_clock>;

mfakit::flow_config test_config() {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(1 + i * 13);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(7, {mfakit::sealing_key(7, k)}).value());
  cfg.issuer = "Storno";
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  return cfg;
}

mfakit::passkey_settings settings() {
  mfakit::passkey_settings s;
  s.rp = wa_test::test_rp();
  s.rp_name = "Storno";
  return s;
}

/// The base64url value of "name":"..." in an options JSON.
std::string json_field(const std::string& json, const std::string& name) {
  const std::string tag = "\"" + name + "\":\"";
  const auto at = json.find(tag);
  REQUIRE(at != std::string::npos);
  const auto from = at + tag.size();
  return json.substr(from, json.find('"', from) - from);
}
bytes decoded(const std::string& b64) { return wa::base64url_decode(b64).value(); }

template <class Store>
struct fixture {
  Store& store;
  mfakit::testing::manual_clock clock;
  std::vector<mfakit::event> events;
  mfakit::passkey_settings s = settings();
  pk_service<Store> svc;

  explicit fixture(Store& st) : store(st), svc(st, test_config(), hook(), clock) {}
  mfakit::service_options<> hook() {
    mfakit::service_options<> o;
    o.on_event = [this](const mfakit::event& e) { events.push_back(e); };
    return o;
  }
  std::size_t count(mfakit::event_kind k) const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; }));
  }

  /// A registration made from real options; returns the user handle offered.
  mfakit::result<mfakit::passkey_info> enrol(const std::string& user, wa_test::authenticator& a, bytes* handle = nullptr) {
    auto opts = svc.passkey_registration_options(s, user, user + "@example.test");
    REQUIRE(opts);
    const bytes challenge = decoded(json_field(opts->json, "challenge"));
    if (handle != nullptr) *handle = decoded(json_field(opts->json.substr(opts->json.find("\"user\"")), "id"));
    auto reg = wa_test::make_registration(a, wa_test::format::none, a.registration_auth_data(),
                                          wa_test::create_client_data(challenge));
    return svc.passkey_register(s, user, "laptop", reg.client_data_json, reg.attestation_object);
  }
  /// A signed assertion on fresh login options.
  wa_test::assertion assertion_for(const wa_test::authenticator& a) {
    auto opts = svc.passkey_login_options(s);
    REQUIRE(opts);
    return wa_test::make_assertion(a, a.assertion_auth_data(),
                                   wa_test::get_client_data(decoded(json_field(opts->json, "challenge"))));
  }
  mfakit::result<mfakit::passkey_login_result> login(const wa_test::authenticator& a, const wa_test::assertion& x,
                                                     const bytes& handle) {
    return svc.passkey_login(s, a.credential_id, x.client_data_json, x.authenticator_data, x.signature, handle);
  }
};

/// A store that answers its first compare-and-swap of an existing ceremony
/// record "lost the race" without writing (what a SERIALIZABLE database does
/// when it cancels a transaction that conflicted with none on that row).
struct spurious_ceremony_conflict_store {
  mfakit::memory_store inner;
  std::atomic<int> spurious{1};
  mfakit::load_answer load(std::string_view key) { return inner.load(key); }
  mfakit::swap_answer compare_and_swap(std::string_view key, std::uint64_t expected,
                                       const std::optional<std::string>& next) {
    if (key.starts_with(mfakit::ceremony_key_prefix) && expected != 0 && spurious.fetch_sub(1) > 0) return false;
    return inner.compare_and_swap(key, expected, next);
  }
};

}  // namespace

TEST_CASE("passkey: a ceremony's consume that the store answers as a lost race, with no other use, is tried again",
          "[passkey]") {
  INFO(test_loop::name);
  spurious_ceremony_conflict_store store;
  fixture<spurious_ceremony_conflict_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  bytes handle;
  REQUIRE(f.enrol("alice", a, &handle));  // its consume is answered a conflict once
  CHECK(store.spurious.load() <= 0);
  store.spurious = 1;
  auto x = f.assertion_for(a);
  auto in = f.login(a, x, handle);  // and this one's
  REQUIRE(in);
  CHECK(in->user == "alice");
  CHECK(store.spurious.load() <= 0);
  auto replay = f.login(a, x, handle);
  CHECK(replay.error() == errc::webauthn_rejected);  // still used once
}

TEST_CASE("passkey: register, list and a passwordless login yield the user", "[passkey]") {
  INFO(test_loop::name);
  for (auto alg : {wa::cose_alg::es256, wa::cose_alg::eddsa, wa::cose_alg::rs256}) {
    mfakit::memory_store store;
    fixture<mfakit::memory_store> f(store);
    wa_test::authenticator a(alg);
    a.counter = 5;
    bytes handle;
    auto reg = f.enrol("alice", a, &handle);
    REQUIRE(reg);
    CHECK(reg->id == a.credential_id);
    CHECK(reg->name == "laptop");
    CHECK(f.count(mfakit::event_kind::passkey_registered) == 1);
    auto list = f.svc.passkeys("alice");
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].last_used_at == 0);

    f.clock.advance(10);
    a.counter = 6;
    auto x = f.assertion_for(a);
    auto in = f.login(a, x, handle);
    REQUIRE(in);
    CHECK(in->user == "alice");
    CHECK(f.count(mfakit::event_kind::passkey_used) == 1);
    list = f.svc.passkeys("alice");
    REQUIRE(list);
    CHECK((*list)[0].last_used_at == f.clock.unix_time());
    for (const auto& e : f.events) CHECK(e.user == "alice");
  }
}

TEST_CASE("passkey: a synced passkey's logins within a minute write only their ceremony", "[passkey]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);  // counter 0, as synced passkeys keep it
  bytes handle;
  REQUIRE(f.enrol("alice", a, &handle));
  const auto set_version = [&] {
    auto r = store.load(mfakit::passkey_set_key("alice"));
    REQUIRE(r);
    REQUIRE(*r);
    return (*r)->version;
  };
  const auto last_used = [&] {
    auto list = f.svc.passkeys("alice");
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    return (*list)[0].last_used_at;
  };
  f.clock.advance(10);
  auto x = f.assertion_for(a);
  REQUIRE(f.login(a, x, handle));  // the first use is stored
  const auto first = f.clock.unix_time();
  CHECK(last_used() == first);
  const auto v = set_version();

  f.clock.advance(mfakit::passkey_last_used_seconds - 1);
  x = f.assertion_for(a);
  REQUIRE(f.login(a, x, handle));
  CHECK(set_version() == v);  // nothing written but the ceremony
  CHECK(last_used() == first);
  auto replay = f.login(a, x, handle);
  CHECK(replay.error() == mfakit::errc::webauthn_rejected);  // and that ceremony is still used once

  f.clock.advance(1);
  x = f.assertion_for(a);
  REQUIRE(f.login(a, x, handle));
  CHECK(set_version() != v);
  CHECK(last_used() == f.clock.unix_time());
  CHECK(f.count(mfakit::event_kind::passkey_used) == 3);
}

TEST_CASE("passkey: each ceremony is used once, for its kind, its user and 5 minutes", "[passkey]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  bytes handle;
  REQUIRE(f.enrol("alice", a, &handle));

  SECTION("an assertion replayed on its consumed challenge is refused") {
    a.counter = 0;  // a synced passkey: the counter rule alone would let it pass
    auto x = f.assertion_for(a);
    REQUIRE(f.login(a, x, handle));
    CHECK(f.login(a, x, handle).error() == errc::webauthn_rejected);
  }
  SECTION("a challenge no options call made is refused") {
    auto x = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(wa_test::fixed_challenge(9)));
    CHECK(f.login(a, x, handle).error() == errc::webauthn_rejected);
  }
  SECTION("an expired ceremony is refused") {
    auto x = f.assertion_for(a);
    f.clock.advance(mfakit::passkey_ceremony_seconds);
    CHECK(f.login(a, x, handle).error() == errc::webauthn_rejected);
  }
  SECTION("a registration ceremony does not serve a login, nor another user's registration") {
    auto opts = f.svc.passkey_registration_options(f.s, "alice", "alice");
    REQUIRE(opts);
    const bytes ch = decoded(json_field(opts->json, "challenge"));
    auto x = wa_test::make_assertion(a, a.assertion_auth_data(), wa_test::get_client_data(ch));
    CHECK(f.login(a, x, handle).error() == errc::webauthn_rejected);
    wa_test::authenticator b(wa::cose_alg::eddsa, 40);
    auto reg = wa_test::make_registration(b, wa_test::format::none, b.registration_auth_data(),
                                          wa_test::create_client_data(ch));
    CHECK(f.svc.passkey_register(f.s, "bob", "phone", reg.client_data_json, reg.attestation_object).error() ==
          errc::webauthn_rejected);
  }
}

TEST_CASE("passkey: a credential id belongs to one user, and 16 a user at most", "[passkey]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  REQUIRE(f.enrol("alice", a));
  CHECK(f.enrol("bob", a).error() == errc::already_enabled);
  CHECK(f.enrol("alice", a).error() == errc::already_enabled);
  for (std::size_t i = 1; i < mfakit::max_passkeys_per_user; ++i) {
    wa_test::authenticator k(wa::cose_alg::eddsa, 16 + i);
    REQUIRE(f.enrol("alice", k));
  }
  CHECK(f.svc.passkeys("alice")->size() == mfakit::max_passkeys_per_user);
  CHECK(f.svc.passkey_registration_options(f.s, "alice", "alice").error() == errc::invalid_argument);
}

TEST_CASE("passkey: a counter not above the stored one is refused with an event", "[passkey]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  a.counter = 7;
  bytes handle;
  REQUIRE(f.enrol("alice", a, &handle));
  auto x = f.assertion_for(a);  // counter 7 again: a clone
  CHECK(f.login(a, x, handle).error() == errc::webauthn_counter_regressed);
  CHECK(f.count(mfakit::event_kind::passkey_counter_regressed) == 1);
  a.counter = 8;
  CHECK(f.login(a, f.assertion_for(a), handle));
}

namespace {
/// `n` threads each log in with one of `xs` (all signed with one counter
/// value); returns how many succeeded, and checks the stored counter.
template <class Store>
int parallel_logins(Store& through, const wa_test::authenticator& a, const std::vector<wa_test::assertion>& xs,
                    const bytes& handle, std::size_t n) {
  std::atomic<int> wins{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> ts;
  for (std::size_t i = 0; i < n; ++i) {
    ts.emplace_back([&, i] {
      fixture<Store> g(through);
      const auto& x = xs[i % xs.size()];
      auto r = g.login(a, x, handle);
      if (r) {
        ++wins;
        if (r->user != "alice") ++bad;
      }
    });
  }
  for (auto& t : ts) t.join();
  CHECK(bad.load() == 0);
  return wins.load();
}
}  // namespace

TEST_CASE("passkey: 64 threads posting one assertion: one success", "[passkey][parallel]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  bytes handle;
  REQUIRE(f.enrol("alice", a, &handle));
  a.counter = 0;  // even with the counter off, the ceremony is single-use
  const std::vector<wa_test::assertion> one{f.assertion_for(a)};
  CHECK(parallel_logins(store, a, one, handle, 64) == 1);

  mfakit::testing::erroring_store<mfakit::memory_store> flaky(store);
  flaky.arm(mfakit::testing::erroring_options::both(300, 11));
  const std::vector<wa_test::assertion> again{f.assertion_for(a)};
  CHECK(parallel_logins(flaky, a, again, handle, 64) <= 1);
}

TEST_CASE("passkey: 64 assertions with one counter value on 64 challenges: one success", "[passkey][parallel]") {
  INFO(test_loop::name);
  for (bool erroring : {false, true}) {
    mfakit::memory_store store;
    fixture<mfakit::memory_store> f(store);
    wa_test::authenticator a(wa::cose_alg::es256);
    a.counter = 1;
    bytes handle;
    REQUIRE(f.enrol("alice", a, &handle));
    a.counter = 2;
    std::vector<wa_test::assertion> xs;
    for (int i = 0; i < 64; ++i) xs.push_back(f.assertion_for(a));
    if (!erroring) {
      CHECK(parallel_logins(store, a, xs, handle, 64) == 1);
    } else {
      mfakit::testing::erroring_store<mfakit::memory_store> flaky(store);
      flaky.arm(mfakit::testing::erroring_options::both(300, 5));
      const int wins = parallel_logins(flaky, a, xs, handle, 64);
      CHECK(wins <= 1);
      flaky.disarm();
      if (wins == 1) {  // the success is stored: a counter of 2 is never taken again
        CHECK(f.login(a, f.assertion_for(a), handle).error() == errc::webauthn_counter_regressed);
      }
    }
  }
}

namespace {
/// Runs an operation on the store until it wants a compare-and-swap (or is done).
template <class Op>
void run_until_swap(mfakit::memory_store& store, Op& op) {
  while (op.wants() != mfakit::next_step::compare_and_swap && op.wants() != mfakit::next_step::done) {
    if (op.wants() == mfakit::next_step::load) op.on_load(store.load(op.key()));
    if (op.wants() == mfakit::next_step::compute) op.compute();
  }
}
}  // namespace

TEST_CASE("passkey: two logins interleaved on one challenge and one counter value: one success", "[passkey]") {
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  for (std::uint32_t counter : {0U, 3U}) {
    wa_test::authenticator a(wa::cose_alg::es256, counter == 0 ? 32 : 33);
    a.counter = counter;
    bytes handle;
    REQUIRE(f.enrol("alice", a, &handle));
    // the same assertion twice, and then one counter value on two challenges
    for (bool same_challenge : {true, false}) {
      if (!same_challenge && counter == 0) continue;  // a counter of 0 stays 0: two challenges may both pass
      if (counter != 0) ++a.counter;
      const auto x = f.assertion_for(a);
      const auto y = same_challenge ? x : f.assertion_for(a);
      mfakit::testing::manual_clock clock = f.clock;
      mfakit::openssl_random rng;
      mfakit::detail::write_id_pool ids;
      const auto cfg = test_config();
      using ctx_t = mfakit::operation_context<mfakit::testing::manual_clock, mfakit::openssl_random>;
      const ctx_t ctx{&cfg, &clock, &rng, &ids};
      mfakit::passkey_login_operation<ctx_t> one(ctx, f.s, a.credential_id, x.client_data_json,
                                                 x.authenticator_data, x.signature, handle);
      mfakit::passkey_login_operation<ctx_t> two(ctx, f.s, a.credential_id, y.client_data_json,
                                                 y.authenticator_data, y.signature, handle);
      run_until_swap(store, one);
      run_until_swap(store, two);
      REQUIRE(one.wants() == mfakit::next_step::compare_and_swap);
      REQUIRE(two.wants() == mfakit::next_step::compare_and_swap);
      auto r1 = mfakit::run(store, one);
      auto r2 = mfakit::run(store, two);
      CHECK(static_cast<int>(r1.has_value()) + static_cast<int>(r2.has_value()) == 1);
    }
  }
}

TEST_CASE("passkey: status counts them, rename, and a deleted passkey logs in no more and its id is free again", "[passkey]") {
  INFO(test_loop::name);
  mfakit::memory_store store;
  fixture<mfakit::memory_store> f(store);
  wa_test::authenticator a(wa::cose_alg::es256);
  wa_test::authenticator b(wa::cose_alg::eddsa, 20);
  bytes handle;
  CHECK(f.svc.status("alice")->passkeys == 0);
  REQUIRE(f.enrol("alice", a, &handle));
  REQUIRE(f.enrol("alice", b));
  CHECK(f.svc.status("alice")->passkeys == 2);
  CHECK(f.svc.rename_passkey("alice", b.credential_id, "").error() == errc::invalid_argument);
  CHECK(f.svc.rename_passkey("bob", b.credential_id, "phone").error() == errc::not_enabled);
  REQUIRE(f.svc.rename_passkey("alice", b.credential_id, "phone"));
  CHECK(f.svc.passkeys("alice")->at(1).name == "phone");
  CHECK(f.svc.delete_passkey("bob", a.credential_id).error() == errc::not_enabled);
  REQUIRE(f.svc.delete_passkey("alice", a.credential_id));
  CHECK(f.count(mfakit::event_kind::passkey_removed) == 1);
  CHECK(f.svc.delete_passkey("alice", a.credential_id).error() == errc::not_enabled);
  CHECK(f.svc.status("alice")->passkeys == 1);
  CHECK(f.login(a, f.assertion_for(a), handle).error() == errc::webauthn_rejected);
  CHECK(f.enrol("bob", a));  // the index went with it
}
