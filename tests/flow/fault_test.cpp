// Faults (service.hpp's promise): "Nothing is reported as a success, and no
// backup code is handed out, unless the write that makes it true was stored.
// A store that fails or throws turns into errc::storage_failure with nothing
// changed."
//
// For every operation, and for every store call it makes in turn, the store
// fails at exactly that call: by returning an error, by throwing before the
// call takes effect, or by throwing after it took effect (a commit whose
// answer was lost). Likewise the random source fails at each of its fills.
// Each run starts from an identical world (a deterministic random source, a
// fixed clock), so a fault-free reference run tells, call by call, what the
// store holds; after a fault at call k the store must hold exactly what the
// reference held after the calls that completed before k (or after k, when k
// itself took effect) — byte for byte, versions included. A compare-and-swap
// that loses a race at each write in turn must change nothing in the answer.
// What this allows, stated per operation:
//  - setup, enable, disable, regenerate, reseal, begin_login, status, step-up
//    verify: their one write is their last store call, so a fault leaves the
//    store as it was, unless it hit that write after it took effect (then
//    the write is stored but the answer is storage_failure and no backup
//    code is handed out: an ambiguous commit the host must treat as failed);
//  - complete_login: calls are load challenge, load account, compare-and-swap
//    the challenge (one attempt spent), compare-and-swap the account (the
//    decisive write), then load + delete the challenge. A fault before the
//    decisive write reports storage_failure, with at most the attempt spent
//    (attempts + 1, nothing else); a fault after it (the challenge cannot be
//    deleted) fails closed: storage_failure, no login, though the code is
//    burned and the events of that stored change are emitted; the challenge
//    stays with its attempt spent (unless the delete itself took effect).
// The outcome is storage_failure or random_failure, never a verdict on the
// code (code_mismatch and co.), and a failed enable or regenerate returns no
// codes and leaves the stored digests untouched.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
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

using snapshot = std::map<std::string, mfakit::stored_record, std::less<>>;

enum class fault_mode { none, error, throw_before, throw_after, random, lose_race };

std::string_view name(fault_mode m) {
  switch (m) {
    case fault_mode::none: return "none";
    case fault_mode::error: return "store returns an error";
    case fault_mode::throw_before: return "store throws before the call takes effect";
    case fault_mode::throw_after: return "store throws after the call took effect";
    case fault_mode::random: return "random source fails";
    case fault_mode::lose_race: return "a compare-and-swap loses a race";
  }
  return "?";
}

/// A deterministic random source that fails at its fail_at-th fill.
struct rng_state {
  std::mt19937_64 gen{20261127};
  long calls = 0;
  long fail_at = -1;
  bool tripped = false;
};
struct fault_rng {
  std::shared_ptr<rng_state> s;
  bool fill(std::span<unsigned char> out) {
    if (s->calls++ == s->fail_at) {
      s->tripped = true;
      return false;
    }
    for (auto& b : out) b = static_cast<unsigned char>(s->gen() >> 56U);
    return true;
  }
};
static_assert(mfakit::random_source<fault_rng>);

/// memory_store behind a fault injector that also records what it was asked.
class faulty_store {
 public:
  long fail_at = -1;
  fault_mode mode = fault_mode::none;
  bool tripped = false;
  bool recording = false;
  long calls = 0;
  std::vector<std::string> trace;  // "load <key>" / "cas <key>"
  std::vector<snapshot> after;     // with recording: the content after each call

  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    const bool fail = begin("load", key);
    if (fail && mode == fault_mode::error) return std::make_error_code(std::errc::io_error);
    if (fail && mode == fault_mode::throw_before) throw std::runtime_error("injected: connection reset");
    auto r = inner_.load(key);
    if (fail) throw std::runtime_error("injected: answer lost");
    end();
    return r;
  }

  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    keys_.insert(std::string(key));
    if (mode == fault_mode::lose_race && cas_calls_++ == fail_at) {  // someone else wrote first
      trace.push_back(fmt::format("cas {} (lost)", key));
      tripped = true;
      return false;
    }
    const bool fail = begin("cas", key);
    if (fail && mode == fault_mode::error) return std::make_error_code(std::errc::io_error);
    if (fail && mode == fault_mode::throw_before) throw std::runtime_error("injected: connection reset");
    auto r = inner_.compare_and_swap(key, expected, next);
    if (fail) throw std::runtime_error("injected: answer lost");
    end();
    return r;
  }

  /// Every record the store holds (keys are learnt from the writes).
  [[nodiscard]] snapshot content() const {
    snapshot s;
    for (const auto& k : keys_) {
      auto r = inner_.load(k);
      if (r && *r) s.emplace(k, **r);
    }
    return s;
  }

  void arm(fault_mode m, long at) {
    mode = m;
    fail_at = at;
    calls = 0;
    cas_calls_ = 0;
    tripped = false;
    trace.clear();
    after.clear();
  }
  void disarm() { arm(fault_mode::none, -1); }

 private:
  bool begin(std::string_view what, std::string_view key) {
    trace.push_back(fmt::format("{} {}", what, key));
    const bool fail =
        (mode == fault_mode::error || mode == fault_mode::throw_before || mode == fault_mode::throw_after) &&
        calls == fail_at;
    ++calls;
    if (fail) tripped = true;
    return fail;
  }
  void end() {
    if (recording) after.push_back(content());
  }

  mfakit::memory_store inner_;
  std::set<std::string, std::less<>> keys_;
  long cas_calls_ = 0;
};
static_assert(mfakit::record_store<faulty_store>);

using svc_t = test_loop::service<faulty_store, mfakit::testing::manual_clock, fault_rng>;

const std::string user = "alice";

struct world {
  faulty_store store;
  mfakit::testing::manual_clock clock;
  std::shared_ptr<rng_state> rng = std::make_shared<rng_state>();
  std::shared_ptr<std::vector<mfakit::event>> events = std::make_shared<std::vector<mfakit::event>>();
  std::optional<svc_t> svc;
  mfakit::secret key;
  std::vector<mfakit::backup_code> codes;
  std::string token;

  world() {
    // key 2 is current; key 1 is an older key of the ring (reseal moves records off it)
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(
                                2, {mfakit::sealing_key(1, ring_key(0x42)), mfakit::sealing_key(2, ring_key(0x43))})
                                .value());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.throttle = mfakit::throttle_policy::nist();
    auto sink = events;
    mfakit::service_options<> opts;
    opts.on_event = [sink](const mfakit::event& e) { sink->push_back(e); };
    clock.set(1'700'000'010);
    svc.emplace(store, std::move(cfg), std::move(opts), clock, fault_rng{rng});
  }

  static std::array<unsigned char, 32> ring_key(unsigned char fill) {
    std::array<unsigned char, 32> k{};
    k.fill(fill);
    return k;
  }

  std::string code_now() const { return mfakit::totp(key.bytes(), clock.unix_time())->to_string(); }
  std::string wrong_code_now() const {
    std::set<std::string> near;
    for (int d = -2; d <= 2; ++d) near.insert(mfakit::totp(key.bytes(), clock.unix_time() + 30 * d)->to_string());
    for (unsigned v = 111111;; v += 1) {
      std::string c = fmt::format("{:06}", v % 1000000);
      if (!near.contains(c)) return c;
    }
  }

  // the states operations start from (faults disarmed)
  void pending() {
    auto s = svc->setup(user, "alice@example.com");
    REQUIRE(s);
    key = std::move(s->key);
  }
  void enabled() {
    pending();
    auto e = svc->enable(user, code_now());
    REQUIRE(e);
    codes = std::move(e->backup_codes);
    clock.advance(30);  // the enable step is burned
  }
  // enabled by a service that still sealed with key 1 (before the rotation)
  void enabled_under_old_key() {
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, ring_key(0x42))}).value());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    svc_t old(store, std::move(cfg), clock, fault_rng{rng});
    auto s = old.setup(user, "alice@example.com");
    REQUIRE(s);
    key = std::move(s->key);
    REQUIRE(old.enable(user, code_now()));
    clock.advance(30);
  }
  void challenged() {
    enabled();
    auto c = svc->begin_login(user);
    REQUIRE(c);
    token = c->token;
  }
};

/// What an operation answered.
struct outcome {
  std::error_code ec;
  std::vector<std::string> codes;  // backup codes handed out
  std::string describe() const { return ec ? ec.message() : "success"; }
};

template <class T>
outcome from(const mfakit::result<T>& r) {
  return {r.error(), {}};
}

struct operation {
  std::string name;
  std::function<void(world&)> prepare;
  std::function<outcome(world&)> run;
};

std::vector<operation> operations() {
  using W = world;
  return {
      {"setup (new user)", [](W&) {}, [](W& w) { return from(w.svc->setup(user, "alice@example.com")); }},
      {"setup (replacing a pending secret)", [](W& w) { w.pending(); },
       [](W& w) { return from(w.svc->setup(user, "alice@example.com")); }},
      {"enable", [](W& w) { w.pending(); },
       [](W& w) {
         auto r = w.svc->enable(user, w.code_now());
         outcome o = from(r);
         if (r)
           for (const auto& c : r->backup_codes) o.codes.emplace_back(c.str());
         return o;
       }},
      {"enable with a wrong code", [](W& w) { w.pending(); },
       [](W& w) { return from(w.svc->enable(user, w.wrong_code_now())); }},
      {"begin_login", [](W& w) { w.enabled(); }, [](W& w) { return from(w.svc->begin_login(user)); }},
      {"complete_login, TOTP", [](W& w) { w.challenged(); },
       [](W& w) { return from(w.svc->complete_login(w.token, w.code_now(), factor::totp)); }},
      {"complete_login, backup code", [](W& w) { w.challenged(); },
       [](W& w) { return from(w.svc->complete_login(w.token, w.codes[4].str(), factor::backup_code)); }},
      {"complete_login, wrong TOTP", [](W& w) { w.challenged(); },
       [](W& w) { return from(w.svc->complete_login(w.token, w.wrong_code_now(), factor::totp)); }},
      {"complete_login, wrong backup code", [](W& w) { w.challenged(); },
       [](W& w) { return from(w.svc->complete_login(w.token, "zzzz-zzzz", factor::backup_code)); }},
      {"step-up verify, TOTP", [](W& w) { w.enabled(); },
       [](W& w) { return from(w.svc->verify(user, w.code_now(), factor::totp)); }},
      {"step-up verify, backup code", [](W& w) { w.enabled(); },
       [](W& w) { return from(w.svc->verify(user, w.codes[1].str(), factor::backup_code)); }},
      {"disable", [](W& w) { w.enabled(); }, [](W& w) { return from(w.svc->disable(user)); }},
      {"disable (pending)", [](W& w) { w.pending(); }, [](W& w) { return from(w.svc->disable(user)); }},
      {"regenerate_backup_codes", [](W& w) { w.enabled(); },
       [](W& w) {
         auto r = w.svc->regenerate_backup_codes(user);
         outcome o = from(r);
         if (r)
           for (const auto& c : r->backup_codes) o.codes.emplace_back(c.str());
         return o;
       }},
      {"status", [](W& w) { w.enabled(); }, [](W& w) { return from(w.svc->status(user)); }},
      {"reseal (after a key rotation)", [](W& w) { w.enabled_under_old_key(); },
       [](W& w) { return from(w.svc->reseal(user)); }},
  };
}

std::string describe(const snapshot& s) {
  std::string out;
  for (const auto& [k, r] : s) out += fmt::format("  {} v{} ({} bytes)\n", k, r.version, r.bytes.size());
  return out.empty() ? "  (empty)\n" : out;
}

std::optional<mfakit::challenge_record> challenge_in(const snapshot& s) {
  for (const auto& [k, r] : s)
    if (k.rfind("mfakit/challenge/", 0) == 0) return mfakit::decode_challenge(r.bytes).value();
  return std::nullopt;
}

struct reference {
  snapshot before;
  std::vector<snapshot> after;  // after each store call
  std::vector<std::string> trace;
  outcome result;
  std::vector<mfakit::event_kind> events;
  long random_calls = 0;
  long decisive = -1;  // the call whose write makes the outcome true
};

std::unique_ptr<world> fresh(const operation& op) {
  auto w = std::make_unique<world>();
  op.prepare(*w);
  w->store.disarm();
  w->events->clear();
  w->rng->calls = 0;
  return w;
}

std::vector<mfakit::event_kind> kinds(const std::vector<mfakit::event>& events) {
  std::vector<mfakit::event_kind> k;
  for (const auto& e : events) k.push_back(e.kind);
  return k;
}

reference reference_run(const operation& op) {
  auto w = fresh(op);
  reference ref;
  ref.before = w->store.content();
  w->store.recording = true;
  ref.result = op.run(*w);
  ref.after = w->store.after;
  ref.trace = w->store.trace;
  ref.events = kinds(*w->events);
  ref.random_calls = w->rng->calls;
  // the decisive write: the last write of the account record, else the last write
  const std::string account_cas = "cas " + mfakit::account_key(user);
  for (std::size_t i = 0; i < ref.trace.size(); ++i)
    if (ref.trace[i] == account_cas) ref.decisive = static_cast<long>(i);
  if (ref.decisive < 0)
    for (std::size_t i = 0; i < ref.trace.size(); ++i)
      if (ref.trace[i].rfind("cas ", 0) == 0) ref.decisive = static_cast<long>(i);
  return ref;
}

/// Checks that the codes handed out are exactly the stored set.
void check_codes_persisted(world& w, const outcome& o) {
  auto stored = w.store.content();
  auto it = stored.find(mfakit::account_key(user));
  REQUIRE(it != stored.end());
  const auto rec = mfakit::decode_account(it->second.bytes).value();
  REQUIRE(rec.backup.digests.size() == o.codes.size());
  const mfakit::flow_config& cfg = w.svc->config();  // the codes are peppered with its box's key
  for (const auto& c : o.codes) CHECK(cfg.hasher.match(rec.backup, c, cfg.box.backup_code_peppers()));
}

/// Two snapshots equal but for the write id of the account record (and the
/// sealed secret, which setup and reseal seal again under a fresh nonce).
bool same_but_fresh_randomness(const snapshot& a, const snapshot& b, std::string_view op) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, rec] : a) {
    auto it = b.find(key);
    if (it == b.end() || it->second.version != rec.version) return false;
    if (key.rfind("mfakit/account/", 0) != 0) {
      if (it->second.bytes != rec.bytes) return false;
      continue;
    }
    auto x = mfakit::decode_account(rec.bytes).value();
    auto y = mfakit::decode_account(it->second.bytes).value();
    x.written_by = y.written_by;
    if (op.rfind("setup", 0) == 0 || op.rfind("reseal", 0) == 0) x.sealed_secret = y.sealed_secret;  // a new nonce
    if (!(x == y)) return false;
  }
  return true;
}

struct tally {
  std::size_t runs = 0, faults = 0, after_decisive_write = 0;
};

void check_fault(const operation& op, const reference& ref, fault_mode mode, long k, tally& t) {
  auto w = fresh(op);
  const snapshot s0 = w->store.content();
  REQUIRE(s0 == ref.before);  // identical worlds
  if (mode == fault_mode::random) {
    w->rng->fail_at = k;
  } else {
    w->store.arm(mode, k);
  }
  const outcome got = op.run(*w);
  const bool tripped = mode == fault_mode::random ? w->rng->tripped : w->store.tripped;
  w->store.disarm();
  const snapshot s1 = w->store.content();
  ++t.runs;

  INFO(
      fmt::format("{}: {} at call {} (of {} store calls, {} random fills in the fault-free run)\n"
                  "fault-free store calls: {}\nanswer: {} (fault-free: {})\nbefore:\n{}after:\n{}",
                  op.name, name(mode), k, ref.trace.size(), ref.random_calls, fmt::join(ref.trace, ", "),
                  got.describe(), ref.result.describe(), describe(s0), describe(s1)));

  if (!tripped) {  // past the last call: the fault-free answer and state
    CHECK(got.ec == ref.result.ec);
    CHECK(s1 == (ref.after.empty() ? ref.before : ref.after.back()));
    CHECK(kinds(*w->events) == ref.events);
    if (!got.codes.empty()) check_codes_persisted(*w, got);
    return;
  }
  ++t.faults;

  if (mode == fault_mode::lose_race) {
    // a lost race is no failure: the service decides again on what won
    if (op.name == "begin_login") {
      CHECK(got.ec == errc::storage_conflict);  // begin_login: a token collision, 2^-256
      CHECK(s1 == s0);
      return;
    }
    CHECK(got.ec == ref.result.ec);
    CHECK(kinds(*w->events) == ref.events);
    CHECK(got.codes.size() == ref.result.codes.size());
    if (!got.codes.empty()) {
      check_codes_persisted(*w, got);
      // the codes and their KDF were made once for the request, not once per round
      CHECK(w->rng->calls == ref.random_calls);
    }
    return;
  }
  if (mode == fault_mode::random) {
    CHECK(got.ec == errc::random_failure);
    CHECK(got.codes.empty());
    CHECK(s1 == s0);
    CHECK(w->events->empty());
    return;
  }

  const bool account_write = ref.trace.at(static_cast<std::size_t>(k)).rfind("cas mfakit/account/", 0) == 0;
  if ((mode == fault_mode::error || mode == fault_mode::throw_before) && k == ref.decisive && account_write) {
    // The account write failed without taking effect: the operation reads
    // the record back, finds the version it loaded (nothing landed), and
    // decides again on it, like after a lost race. The answer is the
    // fault-free one; the store holds the fault-free result except for what
    // a new decision draws afresh (the write id; setup's new secret).
    CHECK(got.ec == ref.result.ec);
    CHECK(got.codes.size() == ref.result.codes.size());
    CHECK(kinds(*w->events) == ref.events);
    CHECK(same_but_fresh_randomness(s1, ref.after.empty() ? ref.before : ref.after.back(), op.name));
    if (!got.codes.empty()) check_codes_persisted(*w, got);
    return;
  }
  if (mode == fault_mode::throw_after && k == ref.decisive && account_write) {
    // The account write landed but its answer was lost: the service reads
    // the record back, finds its own bytes, and answers as without the fault
    // (no backup code is stored unseen).
    CHECK(got.ec == ref.result.ec);
    CHECK(got.codes.size() == ref.result.codes.size());
    CHECK(kinds(*w->events) == ref.events);
    CHECK(s1 == (ref.after.empty() ? ref.before : ref.after.back()));
    if (!got.codes.empty()) check_codes_persisted(*w, got);
    return;
  }
  // what the store must hold: every call before k took effect, and k itself when it did
  const long effective = mode == fault_mode::throw_after ? k : k - 1;
  const snapshot& expected = effective < 0 ? ref.before : ref.after.at(static_cast<std::size_t>(effective));
  CHECK(s1 == expected);

  if (k > ref.decisive && ref.decisive >= 0) {
    // The account write is stored (the code is spent, and its events say
    // so), but the challenge could not be deleted: fail closed, no login.
    ++t.after_decisive_write;
    CHECK(got.ec == errc::storage_failure);
    CHECK(kinds(*w->events) == ref.events);
    // ... and what it leaves: the challenge, with its attempt spent
    if (auto before = challenge_in(ref.before)) {
      if (auto left = challenge_in(s1)) {
        CHECK(left->attempts == before->attempts + 1);
      } else {  // gone only if the delete itself took effect
        CHECK(mode == fault_mode::throw_after);
        CHECK(k + 1 == static_cast<long>(ref.trace.size()));
      }
    }
    return;
  }
  CHECK(got.ec == errc::storage_failure);  // never a verdict on the code
  CHECK(got.codes.empty());
  CHECK(w->events->empty());
  // the account record: untouched unless the decisive write itself took effect
  const std::string account = mfakit::account_key(user);
  const bool committed = mode == fault_mode::throw_after && k == ref.decisive;
  if (!committed) {
    CHECK(s1.contains(account) == s0.contains(account));
    if (s0.contains(account) && s1.contains(account)) CHECK(s1.at(account) == s0.at(account));  // digests included
  }
  // anything else that changed is the challenge with one more attempt spent
  for (const auto& [key, rec] : s1) {
    if (key == account || (s0.contains(key) && s0.at(key) == rec)) continue;
    INFO("changed: " << key);
    REQUIRE(key.rfind("mfakit/challenge/", 0) == 0);
    const auto before = challenge_in(s0);
    if (before) {
      const auto now = mfakit::decode_challenge(rec.bytes).value();
      CHECK(now.user == before->user);
      CHECK(now.expires_at == before->expires_at);
      CHECK(now.attempts == before->attempts + 1);
    } else {
      CHECK(committed);  // begin_login: the challenge is the decisive write
    }
  }
}

}  // namespace

TEST_CASE("a fault at any store call or random fill: nothing claimed, nothing half-done", "[fault]") {
  std::map<std::string, tally> tallies;
  for (const auto& op : operations()) {
    const reference ref = reference_run(op);
    INFO(op.name);
    REQUIRE_FALSE(ref.trace.empty());
    if (!ref.result.codes.empty()) {
      auto w = fresh(op);
      const outcome o = op.run(*w);
      check_codes_persisted(*w, o);
    }
    for (fault_mode mode : {fault_mode::error, fault_mode::throw_before, fault_mode::throw_after, fault_mode::random,
                            fault_mode::lose_race}) {
      tally& t = tallies[fmt::format("{} / {}", op.name, name(mode))];
      for (long k = 0;; ++k) {
        REQUIRE(k < 64);
        const std::size_t faults_before = t.faults;
        check_fault(op, ref, mode, k, t);
        if (t.faults == faults_before) break;  // ran to the end: every call site had its turn
      }
      long expected_faults = static_cast<long>(ref.trace.size());
      if (mode == fault_mode::random) expected_faults = ref.random_calls;
      if (mode == fault_mode::lose_race)
        expected_faults = std::count_if(ref.trace.begin(), ref.trace.end(),
                                        [](const std::string& c) { return c.rfind("cas ", 0) == 0; });
      CHECK(static_cast<long>(t.faults) == expected_faults);
    }
  }
  std::size_t runs = 0, faults = 0, after_decisive = 0;
  for (const auto& [k, t] : tallies) {
    runs += t.runs;
    faults += t.faults;
    after_decisive += t.after_decisive_write;
  }
  WARN(fmt::format("{} operations x 5 fault kinds: {} runs, {} injected faults ({} after the decisive write)",
                   operations().size(), runs, faults, after_decisive));
}

TEST_CASE("the store calls of each operation are the ones the fault test assumes", "[fault]") {
  // complete_login's order is what makes "at most one attempt spent" hold
  operation op = operations()[5];
  REQUIRE(op.name == "complete_login, TOTP");
  const reference ref = reference_run(op);
  const std::string ck = "mfakit/challenge/";
  REQUIRE(ref.trace.size() == 6);
  CHECK(ref.trace[0].rfind("load " + ck, 0) == 0);
  CHECK(ref.trace[1] == "load " + mfakit::account_key(user));
  CHECK(ref.trace[2].rfind("cas " + ck, 0) == 0);
  CHECK(ref.trace[3] == "cas " + mfakit::account_key(user));
  CHECK(ref.trace[4].rfind("load " + ck, 0) == 0);
  CHECK(ref.trace[5].rfind("cas " + ck, 0) == 0);
  CHECK(ref.decisive == 3);
  CHECK_FALSE(ref.result.ec);
  CHECK_FALSE(challenge_in(ref.after.back()));  // a successful login deletes its challenge

  // reseal really moves the record (a nonce drawn, one write), so its faults test something
  const auto ops = operations();
  auto reseal = std::find_if(ops.begin(), ops.end(), [](const operation& o) { return o.name.rfind("reseal", 0) == 0; });
  REQUIRE(reseal != ops.end());
  const reference moved = reference_run(*reseal);
  CHECK_FALSE(moved.result.ec);
  REQUIRE(moved.trace.size() == 2);
  CHECK(moved.trace[1] == "cas " + mfakit::account_key(user));
  CHECK(moved.random_calls == 2);  // the nonce, and this service's first batch of write ids
  CHECK(moved.after.back() != moved.before);
}

namespace {
/// A store whose every write loses the race (someone else always wins).
struct losing_store {
  mfakit::memory_store inner;
  long writes = 0;
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return inner.load(key); }
  mfakit::result<bool> compare_and_swap(std::string_view, std::uint64_t, const std::optional<std::string>&) {
    ++writes;
    return false;
  }
};
}  // namespace

TEST_CASE("a store that always loses the race: storage_conflict after the retry budget, nothing handed out",
          "[fault]") {
  // build the state on a normal world, then copy the records into a losing store
  world w;
  w.challenged();
  losing_store lose;
  for (const auto& [k, r] : w.store.content()) REQUIRE(lose.inner.compare_and_swap(k, 0, r.bytes).value());
  std::array<unsigned char, 32> key{};
  key.fill(0x42);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)}).value());
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  mfakit::service_options<> opts;
  opts.max_retries = 7;
  test_loop::service<losing_store, mfakit::testing::manual_clock> svc(lose, std::move(cfg), opts, w.clock);

  auto r = svc.regenerate_backup_codes(user);
  CHECK(r.error() == errc::storage_conflict);
  CHECK(lose.writes == 7);
  lose.writes = 0;
  CHECK(svc.complete_login(w.token, w.code_now()).error() == errc::storage_conflict);
  CHECK(lose.writes == 7);
  lose.writes = 0;
  CHECK(svc.setup("bob", "bob@example.com").error() == errc::storage_conflict);
  CHECK(svc.disable(user).error() == errc::storage_conflict);
  CHECK(svc.begin_login(user).error() == errc::storage_conflict);
  auto st = svc.status(user);  // nothing changed
  REQUIRE(st);
  CHECK(st->totp_enabled);
  CHECK(st->backup_codes_remaining == 10);
}
