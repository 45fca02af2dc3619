// Fuzzes the stored-record decoders (records.hpp) with arbitrary bytes, as a
// damaged or hostile database row would hand them over. Each decoder either
// refuses with errc::malformed_record, or returns a record that satisfies the
// format's invariants and whose encoding is exactly the input: one encoding
// per record and format, so no two byte strings of a format can stand for the
// same record and a decoded record always writes back unchanged (a format-1
// record, from before write ids, writes back as format 2 with no writer).
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
    if (in.size() > 1 && in[1] == 1) {
      // format 1 (before write ids): read as an unknown writer, written back
      // as format 2 with an all-zero write id; one encoding per format
      std::string upgraded(in);
      upgraded[1] = 2;
      upgraded.append(mfakit::write_id_bytes, '\0');
      FUZZ_CHECK(a->written_by == mfakit::write_id{});
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
