// No secret left behind: drives mfakit::service (memory_store) through setup,
// enable, a login with each factor, step-up verification with each factor,
// wrong guesses, regeneration, a key rotation (reseal), disable, and the HTTP
// body helpers (http.hpp), while every heap block the process frees is
// scanned, before it is freed, for
//   the raw secret, its base32 form (any case), the otpauth URI, every backup
//   code (with and without the dash, any case), every challenge token, both
//   sealing keys and the backup-code host key.
// Afterwards, with every object that held a secret destroyed, all writable
// memory is scanned too: the heap (every mapping, or every live block under
// ASan), the stack the calls ran on, the data of loaded files (memscan.cpp
// says how each build hooks the frees).
//
// The secrets are random, so the test must know them before they exist to
// scan the first free: a child process runs the same scenario first, with
// the same deterministic random source and clock, and hands each secret back
// XOR-masked through a pipe; the scanning run then makes exactly the same
// secrets (checked as they appear) and the scanner holds only the masked
// copies, which cannot match. The host side of the scenario does what the
// headers ask of a host: it wipes the HTTP bodies it built (http.hpp), and
// nothing else. `--host-wipes-tokens` also wipes each challenge token before
// its challenge_result goes (README.md, finding 1: needed before the library
// wiped tokens itself).
//
// Exit status 0: zero hits and every operation answered as expected.
#include <mfakit/http.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "memscan.hpp"

namespace {

int failures = 0;
#define EXPECT(cond)                                                  \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::printf("FAILED: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      ++failures;                                                     \
    }                                                                 \
  } while (false)

/// The deterministic random source both runs share.
struct det_rng {
  std::shared_ptr<std::uint64_t> s = std::make_shared<std::uint64_t>(0x6d656d7363616e31ULL);
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
static_assert(mfakit::random_source<det_rng>);

// --- masked material the test itself owns ----------------------------------------------

/// The mask pool: needle i of the learning child is masked with
/// pool[offset, offset + size), the offset sent along with it.
std::array<unsigned char, 1U << 16> mask_pool;

template <std::size_t N>
struct masked_key {
  std::array<unsigned char, N> masked{};
  std::array<unsigned char, N> mask{};
  void generate() {
    std::array<unsigned char, N> plain{};
    memscan::random_mask(plain);
    memscan::random_mask(mask);
    for (std::size_t i = 0; i < N; ++i) masked[i] = static_cast<unsigned char>(plain[i] ^ mask[i]);
    mfakit::cleanse(plain.data(), plain.size());
  }
  void unmask_into(std::span<unsigned char, N> out) const {
    for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<unsigned char>(masked[i] ^ mask[i]);
  }
};
masked_key<32> sealing_key_1, sealing_key_2, host_key;

mfakit::secret_box make_box(std::uint32_t current, bool with_second) {
  std::array<unsigned char, 32> k{};
  std::vector<mfakit::sealing_key> ring;
  sealing_key_1.unmask_into(k);
  ring.emplace_back(1, k);
  if (with_second) {
    sealing_key_2.unmask_into(k);
    ring.emplace_back(2, k);
  }
  mfakit::cleanse(k.data(), k.size());
  return mfakit::secret_box::aes_256_gcm(current, std::move(ring)).value();
}

mfakit::backup_code_hasher make_hasher() {
  std::array<unsigned char, 32> k{};
  host_key.unmask_into(k);
  mfakit::backup_code_hasher h(mfakit::scrypt_params{1U << 10, 8, 1}, mfakit::byte_view(k));  // 1 MiB per run
  mfakit::cleanse(k.data(), k.size());
  return h;
}

// --- where the scenario's secrets go ------------------------------------------------------

struct needle_record {
  std::uint32_t mask_offset = 0;
  std::uint16_t size = 0;
  std::uint8_t window = 0;
  std::uint8_t fold = 0;
  std::array<char, 48> label{};
};

class sink {
 public:
  virtual ~sink() = default;
  sink() = default;
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;
  sink(sink&&) = delete;
  sink& operator=(sink&&) = delete;
  /// A secret as it appears. `check`: the scanning run compares it with what
  /// the learning run sent (false for forms the test had to build itself).
  virtual void note(std::string_view label, std::span<const unsigned char> bytes, memscan::needle_rule rule,
                    bool check) = 0;
  void note(std::string_view label, std::string_view text, memscan::needle_rule rule, bool check) {
    note(label, mfakit::as_bytes(text), rule, check);
  }
};

/// The learning child: each secret, masked, into the pipe.
class learn_sink final : public sink {
 public:
  explicit learn_sink(int fd) : fd_(fd) {}
  void note(std::string_view label, std::span<const unsigned char> bytes, memscan::needle_rule rule,
            bool /*check*/) override {
    if (bytes.size() > memscan::max_needle || offset_ + bytes.size() > mask_pool.size()) std::_Exit(3);
    needle_record r;
    r.mask_offset = static_cast<std::uint32_t>(offset_);
    r.size = static_cast<std::uint16_t>(bytes.size());
    r.window = static_cast<std::uint8_t>(rule.window);
    r.fold = rule.fold ? 1 : 0;
    std::memcpy(r.label.data(), label.data(), std::min(label.size(), r.label.size() - 1));
    std::array<unsigned char, memscan::max_needle> masked{};
    for (std::size_t i = 0; i < bytes.size(); ++i)
      masked[i] = static_cast<unsigned char>(bytes[i] ^ mask_pool[offset_ + i]);
    offset_ += bytes.size();
    write_all(&r, sizeof r);
    write_all(masked.data(), bytes.size());
  }

 private:
  void write_all(const void* p, std::size_t n) const {
    const auto* c = static_cast<const char*>(p);
    while (n > 0) {
      const ssize_t w = ::write(fd_, c, n);
      if (w <= 0) std::_Exit(4);
      c += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  int fd_;
  std::size_t offset_ = 0;
};

/// The scanning run: the same secrets must come, in the same order.
class check_sink final : public sink {
 public:
  explicit check_sink(std::size_t first) : next_(first) {}
  void note(std::string_view label, std::span<const unsigned char> bytes, memscan::needle_rule /*rule*/,
            bool check) override {
    if (check && !memscan::equals_needle(next_, bytes)) {
      std::printf("FAILED: the scanning run made another %.*s than the learning run (not deterministic)\n",
                  static_cast<int>(label.size()), label.data());
      ++failures;
    }
    ++next_;
  }

 private:
  std::size_t next_;
};

constexpr memscan::needle_rule whole_text{0, true};     // the whole needle, any case
constexpr memscan::needle_rule text_windows{12, true};  // any 12 characters of it, any case
constexpr memscan::needle_rule byte_windows{8, false};  // any 8 bytes of it

void note_codes(sink& out, std::string_view set, const std::vector<mfakit::backup_code>& codes) {
  char label[128];  // room for any set name (-Wformat-truncation at -O2)
  for (std::size_t i = 0; i < codes.size(); ++i) {
    std::snprintf(label, sizeof label, "backup code %zu of %.*s", i + 1, static_cast<int>(set.size()), set.data());
    out.note(label, codes[i].str(), whole_text, true);
    std::array<char, 8> sym = codes[i].symbols();
    std::snprintf(label, sizeof label, "backup code %zu of %.*s, no dash", i + 1, static_cast<int>(set.size()),
                  set.data());
    out.note(label, std::string_view(sym.data(), sym.size()), whole_text, false);
    mfakit::cleanse(sym.data(), sym.size());
  }
}

// --- the scenario -------------------------------------------------------------------------

using svc_t = mfakit::service<mfakit::memory_store, mfakit::testing::manual_clock, det_rng>;
constexpr std::string_view user = "alice";

struct host_options {
  bool wipe_tokens = false;
};

std::string wrong_totp(const mfakit::secret& key, std::int64_t now) {
  for (unsigned v = 123456;; v = (v + 7919) % 1000000) {
    char c[8];
    std::snprintf(c, sizeof c, "%06u", v);
    bool near = false;
    for (int d = -1; d <= 1; ++d) near = near || mfakit::totp(key.bytes(), now + 30 * d)->str() == c;
    if (!near) return c;
  }
}

/// What a host does with a body that carries a secret: send it, then wipe it (http.hpp).
void send_and_wipe(std::string& body) {
  EXPECT(!body.empty());
  mfakit::cleanse(body.data(), body.size());
}

void wipe_token_if_asked(const host_options& o, mfakit::challenge_result& c) {
  if (o.wipe_tokens) mfakit::cleanse(c.token.data(), c.token.size());
}

/// A backup code typed differently: upper case, without the dash.
struct typed_code {
  std::array<char, 8> buf{};
  explicit typed_code(const mfakit::backup_code& c) {
    buf = c.symbols();
    for (auto& ch : buf)
      if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  }
  typed_code(const typed_code&) = delete;
  typed_code& operator=(const typed_code&) = delete;
  ~typed_code() { mfakit::cleanse(buf.data(), buf.size()); }
  [[nodiscard]] std::string_view str() const { return {buf.data(), buf.size()}; }
};

__attribute__((noinline)) void scenario(sink& out, const host_options& host) {
  mfakit::testing::manual_clock clock;
  clock.set(1'700'000'010);
  mfakit::memory_store store;
  auto events = std::make_shared<std::vector<mfakit::event>>();

  mfakit::flow_config cfg(make_box(1, false));
  cfg.hasher = make_hasher();
  mfakit::service_options<> opts;
  opts.on_event = [events](const mfakit::event& e) { events->push_back(e); };
  det_rng rng;
  svc_t svc(store, std::move(cfg), std::move(opts), clock, rng);

  memscan::set_phase("setup");
  auto setup = svc.setup(user, "alice@example.com");
  EXPECT(setup.has_value());
  if (!setup) return;
  out.note("raw secret", setup->key.bytes(), byte_windows, true);
  {
    std::string b32 = setup->key.to_base32();  // the test's own copy, to learn the base32 form
    out.note("base32 secret", b32, text_windows, false);
    mfakit::cleanse(b32.data(), b32.size());
  }
  out.note("otpauth URI", setup->otpauth_uri, whole_text, true);

  memscan::set_phase("http: setup_body");
  {
    std::string body = mfakit::http::setup_body(*setup, "data:image/png;base64,iVBORw0KGgo=");
    send_and_wipe(body);
  }

  memscan::set_phase("enable");
  std::vector<mfakit::backup_code> codes;
  {
    auto e = svc.enable(user, mfakit::totp(setup->key.bytes(), clock.unix_time())->str());
    EXPECT(e.has_value());
    if (!e) return;
    note_codes(out, "set 1", e->backup_codes);
    memscan::set_phase("http: enable_body");
    std::string body = mfakit::http::enable_body(*e);
    send_and_wipe(body);
    codes = e->backup_codes;  // the host keeps them to log in with (wiped when destroyed)
  }

  memscan::set_phase("login: TOTP");
  clock.advance(30);
  {
    auto c = svc.begin_login(user);
    EXPECT(c.has_value());
    if (!c) return;
    out.note("challenge token 1", c->token, text_windows, true);
    memscan::set_phase("http: challenge_body");
    std::string body = mfakit::http::challenge_body(*c);
    send_and_wipe(body);
    memscan::set_phase("login: TOTP");
    auto r = svc.complete_login(c->token, mfakit::totp(setup->key.bytes(), clock.unix_time())->str());
    EXPECT(r.has_value());
    wipe_token_if_asked(host, *c);
  }

  memscan::set_phase("login: backup code (upper case, no dash)");
  clock.advance(30);
  {
    auto c = svc.begin_login(user);
    EXPECT(c.has_value());
    if (!c) return;
    out.note("challenge token 2", c->token, text_windows, true);
    const typed_code typed(codes[0]);
    auto r = svc.complete_login(c->token, typed.str(), mfakit::factor::backup_code);
    EXPECT(r.has_value() && r->backup_codes_remaining == 9);
    wipe_token_if_asked(host, *c);
  }

  memscan::set_phase("login: wrong TOTP, wrong backup code");
  clock.advance(30);
  {
    auto c = svc.begin_login(user);
    EXPECT(c.has_value());
    if (!c) return;
    out.note("challenge token 3", c->token, text_windows, true);
    auto r1 = svc.complete_login(c->token, wrong_totp(setup->key, clock.unix_time()));
    EXPECT(!r1 && r1.error() == mfakit::errc::code_mismatch);
    clock.advance(5);  // past the throttle's delay
    auto r2 = svc.complete_login(c->token, "zzzz-zzzz", mfakit::factor::backup_code);
    EXPECT(!r2 && r2.error() == mfakit::errc::code_mismatch);
    memscan::set_phase("http: error_body, json_string");
    std::string err = mfakit::http::error_body(r2.error());
    std::string token_json = mfakit::http::json_string(c->token);
    send_and_wipe(token_json);
    wipe_token_if_asked(host, *c);
  }

  memscan::set_phase("verify: TOTP");
  clock.advance(30);
  EXPECT(svc.verify(user, mfakit::totp(setup->key.bytes(), clock.unix_time())->str()).has_value());

  memscan::set_phase("verify: backup code (with dash, spaces, mixed case)");
  {
    std::array<char, 13> typed{};
    const std::string_view c = codes[1].str();
    typed[0] = ' ';
    for (std::size_t i = 0; i < c.size(); ++i)
      typed[i + 1] = i % 2 == 0 && c[i] >= 'a' && c[i] <= 'z' ? static_cast<char>(c[i] - 'a' + 'A') : c[i];
    typed[10] = '\r';
    typed[11] = '\n';
    auto r = svc.verify(user, std::string_view(typed.data(), 12), mfakit::factor::backup_code);
    EXPECT(r.has_value() && r->backup_codes_remaining == 8);
    mfakit::cleanse(typed.data(), typed.size());
  }

  memscan::set_phase("regenerate");
  {
    auto g = svc.regenerate_backup_codes(user);
    EXPECT(g.has_value());
    if (!g) return;
    note_codes(out, "set 2", g->backup_codes);
    memscan::set_phase("http: regenerate_body");
    std::string body = mfakit::http::regenerate_body(*g);
    send_and_wipe(body);
    memscan::set_phase("verify: backup code of set 2");
    EXPECT(svc.verify(user, g->backup_codes[3].str(), mfakit::factor::backup_code).has_value());
    EXPECT(!svc.verify(user, codes[2].str(), mfakit::factor::backup_code));  // set 1 is gone
    clock.advance(5);
  }

  memscan::set_phase("reseal (key rotation 1 -> 2)");
  {
    mfakit::flow_config cfg2(make_box(2, true));
    cfg2.hasher = make_hasher();
    svc_t svc2(store, std::move(cfg2), clock, rng);
    auto r = svc2.reseal(user);
    EXPECT(r.has_value() && *r);
    memscan::set_phase("login after reseal: TOTP");
    clock.advance(30);
    EXPECT(svc2.verify(user, mfakit::totp(setup->key.bytes(), clock.unix_time())->str()).has_value());

    memscan::set_phase("status, http: status_body, parse_factor");
    auto st = svc2.status(user);
    EXPECT(st.has_value() && st->totp_enabled);
    if (st) EXPECT(!mfakit::http::status_body(*st, 2).empty());
    EXPECT(mfakit::http::parse_factor("backup").has_value());

    memscan::set_phase("disable");
    EXPECT(svc2.disable(user).has_value());
    EXPECT(mfakit::http::disable_body() == R"({"disabled":true})");
    memscan::set_phase("teardown: second service");
  }
  memscan::set_phase("teardown: results, service, store, keys");
  EXPECT(!events->empty());
}

/// Runs the scenario below a pad, so the scans that follow (whose frames
/// land on the pad) do not overwrite the stack the scenario used.
__attribute__((noinline)) void run_padded(sink& out, const host_options& host) {
  std::array<char, 16384> pad{};
  asm volatile("" : : "r"(pad.data()) : "memory");  // kept: the pad must take its place on the stack
  scenario(out, host);
  asm volatile("" : : "r"(pad.data()) : "memory");
}

/// Zeroes the stack the scenario will use: what the scan finds there is this run's.
__attribute__((noinline)) void paint_stack() {
  std::array<unsigned char, 512 * 1024> area;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  std::memset(area.data(), 0, area.size());
  asm volatile("" : : "r"(area.data()) : "memory");
}

/// The learning run, in a child: the needles, masked, in the order they appear.
bool learn(std::size_t& learned) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::close(fds[0]);
    learn_sink out(fds[1]);
    scenario(out, host_options{});
    ::close(fds[1]);
    std::_Exit(failures == 0 ? 0 : 5);
  }
  ::close(fds[1]);
  auto read_all = [&](void* p, std::size_t n) {
    auto* c = static_cast<char*>(p);
    while (n > 0) {
      const ssize_t r = ::read(fds[0], c, n);
      if (r <= 0) return false;
      c += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  };
  needle_record r;
  std::array<unsigned char, memscan::max_needle> masked{};
  learned = 0;
  while (read_all(&r, sizeof r)) {
    if (r.size > masked.size() || !read_all(masked.data(), r.size)) break;
    memscan::add_needle(r.label.data(), std::span<const unsigned char>(masked.data(), r.size),
                        std::span<const unsigned char>(mask_pool.data() + r.mask_offset, r.size),
                        memscan::needle_rule{r.window, r.fold != 0});
    ++learned;
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  host_options host;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--host-wipes-tokens") {
      host.wipe_tokens = true;
    } else {
      std::fprintf(stderr, "usage: memscan_test [--host-wipes-tokens]\n");
      return 64;
    }
  }
  memscan::random_mask(mask_pool);
  sealing_key_1.generate();
  sealing_key_2.generate();
  host_key.generate();
  memscan::add_needle("sealing key 1", sealing_key_1.masked, sealing_key_1.mask, byte_windows);
  memscan::add_needle("sealing key 2", sealing_key_2.masked, sealing_key_2.mask, byte_windows);
  memscan::add_needle("backup-code host key", host_key.masked, host_key.mask, byte_windows);
  const std::size_t first_learned = memscan::needle_count();

  std::size_t learned = 0;
  if (!learn(learned) || learned < 40) {
    std::printf("FAILED: the learning run (child) did not complete (%zu needles)\n", learned);
    return 1;
  }
  std::printf("memscan: learned %zu secrets from the learning run%s\n", learned,
              host.wipe_tokens ? " (host wipes tokens)" : "");

  paint_stack();
  memscan::set_armed(true);
  {
    check_sink check(first_learned);
    run_padded(check, host);
  }
  memscan::set_phase("after the scenario");
  memscan::set_armed(false);
  memscan::scan_heap_and_writable_memory();
  const std::uint64_t hits = memscan::report();
  if (!memscan::openssl_hooked()) {
    std::printf("FAILED: CRYPTO_set_mem_functions did not take\n");
    ++failures;
  }
  std::printf("\nmemscan: %llu hits, %d failed expectations\n", static_cast<unsigned long long>(hits), failures);
  return hits == 0 && failures == 0 ? 0 : 1;
}
