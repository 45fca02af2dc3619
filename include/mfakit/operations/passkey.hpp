// Passkeys through the flow: the records and the sans-I/O operations
// (operation.hpp's protocol) of registration options, register, login
// options and login (passwordless: it yields the user), and list.
//
// Where things live, and why:
//  - mfakit/passkeys/<hex user>: the user's credentials in one record beside
//    the account record, not inside it. The account record's format stays as
//    it is (old records stay readable, TOTP operations never rewrite a
//    credential), and a login's counter write contends only with the user's
//    other passkey writes, never with a TOTP login. One record per user keeps
//    the bound (16 credentials) a single compare-and-swap.
//  - mfakit/passkey-id/<hex SHA-256(credential id)>: which user a credential
//    id is registered to, created with compare-and-swap on version 0, so an
//    id belongs to at most one user across any number of servers; a
//    passwordless login finds its user here.
//  - mfakit/ceremony/<hex SHA-256(challenge)>: each options call stores one
//    ceremony (5 minutes, its kind, for registration its user and the user
//    handle it offered). Verification consumes it by a compare-and-swap that
//    marks it used (not a delete: the mark carries the request's write id, so
//    after a store error the read-back tells whether the consume was ours).
//    The host finds the ceremony by the challenge inside clientDataJSON.
// Every write carries a fresh write id at bytes 1..16 of the record; after a
// compare-and-swap answered with an error, the record is read back: our id
// there is our write, the version unchanged means nothing landed (the write
// is tried again), anything else is errc::storage_failure. So a store that
// answers a lost race with an error never turns it into a success.
// The counter, BS and lastUsedAt are written by compare-and-swap on the
// version the login loaded; a lost race reloads and checks the counter again
// against the new stored value, so two assertions with one counter value
// never both pass. The signature check is a compute step.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mfakit/crypto.hpp"
#include "mfakit/detail/account_update.hpp"
#include "mfakit/errors.hpp"
#include "mfakit/events.hpp"
#include "mfakit/operation.hpp"
#include "mfakit/records.hpp"
#include "mfakit/webauthn.hpp"

namespace mfakit {

inline constexpr std::size_t max_passkeys_per_user = 16;
inline constexpr std::int64_t passkey_ceremony_seconds = 300;
/// A passkey's lastUsedAt is kept to this many seconds: a login whose
/// counter stays 0 (a synced passkey), whose flags do not change and whose
/// passkey was last used less than this ago writes only its ceremony, so
/// parallel logins with one passkey do not race for the user's record.
inline constexpr std::int64_t passkey_last_used_seconds = 60;
inline constexpr std::size_t max_passkey_name_bytes = 64;

/// What the host configures for passkeys (passed to each passkey call).
struct passkey_settings {
  webauthn::relying_party rp;
  std::string rp_name;
  webauthn::registration_policy registration;
  webauthn::assertion_policy assertion;
  /// The HMAC key of the made-up credential id that login options by user
  /// list for a user without passkeys (32 random bytes, the same on every
  /// server and across restarts, so the made-up id is stable). Needed by
  /// passkey_login_options(settings, user) only; keep it secret: who has it
  /// can tell a made-up id from a real one.
  std::vector<unsigned char> decoy_key;
};

// --- records ---------------------------------------------------------------------

struct passkey_credential {
  std::vector<unsigned char> id;
  std::vector<unsigned char> public_key;  ///< COSE bytes (cose_key::encoded())
  std::uint32_t sign_count = 0;
  bool backup_eligible = false;
  bool backed_up = false;
  bool user_verified = false;  ///< UV seen at registration
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
  std::string name;
};

struct passkey_set_record {
  static constexpr std::uint8_t format = 1;
  write_id written_by{};
  std::vector<unsigned char> user_handle;
  std::vector<passkey_credential> credentials;
};

enum class ceremony_kind : std::uint8_t { registration = 1, login = 2 };

struct ceremony_record {
  static constexpr std::uint8_t format = 1;
  write_id written_by{};
  ceremony_kind kind = ceremony_kind::login;
  bool consumed = false;
  std::int64_t expires_at = 0;
  std::string user;                        ///< registration: whose ceremony
  std::vector<unsigned char> user_handle;  ///< registration: the handle the options offered
};

struct passkey_index_record {
  static constexpr std::uint8_t format = 1;
  write_id written_by{};
  std::string user;
};

namespace detail::pk {

class writer {
 public:
  explicit writer(std::uint8_t format, const write_id& id) {
    out_.push_back(static_cast<char>(format));
    out_.append(reinterpret_cast<const char*>(id.data()), id.size());  // NOLINT
  }
  void u8(unsigned v) { out_.push_back(static_cast<char>(v & 0xFFU)); }
  void u16(std::size_t v) { u8(static_cast<unsigned>(v >> 8U)), u8(static_cast<unsigned>(v)); }
  void u32(std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) u8(static_cast<unsigned>(v >> s));
  }
  void i64(std::int64_t v) {
    const auto u = static_cast<std::uint64_t>(v);
    for (int s = 56; s >= 0; s -= 8) u8(static_cast<unsigned>(u >> s));
  }
  void blob(byte_view b) {
    u16(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());  // NOLINT
  }
  void text(std::string_view t) { blob(as_bytes(t)); }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}
  bool u8(unsigned& v) {
    if (pos_ >= in_.size()) return false;
    v = static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  bool u16(std::size_t& v) {
    unsigned a = 0, b = 0;
    if (!u8(a) || !u8(b)) return false;
    v = (a << 8U) | b;
    return true;
  }
  bool u32(std::uint32_t& v) {
    v = 0;
    for (int i = 0; i < 4; ++i) {
      unsigned b = 0;
      if (!u8(b)) return false;
      v = (v << 8U) | b;
    }
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    for (int i = 0; i < 8; ++i) {
      unsigned b = 0;
      if (!u8(b)) return false;
      u = (u << 8U) | b;
    }
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool blob(std::vector<unsigned char>& out, std::size_t max) {
    std::size_t n = 0;
    if (!u16(n) || n > max || n > in_.size() - pos_) return false;
    out.assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_), in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return true;
  }
  bool text(std::string& out, std::size_t max) {
    std::size_t n = 0;
    if (!u16(n) || n > max || n > in_.size() - pos_) return false;
    out.assign(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool head(std::uint8_t format, write_id& id) {
    unsigned f = 0;
    if (!u8(f) || f != format || in_.size() - pos_ < id.size()) return false;
    std::copy_n(in_.begin() + static_cast<std::ptrdiff_t>(pos_), id.size(), id.begin());
    pos_ += id.size();
    return true;
  }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

inline constexpr std::size_t max_id_bytes = 1023;  // §5.8.3 credential id
inline constexpr std::size_t max_key_bytes = 1024;

/// The write id of any passkey record (bytes 1..16), for the read-back.
[[nodiscard]] inline std::optional<write_id> written_by(std::string_view bytes) {
  if (bytes.size() < 1 + write_id_bytes) return std::nullopt;
  write_id id{};
  std::copy_n(bytes.begin() + 1, id.size(), id.begin());
  return id;
}

/// (SHA-256 failing is a broken process: the self-test refuses every operation first.)
[[nodiscard]] inline std::string hashed_key(std::string_view prefix, byte_view data) {
  std::string key(prefix);
  auto h = sha256(data);
  if (!h) return {};
  append_hex(key, *h);
  return key;
}

}  // namespace detail::pk

[[nodiscard]] inline std::string encode(const passkey_set_record& r) {
  detail::pk::writer w(passkey_set_record::format, r.written_by);
  w.blob(r.user_handle);
  w.u8(static_cast<unsigned>(r.credentials.size()));
  for (const auto& c : r.credentials) {
    w.blob(c.id);
    w.blob(c.public_key);
    w.u32(c.sign_count);
    w.u8((c.backup_eligible ? 1U : 0U) | (c.backed_up ? 2U : 0U) | (c.user_verified ? 4U : 0U));
    w.i64(c.created_at);
    w.i64(c.last_used_at);
    w.text(c.name);
  }
  return w.take();
}

[[nodiscard]] inline result<passkey_set_record> decode_passkey_set(std::string_view bytes) {
  detail::pk::reader r(bytes);
  passkey_set_record out;
  unsigned n = 0;
  if (!r.head(passkey_set_record::format, out.written_by) ||
      !r.blob(out.user_handle, webauthn::max_user_handle_bytes) || !r.u8(n) || n > max_passkeys_per_user)
    return errc::malformed_record;
  for (unsigned i = 0; i < n; ++i) {
    passkey_credential c;
    unsigned flags = 0;
    if (!r.blob(c.id, detail::pk::max_id_bytes) || c.id.empty() || !r.blob(c.public_key, detail::pk::max_key_bytes) ||
        !r.u32(c.sign_count) || !r.u8(flags) || flags > 7U || !r.i64(c.created_at) || !r.i64(c.last_used_at) ||
        !r.text(c.name, max_passkey_name_bytes))
      return errc::malformed_record;
    c.backup_eligible = (flags & 1U) != 0;
    c.backed_up = (flags & 2U) != 0;
    c.user_verified = (flags & 4U) != 0;
    out.credentials.push_back(std::move(c));
  }
  if (!r.at_end()) return errc::malformed_record;
  return out;
}

[[nodiscard]] inline std::string encode(const ceremony_record& c) {
  detail::pk::writer w(ceremony_record::format, c.written_by);
  w.u8(static_cast<unsigned>(c.kind));
  w.u8(c.consumed ? 1U : 0U);
  w.i64(c.expires_at);
  w.text(c.user);
  w.blob(c.user_handle);
  return w.take();
}

[[nodiscard]] inline result<ceremony_record> decode_ceremony(std::string_view bytes) {
  detail::pk::reader r(bytes);
  ceremony_record out;
  unsigned kind = 0, used = 0;
  if (!r.head(ceremony_record::format, out.written_by) || !r.u8(kind) || (kind != 1 && kind != 2) || !r.u8(used) ||
      used > 1 || !r.i64(out.expires_at) || !r.text(out.user, max_user_id_bytes) ||
      !r.blob(out.user_handle, webauthn::max_user_handle_bytes) || !r.at_end())
    return errc::malformed_record;
  out.kind = static_cast<ceremony_kind>(kind);
  out.consumed = used == 1;
  return out;
}

[[nodiscard]] inline std::string encode(const passkey_index_record& x) {
  detail::pk::writer w(passkey_index_record::format, x.written_by);
  w.text(x.user);
  return w.take();
}

[[nodiscard]] inline result<passkey_index_record> decode_passkey_index(std::string_view bytes) {
  detail::pk::reader r(bytes);
  passkey_index_record out;
  if (!r.head(passkey_index_record::format, out.written_by) || !r.text(out.user, max_user_id_bytes) ||
      out.user.empty() || !r.at_end())
    return errc::malformed_record;
  return out;
}

/// Where the ceremonies of passkey registrations and logins are stored.
inline constexpr std::string_view ceremony_key_prefix = "mfakit/ceremony/";

[[nodiscard]] inline std::string passkey_set_key(std::string_view user) {
  std::string key = "mfakit/passkeys/";
  append_hex(key, as_bytes(user));
  return key;
}
[[nodiscard]] inline std::string passkey_index_key(byte_view credential_id) {
  return detail::pk::hashed_key("mfakit/passkey-id/", credential_id);
}
[[nodiscard]] inline std::string ceremony_key(byte_view challenge) {
  return detail::pk::hashed_key(ceremony_key_prefix, challenge);
}

/// For a host's sweeper: whether stored ceremony bytes (under a key that
/// starts with ceremony_key_prefix) are past their expiry, or unreadable, and
/// can be deleted. A ceremony past its expiry is refused whether it was used
/// or not, so deleting it changes no answer.
[[nodiscard]] inline bool ceremony_expired(std::string_view stored_bytes, std::int64_t now) {
  auto c = decode_ceremony(stored_bytes);
  return !c || now >= c->expires_at;
}

// --- results ---------------------------------------------------------------------

struct passkey_options_result {
  std::string json;  ///< the Level 3 options, for the browser
};

struct passkey_info {
  std::vector<unsigned char> id;
  std::string name;
  std::int64_t created_at = 0;
  std::int64_t last_used_at = 0;
};

struct passkey_login_result {
  std::string user;
  std::vector<unsigned char> credential_id;
};

namespace detail {

/// The store calls of a passkey operation: a load or a compare-and-swap at a
/// time, the write-id read-back after a store error. Derived gets
/// loaded(bytes-or-nothing, version) and swapped(bool won).
template <class Derived, class T, class Ctx>
class passkey_steps {
 public:
  using value_type = T;
  [[nodiscard]] next_step wants() const noexcept { return call_; }
  [[nodiscard]] std::string_view key() const noexcept { return key_; }
  [[nodiscard]] std::uint64_t expected_version() const noexcept { return expected_; }
  [[nodiscard]] const std::optional<std::string>& next_bytes() const noexcept { return bytes_; }

  void on_load(load_answer answer) {
    if (call_ != next_step::load) return;
    if (!answer) return fail(errc::storage_failure);
    if (reading_back_) {
      reading_back_ = false;
      const std::uint64_t v = *answer ? (*answer)->version : 0;
      if (*answer && pk::written_by((*answer)->bytes) == mine_) return self().swapped(true);
      if (v == expected_ && ++rounds_ < ctx_.max_retries) {  // nothing landed: try the same write again
        call_ = next_step::compare_and_swap;
        return;
      }
      return fail(errc::storage_failure);
    }
    if (*answer) {
      self().loaded(std::optional<std::string_view>((*answer)->bytes), (*answer)->version);
    } else {
      self().loaded(std::nullopt, 0);
    }
  }
  void on_swap(swap_answer answer) {
    if (call_ != next_step::compare_and_swap) return;
    if (!answer && bytes_) {
      reading_back_ = true;
      call_ = next_step::load;
      return;
    }
    self().swapped(answer && *answer);
  }
  void compute() {
    if (call_ != next_step::compute) return;
    self().run_job();
  }
  [[nodiscard]] result<T> finish() {
    for (const auto& e : events_) ctx_.emit(e);
    events_.clear();
    return std::move(outcome_);
  }

 protected:
  passkey_steps(Ctx ctx, std::string_view user, bool check_user) : ctx_(ctx) {
    if (auto refused = refusal_at_start(ctx_, user, check_user)) {
      if (refused->alert) events_.push_back(std::move(*refused->alert));
      fail(refused->error);
    }
  }
  [[nodiscard]] bool running() const noexcept { return call_ != next_step::done; }
  void load(std::string key) {
    key_ = std::move(key);
    bytes_.reset();
    call_ = next_step::load;
  }
  /// A write of a record whose bytes 1..16 are `mine()`, set by fresh_id().
  void swap(std::string key, std::uint64_t expected, std::string bytes) {
    key_ = std::move(key);
    expected_ = expected;
    bytes_ = std::move(bytes);
    call_ = next_step::compare_and_swap;
  }
  /// A delete (no write id to read back: its caller takes any answer).
  void remove(std::string key, std::uint64_t expected) {
    key_ = std::move(key);
    expected_ = expected;
    bytes_.reset();
    call_ = next_step::compare_and_swap;
  }
  void want_compute() { call_ = next_step::compute; }
  [[nodiscard]] bool fresh_id() { return ctx_.write_ids->next(*ctx_.rng, mine_); }
  [[nodiscard]] const write_id& mine() const noexcept { return mine_; }
  [[nodiscard]] bool retry() { return ++rounds_ < ctx_.max_retries; }
  void fail(std::error_code ec) {
    outcome_ = ec;
    call_ = next_step::done;
  }
  void fail(errc e) { fail(make_error_code(e)); }
  void succeed(T value) {
    outcome_ = std::move(value);
    call_ = next_step::done;
  }
  void fire(event e) { events_.push_back(std::move(e)); }
  [[nodiscard]] event make(event_kind k, std::string_view user) const {
    return flow::detail::make_event(k, user, ctx_.now());
  }
  [[nodiscard]] const Ctx& ctx() const noexcept { return ctx_; }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
  Ctx ctx_;
  next_step call_ = next_step::load;
  std::string key_;
  std::uint64_t expected_ = 0;
  std::optional<std::string> bytes_;
  bool reading_back_ = false;
  unsigned rounds_ = 0;
  write_id mine_{};
  result<T> outcome_ = errc::storage_conflict;
  std::vector<event> events_;
};

[[nodiscard]] inline std::vector<unsigned char> to_vec(byte_view b) { return {b.begin(), b.end()}; }

[[nodiscard]] inline bool same_bytes(byte_view a, byte_view b) noexcept { return constant_time_equal(a, b); }

}  // namespace detail

/// The options of a registration for `user`: stores the ceremony (its kind,
/// the user, the user handle offered), returns the creation options.
template <class Ctx>
class passkey_registration_options_operation
    : public detail::passkey_steps<passkey_registration_options_operation<Ctx>, passkey_options_result, Ctx> {
  using base = detail::passkey_steps<passkey_registration_options_operation<Ctx>, passkey_options_result, Ctx>;
  friend base;

 public:
  passkey_registration_options_operation(Ctx ctx, const passkey_settings& s, std::string_view user,
                                         std::string_view user_name)
      : base(ctx, user, true), s_(s), user_(user), user_name_(user_name) {
    if (this->running()) this->load(passkey_set_key(user_));
  }

 private:
  void loaded(std::optional<std::string_view> bytes, std::uint64_t /*version*/) {
    webauthn::creation_options_input in;
    in.rp_id = s_.rp.id;
    in.rp_name = s_.rp_name;
    in.user_name = std::string(user_name_);
    in.user_display_name = std::string(user_name_);
    if (bytes) {
      auto set = decode_passkey_set(*bytes);
      if (!set) return this->fail(set.error());
      if (set->credentials.size() >= max_passkeys_per_user) return this->fail(errc::invalid_argument);
      in.user_handle = set->user_handle;
      for (const auto& c : set->credentials) in.exclude.push_back({c.id, {}});
    }
    if (in.user_handle.empty()) {
      auto h = webauthn::new_user_handle(*this->ctx().rng);
      if (!h) return this->fail(h.error());
      in.user_handle = std::move(*h);
    }
    auto opts = webauthn::make_creation_options(*this->ctx().rng, in);
    if (!opts) return this->fail(opts.error());
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    ceremony_record c;
    c.written_by = this->mine();
    c.kind = ceremony_kind::registration;
    c.expires_at = this->ctx().now() + passkey_ceremony_seconds;
    c.user = std::string(user_);
    c.user_handle = std::move(in.user_handle);
    json_ = std::move(opts->json);
    this->swap(ceremony_key(opts->challenge), 0, encode(c));
  }
  void swapped(bool won) {
    if (!won) return this->fail(errc::storage_conflict);  // a 32-byte random challenge met itself
    this->succeed({std::move(json_)});
  }
  void run_job() {}
  const passkey_settings& s_;
  std::string_view user_, user_name_;
  std::string json_;
};

/// The options of a passwordless login: stores the ceremony, returns the
/// request options. Without a user: no allowCredentials (a discoverable
/// credential of anyone). With a user (a login that named its account):
/// allowCredentials of the user's passkeys, and for a user without any (or
/// no such user: the flow cannot tell, and does the same work) one made-up
/// id, HMAC-SHA256(settings.decoy_key, user), stable across calls. So the
/// answer has the same shape for an unknown user, a user without passkeys
/// and a user with one. The ceremony then belongs to that user: a login on
/// it by another user's credential is refused.
template <class Ctx>
class passkey_login_options_operation
    : public detail::passkey_steps<passkey_login_options_operation<Ctx>, passkey_options_result, Ctx> {
  using base = detail::passkey_steps<passkey_login_options_operation<Ctx>, passkey_options_result, Ctx>;
  friend base;

 public:
  passkey_login_options_operation(Ctx ctx, const passkey_settings& s) : base(ctx, {}, false), s_(s) {
    if (this->running()) store({});
  }
  passkey_login_options_operation(Ctx ctx, const passkey_settings& s, std::string_view user)
      : base(ctx, user, true), s_(s), user_(user) {
    if (!this->running()) return;
    if (s_.decoy_key.empty()) { this->fail(errc::invalid_argument); return; }
    this->load(passkey_set_key(user_));
  }

 private:
  /// The user's set (login options by user only).
  void loaded(std::optional<std::string_view> bytes, std::uint64_t /*version*/) {
    std::vector<webauthn::credential_descriptor> allow;
    if (bytes) {
      auto set = decode_passkey_set(*bytes);
      if (!set) return this->fail(set.error());
      for (auto& c : set->credentials) allow.push_back({std::move(c.id), {}});
    }
    if (allow.empty()) {
      std::string msg = "mfakit passkey decoy";
      msg.push_back('\0');
      msg.append(user_);
      auto id = hmac_sha256(s_.decoy_key, as_bytes(msg));
      if (!id) return this->fail(id.error());
      allow.push_back({detail::to_vec(*id), {}});
    }
    store(std::move(allow));
  }
  void store(std::vector<webauthn::credential_descriptor> allow) {
    webauthn::request_options_input in;
    in.rp_id = s_.rp.id;
    in.allow = std::move(allow);
    auto opts = webauthn::make_request_options(*this->ctx().rng, in);
    if (!opts) return this->fail(opts.error());
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    ceremony_record c;
    c.written_by = this->mine();
    c.kind = ceremony_kind::login;
    c.expires_at = this->ctx().now() + passkey_ceremony_seconds;
    c.user = std::string(user_);  // empty: anyone's discoverable credential
    json_ = std::move(opts->json);
    this->swap(ceremony_key(opts->challenge), 0, encode(c));
  }
  void swapped(bool won) {
    if (!won) return this->fail(errc::storage_conflict);
    this->succeed({std::move(json_)});
  }
  void run_job() {}
  const passkey_settings& s_;
  std::string_view user_;
  std::string json_;
};

namespace detail {
/// Loads the ceremony named by the challenge inside clientDataJSON.
[[nodiscard]] inline result<std::vector<unsigned char>> challenge_of(byte_view client_data_json) {
  auto c = webauthn::parse_client_data(client_data_json);
  if (!c) return c.error();
  if (c->challenge.empty()) return errc::webauthn_rejected;
  return std::move(c->challenge);
}
/// Whether a stored ceremony may be used now for this kind (and user).
[[nodiscard]] inline bool usable(const ceremony_record& c, ceremony_kind kind, std::string_view user,
                                 std::int64_t now) {
  return !c.consumed && c.kind == kind && now < c.expires_at && (kind == ceremony_kind::login || c.user == user);
}
}  // namespace detail

/// Registers a credential for `user` from its creation response.
template <class Ctx>
class passkey_register_operation
    : public detail::passkey_steps<passkey_register_operation<Ctx>, passkey_info, Ctx> {
  using base = detail::passkey_steps<passkey_register_operation<Ctx>, passkey_info, Ctx>;
  friend base;

 public:
  passkey_register_operation(Ctx ctx, const passkey_settings& s, std::string_view user, std::string_view name,
                             byte_view client_data_json, byte_view attestation_object)
      : base(ctx, user, true), s_(s), user_(user), name_(name), cdj_(client_data_json), att_(attestation_object) {
    if (!this->running()) return;
    if (name_.empty() || name_.size() > max_passkey_name_bytes) { this->fail(errc::invalid_argument); return; }
    auto ch = detail::challenge_of(cdj_);
    if (!ch) { this->fail(ch.error()); return; }
    challenge_ = std::move(*ch);
    ceremony_key_ = ceremony_key(challenge_);
    this->load(ceremony_key_);
  }

 private:
  enum class stage : std::uint8_t { ceremony, consume, consume_check, set, index, index_check, write };

  void loaded(std::optional<std::string_view> bytes, std::uint64_t version) {
    switch (stage_) {
      case stage::ceremony: {
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto c = decode_ceremony(*bytes);
        if (!c) return this->fail(c.error());
        if (!detail::usable(*c, ceremony_kind::registration, user_, this->ctx().now()))
          return this->fail(errc::webauthn_rejected);
        ceremony_ = std::move(*c);
        ceremony_version_ = version;
        return this->want_compute();  // the attestation's checks and signatures
      }
      case stage::consume_check: {
        // the consume lost its race: another request used the ceremony, or the store answered a
        // conflict (a serialization failure) where none was; consume again while it is unused
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto c = decode_ceremony(*bytes);
        if (!c) return this->fail(c.error());
        if (!detail::usable(*c, ceremony_kind::registration, user_, this->ctx().now()))
          return this->fail(errc::webauthn_rejected);
        ceremony_version_ = version;
        return consume();
      }
      case stage::set: {
        set_version_ = version;
        set_.reset();
        if (bytes) {
          auto s = decode_passkey_set(*bytes);
          if (!s) return this->fail(s.error());
          set_ = std::move(*s);
        }
        if (set_ && set_->credentials.size() >= max_passkeys_per_user) return this->fail(errc::invalid_argument);
        if (set_) {
          for (const auto& c : set_->credentials)
            if (detail::same_bytes(c.id, cred_.id)) return this->fail(errc::already_enabled);
        }
        if (index_made_) return write_set();
        stage_ = stage::index;
        if (!this->fresh_id()) return this->fail(errc::random_failure);
        passkey_index_record x;
        x.written_by = this->mine();
        x.user = std::string(user_);
        return this->swap(passkey_index_key(cred_.id), 0, encode(x));
      }
      case stage::index_check: {  // the index existed: ours from an earlier, unfinished registration?
        if (!bytes) return this->fail(errc::storage_conflict);
        auto x = decode_passkey_index(*bytes);
        if (!x) return this->fail(x.error());
        if (x->user != user_) return this->fail(errc::already_enabled);
        index_made_ = true;
        return write_set();
      }
      default: return this->fail(errc::storage_failure);
    }
  }

  void run_job() {
    auto r = webauthn::verify_registration(s_.rp, {cdj_, att_, challenge_, {}}, s_.registration);
    if (!r) return this->fail(r.error());
    cred_.id = r->id;
    cred_.public_key = detail::to_vec(r->public_key.encoded());
    cred_.sign_count = r->sign_count;
    cred_.backup_eligible = r->backup_eligible;
    cred_.backed_up = r->backed_up;
    cred_.user_verified = r->user_verified;
    cred_.created_at = this->ctx().now();
    cred_.name = std::string(name_);
    if (cred_.id.size() > detail::pk::max_id_bytes || cred_.public_key.size() > detail::pk::max_key_bytes)
      return this->fail(errc::webauthn_unsupported);
    consume();  // the ceremony first: it is single-use whatever follows
  }

  void consume() {
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    ceremony_record used = ceremony_;
    used.consumed = true;
    used.written_by = this->mine();
    stage_ = stage::consume;
    this->swap(ceremony_key_, ceremony_version_, encode(used));
  }

  void write_set() {
    passkey_set_record next = set_ ? *set_ : passkey_set_record{};
    if (next.user_handle.empty()) next.user_handle = ceremony_.user_handle;
    next.credentials.push_back(cred_);
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    next.written_by = this->mine();
    stage_ = stage::write;
    this->swap(passkey_set_key(user_), set_version_, encode(next));
  }

  void swapped(bool won) {
    switch (stage_) {
      case stage::consume:
        if (!won) {
          if (!this->retry()) return this->fail(errc::storage_conflict);
          stage_ = stage::consume_check;
          return this->load(ceremony_key_);
        }
        stage_ = stage::set;
        return this->load(passkey_set_key(user_));
      case stage::index:
        if (!won) {
          stage_ = stage::index_check;
          return this->load(passkey_index_key(cred_.id));
        }
        index_made_ = true;
        return write_set();
      case stage::write:
        if (!won) {  // another write to the user's set: decide again on it
          if (!this->retry()) return this->fail(errc::storage_conflict);
          stage_ = stage::set;
          return this->load(passkey_set_key(user_));
        }
        this->fire(this->make(event_kind::passkey_registered, user_));
        return this->succeed({cred_.id, cred_.name, cred_.created_at, 0});
      default: return this->fail(errc::storage_failure);
    }
  }

  const passkey_settings& s_;
  std::string_view user_, name_;
  byte_view cdj_, att_;
  std::vector<unsigned char> challenge_;
  std::string ceremony_key_;
  ceremony_record ceremony_;
  std::uint64_t ceremony_version_ = 0;
  std::optional<passkey_set_record> set_;
  std::uint64_t set_version_ = 0;
  passkey_credential cred_;
  bool index_made_ = false;
  stage stage_ = stage::ceremony;
};

/// A passwordless login: yields the user whose credential signed.
template <class Ctx>
class passkey_login_operation
    : public detail::passkey_steps<passkey_login_operation<Ctx>, passkey_login_result, Ctx> {
  using base = detail::passkey_steps<passkey_login_operation<Ctx>, passkey_login_result, Ctx>;
  friend base;

 public:
  passkey_login_operation(Ctx ctx, const passkey_settings& s, byte_view credential_id, byte_view client_data_json,
                          byte_view authenticator_data, byte_view signature, byte_view user_handle)
      : base(ctx, {}, false), s_(s), id_(credential_id), cdj_(client_data_json), ad_(authenticator_data),
        sig_(signature), handle_(user_handle) {
    if (!this->running()) return;
    if (id_.empty() || id_.size() > detail::pk::max_id_bytes) { this->fail(errc::webauthn_rejected); return; }
    auto ch = detail::challenge_of(cdj_);
    if (!ch) { this->fail(ch.error()); return; }
    challenge_ = std::move(*ch);
    ceremony_key_ = ceremony_key(challenge_);
    this->load(ceremony_key_);
  }

 private:
  enum class stage : std::uint8_t { ceremony, index, set, consume, consume_check, reload, write };

  void loaded(std::optional<std::string_view> bytes, std::uint64_t version) {
    switch (stage_) {
      case stage::ceremony: {
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto c = decode_ceremony(*bytes);
        if (!c) return this->fail(c.error());
        if (!detail::usable(*c, ceremony_kind::login, {}, this->ctx().now()))
          return this->fail(errc::webauthn_rejected);
        ceremony_ = std::move(*c);
        ceremony_version_ = version;
        stage_ = stage::index;
        return this->load(passkey_index_key(id_));
      }
      case stage::consume_check: {
        // the consume lost its race: another request used the ceremony, or the store answered a
        // conflict (a serialization failure) where none was; consume again while it is unused
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto c = decode_ceremony(*bytes);
        if (!c) return this->fail(c.error());
        if (!detail::usable(*c, ceremony_kind::login, {}, this->ctx().now()))
          return this->fail(errc::webauthn_rejected);
        ceremony_version_ = version;
        return consume();
      }
      case stage::index: {
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto x = decode_passkey_index(*bytes);
        if (!x) return this->fail(x.error());
        user_ = std::move(x->user);
        // options that named a user admit that user's credentials only
        if (!ceremony_.user.empty() && ceremony_.user != user_) return this->fail(errc::webauthn_rejected);
        stage_ = stage::set;
        return this->load(passkey_set_key(user_));
      }
      case stage::set:
      case stage::reload: {
        if (!bytes) return this->fail(errc::webauthn_rejected);
        auto s = decode_passkey_set(*bytes);
        if (!s) return this->fail(s.error());
        set_ = std::move(*s);
        set_version_ = version;
        auto it = std::find_if(set_.credentials.begin(), set_.credentials.end(),
                               [&](const passkey_credential& c) { return detail::same_bytes(c.id, id_); });
        if (it == set_.credentials.end()) return this->fail(errc::webauthn_rejected);
        which_ = static_cast<std::size_t>(it - set_.credentials.begin());
        if (stage_ == stage::set) return this->want_compute();
        // a reload after a lost race: the signature stands, the counter is checked again
        if (!webauthn::counter_ok(it->sign_count, checked_.sign_count)) return regressed();
        return write_counter();
      }
      default: return this->fail(errc::storage_failure);
    }
  }

  void run_job() {
    const passkey_credential& c = set_.credentials[which_];
    auto key = webauthn::cose_key::parse(c.public_key);
    if (!key) return this->fail(errc::malformed_record);
    webauthn::stored_credential sc{c.id, &*key, c.sign_count, c.backup_eligible, c.backed_up, c.user_verified,
                                   set_.user_handle};
    webauthn::assertion_policy pol = s_.assertion;
    // without a named user the userHandle is what says whose account this is
    // (§7.2 step 6); with one, the credential was found under that user
    pol.require_user_handle = ceremony_.user.empty();
    auto r = webauthn::verify_assertion(s_.rp, sc, {id_, cdj_, ad_, sig_, handle_, challenge_, {}}, pol);
    if (!r) {
      if (r.error() == make_error_code(errc::webauthn_counter_regressed)) return regressed();
      return this->fail(errc::webauthn_rejected);
    }
    checked_ = *r;
    consume();
  }

  void consume() {
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    ceremony_record used = ceremony_;
    used.consumed = true;
    used.written_by = this->mine();
    stage_ = stage::consume;
    this->swap(ceremony_key_, ceremony_version_, encode(used));
  }

  void regressed() {
    this->fire(this->make(event_kind::passkey_counter_regressed, user_));
    this->fail(errc::webauthn_counter_regressed);
  }

  void write_counter() {
    const passkey_credential& was = set_.credentials[which_];
    const std::int64_t now = this->ctx().now();
    const bool unchanged = was.sign_count == checked_.sign_count && was.backed_up == checked_.backed_up &&
                           (was.backup_eligible || !checked_.backup_eligible) &&
                           (was.user_verified || !checked_.user_verified);
    if (unchanged && was.last_used_at <= now && now - was.last_used_at < passkey_last_used_seconds) {
      // nothing to store but a lastUsedAt within passkey_last_used_seconds of the stored one
      this->fire(this->make(event_kind::passkey_used, user_));
      return this->succeed({user_, detail::to_vec(id_)});
    }
    passkey_set_record next = set_;
    passkey_credential& c = next.credentials[which_];
    c.sign_count = checked_.sign_count;
    c.backed_up = checked_.backed_up;
    c.backup_eligible = c.backup_eligible || checked_.backup_eligible;
    c.user_verified = c.user_verified || checked_.user_verified;
    c.last_used_at = now;
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    next.written_by = this->mine();
    stage_ = stage::write;
    this->swap(passkey_set_key(user_), set_version_, encode(next));
  }

  void swapped(bool won) {
    switch (stage_) {
      case stage::consume:
        if (!won) {
          if (!this->retry()) return this->fail(errc::storage_conflict);
          stage_ = stage::consume_check;
          return this->load(ceremony_key_);
        }
        return write_counter();
      case stage::write:
        if (!won) {
          if (!this->retry()) return this->fail(errc::storage_conflict);
          stage_ = stage::reload;
          return this->load(passkey_set_key(user_));
        }
        this->fire(this->make(event_kind::passkey_used, user_));
        return this->succeed({user_, detail::to_vec(id_)});
      default: return this->fail(errc::storage_failure);
    }
  }

  const passkey_settings& s_;
  byte_view id_, cdj_, ad_, sig_, handle_;
  std::vector<unsigned char> challenge_;
  std::string ceremony_key_;
  ceremony_record ceremony_;
  std::uint64_t ceremony_version_ = 0;
  std::string user_;
  passkey_set_record set_;
  std::uint64_t set_version_ = 0;
  std::size_t which_ = 0;
  webauthn::assertion_result checked_;
  stage stage_ = stage::ceremony;
};

/// Removes one of the user's passkeys (errc::not_enabled: no such passkey),
/// then its credential-id index. The set is the truth: an index left behind
/// (its delete failed) names a user without that credential, so a login
/// with it is refused and only that user may register the id again.
template <class Ctx>
class passkey_delete_operation : public detail::passkey_steps<passkey_delete_operation<Ctx>, bool, Ctx> {
  using base = detail::passkey_steps<passkey_delete_operation<Ctx>, bool, Ctx>;
  friend base;

 public:
  passkey_delete_operation(Ctx ctx, std::string_view user, byte_view credential_id)
      : base(ctx, user, true), user_(user), id_(credential_id) {
    if (this->running()) this->load(passkey_set_key(user_));
  }

 private:
  void loaded(std::optional<std::string_view> bytes, std::uint64_t version) {
    if (index_stage_) {
      if (!bytes) return this->succeed(true);
      auto x = decode_passkey_index(*bytes);
      if (!x || x->user != user_) return this->succeed(true);
      index_write_ = true;
      return this->remove(passkey_index_key(id_), version);
    }
    if (!bytes) return this->fail(errc::not_enabled);
    auto s = decode_passkey_set(*bytes);
    if (!s) return this->fail(s.error());
    auto it = std::find_if(s->credentials.begin(), s->credentials.end(),
                           [&](const passkey_credential& c) { return detail::same_bytes(c.id, id_); });
    if (it == s->credentials.end()) return this->fail(errc::not_enabled);
    s->credentials.erase(it);
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    s->written_by = this->mine();
    this->swap(passkey_set_key(user_), version, encode(*s));
  }
  void swapped(bool won) {
    if (index_write_) return this->succeed(true);  // best effort, see above
    if (!won) {
      if (!this->retry()) return this->fail(errc::storage_conflict);
      return this->load(passkey_set_key(user_));
    }
    this->fire(this->make(event_kind::passkey_removed, user_));
    index_stage_ = true;
    this->load(passkey_index_key(id_));
  }
  void run_job() {}
  std::string_view user_;
  byte_view id_;
  bool index_stage_ = false, index_write_ = false;
};

/// Renames one of the user's passkeys (errc::not_enabled: no such passkey).
template <class Ctx>
class passkey_rename_operation : public detail::passkey_steps<passkey_rename_operation<Ctx>, bool, Ctx> {
  using base = detail::passkey_steps<passkey_rename_operation<Ctx>, bool, Ctx>;
  friend base;

 public:
  passkey_rename_operation(Ctx ctx, std::string_view user, byte_view credential_id, std::string_view name)
      : base(ctx, user, true), user_(user), id_(credential_id), name_(name) {
    if (!this->running()) return;
    if (name_.empty() || name_.size() > max_passkey_name_bytes) {
      this->fail(errc::invalid_argument);
      return;
    }
    this->load(passkey_set_key(user_));
  }

 private:
  void loaded(std::optional<std::string_view> bytes, std::uint64_t version) {
    if (!bytes) return this->fail(errc::not_enabled);
    auto s = decode_passkey_set(*bytes);
    if (!s) return this->fail(s.error());
    auto it = std::find_if(s->credentials.begin(), s->credentials.end(),
                           [&](const passkey_credential& c) { return detail::same_bytes(c.id, id_); });
    if (it == s->credentials.end()) return this->fail(errc::not_enabled);
    it->name = std::string(name_);
    if (!this->fresh_id()) return this->fail(errc::random_failure);
    s->written_by = this->mine();
    this->swap(passkey_set_key(user_), version, encode(*s));
  }
  void swapped(bool won) {
    if (!won) {
      if (!this->retry()) return this->fail(errc::storage_conflict);
      return this->load(passkey_set_key(user_));
    }
    this->succeed(true);
  }
  void run_job() {}
  std::string_view user_;
  byte_view id_;
  std::string_view name_;
};

/// The user's passkeys (one load).
template <class Ctx>
class passkey_list_operation
    : public detail::passkey_steps<passkey_list_operation<Ctx>, std::vector<passkey_info>, Ctx> {
  using base = detail::passkey_steps<passkey_list_operation<Ctx>, std::vector<passkey_info>, Ctx>;
  friend base;

 public:
  passkey_list_operation(Ctx ctx, std::string_view user) : base(ctx, user, true) {
    if (this->running()) this->load(passkey_set_key(user));
  }

 private:
  void loaded(std::optional<std::string_view> bytes, std::uint64_t /*version*/) {
    std::vector<passkey_info> out;
    if (bytes) {
      auto s = decode_passkey_set(*bytes);
      if (!s) return this->fail(s.error());
      for (auto& c : s->credentials) out.push_back({std::move(c.id), std::move(c.name), c.created_at, c.last_used_at});
    }
    this->succeed(std::move(out));
  }
  void swapped(bool /*won*/) {}
  void run_job() {}
};

}  // namespace mfakit
