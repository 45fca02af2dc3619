// Fuzzes the passkey record decoders (operations/passkey.hpp:
// decode_passkey_set, decode_ceremony, decode_passkey_index) with arbitrary
// bytes, as a damaged or hostile database row would hand them over. Each
// decoder either refuses with errc::malformed_record, or returns a record
// within the format's bounds (at most 16 credentials, a non-empty id of at
// most 1023 bytes, a key of at most 1024, a name of at most 64, a user handle
// of at most 64, a user id of at most 512, flags of three bits, a ceremony
// of kind 1 or 2) whose encoding is exactly the input: one encoding per
// record, so a decoded record always writes back unchanged, and the write id
// the read-back takes from bytes 1..16 is the decoded record's.
#include <mfakit/operations/passkey.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

// The largest encodings the bounds allow: the harness checks that every
// accepted input is within them.
constexpr std::size_t head_bytes = 1 + mfakit::write_id_bytes;
constexpr std::size_t max_credential_bytes = 2 + mfakit::detail::pk::max_id_bytes + 2 + mfakit::detail::pk::max_key_bytes +
                                             4 + 1 + 8 + 8 + 2 + mfakit::max_passkey_name_bytes;
constexpr std::size_t max_set_bytes =
    head_bytes + 2 + mfakit::webauthn::max_user_handle_bytes + 1 + mfakit::max_passkeys_per_user * max_credential_bytes;
constexpr std::size_t max_ceremony_bytes =
    head_bytes + 1 + 1 + 8 + 2 + mfakit::max_user_id_bytes + 2 + mfakit::webauthn::max_user_handle_bytes;
constexpr std::size_t max_index_bytes = head_bytes + 2 + mfakit::max_user_id_bytes;

void check_write_id(std::string_view in, const mfakit::write_id& id) {
  auto by = mfakit::detail::pk::written_by(in);
  FUZZ_CHECK(by && *by == id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data),
                            size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)

  auto s = mfakit::decode_passkey_set(in);
  if (s) {
    FUZZ_CHECK(in.size() <= max_set_bytes);
    FUZZ_CHECK(mfakit::encode(*s) == in);
    check_write_id(in, s->written_by);
    FUZZ_CHECK(s->user_handle.size() <= mfakit::webauthn::max_user_handle_bytes);
    FUZZ_CHECK(s->credentials.size() <= mfakit::max_passkeys_per_user);
    for (const auto& c : s->credentials) {
      FUZZ_CHECK(!c.id.empty() && c.id.size() <= mfakit::detail::pk::max_id_bytes);
      FUZZ_CHECK(c.public_key.size() <= mfakit::detail::pk::max_key_bytes);
      FUZZ_CHECK(c.name.size() <= mfakit::max_passkey_name_bytes);
    }
    auto again = mfakit::decode_passkey_set(mfakit::encode(*s));
    FUZZ_CHECK(again && mfakit::encode(*again) == in);
  } else {
    FUZZ_CHECK(s.error() == mfakit::errc::malformed_record);
  }

  auto c = mfakit::decode_ceremony(in);
  if (c) {
    FUZZ_CHECK(in.size() <= max_ceremony_bytes);
    FUZZ_CHECK(mfakit::encode(*c) == in);
    check_write_id(in, c->written_by);
    FUZZ_CHECK(c->kind == mfakit::ceremony_kind::registration || c->kind == mfakit::ceremony_kind::login);
    FUZZ_CHECK(c->user.size() <= mfakit::max_user_id_bytes);
    FUZZ_CHECK(c->user_handle.size() <= mfakit::webauthn::max_user_handle_bytes);
    auto again = mfakit::decode_ceremony(mfakit::encode(*c));
    FUZZ_CHECK(again && mfakit::encode(*again) == in);
  } else {
    FUZZ_CHECK(c.error() == mfakit::errc::malformed_record);
  }

  auto x = mfakit::decode_passkey_index(in);
  if (x) {
    FUZZ_CHECK(in.size() <= max_index_bytes);
    FUZZ_CHECK(mfakit::encode(*x) == in);
    check_write_id(in, x->written_by);
    FUZZ_CHECK(!x->user.empty() && x->user.size() <= mfakit::max_user_id_bytes);
    auto again = mfakit::decode_passkey_index(mfakit::encode(*x));
    FUZZ_CHECK(again && mfakit::encode(*again) == in);
  } else {
    FUZZ_CHECK(x.error() == mfakit::errc::malformed_record);
  }
  return 0;
}
