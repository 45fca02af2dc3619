// A model-based test of the whole flow. The rules of flows.md, RFC 6238
// and the throttle policy are written out again here, as a plain model:
// per user a state (none / disabled / pending / enabled), the secret, the
// last accepted step, the remaining backup codes in clear, the failure count
// and time; per login challenge its user, expiry and attempts. Random
// operation sequences run against the real service (memory_store, a manual
// clock, a seeded random source) and against the model; after every
// operation the answer (success or the exact error), the status and every
// stored record must agree with the model's prediction. A disagreement
// fails with the seed and the whole sequence.
//
// Reproduce or extend a run:
//   MFAKIT_MODEL_SEED=<seed> MFAKIT_MODEL_SEQUENCES=<n> flow_model_test
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"
#include "loop.hpp"

using mfakit::errc;
using mfakit::factor;

namespace {

// --- the service side ---------------------------------------------------------------

struct seeded_random {
  std::shared_ptr<std::mt19937_64> gen;
  bool fill(std::span<unsigned char> out) {
    for (auto& b : out) b = static_cast<unsigned char>((*gen)() >> 56U);
    return true;
  }
};

using svc_t = test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock, seeded_random>;

constexpr std::size_t code_count = 3;  // few: sets run out, and enabling stays cheap
constexpr std::int64_t period = 30;
constexpr std::int64_t ttl = 300;
constexpr std::uint32_t max_attempts = 5;

struct named_policy {
  const char* name;
  mfakit::throttle_policy p;
};
const std::array<named_policy, 5> policies{{
    {"unsafe_none", mfakit::throttle_policy::unsafe_none()},
    {"nist", mfakit::throttle_policy::nist()},
    {"pci_dss", mfakit::throttle_policy::pci_dss()},
    {"delays, lock at 4", {1, 4, 0}},
    {"no delays, 2-minute lock at 3", {0, 3, 120}},
}};

// --- the model ----------------------------------------------------------------------

enum class state { none, disabled, pending, enabled };

struct model_user {
  std::string id;
  state st = state::none;
  std::vector<unsigned char> secret;
  std::optional<std::uint64_t> last_step;
  std::vector<std::string> codes;  // remaining, "xxxx-xxxx"
  std::vector<std::string> spent;  // redeemed or replaced
  std::uint32_t failures = 0;
  std::int64_t last_failure = 0;
};

struct model_challenge {
  std::string token;
  std::size_t user = 0;
  std::int64_t expires = 0;
  std::uint32_t attempts = 0;
  bool gone = false;
};

enum class gate { open, open_after_lock, delayed, locked };

/// The policy, from its definition (throttle.hpp's comment and flows.md).
gate judge_gate(const mfakit::throttle_policy& p, const model_user& u, std::int64_t now) {
  if (p.lock_after != 0 && u.failures >= p.lock_after) {
    if (p.lock_duration == 0 || now < u.last_failure + p.lock_duration) return gate::locked;
    return gate::open_after_lock;
  }
  if (u.failures > 0 && p.base_delay > 0) {
    const std::uint32_t e = std::min<std::uint32_t>(u.failures - 1, 40);
    if (now < u.last_failure + p.base_delay * (std::int64_t{1} << e)) return gate::delayed;
  }
  return gate::open;
}

enum class verdict { accepted, replayed, mismatch, malformed };

std::string totp_at_step(const std::vector<unsigned char>& secret, std::uint64_t step) {
  return mfakit::hotp(secret, step, {mfakit::algorithm::sha1, 6})->to_string();
}

/// RFC 6238 with a window of one step either way and replay protection:
/// the earliest step of the window, after the last accepted one, whose code
/// is the input; a match only at or before the last accepted one is a replay.
std::pair<verdict, std::uint64_t> judge_totp(const model_user& u, std::string_view input, std::int64_t now) {
  std::string digits;
  for (char c : input) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return {verdict::malformed, 0};
    digits.push_back(c);
  }
  if (digits.size() != 6) return {verdict::malformed, 0};
  const auto cur = static_cast<std::uint64_t>(now / period);
  bool replay = false;
  for (std::uint64_t s = cur - 1; s <= cur + 1; ++s) {
    if (totp_at_step(u.secret, s) != digits) continue;
    if (!u.last_step || s > *u.last_step) return {verdict::accepted, s};
    replay = true;
  }
  return {replay ? verdict::replayed : verdict::mismatch, 0};
}

constexpr std::string_view alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

/// flows.md: any letter case, with or without the dash, spaces around ignored.
std::optional<std::string> canonical_backup(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  std::string sym;
  if (s.size() == 9 && s[4] == '-') {
    sym = std::string(s.substr(0, 4)) + std::string(s.substr(5));
  } else if (s.size() == 8) {
    sym = std::string(s);
  } else {
    return std::nullopt;
  }
  for (char& c : sym) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (alphabet.find(c) == std::string_view::npos) return std::nullopt;
  }
  return sym.substr(0, 4) + "-" + sym.substr(4);
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// --- one sequence ------------------------------------------------------------------

struct coverage {
  std::map<std::string, std::size_t> outcomes;  // "op: answer"
  std::size_t ops = 0;
};

class sequence {
 public:
  sequence(std::uint64_t seed, coverage& cov) : seed_(seed), gen_(seed), cov_(cov) {
    policy_ = policies[pick(policies.size())];
    std::array<unsigned char, 32> key{};
    for (auto& b : key) b = static_cast<unsigned char>(gen_());
    mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)}).value());
    cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
    cfg.backup_code_count = code_count;
    cfg.throttle = policy_.p;
    cfg.challenge_ttl = ttl;
    cfg.challenge_max_attempts = max_attempts;
    now_ = 1'600'000'000 + static_cast<std::int64_t>(gen_() % 400'000'000);
    clock_.set(now_);
    svc_.emplace(store_, std::move(cfg), clock_, seeded_random{std::make_shared<std::mt19937_64>(gen_())});
    const std::size_t n_users = 1 + pick(3);
    for (std::size_t i = 0; i < n_users; ++i) {
      model_user u;
      u.id = fmt::format("user-{}", i);
      users_.push_back(std::move(u));
    }
    log("seed {:#x}, policy {}, {} users, t = {}", seed_, policy_.name, n_users, now_);
  }

  /// Runs the sequence; the empty string when the service agreed throughout.
  std::string run() {
    for (std::size_t u = 0; u < users_.size(); ++u) {  // half the users start enrolled
      if (pick(2) == 0) continue;
      if (!setup(u) || !enable(u, "right")) return failure_;
    }
    const std::size_t n = 5 + pick(11);
    for (std::size_t i = 0; i < n; ++i)
      if (!step()) return failure_;
    return {};
  }

 private:
  // ---- randomness and logging
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(gen_() % n); }
  bool chance(unsigned percent) { return gen_() % 100 < percent; }
  template <class... A>
  void log(fmt::format_string<A...> f, A&&... a) {
    log_ += fmt::format(f, std::forward<A>(a)...);
    log_ += '\n';
  }
  bool fail(const std::string& what) {
    failure_ = fmt::format("model disagreement, seed {:#x}: {}\nsequence:\n{}", seed_, what, log_);
    return false;
  }
  void count(std::string_view op, std::error_code ec) {
    ++cov_.outcomes[fmt::format("{}: {}", op, ec ? ec.message() : "success")];
    ++cov_.ops;
  }
  void count_outcome(std::string_view op, std::string_view what) { ++cov_.outcomes[fmt::format("{}: {}", op, what)]; }
  bool expect(std::string_view op, std::error_code got, std::optional<errc> want) {
    log("  -> {} (model: {})", got ? got.message() : "success",
        want ? mfakit::make_error_code(*want).message() : "success");
    count(op, got);
    if (want ? got != *want : static_cast<bool>(got))
      return fail(fmt::format("{}: service says {}, model says {}", op, got ? got.message() : "success",
                              want ? mfakit::make_error_code(*want).message() : "success"));
    return true;
  }

  // ---- inputs
  std::string random_digits() { return fmt::format("{:06}", gen_() % 1'000'000); }
  std::string random_backup() {
    std::string c;
    for (int i = 0; i < 8; ++i) {
      if (i == 4) c.push_back('-');
      c.push_back(alphabet[pick(alphabet.size())]);
    }
    return c;
  }
  std::string totp_input(const model_user& u, std::string_view kind) {
    const auto cur = static_cast<std::uint64_t>(now_ / period);
    const bool has_secret = !u.secret.empty();
    if (kind == "right" && has_secret) {
      std::string c = totp_at_step(u.secret, cur - 1 + pick(3));
      if (chance(15)) c.insert(3, " ");  // "123 456" is fine
      return c;
    }
    if (kind == "replayed" && has_secret) return totp_at_step(u.secret, u.last_step ? *u.last_step : cur - 2);
    if (kind == "wrong" && has_secret) return totp_at_step(u.secret, cur + 3 + pick(1000));
    if (kind == "malformed") {
      static const std::array<std::string_view, 6> bad{"12345",  "1234567", "12a456",
                                                       "abcdef", "12-345",  "１２３４５６"};
      return std::string(bad[pick(bad.size())]);
    }
    if (kind == "blank") return chance(50) ? "" : " \t";
    return random_digits();
  }
  std::string backup_input(const model_user& u, std::string_view kind) {
    if (kind == "right" && !u.codes.empty()) {
      std::string c = u.codes[pick(u.codes.size())];
      if (chance(25)) c.erase(4, 1);
      if (chance(25))
        std::transform(c.begin(), c.end(), c.begin(), [](char ch) { return static_cast<char>(std::toupper(ch)); });
      if (chance(15)) c = " " + c + "\n";
      return c;
    }
    if (kind == "used" && !u.spent.empty()) return u.spent[pick(u.spent.size())];
    if (kind == "malformed") {
      static const std::array<std::string_view, 5> bad{"abcd-efg", "abcd_efgh", "0000-0000", "abcdefghi", "abcd--efgh"};
      return std::string(bad[pick(bad.size())]);
    }
    if (kind == "blank") return "";
    return random_backup();
  }

  // ---- the model's bookkeeping after a counted failure / a success
  void failed(model_user& u, gate g) {
    u.failures = (g == gate::open_after_lock ? 0 : u.failures) + 1;
    u.last_failure = now_;
  }

  // ---- operations: each predicts, calls the service, compares
  bool setup(std::size_t ui) {
    model_user& u = users_[ui];
    log("setup({})", u.id);
    auto r = svc_->setup(u.id, u.id + "@example.com");
    const std::optional<errc> want = u.st == state::enabled ? std::optional{errc::already_enabled} : std::nullopt;
    if (!expect("setup", r.error(), want)) return false;
    if (r) {
      u.st = state::pending;
      u.secret.assign(r->key.bytes().begin(), r->key.bytes().end());
      u.last_step.reset();
      for (auto& c : u.codes) u.spent.push_back(c);
      u.codes.clear();
      if (r->otpauth_uri.find("secret=" + r->key.to_base32()) == std::string::npos)
        return fail("key URI without the secret");
    }
    return check_all();
  }

  bool enable(std::size_t ui, std::string_view kind) {
    model_user& u = users_[ui];
    const std::string code = totp_input(u, kind);
    log("enable({}, {} code '{}')", u.id, kind, code);
    std::optional<errc> want;
    std::optional<verdict> v;
    std::uint64_t step = 0;
    gate g = gate::open;
    if (blank(code)) {
      want = errc::missing_code;
    } else if (u.st == state::none || u.st == state::disabled) {
      want = errc::not_pending;
    } else if (u.st == state::enabled) {
      want = errc::already_enabled;
    } else if (g = judge_gate(policy_.p, u, now_); g == gate::locked || g == gate::delayed) {
      want = g == gate::locked ? errc::locked : errc::throttled;
    } else {
      std::tie(v, step) = judge_totp(u, code, now_);
      if (*v == verdict::malformed) want = errc::malformed_code;
      if (*v == verdict::mismatch) want = errc::code_mismatch;
      if (*v == verdict::replayed) want = errc::code_replayed;
    }
    auto r = svc_->enable(u.id, code);
    if (!expect("enable", r.error(), want)) return false;
    if (v == verdict::mismatch || v == verdict::replayed) failed(u, g);
    if (r) {
      u.st = state::enabled;
      u.last_step = step;
      u.failures = 0;
      u.last_failure = 0;
      if (!take_codes(u, r->backup_codes)) return false;
    }
    return check_all();
  }

  bool take_codes(model_user& u, const std::vector<mfakit::backup_code>& codes) {
    if (codes.size() != code_count) return fail(fmt::format("{} backup codes handed out", codes.size()));
    for (auto& c : u.codes) u.spent.push_back(c);
    u.codes.clear();
    for (const auto& c : codes) {
      const std::string s(c.str());
      if (canonical_backup(s) != s) return fail("a backup code that is not xxxx-xxxx over the alphabet: " + s);
      if (std::find(u.codes.begin(), u.codes.end(), s) != u.codes.end()) return fail("two equal backup codes");
      u.codes.push_back(s);
    }
    return true;
  }

  bool begin_login(std::size_t ui) {
    model_user& u = users_[ui];
    log("begin_login({})", u.id);
    auto r = svc_->begin_login(u.id);
    if (!expect("begin_login", r.error(), std::nullopt)) return false;
    const bool required = u.st == state::enabled;  // else: no second factor, log in directly
    if (r->mfa_required() != required) {
      return fail(fmt::format("begin_login: service says {}, model says {}",
                              r->mfa_required() ? "a challenge" : "no second factor",
                              required ? "a challenge" : "no second factor"));
    }
    count_outcome("begin_login", required ? "challenge" : "no second factor");
    if (required) {
      if (r->expires_at != now_ + ttl) return fail("challenge expiry");
      if (!mfakit::flow::well_formed_token(r->token)) return fail("challenge token not 64 hex characters");
      for (const auto& c : challenges_)
        if (c.token == r->token) return fail("a challenge token came twice");
      challenges_.push_back({r->token, ui, now_ + ttl, 0, false});
      log("  token {}...", r->token.substr(0, 8));
    }
    return check_all();
  }

  /// A code of the kind for the factor, against a user (for backup codes the
  /// empty set is avoided: see the test case below on what it costs).
  std::pair<factor, std::string> code_for(const model_user& u) {
    factor via = chance(45) ? factor::backup_code : factor::totp;
    if (via == factor::backup_code && u.st == state::enabled && u.codes.empty()) via = factor::totp;
    static const std::array<std::string_view, 6> totp_kinds{"right",    "right",     "wrong",
                                                            "replayed", "malformed", "wrong"};
    static const std::array<std::string_view, 6> backup_kinds{"right", "right", "used", "wrong", "malformed", "wrong"};
    const std::string_view kind = chance(4)             ? "blank"
                                  : via == factor::totp ? totp_kinds[pick(totp_kinds.size())]
                                                        : backup_kinds[pick(backup_kinds.size())];
    std::string code = via == factor::totp ? totp_input(u, kind) : backup_input(u, kind);
    return {via, std::move(code)};
  }

  /// The verification shared by a login and a step-up check, after the
  /// challenge checks: predicts, and returns how to update the model.
  struct prediction {
    std::optional<errc> want;
    std::optional<verdict> v;
    std::uint64_t step = 0;
    std::string code_taken;
    gate g = gate::open;
  };
  prediction predict_verify(const model_user& u, factor via, const std::string& code) {
    prediction p;
    p.g = judge_gate(policy_.p, u, now_);
    if (p.g == gate::locked) {
      p.want = errc::locked;
      return p;
    }
    if (p.g == gate::delayed) {
      p.want = errc::throttled;
      return p;
    }
    if (via == factor::totp) {
      std::tie(p.v, p.step) = judge_totp(u, code, now_);
    } else {
      auto canon = canonical_backup(code);
      if (!canon) {
        p.v = verdict::malformed;
      } else if (std::find(u.codes.begin(), u.codes.end(), *canon) != u.codes.end()) {
        p.v = verdict::accepted;
        p.code_taken = *canon;
      } else {
        p.v = verdict::mismatch;  // a used code is simply not there any more
      }
    }
    if (*p.v == verdict::malformed) p.want = errc::malformed_code;
    if (*p.v == verdict::mismatch) p.want = errc::code_mismatch;
    if (*p.v == verdict::replayed) p.want = errc::code_replayed;
    return p;
  }
  void apply(model_user& u, const prediction& p) {
    if (p.v == verdict::mismatch || p.v == verdict::replayed) failed(u, p.g);
    if (p.v == verdict::accepted) {
      if (p.code_taken.empty()) {
        u.last_step = p.step;
      } else {
        u.codes.erase(std::find(u.codes.begin(), u.codes.end(), p.code_taken));
        u.spent.push_back(p.code_taken);
      }
      u.failures = 0;
      u.last_failure = 0;
    }
  }
  bool check_login(const mfakit::result<mfakit::login_result>& r, const model_user& u, factor via) {
    if (!r) return true;
    if (r->user != u.id || r->via != via || r->backup_codes_remaining != u.codes.size())
      return fail(fmt::format("login result: user {} via {} remaining {}", r->user, static_cast<int>(r->via),
                              r->backup_codes_remaining));
    return true;
  }

  bool complete_login() {
    // which challenge: a known one (maybe dead), an unknown token, a malformed or missing one
    std::string token;
    model_challenge* c = nullptr;
    const std::size_t which = pick(20);
    if (which < 16 && !challenges_.empty()) {
      c = &challenges_[challenges_.size() - 1 - std::min(pick(challenges_.size()), pick(challenges_.size()))];
      token = c->token;
    } else if (which < 18) {
      for (int i = 0; i < 64; ++i) token.push_back("0123456789abcdef"[pick(16)]);
    } else if (which < 19) {
      token = chance(50) ? "not-a-token" : std::string(64, 'G');
    } else {
      token = chance(50) ? "" : "  ";
    }
    const model_user& target = c ? users_[c->user] : users_[pick(users_.size())];
    auto [via, code] = code_for(target);
    log("complete_login({}, {} '{}')", token.empty() ? "<none>" : token.substr(0, 8) + "...",
        via == factor::totp ? "totp" : "backup", code);

    std::optional<errc> want;
    prediction p;
    bool verified = false;
    if (blank(token)) {
      want = errc::missing_token;
    } else if (blank(code)) {
      want = errc::missing_code;
    } else if (!c && !mfakit::flow::well_formed_token(token)) {
      want = errc::challenge_invalid;
    } else if (!c || c->gone || now_ >= c->expires) {
      want = errc::challenge_invalid;
    } else if (c->attempts >= max_attempts) {
      want = errc::challenge_exhausted;
    } else if (users_[c->user].st != state::enabled) {
      want = errc::challenge_invalid;
    } else {
      p = predict_verify(users_[c->user], via, code);
      want = p.want;
      verified = p.g == gate::open || p.g == gate::open_after_lock;  // the attempt is spent
    }
    auto r = svc_->complete_login(token, code, via);
    if (!expect("complete_login", r.error(), want)) return false;
    if (verified) {
      ++c->attempts;
      apply(users_[c->user], p);
      if (p.v == verdict::accepted) c->gone = true;
      if (!check_login(r, users_[c->user], via)) return false;
    }
    return check_all();
  }

  bool step_up(std::size_t ui) {
    model_user& u = users_[ui];
    auto [via, code] = code_for(u);
    log("verify({}, {} '{}')", u.id, via == factor::totp ? "totp" : "backup", code);
    prediction p;
    if (blank(code)) {
      p.want = errc::missing_code;
    } else if (u.st != state::enabled) {
      p.want = errc::not_enabled;
    } else {
      p = predict_verify(u, via, code);
    }
    auto r = svc_->verify(u.id, code, via);
    if (!expect("verify", r.error(), p.want)) return false;
    apply(u, p);
    if (!check_login(r, u, via)) return false;
    return check_all();
  }

  bool disable(std::size_t ui) {
    model_user& u = users_[ui];
    log("disable({})", u.id);
    auto r = svc_->disable(u.id);
    const bool on = u.st == state::pending || u.st == state::enabled;
    if (!expect("disable", r.error(), on ? std::nullopt : std::optional{errc::not_enabled})) return false;
    if (on) {
      for (auto& c : u.codes) u.spent.push_back(c);
      u.st = state::disabled;
      u.secret.clear();
      u.last_step.reset();
      u.codes.clear();
      u.failures = 0;
      u.last_failure = 0;
    }
    return check_all();
  }

  bool regenerate(std::size_t ui) {
    model_user& u = users_[ui];
    log("regenerate({})", u.id);
    auto r = svc_->regenerate_backup_codes(u.id);
    if (!expect("regenerate", r.error(), u.st == state::enabled ? std::nullopt : std::optional{errc::not_enabled}))
      return false;
    if (r && !take_codes(u, r->backup_codes)) return false;
    return check_all();
  }

  bool advance() {
    static const std::array<std::int64_t, 16> jumps{1,  2,   3,   5,   10,  29,  30,   31,
                                                    60, 119, 120, 299, 300, 301, 1800, 86400};
    const std::int64_t d = chance(30) ? static_cast<std::int64_t>(pick(40)) : jumps[pick(jumps.size())];
    now_ += d;
    clock_.advance(d);
    log("advance {} s", d);
    return true;
  }

  bool step() {
    static const std::array<std::string_view, 7> enable_kinds{"right",    "right",     "right", "wrong",
                                                              "replayed", "malformed", "blank"};
    const std::size_t ui = pick(users_.size());
    const model_user& u = users_[ui];
    const std::size_t op = pick(100);
    if (op < 22) return advance();
    if (op < 80) {  // mostly what the user's state calls for
      switch (u.st) {
        case state::none:
        case state::disabled: return setup(ui);
        case state::pending: return chance(85) ? enable(ui, enable_kinds[pick(enable_kinds.size())]) : setup(ui);
        case state::enabled: {
          const std::size_t e = pick(20);
          if (e < 5) return begin_login(ui);
          if (e < 14) return challenges_.empty() ? begin_login(ui) : complete_login();
          if (e < 18) return step_up(ui);
          if (e < 19) return regenerate(ui);
          return disable(ui);
        }
      }
    }
    switch (pick(8)) {  // anything, also what the state does not allow
      case 0: return setup(ui);
      case 1: return enable(ui, enable_kinds[pick(enable_kinds.size())]);
      case 2: return begin_login(ui);
      case 3: return complete_login();
      case 4: return step_up(ui);
      case 5: return disable(ui);
      case 6: return regenerate(ui);
      default: return check_all();  // status
    }
  }

  // ---- the comparison of everything observable
  bool check_all() {
    for (const auto& u : users_) {
      auto st = svc_->status(u.id);
      if (!st) return fail("status failed: " + st.error().message());
      if (st->totp_enabled != (u.st == state::enabled) || st->setup_pending != (u.st == state::pending) ||
          st->backup_codes_remaining != (u.st == state::enabled ? u.codes.size() : 0))
        return fail(fmt::format("status of {}: enabled {} pending {} remaining {}", u.id, st->totp_enabled,
                                st->setup_pending, st->backup_codes_remaining));
      auto stored = store_.load(mfakit::account_key(u.id));
      if (!stored) return fail("load failed");
      if (u.st == state::none) {
        if (*stored) return fail(u.id + " has a record but the model has none");
        continue;
      }
      if (!*stored) return fail(u.id + " has no record");
      auto rec = mfakit::decode_account((*stored)->bytes);
      if (!rec) return fail(u.id + ": the stored record does not decode");
      const auto want_status = u.st == state::enabled   ? mfakit::account_status::enabled
                               : u.st == state::pending ? mfakit::account_status::pending
                                                        : mfakit::account_status::disabled;
      if (rec->status != want_status || rec->failures != u.failures || rec->last_failure != u.last_failure ||
          rec->last_step != (u.st == state::enabled ? u.last_step : std::nullopt) ||
          rec->backup.digests.size() != (u.st == state::disabled ? 0 : u.codes.size()) ||
          (u.st == state::disabled) != rec->sealed_secret.empty())
        return fail(
            fmt::format("record of {}: status {} failures {} (model {}) last_failure {} (model {}) "
                        "last_step {} (model {}) digests {} (model {})",
                        u.id, static_cast<int>(rec->status), rec->failures, u.failures, rec->last_failure,
                        u.last_failure, rec->last_step ? std::to_string(*rec->last_step) : "-",
                        u.last_step ? std::to_string(*u.last_step) : "-", rec->backup.digests.size(), u.codes.size()));
    }
    for (const auto& c : challenges_) {
      auto stored = store_.load(mfakit::flow::challenge_key(c.token).value());
      if (!stored) return fail("load failed");
      if (c.gone != !*stored)
        return fail(fmt::format("challenge {}...: stored {}, model gone {}", c.token.substr(0, 8),
                                static_cast<bool>(*stored), c.gone));
      if (c.gone) continue;
      auto rec = mfakit::decode_challenge((*stored)->bytes);
      if (!rec || rec->user != users_[c.user].id || rec->expires_at != c.expires || rec->attempts != c.attempts)
        return fail(fmt::format("challenge {}...: attempts {} (model {})", c.token.substr(0, 8),
                                rec ? rec->attempts : 0, c.attempts));
    }
    return true;
  }

  std::uint64_t seed_;
  std::mt19937_64 gen_;
  coverage& cov_;
  named_policy policy_{};
  mfakit::memory_store store_;
  mfakit::testing::manual_clock clock_;
  std::optional<svc_t> svc_;
  std::int64_t now_ = 0;
  std::vector<model_user> users_;
  std::vector<model_challenge> challenges_;
  std::string log_;
  std::string failure_;
};

// Under a sanitizer (Debug, ASan + UBSan in CI) every operation costs ten
// times more; there the run looks for memory and undefined-behaviour errors
// on a tenth of the sequences, and the release build checks all of them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::uint64_t default_sequences = 10'000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr std::uint64_t default_sequences = 10'000;
#else
constexpr std::uint64_t default_sequences = 100'000;
#endif
#else
constexpr std::uint64_t default_sequences = 100'000;
#endif

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, single-threaded
  return v != nullptr ? std::strtoull(v, nullptr, 0) : fallback;
}

}  // namespace

TEST_CASE("the service agrees with the model on 100000 random operation sequences (10000 under sanitizers)",
          "[model]") {
  const std::uint64_t base = env_or("MFAKIT_MODEL_SEED", 0x6d66616b69740001ULL);
  const std::uint64_t n = env_or("MFAKIT_MODEL_SEQUENCES", default_sequences);
  coverage cov;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    sequence s(base + i, cov);
    const std::string failure = s.run();
    if (!failure.empty()) FAIL(failure);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string table;
  for (const auto& [k, v] : cov.outcomes) table += fmt::format("  {:>8}  {}\n", v, k);
  WARN(fmt::format("{} sequences from seed {:#x}, {} operations checked in {:.1f} s; outcomes:\n{}", n, base, cov.ops,
                   secs, table));
  // the sequences reached every rule: none of these may be missing
  if (n >= 100'000) {
    for (std::string_view must : {"setup: success",
                                  "setup: TOTP is already enabled",
                                  "enable: success",
                                  "enable: code rejected",
                                  "enable: malformed code",
                                  "enable: code missing",
                                  "enable: no pending TOTP setup",
                                  "enable: TOTP is already enabled",
                                  "enable: too many failed attempts; retry later",
                                  "enable: account locked after too many failed attempts",
                                  "begin_login: challenge",
                                  "begin_login: no second factor",
                                  "complete_login: success",
                                  "complete_login: code rejected",
                                  "complete_login: code rejected: already used",
                                  "complete_login: malformed code",
                                  "complete_login: code missing",
                                  "complete_login: challenge token missing",
                                  "complete_login: unknown or expired login challenge",
                                  "complete_login: too many attempts on this login challenge",
                                  "complete_login: too many failed attempts; retry later",
                                  "complete_login: account locked after too many failed attempts",
                                  "verify: success",
                                  "verify: code rejected",
                                  "verify: code rejected: already used",
                                  "verify: TOTP is not enabled",
                                  "disable: success",
                                  "disable: TOTP is not enabled",
                                  "regenerate: success",
                                  "regenerate: TOTP is not enabled"}) {
      INFO(must);
      CHECK(cov.outcomes[std::string(must)] > 0);
    }
  }
}

TEST_CASE("a backup code attempt with no codes left is a counted mismatch", "[model]") {
  // (kept out of the random sequences: with no digests left the record keeps
  // no cost parameters, so a guess runs the default-cost KDF, 16 MiB)
  mfakit::memory_store store;
  mfakit::testing::manual_clock clock;
  std::array<unsigned char, 32> key{};
  key.fill(0x17);
  mfakit::flow_config cfg(mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, key)}).value());
  cfg.hasher = mfakit::backup_code_hasher(mfakit::scrypt_params{16, 1, 1});
  cfg.backup_code_count = 1;
  cfg.throttle = mfakit::throttle_policy::unsafe_none();
  test_loop::service<mfakit::memory_store, mfakit::testing::manual_clock> svc(store, std::move(cfg), clock);
  auto s = svc.setup("u", "u@example.com");
  REQUIRE(s);
  auto e = svc.enable("u", mfakit::totp(s->key.bytes(), clock.unix_time())->to_string());
  REQUIRE(e);
  REQUIRE(e->backup_codes.size() == 1);
  auto used = svc.verify("u", e->backup_codes[0].str(), factor::backup_code);
  REQUIRE(used);
  CHECK(used->backup_codes_remaining == 0);
  CHECK(svc.status("u")->backup_codes_remaining == 0);
  CHECK(svc.verify("u", e->backup_codes[0].str(), factor::backup_code).error() == errc::code_mismatch);
  auto rec = mfakit::decode_account(store.load(mfakit::account_key("u")).value()->bytes);
  REQUIRE(rec);
  CHECK(rec->failures == 1);
  CHECK(rec->status == mfakit::account_status::enabled);
  // regenerating gives a working set again
  auto g = svc.regenerate_backup_codes("u");
  REQUIRE(g);
  CHECK(svc.verify("u", g->backup_codes[0].str(), factor::backup_code));
}
