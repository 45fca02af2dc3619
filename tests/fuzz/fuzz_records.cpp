// Fuzzes the stored-record decoders (records.hpp) with arbitrary bytes, as a
// damaged or hostile database row would hand them over. Each decoder either
// refuses with errc::malformed_record, or returns a record that satisfies the
// format's invariants and whose encoding is exactly the input: one encoding
// per record and format, so no two byte strings of a format can stand for the
// same record and a decoded record always writes back unchanged (a record
// of formats 1-3 writes back as format 4: its set's pepper byte 0, and for
// format 1, from before write ids, no writer and no offsets; for format 2,
// from before the offsets, none).
#include <mfakit/records.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data),
                            size);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)

  auto a = mfakit::decode_account(in);
  if (a) {
    if (in.size() > 1 && in[1] >= 1 && in[1] <= 3) {
      // formats 1-3 (before sets named their pepper) are written back as
      // format 4: the set's pepper byte (0, host_key_if_any) after its cost,
      // format 1 (before write ids) with an unknown writer, formats 1 and 2
      // (before the offsets) with an empty history; one encoding per format
      FUZZ_CHECK(a->backup.pepper == mfakit::backup_pepper::host_key_if_any);
      std::string down = mfakit::encode(*a);
      FUZZ_CHECK(down.size() > 1 && down[1] == 4);
      if (a->status != mfakit::account_status::disabled && !a->backup.digests.empty()) {
        // the pepper byte, before the count (one byte: at most 64 codes) and the digests
        const std::size_t at = down.size() - 1 - mfakit::write_id_bytes -
                               mfakit::backup_code_digest_bytes * a->backup.digests.size() - 1 - 1;
        FUZZ_CHECK(down[at] == '\0');
        down.erase(at, 1);
      }
      down[1] = in[1];
      if (in[1] <= 2) {
        FUZZ_CHECK(a->offsets == mfakit::offset_history{});
        down.pop_back();
      }
      if (in[1] == 1) {
        FUZZ_CHECK(a->written_by == mfakit::write_id{});
        down.resize(down.size() - mfakit::write_id_bytes);
      }
      FUZZ_CHECK(down == in);
    } else {
      FUZZ_CHECK(mfakit::encode(*a) == in);
    }
    auto again = mfakit::decode_account(mfakit::encode(*a));
    FUZZ_CHECK(again && *again == *a);
    FUZZ_CHECK((a->status == mfakit::account_status::disabled) == a->sealed_secret.empty());
    FUZZ_CHECK(a->digits >= mfakit::min_digits && a->digits <= mfakit::max_digits);
    FUZZ_CHECK(a->period >= 1);
    FUZZ_CHECK(a->sealed_secret.size() <= 256);
    FUZZ_CHECK(a->backup.digests.size() <= mfakit::max_backup_code_count);
    FUZZ_CHECK(mfakit::offset_history::well_formed(a->offsets.packed));
    for (std::size_t i = 0; i < a->offsets.size(); ++i) FUZZ_CHECK(a->offsets[i] >= -1 && a->offsets[i] <= 1);
    if (!a->backup.digests.empty()) {
      FUZZ_CHECK(a->status != mfakit::account_status::disabled);
      FUZZ_CHECK(mfakit::valid(a->backup.cost));
    } else {
      FUZZ_CHECK(a->backup == mfakit::backup_code_digests{});
    }
  } else {
    FUZZ_CHECK(a.error() == mfakit::errc::malformed_record);
  }

  auto c = mfakit::decode_challenge(in);
  if (c) {
    FUZZ_CHECK(mfakit::encode(*c) == in);
    auto again = mfakit::decode_challenge(mfakit::encode(*c));
    FUZZ_CHECK(again && *again == *c);
    FUZZ_CHECK(!c->user.empty() && c->user.size() <= mfakit::max_user_id_bytes);
  } else {
    FUZZ_CHECK(c.error() == mfakit::errc::malformed_record);
  }

  FUZZ_CHECK(!(a && c));  // the tag tells the two kinds apart
  return 0;
}
