// Authorship: the service reports a success, or hands out backup
// codes, only for a write it can prove is its own, whatever the store
// answers. store.hpp allows a store to report a failure as an error or an
// exception, and real ones answer a lost race that way (PostgreSQL under
// SERIALIZABLE: SQLSTATE 40001; adapters that throw on a conflict) or lose
// the answer of a write that landed (a timeout after the commit). Two
// requests redeeming the same code write byte-identical records, so "the
// stored bytes equal mine" proves nothing.
//
// The store here is memory_store behind a recorder (every account record
// that landed, in order) behind mfakit::testing::erroring_store, which
// (a) answers lost races with an error or an exception instead of false,
// (b) lets a seeded fraction of landed writes lose their answer (an error or
// an exception), or (c) both. Many threads race; for every request:
//  - one TOTP code through N challenges or N step-up checks: at most one
//    success; exactly one when only lost races fail (the winner's answer is
//    intact); a success's step is the stored last step;
//  - one backup code likewise; its code is spent by at most one request; a
//    spent code with no success answer is allowed when answers are lost
//    (the spender got storage_failure), two successes never, a success
//    whose code is still live never; the other codes all stay live;
//  - N wrong guesses: every code_mismatch answer is counted by the throttle
//    exactly once: failures == mismatch answers when only lost races fail;
//    mismatch answers <= failures <= mismatch + storage_failure answers when
//    answers are lost (a storage_failure may or may not have landed);
//  - enable raced by wrong guesses, regenerate raced by logins: every live
//    backup code was shown by a successful answer (never live codes nobody
//    saw), and the codes a successful answer showed were stored (they are
//    live, or a later write replaced them).
// And, without threads, the interleavings the races only hit sometimes:
// an enable or regenerate whose write lands, whose answer is lost, and
// another request writes the record before the service reads it back.
//
// The bodies are templates over the service type; `services` below lists
// the ones under test (a new driver is one more entry).
#include <mfakit/service.hpp>
#include <mfakit/testing/async_adapter.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"

using mfakit::errc;
using mfakit::factor;
namespace mt = mfakit::testing;

namespace {

/// memory_store that keeps every account record that landed, in the order
/// they landed (writes are serialised by the recorder; loads are not).
class recording_store {
 public:
  [[nodiscard]] mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    auto r = inner_.load(key);
    if (hook_armed_.load() && key == hook_key_ && hook_armed_.exchange(false)) hook_();
    return r;
  }
  /// Runs `f` once, right after the next load of `key` (before its caller
  /// goes on): another request that runs between a load and its write.
  void once_after_load(std::string key, std::function<void()> f) {
    hook_key_ = std::move(key);
    hook_ = std::move(f);
    hook_armed_.store(true);
  }
  [[nodiscard]] mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                                      const std::optional<std::string>& next) {
    const std::lock_guard lock(m_);
    auto r = inner_.compare_and_swap(key, expected, next);
    if (r && *r && next) history_.emplace_back(std::string(key), *next);
    return r;
  }
  /// The records that landed under `key`, oldest first.
  [[nodiscard]] std::vector<std::string> history(std::string_view key) const {
    const std::lock_guard lock(m_);
    std::vector<std::string> out;
    for (const auto& [k, bytes] : history_)
      if (k == key) out.push_back(bytes);
    return out;
  }

 private:
  mutable std::mutex m_;
  mfakit::memory_store inner_;
  std::atomic<bool> hook_armed_{false};
  std::string hook_key_;
  std::function<void()> hook_;
  std::vector<std::pair<std::string, std::string>> history_;
};
static_assert(mfakit::record_store<recording_store>);

using test_store = mt::erroring_store<recording_store>;

// The service types under test: each is constructed as
// Service svc(store, cfg, clock, rng) over test_store. Add an async-driven
// service here and every test below runs against it too.
using sync_service = mfakit::service<test_store, mt::manual_clock, mfakit::openssl_random>;
using async_service = mfakit::testing::async_driven_service<test_store, mt::manual_clock, mfakit::openssl_random>;
using services = std::tuple<sync_service, async_service>;

constexpr unsigned trials = 3;
constexpr unsigned threads = 32;
constexpr unsigned lost_per_mille = 300;

/// The fault variants every concurrent check runs under, seeded per trial.
std::vector<mt::erroring_options> variants(std::uint64_t seed) {
  return {
      mt::erroring_options::lost_races(false),
      mt::erroring_options::lost_races(true),
      mt::erroring_options::lost_answers(lost_per_mille, seed, false),
      mt::erroring_options::lost_answers(lost_per_mille, seed, true),
      mt::erroring_options::both(lost_per_mille, seed, false),
      mt::erroring_options::both(lost_per_mille, seed, true),
  };
}

mfakit::flow_config test_config(mfakit::throttle_policy throttle) {
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 11 + 3);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)}).value());
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  cfg.throttle = throttle;
  cfg.challenge_max_attempts = 5;
  return cfg;
}

// Even trials count every failure; odd ones run a real throttle (the rules
// are the same: a throttled attempt writes nothing).
mfakit::throttle_policy throttle_for(unsigned trial) {
  return trial % 2 == 0 ? mfakit::throttle_policy::unsafe_none() : mfakit::throttle_policy::nist();
}
std::string_view throttle_name(unsigned trial) { return trial % 2 == 0 ? "no throttle" : "NIST throttle"; }

/// One user's world: the store stack, a hand-moved clock, the service.
template <class Service>
struct world {
  recording_store recorder;
  test_store store{recorder};
  test_store quiet{recorder};  // never armed: for "another request" in the deterministic cases
  mt::manual_clock clock;
  mfakit::flow_config cfg;
  Service svc;
  Service other;  // the same service over `quiet`

  explicit world(mfakit::throttle_policy throttle)
      : cfg(test_config(throttle)),
        svc(store, cfg, many_rounds(), clock, mfakit::openssl_random{}),
        other(quiet, cfg, many_rounds(), clock, mfakit::openssl_random{}) {}

  static mfakit::service_options<> many_rounds() {
    mfakit::service_options<> o;
    o.max_retries = 100000;  // many contenders: every round stores at least one write
    return o;
  }

  [[nodiscard]] std::string code_at(const mfakit::secret& key, std::int64_t steps = 0) const {
    return mfakit::totp(key.bytes(), clock.unix_time() + steps * cfg.period, {cfg.alg, cfg.digits, cfg.period, 0})
        ->to_string();
  }
  [[nodiscard]] std::uint64_t step_now() const { return static_cast<std::uint64_t>(clock.unix_time() / cfg.period); }
  /// A code no step within two of now has.
  [[nodiscard]] std::string wrong_code(const mfakit::secret& key) const {
    std::set<std::string> near;
    for (std::int64_t d = -2; d <= 2; ++d) near.insert(code_at(key, d));
    for (unsigned v = 271828;; v += 7) {
      std::string c = fmt::format("{:06}", v % 1000000);
      if (!near.contains(c)) return c;
    }
  }

  /// setup + enable with faults off; the clock moves past the enable's step.
  std::pair<mfakit::secret, std::vector<mfakit::backup_code>> enrol(const std::string& user) {
    auto s = svc.setup(user, "authz@example.com");
    REQUIRE(s);
    auto e = svc.enable(user, code_at(s->key));
    REQUIRE(e);
    clock.advance(cfg.period);
    return {std::move(s->key), std::move(e->backup_codes)};
  }
  std::vector<std::string> challenges(const std::string& user, unsigned n) {
    std::vector<std::string> tokens;
    for (unsigned i = 0; i < n; ++i) {
      auto c = svc.begin_login(user);
      REQUIRE(c);
      tokens.push_back(c->token);
    }
    return tokens;
  }
  [[nodiscard]] mfakit::account_record record(const std::string& user) {
    auto stored = recorder.load(mfakit::account_key(user));
    REQUIRE(stored);
    REQUIRE(*stored);
    auto r = mfakit::decode_account((*stored)->bytes);
    REQUIRE(r);
    return *r;
  }
  [[nodiscard]] bool live(const mfakit::account_record& r, std::string_view code) const {
    return cfg.hasher.match(r.backup, code, cfg.box.backup_code_peppers()).has_value();
  }
  /// How many stored digests no code in `shown` matches: live codes nobody saw.
  [[nodiscard]] std::size_t unseen(const mfakit::account_record& r,
                                   const std::vector<std::vector<std::string>>& shown) const {
    std::set<std::size_t> seen;
    for (const auto& set : shown)
      for (const auto& c : set)
        if (auto i = cfg.hasher.match(r.backup, c, cfg.box.backup_code_peppers())) seen.insert(*i);
    return r.backup.digests.size() - seen.size();
  }
};

std::vector<std::string> strings(const std::vector<mfakit::backup_code>& codes) {
  std::vector<std::string> out;
  out.reserve(codes.size());
  for (const auto& c : codes) out.emplace_back(c.str());
  return out;
}

std::string answer_name(std::error_code ec) { return ec ? ec.message() : "success"; }

/// The answers of one race, counted.
struct tally {
  unsigned successes = 0, mismatches = 0, storage_failures = 0;
  std::map<std::string, unsigned> by_answer;
  explicit tally(const std::vector<std::error_code>& answers) {
    for (const auto& ec : answers) {
      ++by_answer[answer_name(ec)];
      if (!ec) ++successes;
      if (ec == errc::code_mismatch) ++mismatches;
      if (ec == errc::storage_failure) ++storage_failures;
    }
  }
  [[nodiscard]] std::string str() const {
    std::string s;
    for (const auto& [what, n] : by_answer) s += fmt::format("{}{} x {}", s.empty() ? "" : ", ", n, what);
    return s;
  }
};

void expect(bool ok, const std::string& what) {
  if (!ok) FAIL_CHECK(what);
}

/// Runs `body(faults, trial, user, context)` for every fault variant and
/// trial (a fresh world each: body returns its store's lost races and lost
/// answers), then checks the faults were really injected.
template <class Body>
void for_each_variant(std::string_view check, Body&& body) {
  std::uint64_t lost_races = 0, lost_answers = 0;
  for (unsigned trial = 0; trial < trials; ++trial) {
    const auto vs = variants(0xA07400 + trial);
    for (std::size_t v = 0; v < vs.size(); ++v) {
      const std::string ctx =
          fmt::format("{} [{}; trial {}, {}]", check, vs[v].describe(), trial, throttle_name(trial));
      const auto [races, answers] = body(vs[v], trial, fmt::format("user-{}-{}", trial, v), ctx);
      lost_races += races;
      lost_answers += answers;
    }
  }
  INFO(check);
  CHECK(lost_races > 0);    // the races happened and were turned into errors...
  CHECK(lost_answers > 0);  // ...and landed writes lost their answers
}

// --- one code, many requests ------------------------------------------------------------------

enum class via_path { login, step_up };
std::string_view name(via_path p) { return p == via_path::login ? "login challenges" : "step-up checks"; }

template <class Service>
void one_totp_code(via_path path) {
  for_each_variant(
      fmt::format("{} threads, one TOTP code through {}", threads, name(path)),
      [&](const mt::erroring_options& faults, unsigned trial, const std::string& user, const std::string& ctx) {
        world<Service> w(throttle_for(trial));
        auto [key, codes] = w.enrol(user);
        const auto tokens = path == via_path::login ? w.challenges(user, threads) : std::vector<std::string>{};
        const std::string code = w.code_at(key);
        const std::uint64_t step = w.step_now();
        std::vector<std::error_code> answers(threads);
        w.store.arm(faults);
        mt::detail::run_threads(threads, [&](unsigned i) {
          answers[i] = path == via_path::login ? w.svc.complete_login(tokens[i], code, factor::totp).error()
                                               : w.svc.verify(user, code, factor::totp).error();
        });
        w.store.disarm();
        const tally t(answers);
        const auto rec = w.record(user);
        expect(t.successes <= 1,
               fmt::format("{}: expected at most one success, got {} ({})", ctx, t.successes, t.str()));
        if (faults.lost_answer_per_mille == 0)
          expect(t.successes == 1,
                 fmt::format("{}: expected exactly one success (the winner's answer is intact), got {} ({})", ctx,
                             t.successes, t.str()));
        if (t.successes == 1)
          expect(rec.last_step == step, fmt::format("{}: a success, yet the stored last step is {} (expected {})", ctx,
                                                    rec.last_step ? fmt::to_string(*rec.last_step) : "none", step));
        return std::pair{w.store.lost_races(), w.store.lost_answers()};
      });
}

template <class Service>
void one_backup_code(via_path path) {
  for_each_variant(
      fmt::format("{} threads, one backup code through {}", threads, name(path)),
      [&](const mt::erroring_options& faults, unsigned trial, const std::string& user, const std::string& ctx) {
        world<Service> w(throttle_for(trial));
        auto [key, codes] = w.enrol(user);
        const auto tokens = path == via_path::login ? w.challenges(user, threads) : std::vector<std::string>{};
        const std::size_t used = trial % codes.size();
        const std::string code(codes[used].str());
        std::vector<std::error_code> answers(threads);
        w.store.arm(faults);
        mt::detail::run_threads(threads, [&](unsigned i) {
          answers[i] = path == via_path::login ? w.svc.complete_login(tokens[i], code, factor::backup_code).error()
                                               : w.svc.verify(user, code, factor::backup_code).error();
        });
        w.store.disarm();
        const tally t(answers);
        const auto rec = w.record(user);
        const std::size_t spent = codes.size() - rec.backup.digests.size();
        const bool still_live = w.live(rec, code);
        expect(t.successes <= 1,
               fmt::format("{}: expected at most one success, got {} ({})", ctx, t.successes, t.str()));
        if (faults.lost_answer_per_mille == 0) {
          expect(t.successes == 1,
                 fmt::format("{}: expected exactly one success (the winner's answer is intact), got {} ({})", ctx,
                             t.successes, t.str()));
          expect(spent == t.successes, fmt::format("{}: {} codes spent, expected exactly the {} successes ({})", ctx,
                                                   spent, t.successes, t.str()));
        } else {
          // a spent code with no success answer is allowed (its spender answered storage_failure)
          expect(spent >= t.successes && spent <= 1,
                 fmt::format("{}: {} codes spent with {} successes: expected between the successes and 1 ({})", ctx,
                             spent, t.successes, t.str()));
        }
        if (t.successes >= 1) expect(!still_live, fmt::format("{}: a success, yet its backup code is still live", ctx));
        expect(still_live == (spent == 0), fmt::format("{}: {} codes spent, the redeemed code {} live", ctx, spent,
                                                       still_live ? "still" : "no longer"));
        for (std::size_t i = 0; i < codes.size(); ++i)
          if (i != used)
            expect(w.live(rec, codes[i].str()), fmt::format("{}: backup code {} was never used, yet is gone", ctx, i));
        return std::pair{w.store.lost_races(), w.store.lost_answers()};
      });
}

template <class Service>
void wrong_guesses(via_path path) {
  for_each_variant(
      fmt::format("{} concurrent wrong guesses through {}", threads, name(path)),
      [&](const mt::erroring_options& faults, unsigned trial, const std::string& user, const std::string& ctx) {
        world<Service> w(throttle_for(trial));
        auto [key, codes] = w.enrol(user);
        const auto tokens = path == via_path::login ? w.challenges(user, threads) : std::vector<std::string>{};
        const std::string wrong = w.wrong_code(key);
        const std::uint32_t before = w.record(user).failures;
        std::vector<std::error_code> answers(threads);
        w.store.arm(faults);
        mt::detail::run_threads(threads, [&](unsigned i) {
          answers[i] = path == via_path::login ? w.svc.complete_login(tokens[i], wrong, factor::totp).error()
                                               : w.svc.verify(user, wrong, factor::totp).error();
        });
        w.store.disarm();
        const tally t(answers);
        const std::uint32_t counted = w.record(user).failures - before;
        expect(t.successes == 0, fmt::format("{}: a wrong code succeeded ({})", ctx, t.str()));
        if (faults.lost_answer_per_mille == 0) {
          expect(counted == t.mismatches,
                 fmt::format("{}: the failure count rose by {}, expected exactly the {} code_mismatch answers ({})",
                             ctx, counted, t.mismatches, t.str()));
        } else {
          expect(counted >= t.mismatches && counted <= t.mismatches + t.storage_failures,
                 fmt::format("{}: the failure count rose by {}, expected between the {} code_mismatch answers and "
                             "those plus the {} storage failures ({})",
                             ctx, counted, t.mismatches, t.storage_failures, t.str()));
        }
        return std::pair{w.store.lost_races(), w.store.lost_answers()};
      });
}

// --- backup codes nobody saw --------------------------------------------------------------------

template <class Service>
void enable_raced_by_guesses() {
  for_each_variant(
      fmt::format("two enables raced by {} wrong step-up guesses", threads - 2),
      [&](const mt::erroring_options& faults, unsigned /*trial*/, const std::string& user, const std::string& ctx) {
        world<Service> w(mfakit::throttle_policy::unsafe_none());  // every guess on an enabled account writes
        auto s = w.svc.setup(user, "authz@example.com");
        REQUIRE(s);
        const std::string code = w.code_at(s->key);
        const std::string wrong = w.wrong_code(s->key);
        std::vector<std::error_code> answers(2);
        std::vector<std::vector<std::string>> shown(2);
        std::atomic<unsigned> enables_done{0};
        w.store.arm(faults);
        mt::detail::run_threads(threads, [&](unsigned i) {
          if (i < 2) {
            auto e = w.svc.enable(user, code);
            answers[i] = e.error();
            if (e) shown[i] = strings(e->backup_codes);
            ++enables_done;
            return;
          }
          // guess until both enables answered, then once more: every guess on
          // the enabled account writes, some between an enable's write and its read-back
          while (enables_done.load() < 2) (void)w.svc.verify(user, wrong, factor::totp);
          (void)w.svc.verify(user, wrong, factor::totp);
        });
        w.store.disarm();
        const tally t(answers);
        const auto rec = w.record(user);
        const bool enabled = rec.status == mfakit::account_status::enabled;
        expect(t.successes <= 1,
               fmt::format("{}: expected at most one enable to succeed, got {} ({})", ctx, t.successes, t.str()));
        if (faults.lost_answer_per_mille == 0)
          expect(t.successes == 1,
                 fmt::format("{}: expected exactly one enable to succeed, got {} ({})", ctx, t.successes, t.str()));
        if (t.successes >= 1)
          expect(enabled, fmt::format("{}: an enable succeeded, yet the account is not enabled", ctx));
        if (enabled) {
          const std::size_t nobody_saw = w.unseen(rec, shown);
          expect(nobody_saw == 0,
                 fmt::format("{}: the account is enabled with {} of its {} live backup codes shown by no "
                             "successful answer (enable answers: {})",
                             ctx, nobody_saw, rec.backup.digests.size(), t.str()));
          for (std::size_t i = 0; i < 2; ++i)
            if (!answers[i])
              expect(rec.backup.digests.size() == shown[i].size() && w.unseen(rec, {shown[i]}) == 0,
                     fmt::format("{}: enable {} succeeded, yet its backup codes are not the stored ones", ctx, i));
        }
        return std::pair{w.store.lost_races(), w.store.lost_answers()};
      });
}

template <class Service>
void regenerate_raced_by_logins() {
  constexpr unsigned regenerators = 4;
  for_each_variant(
      fmt::format("{} regenerates raced by {} logins", regenerators, threads - regenerators),
      [&](const mt::erroring_options& faults, unsigned /*trial*/, const std::string& user, const std::string& ctx) {
        world<Service> w(mfakit::throttle_policy::unsafe_none());
        auto [key, first] = w.enrol(user);
        const std::vector<std::string> original = strings(first);
        const auto tokens = w.challenges(user, threads);
        const std::string totp = w.code_at(key);
        const std::string wrong = w.wrong_code(key);
        // login j: an original backup code, the current TOTP code, or a wrong code
        auto submitted = [&](unsigned j) -> std::pair<std::string, factor> {
          switch (j % 3) {
            case 0: return {original[(j / 3) % original.size()], factor::backup_code};
            case 1: return {totp, factor::totp};
            default: return {wrong, factor::totp};
          }
        };
        std::vector<std::error_code> regen_answers(regenerators), login_answers(threads - regenerators);
        std::vector<std::vector<std::string>> regen_codes(regenerators);
        std::vector<unsigned> login_successes(threads - regenerators, 0);  // over all of a login thread's attempts
        std::atomic<unsigned> regens_done{0};
        w.store.arm(faults);
        mt::detail::run_threads(threads, [&](unsigned i) {
          if (i < regenerators) {
            auto r = w.svc.regenerate_backup_codes(user);
            regen_answers[i] = r.error();
            if (r) regen_codes[i] = strings(r->backup_codes);
            ++regens_done;
            return;
          }
          // a login through a challenge, then step-up checks with the same code
          // until every regenerate answered, and one more: every check writes
          // (a success, a replay or a mismatch), some between a regenerate's
          // write and its read-back
          const unsigned j = i - regenerators;
          const auto submission = submitted(j);
          login_answers[j] = w.svc.complete_login(tokens[i], submission.first, submission.second).error();
          login_successes[j] = login_answers[j] ? 0 : 1;
          auto check = [&] {
            if (w.svc.verify(user, submission.first, submission.second)) ++login_successes[j];
          };
          while (regens_done.load() < regenerators) check();
          check();
        });
        w.store.disarm();
        const tally regens(regen_answers), logins(login_answers);
        unsigned totp_successes = 0;
        for (unsigned j = 0; j < threads - regenerators; ++j)
          if (submitted(j).second == factor::totp) totp_successes += login_successes[j];
        const std::string answers = fmt::format("regenerates: {}; first logins: {}; TOTP successes in all: {}",
                                                regens.str(), logins.str(), totp_successes);
        const auto rec = w.record(user);

        // every live code was shown: by the enable (the original set) or by a successful regenerate
        std::vector<std::vector<std::string>> shown{original};
        for (std::size_t i = 0; i < regenerators; ++i)
          if (!regen_answers[i]) shown.push_back(regen_codes[i]);
        const std::size_t nobody_saw = w.unseen(rec, shown);
        expect(nobody_saw == 0,
               fmt::format("{}: {} of the {} live backup codes were shown by no successful answer ({})", ctx,
                           nobody_saw, rec.backup.digests.size(), answers));

        // the codes a successful regenerate showed were stored: some landed record held them all
        std::vector<mfakit::backup_code_digests> sets;  // every distinct set that landed, by salt
        for (const auto& bytes : w.recorder.history(mfakit::account_key(user))) {
          auto r = mfakit::decode_account(bytes);
          REQUIRE(r);
          if (std::none_of(sets.begin(), sets.end(), [&](const auto& s) { return s.salt == r->backup.salt; }))
            sets.push_back(r->backup);
        }
        for (std::size_t i = 0; i < regenerators; ++i) {
          if (regen_answers[i]) continue;
          const bool stored = std::any_of(sets.begin(), sets.end(), [&](const auto& s) {
            return s.digests.size() == regen_codes[i].size() &&
                   std::all_of(regen_codes[i].begin(), regen_codes[i].end(),
                               [&](const std::string& c) { return w.cfg.hasher.match(s, c, w.cfg.box.backup_code_peppers()).has_value(); });
          });
          expect(stored, fmt::format("{}: regenerate {} succeeded, yet no stored record ever held its codes ({})", ctx,
                                     i, answers));
        }
        // the live set is one shown set, less the codes logins submitted
        const bool original_live =
            std::any_of(original.begin(), original.end(), [&](const std::string& c) { return w.live(rec, c); });
        if (!original_live) {  // a regenerate's set: nobody could have used any of it
          expect(rec.backup.digests.size() == original.size(),
                 fmt::format("{}: the live set is a regenerated one with {} codes, expected all {} ({})", ctx,
                             rec.backup.digests.size(), original.size(), answers));
        }
        expect(totp_successes <= 1, fmt::format("{}: one TOTP code accepted {} times, expected at most once ({})", ctx,
                                                totp_successes, answers));
        for (unsigned j = 0; j < threads - regenerators; ++j) {
          const auto submission = submitted(j);
          if (submission.second != factor::backup_code) continue;
          expect(login_successes[j] <= 1,
                 fmt::format("{}: login {}'s backup code accepted {} times, expected at most once", ctx, j,
                             login_successes[j]));
          if (login_successes[j] > 0)
            expect(!w.live(rec, submission.first),
                   fmt::format("{}: login {} succeeded with a backup code that is still live", ctx, j));
        }
        return std::pair{w.store.lost_races(), w.store.lost_answers()};
      });
}

// --- the same interleavings, without threads -----------------------------------------------------

/// Another request (through the quiet store, on its own thread) runs between
/// the service's load of the account and its compare-and-swap, which then
/// loses the race and answers with an error or throws. When the other
/// request made the same decision, both wrote the same bytes.
template <class Service>
void lost_race_between_load_and_write(bool throwing, via_path path, factor via) {
  const std::string what = via == factor::totp ? "TOTP code" : "backup code";
  const std::string ctx = fmt::format(
      "one {} through two {}, the second one's account load before the first's write, "
      "its lost race {}",
      what, name(path), throwing ? "throws" : "answers an error");
  INFO(ctx);
  world<Service> w(mfakit::throttle_policy::unsafe_none());
  const std::string user = "between-load-and-write";
  auto [key, codes] = w.enrol(user);
  const std::string code = via == factor::totp ? w.code_at(key) : std::string(codes[2].str());
  const auto tokens = w.challenges(user, 2);
  std::error_code first;
  w.recorder.once_after_load(mfakit::account_key(user), [&] {
    std::thread([&] {
      first = path == via_path::login ? w.other.complete_login(tokens[0], code, via).error()
                                      : w.other.verify(user, code, via).error();
    }).join();
  });
  w.store.arm(mt::erroring_options::lost_races(throwing));
  const std::error_code second = path == via_path::login ? w.svc.complete_login(tokens[1], code, via).error()
                                                         : w.svc.verify(user, code, via).error();
  w.store.disarm();
  const tally t({first, second});
  REQUIRE(!first);                     // the first request redeemed the code...
  REQUIRE(w.store.lost_races() >= 1);  // ...and the second one's write lost the race
  expect(t.successes == 1, fmt::format("expected exactly one success, got {} (first: {}, second: {})", t.successes,
                                       answer_name(first), answer_name(second)));
}

template <class Service>
void wrong_guess_between_load_and_write(bool throwing) {
  const std::string ctx = fmt::format(
      "two wrong step-up guesses, the second one's account load before the first's "
      "write, its lost race {}",
      throwing ? "throws" : "answers an error");
  INFO(ctx);
  world<Service> w(mfakit::throttle_policy::unsafe_none());
  const std::string user = "guess-between-load-and-write";
  auto [key, codes] = w.enrol(user);
  const std::string wrong = w.wrong_code(key);
  std::error_code first;
  w.recorder.once_after_load(mfakit::account_key(user), [&] {
    std::thread([&] { first = w.other.verify(user, wrong, factor::totp).error(); }).join();
  });
  w.store.arm(mt::erroring_options::lost_races(throwing));
  const std::error_code second = w.svc.verify(user, wrong, factor::totp).error();
  w.store.disarm();
  const tally t({first, second});
  REQUIRE(first == errc::code_mismatch);
  REQUIRE(w.store.lost_races() >= 1);
  const std::uint32_t counted = w.record(user).failures;
  expect(counted == t.mismatches, fmt::format("the failure count is {}, expected the {} code_mismatch answers ({})",
                                              counted, t.mismatches, t.str()));
}

/// An enable or regenerate whose write lands and whose answer is lost, while
/// another request writes the record before the service reads it back.
enum class meanwhile_kind { enable_then_wrong_guess, regenerate_then_login, regenerate_then_regenerate };

std::string_view name(meanwhile_kind k) {
  switch (k) {
    case meanwhile_kind::enable_then_wrong_guess: return "enable lands, answer lost, a wrong guess writes meanwhile";
    case meanwhile_kind::regenerate_then_login: return "regenerate lands, answer lost, a login writes meanwhile";
    case meanwhile_kind::regenerate_then_regenerate:
      return "regenerate lands, answer lost, another regenerate writes meanwhile";
  }
  return "?";
}

template <class Service>
void answer_lost_then_another_write(meanwhile_kind kind, bool throwing) {
  const std::string ctx = fmt::format("{} ({})", name(kind), throwing ? "thrown" : "an error");
  INFO(ctx);
  world<Service> w(mfakit::throttle_policy::unsafe_none());
  const std::string user = "answer-lost-meanwhile";
  mfakit::secret key;
  std::vector<std::vector<std::string>> shown;  // every set a successful answer showed
  if (kind == meanwhile_kind::enable_then_wrong_guess) {
    auto s = w.svc.setup(user, "authz@example.com");
    REQUIRE(s);
    key = std::move(s->key);
  } else {
    auto [k, codes] = w.enrol(user);
    key = std::move(k);
    shown.push_back(strings(codes));
  }
  const std::string code = w.code_at(key);
  const std::string wrong = w.wrong_code(key);
  std::error_code other_answer;
  std::vector<std::string> other_codes;
  w.store.meanwhile = [&](std::string_view) {
    std::thread([&] {
      switch (kind) {
        case meanwhile_kind::enable_then_wrong_guess:
          other_answer = w.other.verify(user, wrong, factor::totp).error();
          break;
        case meanwhile_kind::regenerate_then_login:
          other_answer = w.other.verify(user, code, factor::totp).error();
          break;
        case meanwhile_kind::regenerate_then_regenerate: {
          auto r = w.other.regenerate_backup_codes(user);
          other_answer = r.error();
          if (r) other_codes = strings(r->backup_codes);
          break;
        }
      }
    }).join();
  };
  w.store.arm(mt::erroring_options::lost_answers(1000, 1, throwing));
  std::error_code answer;
  std::vector<std::string> answer_codes;
  if (kind == meanwhile_kind::enable_then_wrong_guess) {
    auto e = w.svc.enable(user, code);
    answer = e.error();
    if (e) answer_codes = strings(e->backup_codes);
  } else {
    auto r = w.svc.regenerate_backup_codes(user);
    answer = r.error();
    if (r) answer_codes = strings(r->backup_codes);
  }
  w.store.disarm();
  w.store.meanwhile = nullptr;
  REQUIRE(w.store.lost_answers() >= 1);  // the write landed and its answer was lost...
  const auto expected_other =
      kind == meanwhile_kind::enable_then_wrong_guess ? std::error_code(errc::code_mismatch) : std::error_code();
  REQUIRE(other_answer == expected_other);  // ...and the other request wrote meanwhile
  if (!answer) shown.push_back(answer_codes);
  if (!other_answer && !other_codes.empty()) shown.push_back(other_codes);
  const auto rec = w.record(user);
  REQUIRE(rec.status == mfakit::account_status::enabled);
  const std::size_t nobody_saw = w.unseen(rec, shown);
  expect(nobody_saw == 0,
         fmt::format("it answered {}, and {} of the {} live backup codes were shown by no successful answer",
                     answer_name(answer), nobody_saw, rec.backup.digests.size()));
  if (kind == meanwhile_kind::regenerate_then_regenerate) {
    expect(w.unseen(rec, {other_codes}) == 0 && rec.backup.digests.size() == other_codes.size(),
           "the later regenerate's codes are not the live ones");
  } else if (!answer) {
    expect(w.unseen(rec, {answer_codes}) == 0 && rec.backup.digests.size() == answer_codes.size(),
           "it succeeded, yet the codes it showed are not the live ones");
  }
}

}  // namespace

TEMPLATE_LIST_TEST_CASE("authorship: one TOTP code through many login challenges", "[authz][flow]", services) {
  one_totp_code<TestType>(via_path::login);
}

TEMPLATE_LIST_TEST_CASE("authorship: one TOTP code through many step-up checks", "[authz][flow]", services) {
  one_totp_code<TestType>(via_path::step_up);
}

TEMPLATE_LIST_TEST_CASE("authorship: one backup code through many login challenges", "[authz][flow]", services) {
  one_backup_code<TestType>(via_path::login);
}

TEMPLATE_LIST_TEST_CASE("authorship: one backup code through many step-up checks", "[authz][flow]", services) {
  one_backup_code<TestType>(via_path::step_up);
}

TEMPLATE_LIST_TEST_CASE("authorship: every wrong guess through a challenge is counted once", "[authz][flow]",
                        services) {
  wrong_guesses<TestType>(via_path::login);
}

TEMPLATE_LIST_TEST_CASE("authorship: every wrong step-up guess is counted once", "[authz][flow]", services) {
  wrong_guesses<TestType>(via_path::step_up);
}

TEMPLATE_LIST_TEST_CASE("authorship: enable raced by wrong guesses leaves no unseen backup codes", "[authz][flow]",
                        services) {
  enable_raced_by_guesses<TestType>();
}

TEMPLATE_LIST_TEST_CASE("authorship: regenerate raced by logins leaves no unseen backup codes", "[authz][flow]",
                        services) {
  regenerate_raced_by_logins<TestType>();
}

TEMPLATE_LIST_TEST_CASE("authorship: a lost race answered with an error is no success (deterministic)", "[authz][flow]",
                        services) {
  for (bool throwing : {false, true}) {
    for (via_path path : {via_path::login, via_path::step_up}) {
      lost_race_between_load_and_write<TestType>(throwing, path, factor::totp);
      lost_race_between_load_and_write<TestType>(throwing, path, factor::backup_code);
    }
    wrong_guess_between_load_and_write<TestType>(throwing);
  }
}

TEMPLATE_LIST_TEST_CASE("authorship: a lost answer and a later write leave no unseen backup codes (deterministic)",
                        "[authz][flow]", services) {
  for (bool throwing : {false, true})
    for (auto kind : {meanwhile_kind::enable_then_wrong_guess, meanwhile_kind::regenerate_then_login,
                      meanwhile_kind::regenerate_then_regenerate})
      answer_lost_then_another_write<TestType>(kind, throwing);
}
