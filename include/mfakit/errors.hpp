// One error enum for the whole library, registered with <system_error>, and a
// small expected-like result<T>. Messages name the failure, never a secret, a
// code or a token; a wrong code is an ordinary result, not an exception.
#pragma once

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

namespace mfakit {

enum class errc {
  // input the caller can fix
  malformed_code = 1,  // not exactly N digits / not a well-formed backup code
  missing_code,        // the request carried no code at all
  missing_token,       // a login verification without its challenge token
  invalid_base32,
  invalid_secret,  // a secret of an unusable length
  invalid_uri,
  invalid_argument,  // a parameter out of range (digits, period, window, count...)
  unsupported_algorithm,
  // verification outcomes
  code_mismatch,  // no candidate matched
  code_replayed,  // matched a step at or before the last accepted one
  // the flow
  not_pending,  // enable without a pending setup
  already_enabled,
  not_enabled,
  challenge_invalid,    // unknown or expired login challenge
  challenge_exhausted,  // too many attempts on one challenge; it is dead
  throttled,            // too many consecutive failures: wait (retry-after)
  locked,               // the hard lock after the configured failure count
  // the environment
  random_failure,    // the CSPRNG refused
  crypto_failure,    // an OpenSSL call failed
  storage_conflict,  // lost compare-and-swap races past the retry budget
  storage_failure,   // the host's store failed or threw
  malformed_record,  // a stored record did not decode
  seal_failure,      // a sealed secret did not open (wrong key, tampered, unknown key id)
};

/// Groups of errors a host maps to one response (see http.hpp).
enum class error_group { none, misuse, rejected, conflict, unavailable };

namespace detail {
class error_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "mfakit"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_code: return "malformed code";
      case errc::missing_code: return "code missing";
      case errc::missing_token: return "challenge token missing";
      case errc::invalid_base32: return "invalid base32 text";
      case errc::invalid_secret: return "invalid secret length";
      case errc::invalid_uri: return "invalid otpauth key URI";
      case errc::invalid_argument: return "invalid argument";
      case errc::unsupported_algorithm: return "unsupported algorithm";
      case errc::code_mismatch: return "code rejected";
      case errc::code_replayed: return "code rejected: already used";
      case errc::not_pending: return "no pending TOTP setup";
      case errc::already_enabled: return "TOTP is already enabled";
      case errc::not_enabled: return "TOTP is not enabled";
      case errc::challenge_invalid: return "unknown or expired login challenge";
      case errc::challenge_exhausted: return "too many attempts on this login challenge";
      case errc::throttled: return "too many failed attempts; retry later";
      case errc::locked: return "account locked after too many failed attempts";
      case errc::random_failure: return "random number generator failed";
      case errc::crypto_failure: return "cryptographic operation failed";
      case errc::storage_conflict: return "storage conflict: too many concurrent updates";
      case errc::storage_failure: return "storage failure";
      case errc::malformed_record: return "malformed stored record";
      case errc::seal_failure: return "sealed secret could not be opened";
    }
    return "unknown mfakit error";
  }
};
}  // namespace detail

/// The category; a function-local static in an inline function, so every
/// translation unit shares one instance (categories compare by address).
[[nodiscard]] inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl instance;
  return instance;
}

[[nodiscard]] inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

[[nodiscard]] inline error_group group_of(std::error_code ec) noexcept {
  if (!ec) return error_group::none;
  if (ec.category() != error_category()) return error_group::unavailable;
  switch (static_cast<errc>(ec.value())) {
    case errc::malformed_code:
    case errc::missing_code:
    case errc::missing_token:
    case errc::invalid_base32:
    case errc::invalid_secret:
    case errc::invalid_uri:
    case errc::invalid_argument:
    case errc::unsupported_algorithm:
    case errc::not_pending:
    case errc::not_enabled: return error_group::misuse;
    case errc::code_mismatch:
    case errc::code_replayed:
    case errc::challenge_invalid:
    case errc::challenge_exhausted:
    case errc::throttled:
    case errc::locked: return error_group::rejected;
    case errc::already_enabled: return error_group::conflict;
    default: return error_group::unavailable;
  }
}

/// What a function returns when it can fail: a value or an error_code.
template <class T>
class [[nodiscard]] result {
 public:
  // NOLINTBEGIN(google-explicit-constructor): implicit like std::expected
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  /// An empty error_code still makes a failure (errc::invalid_argument), never
  /// a failure that reads as "no error".
  result(std::error_code ec) : state_(std::in_place_index<1>, ec ? ec : make_error_code(errc::invalid_argument)) {}
  result(errc e) : state_(std::in_place_index<1>, make_error_code(e)) {}
  // NOLINTEND(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] T& value() & {
    check();
    return std::get<0>(state_);
  }
  [[nodiscard]] const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  [[nodiscard]] T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; a default (empty) error_code when there is a value.
  [[nodiscard]] std::error_code error() const noexcept { return has_value() ? std::error_code{} : std::get<1>(state_); }

 private:
  void check() const {
    if (!has_value()) throw std::system_error(std::get<1>(state_));
  }
  std::variant<T, std::error_code> state_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  // NOLINTBEGIN(google-explicit-constructor)
  result(std::error_code ec) : ec_(ec ? ec : make_error_code(errc::invalid_argument)) {}
  result(errc e) : ec_(make_error_code(e)) {}
  // NOLINTEND(google-explicit-constructor)
  [[nodiscard]] bool has_value() const noexcept { return !ec_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (ec_) throw std::system_error(ec_);
  }
  [[nodiscard]] std::error_code error() const noexcept { return ec_; }

 private:
  std::error_code ec_;
};

}  // namespace mfakit

template <>
struct std::is_error_code_enum<mfakit::errc> : std::true_type {};
