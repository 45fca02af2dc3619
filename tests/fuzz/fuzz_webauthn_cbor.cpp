// Fuzzes the strict CBOR decoder (webauthn/cbor.hpp). Its subset has one
// encoding per value, so whatever it accepts must re-encode, from the
// decoded tree, to exactly the bytes it consumed; a prefix decode and a
// whole decode must agree; the limits must hold.
#include <mfakit/webauthn/cbor.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.hpp"

namespace {

namespace wa = mfakit::webauthn;

void head(std::vector<unsigned char>& out, unsigned major, std::uint64_t v) {
  const auto m = static_cast<unsigned char>(major << 5U);
  if (v < 24) {
    out.push_back(static_cast<unsigned char>(m | v));
    return;
  }
  const int n = v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : v <= 0xFFFFFFFFULL ? 4 : 8;
  out.push_back(static_cast<unsigned char>(m | (n == 1 ? 24U : n == 2 ? 25U : n == 4 ? 26U : 27U)));
  for (int s = (n - 1) * 8; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(v >> s));
}

void encode(const wa::cbor_item& it, std::vector<unsigned char>& out, std::size_t depth, std::size_t& count) {
  ++count;
  using kind = wa::cbor_item::kind;
  switch (it.type) {
    case kind::unsigned_int: head(out, 0, it.arg); break;
    case kind::negative_int: head(out, 1, it.arg); break;
    case kind::bytes:
    case kind::text:
      head(out, it.type == kind::bytes ? 2 : 3, it.data.size());
      FUZZ_CHECK(it.arg == it.data.size());
      out.insert(out.end(), it.data.begin(), it.data.end());
      break;
    case kind::array:
    case kind::map: {
      FUZZ_CHECK(depth + 1 <= wa::cbor_limits{}.max_depth);
      const std::size_t n = it.type == kind::map ? it.items.size() / 2 : it.items.size();
      FUZZ_CHECK(it.type != kind::map || it.items.size() % 2 == 0);
      FUZZ_CHECK(it.arg == n);
      head(out, it.type == kind::array ? 4 : 5, n);
      for (std::size_t i = 0; i < it.items.size(); ++i) {
        if (it.type == kind::map && i % 2 == 0 && i >= 2)  // keys strictly increasing in canonical order
          FUZZ_CHECK(wa::detail::cbor_reader::canonical_before(it.items[i - 2].encoded, it.items[i].encoded));
        encode(it.items[i], out, depth + 1, count);
      }
      break;
    }
    case kind::boolean: out.push_back(it.arg != 0 ? 0xF5 : 0xF4); break;
    case kind::null: out.push_back(0xF6); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mfakit::byte_view in(data, size);
  auto prefix = wa::cbor_decode_prefix(in);
  auto whole = wa::cbor_decode(in);
  if (!prefix) {
    FUZZ_CHECK(!whole);
    return 0;
  }
  FUZZ_CHECK(prefix->consumed >= 1 && prefix->consumed <= size);
  FUZZ_CHECK(whole.has_value() == (prefix->consumed == size));
  std::vector<unsigned char> again;
  std::size_t count = 0;
  encode(prefix->item, again, 0, count);
  FUZZ_CHECK(count <= wa::cbor_limits{}.max_items);
  FUZZ_CHECK(again.size() == prefix->consumed);
  FUZZ_CHECK(std::equal(again.begin(), again.end(), data));
  // tighter limits only ever refuse more
  auto tight = wa::cbor_decode_prefix(in, wa::cbor_limits{size, 2, 8});
  if (tight) FUZZ_CHECK(tight->consumed == prefix->consumed);
  return 0;
}
