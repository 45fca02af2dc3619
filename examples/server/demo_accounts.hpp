// The host's half of the demo: accounts with passwords and bearer sessions.
// mfakit does not do either; a real host has its own. What is done right
// here, so a copy does not start from a bad example:
//  - passwords are stored as scrypt digests (OpenSSL, through mfakit::scrypt)
//    with a random salt each, and compared in constant time; an unknown email
//    costs the same KDF run as a known one;
//  - bearer tokens are 32 random bytes from RAND_bytes (64 hex characters),
//    and the table keeps only their SHA-256, so a memory dump holds no token.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <mfakit/crypto.hpp>
#include <mfakit/errors.hpp>

namespace mfakit_examples {

[[nodiscard]] inline std::string to_hex(mfakit::byte_view b) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (unsigned char c : b) {
    out.push_back(digits[c >> 4U]);
    out.push_back(digits[c & 0xFU]);
  }
  return out;
}

/// A password as stored: salt, cost and scrypt digest.
struct password_hash {
  std::array<unsigned char, 16> salt{};
  mfakit::scrypt_params cost{};
  std::array<unsigned char, 32> digest{};
};

/// OWASP's scrypt minimum (N = 2^17, r = 8, p = 1: 128 MiB, about a second here).
inline constexpr mfakit::scrypt_params password_cost{1U << 17, 8, 1};

[[nodiscard]] inline mfakit::result<password_hash> hash_password(std::string_view password,
                                                                 const mfakit::scrypt_params& cost) {
  password_hash h;
  h.cost = cost;
  if (!mfakit::openssl_random{}.fill(h.salt)) return mfakit::errc::random_failure;
  if (auto r = mfakit::scrypt(mfakit::as_bytes(password), h.salt, cost, h.digest); !r) return r.error();
  return h;
}

[[nodiscard]] inline bool check_password(const password_hash& h, std::string_view guess) {
  std::array<unsigned char, 32> d{};
  const bool ran = mfakit::scrypt(mfakit::as_bytes(guess), h.salt, h.cost, d).has_value();
  const bool same = mfakit::constant_time_equal(d, h.digest);
  mfakit::cleanse(d.data(), d.size());
  return ran && same;
}

/// The demo's users: email -> password hash. The email is also the user id
/// mfakit keys its records by.
class account_directory {
 public:
  /// Throws when the KDF or the random generator fails (at start-up).
  explicit account_directory(mfakit::scrypt_params cost)
      : cost_(cost), dummy_(hash_password("not a password", cost).value()) {}

  [[nodiscard]] mfakit::result<void> add(std::string email, std::string_view password) {
    auto h = hash_password(password, cost_);
    if (!h) return h.error();
    accounts_.insert_or_assign(lower(std::move(email)), *h);
    return {};
  }

  /// The user id when the password matches. Unknown emails run the KDF too.
  [[nodiscard]] std::optional<std::string> authenticate(std::string_view email, std::string_view password) const {
    const std::string id = lower(std::string(email));
    auto it = accounts_.find(id);
    if (it == accounts_.end()) {
      (void)check_password(dummy_, password);
      return std::nullopt;
    }
    if (!check_password(it->second, password)) return std::nullopt;
    return id;
  }

  /// The password check of disable and regenerate.
  [[nodiscard]] bool verify(std::string_view user, std::string_view password) const {
    auto it = accounts_.find(user);
    return it != accounts_.end() && check_password(it->second, password);
  }

  [[nodiscard]] std::vector<std::string> emails() const {
    std::vector<std::string> out;
    for (const auto& [email, hash] : accounts_) out.push_back(email);
    return out;
  }

 private:
  [[nodiscard]] static std::string lower(std::string s) {
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  }

  mfakit::scrypt_params cost_;
  std::map<std::string, password_hash, std::less<>> accounts_;  // filled before the server starts
  password_hash dummy_;                                         // what an unknown email is checked against
};

/// Bearer sessions kept in memory: token -> user, for a limited time.
class session_table {
 public:
  struct tokens {
    std::string access;
    std::string refresh;
  };

  explicit session_table(std::chrono::seconds ttl = std::chrono::hours(1)) : ttl_(ttl) {}

  [[nodiscard]] mfakit::result<tokens> issue(const std::string& user) {
    tokens t;
    auto a = random_token();
    auto r = random_token();
    if (!a || !r) return mfakit::errc::random_failure;
    t.access = std::move(*a);
    t.refresh = std::move(*r);
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    purge(now);
    sessions_[digest(t.access)] = entry{user, now + ttl_, false};
    sessions_[digest(t.refresh)] = entry{user, now + 24 * ttl_, true};
    return t;
  }

  /// The user behind an access token that is still valid.
  [[nodiscard]] std::optional<std::string> user_of(std::string_view token) {
    if (!well_formed(token)) return std::nullopt;
    const std::string key = digest(token);
    const std::lock_guard lock(mutex_);
    auto it = sessions_.find(key);
    if (it == sessions_.end() || it->second.refresh || it->second.expires <= std::chrono::steady_clock::now())
      return std::nullopt;
    return it->second.user;
  }

  void revoke(std::string_view token) {
    if (!well_formed(token)) return;
    const std::string key = digest(token);
    const std::lock_guard lock(mutex_);
    sessions_.erase(key);
  }

 private:
  struct entry {
    std::string user;
    std::chrono::steady_clock::time_point expires;
    bool refresh = false;
  };

  [[nodiscard]] static bool well_formed(std::string_view t) noexcept {
    if (t.size() != 64) return false;
    for (char c : t)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  }
  [[nodiscard]] static mfakit::result<std::string> random_token() {
    std::array<unsigned char, 32> raw{};
    if (!mfakit::openssl_random{}.fill(raw)) return mfakit::errc::random_failure;
    std::string t = to_hex(raw);
    mfakit::cleanse(raw.data(), raw.size());
    return t;
  }
  [[nodiscard]] static std::string digest(std::string_view token) {
    auto h = mfakit::sha256(mfakit::as_bytes(token));
    return h ? to_hex(*h) : std::string();
  }
  void purge(std::chrono::steady_clock::time_point now) {
    for (auto it = sessions_.begin(); it != sessions_.end();)
      it = it->second.expires <= now ? sessions_.erase(it) : std::next(it);
  }

  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, entry> sessions_;
};

}  // namespace mfakit_examples
