// Throttling (throttle.hpp, and the service around it): the policy tables,
// arithmetic that cannot overflow, and an attacker with unlimited parallel
// requests over 30 simulated days, whose evaluated guesses are counted
// against a bound computed from the policy. A throttled attempt is refused
// before the secret is opened or a KDF runs; TOTP and backup code failures
// feed one counter. Also: max_delay caps a delay (the lock still ends an
// attack), the host learns the retry-after, and an administrator's reset
// clears a delay or a lock.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>
#include <mfakit/throttle.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <dlfcn.h>

#include <fmt/format.h>

#include "catch.hpp"
#include "loop.hpp"

// Counts the scrypt runs of this program: a definition in the executable
// takes the calls that mfakit's inline code makes, then forwards to
// libcrypto's. So "no KDF ran" is a count, not a timing.
namespace {
std::atomic<long> scrypt_runs{0};
}
extern "C" int EVP_PBE_scrypt(const char* pass, size_t passlen, const unsigned char* salt, size_t saltlen, uint64_t N,
                              uint64_t r, uint64_t p, uint64_t maxmem, unsigned char* key, size_t keylen) {
  using fn = int (*)(const char*, size_t, const unsigned char*, size_t, uint64_t, uint64_t, uint64_t, uint64_t,
                     unsigned char*, size_t);
  static const auto real = reinterpret_cast<fn>(dlsym(RTLD_NEXT, "EVP_PBE_scrypt"));  // NOLINT
  ++scrypt_runs;
  return real(pass, passlen, salt, saltlen, N, r, p, maxmem, key, keylen);
}

using mfakit::errc;
using mfakit::factor;
using mfakit::throttle_policy;
using mfakit::throttle_verdict;
using kind = mfakit::throttle_verdict::kind;

namespace {

constexpr std::int64_t i64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::uint32_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t t0 = 1'700'000'000;

throttle_verdict at(const throttle_policy& p, std::uint32_t failures, std::int64_t last, std::int64_t now) {
  return mfakit::check_throttle(p, {failures, last}, now);
}

std::int64_t pow2(unsigned e) { return std::int64_t{1} << e; }

// --- a service on a memory store with a hand-moved clock --------------------------

using svc_t = test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock>;

struct world {
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::shared_ptr<std::vector<mfakit::event>> events = std::make_shared<std::vector<mfakit::event>>();
  std::optional<svc_t> svc;
  std::string user = "mallory-target";
  mfakit::secret key;
  std::vector<mfakit::backup_code> codes;

  explicit world(throttle_policy policy) {
    std::array<unsigned char, 32> k{};
    k.fill(0x5A);
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, k)}).value());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.throttle = policy;
    auto sink = events;
    mfakit::service_options<> opts;
    opts.on_event = [sink](const mfakit::event& e) { sink->push_back(e); };
    clock.set(t0);
    svc.emplace(store, std::move(cfg), std::move(opts), clock);
  }

  const mfakit::flow_config& cfg() const { return svc->config(); }

  std::string code_at(std::int64_t t) const {
    return mfakit::totp(key.bytes(), t, {cfg().alg, cfg().digits, cfg().period, 0})->to_string();
  }

  void enrol() {
    auto s = svc->setup(user, "target@example.com");
    REQUIRE(s);
    key = std::move(s->key);
    auto e = svc->enable(user, code_at(clock.unix_time()));
    REQUIRE(e);
    codes = std::move(e->backup_codes);
    events->clear();
  }

  /// A TOTP code that matches no step of the window now (nor any earlier one).
  std::string wrong_totp() const {
    std::set<std::string> near;
    const std::int64_t now = clock.unix_time();
    for (std::int64_t d = -3; d <= 3; ++d) near.insert(code_at(now + d * cfg().period));
    for (unsigned v = 0;; ++v) {
      std::string c = fmt::format("{:06}", (v * 7919U + 123456U) % 1000000U);
      if (!near.contains(c)) return c;
    }
  }

  /// A well-formed backup code that is not one of the user's.
  std::string wrong_backup() const {
    std::set<std::string> mine;
    for (const auto& c : codes) mine.insert(std::string(c.str()));
    for (std::string c : {"aaaa-aaaa", "bbbb-bbbb", "cccc-cccc"})
      if (!mine.contains(c)) return c;
    return "dddd-dddd";
  }

  mfakit::account_record record() const {
    auto stored = store.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    return mfakit::decode_account((*stored)->bytes).value();
  }

  void put(const mfakit::account_record& r) {
    auto stored = store.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    REQUIRE(store.compare_and_swap(mfakit::account_key(user), (*stored)->version, mfakit::encode(r)).value());
  }

  std::uint32_t challenge_attempts(const std::string& token) const {
    auto stored = store.load(mfakit::flow::challenge_key(token).value());
    REQUIRE(stored);
    REQUIRE(*stored);
    return mfakit::decode_challenge((*stored)->bytes).value().attempts;
  }

  std::optional<mfakit::event> last_event(mfakit::event_kind k) const {
    for (auto it = events->rbegin(); it != events->rend(); ++it)
      if (it->kind == k) return *it;
    return std::nullopt;
  }
};

struct attack_outcome {
  std::size_t evaluated = 0;        // guesses the verifier actually checked
  std::size_t rejected_events = 0;  // code_rejected events (reason mismatch)
  std::size_t refused = 0;          // requests refused as throttled or locked
  std::size_t lock_events = 0;
  bool locked_for_good = false;
};

/// An attacker who knows the password (so can start any number of logins)
/// and sends as many requests as it likes: at each moment it sends guesses
/// until one is refused, then jumps the clock to exactly the retry-after the
/// service announced. TOTP and backup code guesses alternate.
attack_outcome attack(world& w, std::int64_t horizon) {
  attack_outcome out;
  const std::int64_t start = w.clock.unix_time();
  std::string token;
  bool totp_turn = true;
  std::size_t requests = 0;
  while (w.clock.unix_time() < start + horizon) {
    REQUIRE(++requests < 1'000'000);
    if (token.empty()) {
      auto c = w.svc->begin_login(w.user);
      REQUIRE(c);
      token = c->token;
    }
    const factor via = totp_turn ? factor::totp : factor::backup_code;
    const std::string guess = totp_turn ? w.wrong_totp() : w.wrong_backup();
    auto r = w.svc->complete_login(token, guess, via);
    REQUIRE_FALSE(r);  // every guess is wrong
    const std::error_code ec = r.error();
    if (ec == errc::code_mismatch) {
      ++out.evaluated;
      totp_turn = !totp_turn;
    } else if (ec == errc::challenge_exhausted || ec == errc::challenge_invalid) {
      token.clear();  // five attempts used, or five minutes passed while waiting: log in again
    } else if (ec == errc::throttled || ec == errc::locked) {
      ++out.refused;
      auto e = w.last_event(mfakit::event_kind::throttled);
      REQUIRE(e);
      REQUIRE(r.retry_after() == e->retry_after);  // what the host sends as Retry-After
      if (ec == errc::locked && r.retry_after() == 0) {
        out.locked_for_good = true;
        break;
      }
      REQUIRE(r.retry_after() > 0);
      w.clock.advance(r.retry_after());
    } else {
      FAIL("unexpected error during the attack: " << ec.message());
    }
  }
  for (const auto& e : *w.events) {
    if (e.kind == mfakit::event_kind::code_rejected && e.reason == mfakit::reject_reason::mismatch)
      ++out.rejected_events;
    if (e.kind == mfakit::event_kind::locked) ++out.lock_events;
  }
  return out;
}

/// The most guesses a policy lets through in [0, horizon), from its
/// definition: after the n-th consecutive failure the next attempt waits
/// base * 2^(n-1) s (at most max_delay, when set); at lock_after failures,
/// attempts stop (for lock_duration s after the last failure, then the count
/// restarts).
std::size_t policy_bound(const throttle_policy& p, std::int64_t horizon) {
  std::int64_t t = 0, last = 0;
  std::uint64_t failures = 0;
  std::size_t guesses = 0;
  while (t < horizon) {
    if (p.lock_after != 0 && failures >= p.lock_after) {
      if (p.lock_duration == 0) break;
      if (t < last + p.lock_duration) {
        t = last + p.lock_duration;
        continue;
      }
      failures = 0;
    }
    if (failures > 0 && p.base_delay > 0) {
      std::int64_t wait = p.base_delay * pow2(static_cast<unsigned>(std::min<std::uint64_t>(failures - 1, 40)));
      if (p.max_delay > 0) wait = std::min(wait, p.max_delay);
      if (t < last + wait) {
        t = last + wait;
        continue;
      }
    }
    ++guesses;
    ++failures;
    last = t;
  }
  return guesses;
}

}  // namespace

TEST_CASE("nist: delays of 1, 2, 4 ... seconds, a permanent lock at 100", "[throttle]") {
  const auto p = throttle_policy::nist();
  CHECK(p.base_delay == 1);
  CHECK(p.lock_after == 100);
  CHECK(p.lock_duration == 0);
  CHECK(at(p, 0, 0, t0).what == kind::allowed);
  for (std::uint32_t n = 1; n <= 99; ++n) {
    const std::int64_t delay = pow2(std::min(n - 1, 40U));
    CHECK(mfakit::throttle_delay(p, n) == delay);
    const auto just_after = at(p, n, t0, t0);
    CHECK(just_after.what == kind::delayed);
    CHECK(just_after.retry_after == delay);
    const auto one_before = at(p, n, t0, t0 + delay - 1);
    CHECK(one_before.what == kind::delayed);
    CHECK(one_before.retry_after == 1);
    const auto on_time = at(p, n, t0, t0 + delay);
    CHECK(on_time.what == kind::allowed);
    CHECK_FALSE(on_time.lock_expired);
  }
  for (std::uint32_t n : {100U, 101U, 1000U, u32_max}) {
    for (std::int64_t later : {std::int64_t{0}, std::int64_t{1}, pow2(40), std::int64_t{100} * 365 * 86400}) {
      const auto v = at(p, n, t0, t0 + later);
      CHECK(v.what == kind::locked);
      CHECK(v.retry_after == 0);  // no time unlocks it
      CHECK_FALSE(v.lock_expired);
    }
  }
}

TEST_CASE("pci_dss: ten failures lock for 30 minutes, then the count restarts", "[throttle]") {
  const auto p = throttle_policy::pci_dss();
  CHECK(p.base_delay == 0);
  CHECK(p.lock_after == 10);
  CHECK(p.lock_duration == 1800);
  for (std::uint32_t n = 0; n < 10; ++n) {
    CHECK(mfakit::throttle_delay(p, n) == 0);
    CHECK(at(p, n, t0, t0).what == kind::allowed);
  }
  for (std::uint32_t n : {10U, 11U, u32_max}) {
    auto v = at(p, n, t0, t0);
    CHECK(v.what == kind::locked);
    CHECK(v.retry_after == 1800);
    v = at(p, n, t0, t0 + 1799);
    CHECK(v.what == kind::locked);
    CHECK(v.retry_after == 1);
    v = at(p, n, t0, t0 + 1800);
    CHECK(v.what == kind::allowed);
    CHECK(v.lock_expired);
    CHECK(at(p, n, t0, t0 + 86400).lock_expired);
  }
}

TEST_CASE("unsafe_none never delays or locks", "[throttle]") {
  const auto p = throttle_policy::unsafe_none();
  for (std::uint32_t n : {0U, 1U, 100U, u32_max}) {
    CHECK(mfakit::throttle_delay(p, n) == 0);
    const auto v = at(p, n, t0, t0);
    CHECK(v.what == kind::allowed);
    CHECK_FALSE(v.lock_expired);
  }
}

TEST_CASE("throttle arithmetic cannot overflow", "[throttle]") {
  // huge counts: the delay is capped at base * 2^40
  for (std::uint32_t n : {41U, 42U, 64U, 65U, 1000U, u32_max - 1, u32_max})
    CHECK(mfakit::throttle_delay(throttle_policy::nist(), n) == pow2(40));
  // a huge base delay is capped too
  for (std::int64_t base : {pow2(22), pow2(22) + 1, pow2(40), i64_max}) {
    const throttle_policy p{base, 0, 0};
    for (std::uint32_t n : {1U, 2U, 41U, u32_max}) {
      const std::int64_t d = mfakit::throttle_delay(p, n);
      CHECK(d > 0);
      CHECK(d <= pow2(62));
      const auto v = at(p, n, t0, t0);
      CHECK(v.what == kind::delayed);
      CHECK(v.retry_after == d);
    }
  }
  // a lock "for ever" written as the largest duration must not wrap into the past
  const throttle_policy forever{0, 3, i64_max};
  auto v = at(forever, 3, t0, t0 + 1);
  CHECK(v.what == kind::locked);
  CHECK(v.retry_after > 0);
  CHECK_FALSE(v.lock_expired);
  v = at(forever, 3, t0, t0 + pow2(50));
  CHECK(v.what == kind::locked);
  // a failure time at the very end of the range (a damaged record): still refused
  v = at(throttle_policy::nist(), 5, i64_max - 1, i64_max - 1);
  CHECK(v.what == kind::delayed);
  CHECK(v.retry_after > 0);
  v = at(throttle_policy::pci_dss(), 10, i64_max - 1, i64_max - 1);
  CHECK(v.what == kind::locked);
  CHECK(v.retry_after > 0);
}

TEST_CASE("an attacker with unlimited parallel requests, 30 days, nist policy", "[throttle][attack]") {
  constexpr std::int64_t days30 = 30LL * 86400;
  world w(throttle_policy::nist());
  w.enrol();
  const auto out = attack(w, days30);
  const std::size_t bound = policy_bound(throttle_policy::nist(), days30);
  // closed form: guess k comes 2^(k-1) - 1 s after the first, so k <= log2(30 days + 1) + 1
  std::size_t closed = 0;
  while (pow2(static_cast<unsigned>(closed)) - 1 < days30) ++closed;
  WARN(fmt::format("nist, 30 days: {} guesses evaluated (bound {}; closed form {}), {} requests refused", out.evaluated,
                   bound, closed, out.refused));
  CHECK(bound == closed);
  CHECK(bound == 22);             // the figure the design promises: "about 22 guesses a month"
  CHECK(out.evaluated == bound);  // the attacker got exactly what the policy allows, no more
  CHECK(out.rejected_events == out.evaluated);
  CHECK(w.record().failures == out.evaluated);
  CHECK_FALSE(out.locked_for_good);
}

TEST_CASE("an attacker with unlimited parallel requests, 30 days, pci_dss policy", "[throttle][attack]") {
  constexpr std::int64_t days30 = 30LL * 86400;
  world w(throttle_policy::pci_dss());
  w.enrol();
  const auto out = attack(w, days30);
  const std::size_t bound = policy_bound(throttle_policy::pci_dss(), days30);
  const auto closed = static_cast<std::size_t>((days30 + 1799) / 1800) * 10;  // ten per 30-minute lock, relocking
  WARN(fmt::format("pci_dss, 30 days: {} guesses evaluated (bound {}; 10 per 30 min: {}), {} locks", out.evaluated,
                   bound, closed, out.lock_events));
  CHECK(bound == closed);
  CHECK(out.evaluated == bound);
  CHECK(out.rejected_events == out.evaluated);
  CHECK(out.lock_events == closed / 10);
}

TEST_CASE("a hard lock ends the attack for good, reaching it takes longer than a lifetime under nist",
          "[throttle][attack]") {
  // nist locks at 100 but its delays reach 2^40 s first: use the lock without
  // delays to see the permanent lock happen
  const throttle_policy lock_only{0, 100, 0};
  world w(lock_only);
  w.enrol();
  const auto out = attack(w, 30LL * 86400);
  CHECK(out.locked_for_good);
  CHECK(out.evaluated == 100);
  CHECK(out.lock_events == 1);
  CHECK(policy_bound(lock_only, 30LL * 86400) == 100);
  // a correct code is refused too, now and a year later
  w.clock.advance(365LL * 86400);
  auto c = w.svc->begin_login(w.user);
  REQUIRE(c);
  auto r = w.svc->complete_login(c->token, w.code_at(w.clock.unix_time()));
  CHECK(r.error() == errc::locked);
  // disable and a new enrolment start again from zero
  REQUIRE(w.svc->disable(w.user));
  w.enrol();
  CHECK(w.record().failures == 0);
}

TEST_CASE("TOTP and backup code failures feed one throttle, across challenges", "[throttle]") {
  world w(throttle_policy::nist());
  w.enrol();
  w.clock.advance(30);
  auto c1 = w.svc->begin_login(w.user);
  auto c2 = w.svc->begin_login(w.user);
  REQUIRE(c1);
  REQUIRE(c2);
  CHECK(w.svc->complete_login(c1->token, w.wrong_totp(), factor::totp).error() == errc::code_mismatch);
  CHECK(w.record().failures == 1);
  // the other challenge, the other factor: refused, it is the same account
  auto r = w.svc->complete_login(c2->token, w.wrong_backup(), factor::backup_code);
  CHECK(r.error() == errc::throttled);
  CHECK(w.last_event(mfakit::event_kind::throttled)->retry_after == 1);
  CHECK(w.challenge_attempts(c2->token) == 0);  // a refused attempt does not spend the challenge
  w.clock.advance(1);
  CHECK(w.svc->complete_login(c2->token, w.wrong_backup(), factor::backup_code).error() == errc::code_mismatch);
  CHECK(w.record().failures == 2);
  r = w.svc->complete_login(c1->token, w.code_at(w.clock.unix_time()), factor::totp);  // even a right code waits
  CHECK(r.error() == errc::throttled);
  CHECK(w.last_event(mfakit::event_kind::throttled)->retry_after == 2);
  CHECK(w.last_event(mfakit::event_kind::throttled)->failures == 2);
  w.clock.advance(2);
  CHECK(w.svc->complete_login(c1->token, w.code_at(w.clock.unix_time()), factor::totp));
  CHECK(w.record().failures == 0);

  // enable failures count too, and a new setup does not clear them
  world p(throttle_policy::nist());
  auto s = p.svc->setup(p.user, "x@example.com");
  REQUIRE(s);
  p.key = std::move(s->key);
  CHECK(p.svc->enable(p.user, p.wrong_totp()).error() == errc::code_mismatch);
  p.clock.advance(1);
  CHECK(p.svc->enable(p.user, p.wrong_totp()).error() == errc::code_mismatch);
  auto again = p.svc->setup(p.user, "x@example.com");
  REQUIRE(again);
  p.key = std::move(again->key);
  CHECK(p.record().failures == 2);
  CHECK(p.svc->enable(p.user, p.code_at(p.clock.unix_time())).error() == errc::throttled);
  p.clock.advance(2);
  CHECK(p.svc->enable(p.user, p.code_at(p.clock.unix_time())));
}

TEST_CASE("a throttled attempt is refused before the secret is opened or a KDF runs", "[throttle]") {
  // scrypt runs are counted (EVP_PBE_scrypt above); a secret that cannot be
  // opened shows whether the HMAC side was reached (seal_failure).
  std::array<unsigned char, 32> probe{};
  const long before_probe = scrypt_runs.load();
  REQUIRE(mfakit::scrypt(mfakit::as_bytes("x"), mfakit::as_bytes("salt"), {16, 1, 1}, probe));
  REQUIRE(scrypt_runs.load() == before_probe + 1);  // the counter sees mfakit's calls

  world w(throttle_policy::nist());
  w.enrol();
  w.clock.advance(30);
  // one failure: the next attempt must wait one second
  CHECK(w.svc->complete_login(w.svc->begin_login(w.user)->token, w.wrong_totp()).error() == errc::code_mismatch);
  // a record whose secret cannot be opened
  mfakit::account_record r = w.record();
  r.sealed_secret.back() = static_cast<char>(r.sealed_secret.back() ^ 1);  // the GCM tag
  w.put(r);

  auto c = w.svc->begin_login(w.user);
  REQUIRE(c);
  // throttled: refused, and nothing ran (no scrypt run, else seal_failure)
  const long runs = scrypt_runs.load();
  CHECK(w.svc->complete_login(c->token, w.codes[0].str(), factor::backup_code).error() == errc::throttled);
  CHECK(w.svc->complete_login(c->token, w.code_at(w.clock.unix_time()), factor::totp).error() == errc::throttled);
  CHECK(w.svc->verify(w.user, w.codes[0].str(), factor::backup_code).error() == errc::throttled);
  CHECK(w.svc->verify(w.user, w.code_at(w.clock.unix_time()), factor::totp).error() == errc::throttled);
  CHECK(scrypt_runs.load() == runs);
  CHECK(w.challenge_attempts(c->token) == 0);
  // once the delay is over the same attempts reach the KDF and the secret
  w.clock.advance(1);
  CHECK(w.svc->complete_login(c->token, "zzzz-zzzz", factor::backup_code).error() == errc::code_mismatch);
  CHECK(scrypt_runs.load() == runs + 1);  // one guess, one KDF run
  w.clock.advance(2);
  CHECK(w.svc->complete_login(c->token, w.code_at(w.clock.unix_time()), factor::totp).error() == errc::seal_failure);
  CHECK(w.record().failures == 2);  // environment errors are not guesses

  // the same for enable: a pending record with an unopenable secret
  world p(throttle_policy::nist());
  auto s = p.svc->setup(p.user, "x@example.com");
  REQUIRE(s);
  p.key = std::move(s->key);
  CHECK(p.svc->enable(p.user, p.wrong_totp()).error() == errc::code_mismatch);
  mfakit::account_record pr = p.record();
  pr.sealed_secret.back() = static_cast<char>(pr.sealed_secret.back() ^ 1);
  p.put(pr);
  CHECK(p.svc->enable(p.user, p.code_at(p.clock.unix_time())).error() == errc::throttled);
  p.clock.advance(1);
  CHECK(p.svc->enable(p.user, p.code_at(p.clock.unix_time())).error() == errc::seal_failure);
}

TEST_CASE("max_delay caps each delay, the lock still ends the attack", "[throttle][attack]") {
  const throttle_policy capped{1, 100, 0, 3600};
  for (std::uint32_t n = 1; n <= 12; ++n) CHECK(mfakit::throttle_delay(capped, n) == pow2(n - 1));  // up to 2048 s
  for (std::uint32_t n : {13U, 14U, 50U, 99U, u32_max}) CHECK(mfakit::throttle_delay(capped, n) == 3600);
  auto v = at(capped, 40, t0, t0 + 3599);
  CHECK(v.what == kind::delayed);
  CHECK(v.retry_after == 1);
  CHECK(at(capped, 40, t0, t0 + 3600).what == kind::allowed);
  CHECK(at(capped, 100, t0, t0 + 3600).what == kind::locked);
  CHECK(mfakit::throttle_delay({pow2(30), 0, 0, 60}, u32_max) == 60);  // the cap also bounds a huge base

  // 12 doubling delays (4095 s), then one guess an hour: 100 guesses in about
  // four days, then the permanent lock
  world w(capped);
  w.enrol();
  const auto out = attack(w, 30LL * 86400);
  const std::size_t bound = policy_bound(capped, 30LL * 86400);
  WARN(fmt::format("nist with max_delay 1 h, 30 days: {} guesses evaluated (bound {}), locked for good: {}",
                   out.evaluated, bound, out.locked_for_good));
  CHECK(bound == 100);
  CHECK(out.evaluated == bound);
  CHECK(out.locked_for_good);
  CHECK(w.clock.unix_time() - t0 == 4095 + 87 * 3600);  // the 100th guess: 12 doubling delays, 87 of an hour
}

TEST_CASE("retry-after is reported to the host, an administrator's reset clears the throttle", "[throttle]") {
  world w(throttle_policy::nist());
  w.enrol();
  w.clock.advance(30);
  for (int i = 0; i < 3; ++i) {  // three failures, waiting out each delay
    auto r = w.svc->verify(w.user, w.wrong_totp(), factor::totp);
    CHECK(r.error() == errc::code_mismatch);
    CHECK(r.retry_after() == 0);  // a mismatch is not a refusal
    w.clock.advance(pow2(static_cast<unsigned>(i)));
  }
  w.clock.advance(-4);  // back to the moment of the third failure
  // the refusal carries the retry-after
  auto refused = w.svc->verify(w.user, w.code_at(w.clock.unix_time()), factor::totp);
  CHECK(refused.error() == errc::throttled);
  CHECK(refused.retry_after() == 4);
  auto refused_enable = w.svc->complete_login(w.svc->begin_login(w.user)->token, w.wrong_totp(), factor::totp);
  CHECK(refused_enable.error() == errc::throttled);
  CHECK(refused_enable.retry_after() == 4);
  CHECK(w.svc->status(w.user).retry_after() == 0);  // a value carries none
  auto c = w.svc->begin_login(w.user);
  REQUIRE(c);
  auto refused_backup = w.svc->complete_login(c->token, w.wrong_backup(), factor::backup_code);
  CHECK(refused_backup.error() == errc::throttled);
  CHECK(refused_backup.retry_after() == 4);

  REQUIRE(w.svc->reset_throttle(w.user));
  CHECK(w.record().failures == 0);
  CHECK(w.record().last_failure == 0);
  CHECK(w.svc->complete_login(c->token, w.code_at(w.clock.unix_time()), factor::totp));  // at once

  // locked for good under a lock-only policy: the reset is the way back
  world l(throttle_policy{0, 2, 0, 0});
  l.enrol();
  l.clock.advance(30);
  CHECK(l.svc->verify(l.user, l.wrong_totp()).error() == errc::code_mismatch);
  CHECK(l.svc->verify(l.user, l.wrong_totp()).error() == errc::code_mismatch);
  auto locked = l.svc->verify(l.user, l.code_at(l.clock.unix_time()), factor::totp);
  CHECK(locked.error() == errc::locked);
  CHECK(locked.retry_after() == 0);
  REQUIRE(l.svc->reset_throttle(l.user));
  CHECK(l.svc->verify(l.user, l.code_at(l.clock.unix_time())));
  // nothing to reset without a second factor
  CHECK(l.svc->reset_throttle("nobody").error() == errc::not_enabled);
  REQUIRE(l.svc->disable(l.user));
  CHECK(l.svc->reset_throttle(l.user).error() == errc::not_enabled);
}
