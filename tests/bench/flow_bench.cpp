// The enable/login flow through mfakit::service: one service shared by the
// benchmark threads, over one mfakit::memory_store, sealing with AES-256-GCM,
// with the default throttle policy and an audit hook (a host has one; here it
// counts events, which the gates check).
//
//  - flow/verify: service::verify(user, code, factor::totp), the accepted
//    path: load, decode, unseal, verify, encode, compare-and-swap. Replay
//    protection accepts a step once per user, so every thread owns 256
//    enrolled users and its own clock (a thread_local read by the service's
//    clock): it verifies each user once at the current step, then moves its
//    clock one period on and computes the next codes with the timer paused.
//  - flow/verify_plaintext_box: the same through a service whose secrets are
//    stored unsealed (secret_box::unsafe_plaintext()), same users: the
//    difference to flow/verify is what sealing costs a login.
//  - flow/unseal: secret_box::open_into (AES-256-GCM) alone, round robin over
//    the enrolled users' sealed secrets.
//  - flow/complete_login: begin_login + complete_login, same users and clock.
//  - flow/enable: service::enable alone, on pending users prepared (disabled
//    and set up again) in batches of 64 with the timer paused; the backup codes
//    at the cheap scrypt cost of flow_kdf_cost (N=16, r=1, p=1) instead of
//    backup_code_hasher::default_cost, whose ten scrypt runs (the
//    backup/digest_set10 row) would be all the loop measured.
//  - flow/verify_totp_bare: mfakit::verify_totp from raw key bytes (SHA-1, 20
//    bytes, +-1, accepted), the reference of the 3x target and, at 2 threads,
//    the control of the scaling (nothing shared: what the machine gives).
//  - flow/record_bytes: encode + decode of an account record (the codec work
//    of one verify); counters: the stored sizes.
// Every row runs on 1 and 2 threads (users distinct per thread) except
// record_bytes. Besides CPU and wall time, counters vcsw_per_kop (voluntary
// context switches per 1000 operations: a thread blocked, e.g. on the store's
// mutex) and ivcsw_per_kop (involuntary: other load preempted it).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/resource.h>

#include <fmt/format.h>

#include "alloc_counter.hpp"
#include "bench_common.hpp"
#include "mfakit/otp.hpp"
#include "mfakit/records.hpp"
#include "mfakit/seal.hpp"
#include "mfakit/service.hpp"
#include "mfakit/store.hpp"

namespace mfakit_bench {
namespace {

constexpr int max_threads = 2;
constexpr std::size_t login_users_per_thread = 256;
constexpr std::size_t enable_batch = 64;
constexpr std::int64_t start_time = 1'700'000'000;
/// scrypt cost of the backup codes in the flow rows (2 KiB, the conformance suite's).
constexpr mfakit::scrypt_params flow_kdf_cost{16, 1, 1};

// The service's clock: each benchmark thread has its own time (its users are
// its own), kept in its user_slot between runs.
thread_local std::int64_t thread_now = start_time;
thread_local std::uint64_t thread_events = 0;
struct thread_clock {
  [[nodiscard]] std::chrono::system_clock::time_point now() const noexcept {
    return std::chrono::system_clock::time_point(std::chrono::seconds(thread_now));
  }
};

mfakit::flow_config bench_config() {
  std::array<unsigned char, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(0xA5U ^ (i * 29U));
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(3, {mfakit::sealing_key(3, key)}).value());
  cfg.hasher = mfakit::backup_code_hasher(flow_kdf_cost);
  return cfg;
}

/// Every service counts its events (a host's audit hook, at its cheapest).
mfakit::service_options<> bench_options() {
  mfakit::service_options<> o;
  o.on_event = [](const mfakit::event& /*e*/) { ++thread_events; };
  return o;
}

/// bench_config() with secrets stored unsealed: the flow/verify_plaintext_box
/// row, which tells in the same run what sealing costs a login verify.
mfakit::flow_config plaintext_config() {
  mfakit::flow_config cfg(mfakit::secret_box::unsafe_plaintext());
  cfg.hasher = mfakit::backup_code_hasher(flow_kdf_cost);
  return cfg;
}

/// A user id as many hosts have them: a random-looking UUID (36 characters),
/// a fixed function of (kind, slot, i) so every run uses the same ones.
std::string user_id(char kind, int slot, std::size_t i) {
  auto mix = [](std::uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
  };
  const std::uint64_t seed = (static_cast<std::uint64_t>(static_cast<unsigned char>(kind)) << 40U) ^
                             (static_cast<std::uint64_t>(slot) << 32U) ^ i;
  const std::uint64_t a = mix(seed), b = mix(seed ^ 0x9E3779B97F4A7C15ULL);
  return fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", a >> 32U, (a >> 16U) & 0xFFFFU, a & 0xFFFU, b >> 52U,
                     b & 0xFFFFFFFFFFFFULL);
}

struct user_slot {
  std::vector<std::string> users;
  std::vector<mfakit::secret> keys;
  std::vector<std::string> codes;  ///< each user's code at `now`
  std::vector<bool> enabled;
  std::int64_t now = start_time;
};

using bench_service = mfakit::service<mfakit::memory_store, thread_clock>;

struct flow_world {
  mfakit::memory_store store;
  bench_service svc{store, bench_config(), bench_options()};
  std::array<user_slot, max_threads> login;   ///< enrolled users (verify, complete_login)
  std::array<user_slot, max_threads> enable;  ///< users cycled pending -> enabled -> disabled
  mfakit::memory_store plain_store;           ///< the same flow with unsealed secrets
  bench_service plain_svc{plain_store, plaintext_config(), bench_options()};
  std::array<user_slot, max_threads> plain_login;
  std::string error;  ///< set when building the world failed
};

std::string code_at(const mfakit::secret& key, std::int64_t t) {
  auto c = mfakit::totp(key.bytes(), t, mfakit::totp_params{mfakit::algorithm::sha1, 6, 30, 0});
  return c ? c->to_string() : std::string();
}

/// setup + enable through the service, at the slot's time.
bool enrol(bench_service& svc, user_slot& s, const std::string& user) {
  thread_now = s.now;
  auto set = svc.setup(user, "someone@example.com");
  if (!set) return false;
  auto en = svc.enable(user, code_at(set->key, s.now));
  if (!en || en->backup_codes.size() != mfakit::default_backup_code_count) return false;
  s.users.push_back(user);
  s.keys.push_back(std::move(set->key));
  s.codes.emplace_back();
  return true;
}

flow_world& world() {
  static flow_world* const w = [] {
    auto* p = new flow_world;  // NOLINT: lives for the process, shared by all runs and threads
    for (int t = 0; t < max_threads && p->error.empty(); ++t) {
      for (std::size_t i = 0; i < login_users_per_thread; ++i) {
        if (!enrol(p->svc, p->login[t], user_id('L', t, i)) ||
            !enrol(p->plain_svc, p->plain_login[t], user_id('L', t, i))) {
          p->error = "enrolling the login users failed";
          break;
        }
      }
      auto& e = p->enable[t];
      for (std::size_t i = 0; i < enable_batch; ++i) {
        e.users.push_back(user_id('E', t, i));
        e.keys.emplace_back();
        e.codes.emplace_back();
        e.enabled.push_back(false);
      }
    }
    return p;
  }();
  return *w;
}

/// The next step of the slot's clock and every user's code for it.
bool next_step(user_slot& s) {
  s.now += 30;
  thread_now = s.now;
  for (std::size_t i = 0; i < s.users.size(); ++i) {
    s.codes[i] = code_at(s.keys[i], s.now);
    if (s.codes[i].empty()) return false;
  }
  return true;
}

/// Pending users again: disable the enabled ones, set them up, their codes.
bool fresh_pending(bench_service& svc, user_slot& s) {
  thread_now = s.now;
  for (std::size_t i = 0; i < s.users.size(); ++i) {
    if (s.enabled[i] && !svc.disable(s.users[i])) return false;
    s.enabled[i] = false;
    auto set = svc.setup(s.users[i], "someone@example.com");
    if (!set) return false;
    s.keys[i] = std::move(set->key);
    s.codes[i] = code_at(s.keys[i], s.now);
  }
  return true;
}

/// Voluntary / involuntary context switches of the calling thread.
struct switches {
  long voluntary = 0;
  long involuntary = 0;
  static switches now() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    return {u.ru_nvcsw, u.ru_nivcsw};
  }
};

void report_switches(benchmark::State& st, const switches& before) {
  const switches after = switches::now();
  // summed over the threads, divided by all their iterations
  st.counters["vcsw_per_kop"] = benchmark::Counter(1000.0 * static_cast<double>(after.voluntary - before.voluntary),
                                                   benchmark::Counter::kAvgIterations);
  st.counters["ivcsw_per_kop"] = benchmark::Counter(
      1000.0 * static_cast<double>(after.involuntary - before.involuntary), benchmark::Counter::kAvgIterations);
}

bool world_ok(benchmark::State& st, flow_world& w) {
  if (!w.error.empty()) {
    st.SkipWithError(w.error.c_str());
    return false;
  }
  return true;
}

/// The gate every login row passes first, on its own user: a fresh code is
/// accepted once, the same code again is refused as replayed, a wrong code
/// as a mismatch.
bool check_login_rules(benchmark::State& st, flow_world& w) {
  static const bool ok = [&] {
    user_slot gate;
    gate.now = start_time;
    if (!enrol(w.svc, gate, user_id('G', 0, 0))) return false;
    gate.now += 30;
    thread_now = gate.now;
    const std::string code = code_at(gate.keys[0], gate.now);
    std::string wrong = code;
    wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
    auto first = w.svc.verify(gate.users[0], code, mfakit::factor::totp);
    auto again = w.svc.verify(gate.users[0], code, mfakit::factor::totp);
    gate.now += 60;  // past the throttle delay of that failure
    thread_now = gate.now;
    auto bad = w.svc.verify(gate.users[0], wrong, mfakit::factor::totp);
    return first.has_value() && first->user == gate.users[0] &&
           first->backup_codes_remaining == mfakit::default_backup_code_count &&
           again.error() == mfakit::errc::code_replayed && bad.error() == mfakit::errc::code_mismatch;
  }();
  if (!ok) st.SkipWithError("correctness gate: the service's replay / mismatch rules");
  return ok;
}

/// Times `login(u)` round robin over a slot's users: each is accepted once
/// per step, then the clock moves a step on and the next codes are computed
/// with the timer paused. Each call must succeed and produce `events_per_login`
/// audit events.
template <class Login>
void round_robin(benchmark::State& st, user_slot& s, Login login, std::uint64_t events_per_login, const char* refused,
                 const char* events_gate) {
  if (!next_step(s)) {
    st.SkipWithError("totp failed");
    return;
  }
  const std::uint64_t events_before = thread_events;
  const switches sw = switches::now();
  std::size_t i = 0;
  std::int64_t done = 0;
  for (auto _ : st) {
    if (!login(i)) {
      st.SkipWithError(refused);
      break;
    }
    ++done;
    if (++i == s.users.size()) {
      st.PauseTiming();
      const bool ok = next_step(s);
      st.ResumeTiming();
      if (!ok) {
        st.SkipWithError("totp failed");
        break;
      }
      i = 0;
    }
  }
  report_switches(st, sw);
  if (thread_events - events_before != events_per_login * static_cast<std::uint64_t>(done)) {
    st.SkipWithError(events_gate);
    return;
  }
  if (st.threads() == 1) {  // the allocation counter is process-wide
    if (!next_step(s)) return;
    count_allocs(st, [&] { benchmark::DoNotOptimize(login(0)); });
  }
}

/// service::verify round robin over a slot's users, each accepted once per step.
void verify_loop(benchmark::State& st, bench_service& svc, user_slot& s) {
  round_robin(
      st, s,
      [&](std::size_t u) {
        auto r = svc.verify(s.users[u], s.codes[u], mfakit::factor::totp);
        benchmark::DoNotOptimize(r);
        return r.has_value();
      },
      1, "service::verify refused a fresh code", "correctness gate: not one code_accepted event per verify");
}

void flow_verify(benchmark::State& st) {
  flow_world& w = world();
  if (!world_ok(st, w) || !check_login_rules(st, w)) return;
  verify_loop(st, w.svc, w.login[st.thread_index()]);
}

/// The same with secrets stored unsealed (secret_box::unsafe_plaintext()):
/// flow/verify minus this row is what sealing costs a login.
void flow_verify_plaintext_box(benchmark::State& st) {
  flow_world& w = world();
  if (!world_ok(st, w) || !check_login_rules(st, w)) return;
  verify_loop(st, w.plain_svc, w.plain_login[st.thread_index()]);
}

/// secret_box::open_into alone (AES-256-GCM), round robin over the sealed
/// secrets of the thread's enrolled users, as the flow/verify row unseals them.
void flow_unseal(benchmark::State& st) {
  flow_world& w = world();
  if (!world_ok(st, w)) return;
  user_slot& s = w.login[st.thread_index()];
  std::vector<std::string> sealed;
  for (std::size_t i = 0; i < s.users.size(); ++i) {
    auto stored = w.store.load(mfakit::account_key(s.users[i]));
    auto record = stored && *stored ? mfakit::decode_account((*stored)->bytes) : mfakit::errc::malformed_record;
    if (!record) {
      st.SkipWithError("a login user's record is missing");
      return;
    }
    sealed.push_back(record->sealed_secret);
  }
  const mfakit::secret_box& box = w.svc.config().box;
  std::array<unsigned char, mfakit::max_secret_bytes> out{};
  for (std::size_t i = 0; i < sealed.size(); ++i) {  // the gate: every secret opens to the user's key
    auto n = box.open_into(s.users[i], sealed[i], out);
    if (!n || !std::equal(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n), s.keys[i].bytes().begin(),
                          s.keys[i].bytes().end())) {
      st.SkipWithError("correctness gate: open_into did not give the user's secret");
      return;
    }
  }
  const switches sw = switches::now();
  std::size_t i = 0;
  for (auto _ : st) {
    auto n = box.open_into(s.users[i], sealed[i], out);
    if (!n) {
      st.SkipWithError("open_into failed");
      break;
    }
    benchmark::DoNotOptimize(out);
    if (++i == sealed.size()) i = 0;
  }
  mfakit::cleanse(out.data(), out.size());
  report_switches(st, sw);
  if (st.threads() == 1) {
    count_allocs(st, [&] {
      auto n = box.open_into(s.users[0], sealed[0], out);
      benchmark::DoNotOptimize(n);
    });
  }
}

void flow_complete_login(benchmark::State& st) {
  flow_world& w = world();
  if (!world_ok(st, w) || !check_login_rules(st, w)) return;
  user_slot& s = w.login[st.thread_index()];
  // challenge_issued + code_accepted per login
  round_robin(
      st, s,
      [&](std::size_t u) {
        auto c = w.svc.begin_login(s.users[u]);
        if (!c) return false;
        auto r = w.svc.complete_login(c->token, s.codes[u], mfakit::factor::totp);
        benchmark::DoNotOptimize(r);
        return r.has_value() && r->user == s.users[u];
      },
      2, "begin_login + complete_login refused a fresh code", "correctness gate: not two events per login");
}

void flow_enable(benchmark::State& st) {
  flow_world& w = world();
  if (!world_ok(st, w)) return;
  user_slot& s = w.enable[st.thread_index()];
  if (!fresh_pending(w.svc, s)) {
    st.SkipWithError("preparing pending users failed");
    return;
  }
  const std::uint64_t events_before = thread_events;
  const switches sw = switches::now();
  std::size_t i = 0;
  std::int64_t done = 0;
  std::uint64_t prep_events = 0;  // the disable/setup events of the paused preparations
  for (auto _ : st) {
    auto r = w.svc.enable(s.users[i], s.codes[i]);
    if (!r || r->backup_codes.size() != mfakit::default_backup_code_count) {
      st.SkipWithError("service::enable refused a pending user's code");
      break;
    }
    benchmark::DoNotOptimize(r);
    s.enabled[i] = true;
    ++done;
    if (++i == s.users.size()) {
      st.PauseTiming();
      const std::uint64_t e0 = thread_events;
      const bool ok = fresh_pending(w.svc, s);
      prep_events += thread_events - e0;
      st.ResumeTiming();
      if (!ok) {
        st.SkipWithError("preparing pending users failed");
        break;
      }
      i = 0;
    }
  }
  report_switches(st, sw);
  // code_accepted + enabled per enable
  if (thread_events - events_before - prep_events != 2 * static_cast<std::uint64_t>(done)) {
    st.SkipWithError("correctness gate: not two events per enable");
    return;
  }
  st.counters["scrypt_N"] = benchmark::Counter(static_cast<double>(flow_kdf_cost.n), benchmark::Counter::kAvgThreads);
  if (st.threads() == 1) {
    if (!fresh_pending(w.svc, s)) return;
    count_allocs(st, [&] {
      auto r = w.svc.enable(s.users[0], s.codes[0]);
      benchmark::DoNotOptimize(r);
    });
    s.enabled[0] = true;
  }
}

void flow_verify_totp_bare(benchmark::State& st) {
  auto key = mfakit::secret::generate(20);
  if (!key) {
    st.SkipWithError("secret::generate failed");
    return;
  }
  const mfakit::totp_params p{mfakit::algorithm::sha1, 6, 30, 0};
  const std::int64_t now = start_time + 30 * st.thread_index();
  const std::string code = code_at(*key, now);
  const auto step = static_cast<std::uint64_t>(now / 30);
  const mfakit::totp_verify_options o{{1, 1}, step - 2};  // replay limit before the window: accepted every time
  auto first = mfakit::verify_totp(key->bytes(), code, now, p, o);
  auto replayed = mfakit::verify_totp(key->bytes(), code, now, p, mfakit::totp_verify_options{{1, 1}, step});
  if (!first || *first != step || replayed.error() != mfakit::errc::code_replayed) {
    st.SkipWithError("correctness gate: verify_totp");
    return;
  }
  const switches sw = switches::now();
  for (auto _ : st) {
    auto r = mfakit::verify_totp(key->bytes(), code, now, p, o);
    if (!r) {
      st.SkipWithError("verify_totp refused the code");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  report_switches(st, sw);
  if (st.threads() == 1) {
    count_allocs(st, [&] {
      auto r = mfakit::verify_totp(key->bytes(), code, now, p, o);
      benchmark::DoNotOptimize(r);
    });
  }
}

/// An enabled account record as the service stores it, made with the pure
/// transitions (setup, enable) for `alg` and a secret of `secret_bytes`; its
/// backup-code set then carries backup_code_hasher::default_cost, as in
/// production (only the cost's varints depend on it: made at the cheap cost,
/// relabelled, the digests are not checked here).
mfakit::result<mfakit::account_record> enabled_record(const std::string& user, mfakit::algorithm alg,
                                                      std::size_t secret_bytes, std::int64_t now) {
  mfakit::flow_config cfg = bench_config();
  cfg.alg = alg;
  cfg.secret_bytes = secret_bytes;
  mfakit::openssl_random rng;
  auto set = mfakit::flow::setup(std::nullopt, user, "someone@example.com", now, cfg, rng);
  if (!set.outcome || !set.next) return mfakit::errc::invalid_argument;
  auto code = mfakit::totp(set.outcome->key.bytes(), now, mfakit::totp_params{alg, cfg.digits, cfg.period, 0});
  if (!code) return code.error();
  auto en = mfakit::flow::enable(set.next, user, code->str(), now, cfg, rng);
  if (!en.outcome || !en.next || en.next->backup.remaining() != mfakit::default_backup_code_count)
    return mfakit::errc::invalid_argument;
  mfakit::account_record r = *en.next;
  r.backup.cost = mfakit::backup_code_hasher::default_cost;
  return r;
}

void flow_record_bytes(benchmark::State& st) {
  const std::string user = user_id('R', 0, 0);
  const std::int64_t now = start_time;
  auto sha1 = enabled_record(user, mfakit::algorithm::sha1, 20, now);
  auto sha512 = enabled_record(user, mfakit::algorithm::sha512, 64, now);
  if (!sha1 || !sha512) {
    st.SkipWithError("making the records failed");
    return;
  }
  mfakit::flow_config cfg = bench_config();
  mfakit::openssl_random rng;
  auto challenge = mfakit::flow::begin_challenge(*sha1, user, now, cfg, rng);
  if (!challenge) {
    st.SkipWithError("begin_challenge failed");
    return;
  }
  const std::string bytes1 = mfakit::encode(*sha1);
  const std::string bytes512 = mfakit::encode(*sha512);
  const std::string bytes_c = mfakit::encode(challenge->second);
  auto back1 = mfakit::decode_account(bytes1);
  auto back512 = mfakit::decode_account(bytes512);
  auto back_c = mfakit::decode_challenge(bytes_c);
  if (!back1 || *back1 != *sha1 || !back512 || *back512 != *sha512 || !back_c || *back_c != challenge->second) {
    st.SkipWithError("correctness gate: decode(encode(record)) differs");
    return;
  }
  for (auto _ : st) {  // the codec work of one service::verify: one decode, one encode
    auto r = mfakit::decode_account(bytes1);
    auto b = mfakit::encode(*r);
    benchmark::DoNotOptimize(b);
  }
  count_allocs(st, [&] {
    auto r = mfakit::decode_account(bytes1);
    auto b = mfakit::encode(*r);
    benchmark::DoNotOptimize(b);
  });
  st.counters["account_SHA1_B"] = static_cast<double>(bytes1.size());
  st.counters["account_SHA512_B"] = static_cast<double>(bytes512.size());
  st.counters["challenge_B"] = static_cast<double>(bytes_c.size());
  st.counters["account_key_B"] = static_cast<double>(mfakit::account_key(user).size());
  auto ck = mfakit::flow::challenge_key(challenge->first.token);
  st.counters["challenge_key_B"] = static_cast<double>(ck ? ck->size() : 0);
  st.counters["user_id_B"] = static_cast<double>(user.size());
  st.counters["backup_codes"] = static_cast<double>(sha1->backup.remaining());
}

}  // namespace

void register_flow() {
  for (const auto& [name, fn] :
       {std::pair{"flow/verify", &flow_verify}, std::pair{"flow/verify_plaintext_box", &flow_verify_plaintext_box},
        std::pair{"flow/unseal", &flow_unseal}, std::pair{"flow/complete_login", &flow_complete_login},
        std::pair{"flow/enable", &flow_enable}, std::pair{"flow/verify_totp_bare", &flow_verify_totp_bare}}) {
    benchmark::RegisterBenchmark(name, fn)->Threads(1)->Threads(max_threads);
  }
  benchmark::RegisterBenchmark("flow/record_bytes", flow_record_bytes);
}

}  // namespace mfakit_bench
