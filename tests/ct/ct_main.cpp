// mfakit_ct: measures whether the time of mfakit's secret-dependent steps
// depends on the secret (dudect.hpp has the method). Every target compares
// two classes of input that differ only in what must not show in the time:
//
//  totp_*           verify_totp(key bytes, code, now, params, {window {1,1},
//                   last step before the window}), exactly as
//                   flow::detail::check_totp calls it once the secret is
//                   unsealed (otp_key set up from the bytes, the code
//                   normalised, three counters MACed and compared), with a
//                   code that matches the first (step - 1), the last
//                   (step + 1) or no candidate (a random code none matches;
//                   none_fixed: one wrong code throughout).
//  totp_compare_*   detail::match_counters alone on a prepared otp_key: what
//                   verify_totp runs before it builds its answer (a matched
//                   step or an error), to tell the comparison from the answer.
//  backup_*         detail::find_digest: the step backup_code_hasher::match
//                   takes after its scrypt run, comparing the guess's digest
//                   with ten stored digests; the guess's digest equals the
//                   first, the last or none (random) of them. (The scrypt run
//                   before it takes the guess and the salt as input, not the
//                   stored digests; at the default cost one run is ~15 ms,
//                   too slow for 10^7 measurements, and it is not what
//                   decides which digest matches.)
//  base32_decode    base32_decode of a 32-character secret (20 bytes) as a key
//                   URI's secret= carries it: one fixed secret against
//                   random ones; base32_decode_letters_digits: a secret of
//                   letters only against one of digits only (the extremes).
//  base32_encode    base32_encode of 20 secret bytes (secret::to_base32, the
//                   setup answer and the key URI): fixed against random bytes.
//  challenge_key    flow::challenge_key(token) (SHA-256 and hex: the store key
//                   a login challenge is looked up by): fixed token against
//                   random tokens.
//  well_formed_token  flow::well_formed_token(token), the check before the
//                   lookup: fixed against random (well-formed) tokens.
//  selfcheck_leaky  an early-exit byte compare (equal input against input
//                   differing in its first byte): must be detected.
//  selfcheck_null   CRYPTO_memcmp of the same inputs in both classes: the
//                   false-positive baseline of this machine.
//
//   mfakit_ct --list
//   mfakit_ct [--target NAME[,NAME...]|all] [--measurements N] [--batch B] [--seed S] [--markdown]
//   mfakit_ct --smoke      (CTest: every target briefly; fails only if selfcheck_leaky goes unseen)
#include <mfakit/backup_codes.hpp>
#include <mfakit/base32.hpp>
#include <mfakit/crypto.hpp>
#include <mfakit/otp.hpp>
#include <mfakit/transitions.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "dudect.hpp"

namespace {

using mfakit_ct::keep;
using mfakit_ct::prng;

void random_bytes(std::span<unsigned char> out) {
  if (!mfakit::openssl_random{}.fill(out)) {
    std::fputs("mfakit_ct: RAND_bytes failed\n", stderr);
    std::exit(2);
  }
}

/// One thing to measure: inputs of both classes prepared into slots, then timed one by one.
class target {
 public:
  virtual ~target() = default;
  target() = default;
  target(const target&) = delete;
  target& operator=(const target&) = delete;
  target(target&&) = delete;
  target& operator=(target&&) = delete;
  virtual void resize(std::size_t slots) = 0;
  virtual void prepare(std::size_t slot, int cls, prng& r) = 0;
  virtual void run(std::size_t slot) = 0;
};

// --- verify_totp ----------------------------------------------------------------

/// Which candidate (window step, stored digest) the input matches; none_fixed
/// is one wrong input used for every measurement of its class.
enum class which { first, last, none, none_fixed };

std::string_view name_of(which w) {
  switch (w) {
    case which::first: return "first";
    case which::last: return "last";
    case which::none: return "none";
    case which::none_fixed: return "none_fixed";
  }
  return "?";
}

class totp_target final : public target {
 public:
  /// compare_only: detail::match_counters on a prepared key (what
  /// verify_totp runs before it builds its answer), not the whole call.
  totp_target(which c0, which c1, bool compare_only = false) : cls_{c0, c1}, compare_only_(compare_only) {
    // a key whose three window codes differ, so "first" matches only step - 1
    for (;;) {
      random_bytes(key_);
      std::array<std::uint32_t, 3> v{};
      for (std::size_t i = 0; i < 3; ++i)
        v[i] = code_value(*mfakit::hotp(mfakit::byte_view(key_), step_ - 1 + i, mfakit::hotp_params{}));
      if (v[0] != v[1] && v[1] != v[2] && v[0] != v[2]) {
        window_ = v;
        break;
      }
    }
    prng r(std::random_device{}());
    fixed_wrong_ = wrong(r);
    prepared_.emplace(mfakit::otp_key::make(mfakit::algorithm::sha1, mfakit::byte_view(key_)));
  }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& r) override {
    std::uint32_t v = 0;
    switch (cls_[static_cast<std::size_t>(cls)]) {
      case which::first: v = window_[0]; break;
      case which::last: v = window_[2]; break;
      case which::none: v = wrong(r); break;
      case which::none_fixed: v = fixed_wrong_; break;
    }
    auto& s = in_[slot];
    for (int i = 5; i >= 0; --i) {
      s[static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  }
  void run(std::size_t slot) override {
    if (compare_only_) {  // verify_totp(const otp_key&, ...) up to its answer
      auto in = mfakit::normalize_code(std::string_view(in_[slot].data(), 6), 6);
      std::uint32_t v = mfakit::detail::code_value(*in);
      const auto m = mfakit::detail::match_counters(**prepared_, v, 6, step_ - 1, step_ + 1, step_ - 10);
      mfakit::cleanse(&v, sizeof v);
      keep(m);
      return;
    }
    // as flow::detail::check_totp: totp_params{alg, digits, period, 0}, totp_verify_options{window, last_step}
    auto r = mfakit::verify_totp(mfakit::byte_view(key_), std::string_view(in_[slot].data(), 6), now_,
                                 mfakit::totp_params{mfakit::algorithm::sha1, 6, 30, 0},
                                 mfakit::totp_verify_options{mfakit::drift_window{1, 1}, step_ - 10});
    keep(r.has_value());
  }

 private:
  std::uint32_t wrong(prng& r) const {
    std::uint32_t v = 0;
    do {
      v = static_cast<std::uint32_t>(r.below(1000000));
    } while (v == window_[0] || v == window_[1] || v == window_[2]);
    return v;
  }
  static std::uint32_t code_value(const mfakit::otp_code& c) {
    std::uint32_t v = 0;
    for (char ch : c.str()) v = v * 10 + static_cast<std::uint32_t>(ch - '0');
    return v;
  }
  static constexpr std::int64_t now_ = 1'700'000'015;
  static constexpr std::uint64_t step_ = 1'700'000'015 / 30;
  std::array<which, 2> cls_;
  bool compare_only_;
  std::optional<mfakit::result<mfakit::otp_key>> prepared_;
  std::array<unsigned char, 20> key_{};
  std::array<std::uint32_t, 3> window_{};
  std::uint32_t fixed_wrong_ = 0;
  std::vector<std::array<char, 6>> in_;
};

// --- the backup-code digest compare ----------------------------------------------

class backup_target final : public target {
 public:
  backup_target(which c0, which c1) : cls_{c0, c1} {
    for (auto& d : digests_) random_bytes(d);
    random_bytes(fixed_wrong_);
  }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& r) override {
    auto& g = in_[slot];
    switch (cls_[static_cast<std::size_t>(cls)]) {
      case which::first: g = digests_.front(); break;
      case which::last: g = digests_.back(); break;
      case which::none:
        for (std::size_t i = 0; i < g.size(); i += 8) {
          const std::uint64_t x = r.next();
          std::memcpy(g.data() + i, &x, 8);
        }
        break;
      case which::none_fixed: g = fixed_wrong_; break;
    }
  }
  void run(std::size_t slot) override {
    const auto m = mfakit::detail::find_digest(in_[slot], digests_);
    keep(m.index);
    keep(m.found);
  }

 private:
  std::array<which, 2> cls_;
  std::array<mfakit::backup_code_digest, 10> digests_{};
  mfakit::backup_code_digest fixed_wrong_{};
  std::vector<mfakit::backup_code_digest> in_;
};

// --- base32 --------------------------------------------------------------------------

std::array<char, 32> encode20(const std::array<unsigned char, 20>& b) {
  const std::string s = mfakit::base32_encode(mfakit::byte_view(b));
  std::array<char, 32> out{};
  std::memcpy(out.data(), s.data(), out.size());
  return out;
}

class base32_decode_target final : public target {
 public:
  enum class mode { fixed_vs_random, letters_vs_digits };
  explicit base32_decode_target(mode m) : mode_(m) {
    std::array<unsigned char, 20> b{};
    random_bytes(b);
    fixed_ = encode20(b);
  }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& r) override {
    auto& s = in_[slot];
    if (mode_ == mode::fixed_vs_random) {
      if (cls == 0) {
        s = fixed_;
      } else {
        for (auto& c : s) c = mfakit::base32_alphabet[r.below(32)];
      }
    } else {  // random letters against random digits: the two character ranges (the decoder branched on them before)
      for (auto& c : s) c = cls == 0 ? static_cast<char>('A' + r.below(26)) : static_cast<char>('2' + r.below(6));
    }
  }
  void run(std::size_t slot) override {
    auto r = mfakit::base32_decode(std::string_view(in_[slot].data(), in_[slot].size()));
    keep(r.has_value());
  }

 private:
  mode mode_;
  std::array<char, 32> fixed_{};
  std::vector<std::array<char, 32>> in_;
};

class base32_encode_target final : public target {
 public:
  base32_encode_target() { random_bytes(fixed_); }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& r) override {
    auto& b = in_[slot];
    if (cls == 0) {
      b = fixed_;
    } else {
      for (auto& x : b) x = static_cast<unsigned char>(r.next());
    }
  }
  void run(std::size_t slot) override {
    const std::string s = mfakit::base32_encode(mfakit::byte_view(in_[slot]));
    keep(s.size());
  }

 private:
  std::array<unsigned char, 20> fixed_{};
  std::vector<std::array<unsigned char, 20>> in_;
};

// --- login challenges ------------------------------------------------------------------

class token_target final : public target {
 public:
  enum class mode { challenge_key, well_formed };
  explicit token_target(mode m) : mode_(m) {
    std::array<unsigned char, 32> raw{};
    random_bytes(raw);
    std::string t;
    mfakit::append_hex(t, raw);
    std::memcpy(fixed_.data(), t.data(), fixed_.size());
  }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& r) override {
    auto& t = in_[slot];
    if (cls == 0) {
      t = fixed_;
    } else {
      for (auto& c : t) c = "0123456789abcdef"[r.below(16)];
    }
  }
  void run(std::size_t slot) override {
    const std::string_view token(in_[slot].data(), in_[slot].size());
    if (mode_ == mode::challenge_key) {
      auto k = mfakit::flow::challenge_key(token);
      keep(k.has_value());
    } else {
      keep(mfakit::flow::well_formed_token(token));
    }
  }

 private:
  mode mode_;
  std::array<char, 64> fixed_{};
  std::vector<std::array<char, 64>> in_;
};

// --- the harness's own checks ----------------------------------------------------------------

class selfcheck_target final : public target {
 public:
  explicit selfcheck_target(bool leaky) : leaky_(leaky) { random_bytes(ref_); }
  void resize(std::size_t slots) override { in_.resize(slots); }
  void prepare(std::size_t slot, int cls, prng& /*r*/) override {
    in_[slot] = ref_;
    if (leaky_ && cls == 1) in_[slot][0] ^= 0x01U;  // differs at once: the loop stops at the first byte
  }
  void run(std::size_t slot) override {
    if (leaky_) {
      const auto& a = in_[slot];
      std::size_t i = 0;
      while (i < a.size() && a[i] == ref_[i]) ++i;  // early exit: the leak to find
      keep(i);
    } else {
      keep(CRYPTO_memcmp(in_[slot].data(), ref_.data(), ref_.size()));
    }
  }

 private:
  bool leaky_;
  std::array<unsigned char, 256> ref_{};
  std::vector<std::array<unsigned char, 256>> in_;
};

// --- the registry and the driver ---------------------------------------------------------------

struct entry {
  std::string name;
  std::string classes;
  std::function<std::unique_ptr<target>()> make;
};

std::vector<entry> registry() {
  std::vector<entry> r;
  const std::array<std::pair<which, which>, 4> pairs{{{which::first, which::last},
                                                      {which::first, which::none},
                                                      {which::last, which::none},
                                                      {which::none_fixed, which::none}}};
  for (auto [a, b] : pairs) {
    r.push_back({fmt::format("totp_{}_vs_{}", name_of(a), name_of(b)),
                 fmt::format("code matching the {} vs {} candidate", name_of(a), name_of(b)),
                 [a = a, b = b] { return std::make_unique<totp_target>(a, b); }});
  }
  for (auto [a, b] : {std::pair{which::first, which::none}, std::pair{which::last, which::none}}) {
    r.push_back({fmt::format("totp_compare_{}_vs_{}", name_of(a), name_of(b)),
                 fmt::format("match_counters only: {} vs {}", name_of(a), name_of(b)),
                 [a = a, b = b] { return std::make_unique<totp_target>(a, b, true); }});
  }
  for (auto [a, b] : pairs) {
    r.push_back({fmt::format("backup_{}_vs_{}", name_of(a), name_of(b)),
                 fmt::format("guess digest = {} vs {} of 10", name_of(a), name_of(b)),
                 [a = a, b = b] { return std::make_unique<backup_target>(a, b); }});
  }
  r.push_back({"base32_decode", "fixed vs random 32-char secret",
               [] { return std::make_unique<base32_decode_target>(base32_decode_target::mode::fixed_vs_random); }});
  r.push_back({"base32_decode_letters_digits", "letters only vs digits only",
               [] { return std::make_unique<base32_decode_target>(base32_decode_target::mode::letters_vs_digits); }});
  r.push_back({"base32_encode", "fixed vs random 20 bytes", [] { return std::make_unique<base32_encode_target>(); }});
  r.push_back({"challenge_key", "fixed vs random token",
               [] { return std::make_unique<token_target>(token_target::mode::challenge_key); }});
  r.push_back({"well_formed_token", "fixed vs random token",
               [] { return std::make_unique<token_target>(token_target::mode::well_formed); }});
  r.push_back(
      {"selfcheck_leaky", "early-exit compare (must leak)", [] { return std::make_unique<selfcheck_target>(true); }});
  r.push_back(
      {"selfcheck_null", "identical classes (must not)", [] { return std::make_unique<selfcheck_target>(false); }});
  return r;
}

struct outcome {
  mfakit_ct::leakage::verdict v;
  std::uint64_t measurements = 0;
  double seconds = 0;
};

outcome measure(target& t, std::uint64_t measurements, std::size_t batch, std::uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  prng r(seed);
  t.resize(batch);
  std::vector<int> cls(batch);
  std::vector<std::uint64_t> dt(batch);
  mfakit_ct::leakage l;
  std::uint64_t done = 0;
  while (done < measurements) {
    for (std::size_t i = 0; i < batch; ++i) {
      cls[i] = r.bit();
      t.prepare(i, cls[i], r);
    }
    for (std::size_t i = 0; i < batch; ++i) {
      const std::uint64_t b = mfakit_ct::cycles_begin();
      t.run(i);
      dt[i] = mfakit_ct::cycles_end() - b;
    }
    if (!l.calibrated()) {  // the first batch only sets the cropping thresholds
      l.calibrate(dt);
      continue;
    }
    for (std::size_t i = 0; i < batch; ++i) l.push(dt[i], cls[i]);
    done += batch;
  }
  outcome o;
  o.v = l.worst();
  o.measurements = done;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return o;
}

std::string verdict_of(double t) { return t > mfakit_ct::leakage::threshold ? "LEAK" : "ok"; }

int usage() {
  std::fputs(
      "usage: mfakit_ct [--list] [--target NAME[,NAME...]|all] [--measurements N] [--batch B] [--seed S]"
      " [--markdown] [--smoke]\n",
      stderr);
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string targets = "all";
  std::uint64_t measurements = 1000000;
  std::size_t batch = 10000;
  std::uint64_t seed = std::random_device{}();
  bool markdown = false, smoke = false, list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) std::exit(usage());
      return argv[++i];
    };
    if (a == "--list") {
      list = true;
    } else if (a == "--target") {
      targets = std::string(value());
    } else if (a == "--measurements") {
      measurements = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else if (a == "--batch") {
      batch = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else if (a == "--seed") {
      seed = std::strtoull(std::string(value()).c_str(), nullptr, 10);
    } else if (a == "--markdown") {
      markdown = true;
    } else if (a == "--smoke") {
      smoke = true;
    } else {
      return usage();
    }
  }
  if (smoke) {
    measurements = 40000;
    batch = 10000;
  }
  if (batch < 1000 || measurements == 0) return usage();

  const auto all = registry();
  if (list) {
    for (const auto& e : all) fmt::print("{:30} {}\n", e.name, e.classes);
    return 0;
  }
  std::vector<const entry*> chosen;
  if (targets == "all") {
    for (const auto& e : all) chosen.push_back(&e);
  } else {
    std::string_view rest = targets;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const entry* found = nullptr;
      for (const auto& e : all)
        if (e.name == name) found = &e;
      if (found == nullptr) {
        fmt::print(stderr, "mfakit_ct: no target {} (--list)\n", name);
        return 64;
      }
      chosen.push_back(found);
    }
  }

  if (markdown) {
    fmt::print(
        "| target | classes | measurements | max \\|t\\| | test | mean cycles in that test (class 0 / 1) | verdict "
        "|\n");
    fmt::print("|---|---|---:|---:|---|---|---|\n");
  }
  bool selfcheck_failed = false;
  for (const entry* e : chosen) {
    auto t = e->make();
    const outcome o = measure(*t, measurements, batch, seed);
    if (markdown) {
      fmt::print("| {} | {} | {} | {:.2f} | {} | {:.1f} / {:.1f} | {} |\n", e->name, e->classes, o.measurements,
                 o.v.max_t, o.v.test, o.v.mean0, o.v.mean1, verdict_of(o.v.max_t));
    } else {
      fmt::print("{:30} n={:<10} max|t|={:8.2f}  [{}]  cycles {:.0f}/{:.0f}  {}  ({:.1f}s)\n", e->name, o.measurements,
                 o.v.max_t, o.v.test, o.v.mean0, o.v.mean1, verdict_of(o.v.max_t), o.seconds);
    }
    std::fflush(stdout);
    if (e->name == "selfcheck_leaky" && o.v.max_t < 10) selfcheck_failed = true;
  }
  if (smoke && selfcheck_failed) {
    std::fputs("mfakit_ct: the harness did not see the deliberate leak of selfcheck_leaky\n", stderr);
    return 1;
  }
  return 0;
}
