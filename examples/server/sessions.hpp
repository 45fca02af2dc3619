// The demo server's sessions: the cache of access tokens the database
// recently confirmed (session_cache), and a token's `amr` (RFC 8176: how its
// login was made) as the refresh table keeps it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <mfakit/crypto.hpp>

#include "jwt.hpp"

namespace mfakit_examples::demo {

/// Access tokens the database recently confirmed (user exists, token not
/// logged out), by the SHA-256 of the token (no token is kept in memory):
/// for `ttl` after a check, requests with the same token skip the HMAC, the
/// JSON and the database. The price: a logout on another server process
/// takes effect here up to `ttl` later (on this process at once); 0 turns it
/// off. Expiry (exp) is still checked on every request.
///
/// A logout on this process calls revoke() after its revocation committed:
/// the entry goes, and the key is remembered as revoked (for ttl + 60 s), so
/// a request whose database check ran just before the commit cannot put the
/// token back (put() and find() skip revoked keys).
class session_cache {
 public:
  using key_type = mfakit::sha256_digest;

  explicit session_cache(std::chrono::milliseconds ttl, std::size_t max_entries = 100'000)
      : ttl_(ttl), max_(max_entries) {}

  [[nodiscard]] bool enabled() const noexcept { return ttl_.count() > 0; }

  [[nodiscard]] std::shared_ptr<const mfakit_examples::jwt::claims> find(const key_type& k) {
    if (!enabled()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    auto it = map_.find(k);
    if (it == map_.end()) return nullptr;
    if (it->second.until <= now || revoked_locked(k, now) || user_changed_locked(it->second.claims->sub, now)) {
      map_.erase(it);
      return nullptr;
    }
    return it->second.claims;
  }
  /// After the user's session epoch moved: the user's tokens out of the
  /// cache, and none cached for ttl + 60 s (every check that raced the
  /// change is over by then), so each is checked against the new epoch.
  void user_changed(const std::string& user) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    std::erase_if(map_, [&](const auto& kv) { return kv.second.claims->sub == user; });
    if (changed_.size() >= max_) sweep_locked(now);
    if (changed_.size() >= max_) {
      map_.clear();
      no_caching_until_ = now + ttl_ + std::chrono::seconds(60);
      return;
    }
    changed_.insert_or_assign(user, now + ttl_ + std::chrono::seconds(60));
  }
  void put(const key_type& k, std::shared_ptr<const mfakit_examples::jwt::claims> c) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    if (now < no_caching_until_ || revoked_locked(k, now) || user_changed_locked(c->sub, now)) return;
    if (map_.size() >= max_) sweep_locked(now);
    if (map_.size() >= max_) return;
    map_.insert_or_assign(k, entry{std::move(c), now + ttl_});
  }
  /// After the token's revocation committed: out of the cache, and kept out.
  void revoke(const key_type& k) {
    if (!enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(mutex_);
    map_.erase(k);
    if (revoked_.size() >= max_) sweep_locked(now);
    if (revoked_.size() >= max_) {  // cannot remember it: cache nothing until every racing check is over
      map_.clear();
      no_caching_until_ = now + ttl_ + std::chrono::seconds(60);
      return;
    }
    revoked_.insert_or_assign(k, now + ttl_ + std::chrono::seconds(60));
  }
  void sweep() {
    const std::lock_guard lock(mutex_);
    sweep_locked(std::chrono::steady_clock::now());
  }

 private:
  struct entry {
    std::shared_ptr<const mfakit_examples::jwt::claims> claims;
    std::chrono::steady_clock::time_point until;
  };
  struct hasher {
    std::size_t operator()(const key_type& k) const noexcept {
      std::size_t h = 0;
      std::memcpy(&h, k.data(), sizeof h);  // already uniform: a SHA-256
      return h;
    }
  };
  [[nodiscard]] bool revoked_locked(const key_type& k, std::chrono::steady_clock::time_point now) const {
    auto it = revoked_.find(k);
    return it != revoked_.end() && it->second > now;
  }
  [[nodiscard]] bool user_changed_locked(const std::string& user, std::chrono::steady_clock::time_point now) const {
    if (changed_.empty()) return false;
    auto it = changed_.find(user);
    return it != changed_.end() && it->second > now;
  }
  void sweep_locked(std::chrono::steady_clock::time_point now) {
    std::erase_if(map_, [&](const auto& kv) { return kv.second.until <= now; });
    std::erase_if(revoked_, [&](const auto& kv) { return kv.second <= now; });
    std::erase_if(changed_, [&](const auto& kv) { return kv.second <= now; });
  }
  std::chrono::milliseconds ttl_;
  std::size_t max_;
  std::mutex mutex_;
  std::unordered_map<key_type, entry, hasher> map_;
  std::unordered_map<key_type, std::chrono::steady_clock::time_point, hasher> revoked_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> changed_;
  std::chrono::steady_clock::time_point no_caching_until_{};
};

/// "pwd otp": the amr list as the refresh table stores it.
[[nodiscard]] inline std::string join_amr(const std::vector<std::string>& amr) {
  std::string out;
  for (const auto& m : amr) {
    if (!out.empty()) out.push_back(' ');
    out += m;
  }
  return out;
}
[[nodiscard]] inline std::vector<std::string> split_amr(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty() && out.size() < mfakit_examples::jwt::max_amr) {
    const std::size_t sp = s.find(' ');
    if (sp != 0) out.emplace_back(s.substr(0, sp));
    s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  }
  return out;
}
/// Whether the session passed a second factor at its login.
[[nodiscard]] inline bool second_factor(const mfakit_examples::jwt::claims& c) {
  // a passkey login with user verification is two factors on its own
  return std::any_of(c.amr.begin(), c.amr.end(),
                     [](const std::string& m) { return m == "otp" || m == "backup" || m == "passkey"; });
}

}  // namespace mfakit_examples::demo
