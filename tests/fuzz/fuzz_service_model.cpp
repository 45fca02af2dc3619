// A structure-aware, fuzzer-driven model test of mfakit::service over
// memory_store. The input is read as a program: a configuration (throttle
// policy, window, challenge attempts, retry budget), then up to 48 requests
// (setup, enable, step-up verify and login with either factor, right, stale,
// wrong or malformed codes, begin_login, regenerate, disable, reseal under a
// rotated key ring, reset_throttle, status, clock steps) for two users
// through two services (sealing under key 1, and under key 2 with key 1
// still in the ring). Every store call takes one more byte as its fault:
//   none | an error, nothing written | a throw, nothing written |
//   written, then a throw (the answer lost) | written, then an error |
//   a lost race without a write (compare-and-swap)
// and may first run a whole concurrent request to completion (a duplicate of
// the current one, or another): two requests interleaved at that call.
//
// After every request (concurrent ones included) the harness checks, knowing
// every write the store applied for that request:
//  - accepted_twice:  no TOTP step (of one secret) and no backup code is
//                     accepted twice;
//  - no_write:        a success is reported only when that request's own
//                     write was applied (for a login: the account write and
//                     the deletion of the challenge);
//  - uncounted:       a wrong guess answered as such (code_mismatch,
//                     code_replayed) was counted by exactly one applied write
//                     of that request (failures + 1);
//  - attempts:        a challenge never verifies more codes than its attempts;
//  - unseen_codes:    (only with MFAKIT_FUZZ_CHECK_UNSEEN=1) no backup-code set
//                     is live in the store unless a request handed it out;
//                     service.hpp documents that an ambiguous commit of enable
//                     or regenerate may leave one, so it is off by default.
// A violation aborts with its name. The double spend the write ids prevent (a request
// whose compare-and-swap failed takes a concurrent request's identical bytes
// for its own write) shows as accepted_twice / no_write / uncounted.
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.hpp"

namespace {

// A violated invariant aborts (libFuzzer keeps the input), unless its name is
// listed in MFAKIT_FUZZ_TOLERATE (comma-separated): then it is counted per
// request kind, the first of each printed, and the counts printed at exit.
#define MODEL_CHECK(cond, name)                      \
  do {                                               \
    if (!(cond)) violated(name, #cond, o, __LINE__); \
  } while (false)

std::map<std::string, unsigned long>& tolerated_counts() {
  static auto* counts = new std::map<std::string, unsigned long>;  // still there when print_tolerated runs at exit
  return *counts;
}

void print_tolerated() {
  for (const auto& [what, n] : tolerated_counts())
    std::fprintf(stderr, "tolerated model violation: %s x %lu\n", what.c_str(), n);
}

bool tolerated(std::string_view name) {
  static const std::string list = [] {
    const char* v = std::getenv("MFAKIT_FUZZ_TOLERATE");
    tolerated_counts();
    if (v != nullptr) std::atexit(print_tolerated);
    return v != nullptr ? "," + std::string(v) + "," : std::string();
  }();
  return list.find("," + std::string(name) + ",") != std::string::npos;
}

struct det_rng {
  std::shared_ptr<std::uint64_t> s;
  bool fill(std::span<unsigned char> out) {
    for (auto& b : out) {
      std::uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
      b = static_cast<unsigned char>((z ^ (z >> 31U)) >> 56U);
    }
    return true;
  }
};

enum class fault : std::uint8_t { none, error, throw_before, commit_then_throw, commit_then_error, lose_race };

/// A write the store applied during one request.
struct applied_write {
  std::string key;
  std::optional<std::string> before;
  std::optional<std::string> after;
};

class harness;

class faulty_store {
 public:
  explicit faulty_store(harness& h) : h_(h) {}
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key);
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next);
  mfakit::memory_store inner;

 private:
  harness& h_;
};
static_assert(mfakit::record_store<faulty_store>);

using svc_t = mfakit::service<faulty_store, mfakit::testing::manual_clock, det_rng>;

enum class op_kind : std::uint8_t {
  setup,
  enable,
  verify_totp,
  verify_backup,
  begin_login,
  login_totp,
  login_backup,
  regenerate,
  disable,
  reseal,
  reset_throttle,
  status,
  advance,
  count
};

struct op {
  op_kind k = op_kind::status;
  int user = 0;
  int svc = 0;
  std::string code;
  std::size_t token = 0;
  std::int64_t advance = 0;
};

struct answer {
  std::error_code ec;
  std::vector<std::string> codes;
  bool wrote = true;  // reseal: false when nothing needed moving
};

struct token_state {
  std::string token;
  int user = 0;
  unsigned verified = 0;  // answers that looked at a code
};

constexpr std::array<std::string_view, 2> users{"alice", "bob"};

std::array<unsigned char, 32> ring_key(unsigned char fill) {
  std::array<unsigned char, 32> k{};
  k.fill(fill);
  return k;
}

class harness {
 public:
  harness(const std::uint8_t* data, std::size_t size) : in(data, size) {
    *rng_state = in.ConsumeIntegral<std::uint64_t>();
    clock.set(1'700'000'000 + in.ConsumeIntegralInRange<std::int64_t>(0, 29));
    for (int i = 0; i < 2; ++i) {
      auto box = i == 0 ? mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, ring_key(0x11))})
                        : mfakit::secret_box::aes_256_gcm(
                              2, {mfakit::sealing_key(1, ring_key(0x11)), mfakit::sealing_key(2, ring_key(0x22))});
      mfakit::flow_config cfg(std::move(box).value());
      configure(cfg);
      mfakit::service_options<> opts;
      opts.max_retries = retries_;
      svc[static_cast<std::size_t>(i)].emplace(store, std::move(cfg), opts, clock, det_rng{rng_state});
    }
    oracle_box = mfakit::secret_box::aes_256_gcm(
                     1, {mfakit::sealing_key(1, ring_key(0x11)), mfakit::sealing_key(2, ring_key(0x22))})
                     .value();
    check_unseen = std::getenv("MFAKIT_FUZZ_CHECK_UNSEEN") != nullptr;
    trace = std::getenv("MFAKIT_FUZZ_TRACE") != nullptr;
  }

  void run() {
    for (int n = 0; n < 48 && in.remaining_bytes() > 0; ++n) {
      const op o = make_op(false);
      if (o.k == op_kind::advance) {
        clock.advance(o.advance);
        continue;
      }
      execute(o);
      if (check_unseen) check_live_codes_shown();
    }
  }

  /// The fault (and whether a concurrent request runs first) for the next store call.
  std::pair<fault, bool> next_call(bool cas) {
    const auto b = in.ConsumeIntegral<std::uint8_t>();
    fault f = fault::none;
    switch (b & 7U) {
      case 4: f = fault::error; break;
      case 5: f = fault::throw_before; break;
      case 6: f = fault::commit_then_throw; break;
      case 7: f = cas ? ((b & 8U) != 0 ? fault::lose_race : fault::commit_then_error) : fault::error; break;
      default: break;
    }
    return {f, (b >> 4U) == 0xFU && depth_ == 0};
  }

  /// A concurrent request, run to completion inside a store call of the current one.
  void interleave() {
    op o = in.ConsumeBool() && current_ != nullptr ? *current_ : make_op(true);
    if (o.k == op_kind::advance) return;
    ++depth_;
    execute(o);
    --depth_;
  }

  void record(std::string_view key, std::optional<std::string> before, const std::optional<std::string>& after) {
    if (!writes_.empty()) writes_.back().push_back({std::string(key), std::move(before), after});
  }

  FuzzedDataProvider in;
  faulty_store store{*this};

 private:
  void configure(mfakit::flow_config& cfg) {
    if (!configured_) {
      switch (in.ConsumeIntegralInRange<int>(0, 2)) {
        case 0: throttle_ = mfakit::throttle_policy::unsafe_none(); break;
        case 1: throttle_ = mfakit::throttle_policy{1, 5, 40, 8}; break;
        default: throttle_ = mfakit::throttle_policy{0, 3, 0, 0}; break;
      }
      attempts_ = in.ConsumeIntegralInRange<std::uint32_t>(1, 4);
      window_ = {in.ConsumeIntegralInRange<std::uint32_t>(0, 1), in.ConsumeIntegralInRange<std::uint32_t>(0, 1)};
      retries_ = in.ConsumeIntegralInRange<unsigned>(1, 6);
      codes_ = in.ConsumeIntegralInRange<std::size_t>(1, 4);
      configured_ = true;
    }
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.throttle = throttle_;
    cfg.challenge_max_attempts = attempts_;
    cfg.window = window_;
    cfg.backup_code_count = codes_;
  }

  /// The user's secret as the store holds it now (the oracle reads the store directly).
  std::optional<mfakit::secret> stored_secret(int user) {
    auto loaded = store.inner.load(mfakit::account_key(users[static_cast<std::size_t>(user)]));
    if (!loaded || !*loaded) return std::nullopt;
    auto rec = mfakit::decode_account((*loaded)->bytes);
    if (!rec || rec->sealed_secret.empty()) return std::nullopt;
    auto s = oracle_box->open(users[static_cast<std::size_t>(user)], rec->sealed_secret);
    if (!s) return std::nullopt;
    return std::move(*s);
  }

  std::string totp_code(int user) {
    const int kind = in.ConsumeIntegralInRange<int>(0, 4);
    if (kind == 4) return "12 34x6";  // malformed
    auto key = stored_secret(user);
    const std::int64_t now = clock.unix_time();
    if (key && kind <= 2) {
      const std::int64_t at = now + (kind == 0 ? 0 : kind == 1 ? -30 : 30);
      return mfakit::totp(key->bytes(), at)->to_string();
    }
    for (std::uint32_t v = in.ConsumeIntegralInRange<std::uint32_t>(0, 999999);; v = (v + 1) % 1000000) {
      const std::string c = fmt::format("{:06}", v);
      bool near = false;
      for (int d = -2; key && d <= 2; ++d) near = near || mfakit::totp(key->bytes(), now + 30 * d)->str() == c;
      if (!near) return c;
    }
  }

  std::string backup_code(int user) {
    const auto& shown = shown_codes_[user];
    const int kind = in.ConsumeIntegralInRange<int>(0, 3);
    if (kind == 3) return "ab-cd";
    if (kind == 2 || shown.empty()) return "zzzz-zzzz";  // well formed, never issued (2^-40)
    std::string c = shown[in.ConsumeIntegral<std::size_t>() % shown.size()];
    if (kind == 1) {  // as typed: upper case, no dash
      c.erase(4, 1);
      for (char& ch : c) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    }
    return c;
  }

  op make_op(bool concurrent) {
    op o;
    o.k = static_cast<op_kind>(
        in.ConsumeIntegralInRange<int>(0, static_cast<int>(op_kind::count) - (concurrent ? 2 : 1)));
    o.user = in.ConsumeIntegralInRange<int>(0, 1);
    o.svc = in.ConsumeIntegralInRange<int>(0, 1);
    switch (o.k) {
      case op_kind::enable:
      case op_kind::verify_totp:
      case op_kind::login_totp: o.code = totp_code(o.user); break;
      case op_kind::verify_backup:
      case op_kind::login_backup: o.code = backup_code(o.user); break;
      case op_kind::advance: o.advance = in.ConsumeIntegralInRange<std::int64_t>(1, 120); break;
      default: break;
    }
    if (o.k == op_kind::login_totp || o.k == op_kind::login_backup) {
      if (tokens_.empty() || in.ConsumeIntegralInRange<int>(0, 7) == 0) {
        o.token = tokens_.size();  // a token nobody issued
      } else {
        o.token = in.ConsumeIntegral<std::size_t>() % tokens_.size();
        o.user = tokens_[o.token].user;
      }
    }
    return o;
  }

  template <class T>
  static answer of(const mfakit::result<T>& r) {
    return {r.error(), {}, true};
  }

  answer dispatch(const op& o) {
    svc_t& s = *svc[static_cast<std::size_t>(o.svc)];
    const std::string_view u = users[static_cast<std::size_t>(o.user)];
    switch (o.k) {
      case op_kind::setup: return of(s.setup(u, "someone@example.com"));
      case op_kind::enable: {
        auto r = s.enable(u, o.code);
        answer a = of(r);
        if (r)
          for (const auto& c : r->backup_codes) a.codes.emplace_back(c.str());
        return a;
      }
      case op_kind::verify_totp: return of(s.verify(u, o.code, mfakit::factor::totp));
      case op_kind::verify_backup: return of(s.verify(u, o.code, mfakit::factor::backup_code));
      case op_kind::begin_login: {
        auto r = s.begin_login(u);
        // no second factor: a result without a challenge, and nothing written (the model's not_enabled)
        if (r && !r->mfa_required()) return {make_error_code(mfakit::errc::not_enabled), {}, false};
        if (r) tokens_.push_back({r->token, o.user, 0});
        return of(r);
      }
      case op_kind::login_totp:
      case op_kind::login_backup: {
        const std::string token = o.token < tokens_.size() ? tokens_[o.token].token : std::string(64, 'a');
        return of(s.complete_login(token, o.code,
                                   o.k == op_kind::login_totp ? mfakit::factor::totp : mfakit::factor::backup_code));
      }
      case op_kind::regenerate: {
        auto r = s.regenerate_backup_codes(u);
        answer a = of(r);
        if (r)
          for (const auto& c : r->backup_codes) a.codes.emplace_back(c.str());
        return a;
      }
      case op_kind::disable: return of(s.disable(u));
      case op_kind::reseal: {
        auto r = s.reseal(u);
        answer a = of(r);
        a.wrote = r && *r;
        return a;
      }
      case op_kind::reset_throttle: return of(s.reset_throttle(u));
      case op_kind::status: {
        answer a = of(s.status(u));
        a.wrote = false;
        return a;
      }
      default: return {};
    }
  }

  void execute(const op& o) {
    const op* outer = current_;
    current_ = &o;
    writes_.emplace_back();
    const std::int64_t now = clock.unix_time();
    const answer a = dispatch(o);
    const std::vector<applied_write> w = std::move(writes_.back());
    writes_.pop_back();
    current_ = outer;
    check(o, a, w, now);
  }

  static std::string_view name(op_kind k) {
    constexpr std::array<std::string_view, 13> names{
        "setup",      "enable",  "verify_totp", "verify_backup",  "begin_login", "login_totp", "login_backup",
        "regenerate", "disable", "reseal",      "reset_throttle", "status",      "advance"};
    return names[static_cast<std::size_t>(k)];
  }
  static std::string describe(const std::optional<std::string>& bytes) {
    if (!bytes) return "(none)";
    auto a = mfakit::decode_account(*bytes);
    if (a)
      return fmt::format("account status={} step={} failures={} codes={}", static_cast<int>(a->status),
                         a->last_step ? std::to_string(*a->last_step) : "-", a->failures, a->backup.digests.size());
    auto c = mfakit::decode_challenge(*bytes);
    if (c) return fmt::format("challenge user={} attempts={}", c->user, c->attempts);
    return "?";
  }

  void violated(const char* what, const char* cond, const op& o, int line) {
    const std::string key = fmt::format("{} ({})", what, name(o.k));
    if (!tolerated(what)) {
      std::fprintf(stderr, "model invariant violated: %s: %s (line %d)\n", key.c_str(), cond, line);
      std::abort();
    }
    if (tolerated_counts()[key]++ == 0) std::fprintf(stderr, "tolerated model violation: %s\n", key.c_str());
  }

  void check(const op& o, const answer& a, const std::vector<applied_write>& w, std::int64_t now) {
    if (trace) {
      std::fprintf(stderr, "%*s%s %s svc%d code='%s' token=%zu at %lld -> %s\n", depth_ * 4, "",
                   std::string(name(o.k)).c_str(), std::string(users[static_cast<std::size_t>(o.user)]).c_str(), o.svc,
                   o.code.c_str(), o.token, static_cast<long long>(now), a.ec ? a.ec.message().c_str() : "ok");
      for (const auto& x : w)
        std::fprintf(stderr, "%*s  wrote %s: %s -> %s\n", depth_ * 4, "", x.key.substr(0, 24).c_str(),
                     describe(x.before).c_str(), describe(x.after).c_str());
    }
    const std::string_view u = users[static_cast<std::size_t>(o.user)];
    const std::string account = mfakit::account_key(u);
    std::vector<const applied_write*> account_writes;
    for (const auto& x : w)
      if (x.key == account) account_writes.push_back(&x);
    const bool ok = !a.ec;
    const bool login = o.k == op_kind::login_totp || o.k == op_kind::login_backup;
    const bool totp = o.k == op_kind::enable || o.k == op_kind::verify_totp || o.k == op_kind::login_totp;
    const bool backup = o.k == op_kind::verify_backup || o.k == op_kind::login_backup;

    // no_write: a success stands on this request's own applied write.
    // (reset_throttle is left out: on a record with no failures its write is
    // the stored bytes again, and a failed write of them reads back as
    // landed; the answer is true either way.)
    if (ok && a.wrote && o.k != op_kind::begin_login && o.k != op_kind::reset_throttle) {
      MODEL_CHECK(!account_writes.empty(), "no_write");
    }
    if (ok && login) {
      MODEL_CHECK(o.token < tokens_.size(), "no_write");
      if (o.token >= tokens_.size()) return;
      const std::string ckey = *mfakit::flow::challenge_key(tokens_[o.token].token);
      bool deleted = false;
      for (const auto& x : w) deleted = deleted || (x.key == ckey && !x.after);
      MODEL_CHECK(deleted, "no_write");
    }
    if (ok && o.k == op_kind::begin_login) {
      const std::string ckey = *mfakit::flow::challenge_key(tokens_.back().token);
      bool created = false;
      for (const auto& x : w) created = created || (x.key == ckey && x.after && !x.before);
      MODEL_CHECK(created, "no_write");
    }

    // accepted_twice. The step: the one this request wrote, or (a success
    // without a write of its own) the one its code matches now.
    if (ok && totp) {
      std::optional<std::string> bytes;
      if (!account_writes.empty()) {
        bytes = account_writes.back()->after;
      } else if (auto cur = store.inner.load(account); cur && *cur) {
        bytes = (*cur)->bytes;
      }
      auto rec = bytes ? mfakit::decode_account(*bytes)
                       : mfakit::result<mfakit::account_record>(mfakit::errc::malformed_record);
      std::optional<mfakit::secret> key;
      if (rec) {
        if (auto k = oracle_box->open(u, rec->sealed_secret)) key = std::move(*k);
      }
      MODEL_CHECK(key.has_value(), "no_write");
      if (!key) return;
      std::optional<std::uint64_t> step;
      if (!account_writes.empty()) step = rec->last_step;
      for (std::int64_t d = -static_cast<std::int64_t>(window_.behind); !step && d <= window_.ahead; ++d) {
        if (mfakit::totp(key->bytes(), now + 30 * d)->str() == o.code)
          step = static_cast<std::uint64_t>((now + 30 * d) / 30);
      }
      MODEL_CHECK(step.has_value(), "no_write");
      if (!step) return;
      const auto kb = key->bytes();
      const auto id = std::make_tuple(std::string(u), std::string(kb.begin(), kb.end()), *step);
      MODEL_CHECK(!accepted_steps_.contains(id), "accepted_twice");
      accepted_steps_.insert(id);
    }
    if (ok && backup) {
      auto c = mfakit::backup_code::parse(o.code);
      MODEL_CHECK(c.has_value(), "accepted_twice");
      if (!c) return;
      const auto id = std::make_pair(std::string(u), std::string(c->str()));
      MODEL_CHECK(!accepted_codes_.contains(id), "accepted_twice");
      accepted_codes_.insert(id);
    }

    // uncounted: an answered wrong guess is one applied failure write
    if ((totp || backup) && (a.ec == mfakit::errc::code_mismatch || a.ec == mfakit::errc::code_replayed)) {
      int counted = 0;
      for (const applied_write* x : account_writes) {
        if (!x->after || !x->before) continue;
        auto before = mfakit::decode_account(*x->before);
        auto after = mfakit::decode_account(*x->after);
        if (before && after && after->last_failure == now &&
            (after->failures == before->failures + 1 || after->failures == 1))
          ++counted;
      }
      MODEL_CHECK(counted == 1, "uncounted");
    }

    // attempts: codes verified on one challenge
    if (login && o.token < tokens_.size() &&
        (ok || a.ec == mfakit::errc::code_mismatch || a.ec == mfakit::errc::code_replayed)) {
      MODEL_CHECK(++tokens_[o.token].verified <= attempts_, "attempts");
    }

    // what was handed out
    if (ok && !a.codes.empty()) {
      for (const auto& c : a.codes) shown_codes_[o.user].push_back(c);
      for (auto it = account_writes.rbegin(); it != account_writes.rend(); ++it) {
        if (!(*it)->after) continue;
        auto rec = mfakit::decode_account(*(*it)->after);
        if (rec && !rec->backup.digests.empty()) {
          shown_salts_[o.user].insert(std::string(rec->backup.salt.begin(), rec->backup.salt.end()));
          break;
        }
      }
    }
  }

  void check_live_codes_shown() {
    const op o{};  // (for the violation's label)
    for (int user = 0; user < 2; ++user) {
      auto loaded = store.inner.load(mfakit::account_key(users[static_cast<std::size_t>(user)]));
      if (!loaded || !*loaded) continue;
      auto rec = mfakit::decode_account((*loaded)->bytes);
      if (!rec || rec->backup.digests.empty() || rec->status == mfakit::account_status::disabled) continue;
      MODEL_CHECK(shown_salts_[user].contains(std::string(rec->backup.salt.begin(), rec->backup.salt.end())),
                  "unseen_codes");
    }
  }

  mfakit::testing::manual_clock clock;
  std::shared_ptr<std::uint64_t> rng_state = std::make_shared<std::uint64_t>(0);
  std::array<std::optional<svc_t>, 2> svc;
  std::optional<mfakit::secret_box> oracle_box;
  bool check_unseen = false;
  bool trace = false;  // MFAKIT_FUZZ_TRACE=1: every request, its answer and its applied writes on stderr
  bool configured_ = false;
  mfakit::throttle_policy throttle_{};
  std::uint32_t attempts_ = 5;
  mfakit::drift_window window_{};
  unsigned retries_ = 32;
  std::size_t codes_ = 2;

  int depth_ = 0;
  const op* current_ = nullptr;
  std::vector<std::vector<applied_write>> writes_;
  std::vector<token_state> tokens_;
  std::map<int, std::vector<std::string>> shown_codes_;
  std::map<int, std::set<std::string>> shown_salts_;
  std::set<std::tuple<std::string, std::string, std::uint64_t>> accepted_steps_;
  std::set<std::pair<std::string, std::string>> accepted_codes_;
};

mfakit::result<std::optional<mfakit::stored_record>> faulty_store::load(std::string_view key) {
  const auto [f, concurrent] = h_.next_call(false);
  if (concurrent) h_.interleave();
  if (f == fault::error) return std::make_error_code(std::errc::io_error);
  if (f == fault::throw_before) throw std::runtime_error("injected: connection reset");
  auto r = inner.load(key);
  if (f == fault::commit_then_throw) throw std::runtime_error("injected: answer lost");
  return r;
}

mfakit::result<bool> faulty_store::compare_and_swap(std::string_view key, std::uint64_t expected,
                                                    const std::optional<std::string>& next) {
  const auto [f, concurrent] = h_.next_call(true);
  if (concurrent) h_.interleave();
  if (f == fault::error) return std::make_error_code(std::errc::io_error);
  if (f == fault::throw_before) throw std::runtime_error("injected: connection reset");
  if (f == fault::lose_race) return false;
  std::optional<std::string> before;
  if (auto cur = inner.load(key); cur && *cur) before = (*cur)->bytes;
  auto r = inner.compare_and_swap(key, expected, next);
  if (r && *r) h_.record(key, std::move(before), next);
  if (f == fault::commit_then_throw) throw std::runtime_error("injected: answer lost");
  if (f == fault::commit_then_error) return std::make_error_code(std::errc::io_error);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  harness h(data, size);
  h.run();
  return 0;
}
