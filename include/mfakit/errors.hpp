// One error enum for the whole library, registered with <system_error>, and a
// small expected-like result<T>. Messages name the failure, never a secret, a
// code or a token; a wrong code is an ordinary result, not an exception.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

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
  // passkeys (webauthn/): the step that failed goes to the caller apart (webauthn::check)
  webauthn_malformed,          // bytes or JSON of a passkey response that do not decode (strictly)
  webauthn_rejected,           // a check of the ceremony failed (challenge, origin, flags, signature...)
  webauthn_unsupported,        // an algorithm, key or attestation format the verifier does not take
  webauthn_counter_regressed,  // the signature counter did not grow: possibly a cloned authenticator
};

/// Groups of errors a host maps to one response (see http.hpp).
enum class error_group { none, misuse, rejected, conflict, unavailable };

namespace detail {
/// Everything the library says about one error (http.hpp adds its HTTP face).
struct error_row {
  errc code;
  std::string_view message;  ///< std::error_code::message(): for logs, names the failure
  error_group group;         ///< group_of()
};

/// One row per errc, in the enum's order (checked below).
inline constexpr std::array error_table{
    // input the caller can fix
    error_row{errc::malformed_code, "malformed code", error_group::misuse},
    error_row{errc::missing_code, "code missing", error_group::misuse},
    error_row{errc::missing_token, "challenge token missing", error_group::misuse},
    error_row{errc::invalid_base32, "invalid base32 text", error_group::misuse},
    error_row{errc::invalid_secret, "invalid secret length", error_group::misuse},
    error_row{errc::invalid_uri, "invalid otpauth key URI", error_group::misuse},
    error_row{errc::invalid_argument, "invalid argument", error_group::misuse},
    error_row{errc::unsupported_algorithm, "unsupported algorithm", error_group::misuse},
    // verification outcomes
    error_row{errc::code_mismatch, "code rejected", error_group::rejected},
    error_row{errc::code_replayed, "code rejected: already used", error_group::rejected},
    // the flow
    error_row{errc::not_pending, "no pending TOTP setup", error_group::misuse},
    error_row{errc::already_enabled, "TOTP is already enabled", error_group::conflict},
    error_row{errc::not_enabled, "TOTP is not enabled", error_group::misuse},
    error_row{errc::challenge_invalid, "unknown or expired login challenge", error_group::rejected},
    error_row{errc::challenge_exhausted, "too many attempts on this login challenge", error_group::rejected},
    error_row{errc::throttled, "too many failed attempts; retry later", error_group::rejected},
    error_row{errc::locked, "account locked after too many failed attempts", error_group::rejected},
    // the environment
    error_row{errc::random_failure, "random number generator failed", error_group::unavailable},
    error_row{errc::crypto_failure, "cryptographic operation failed", error_group::unavailable},
    error_row{errc::storage_conflict, "storage conflict: too many concurrent updates", error_group::unavailable},
    error_row{errc::storage_failure, "storage failure", error_group::unavailable},
    error_row{errc::malformed_record, "malformed stored record", error_group::unavailable},
    error_row{errc::seal_failure, "sealed secret could not be opened", error_group::unavailable},
    // passkeys
    error_row{errc::webauthn_malformed, "malformed passkey response", error_group::rejected},
    error_row{errc::webauthn_rejected, "passkey verification failed", error_group::rejected},
    error_row{errc::webauthn_unsupported, "unsupported passkey algorithm, key or attestation", error_group::rejected},
    error_row{errc::webauthn_counter_regressed, "signature counter did not increase: possible cloned authenticator",
              error_group::rejected},
};

// --- the compile-time check: every enumerator has exactly one row, in order -----------
// Row i is errc(i + 1) (so no enumerator has two rows and none is skipped),
// and errc(rows + 1) is not an enumerator (so none was added after the last
// row); http.hpp checks its table of statuses the same way. The latter
// reads the value from the compiler's function signature: GCC and Clang write an enumerator as "V = mfakit::errc::name"
// and any other value as "V = (mfakit::errc)24". Other compilers check the order only.
#if defined(__GNUC__) || defined(__clang__)
#define MFAKIT_DETAIL_ENUMERATOR_CHECK 1
#else
#define MFAKIT_DETAIL_ENUMERATOR_CHECK 0
#endif
template <auto V>
[[nodiscard]] constexpr bool is_enumerator() noexcept {
#if MFAKIT_DETAIL_ENUMERATOR_CHECK
  const std::string_view f = __PRETTY_FUNCTION__;
  const std::size_t at = f.find("V = ");
  return at != std::string_view::npos && at + 4 < f.size() && f[at + 4] != '(';
#else
  return true;
#endif
}

/// Whether a table's row i is errc(i + 1), for every row, and every
/// enumerator has a row.
template <class Table>
[[nodiscard]] constexpr bool one_row_per_errc(const Table& table) noexcept {
  for (std::size_t i = 0; i < table.size(); ++i)
    if (static_cast<std::size_t>(table[i].code) != i + 1) return false;
  return true;
}

[[nodiscard]] constexpr bool rows_complete() noexcept {
  for (const error_row& row : error_table)
    if (row.message.empty()) return false;
  return true;
}

static_assert(one_row_per_errc(error_table), "error_table: row i must be errc(i + 1), one row per enumerator");
#if MFAKIT_DETAIL_ENUMERATOR_CHECK
static_assert(is_enumerator<errc::seal_failure>() && !is_enumerator<static_cast<errc>(0)>(),
              "is_enumerator() does not read this compiler's signatures");
static_assert(!is_enumerator<static_cast<errc>(error_table.size() + 1)>(),
              "an errc enumerator has no row in error_table");
#endif
static_assert(rows_complete(), "error_table: every row needs a message");

class error_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "mfakit"; }
  [[nodiscard]] std::string message(int ev) const override {
    if (ev < 1 || static_cast<std::size_t>(ev) > error_table.size()) return "unknown mfakit error";
    return std::string(error_table[static_cast<std::size_t>(ev) - 1].message);
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

namespace detail {
/// The row of an error of this category; nullptr for another category or a
/// value no enumerator has.
[[nodiscard]] inline const error_row* row_of(std::error_code ec) noexcept {
  if (ec.category() != error_category()) return nullptr;
  const int v = ec.value();
  if (v < 1 || static_cast<std::size_t>(v) > error_table.size()) return nullptr;
  return &error_table[static_cast<std::size_t>(v) - 1];
}
}  // namespace detail

/// The group of an error; another category's errors are `unavailable`.
[[nodiscard]] inline error_group group_of(std::error_code ec) noexcept {
  if (!ec) return error_group::none;
  const detail::error_row* row = detail::row_of(ec);
  return row != nullptr ? row->group : error_group::unavailable;
}

namespace detail {
/// result<T>'s storage: a value or an error code, told apart by `has`. A
/// plain union rather than std::variant: every result<T> a header names is
/// instantiated in every translation unit that includes it, and a variant's
/// layers cost several times as much to instantiate.
template <class T>
struct result_storage {
  result_storage() noexcept : ec(make_error_code(errc::invalid_argument)) {}
  explicit result_storage(T&& v) : value(std::move(v)), has(true) {}
  explicit result_storage(std::error_code e) noexcept : ec(e) {}
  result_storage(const result_storage& o) : ec(o.ec), retry_after(o.retry_after) {
    if (o.has) emplace(o.value);
  }
  result_storage(result_storage&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
      : ec(o.ec), retry_after(o.retry_after) {
    if (o.has) emplace(std::move(o.value));
  }
  result_storage& operator=(const result_storage& o) {
    if (this != &o) assign_from(o, o.value);
    return *this;
  }
  result_storage& operator=(result_storage&& o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &o) assign_from(o, std::move(o.value));
    return *this;
  }
  ~result_storage() { reset(); }

  template <class U>
  void emplace(U&& v) {
    ::new (static_cast<void*>(std::addressof(value))) T(std::forward<U>(v));
    has = true;
  }
  void reset() noexcept {
    if (has) value.~T();
    has = false;
  }
  /// Assignment as destroy and construct (T need not be assignable); while
  /// the new value is being made the result reads as a failure.
  template <class U>
  void assign_from(const result_storage& o, U&& v) {
    reset();
    retry_after = o.retry_after;
    if (o.has) {
      ec = make_error_code(errc::invalid_argument);
      emplace(std::forward<U>(v));
    }
    ec = o.ec;
  }

  union {
    T value;
  };
  std::error_code ec;
  bool has = false;
  std::int64_t retry_after = 0;
};

/// Deletes result<T>'s copies (and moves) where T has none, so that traits
/// such as std::is_copy_constructible tell the truth about result<T>.
template <bool Copyable, bool Movable>
struct result_copy_control {};
template <>
struct result_copy_control<false, true> {
  result_copy_control() = default;
  result_copy_control(const result_copy_control&) = delete;
  result_copy_control(result_copy_control&&) = default;
  result_copy_control& operator=(const result_copy_control&) = delete;
  result_copy_control& operator=(result_copy_control&&) = default;
  ~result_copy_control() = default;
};
template <>
struct result_copy_control<false, false> {
  result_copy_control() = default;
  result_copy_control(const result_copy_control&) = delete;
  result_copy_control(result_copy_control&&) = delete;
  result_copy_control& operator=(const result_copy_control&) = delete;
  result_copy_control& operator=(result_copy_control&&) = delete;
  ~result_copy_control() = default;
};
}  // namespace detail

/// What a function returns when it can fail: a value or an error_code.
template <class T>
class [[nodiscard]] result {
 public:
  /// No answer yet (errc::invalid_argument): what a library that fills an
  /// answer in later starts from (asio::co_spawn(..., use_awaitable) does).
  result() = default;
  // NOLINTBEGIN(google-explicit-constructor): implicit like std::expected
  result(T value) : s_(std::move(value)) {}
  /// An empty error_code still makes a failure (errc::invalid_argument), never
  /// a failure that reads as "no error".
  result(std::error_code ec) : s_(ec ? ec : make_error_code(errc::invalid_argument)) {}
  result(errc e) : s_(make_error_code(e)) {}
  // NOLINTEND(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return s_.has; }
  explicit operator bool() const noexcept { return has_value(); }

  [[nodiscard]] T& value() & {
    check();
    return s_.value;
  }
  [[nodiscard]] const T& value() const& {
    check();
    return s_.value;
  }
  [[nodiscard]] T&& value() && {
    check();
    return std::move(s_.value);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; a default (empty) error_code when there is a value.
  [[nodiscard]] std::error_code error() const noexcept { return has_value() ? std::error_code{} : s_.ec; }

  /// With a refusal of errc::throttled or errc::locked from a flow call: the
  /// seconds until the next attempt is allowed (0: not known, or no refusal).
  [[nodiscard]] std::int64_t retry_after() const noexcept { return s_.retry_after; }
  /// Sets it (the operations do, on their refusals).
  result& with_retry_after(std::int64_t seconds) noexcept {
    s_.retry_after = seconds;
    return *this;
  }

 private:
  void check() const {
    if (!has_value()) throw std::system_error(s_.ec);
  }
  detail::result_storage<T> s_;
  [[no_unique_address]] detail::result_copy_control<std::is_copy_constructible_v<T>, std::is_move_constructible_v<T>>
      copies_;
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

  /// With a refusal of errc::throttled or errc::locked from a flow call: the
  /// seconds until the next attempt is allowed (0: not known, or no refusal).
  [[nodiscard]] std::int64_t retry_after() const noexcept { return retry_after_; }
  /// Sets it (the operations do, on their refusals).
  result& with_retry_after(std::int64_t seconds) noexcept {
    retry_after_ = seconds;
    return *this;
  }

 private:
  std::error_code ec_;
  std::int64_t retry_after_ = 0;
};

}  // namespace mfakit

template <>
struct std::is_error_code_enum<mfakit::errc> : std::true_type {};
