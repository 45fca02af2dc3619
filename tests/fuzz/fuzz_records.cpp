// Fuzzes the stored-record decoders (records.hpp) with arbitrary bytes, as a
// damaged or hostile database row would hand them over. Each decoder either
// refuses with errc::malformed_record, or returns a record that satisfies the
// format's invariants and whose encoding is exactly the input: one encoding
// per record and format, so no two byte strings of a format can stand for the
// same record and a decoded record always writes back unchanged (a format-1
// record, from before write ids, writes back as format 3 with no writer and
// no offsets; a format-2 record, from before the offsets, as format 3 with
// none).
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
    if (in.size() > 1 && (in[1] == 1 || in[1] == 2)) {
      // format 1 (before write ids): read as an unknown writer; format 2
      // (before the offsets): read with an empty history; both written back
      // as format 3; one encoding per format
      std::string upgraded(in);
      upgraded[1] = 3;
      if (in[1] == 1) {
        upgraded.append(mfakit::write_id_bytes, '\0');
        FUZZ_CHECK(a->written_by == mfakit::write_id{});
      }
      upgraded.push_back('\0');
      FUZZ_CHECK(a->offsets == mfakit::offset_history{});
      FUZZ_CHECK(mfakit::encode(*a) == upgraded);
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
