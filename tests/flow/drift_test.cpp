// "Your device's clock looks off": each accepted TOTP code's
// offset is kept in the account, and three in a row a step behind (or
// ahead) is reported by status and by one clock_drift event, with a phone
// whose clock drifts. The window stays what the configuration says; a
// replayed or wrong code changes nothing.
#include <mfakit/http.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "loop.hpp"

using mfakit::drift_direction;
using mfakit::errc;
using mfakit::event_kind;
using mfakit::factor;

namespace {

using flow_service = test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock>;

mfakit::flow_config test_config() {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(3 + i * 7);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, k)}).value());
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  return cfg;
}

struct fixture {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::vector<mfakit::event> events;
  flow_service svc;
  mfakit::secret key;
  std::vector<mfakit::backup_code> backup;

  explicit fixture(mfakit::flow_config cfg = test_config()) : svc(store, std::move(cfg), hook(), clock) {}

  mfakit::service_options<> hook() {
    mfakit::service_options<> o;
    o.on_event = [this](const mfakit::event& e) { events.push_back(e); };
    return o;
  }

  /// What the phone shows when its clock is `steps` periods off the server's.
  [[nodiscard]] std::string phone_code(std::int64_t steps) const {
    const auto& c = svc.config();
    return mfakit::totp(key.bytes(), clock.unix_time() + steps * c.period, {c.alg, c.digits, c.period, 0})->to_string();
  }

  /// setup, then enable with a phone `steps` off
  void enrol(std::int64_t steps = 0) {
    auto s = svc.setup("u", "u@example.com");
    REQUIRE(s);
    key = std::move(s->key);
    auto e = svc.enable("u", phone_code(steps));
    REQUIRE(e);
    backup = std::move(e->backup_codes);
  }

  /// A login a while later (three steps: whichever way the phone was off
  /// last time, its step is not reused) with the phone `steps` off.
  mfakit::result<mfakit::login_result> login(std::int64_t steps) {
    clock.advance(3 * svc.config().period);
    auto c = svc.begin_login("u");
    REQUIRE(c);
    return svc.complete_login(c->token, phone_code(steps));
  }

  [[nodiscard]] std::size_t count(event_kind k) const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; }));
  }

  [[nodiscard]] drift_direction drift() {
    auto st = svc.status("u");
    REQUIRE(st);
    return st->clock_drift;
  }

  [[nodiscard]] mfakit::account_record record() {
    auto stored = store.load(mfakit::account_key("u"));
    REQUIRE(stored);
    REQUIRE(*stored);
    auto r = mfakit::decode_account((*stored)->bytes);
    REQUIRE(r);
    return *r;
  }
};

}  // namespace

TEST_CASE("a phone clock drifting behind, then ahead: one event as each drift appears, and status shows it",
          "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();  // on time
  CHECK(f.drift() == drift_direction::none);

  // the phone's clock falls 30 s behind: its codes are the previous step's
  REQUIRE(f.login(-1));
  REQUIRE(f.login(-1));
  CHECK(f.drift() == drift_direction::none);  // two in a row is not yet a pattern
  CHECK(f.count(event_kind::clock_drift) == 0);
  REQUIRE(f.login(-1));
  CHECK(f.drift() == drift_direction::behind);
  REQUIRE(f.count(event_kind::clock_drift) == 1);
  const auto it =
      std::find_if(f.events.begin(), f.events.end(), [](const auto& e) { return e.kind == event_kind::clock_drift; });
  CHECK(it->drift == drift_direction::behind);
  CHECK(it->user == "u");
  CHECK(it->at == f.clock.unix_time());
  CHECK(it->via == factor::totp);
  // it comes after the acceptance it follows from
  REQUIRE(it != f.events.begin());
  CHECK(std::prev(it)->kind == event_kind::code_accepted);

  auto st = f.svc.status("u");
  REQUIRE(st);
  CHECK(mfakit::http::status_body(*st) == R"({"totpEnabled":true,"backupCodesRemaining":10,"clockDrift":"behind"})");
  CHECK(mfakit::http::status_body(*st, 1) ==
        R"({"totpEnabled":true,"backupCodesRemaining":10,"clockDrift":"behind","passkeysCount":1})");

  // still behind: reported by status, not by another event on every login
  REQUIRE(f.login(-1));
  REQUIRE(f.login(-1));
  CHECK(f.drift() == drift_direction::behind);
  CHECK(f.count(event_kind::clock_drift) == 1);

  // the phone overcorrects to 30 s ahead: its codes are the next step's
  REQUIRE(f.login(1));
  CHECK(f.drift() == drift_direction::none);
  REQUIRE(f.login(1));
  CHECK(f.drift() == drift_direction::none);
  REQUIRE(f.login(1));
  CHECK(f.drift() == drift_direction::ahead);
  REQUIRE(f.count(event_kind::clock_drift) == 2);
  CHECK(f.events.back().kind == event_kind::clock_drift);
  CHECK(f.events.back().drift == drift_direction::ahead);

  // fixed: one code on time clears the signal
  REQUIRE(f.login(0));
  CHECK(f.drift() == drift_direction::none);
  st = f.svc.status("u");
  REQUIRE(st);
  CHECK(mfakit::http::status_body(*st) == R"({"totpEnabled":true,"backupCodesRemaining":10})");
  CHECK(f.count(event_kind::clock_drift) == 2);
  CHECK(f.svc.config().window.behind == 1);
  CHECK(f.svc.config().window.ahead == 1);
}

TEST_CASE("mixed offsets give no signal", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();
  for (std::int64_t steps : {-1, -1, 0, -1, -1, 1, -1, -1, 1, 1, 0, 1, 1, -1, 1, -1}) {
    INFO("phone offset " << steps);
    REQUIRE(f.login(steps));
    CHECK(f.drift() == drift_direction::none);
  }
  CHECK(f.count(event_kind::clock_drift) == 0);
  CHECK(f.count(event_kind::code_accepted) == 17);
}

TEST_CASE("the enable code counts: drift can show from the second login", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol(1);
  CHECK(f.record().offsets.size() == 1);
  CHECK(f.record().offsets[0] == 1);
  REQUIRE(f.login(1));
  CHECK(f.drift() == drift_direction::none);
  REQUIRE(f.login(1));
  CHECK(f.drift() == drift_direction::ahead);
  CHECK(f.count(event_kind::clock_drift) == 1);
}

TEST_CASE("a replayed or wrong code changes nothing in the history", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();
  REQUIRE(f.login(-1));
  REQUIRE(f.login(-1));
  const mfakit::offset_history before = f.record().offsets;
  REQUIRE(before.size() == 3);

  // the same behind code again, at the same time: refused as a replay. Had
  // it been counted, it would be the third behind in a row.
  const std::string spent = f.phone_code(-1);
  auto c = f.svc.begin_login("u");
  REQUIRE(c);
  auto replay = f.svc.complete_login(c->token, spent);
  REQUIRE_FALSE(replay);
  CHECK(replay.error() == errc::code_replayed);
  CHECK(f.count(event_kind::code_replayed) == 1);
  CHECK(f.record().offsets == before);
  CHECK(f.drift() == drift_direction::none);
  // also through a step-up verify (after the failure's 1 s delay)
  f.clock.advance(1);
  auto again = f.svc.verify("u", spent);
  REQUIRE_FALSE(again);
  CHECK(again.error() == errc::code_replayed);
  CHECK(f.record().offsets == before);

  // a wrong code
  f.clock.advance(60);
  std::string wrong = f.phone_code(-1);
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  auto w = f.svc.verify("u", wrong);
  REQUIRE_FALSE(w);
  CHECK(w.error() == errc::code_mismatch);
  CHECK(f.record().offsets == before);
  CHECK(f.count(event_kind::clock_drift) == 0);

  // a backup code is no TOTP code: it neither adds an offset nor breaks the run
  f.clock.advance(4);  // the third failure's delay
  auto b = f.svc.verify("u", f.backup[0].str(), factor::backup_code);
  REQUIRE(b);
  CHECK(f.record().offsets == before);

  // the next behind code is the third in a row
  REQUIRE(f.login(-1));
  CHECK(f.drift() == drift_direction::behind);
  CHECK(f.count(event_kind::clock_drift) == 1);
}

TEST_CASE("the window stays one step each way while the clock drifts", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();
  for (int i = 0; i < 4; ++i) REQUIRE(f.login(-1));
  REQUIRE(f.drift() == drift_direction::behind);
  const mfakit::offset_history before = f.record().offsets;

  // two steps behind (the way the clock is going) is still refused
  f.clock.advance(60);
  auto far_behind = f.svc.verify("u", f.phone_code(-2));
  REQUIRE_FALSE(far_behind);
  CHECK(far_behind.error() == errc::code_mismatch);
  f.clock.advance(60);
  auto far_ahead = f.svc.verify("u", f.phone_code(2));
  REQUIRE_FALSE(far_ahead);
  CHECK(far_ahead.error() == errc::code_mismatch);
  CHECK(f.record().offsets == before);
  CHECK(f.drift() == drift_direction::behind);

  // one step behind still works
  f.clock.advance(60);
  CHECK(f.svc.verify("u", f.phone_code(-1)));
  CHECK(f.count(event_kind::clock_drift) == 1);
}

TEST_CASE("with a wider window, codes further off count by their direction", "[flow][drift]") {
  INFO(test_loop::name);
  auto cfg = test_config();
  cfg.window = {3, 3};
  fixture f(std::move(cfg));
  f.enrol();
  f.clock.advance(150);
  REQUIRE(f.svc.verify("u", f.phone_code(-3)));
  f.clock.advance(60);
  REQUIRE(f.svc.verify("u", f.phone_code(-1)));
  f.clock.advance(60);
  REQUIRE(f.svc.verify("u", f.phone_code(-2)));
  CHECK(f.drift() == drift_direction::behind);
  CHECK(f.count(event_kind::clock_drift) == 1);
}

TEST_CASE("a strict window never signals", "[flow][drift]") {
  INFO(test_loop::name);
  auto cfg = test_config();
  cfg.window = {0, 0};
  fixture f(std::move(cfg));
  f.enrol();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(f.login(0));
    CHECK_FALSE(f.login(-1));  // not accepted at all
  }
  CHECK(f.drift() == drift_direction::none);
  CHECK(f.count(event_kind::clock_drift) == 0);
}

TEST_CASE("a new secret starts a new history", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();
  for (int i = 0; i < 3; ++i) REQUIRE(f.login(1));
  REQUIRE(f.drift() == drift_direction::ahead);
  REQUIRE(f.svc.disable("u"));
  CHECK(f.record().offsets == mfakit::offset_history{});
  CHECK(f.drift() == drift_direction::none);
  f.clock.advance(60);
  f.enrol(1);
  CHECK(f.record().offsets.size() == 1);
  CHECK(f.drift() == drift_direction::none);
}

TEST_CASE("a format-2 record (before the offsets) logs in and starts its history", "[flow][drift]") {
  INFO(test_loop::name);
  fixture f;
  f.enrol();
  for (int i = 0; i < 2; ++i) REQUIRE(f.login(-1));
  // store the account as a server without the offsets wrote it
  auto stored = f.store.load(mfakit::account_key("u")).value();
  REQUIRE(stored);
  auto rec = mfakit::decode_account(stored->bytes).value();
  rec.backup.pepper = mfakit::backup_pepper::host_key_if_any;  // format 2 did not name the set's pepper
  rec.backup.pepper_key_id = 0;
  std::string v2 = mfakit::encode(rec);
  REQUIRE(v2[1] == 4);
  // format 2: no pepper byte (after the set's cost), no offsets (the last byte)
  const std::size_t pepper_at =
      v2.size() - 1 - mfakit::write_id_bytes - mfakit::backup_code_digest_bytes * rec.backup.digests.size() - 1 - 1;
  REQUIRE(v2[pepper_at] == '\0');
  v2.erase(pepper_at, 1);
  v2[1] = 2;
  v2.pop_back();
  REQUIRE(f.store.compare_and_swap(mfakit::account_key("u"), stored->version, v2).value());
  CHECK(f.record().offsets == mfakit::offset_history{});
  CHECK(f.drift() == drift_direction::none);

  REQUIRE(f.login(-1));  // only one behind in the history now
  CHECK(f.drift() == drift_direction::none);
  auto rewritten = f.store.load(mfakit::account_key("u")).value();
  REQUIRE(rewritten);
  CHECK(rewritten->bytes[1] == 4);  // written back in the current format
  CHECK(f.record().offsets.size() == 1);
  REQUIRE(f.login(-1));
  REQUIRE(f.login(-1));
  CHECK(f.drift() == drift_direction::behind);
  CHECK(f.count(event_kind::clock_drift) == 1);
}

TEST_CASE("the rule on the history alone", "[flow][drift]") {
  using mfakit::flow::clock_drift_of;
  auto of = [](std::initializer_list<int> oldest_first) {
    mfakit::offset_history h;
    for (int o : oldest_first) h.push(o);
    return clock_drift_of(h);
  };
  CHECK(of({}) == drift_direction::none);
  CHECK(of({-1, -1}) == drift_direction::none);
  CHECK(of({-1, -1, -1}) == drift_direction::behind);
  CHECK(of({1, 1, 1}) == drift_direction::ahead);
  CHECK(of({0, 0, 0, 0}) == drift_direction::none);
  CHECK(of({1, -1, -1, -1}) == drift_direction::behind);
  CHECK(of({-1, -1, -1, 0}) == drift_direction::none);
  CHECK(of({-1, -1, 1, -1}) == drift_direction::none);
  CHECK(of({-1, 1, 1, 1}) == drift_direction::ahead);
  static_assert(mfakit::flow::drift_run == 3);
}
