// Where the flow keeps its records in a store: one key per account and one
// per login challenge, both printable ASCII on the one hex encoder of
// crypto.hpp.
//  - mfakit/account/<hex of the user id>: hex, so a database whose keys
//    compare case-insensitively, ignore trailing spaces or stop at a NUL
//    still gives every user id its own row;
//  - mfakit/challenge/<hex of SHA-256(token)>: the database never holds a
//    usable token.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "mfakit/crypto.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/records.hpp"

namespace mfakit {

namespace detail {
/// An account key built on the stack, so the request path allocates no key
/// string. A user id longer than max_user_id_bytes gets its key on the heap:
/// never a truncated, shared key (operations refuse such an id and build no
/// key for it).
class account_key_buffer {
 public:
  static constexpr std::string_view prefix = "mfakit/account/";
  explicit account_key_buffer(std::string_view user) : size_(prefix.size() + 2 * user.size()) {
    char* p = buf_.data();
    if (size_ > buf_.size()) {
      large_.resize(size_);
      p = large_.data();
    }
    p = std::copy(prefix.begin(), prefix.end(), p);
    write_hex(p, as_bytes(user));
  }
  /// The key; computed on each call, so a moved buffer stays right.
  [[nodiscard]] std::string_view view() const noexcept { return {large_.empty() ? buf_.data() : large_.data(), size_}; }

 private:
  std::array<char, prefix.size() + 2 * max_user_id_bytes> buf_;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  std::string large_;
  std::size_t size_;
};

inline constexpr std::string_view challenge_key_prefix = "mfakit/challenge/";
}  // namespace detail

/// Store key of a user's account record.
[[nodiscard]] inline std::string account_key(std::string_view user) {
  return std::string(detail::account_key_buffer(user).view());
}

/// Store key of a login challenge. Built at its final size and written in
/// place: one allocation, and no string grown from a literal (g++ 12 at -O2
/// warned a false -Warray-bounds on that growth once inlined into a host's code).
[[nodiscard]] inline result<std::string> challenge_key(std::string_view token) {
  auto h = sha256(as_bytes(token));
  if (!h) return h.error();
  std::string key(detail::challenge_key_prefix.size() + 2 * h->size(), '\0');
  char* p = std::copy(detail::challenge_key_prefix.begin(), detail::challenge_key_prefix.end(), key.data());
  detail::write_hex(p, *h);
  return key;
}

}  // namespace mfakit
