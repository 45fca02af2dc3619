// Every behaviour of the flow (the API of ../shared/spec/flows.md), one
// test each, through the service on memory_store with a hand-moved clock.
#include <mfakit/http.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"
#include "loop.hpp"

using mfakit::errc;
using mfakit::factor;

namespace {

using flow_service = test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock>;

std::array<unsigned char, 32> key_bytes(unsigned char seed) {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(seed + i * 13);
  return k;
}

mfakit::flow_config test_config() {
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(7, {mfakit::sealing_key(7, key_bytes(1))}).value());
  cfg.issuer = "Storno";
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  return cfg;
}

struct fixture {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::vector<mfakit::event> events;
  flow_service svc;

  explicit fixture(mfakit::flow_config cfg = test_config()) : svc(store, std::move(cfg), hook(), clock) {}

  mfakit::service_options<> hook() {
    mfakit::service_options<> o;
    o.on_event = [this](const mfakit::event& e) { events.push_back(e); };
    return o;
  }

  std::string code_at(const mfakit::secret& k, std::int64_t offset_steps = 0) const {
    const auto& c = svc.config();
    return mfakit::totp(k.bytes(), clock.unix_time() + offset_steps * c.period, {c.alg, c.digits, c.period, 0})
        ->to_string();
  }

  // setup + enable; leaves the clock one step after the enable
  std::pair<mfakit::secret, std::vector<mfakit::backup_code>> enrol(const std::string& user) {
    auto s = svc.setup(user, user + "@example.com");
    REQUIRE(s);
    auto e = svc.enable(user, code_at(s->key));
    REQUIRE(e);
    clock.advance(30);
    return {std::move(s->key), std::move(e->backup_codes)};
  }

  mfakit::account_record record(const std::string& user) {
    auto stored = store.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    auto r = mfakit::decode_account((*stored)->bytes);
    REQUIRE(r);
    return *r;
  }

  std::size_t count(mfakit::event_kind k) const {
    return static_cast<std::size_t>(
        std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; }));
  }

  mfakit::result<mfakit::login_result> login(const std::string& user, std::string_view code,
                                             factor via = factor::totp) {
    auto c = svc.begin_login(user);
    REQUIRE(c);
    return svc.complete_login(c->token, code, via);
  }
};

}  // namespace

// --- setup ------------------------------------------------------------------------

TEST_CASE("setup issues a pending secret and its key URI", "[flow][setup]") {
  fixture f;
  auto s = f.svc.setup("u1", "alice@example.com");
  REQUIRE(s);
  CHECK(s->key.size() == mfakit::default_secret_bytes);
  auto uri = mfakit::parse_key_uri(s->otpauth_uri);
  REQUIRE(uri);
  CHECK(uri->issuer == "Storno");
  CHECK(uri->account == "alice@example.com");
  CHECK(uri->key == s->key);
  CHECK(s->otpauth_uri.rfind("otpauth://totp/Storno:alice%40example.com?secret=", 0) == 0);
  auto st = f.svc.status("u1");
  REQUIRE(st);
  CHECK_FALSE(st->totp_enabled);
  CHECK(st->setup_pending);
  CHECK(f.count(mfakit::event_kind::setup) == 1);
}

TEST_CASE("setup refuses an account name a key URI cannot carry as it is", "[flow][setup]") {
  const std::string_view name =
      GENERATE(as<std::string_view>{}, "alice\n", "moc.elgoog\xe2\x80\xae@x", "\xff", " alice", "a\x1b[2Jb");
  fixture f;
  auto s = f.svc.setup("u1", name);
  REQUIRE_FALSE(s);
  CHECK(s.error() == mfakit::errc::invalid_argument);
  auto st = f.svc.status("u1");
  REQUIRE(st);
  CHECK_FALSE(st->setup_pending);
  CHECK(f.count(mfakit::event_kind::setup) == 0);
}

TEST_CASE("the secret is stored sealed, never in plaintext or base32", "[flow][setup]") {
  fixture f;
  auto s = f.svc.setup("u1", "a");
  REQUIRE(s);
  const std::string bytes = f.store.load(mfakit::account_key("u1")).value()->bytes;
  const auto raw = s->key.bytes();
  CHECK(std::search(bytes.begin(), bytes.end(), raw.begin(), raw.end()) == bytes.end());
  CHECK(bytes.find(s->key.to_base32()) == std::string::npos);
  const auto rec = f.record("u1");
  CHECK(static_cast<unsigned char>(rec.sealed_secret[0]) == mfakit::secret_box::scheme_aes_256_gcm);
}

TEST_CASE("a second setup while pending replaces the pending secret", "[flow][setup]") {
  fixture f;
  auto first = f.svc.setup("u1", "a");
  auto second = f.svc.setup("u1", "a");
  REQUIRE(first);
  REQUIRE(second);
  CHECK_FALSE(first->key == second->key);
  auto old_code = f.code_at(first->key);
  if (old_code != f.code_at(second->key)) {
    auto r = f.svc.enable("u1", old_code);
    CHECK(r.error() == errc::code_mismatch);
    f.clock.advance(1);  // the failure's 1 s delay
  }
  CHECK(f.svc.enable("u1", f.code_at(second->key)));
}

TEST_CASE("setup while enabled fails as already enabled (409)", "[flow][setup]") {
  fixture f;
  f.enrol("u1");
  const auto before = f.record("u1");
  auto s = f.svc.setup("u1", "a");
  REQUIRE_FALSE(s);
  CHECK(s.error() == errc::already_enabled);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::setup, s.error()) == 409);
  CHECK(f.record("u1") == before);
}

// --- enable -----------------------------------------------------------------------

TEST_CASE("enable: a missing or empty code is 400 and changes nothing", "[flow][enable]") {
  fixture f;
  REQUIRE(f.svc.setup("u1", "a"));
  const auto before = f.record("u1");
  for (std::string_view code : {"", "   "}) {
    auto r = f.svc.enable("u1", code);
    CHECK(r.error() == errc::missing_code);
    CHECK(mfakit::http::status_of(mfakit::http::endpoint::enable, r.error()) == 400);
  }
  CHECK(f.record("u1") == before);
}

TEST_CASE("enable without a pending setup is its own error", "[flow][enable]") {
  fixture f;
  auto r = f.svc.enable("nobody", "123456");
  CHECK(r.error() == errc::not_pending);
  CHECK(f.store.size() == 0);
  f.enrol("u1");
  REQUIRE(f.svc.disable("u1"));
  CHECK(f.svc.enable("u1", "123456").error() == errc::not_pending);
}

TEST_CASE("enable when already enabled is 409", "[flow][enable]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto r = f.svc.enable("u1", f.code_at(key));
  CHECK(r.error() == errc::already_enabled);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::enable, r.error()) == 409);
}

TEST_CASE("enable with a wrong code is 422, counted, and stays pending", "[flow][enable]") {
  fixture f;
  auto s = f.svc.setup("u1", "a");
  REQUIRE(s);
  const auto good = f.code_at(s->key);
  const std::string wrong = good == "000000" ? "000001" : "000000";
  auto r = f.svc.enable("u1", wrong);
  CHECK(r.error() == errc::code_mismatch);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::enable, r.error()) == 422);
  const auto rec = f.record("u1");
  CHECK(rec.status == mfakit::account_status::pending);
  CHECK(rec.failures == 1);
  CHECK(rec.backup.digests.empty());
}

TEST_CASE("enable accepts one step of drift either way, not two", "[flow][enable]") {
  for (int offset : {-2, -1, 0, 1, 2}) {
    fixture f;
    auto s = f.svc.setup("u1", "a");
    REQUIRE(s);
    const auto code = f.code_at(s->key, offset);
    bool collides = false;  // a code of +-2 could equal one inside the window by chance
    for (int w : {-1, 0, 1}) collides = collides || (w != offset && f.code_at(s->key, w) == code);
    if (collides) continue;
    auto r = f.svc.enable("u1", code);
    CAPTURE(offset);
    CHECK(r.has_value() == (offset >= -1 && offset <= 1));
  }
}

TEST_CASE("enable burns the matched step and returns exactly 10 fresh codes, once", "[flow][enable]") {
  fixture f;
  auto s = f.svc.setup("u1", "a");
  REQUIRE(s);
  const auto code = f.code_at(s->key, 1);  // the next step's code
  auto e = f.svc.enable("u1", code);
  REQUIRE(e);
  REQUIRE(e->backup_codes.size() == 10);
  std::set<std::string> distinct;
  for (const auto& c : e->backup_codes) {
    distinct.insert(std::string(c.str()));
    CHECK(c.str().size() == 9);
    CHECK(c.str()[4] == '-');
  }
  CHECK(distinct.size() == 10);
  const auto rec = f.record("u1");
  CHECK(rec.status == mfakit::account_status::enabled);
  CHECK(rec.last_step == static_cast<std::uint64_t>(f.clock.unix_time() / 30 + 1));
  CHECK(rec.backup.digests.size() == 10);
  // only digests are stored
  const std::string bytes = f.store.load(mfakit::account_key("u1")).value()->bytes;
  for (const auto& c : e->backup_codes) {
    CHECK(bytes.find(std::string(c.str())) == std::string::npos);
    const auto sym = c.symbols();
    CHECK(bytes.find(std::string(sym.data(), sym.size())) == std::string::npos);
  }
  // the same code cannot log in: its step is burned, also once time reaches it
  CHECK(f.login("u1", code).error() == errc::code_replayed);
  f.clock.advance(30);
  CHECK(f.login("u1", code).error() == errc::code_replayed);
  // the status reports the codes, and nothing returns them again
  CHECK(f.svc.status("u1")->backup_codes_remaining == 10);
}

// --- login challenge ----------------------------------------------------------------

TEST_CASE("begin_login issues a 64-character token valid for 5 minutes, only its hash is stored", "[flow][login]") {
  fixture f;
  f.enrol("u1");
  auto c = f.svc.begin_login("u1");
  REQUIRE(c);
  CHECK(c->token.size() == 64);
  CHECK(c->token.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(c->expires_at == f.clock.unix_time() + 300);
  auto stored = f.store.load(mfakit::flow::challenge_key(c->token).value());
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->bytes.find(c->token) == std::string::npos);
  CHECK_FALSE(f.store.load("mfakit/challenge/" + c->token).value().has_value());
  auto other = f.svc.begin_login("u1");
  CHECK(other->token != c->token);
}

TEST_CASE("begin_login without TOTP enabled says so (the host logs in directly)", "[flow][login]") {
  fixture f;
  auto none = f.svc.begin_login("u1");
  REQUIRE(none);  // a normal outcome, not an error
  CHECK_FALSE(none->mfa_required());
  CHECK(none->token.empty());
  CHECK(f.store.size() == 0);  // no challenge stored
  CHECK(f.events.empty());
  REQUIRE(f.svc.setup("u1", "a"));
  CHECK_FALSE(f.svc.begin_login("u1").value().mfa_required());  // pending is not enabled
  CHECK(f.store.size() == 1);
  auto [key, codes] = f.enrol("u2");
  auto c = f.svc.begin_login("u2");
  REQUIRE(c);
  CHECK(c->mfa_required());
}

TEST_CASE("complete_login with a TOTP code returns the user and deletes the challenge", "[flow][login]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto c = f.svc.begin_login("u1");
  REQUIRE(c);
  auto r = f.svc.complete_login(c->token, f.code_at(key));
  REQUIRE(r);
  CHECK(r->user == "u1");
  CHECK(r->via == factor::totp);
  CHECK_FALSE(f.store.load(mfakit::flow::challenge_key(c->token).value()).value().has_value());
  f.clock.advance(30);
  CHECK(f.svc.complete_login(c->token, f.code_at(key)).error() == errc::challenge_invalid);
}

TEST_CASE("complete_login: missing token or code is 400", "[flow][login]") {
  fixture f;
  f.enrol("u1");
  auto c = f.svc.begin_login("u1");
  auto a = f.svc.complete_login("", "123456");
  auto b = f.svc.complete_login(c->token, "");
  CHECK(a.error() == errc::missing_token);
  CHECK(b.error() == errc::missing_code);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, a.error()) == 400);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, b.error()) == 400);
}

TEST_CASE("complete_login: unknown or expired challenge is 401", "[flow][login]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  CHECK(f.svc.complete_login(std::string(64, 'a'), "123456").error() == errc::challenge_invalid);
  CHECK(f.svc.complete_login("not-a-token", "123456").error() == errc::challenge_invalid);
  auto c = f.svc.begin_login("u1");
  f.clock.advance(299);
  const auto before = f.record("u1");
  f.clock.advance(1);  // exactly 300 s later: expired
  auto r = f.svc.complete_login(c->token, f.code_at(key));
  CHECK(r.error() == errc::challenge_invalid);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, r.error()) == 401);
  CHECK(f.record("u1") == before);  // an expired challenge spends no code
}

TEST_CASE("complete_login: a wrong code is 401 and each attempt counts, the 6th is 429", "[flow][login]") {
  mfakit::flow_config cfg = test_config();
  cfg.throttle = mfakit::throttle_policy::unsafe_none();  // isolate the per-challenge limit
  fixture f(std::move(cfg));
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto c = f.svc.begin_login("u1");
  const std::string wrong = f.code_at(key) == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i) {
    auto r = f.svc.complete_login(c->token, wrong);
    CHECK(r.error() == errc::code_mismatch);
    CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, r.error()) == 401);
  }
  CHECK(f.count(mfakit::event_kind::challenge_exhausted) == 1);
  for (const auto& e : f.events)  // the account's failure count as the last attempt left it
    if (e.kind == mfakit::event_kind::challenge_exhausted) CHECK(e.failures == 5);
  CHECK(f.record("u1").failures == 5);
  auto dead = f.svc.complete_login(c->token, f.code_at(key));  // even the right code
  CHECK(dead.error() == errc::challenge_exhausted);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, dead.error()) == 429);
  CHECK(f.record("u1").last_step < static_cast<std::uint64_t>(f.clock.unix_time() / 30));  // not spent
  CHECK(f.login("u1", f.code_at(key)));                                                    // a new login works
}

TEST_CASE("backup codes: single use, any case, with or without the dash", "[flow][login][backup]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& codes = enrolled.second;
  std::string upper(codes[0].str());
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](char ch) { return static_cast<char>(std::toupper(ch)); });
  auto r = f.login("u1", upper, factor::backup_code);
  REQUIRE(r);
  CHECK(r->via == factor::backup_code);
  CHECK(r->backup_codes_remaining == 9);
  CHECK(f.login("u1", codes[0].str(), factor::backup_code).error() == errc::code_mismatch);
  std::string no_dash(codes[1].str());
  no_dash.erase(4, 1);
  f.clock.advance(1);  // the failure's 1 s delay
  CHECK(f.login("u1", "  " + no_dash + "\n", factor::backup_code));
  CHECK(f.svc.status("u1")->backup_codes_remaining == 8);
  const auto e = std::find_if(f.events.rbegin(), f.events.rend(),
                              [](const auto& ev) { return ev.kind == mfakit::event_kind::backup_code_used; });
  REQUIRE(e != f.events.rend());
  CHECK(e->backup_codes_remaining == 8);
}

TEST_CASE("a backup code is not a TOTP code and vice versa", "[flow][login][backup]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto& codes = enrolled.second;
  CHECK(f.login("u1", codes[0].str(), factor::totp).error() == errc::malformed_code);
  CHECK(f.login("u1", f.code_at(key), factor::backup_code).error() == errc::malformed_code);
  CHECK(f.svc.status("u1")->backup_codes_remaining == 10);
}

// --- replay ---------------------------------------------------------------------------

TEST_CASE("replay: an accepted step is never accepted again, and looks like a wrong code", "[flow][replay]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  const auto code = f.code_at(key);
  REQUIRE(f.login("u1", code));
  f.clock.advance(1);
  auto replay = f.login("u1", code);
  CHECK(replay.error() == errc::code_replayed);
  const std::string wrong = code == "000000" ? "000001" : "000000";
  f.clock.advance(2);
  auto bad = f.login("u1", wrong);
  // same status and message for the client ...
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, replay.error()) ==
        mfakit::http::status_of(mfakit::http::endpoint::verify, bad.error()));
  CHECK(mfakit::http::error_body(replay.error()) == mfakit::http::error_body(bad.error()));
  // ... but a distinct audit event
  CHECK(f.count(mfakit::event_kind::code_replayed) == 1);
  // an older code after a newer one is refused too
  f.clock.advance(30);
  const auto previous = f.code_at(key, -1);
  REQUIRE(f.login("u1", f.code_at(key)));
  f.clock.advance(2);
  if (previous != f.code_at(key)) CHECK_FALSE(f.login("u1", previous));
}

// --- throttling -------------------------------------------------------------------------

TEST_CASE("throttling: failures grow a delay, refused before verification, reset by a success", "[flow][throttle]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto& codes = enrolled.second;
  const auto wrong = [&] { return f.code_at(key) == "000000" ? std::string("000001") : std::string("000000"); };
  CHECK(f.login("u1", wrong()).error() == errc::code_mismatch);  // failure 1: 1 s
  auto t = f.login("u1", f.code_at(key));                        // even the right code waits
  CHECK(t.error() == errc::throttled);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, t.error()) == 429);
  f.clock.advance(1);
  CHECK(f.login("u1", wrong()).error() == errc::code_mismatch);  // failure 2: 2 s
  f.clock.advance(1);
  CHECK(f.login("u1", wrong()).error() == errc::throttled);
  CHECK(f.record("u1").failures == 2);  // throttled attempts are not counted
  f.clock.advance(1);
  // backup codes share the count
  CHECK(f.login("u1", "aaaa-aaaa", factor::backup_code).error() == errc::code_mismatch);  // failure 3: 4 s
  f.clock.advance(3);
  CHECK(f.login("u1", codes[0].str(), factor::backup_code).error() == errc::throttled);
  f.clock.advance(1);
  CHECK(f.login("u1", codes[0].str(), factor::backup_code));
  CHECK(f.record("u1").failures == 0);
  CHECK(f.count(mfakit::event_kind::throttled) >= 3);
}

TEST_CASE("throttling: the hard lock at the configured count", "[flow][throttle]") {
  mfakit::flow_config cfg = test_config();
  cfg.throttle = {0, 7, 0, 0};  // no delays, lock after 7, until reset
  fixture f(std::move(cfg));
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  for (int i = 0; i < 7; ++i) {
    CHECK(f.login("u1", "aaaa-aaaa", factor::backup_code).error() == errc::code_mismatch);
  }
  CHECK(f.count(mfakit::event_kind::locked) == 1);
  f.clock.advance(86400 * 365);
  auto r = f.login("u1", f.code_at(key));
  CHECK(r.error() == errc::locked);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::verify, r.error()) == 429);
  // disable (after the host re-checked the password) resets it
  REQUIRE(f.svc.disable("u1"));
  auto again = f.enrol("u1");
  CHECK(f.login("u1", f.code_at(again.first)));
}

TEST_CASE("throttling: the PCI DSS preset locks after 10 for 30 minutes", "[flow][throttle]") {
  mfakit::flow_config cfg = test_config();
  cfg.throttle = mfakit::throttle_policy::pci_dss();
  fixture f(std::move(cfg));
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  for (int i = 0; i < 10; ++i) CHECK(f.login("u1", "aaaa-aaaa", factor::backup_code).error() == errc::code_mismatch);
  CHECK(f.login("u1", f.code_at(key)).error() == errc::locked);
  f.clock.advance(30 * 60 - 1);
  CHECK(f.login("u1", f.code_at(key)).error() == errc::locked);
  f.clock.advance(1);
  CHECK(f.login("u1", f.code_at(key)));
}

// --- disable, regenerate, status -------------------------------------------------------

TEST_CASE("disable removes the secret and every backup code", "[flow][disable]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  REQUIRE(f.svc.disable("u1"));
  const auto rec = f.record("u1");
  CHECK(rec.status == mfakit::account_status::disabled);
  CHECK(rec.sealed_secret.empty());
  CHECK(rec.backup.digests.empty());
  auto st = f.svc.status("u1");
  CHECK_FALSE(st->totp_enabled);
  CHECK(st->backup_codes_remaining == 0);
  CHECK_FALSE(f.svc.begin_login("u1").value().mfa_required());  // no second factor: log in
  CHECK(f.svc.disable("u1").error() == errc::not_enabled);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::disable, errc::not_enabled) == 400);
}

TEST_CASE("a challenge issued before disable dies with it", "[flow][disable]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  auto& key = enrolled.first;
  auto c = f.svc.begin_login("u1");
  REQUIRE(f.svc.disable("u1"));
  CHECK(f.svc.complete_login(c->token, f.code_at(key)).error() == errc::challenge_invalid);
}

TEST_CASE("regenerate replaces all codes at once, not enabled is 400", "[flow][regenerate]") {
  fixture f;
  CHECK(f.svc.regenerate_backup_codes("u1").error() == errc::not_enabled);
  CHECK(mfakit::http::status_of(mfakit::http::endpoint::regenerate, errc::not_enabled) == 400);
  auto enrolled = f.enrol("u1");
  auto& codes = enrolled.second;
  REQUIRE(f.login("u1", codes[0].str(), factor::backup_code));
  CHECK(f.svc.status("u1")->backup_codes_remaining == 9);
  auto fresh = f.svc.regenerate_backup_codes("u1");
  REQUIRE(fresh);
  REQUIRE(fresh->backup_codes.size() == 10);
  CHECK(f.svc.status("u1")->backup_codes_remaining == 10);
  for (std::size_t i = 1; i < 3; ++i) {
    CHECK(f.login("u1", codes[i].str(), factor::backup_code).error() == errc::code_mismatch);
    f.clock.advance(10);  // past the failure's delay
  }
  f.clock.advance(60);
  CHECK(f.login("u1", fresh->backup_codes[0].str(), factor::backup_code));
  CHECK(f.count(mfakit::event_kind::backup_codes_regenerated) == 1);
}

TEST_CASE("status reports totpEnabled and backupCodesRemaining", "[flow][status]") {
  fixture f;
  auto st = f.svc.status("u1");
  REQUIRE(st);
  CHECK_FALSE(st->totp_enabled);
  CHECK(mfakit::http::status_body(*st, 2) == R"({"totpEnabled":false,"backupCodesRemaining":0,"passkeysCount":2})");
  auto enrolled = f.enrol("u1");
  auto& codes = enrolled.second;
  REQUIRE(f.login("u1", codes[4].str(), factor::backup_code));
  REQUIRE(f.login("u1", codes[5].str(), factor::backup_code));
  st = f.svc.status("u1");
  CHECK(mfakit::http::status_body(*st) == R"({"totpEnabled":true,"backupCodesRemaining":8})");
}

// --- secrets at rest, events, HTTP bodies --------------------------------------------------

TEST_CASE("key rotation: records sealed under an old key still open", "[flow][seal]") {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  mfakit::flow_config old_cfg = test_config();
  mfakit::secret key;
  {
    flow_service svc(store, std::move(old_cfg), clock);
    auto s = svc.setup("u1", "a");
    REQUIRE(s);
    key = std::move(s->key);
    REQUIRE(svc.enable("u1", mfakit::totp(key.bytes(), clock.unix_time())->str()));
  }
  clock.advance(30);
  mfakit::flow_config rotated(
      mfakit::secret_box::aes_256_gcm(8, {mfakit::sealing_key(7, key_bytes(1)), mfakit::sealing_key(8, key_bytes(2))})
          .value());
  rotated.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  flow_service svc(store, std::move(rotated), clock);
  auto c = svc.begin_login("u1");
  CHECK(svc.complete_login(c->token, mfakit::totp(key.bytes(), clock.unix_time())->str()));
  // a box without the old key cannot open it: an error, never a login
  mfakit::flow_config lost(mfakit::secret_box::aes_256_gcm(8, {mfakit::sealing_key(8, key_bytes(2))}).value());
  flow_service svc2(store, std::move(lost), clock);
  clock.advance(30);
  auto c2 = svc2.begin_login("u1");
  CHECK(svc2.complete_login(c2->token, mfakit::totp(key.bytes(), clock.unix_time())->str()).error() ==
        errc::seal_failure);
}

TEST_CASE("key rotation: reseal moves every secret to the current key, then the old key can go", "[flow][seal]") {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  auto config_with = [](std::uint32_t current, std::vector<mfakit::sealing_key> keys) {
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(current, std::move(keys)).value());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    return cfg;
  };
  auto key_id = [&](const std::string& user) {
    auto stored = store.load(mfakit::account_key(user)).value();
    REQUIRE(stored);
    const std::string sealed = mfakit::decode_account(stored->bytes).value().sealed_secret;
    REQUIRE(sealed.size() > 5);
    std::uint32_t id = 0;
    for (int i = 1; i <= 4; ++i) id = (id << 8U) | static_cast<unsigned char>(sealed[static_cast<std::size_t>(i)]);
    return id;
  };
  mfakit::secret enabled_key, pending_key;
  {
    flow_service old(store, config_with(7, {mfakit::sealing_key(7, key_bytes(1))}), clock);
    auto s = old.setup("enabled", "a");
    REQUIRE(s);
    enabled_key = std::move(s->key);
    REQUIRE(old.enable("enabled", mfakit::totp(enabled_key.bytes(), clock.unix_time())->str()));
    auto p = old.setup("pending", "b");
    REQUIRE(p);
    pending_key = std::move(p->key);
    REQUIRE(old.setup("gone", "c"));
    REQUIRE(old.disable("gone"));
  }
  clock.advance(30);
  CHECK(key_id("enabled") == 7);
  CHECK(key_id("pending") == 7);

  std::vector<mfakit::event> events;
  auto rotated_cfg = config_with(8, {mfakit::sealing_key(7, key_bytes(1)), mfakit::sealing_key(8, key_bytes(2))});
  mfakit::service_options<> rotated_opts;
  rotated_opts.on_event = [&](const mfakit::event& e) { events.push_back(e); };
  flow_service rotated(store, std::move(rotated_cfg), std::move(rotated_opts), clock);
  CHECK(rotated.config().box.needs_reseal(
      mfakit::decode_account(store.load(mfakit::account_key("enabled")).value()->bytes).value().sealed_secret));

  // the one field that changes is the sealed secret (and the write id every write carries)
  auto before = mfakit::decode_account(store.load(mfakit::account_key("enabled")).value()->bytes).value();
  CHECK(rotated.reseal("enabled").value() == true);
  auto after = mfakit::decode_account(store.load(mfakit::account_key("enabled")).value()->bytes).value();
  CHECK(after.sealed_secret != before.sealed_secret);
  CHECK(after.written_by != before.written_by);
  after.sealed_secret = before.sealed_secret;
  after.written_by = before.written_by;
  CHECK(after == before);
  CHECK(key_id("enabled") == 8);
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == mfakit::event_kind::secret_resealed);
  CHECK(events[0].user == "enabled");

  // already under the current key: no write, no event
  const auto version = store.load(mfakit::account_key("enabled")).value()->version;
  CHECK(rotated.reseal("enabled").value() == false);
  CHECK(store.load(mfakit::account_key("enabled")).value()->version == version);
  CHECK(events.size() == 1);
  CHECK(rotated.reseal("pending").value() == true);
  CHECK(key_id("pending") == 8);
  CHECK(rotated.reseal("gone").error() == errc::not_enabled);
  CHECK(rotated.reseal("nobody").error() == errc::not_enabled);
  CHECK(rotated.reseal("").error() == errc::invalid_argument);

  // key 7 retired: both users carry on
  flow_service retired(store, config_with(8, {mfakit::sealing_key(8, key_bytes(2))}), clock);
  auto c = retired.begin_login("enabled");
  REQUIRE(c);
  CHECK(retired.complete_login(c->token, mfakit::totp(enabled_key.bytes(), clock.unix_time())->str()));
  CHECK(retired.enable("pending", mfakit::totp(pending_key.bytes(), clock.unix_time())->str()));
}

TEST_CASE("reseal of a record the box cannot open is an error and changes nothing", "[flow][seal]") {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  mfakit::flow_config old_cfg = test_config();  // key 7
  {
    flow_service old(store, std::move(old_cfg), clock);
    REQUIRE(old.setup("u1", "a"));
  }
  const auto before = store.load(mfakit::account_key("u1")).value();
  mfakit::flow_config lost(mfakit::secret_box::aes_256_gcm(8, {mfakit::sealing_key(8, key_bytes(2))}).value());
  flow_service svc(store, std::move(lost), clock);
  CHECK(svc.reseal("u1").error() == errc::seal_failure);
  CHECK(store.load(mfakit::account_key("u1")).value() == before);
  // a plaintext box has nothing to move
  mfakit::memory_store plain_store;
  flow_service plain(plain_store, mfakit::flow_config(mfakit::secret_box::unsafe_plaintext()), clock);
  REQUIRE(plain.setup("u2", "b"));
  CHECK(plain.reseal("u2").value() == false);
  // a record of another scheme under an AES box is not "done": it cannot be opened
  const auto plain_before = plain_store.load(mfakit::account_key("u2")).value();
  flow_service aes(plain_store, test_config(), clock);
  CHECK(aes.reseal("u2").error() == errc::seal_failure);
  CHECK(plain_store.load(mfakit::account_key("u2")).value() == plain_before);
}

TEST_CASE("events: typed, after the change, never a secret, a code or a token", "[flow][events]") {
  fixture f;
  auto s = f.svc.setup("u1", "a");
  REQUIRE(s);
  const auto code = f.code_at(s->key);
  auto e = f.svc.enable("u1", code);
  REQUIRE(e);
  auto c = f.svc.begin_login("u1");
  (void)f.svc.complete_login(c->token, code);  // replay
  f.clock.advance(5);
  (void)f.login("u1", e->backup_codes[0].str(), factor::backup_code);
  (void)f.svc.regenerate_backup_codes("u1");
  REQUIRE(f.svc.disable("u1"));
  std::vector<mfakit::event_kind> kinds;
  for (const auto& ev : f.events) kinds.push_back(ev.kind);
  using k = mfakit::event_kind;
  CHECK(kinds == std::vector<k>{k::setup, k::code_accepted, k::enabled, k::challenge_issued, k::code_replayed,
                                k::challenge_issued, k::backup_code_used, k::backup_codes_regenerated, k::disabled});
  const std::string b32 = s->key.to_base32();
  for (const auto& ev : f.events) {
    const std::string text = fmt::format("{} {} {} {} {}", mfakit::to_string(ev.kind), ev.user, ev.at,
                                         ev.backup_codes_remaining, ev.retry_after);
    CHECK(text.find(code) == std::string::npos);
    CHECK(text.find(b32) == std::string::npos);
    CHECK(text.find(c->token) == std::string::npos);
    CHECK(ev.user == "u1");
  }
}

TEST_CASE("an event hook that throws does not undo or hide a stored change", "[flow][events]") {
  mfakit::flow_config cfg = test_config();
  mfakit::service_options<> opts;
  opts.on_event = [](const mfakit::event&) { throw std::runtime_error("audit sink down"); };
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  flow_service svc(store, std::move(cfg), std::move(opts), clock);
  auto s = svc.setup("u1", "a");
  REQUIRE(s);
  auto e = svc.enable("u1", mfakit::totp(s->key.bytes(), clock.unix_time())->str());
  REQUIRE(e);
  CHECK(e->backup_codes.size() == 10);
}

TEST_CASE("HTTP bodies are the documented JSON", "[flow][http]") {
  fixture f;
  auto s = f.svc.setup("u1", "alice@example.com");
  REQUIRE(s);
  CHECK(mfakit::http::setup_body(*s, "data:image/png;base64,AAAA") ==
        fmt::format(R"({{"secret":"{}","qrCode":"data:image/png;base64,AAAA","otpauthUri":"{}"}})", s->key.to_base32(),
                    s->otpauth_uri));
  auto e = f.svc.enable("u1", f.code_at(s->key));
  REQUIRE(e);
  std::string expected = R"({"enabled":true,"backupCodes":[)";
  for (std::size_t i = 0; i < e->backup_codes.size(); ++i)
    expected += fmt::format("{}\"{}\"", i ? "," : "", e->backup_codes[i].str());
  expected += "]}";
  CHECK(mfakit::http::enable_body(*e) == expected);
  auto c = f.svc.begin_login("u1");
  CHECK(mfakit::http::challenge_body(*c) ==
        fmt::format(R"({{"mfa_required":true,"mfa_token":"{}","mfa_methods":["totp","backup_code"]}})", c->token));
  CHECK(mfakit::http::disable_body() == R"({"disabled":true})");
  CHECK(mfakit::http::error_body(errc::code_replayed) == R"({"error":"Invalid code"})");
}

TEST_CASE("bad input never throws and changes nothing", "[flow][input]") {
  fixture f;
  auto enrolled = f.enrol("u1");
  const auto before = f.record("u1");
  const std::vector<std::string> junk{std::string("\0\0\0\0\0\0", 6), "12345",   "1234567", "abcdef", "１２３４５６",
                                      std::string(10000, '9'),        "12 34 5", "-12345"};
  for (const auto& j : junk) {
    CHECK_NOTHROW((void)f.login("u1", j));
    CHECK_NOTHROW((void)f.login("u1", j, factor::backup_code));
  }
  CHECK(f.record("u1") == before);
  CHECK(f.svc.setup("", "a").error() == errc::invalid_argument);
  CHECK(f.svc.status(std::string(10000, 'u')).error() == errc::invalid_argument);
  CHECK(f.svc.setup("u2", "").error() == errc::invalid_argument);
}

TEST_CASE("an unusable flow_config is refused where the service is built, naming the field", "[flow][config]") {
  // Before: digits = 9 or period = 0 were written into records that
  // decode_account refuses (setup, status and disable then failed for that
  // user for good), and a negative lock_duration switched the lock off.
  struct bad_case {
    std::string_view field;
    std::function<void(mfakit::flow_config&)> spoil;
  };
  const std::vector<bad_case> cases = {
      {"digits", [](mfakit::flow_config& c) { c.digits = 9; }},
      {"digits", [](mfakit::flow_config& c) { c.digits = 5; }},
      {"period", [](mfakit::flow_config& c) { c.period = 0; }},
      {"period", [](mfakit::flow_config& c) { c.period = -30; }},
      {"throttle", [](mfakit::flow_config& c) { c.throttle.lock_duration = -1; }},
      {"throttle", [](mfakit::flow_config& c) { c.throttle.base_delay = -5; }},
      {"window", [](mfakit::flow_config& c) { c.window.ahead = 1000; }},
      {"secret_bytes", [](mfakit::flow_config& c) { c.secret_bytes = 8; }},
      {"backup_code_count", [](mfakit::flow_config& c) { c.backup_code_count = 0; }},
      {"backup_code_count", [](mfakit::flow_config& c) { c.backup_code_count = 65; }},
      {"challenge_ttl", [](mfakit::flow_config& c) { c.challenge_ttl = 0; }},
      {"challenge_max_attempts", [](mfakit::flow_config& c) { c.challenge_max_attempts = 0; }},
      {"issuer", [](mfakit::flow_config& c) { c.issuer.clear(); }},
      {"issuer", [](mfakit::flow_config& c) { c.issuer = "Acme:Corp"; }},
  };
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  for (const auto& c : cases) {
    mfakit::flow_config cfg = test_config();
    c.spoil(cfg);
    INFO(c.field);
    REQUIRE(cfg.problem().has_value());
    CHECK(cfg.problem()->find(c.field) != std::string_view::npos);
    try {
      flow_service svc(store, std::move(cfg), clock);
      FAIL("the service was built with an unusable configuration");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string_view(e.what()).find(c.field) != std::string_view::npos);
    }
  }
  CHECK(store.size() == 0);  // nothing was written
  CHECK_FALSE(test_config().problem());
  CHECK_NOTHROW(flow_service(store, test_config(), clock));

  mfakit::service_options<> no_rounds;
  no_rounds.max_retries = 0;
  REQUIRE(no_rounds.problem().has_value());
  CHECK(no_rounds.problem()->find("max_retries") != std::string_view::npos);
  CHECK_THROWS_AS(flow_service(store, test_config(), no_rounds, clock), std::invalid_argument);
}
