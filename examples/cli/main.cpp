// mfakit: an oathtool-like command line tool over the mfakit headers, and
// the harness the interop tests drive.
//
//   mfakit secret [--bytes N]
//   mfakit code --secret B32 [--algorithm A] [--digits N] [--period S] [--t0 T] [--time UNIX]
//   mfakit hotp --secret B32 --counter C [--algorithm A] [--digits N]
//   mfakit verify --secret B32 --code CODE [--algorithm A] [--digits N] [--period S]
//                 [--t0 T] [--time UNIX] [--window W] [--after-step S]
//   mfakit uri --secret B32 [--issuer I] --account A [--algorithm A] [--digits N]
//              [--period S | --type hotp [--counter C]]
//   mfakit uri --parse URI
//   mfakit backup-codes [--count N]
//
// Exit status: 0 success (verify: the code matched), 1 verify rejected the
// code, 2 bad input (the message is one line on stderr), 3 the environment
// failed (random generator, crypto library). Error messages name the option
// at fault and never repeat a value, so a secret or a code given on the
// command line cannot end up in a log through them. `--secret -` reads the
// secret from the first line of standard input instead of the command line;
// either way a secret is at most 1024 characters of base32 text.
#include <mfakit/mfakit.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr int exit_ok = 0;
constexpr int exit_rejected = 1;
constexpr int exit_usage = 2;
constexpr int exit_failure = 3;

constexpr std::string_view usage_text = R"(usage: mfakit COMMAND [OPTIONS]

Commands:
  secret [--bytes N]            print a new random base32 secret (N = 16..64, default 20)
  code --secret B32 [--algorithm A] [--digits N] [--period S] [--t0 T] [--time UNIX]
                                print the TOTP code (time defaults to now)
  hotp --secret B32 --counter C [--algorithm A] [--digits N]
                                print the HOTP code for counter C
  verify --secret B32 --code CODE [--algorithm A] [--digits N] [--period S] [--t0 T]
         [--time UNIX] [--window W] [--after-step S]
                                check a TOTP code within W steps either side (default 1,
                                at most 32); prints the matched step. --after-step
                                rejects steps at or before S (replay protection)
  uri --secret B32 [--issuer I] --account A [--algorithm A] [--digits N]
      [--period S | --type hotp [--counter C]]
                                print the otpauth:// key URI (warnings about settings
                                authenticator apps ignore go to stderr)
  uri --parse URI               print the URI's fields, one key=value per line
  backup-codes [--count N]      print N new backup codes, one per line (1..64, default 10)
  help                          print this text

Options:
  --algorithm sha1|sha256|sha512   HMAC hash (default sha1)
  --digits 6|7|8                   code length (default 6)
  --period S                       seconds per TOTP step, >= 1 (default 30)
  --t0 T                           Unix time of TOTP step 0 (default 0)
  --time UNIX                      Unix time in seconds (default now)
  --secret -                       read the secret from the first line of stdin
                                   (a secret is at most 1024 characters of base32)
  Options take their value as the next argument or after '=' (--digits=8).

Exit status: 0 ok / code valid, 1 code rejected, 2 bad input, 3 internal failure.
)";

/// A failure that ends the program with a status and a one-line message.
struct cli_error {
  int status;
  std::string message;
};

[[noreturn]] void usage_error(std::string message) { throw cli_error{exit_usage, std::move(message)}; }

/// A string that is wiped when it goes away (secrets, codes, URIs).
class wiped_string {
 public:
  wiped_string() = default;
  explicit wiped_string(std::string s) : s_(std::move(s)) {}
  wiped_string(const wiped_string&) = delete;
  wiped_string& operator=(const wiped_string&) = delete;
  wiped_string(wiped_string&& o) noexcept : s_(std::move(o.s_)) { o.wipe(); }
  wiped_string& operator=(wiped_string&& o) noexcept {
    if (this != &o) {
      wipe();
      s_ = std::move(o.s_);
      o.wipe();
    }
    return *this;
  }
  ~wiped_string() { wipe(); }
  [[nodiscard]] const std::string& str() const noexcept { return s_; }

 private:
  void wipe() noexcept {
    mfakit::cleanse(s_.data(), s_.size());
    s_.clear();
  }
  std::string s_;
};

/// What an option needs: a value or nothing (a flag).
struct option_spec {
  std::string_view name;
  bool takes_value;
};

/// The options of one command, parsed from argv. Each option may be given once.
class options {
 public:
  options(std::vector<std::string_view> args, std::vector<option_spec> allowed) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string_view a = args[i];
      if (a == "--help" || a == "-h") {
        help_ = true;
        continue;
      }
      if (a.size() < 3 || a.substr(0, 2) != "--") usage_error("unexpected argument (options start with --)");
      std::string_view name = a.substr(2);
      std::optional<std::string_view> inline_value;
      if (const auto eq = name.find('='); eq != std::string_view::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const option_spec* spec = nullptr;
      for (const auto& s : allowed) {
        if (s.name == name) spec = &s;
      }
      if (spec == nullptr) usage_error("unknown option --" + printable(name));
      for (const auto& [n, v] : values_) {
        if (n == name) usage_error("--" + std::string(name) + " given more than once");
      }
      std::string value;
      if (spec->takes_value) {
        if (inline_value) {
          value = std::string(*inline_value);
        } else {
          if (i + 1 >= args.size() || args[i + 1].substr(0, 2) == "--")
            usage_error("--" + std::string(name) + " needs a value");
          value = std::string(args[++i]);
        }
      } else if (inline_value) {
        usage_error("--" + std::string(name) + " takes no value");
      }
      values_.emplace_back(std::string(name), wiped_string(std::move(value)));
    }
  }

  [[nodiscard]] bool help() const noexcept { return help_; }
  [[nodiscard]] bool has(std::string_view name) const noexcept { return find(name) != nullptr; }
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept {
    const wiped_string* v = find(name);
    if (v == nullptr) return std::nullopt;
    return std::string_view(v->str());
  }
  [[nodiscard]] std::string_view required(std::string_view name) const {
    auto v = get(name);
    if (!v) usage_error("--" + std::string(name) + " is required");
    return *v;
  }

  /// An option name as typed, cut short and with anything unprintable replaced.
  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 32)) out.push_back(c > 0x20 && c < 0x7F ? c : '?');
    if (s.size() > 32) out += "...";
    return out;
  }

 private:
  [[nodiscard]] const wiped_string* find(std::string_view name) const noexcept {
    for (const auto& [n, v] : values_) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  std::vector<std::pair<std::string, wiped_string>> values_;
  bool help_ = false;
};

// --- values ------------------------------------------------------------------

template <class Int>
[[nodiscard]] Int parse_number(std::string_view option, std::string_view text) {
  Int v{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ptr != end) usage_error("--" + std::string(option) + " needs a whole number");
  if (ec == std::errc::result_out_of_range) usage_error("--" + std::string(option) + " is out of range");
  if (ec != std::errc{}) usage_error("--" + std::string(option) + " needs a whole number");
  return v;
}

template <class Int>
[[nodiscard]] Int number_option(const options& o, std::string_view name, Int fallback, Int min, Int max) {
  const auto text = o.get(name);
  if (!text) return fallback;
  const Int v = parse_number<Int>(name, *text);
  if (v < min || v > max)
    usage_error("--" + std::string(name) + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

[[nodiscard]] mfakit::algorithm algorithm_option(const options& o) {
  const auto text = o.get("algorithm");
  if (!text) return mfakit::algorithm::sha1;
  std::string lower(*text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "sha1") return mfakit::algorithm::sha1;
  if (lower == "sha256") return mfakit::algorithm::sha256;
  if (lower == "sha512") return mfakit::algorithm::sha512;
  usage_error("--algorithm must be sha1, sha256 or sha512");
}

[[nodiscard]] int digits_option(const options& o) {
  return number_option<int>(o, "digits", 6, mfakit::min_digits, mfakit::max_digits);
}

[[nodiscard]] std::int64_t period_option(const options& o) {
  return number_option<std::int64_t>(o, "period", 30, 1, INT64_MAX);
}

[[nodiscard]] std::int64_t time_option(const options& o) {
  if (!o.has("time")) return mfakit::unix_seconds(mfakit::system_clock_source{}.now());
  return number_option<std::int64_t>(o, "time", 0, INT64_MIN, INT64_MAX);
}

/// The longest --secret text, in characters as given (spaces and padding
/// count): 1 KiB of base32, at most 640 key bytes. HMAC hashes longer keys
/// down anyway; more is a pasted file or an attempt to make us work.
constexpr std::size_t max_secret_text = 1024;

[[noreturn]] void secret_too_long() {
  usage_error("--secret is longer than " + std::to_string(max_secret_text) + " characters");
}

/// The --secret text: the argument itself, or the first line of stdin for "-"
/// (read into a buffer reserved up front, so no reallocation leaves an
/// unwiped copy, and no further than the limit).
[[nodiscard]] wiped_string secret_text(const options& o) {
  const std::string_view v = o.required("secret");
  if (v != "-") {
    if (v.size() > max_secret_text) secret_too_long();
    return wiped_string(std::string(v));
  }
  std::string line;
  line.reserve(max_secret_text + 2);
  bool too_long = false;
  for (int c = std::cin.get(); c != std::char_traits<char>::eof() && c != '\n'; c = std::cin.get()) {
    if (line.size() > max_secret_text) {  // room for the limit and a '\r'
      too_long = true;
      break;
    }
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  wiped_string text(std::move(line));
  if (too_long || text.str().size() > max_secret_text) secret_too_long();
  return text;
}

/// Key material of any non-empty length (interop keys vary). Decoded
/// leniently about the unused bits of the last character, like oathtool:
/// they carry no key material, and this only computes codes (`uri`, which
/// makes an import artefact, goes through the strict secret::from_base32).
[[nodiscard]] mfakit::secure_bytes raw_secret(const options& o) {
  const wiped_string text = secret_text(o);
  auto bytes = mfakit::base32_decode(text.str(), mfakit::base32_trailing_bits::ignore);
  if (!bytes) usage_error("--secret is not valid base32");
  if (bytes->empty()) usage_error("--secret is empty");
  return std::move(*bytes);
}

[[noreturn]] void library_error(std::error_code ec, std::string_view what) {
  const int status = mfakit::group_of(ec) == mfakit::error_group::misuse ? exit_usage : exit_failure;
  throw cli_error{status, std::string(what) + ": " + ec.message()};
}

void print_line(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

// --- commands ------------------------------------------------------------------

int cmd_secret(const options& o) {
  const auto bytes = number_option<std::size_t>(o, "bytes", mfakit::default_secret_bytes, mfakit::min_secret_bytes,
                                                mfakit::max_secret_bytes);
  auto s = mfakit::secret::generate(bytes);
  if (!s) library_error(s.error(), "secret");
  const wiped_string text(s->to_base32());
  print_line(text.str());
  return exit_ok;
}

mfakit::totp_params totp_options(const options& o) {
  mfakit::totp_params p;
  p.alg = algorithm_option(o);
  p.digits = digits_option(o);
  p.period = period_option(o);
  p.t0 = number_option<std::int64_t>(o, "t0", 0, INT64_MIN, INT64_MAX);
  return p;
}

int cmd_code(const options& o) {
  const auto key = raw_secret(o);
  const auto p = totp_options(o);
  const std::int64_t t = time_option(o);
  if (t < p.t0) usage_error("--time is before --t0");
  auto c = mfakit::totp(mfakit::byte_view(key.data(), key.size()), t, p);
  if (!c) library_error(c.error(), "code");
  print_line(c->str());
  return exit_ok;
}

int cmd_hotp(const options& o) {
  const auto key = raw_secret(o);
  const auto counter = parse_number<std::uint64_t>("counter", o.required("counter"));
  const mfakit::hotp_params p{algorithm_option(o), digits_option(o)};
  auto c = mfakit::hotp(mfakit::byte_view(key.data(), key.size()), counter, p);
  if (!c) library_error(c.error(), "hotp");
  print_line(c->str());
  return exit_ok;
}

int cmd_verify(const options& o) {
  const auto key = raw_secret(o);
  const std::string_view code = o.required("code");
  const auto p = totp_options(o);
  const std::int64_t t = time_option(o);
  if (t < p.t0) usage_error("--time is before --t0");
  mfakit::totp_verify_options v;
  const auto w = number_option<std::uint32_t>(o, "window", 1, 0, mfakit::max_window);
  v.window = {w, w};
  if (o.has("after-step")) v.after_step = parse_number<std::uint64_t>("after-step", *o.get("after-step"));
  auto step = mfakit::verify_totp(mfakit::byte_view(key.data(), key.size()), code, t, p, v);
  if (step) {
    print_line(std::to_string(*step));
    return exit_ok;
  }
  const std::error_code ec = step.error();
  if (ec == mfakit::errc::code_mismatch || ec == mfakit::errc::code_replayed)
    throw cli_error{exit_rejected, ec.message()};
  if (ec == mfakit::errc::malformed_code) usage_error("--code must be exactly " + std::to_string(p.digits) + " digits");
  library_error(ec, "verify");
}

int cmd_uri_parse(const options& o) {
  for (std::string_view other : {"secret", "issuer", "account", "algorithm", "digits", "period", "type", "counter"}) {
    if (o.has(other)) usage_error("--parse takes no other option");
  }
  auto k = mfakit::parse_key_uri(*o.get("parse"));
  if (!k) library_error(k.error(), "--parse");
  const wiped_string secret(k->key.to_base32());
  std::string out;
  out += "type=";
  out += k->type == mfakit::otp_type::totp ? "totp" : "hotp";
  out += "\nissuer=" + k->issuer;
  out += "\naccount=" + k->account;
  out += "\nsecret=" + secret.str();
  out += "\nalgorithm=";
  out += mfakit::to_string(k->alg);
  out += "\ndigits=" + std::to_string(k->digits);
  out += "\nperiod=" + std::to_string(k->period);
  out += "\ncounter=" + std::to_string(k->counter);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fputc('\n', stdout);
  mfakit::cleanse(out.data(), out.size());
  return exit_ok;
}

int cmd_uri(const options& o) {
  if (o.has("parse")) return cmd_uri_parse(o);
  mfakit::key_uri k;
  {
    const wiped_string text = secret_text(o);
    auto s = mfakit::secret::from_base32(text.str());
    if (!s && s.error() == mfakit::errc::invalid_base32) usage_error("--secret is not valid base32");
    if (!s) usage_error("--secret must decode to 16..64 bytes for a key URI");
    k.key = std::move(*s);
  }
  const auto type = o.get("type").value_or("totp");
  if (type == "hotp") {
    k.type = mfakit::otp_type::hotp;
    if (o.has("period")) usage_error("--period applies to totp only");
    if (o.has("counter")) k.counter = parse_number<std::uint64_t>("counter", *o.get("counter"));
  } else if (type == "totp") {
    if (o.has("counter")) usage_error("--counter needs --type hotp");
    k.period = period_option(o);
  } else {
    usage_error("--type must be totp or hotp");
  }
  k.issuer = std::string(o.get("issuer").value_or(""));
  k.account = std::string(o.required("account"));
  k.alg = algorithm_option(o);
  k.digits = digits_option(o);
  // Hand out only what parses back to the same key (check_key_uri): no
  // control or bidirectional characters, no account that is empty or starts
  // with spaces, within the length limit.
  if (!mfakit::check_key_uri(k))
    usage_error(
        "--issuer/--account cannot be carried by a key URI (empty, invalid UTF-8, control or bidirectional "
        "characters, leading spaces, ':' in the account without --issuer, or too long)");
  const wiped_string uri(mfakit::to_string(k));
  for (const auto& w : mfakit::lint(k)) std::fprintf(stderr, "warning: %s\n", w.c_str());
  print_line(uri.str());
  return exit_ok;
}

int cmd_backup_codes(const options& o) {
  const auto count =
      number_option<std::size_t>(o, "count", mfakit::default_backup_code_count, 1, mfakit::max_backup_code_count);
  auto codes = mfakit::generate_backup_codes(count);
  if (!codes) library_error(codes.error(), "backup-codes");
  for (const auto& c : *codes) print_line(c.str());
  return exit_ok;
}

struct command {
  std::string_view name;
  int (*run)(const options&);
  std::vector<option_spec> allowed;
};

const std::vector<command>& commands() {
  static const std::vector<command> list{
      {"secret", cmd_secret, {{"bytes", true}}},
      {"code",
       cmd_code,
       {{"secret", true}, {"algorithm", true}, {"digits", true}, {"period", true}, {"t0", true}, {"time", true}}},
      {"hotp", cmd_hotp, {{"secret", true}, {"counter", true}, {"algorithm", true}, {"digits", true}}},
      {"verify",
       cmd_verify,
       {{"secret", true},
        {"code", true},
        {"algorithm", true},
        {"digits", true},
        {"period", true},
        {"t0", true},
        {"time", true},
        {"window", true},
        {"after-step", true}}},
      {"uri",
       cmd_uri,
       {{"secret", true},
        {"issuer", true},
        {"account", true},
        {"algorithm", true},
        {"digits", true},
        {"period", true},
        {"type", true},
        {"counter", true},
        {"parse", true}}},
      {"backup-codes", cmd_backup_codes, {{"count", true}}},
  };
  return list;
}

int run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs("mfakit: a command is required (try 'mfakit --help')\n", stderr);
    return exit_usage;
  }
  const std::string_view name = args.front();
  if (name == "--help" || name == "-h" || name == "help") {
    std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
    return exit_ok;
  }
  if (name == "--version") {
    print_line("mfakit " MFAKIT_VERSION_STRING);
    return exit_ok;
  }
  for (const auto& c : commands()) {
    if (c.name != name) continue;
    const options o(std::vector<std::string_view>(args.begin() + 1, args.end()), c.allowed);
    if (o.help()) {
      std::fwrite(usage_text.data(), 1, usage_text.size(), stdout);
      return exit_ok;
    }
    return c.run(o);
  }
  usage_error("unknown command (try 'mfakit --help')");  // not echoed: it may be a misplaced secret
}

}  // namespace

int main(int argc, char** argv) {
  int status = exit_failure;
  try {
    status = run(argc, argv);
  } catch (const cli_error& e) {
    std::fprintf(stderr, "mfakit: %s\n", e.message.c_str());
    status = e.status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mfakit: internal error: %s\n", e.what());
    status = exit_failure;
  } catch (...) {
    std::fputs("mfakit: internal error\n", stderr);
    status = exit_failure;
  }
  if (std::fflush(stdout) != 0 && status == exit_ok) status = exit_failure;
  return status;
}
