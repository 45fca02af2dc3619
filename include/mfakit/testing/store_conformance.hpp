// The conformance suite for store adapters, shipped with the library so a
// host runs it against its own database adapter (any test framework: it
// returns a report). It checks the compare-and-swap contract of store.hpp
// directly, then drives the real service from 64 threads at once:
//  - 64 threads redeeming one backup code: exactly one success, the others
//    code_mismatch (or storage_conflict), and the failure count equals the
//    code_mismatch answers;
//  - 64 threads submitting one TOTP code: exactly one success, the others
//    code_replayed (or storage_conflict), each of those counted;
//  - 64 concurrent wrong guesses: code_mismatch + storage_conflict == 64,
//    and the failure count equals the code_mismatch answers;
//  - two concurrent enables: one enabled record, and only the winner's
//    backup codes work;
//  - passkeys (check_passkeys, with soft_authenticator.hpp): 64 threads
//    posting one assertion: one login; 64 assertions of a cloned
//    credential with one counter value: one success, the others refused
//    with the clone event; two users registering one credential id: one
//    wins, and the index and the sets agree.
// Without injected faults no storage_failure is allowed (the host's store
// failed calls on a healthy database: each line says how many). Every check
// counts its answers by kind (answer_tally) and reports them beside what
// the store holds afterwards, in the report's `answers` and in the message
// of each rule it breaks, so a failure says which rule broke and how. Why
// each answer is allowed, and why a guess that ends in a conflict or a
// store failure gives a guesser no try the throttle does not count: see
// check_service.
// Then it runs those checks again through the host's store wrapped in
// erroring_store (below), as store.hpp allows a store to behave and real
// ones do, so the service's claims of authorship are tested on the host's
// own adapter:
//  - lost races answered with an error, or thrown (PostgreSQL SERIALIZABLE):
//    still exactly one success for one code; the failure count equals the
//    code_mismatch (code_replayed) answers; exactly one enable wins; every
//    storage_failure answer had a store error behind it;
//  - a quarter of the landed writes lose their answer (an error, or thrown):
//    at most one success, a success's code spent (a code spent with no
//    success answer is allowed); code_mismatch answers <= failure count <=
//    those plus the storage_failure answers; an enabled account has a
//    winner whose codes are the stored ones; the passkey checks' rules
//    loosened the same way (at most one login per ceremony and one success
//    per counter value, the stored counter never back); and, without threads, an
//    enable or regenerate whose answer is lost while another request writes
//    before the read-back leaves no live backup code that no successful
//    answer showed.
// Every service check runs through both loops: mfakit::service and the
// coroutine loop of async_service (through testing/async_adapter.hpp).
// The raw checks use keys under `prefix`; the service checks create users
// named `prefix` + a random run id, whose records live where the service
// keeps accounts and challenges (mfakit/account/..., mfakit/challenge/...).
// Run it against a test database, not production.
// For tests only: a program that uses mfakit never needs this header at run
// time (it is installed so a host's tests can run the suite on its adapter;
// its manual_clock is a clock a test moves by hand).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "mfakit/base32.hpp"
#include "mfakit/crypto.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/service.hpp"
#include "mfakit/store.hpp"
#include "mfakit/testing/async_adapter.hpp"
#include "mfakit/testing/soft_authenticator.hpp"
#include "mfakit/webauthn.hpp"

namespace mfakit::testing {

/// A clock that reads a shared atomic: tests move time by hand.
struct manual_clock {
  std::shared_ptr<std::atomic<std::int64_t>> seconds = std::make_shared<std::atomic<std::int64_t>>(1'700'000'000);
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds->load()));
  }
  void set(std::int64_t t) const noexcept { seconds->store(t); }
  void advance(std::int64_t s) const noexcept { seconds->fetch_add(s); }
  [[nodiscard]] std::int64_t unix_time() const noexcept { return seconds->load(); }
};

struct conformance_options {
  std::string prefix = "mfakit-conformance/";
  unsigned threads = 64;
  unsigned trials = 2;
  /// Runs the service checks again through erroring_store (lost races
  /// answered with an error, then lost answers): triples their time.
  bool erroring_stores = true;
  /// Also run the service checks through the coroutine loop (async.hpp), so
  /// an adapter is checked under both of the library's loops.
  bool both_loops = true;
  /// Picks the writes whose answer erroring_store loses (trial t uses seed + t).
  std::uint64_t seed = 0x8A07;
  /// Also run the passkey checks (check_passkeys): ceremonies used once,
  /// the counter compare-and-swap, one credential id per user.
  bool passkeys = true;
};

struct conformance_report {
  std::size_t checks = 0;
  std::vector<std::string> failures;
  /// One line per service check: the answers it got by kind and what the
  /// store held afterwards, whether or not the check passed (a host prints
  /// them to see how close a passing run came to a rule).
  std::vector<std::string> answers;
  [[nodiscard]] bool ok() const noexcept { return failures.empty(); }
  void expect(bool condition, std::string what) {
    ++checks;
    if (!condition) failures.push_back(std::move(what));
  }
};

/// The answers of the requests of one service check, by kind. Safe to add
/// to from many threads.
struct answer_tally {
  std::atomic<unsigned> success{0}, code_mismatch{0}, code_replayed{0}, already_enabled{0}, storage_failure{0},
      storage_conflict{0}, other{0};
  std::atomic<int> other_code{0};  ///< the errc value of one `other` answer (0: none yet)

  template <class T>
  void add(const result<T>& r) noexcept {
    if (r) {
      ++success;
      return;
    }
    const std::error_code ec = r.error();
    if (ec == errc::code_mismatch) {
      ++code_mismatch;
    } else if (ec == errc::code_replayed) {
      ++code_replayed;
    } else if (ec == errc::already_enabled) {
      ++already_enabled;
    } else if (ec == errc::storage_failure) {
      ++storage_failure;
    } else if (ec == errc::storage_conflict) {
      ++storage_conflict;
    } else {
      ++other;
      int none = 0;
      other_code.compare_exchange_strong(none, ec.value());
    }
  }
  /// A request that threw (no loop lets a store's exception out: a defect).
  void add_thrown() noexcept {
    ++other;
    int none = 0;
    other_code.compare_exchange_strong(none, -1);
  }
  [[nodiscard]] unsigned total() const noexcept {
    return success + code_mismatch + code_replayed + already_enabled + storage_failure + storage_conflict + other;
  }
  /// The failures a rejected code stores: code_mismatch and code_replayed both count one.
  [[nodiscard]] unsigned counted_rejections() const noexcept { return code_mismatch + code_replayed; }
  [[nodiscard]] std::string str() const {
    std::string s = fmt::format(
        "success {}, code_mismatch {}, code_replayed {}, already_enabled {}, storage_failure {}, storage_conflict {}, "
        "other {}",
        success.load(), code_mismatch.load(), code_replayed.load(), already_enabled.load(), storage_failure.load(),
        storage_conflict.load(), other.load());
    const int oc = other_code.load();
    if (oc == -1) s += " (one threw)";
    if (oc > 0) s += fmt::format(" (one was: {})", make_error_code(static_cast<errc>(oc)).message());
    return s;
  }
};

/// The passkey checks' answers by kind (webauthn_rejected: a used,
/// expired or unknown ceremony, or a failed check; counter_regressed: the
/// clone refusal). Safe to add to from many threads.
struct passkey_answer_tally {
  std::atomic<unsigned> success{0}, webauthn_rejected{0}, counter_regressed{0}, already_enabled{0},
      storage_failure{0}, storage_conflict{0}, other{0};
  std::atomic<int> other_code{0};  ///< the errc value of one `other` answer (0: none yet; -1: one threw)

  template <class T>
  void add(const result<T>& r) noexcept {
    if (r) {
      ++success;
      return;
    }
    const std::error_code ec = r.error();
    if (ec == errc::webauthn_rejected) {
      ++webauthn_rejected;
    } else if (ec == errc::webauthn_counter_regressed) {
      ++counter_regressed;
    } else if (ec == errc::already_enabled) {
      ++already_enabled;
    } else if (ec == errc::storage_failure) {
      ++storage_failure;
    } else if (ec == errc::storage_conflict) {
      ++storage_conflict;
    } else {
      ++other;
      int none = 0;
      other_code.compare_exchange_strong(none, ec.value());
    }
  }
  void add_thrown() noexcept {
    ++other;
    int none = 0;
    other_code.compare_exchange_strong(none, -1);
  }
  [[nodiscard]] unsigned total() const noexcept {
    return success + webauthn_rejected + counter_regressed + already_enabled + storage_failure + storage_conflict +
           other;
  }
  [[nodiscard]] std::string str() const {
    std::string s = fmt::format(
        "success {}, webauthn_rejected {}, webauthn_counter_regressed {}, already_enabled {}, storage_failure {}, "
        "storage_conflict {}, other {}",
        success.load(), webauthn_rejected.load(), counter_regressed.load(), already_enabled.load(),
        storage_failure.load(), storage_conflict.load(), other.load());
    const int oc = other_code.load();
    if (oc == -1) s += " (one threw)";
    if (oc > 0) s += fmt::format(" (one was: {})", make_error_code(static_cast<errc>(oc)).message());
    return s;
  }
};

/// What erroring_store does to the answers of a host's store. Each is allowed
/// by store.hpp (failures are reported as an error result or thrown), and
/// real stores do it, so none of them may turn into a success the service
/// cannot prove:
///  - lost races: a compare-and-swap that lost the race answers with an
///    error (or throws) instead of `false`, as PostgreSQL does under
///    SERIALIZABLE (SQLSTATE 40001) and as adapters that throw on a conflict;
///  - lost answers: a write lands, then its call answers with an error (or
///    throws), as after a timeout or a dropped connection after the commit.
///    Which landed writes lose their answer is a deterministic sequence: the
///    n-th landed write since arm() does when mix(seed, n) % 1000 <
///    lost_answer_per_mille.
struct erroring_options {
  bool lost_race_fails = false;        ///< a lost race answers with an error (or throws), not false
  unsigned lost_answer_per_mille = 0;  ///< landed writes whose answer is lost (0..1000)
  bool throws = false;                 ///< fail by throwing instead of answering with an error
  std::uint64_t seed = 1;              ///< picks the landed writes whose answer is lost

  [[nodiscard]] static erroring_options lost_races(bool throwing = false) { return {true, 0, throwing, 1}; }
  [[nodiscard]] static erroring_options lost_answers(unsigned per_mille, std::uint64_t seed, bool throwing = false) {
    return {false, per_mille, throwing, seed};
  }
  [[nodiscard]] static erroring_options both(unsigned per_mille, std::uint64_t seed, bool throwing = false) {
    return {true, per_mille, throwing, seed};
  }
  [[nodiscard]] std::string describe() const {
    std::string d;
    if (lost_race_fails) d = throws ? "lost races throw" : "lost races answer an error";
    if (lost_answer_per_mille != 0) {
      if (!d.empty()) d += ", ";
      d += fmt::format("{}/1000 landed writes lose their answer ({}, seed {})", lost_answer_per_mille,
                       throws ? "thrown" : "an error", seed);
    }
    return d.empty() ? "no faults" : d;
  }
};

/// A host's store (by reference) whose compare-and-swap answers go wrong as
/// erroring_options says, while armed; loads pass through. Safe to share
/// between threads as the wrapped store is; call arm(), disarm() and set
/// `meanwhile` only while no request runs.
template <record_store Store>
class erroring_store {
 public:
  explicit erroring_store(Store& inner) noexcept : inner_(inner) {}

  /// Called after a landed write whose answer is about to be lost, with its
  /// key, before the call answers: what another request does meanwhile
  /// (through another store object: a write through this one may lose its
  /// answer too and call this again). Unset: the wrapper yields the processor a
  /// few times, so other requests run before the answer arrives.
  std::function<void(std::string_view key)> meanwhile;

  void arm(erroring_options o) {
    opts_ = o;
    landed_.store(0);
    armed_.store(true);
  }
  void disarm() noexcept { armed_.store(false); }
  [[nodiscard]] const erroring_options& options() const noexcept { return opts_; }
  /// Lost races answered with an error or an exception, since construction.
  [[nodiscard]] std::uint64_t lost_races() const noexcept { return lost_races_.load(); }
  /// Landed writes whose answer was lost, since construction.
  [[nodiscard]] std::uint64_t lost_answers() const noexcept { return lost_answers_.load(); }

  /// Calls the host's store failed itself (an error answer or a throw,
  /// passed through as they came), since construction: with no faults
  /// injected, the only source of storage_failure answers.
  [[nodiscard]] std::uint64_t host_failures() const noexcept { return host_failures_.load(); }

  [[nodiscard]] result<std::optional<stored_record>> load(std::string_view key) {
    return counted([&] { return inner_.load(key); });
  }

  [[nodiscard]] result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                              const std::optional<std::string>& next) {
    const bool armed = armed_.load();
    if (armed) std::this_thread::yield();  // a round trip: other requests load the same version meanwhile
    result<bool> r = counted([&] { return inner_.compare_and_swap(key, expected, next); });  // passed through
    if (!r || !armed) return r;
    if (!*r) {
      if (!opts_.lost_race_fails) return r;
      lost_races_.fetch_add(1);
      return fail(std::errc::operation_canceled, "erroring_store: serialization failure (the race was lost)");
    }
    const std::uint64_t n = landed_.fetch_add(1);
    if (opts_.lost_answer_per_mille == 0 || mix(opts_.seed, n) % 1000 >= opts_.lost_answer_per_mille) return r;
    lost_answers_.fetch_add(1);
    if (meanwhile) {
      meanwhile(key);
    } else {
      for (int i = 0; i < 8; ++i) std::this_thread::yield();  // the answer is late: other requests run
    }
    return fail(std::errc::timed_out, "erroring_store: the write landed but its answer was lost");
  }

 private:
  [[nodiscard]] static std::uint64_t mix(std::uint64_t seed, std::uint64_t n) noexcept {  // splitmix64
    std::uint64_t z = seed + (n + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  }
  template <class Call>
  [[nodiscard]] auto counted(Call&& call) {
    try {
      auto r = call();
      if (!r) host_failures_.fetch_add(1);
      return r;
    } catch (...) {
      host_failures_.fetch_add(1);
      throw;
    }
  }
  [[nodiscard]] result<bool> fail(std::errc ec, const char* what) const {
    if (opts_.throws) throw std::runtime_error(what);
    return std::make_error_code(ec);
  }

  Store& inner_;
  erroring_options opts_;
  std::atomic<bool> armed_{false};
  std::atomic<std::uint64_t> landed_{0};
  std::atomic<std::uint64_t> lost_races_{0};
  std::atomic<std::uint64_t> lost_answers_{0};
  std::atomic<std::uint64_t> host_failures_{0};
};
static_assert(record_store<erroring_store<memory_store>>);

namespace detail {

/// A cheap configuration: the suite tests the store, not the KDF.
/// 64 contenders: every round stores at least one write, so some lose many.
[[nodiscard]] inline service_options<> conformance_service_options() {
  service_options<> o;
  o.max_retries = 100000;
  return o;
}

[[nodiscard]] inline flow_config conformance_config() {
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i * 7 + 1);
  flow_config cfg(secret_box::aes_256_gcm(1, {sealing_key(1, key)}).value());
  cfg.hasher = backup_code_hasher(scrypt_params{16, 1, 1});
  cfg.throttle = throttle_policy::unsafe_none();
  cfg.challenge_max_attempts = 5;
  return cfg;
}

template <class Body>
void run_threads(unsigned n, Body&& body) {
  std::latch start(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> pool;
  pool.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    pool.emplace_back([&, i] {
      start.arrive_and_wait();
      body(i);
    });
  }
  for (auto& t : pool) t.join();
}

template <class Store>
void check_cas_contract(Store& store, const conformance_options& o, conformance_report& rep) {
  const std::string k = o.prefix + "cas";
  auto absent = store.load(k);
  rep.expect(absent && !*absent, "load of a missing key returns nothing");
  auto created = store.compare_and_swap(k, 0, std::string("a"));
  rep.expect(created && *created, "create with expected version 0 succeeds");
  auto v1 = store.load(k);
  const bool has_v1 = v1 && *v1;
  rep.expect(has_v1 && (*v1)->bytes == "a" && (*v1)->version != 0, "a created record loads with a non-zero version");
  if (!has_v1) return;
  const std::uint64_t ver1 = (*v1)->version;
  auto dup = store.compare_and_swap(k, 0, std::string("b"));
  rep.expect(dup && !*dup, "create over an existing record loses");
  auto wrong = store.compare_and_swap(k, ver1 + 12345, std::string("b"));
  rep.expect(wrong && !*wrong, "a write with a wrong version loses");
  auto same = store.load(k);
  rep.expect(same && *same && (*same)->bytes == "a" && (*same)->version == ver1, "a lost write changes nothing");
  auto upd = store.compare_and_swap(k, ver1, std::string("b"));
  rep.expect(upd && *upd, "a write with the current version succeeds");
  auto v2 = store.load(k);
  const std::uint64_t ver2 = v2 && *v2 ? (*v2)->version : 0;
  rep.expect(v2 && *v2 && (*v2)->bytes == "b" && ver2 != ver1, "a write gives a new version");
  auto stale = store.compare_and_swap(k, ver1, std::string("c"));
  rep.expect(stale && !*stale, "a stale version loses");
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  binary += std::string(4096, '\0');
  auto bin = store.compare_and_swap(k, ver2, binary);
  auto v3 = store.load(k);
  rep.expect(bin && *bin && v3 && *v3 && (*v3)->bytes == binary, "bytes (NUL and 0x80-0xFF included) survive");
  const std::uint64_t ver3 = v3 && *v3 ? (*v3)->version : 0;
  auto del = store.compare_and_swap(k, ver3, std::nullopt);
  auto gone = store.load(k);
  rep.expect(del && *del && gone && !*gone, "delete with the current version removes the record");
  auto after_del = store.compare_and_swap(k, ver3, std::string("d"));
  rep.expect(after_del && !*after_del, "a write with the version of a deleted record loses");
  auto again = store.compare_and_swap(k, 0, std::string("e"));
  auto v4 = store.load(k);
  const std::uint64_t ver4 = v4 && *v4 ? (*v4)->version : 0;
  rep.expect(again && *again && ver4 != 0 && ver4 != ver1 && ver4 != ver2 && ver4 != ver3,
             "a re-created key never reuses an old version (no ABA)");
  auto other = store.load(k + "x");
  rep.expect(other && !*other, "keys are exact, not prefixes");
  auto upper = store.load(o.prefix + "CAS");
  rep.expect(upper && !*upper, "keys are case-sensitive");
  auto spaced = store.load(k + " ");
  rep.expect(spaced && !*spaced, "trailing spaces in keys are significant");

  // no lost updates: every thread increments one counter
  const std::string ck = o.prefix + "counter";
  constexpr int per_thread = 20;
  std::atomic<int> errors{0};
  run_threads(o.threads, [&](unsigned) {
    try {
      for (int i = 0; i < per_thread; ++i) {
        for (;;) {
          auto cur = store.load(ck);
          if (!cur) {
            ++errors;
            break;
          }
          const std::uint64_t ver = *cur ? (*cur)->version : 0;
          const long n = *cur ? std::stol((*cur)->bytes) : 0;
          auto w = store.compare_and_swap(ck, ver, std::to_string(n + 1));
          if (!w) {
            ++errors;
            break;
          }
          if (*w) break;
        }
      }
    } catch (...) {  // a throwing adapter is a failed check, not a crash
      ++errors;
    }
  });
  auto total = store.load(ck);
  rep.expect(
      errors == 0 && total && *total && (*total)->bytes == std::to_string(static_cast<long>(o.threads) * per_thread),
      fmt::format("{} threads x {} increments: no update lost (counter {}, {} calls failed)", o.threads, per_thread,
                  total && *total ? (*total)->bytes : std::string("unreadable"), errors.load()));
}

/// How the service checks wrap the host's store (erroring_store).
enum class service_faults : std::uint8_t {
  none,          ///< the store as it is
  lost_races,    ///< lost races answer with an error (even trials) or throw (odd trials)
  lost_answers,  ///< a quarter of the landed writes lose their answer (an error, or thrown on odd trials)
};

/// The service checks, through the host's store wrapped as `faults` says
/// while the threads run (setup and inspection see the store as it is).
// (long: the checks run one after another on shared state, the service, the
// clock and the user sequence; each is a short block)
template <template <class...> class Service, record_store Store>
// NOLINTNEXTLINE(readability-function-size)
void check_service(Store& host, const conformance_options& o, conformance_report& rep, const std::string& run_id,
                   service_faults faults, std::string_view loop) {
  erroring_store<Store> store(host);
  const manual_clock clock;
  Service<erroring_store<Store>, manual_clock, openssl_random> svc(store, conformance_config(),
                                                                   conformance_service_options(), clock);
  Service<Store, manual_clock, openssl_random> direct(host, conformance_config(), conformance_service_options(),
                                                      clock);  // "another request", in the lost-answer checks
  const auto& cfg = svc.config();
  unsigned user_seq = 0;
  // with faults, every answer is exact only while the winner's answer is intact
  const bool exact = faults != service_faults::lost_answers;
  const std::string mode = faults == service_faults::none         ? std::string()
                           : faults == service_faults::lost_races ? std::string("lost-races-")
                                                                  : std::string("lost-answers-");
  auto code_at = [&](const secret& key, std::int64_t t) {
    auto c = totp(key.bytes(), t, totp_params{cfg.alg, cfg.digits, cfg.period, 0});
    return c ? c->to_string() : std::string();
  };
  auto stored_account = [&](const std::string& user) {
    std::optional<account_record> rec;
    auto stored = host.load(account_key(user));
    if (stored && *stored) {
      auto d = decode_account((*stored)->bytes);
      if (d) rec = std::move(*d);
    }
    return rec;
  };
  // a code no step of the window has
  auto wrong_code = [&](const secret& key) {
    std::string wrong;
    for (int v = 0; v < 10; ++v) {
      wrong = std::string(static_cast<std::size_t>(cfg.digits), static_cast<char>('0' + v));
      bool in_window = false;
      for (std::int64_t w = -1; w <= 1; ++w)
        in_window = in_window || code_at(key, clock.unix_time() + w * cfg.period) == wrong;
      if (!in_window) break;
    }
    return wrong;
  };
  // stored digests that no code of `shown` matches: live codes nobody saw
  auto unseen = [&](const account_record& rec, const std::vector<std::vector<backup_code>>& shown) {
    std::vector<bool> seen(rec.backup.digests.size(), false);
    for (const auto& set : shown)
      for (const auto& c : set)
        if (auto i = cfg.hasher.match(rec.backup, c.str(), cfg.box.backup_code_peppers())) seen[*i] = true;
    return static_cast<std::size_t>(std::count(seen.begin(), seen.end(), false));
  };

  for (unsigned trial = 0; trial < o.trials; ++trial) {
    erroring_options opts;
    if (faults == service_faults::lost_races) opts = erroring_options::lost_races(trial % 2 == 1);
    if (faults == service_faults::lost_answers)
      opts = erroring_options::lost_answers(250, o.seed + trial, trial % 2 == 1);
    const std::string tag = fmt::format("[{}, trial {}{}{}] ", loop, trial, faults == service_faults::none ? "" : ", ",
                                        faults == service_faults::none ? std::string() : opts.describe());
    // an enabled user, its secret and its backup codes
    auto enrol = [&](std::string& user, secret& key, std::vector<backup_code>& codes) {
      user = fmt::format("{}{}-{}user-{}-{}", o.prefix, run_id, mode, trial, user_seq++);
      auto s = svc.setup(user, "conformance@example.com");
      if (!s) return false;
      key = std::move(s->key);
      auto e = svc.enable(user, code_at(key, clock.unix_time()));
      if (!e) return false;
      codes = std::move(e->backup_codes);
      clock.advance(cfg.period);  // the enable step is burned; move on
      return true;
    };
    // one challenge per thread, made one after another before the race; a
    // request whose begin_login failed would answer missing_token, so each
    // check says how many were issued
    std::string issued;  // "64 of 64 challenges issued" (and the first refusal)
    auto challenges = [&](const std::string& user) {
      std::vector<std::string> tokens;
      unsigned made = 0;
      std::error_code first;
      for (unsigned i = 0; i < o.threads; ++i) {
        auto c = svc.begin_login(user);
        tokens.push_back(c ? c->token : std::string());
        made += c ? 1U : 0U;
        if (!c && !first) first = c.error();
      }
      issued = fmt::format("{} of {} challenges issued{}", made, o.threads,
                           first ? fmt::format(" (one begin_login answered: {})", first.message()) : std::string());
      rep.expect(made == o.threads,
                 fmt::format("{}{}: broken rule: every begin_login before a race succeeds", tag, issued));
      return tokens;
    };
    // runs the threads with the faults on; what the store did meanwhile
    struct store_errors {
      std::uint64_t host = 0, lost_races = 0, lost_answers = 0;
      [[nodiscard]] std::uint64_t total() const noexcept { return host + lost_races + lost_answers; }
      [[nodiscard]] std::string str() const {
        return fmt::format("store errors: {} from the host's store, {} lost races and {} lost answers injected", host,
                           lost_races, lost_answers);
      }
    };
    auto race = [&](unsigned n, auto&& body) {
      const store_errors before{store.host_failures(), store.lost_races(), store.lost_answers()};
      if (faults != service_faults::none) store.arm(opts);
      run_threads(n, body);
      store.disarm();
      return store_errors{store.host_failures() - before.host, store.lost_races() - before.lost_races,
                          store.lost_answers() - before.lost_answers};
    };
    // One line per check with everything it saw; every rule is its own
    // check whose message names the rule and carries the line.
    auto rules = [&](const std::string& line) {
      rep.answers.push_back(line);
      return [&rep, line](bool holds, std::string_view rule) {
        rep.expect(holds, fmt::format("{}: broken rule: {}", line, rule));
      };
    };
    // The answers a request may get, and why each is allowed.
    //  - success, code_mismatch, code_replayed, already_enabled: given only
    //    after the request's own write is known stored (its compare-and-swap
    //    answered true, or its write id was read back), and that write holds
    //    what the answer says (a rejection's write holds its counted failure).
    //  - storage_conflict: max_retries rounds lost to other writers. Nothing
    //    of the request's account write is stored (its last swap lost, or the
    //    read-back found the record unchanged), so a rejection ending in a
    //    conflict is not counted; and none is needed: the answer is the same
    //    whatever the code, so it tells the sender nothing about its guess.
    //    (A verify decides on each round's record, and answers on none of
    //    them: only a stored decision is answered.) Nor does a guesser gain
    //    from making conflicts: a conflict is no try (no answer about the
    //    code), a round is lost only to another write stored meanwhile
    //    (store.hpp; PostgreSQL at SERIALIZABLE also cancels a write for a
    //    committed neighbour in the same index page), so max_retries lost
    //    rounds need as many other stored writes within one request, and the
    //    guess still spent an attempt of its challenge. conformance_config()
    //    allows 100000 rounds, beyond any contention of these checks (each of
    //    the n requests stores at most three writes, so a request loses fewer
    //    than 3n rounds); the library's default of 32 can end a request of 64
    //    racing on one account in a conflict, which is allowed for the reasons
    //    above. Here a conflict means a store that stopped storing; the line
    //    shows it apart.
    //  - storage_failure: a store call failed (injected, or the host's own)
    //    and the request could not prove its write stored or not: no success,
    //    no rejection, the same answer whatever the code. Without injected
    //    faults, none is allowed: the host's store failed calls on a healthy
    //    database (the line says how many).
    // So the failures counted are exactly the rejections answered, and a
    // guesser gets no more answers about its guesses than the throttle counts.

    {  // one backup code, many redeemers
      std::string user;
      secret key;
      std::vector<backup_code> codes;
      const bool ok = enrol(user, key, codes);
      rep.expect(ok, "setup and enable succeed");
      if (!ok) return;
      const auto tokens = challenges(user);
      answer_tally a;
      const store_errors errs = race(o.threads, [&](unsigned i) {
        try {
          a.add(svc.complete_login(tokens[i], codes[0].str(), factor::backup_code));
        } catch (...) {
          a.add_thrown();
        }
      });
      const auto rec = stored_account(user);
      const std::size_t left = rec ? rec->backup.digests.size() : codes.size();
      const std::size_t spent = codes.size() - left;
      const std::uint32_t counted = rec ? rec->failures : 0;
      const auto rule = rules(fmt::format(
          "{}{} threads redeeming one backup code: {}; stored: {} of {} codes spent, failure count {}; {}; {}", tag,
          o.threads, a.str(), spent, codes.size(), counted, errs.str(), issued));
      rule(rec.has_value(), "the account record loads");
      rule(a.total() == o.threads, "one answer per request");
      rule(a.other == 0 && a.code_replayed == 0 && a.already_enabled == 0,
           "every answer is success, code_mismatch, storage_failure or storage_conflict");
      if (faults == service_faults::none) rule(a.storage_failure == 0, "no storage_failure without a store error");
      rule(a.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      if (exact) {
        rule(a.success <= 1, "at most one success");
        rule(a.success == 1 || a.storage_conflict > 0,
             "exactly one success, unless requests gave up (storage_conflict)");
        rule(spent == 1 || (spent == 0 && a.storage_conflict == o.threads),
             "the redeemed code is gone and the others remain (unless every request gave up)");
        // every rejection decided after the success, which reset the count
        rule(counted == a.code_mismatch, "failure count == code_mismatch answers");
      } else {
        rule(a.success <= 1, "at most one success");
        // a spent code with no success answer is allowed (its spender answered storage_failure)
        rule(spent >= a.success && spent <= 1, "codes spent between the successes and 1");
        rule(counted >= a.code_mismatch && counted <= a.code_mismatch + a.storage_failure,
             "code_mismatch answers <= failure count <= those plus the storage_failure answers");
      }
      if (rec && a.success > 0)
        rule(!cfg.hasher.match(rec->backup, codes[0].str(), cfg.box.backup_code_peppers()),
             "a code that succeeded is no longer live");
    }
    {  // one TOTP code, many submitters
      std::string user;
      secret key;
      std::vector<backup_code> codes;
      if (!enrol(user, key, codes)) return;
      const auto tokens = challenges(user);
      const std::string code = code_at(key, clock.unix_time());
      const auto step = static_cast<std::uint64_t>(clock.unix_time() / cfg.period);
      answer_tally a;
      const store_errors errs = race(o.threads, [&](unsigned i) {
        try {
          a.add(svc.complete_login(tokens[i], code, factor::totp));
        } catch (...) {
          a.add_thrown();
        }
      });
      const auto rec = stored_account(user);
      const std::uint32_t counted = rec ? rec->failures : 0;
      const auto rule = rules(fmt::format(
          "{}{} threads submitting one TOTP code: {}; stored: last step {} (the code's {}), failure count {}; {}; {}",
          tag, o.threads, a.str(), rec && rec->last_step ? std::to_string(*rec->last_step) : std::string("none"), step,
          counted, errs.str(), issued));
      rule(rec.has_value(), "the account record loads");
      rule(a.total() == o.threads, "one answer per request");
      rule(a.other == 0 && a.code_mismatch == 0 && a.already_enabled == 0,
           "every answer is success, code_replayed, storage_failure or storage_conflict");
      if (faults == service_faults::none) rule(a.storage_failure == 0, "no storage_failure without a store error");
      rule(a.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      if (exact) {
        rule(a.success <= 1, "at most one success");
        rule(a.success == 1 || a.storage_conflict > 0,
             "exactly one success, unless requests gave up (storage_conflict)");
        rule(counted == a.code_replayed, "failure count == code_replayed answers");
      } else {
        rule(a.success <= 1, "at most one success");
        rule(counted >= a.code_replayed && counted <= a.code_replayed + a.storage_failure,
             "code_replayed answers <= failure count <= those plus the storage_failure answers");
      }
      if (a.success > 0) rule(rec && rec->last_step == step, "a code that succeeded has its step stored as the last");
    }
    {  // wrong guesses are all counted
      std::string user;
      secret key;
      std::vector<backup_code> codes;
      if (!enrol(user, key, codes)) return;
      const auto tokens = challenges(user);
      const std::string wrong = wrong_code(key);
      answer_tally a;
      const store_errors errs = race(o.threads, [&](unsigned i) {
        try {
          a.add(svc.complete_login(tokens[i], wrong, factor::totp));
        } catch (...) {
          a.add_thrown();
        }
      });
      const auto rec = stored_account(user);
      const std::uint32_t counted = rec ? rec->failures : 0;
      const auto rule = rules(fmt::format("{}{} concurrent wrong guesses: {}; stored: failure count {}; {}; {}", tag,
                                          o.threads, a.str(), counted, errs.str(), issued));
      rule(rec.has_value(), "the account record loads");
      rule(a.total() == o.threads, "one answer per request");
      rule(a.success + a.code_replayed + a.already_enabled + a.other == 0,
           "every answer is code_mismatch, storage_failure or storage_conflict");
      if (faults == service_faults::none) {
        rule(a.storage_failure == 0, "no storage_failure without a store error");
        rule(a.code_mismatch + a.storage_conflict == o.threads, "code_mismatch + storage_conflict == threads");
      }
      rule(a.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      if (exact) {
        rule(counted == a.code_mismatch, "failure count == code_mismatch answers (no answered guess uncounted)");
      } else {
        rule(counted >= a.code_mismatch, "failure count >= code_mismatch answers (no answered guess uncounted)");
        rule(counted <= a.code_mismatch + a.storage_failure,
             "failure count <= code_mismatch answers + storage_failure answers");
      }
    }
    {  // two enables race
      const std::string user = fmt::format("{}{}-{}enable-race-{}", o.prefix, run_id, mode, trial);
      auto s = svc.setup(user, "race@example.com");
      rep.expect(s.has_value(), "setup succeeds");
      if (!s) return;
      const std::string code = code_at(s->key, clock.unix_time());
      std::array<std::optional<std::vector<backup_code>>, 2> got;
      answer_tally a;
      const store_errors errs = race(2, [&](unsigned i) {
        try {
          auto e = svc.enable(user, code);
          a.add(e);
          if (e) got[i] = std::move(e->backup_codes);
        } catch (...) {
          a.add_thrown();
        }
      });
      const unsigned winners = (got[0] ? 1U : 0U) + (got[1] ? 1U : 0U);
      auto st = svc.status(user);
      const bool enabled = st && st->totp_enabled;
      const auto rule =
          rules(fmt::format("{}two concurrent enables of one code: {}; stored: the account is {}enabled; {}", tag,
                            a.str(), enabled ? "" : "not ", errs.str()));
      rule(a.total() == 2, "one answer per request");
      // the loser decides on the winner's record: already enabled
      rule(a.code_mismatch + a.other == 0,
           "every answer is success, already_enabled, code_replayed, storage_failure or storage_conflict");
      if (faults == service_faults::none) rule(a.storage_failure == 0, "no storage_failure without a store error");
      rule(a.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      if (exact) {
        rule(winners == 1 && enabled, "exactly one enable wins, and the account is enabled");
      } else {
        rule(winners <= 1 && enabled == (winners == 1),
             "one winner with an enabled account, or none with the account not enabled (no codes nobody saw)");
      }
      if (winners == 1) {
        const auto& won = got[0] ? *got[0] : *got[1];
        clock.advance(cfg.period);
        auto c = svc.begin_login(user);
        auto r = c ? svc.complete_login(c->token, won[3].str(), factor::backup_code)
                   : result<login_result>(errc::storage_failure);
        rule(r.has_value(), "the winner's backup codes are the stored ones");
        const auto rec = stored_account(user);
        rule(rec && unseen(*rec, {won}) == 0, "no live backup code the winner did not show");
      }
    }
    if (faults == service_faults::lost_answers) {
      // Without threads: an enable or a regenerate whose write lands and whose
      // answer is lost, while another request writes the record before the
      // service reads it back. Its codes are live: it must show them.
      for (const bool regenerate : {false, true}) {
        std::string user;
        std::vector<std::vector<backup_code>> shown;
        secret key;
        if (regenerate) {
          std::vector<backup_code> codes;
          if (!enrol(user, key, codes)) return;
          shown.push_back(std::move(codes));  // the enable showed them
        } else {
          user = fmt::format("{}{}-{}enable-meanwhile-{}", o.prefix, run_id, mode, trial);
          auto s = svc.setup(user, "meanwhile@example.com");
          rep.expect(s.has_value(), "setup succeeds");
          if (!s) return;
          key = std::move(s->key);
        }
        const std::string code = code_at(key, clock.unix_time());
        const std::string wrong = wrong_code(key);
        std::error_code meanwhile_answer = errc::invalid_argument;
        store.meanwhile = [&](std::string_view) {
          std::thread([&] {
            // a wrong guess after the enable; a login after the regenerate
            meanwhile_answer = direct.verify(user, regenerate ? code : wrong, factor::totp).error();
          }).join();
        };
        store.arm(erroring_options::lost_answers(1000, o.seed + trial, trial % 2 == 1));
        std::error_code answer;
        if (regenerate) {
          auto r = svc.regenerate_backup_codes(user);
          answer = r.error();
          if (r) shown.push_back(std::move(r->backup_codes));
        } else {
          auto e = svc.enable(user, code);
          answer = e.error();
          if (e) shown.push_back(std::move(e->backup_codes));
        }
        store.disarm();
        store.meanwhile = nullptr;
        const auto rec = stored_account(user);
        const std::string what =
            fmt::format("{}{} lands, its answer is lost, and {} writes before the read-back", tag,
                        regenerate ? "a regenerate" : "an enable", regenerate ? "a login" : "a wrong guess");
        rep.answers.push_back(fmt::format("{}: it answered {}, the other request answered {}", what,
                                          answer ? answer.message() : "success",
                                          meanwhile_answer ? meanwhile_answer.message() : "success"));
        const bool other_wrote =
            meanwhile_answer == (regenerate ? std::error_code() : make_error_code(errc::code_mismatch));
        rep.expect(other_wrote, fmt::format("{}: the other request answered {}", what,
                                            meanwhile_answer ? meanwhile_answer.message() : "success"));
        const std::size_t nobody_saw = rec ? unseen(*rec, shown) : 0;
        rep.expect(
            rec && rec->status == account_status::enabled && nobody_saw == 0,
            fmt::format("{}: it answered {}, and {} of the {} live backup codes were shown by no successful "
                        "answer",
                        what, answer ? answer.message() : "success", nobody_saw, rec ? rec->backup.digests.size() : 0));
      }
    }
    clock.advance(10 * cfg.period);
  }
}

/// The passkey checks (operations/passkey.hpp), through the host's store
/// wrapped as `faults` says while the threads run, with the credentials
/// and ceremonies of soft_authenticator.hpp (ES256; a random credential id
/// each, so a database that keeps earlier runs meets no old index):
///  - o.threads threads posting one assertion (a counter of 0: only the
///    ceremony's single use stops a replay): at most one success (exactly
///    one unless its answer was lost), the ceremony stored as used, the
///    replay after the race refused;
///  - o.threads assertions of a cloned credential, one counter value on as
///    many ceremonies: at most one success (exactly one unless an answer
///    was lost), every webauthn_counter_regressed answer with its "possible
///    cloned authenticator" event (and without faults, every other answer is
///    one), the stored counter never below what it was and the value taken
///    never taken again;
///  - two users registering one credential id at once: at most one success
///    (exactly one unless an answer was lost), at most one user's set holds
///    the credential, the index names the user whose set does (an index
///    left behind by a failed registration, naming a user without it, only
///    with lost answers), and the credential logs in as that user.
/// Without injected faults, no storage_failure; with them, each had a store
/// error behind it.
template <template <class...> class Service, record_store Store>
// NOLINTNEXTLINE(readability-function-size)
void check_passkeys(Store& host, const conformance_options& o, conformance_report& rep, const std::string& run_id,
                    service_faults faults, std::string_view loop) {
  namespace soft = mfakit::testing::soft;
  erroring_store<Store> store(host);
  const manual_clock clock;
  auto regressed_events = std::make_shared<std::atomic<unsigned>>(0);
  service_options<> so = conformance_service_options();
  so.on_event = [regressed_events](const event& e) {
    if (e.kind == event_kind::passkey_counter_regressed) ++*regressed_events;
  };
  Service<erroring_store<Store>, manual_clock, openssl_random> svc(store, conformance_config(), so, clock);
  passkey_settings ps;
  ps.rp = soft::test_rp();
  ps.rp_name = "mfakit conformance";
  const bool exact = faults != service_faults::lost_answers;
  const std::string mode = faults == service_faults::none         ? std::string()
                           : faults == service_faults::lost_races ? std::string("lost-races-")
                                                                  : std::string("lost-answers-");
  unsigned user_seq = 0;

  // a base64url member of an options JSON ("challenge", or the user's "id" after "user")
  auto member = [](const std::string& json, std::string_view name, std::string_view after = {}) {
    std::size_t from = after.empty() ? 0 : json.find(fmt::format(R"("{}")", after));
    if (from == std::string::npos) return soft::bytes{};
    const std::string tag = fmt::format(R"("{}":")", name);
    const std::size_t at = json.find(tag, from);
    if (at == std::string::npos) return soft::bytes{};
    from = at + tag.size();
    const std::size_t end = json.find('"', from);
    auto b = webauthn::base64url_decode(std::string_view(json).substr(from, end - from));
    return b ? std::move(*b) : soft::bytes{};
  };
  auto stored_set = [&](const std::string& user) {
    std::optional<passkey_set_record> set;
    auto bytes = host.load(passkey_set_key(user));
    if (bytes && *bytes) {
      auto d = decode_passkey_set((*bytes)->bytes);
      if (d) set = std::move(*d);
    }
    return set;
  };
  auto stored_credential = [&](const std::string& user, const soft::bytes& id) {
    std::optional<passkey_credential> cred;
    if (auto set = stored_set(user))
      for (auto& c : set->credentials)
        if (c.id == id) cred = std::move(c);
    return cred;
  };
  // registers a fresh credential (a random id) for a fresh user; the user handle the options offered
  auto enrol = [&](std::string& user, soft::authenticator& a, soft::bytes& handle, unsigned trial) {
    user = fmt::format("{}{}-{}passkey-{}-{}", o.prefix, run_id, mode, trial, user_seq++);
    if (!openssl_random{}.fill(a.credential_id)) return false;
    auto opts = svc.passkey_registration_options(ps, user, "conformance@example.com");
    if (!opts) return false;
    handle = member(opts->json, "id", "user");
    auto reg = soft::make_none_registration(a.registration_auth_data(),
                                            soft::create_client_data(member(opts->json, "challenge")));
    return svc.passkey_register(ps, user, "conformance", reg.client_data_json, reg.attestation_object).has_value();
  };
  // an assertion on fresh login options, and the challenge it answers
  auto assertion = [&](const soft::authenticator& a, soft::bytes* challenge = nullptr) {
    auto opts = svc.passkey_login_options(ps);
    const soft::bytes ch = opts ? member(opts->json, "challenge") : soft::bytes{};
    if (challenge != nullptr) *challenge = ch;
    return soft::make_assertion(a, a.assertion_auth_data(), soft::get_client_data(ch));
  };
  auto login = [&](const soft::authenticator& a, const soft::assertion& x, const soft::bytes& handle) {
    return svc.passkey_login(ps, a.credential_id, x.client_data_json, x.authenticator_data, x.signature, handle);
  };
  struct store_errors {
    std::uint64_t host = 0, lost_races = 0, lost_answers = 0;
    [[nodiscard]] std::uint64_t total() const noexcept { return host + lost_races + lost_answers; }
    [[nodiscard]] std::string str() const {
      return fmt::format("store errors: {} from the host's store, {} lost races and {} lost answers injected", host,
                         lost_races, lost_answers);
    }
  };
  erroring_options opts;
  auto race = [&](unsigned n, auto&& body) {
    const store_errors before{store.host_failures(), store.lost_races(), store.lost_answers()};
    if (faults != service_faults::none) store.arm(opts);
    run_threads(n, body);
    store.disarm();
    return store_errors{store.host_failures() - before.host, store.lost_races() - before.lost_races,
                        store.lost_answers() - before.lost_answers};
  };
  auto rules = [&](const std::string& line) {
    rep.answers.push_back(line);
    return [&rep, line](bool holds, std::string_view rule) {
      rep.expect(holds, fmt::format("{}: broken rule: {}", line, rule));
    };
  };

  for (unsigned trial = 0; trial < o.trials; ++trial) {
    if (faults == service_faults::lost_races) opts = erroring_options::lost_races(trial % 2 == 1);
    if (faults == service_faults::lost_answers) opts = erroring_options::lost_answers(250, o.seed + trial, trial % 2 == 1);
    const std::string tag = fmt::format("[{}, trial {}{}{}] ", loop, trial, faults == service_faults::none ? "" : ", ",
                                        faults == service_faults::none ? std::string() : opts.describe());
    {  // one assertion, many posters: the ceremony is used once
      std::string user;
      soft::authenticator a(webauthn::cose_alg::es256);
      soft::bytes handle, challenge;
      const bool ok = enrol(user, a, handle, trial);
      rep.expect(ok, tag + "passkey registration options and register succeed");
      if (!ok) return;
      clock.advance(1);
      const soft::assertion x = assertion(a, &challenge);  // counter 0: only the ceremony stops a replay
      passkey_answer_tally t;
      const store_errors errs = race(o.threads, [&](unsigned) {
        try {
          t.add(login(a, x, handle));
        } catch (...) {
          t.add_thrown();
        }
      });
      std::optional<ceremony_record> ceremony;
      if (auto c = host.load(ceremony_key(challenge)); c && *c)
        if (auto d = decode_ceremony((*c)->bytes)) ceremony = std::move(*d);
      const auto cred = stored_credential(user, a.credential_id);
      auto replay = login(a, x, handle);
      const auto rule = rules(fmt::format(
          "{}{} threads posting one passkey assertion: {}; stored: the ceremony {}, last used {}; the replay after: {}; {}",
          tag, o.threads, t.str(), !ceremony ? "missing" : ceremony->consumed ? "used" : "not used",
          cred ? std::to_string(cred->last_used_at) : std::string("(no credential)"),
          replay ? std::string("success") : replay.error().message(), errs.str()));
      rule(t.total() == o.threads, "one answer per request");
      rule(t.other == 0 && t.counter_regressed == 0 && t.already_enabled == 0,
           "every answer is success, webauthn_rejected, storage_failure or storage_conflict");
      if (faults == service_faults::none) rule(t.storage_failure == 0, "no storage_failure without a store error");
      rule(t.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      rule(t.success <= 1, "at most one login per ceremony");
      if (exact) rule(t.success == 1 || t.storage_conflict > 0, "exactly one success, unless requests gave up");
      if (t.success > 0) {
        rule(ceremony && ceremony->consumed, "a ceremony that logged in is stored as used");
        rule(cred && cred->last_used_at == clock.unix_time() && cred->sign_count == 0,
             "the login's lastUsedAt is stored, the counter stays 0");
      }
      rule(!replay && replay.error() == errc::webauthn_rejected, "the assertion replayed after the race is refused");
    }
    {  // one counter value on many ceremonies: a cloned credential
      std::string user;
      soft::authenticator a(webauthn::cose_alg::es256);
      a.counter = 1;
      soft::bytes handle;
      const bool ok = enrol(user, a, handle, trial);
      rep.expect(ok, tag + "passkey registration options and register succeed");
      if (!ok) return;
      clock.advance(1);
      a.counter = 2;
      std::vector<soft::assertion> xs;
      xs.reserve(o.threads);
      for (unsigned i = 0; i < o.threads; ++i) xs.push_back(assertion(a));
      regressed_events->store(0);
      passkey_answer_tally t;
      const store_errors errs = race(o.threads, [&](unsigned i) {
        try {
          t.add(login(a, xs[i], handle));
        } catch (...) {
          t.add_thrown();
        }
      });
      const unsigned events = regressed_events->load();
      const auto cred = stored_credential(user, a.credential_id);
      const std::uint32_t counter = cred ? cred->sign_count : 0;
      auto again = login(a, assertion(a), handle);  // the value taken, once more
      a.counter = 3;
      auto next = login(a, assertion(a), handle);
      const auto rule = rules(fmt::format(
          "{}{} assertions with one counter value (2, stored 1) on {} ceremonies: {}; {} counter-regressed events; "
          "stored: counter {}; after: the value again {}, the next value {}; {}",
          tag, o.threads, o.threads, t.str(), events, cred ? std::to_string(counter) : std::string("(no credential)"),
          again ? std::string("success") : again.error().message(),
          next ? std::string("success") : next.error().message(), errs.str()));
      rule(cred.has_value(), "the credential loads");
      rule(t.total() == o.threads, "one answer per request");
      rule(t.other == 0 && t.webauthn_rejected == 0 && t.already_enabled == 0,
           "every answer is success, webauthn_counter_regressed, storage_failure or storage_conflict");
      if (faults == service_faults::none) {
        rule(t.storage_failure == 0, "no storage_failure without a store error");
        rule(t.success + t.counter_regressed + t.storage_conflict == o.threads,
             "every other request is refused as a clone (or gave up)");
      }
      rule(t.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      rule(t.success <= 1, "no two accepted assertions with one counter value");
      if (exact) rule(t.success == 1 || t.storage_conflict > 0, "exactly one success, unless requests gave up");
      rule(events == t.counter_regressed, "each webauthn_counter_regressed answer with its event, and no other");
      rule(counter == 1 || counter == 2, "the stored counter never goes back, and is at most the value signed");
      if (t.success > 0) rule(counter == 2, "an accepted counter value is stored");
      if (counter == 2) rule(!again && again.error() == errc::webauthn_counter_regressed, "a stored value is never taken again");
      rule(next.has_value(), "the next counter value logs in");
    }
    {  // two users register one credential id
      std::array<std::string, 2> users;
      std::array<soft::registration, 2> regs;
      soft::authenticator a(webauthn::cose_alg::es256);
      bool ok = openssl_random{}.fill(a.credential_id);
      for (unsigned i = 0; i < 2 && ok; ++i) {
        users[i] = fmt::format("{}{}-{}passkey-race-{}-{}", o.prefix, run_id, mode, trial, i);
        auto ro = svc.passkey_registration_options(ps, users[i], "race@example.com");
        ok = ro.has_value();
        if (ok)
          regs[i] = soft::make_none_registration(a.registration_auth_data(),
                                                 soft::create_client_data(member(ro->json, "challenge")));
      }
      rep.expect(ok, tag + "passkey registration options succeed");
      if (!ok) return;
      std::array<bool, 2> won{false, false};
      passkey_answer_tally t;
      const store_errors errs = race(2, [&](unsigned i) {
        try {
          auto r = svc.passkey_register(ps, users[i], "race", regs[i].client_data_json, regs[i].attestation_object);
          won[i] = r.has_value();
          t.add(r);
        } catch (...) {
          t.add_thrown();
        }
      });
      std::optional<passkey_index_record> index;
      if (auto x = host.load(passkey_index_key(a.credential_id)); x && *x)
        if (auto d = decode_passkey_index((*x)->bytes)) index = std::move(*d);
      const std::array<bool, 2> holds{stored_credential(users[0], a.credential_id).has_value(),
                                      stored_credential(users[1], a.credential_id).has_value()};
      const unsigned holders = (holds[0] ? 1U : 0U) + (holds[1] ? 1U : 0U);
      const int holder = holds[0] ? 0 : holds[1] ? 1 : -1;
      std::optional<result<passkey_login_result>> in;
      if (holder >= 0) {
        clock.advance(1);
        a.counter = 0;
        const auto set = stored_set(users[static_cast<std::size_t>(holder)]);
        in = login(a, assertion(a), set ? set->user_handle : soft::bytes{});
      }
      const auto rule = rules(fmt::format(
          "{}two users registering one credential id: {}; stored: the index names {}, {} set(s) hold it; "
          "a login with it: {}; {}",
          tag, t.str(), !index ? std::string("nobody") : index->user == users[0] ? std::string("the first") : index->user == users[1] ? std::string("the second") : std::string("someone else"),
          holders, !in ? std::string("(none)") : *in ? std::string("success") : in->error().message(), errs.str()));
      rule(t.total() == 2, "one answer per request");
      rule(t.other == 0 && t.webauthn_rejected == 0 && t.counter_regressed == 0,
           "every answer is success, already_enabled, storage_failure or storage_conflict");
      if (faults == service_faults::none) {
        rule(t.storage_failure == 0, "no storage_failure without a store error");
        rule(t.success == 1 && t.already_enabled == 1, "one registers, the other is told already_enabled");
      }
      rule(t.storage_failure <= errs.total(), "each storage_failure answer had a store error behind it");
      rule(t.success <= 1 && holders <= 1, "a credential id is registered to one user at most");
      if (exact) rule(t.success == 1 && holders == 1, "exactly one registration wins");
      for (unsigned i = 0; i < 2; ++i)
        if (won[i]) rule(holds[i], "the winner's set holds the credential");
      if (holder >= 0) {
        rule(index && index->user == users[static_cast<std::size_t>(holder)], "the index names the user whose set holds it");
        rule(in && *in && (*in)->user == users[static_cast<std::size_t>(holder)], "the credential logs in as that user");
      } else if (exact) {
        rule(false, "the winner's credential is stored");
      }
      if (exact) rule(index && holder >= 0, "the index and the sets agree");
    }
    clock.advance(600);
  }
}

}  // namespace detail

/// Runs every check against `store`; report.ok() when the adapter conforms.
template <record_store Store>
[[nodiscard]] conformance_report run_store_conformance(Store& store, conformance_options o = {}) {
  conformance_report rep;
  detail::check_cas_contract(store, o, rep);
  std::array<unsigned char, 8> run_id_bytes{};
  if (!openssl_random{}.fill(run_id_bytes)) {
    rep.expect(false, "random run id");
    return rep;
  }
  const std::string run_id = base32_encode(run_id_bytes);
  // through both loops (each with users of its own): the synchronous
  // service and the coroutine loop
  auto through = [&]<template <class...> class Service>(const std::string& users, std::string_view loop) {
    detail::check_service<Service>(store, o, rep, users, detail::service_faults::none, loop);
    if (o.passkeys) detail::check_passkeys<Service>(store, o, rep, users, detail::service_faults::none, loop);
    if (o.erroring_stores) {
      detail::check_service<Service>(store, o, rep, users, detail::service_faults::lost_races, loop);
      detail::check_service<Service>(store, o, rep, users, detail::service_faults::lost_answers, loop);
      if (o.passkeys) {
        detail::check_passkeys<Service>(store, o, rep, users, detail::service_faults::lost_races, loop);
        detail::check_passkeys<Service>(store, o, rep, users, detail::service_faults::lost_answers, loop);
      }
    }
  };
  through.template operator()<service>(run_id, "service");
  if (o.both_loops) through.template operator()<async_driven_service>(run_id + "-async", "async_service");
  return rep;
}

}  // namespace mfakit::testing
