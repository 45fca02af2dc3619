// The stored record format (records.hpp): round trips over every field and
// its extremes, the byte layout written out by hand, and strictness: every
// truncation, every appended byte, every redundant varint and every
// single-byte change is either rejected or decodes to a record whose
// encoding is exactly those bytes (one encoding per record).
#include <mfakit/records.hpp>
#include <mfakit/seal.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "catch.hpp"

using mfakit::account_record;
using mfakit::account_status;
using mfakit::challenge_record;
using mfakit::errc;

namespace {

constexpr auto i64_min = std::numeric_limits<std::int64_t>::min();
constexpr auto i64_max = std::numeric_limits<std::int64_t>::max();
constexpr auto u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr auto u32_max = std::numeric_limits<std::uint32_t>::max();

std::string hex(std::string_view s) {
  std::string out;
  for (char c : s) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

// An independent writer for the documented layout, so the test does not
// trust record_writer to check record_reader.
struct bytes_builder {
  std::string out;
  bytes_builder& u8(unsigned v) {
    out.push_back(static_cast<char>(v & 0xFFU));
    return *this;
  }
  bytes_builder& varint(std::uint64_t v) {
    do {
      unsigned b = static_cast<unsigned>(v % 128U);
      v /= 128U;
      if (v != 0) b += 128U;
      u8(b);
    } while (v != 0);
    return *this;
  }
  bytes_builder& svarint(std::int64_t v) {
    // zigzag: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ...
    const std::uint64_t z = v >= 0 ? 2 * static_cast<std::uint64_t>(v) : 2 * (~static_cast<std::uint64_t>(v)) + 1;
    return varint(z);
  }
  bytes_builder& raw(std::string_view s) {
    out.append(s);
    return *this;
  }
  bytes_builder& bytes(std::string_view s) { return varint(s.size()).raw(s); }
};

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((seed + i * 31U + (i >> 3U)) & 0xFFU);
  return s;
}

mfakit::backup_code_digests digests(std::size_t count, mfakit::scrypt_params cost = {16, 1, 1}) {
  mfakit::backup_code_digests d;
  for (std::size_t i = 0; i < d.salt.size(); ++i) d.salt[i] = static_cast<unsigned char>(0xA0 + i);
  d.cost = cost;
  d.digests.resize(count);
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t j = 0; j < d.digests[i].size(); ++j) d.digests[i][j] = static_cast<unsigned char>(i * 37 + j);
  return d;
}

account_record enabled_record() {
  account_record r;
  r.status = account_status::enabled;
  r.sealed_secret = pattern(41, 3);
  r.alg = mfakit::algorithm::sha256;
  r.digits = 8;
  r.period = 60;
  r.last_step = 56'666'666;
  r.backup = digests(10);
  r.failures = 3;
  r.last_failure = 1'700'000'123;
  for (std::size_t i = 0; i < r.written_by.size(); ++i) r.written_by[i] = static_cast<unsigned char>(0xC0 + i);
  r.offsets.push(0);
  r.offsets.push(-1);  // newest: behind
  return r;
}

// The bytes an older format (1-3, before sets named their pepper) had for
// `r`, whose set must be backup_pepper::host_key_if_any and hold fewer than
// 128 codes: encode()'s format 4 without the pepper byte, then without the
// offsets (format 2), then without the write id (format 1).
std::string legacy_bytes(const account_record& r, unsigned format) {
  std::string b = mfakit::encode(r);
  b[1] = static_cast<char>(format);
  if (r.backup.pepper != mfakit::backup_pepper::host_key_if_any || r.backup.digests.size() >= 128)
    throw std::logic_error("legacy_bytes: not a set of an older record");
  if (!r.backup.digests.empty() && r.status != account_status::disabled) {
    const std::size_t pepper_at = b.size() - 1 - mfakit::write_id_bytes - 32 * r.backup.digests.size() - 1 - 1;
    if (b[pepper_at] != 0) throw std::logic_error("legacy_bytes: the pepper byte is not where it should be");
    b.erase(pepper_at, 1);
  }
  if (format <= 2) b.pop_back();
  if (format <= 1) b.resize(b.size() - mfakit::write_id_bytes);
  return b;
}

// Every way a valid encoding can be damaged by one byte: each position set
// to each other value. Returns how many variants decoded. The format byte
// may become that of an older format that reads the same record (a record
// without backup codes is the same in formats 3 and 4).
template <class Decode>
std::size_t check_single_byte_changes(const std::string& valid, Decode&& decode) {
  std::size_t decoded = 0;
  for (std::size_t pos = 0; pos < valid.size(); ++pos) {
    for (unsigned v = 0; v < 256; ++v) {
      if (static_cast<unsigned char>(valid[pos]) == v) continue;
      std::string changed = valid;
      changed[pos] = static_cast<char>(v);
      auto r = decode(changed);
      if (r) {
        ++decoded;
        std::string again = mfakit::encode(*r);
        const bool older_format_same_record = pos == 1 && v >= 1 && v < static_cast<unsigned char>(valid[1]) &&
                                              again == valid;
        if (again != changed && !older_format_same_record) {
          FAIL(fmt::format("byte {} set to {:02x} decodes to a record that re-encodes differently:\n in  {}\n out {}",
                           pos, v, hex(changed), hex(mfakit::encode(*r))));
        }
      } else if (r.error() != errc::malformed_record) {
        FAIL(fmt::format("byte {} set to {:02x}: error {} instead of malformed_record", pos, v, r.error().message()));
      }
    }
  }
  return decoded;
}

template <class Decode>
void check_truncations_and_trailers(const std::string& valid, Decode&& decode) {
  for (std::size_t n = 0; n < valid.size(); ++n) {
    auto r = decode(std::string_view(valid).substr(0, n));
    if (r || r.error() != errc::malformed_record)
      FAIL(fmt::format("truncation to {} of {} bytes accepted", n, valid.size()));
  }
  for (unsigned v = 0; v < 256; ++v) {
    std::string longer = valid;
    longer.push_back(static_cast<char>(v));
    if (decode(longer)) FAIL(fmt::format("a trailing byte {:02x} was accepted", v));
  }
  if (decode(valid + valid)) FAIL("a record followed by a copy of itself was accepted");
}

auto account_decoder = [](std::string_view b) { return mfakit::decode_account(b); };
auto challenge_decoder = [](std::string_view b) { return mfakit::decode_challenge(b); };

}  // namespace

TEST_CASE("account encoding matches the documented layout byte for byte", "[records]") {
  // the layout of format `format` for an enabled_record()-shaped record
  const auto layout = [](const account_record& rec, unsigned format) {
    bytes_builder b;
    b.u8('A').u8(format).u8(2).u8(1).u8(8).svarint(60).u8(1).varint(56'666'666).varint(3).svarint(1'700'000'123);
    b.bytes(rec.sealed_secret).u8(1);
    b.raw(std::string(reinterpret_cast<const char*>(rec.backup.salt.data()), rec.backup.salt.size()));  // NOLINT
    b.varint(16).varint(1).varint(1);
    if (format >= 4) {
      b.u8(static_cast<unsigned>(rec.backup.pepper));
      if (rec.backup.pepper == mfakit::backup_pepper::sealing_key) b.varint(rec.backup.pepper_key_id);
    }
    b.varint(10);
    for (const auto& d : rec.backup.digests)
      b.raw(std::string(reinterpret_cast<const char*>(d.data()), d.size()));  // NOLINT
    if (format >= 2) b.raw(std::string(reinterpret_cast<const char*>(rec.written_by.data()), rec.written_by.size()));  // NOLINT
    if (format >= 3) b.u8(rec.offsets.packed);
    return b.out;
  };
  account_record r = enabled_record();
  r.backup.pepper = mfakit::backup_pepper::sealing_key;
  r.backup.pepper_key_id = 300;  // a two-byte varint
  CHECK(r.offsets.packed == 0b0110);  // the offsets, newest in the low bits: behind (2), then on time (1)
  CHECK(hex(mfakit::encode(r)) == hex(layout(r, 4)));
  CHECK(mfakit::decode_account(layout(r, 4)).value() == r);
  for (auto pepper : {mfakit::backup_pepper::host_key_if_any, mfakit::backup_pepper::none,
                      mfakit::backup_pepper::host_key}) {
    account_record other = r;
    other.backup.pepper = pepper;
    other.backup.pepper_key_id = 0;
    CHECK(hex(mfakit::encode(other)) == hex(layout(other, 4)));
    CHECK(mfakit::decode_account(layout(other, 4)).value() == other);
  }
  std::string unknown_pepper = layout(r, 4);
  unknown_pepper[unknown_pepper.size() - 10 * 32 - 1 - 16 - 1 - 2 - 1] = 4;  // the pepper byte
  CHECK(mfakit::decode_account(unknown_pepper).error() == errc::malformed_record);

  account_record disabled;
  bytes_builder d;
  d.u8('A').u8(4).u8(0).u8(0).u8(6).svarint(30).u8(0).varint(0).svarint(0).bytes("").u8(0).raw(std::string(16, '\0'));
  d.u8(0);
  CHECK(hex(mfakit::encode(disabled)) == hex(d.out));

  // formats 1-3 (before sets named their pepper) are still read, their sets
  // as host_key_if_any (checked as they were made: with the hasher's host
  // key if it has one, else unpeppered), and written back as format 4
  account_record legacy = r;
  legacy.backup.pepper = mfakit::backup_pepper::host_key_if_any;
  legacy.backup.pepper_key_id = 0;
  CHECK(mfakit::decode_account(layout(legacy, 3)).value() == legacy);
  CHECK(hex(mfakit::encode(mfakit::decode_account(layout(legacy, 3)).value())) == hex(layout(legacy, 4)));
  // format 2 (before the offsets): read with no history
  account_record no_history = legacy;
  no_history.offsets = {};
  CHECK(mfakit::decode_account(layout(legacy, 2)).value() == no_history);
  // format 1 (before write ids): read with an unknown writer
  account_record unknown_writer = no_history;
  unknown_writer.written_by = {};
  CHECK(mfakit::decode_account(layout(legacy, 1)).value() == unknown_writer);

  challenge_record c{"alice", -5, 4};
  bytes_builder cb;
  cb.u8('C').u8(1).bytes("alice").svarint(-5).varint(4);
  CHECK(hex(mfakit::encode(c)) == hex(cb.out));
}

TEST_CASE("account records round trip for every status and field extreme", "[records]") {
  const std::vector<std::optional<std::uint64_t>> steps{
      std::nullopt, 0, 1, 127, 128, 56'666'666, std::uint64_t{1} << 63U, u64_max};
  const std::vector<std::uint32_t> failures{0, 1, 99, 100, u32_max};
  const std::vector<std::int64_t> times{0, 1, -1, 1'700'000'000, i64_min, i64_max};
  const std::vector<std::int64_t> periods{1, 30, 60, 1LL << 40, i64_max};
  const std::vector<std::size_t> counts{0, 1, 10, 64};
  std::size_t cases = 0;
  for (auto status : {account_status::disabled, account_status::pending, account_status::enabled}) {
    for (auto alg : {mfakit::algorithm::sha1, mfakit::algorithm::sha256, mfakit::algorithm::sha512}) {
      for (int digits = 6; digits <= 8; ++digits) {
        for (std::size_t i = 0; i < steps.size(); ++i) {
          for (std::size_t count : counts) {
            account_record r;
            r.status = status;
            r.alg = alg;
            r.digits = digits;
            r.period = periods[i % periods.size()];
            r.last_step = steps[i];
            r.failures = failures[(i + count) % failures.size()];
            r.last_failure = times[(i + count + static_cast<std::size_t>(digits)) % times.size()];
            if (status != account_status::disabled) {
              r.sealed_secret = pattern(1 + (i * 37 + count) % 256, static_cast<unsigned>(i));
              // a record with no codes left keeps no salt or cost
              if (count != 0)
                r.backup = digests(
                    count, count == 64 ? mfakit::scrypt_params{1U << 15, 1, 16} : mfakit::scrypt_params{16, 1, 1});
            }
            const std::string bytes = mfakit::encode(r);
            auto back = mfakit::decode_account(bytes);
            REQUIRE(back);
            CHECK(*back == r);
            CHECK(mfakit::encode(*back) == bytes);
            ++cases;
          }
        }
      }
    }
  }
  CHECK(cases == 3 * 3 * 3 * steps.size() * counts.size());
}

TEST_CASE("the offset history keeps the last four offsets, newest first, in one byte", "[records][drift]") {
  mfakit::offset_history h;
  CHECK(h.size() == 0);
  CHECK(h.packed == 0);
  h.push(-1);
  CHECK(h.size() == 1);
  CHECK(h[0] == -1);
  h.push(0);
  h.push(5);    // a wider window: only the sign is kept
  h.push(-32);
  CHECK(h.size() == 4);
  CHECK(h[0] == -1);
  CHECK(h[1] == 1);
  CHECK(h[2] == 0);
  CHECK(h[3] == -1);
  h.push(1);  // the oldest (-1) falls out
  CHECK(h.size() == 4);
  CHECK(h[0] == 1);
  CHECK(h[1] == -1);
  CHECK(h[2] == 1);
  CHECK(h[3] == 0);
  CHECK(h.packed == 0b01'11'10'11);
}

TEST_CASE("every history byte push() can make round trips, every other is refused", "[records][drift]") {
  // the bytes push() can make, found by pushing
  std::vector<bool> reachable(256, false);
  std::vector<mfakit::offset_history> frontier{mfakit::offset_history{}};
  reachable[0] = true;
  for (std::size_t depth = 0; depth < mfakit::offset_history::capacity + 1; ++depth) {
    std::vector<mfakit::offset_history> next;
    for (auto h : frontier) {
      for (int off : {-1, 0, 1}) {
        auto g = h;
        g.push(off);
        if (!reachable[g.packed]) next.push_back(g);
        reachable[g.packed] = true;
      }
    }
    frontier = std::move(next);
  }
  std::size_t accepted = 0;
  for (unsigned v = 0; v < 256; ++v) {
    account_record r = enabled_record();
    r.offsets.packed = static_cast<std::uint8_t>(v);
    INFO("history byte " << v);
    CHECK(mfakit::offset_history::well_formed(v) == reachable[v]);
    const std::string bytes = mfakit::encode(r);
    auto back = mfakit::decode_account(bytes);
    CHECK(back.has_value() == reachable[v]);
    if (back) {
      ++accepted;
      CHECK(*back == r);
      CHECK(mfakit::encode(*back) == bytes);
    } else {
      CHECK(back.error() == errc::malformed_record);
    }
  }
  CHECK(accepted == 1 + 3 + 9 + 27 + 81);
}

TEST_CASE("a record without remaining codes decodes to the default set (salt and cost are not kept)", "[records]") {
  account_record r = enabled_record();
  r.backup.digests.clear();  // the last code was redeemed; salt and cost are still set in memory
  auto back = mfakit::decode_account(mfakit::encode(r));
  REQUIRE(back);
  CHECK(back->backup.digests.empty());
  CHECK(back->backup == mfakit::backup_code_digests{});
  // a disabled record never carries codes, whatever memory held
  account_record d;
  d.backup = digests(3);
  auto dback = mfakit::decode_account(mfakit::encode(d));
  REQUIRE(dback);
  CHECK(dback->backup.digests.empty());
}

TEST_CASE("challenge records round trip", "[records]") {
  for (std::size_t len :
       {std::size_t{1}, std::size_t{2}, std::size_t{127}, std::size_t{128}, mfakit::max_user_id_bytes}) {
    for (std::int64_t t : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1'700'000'300}, i64_min, i64_max}) {
      for (std::uint32_t a : {0U, 1U, 5U, u32_max}) {
        challenge_record c{pattern(len, static_cast<unsigned>(len)), t, a};
        if (c.user.empty()) continue;
        const std::string bytes = mfakit::encode(c);
        auto back = mfakit::decode_challenge(bytes);
        REQUIRE(back);
        CHECK(*back == c);
        CHECK(mfakit::encode(*back) == bytes);
      }
    }
  }
  // a user id with NUL bytes and high bytes survives
  challenge_record c{std::string("a\0b\xff", 4), 7, 0};
  auto back = mfakit::decode_challenge(mfakit::encode(c));
  REQUIRE(back);
  CHECK(back->user == c.user);
}

TEST_CASE("challenge limits: empty and oversized user ids are refused", "[records]") {
  CHECK(mfakit::decode_challenge(mfakit::encode(challenge_record{"", 1, 0})).error() == errc::malformed_record);
  const std::string too_long(mfakit::max_user_id_bytes + 1, 'u');
  CHECK(mfakit::decode_challenge(mfakit::encode(challenge_record{too_long, 1, 0})).error() == errc::malformed_record);
  bytes_builder b;  // attempts beyond 32 bits
  b.u8('C').u8(1).bytes("u").svarint(1).varint(std::uint64_t{u32_max} + 1);
  CHECK(mfakit::decode_challenge(b.out).error() == errc::malformed_record);
}

TEST_CASE("every truncation and every trailing byte is rejected", "[records]") {
  account_record disabled;
  account_record pending = enabled_record();
  pending.status = account_status::pending;
  pending.backup = {};
  pending.last_step.reset();
  for (const account_record& r : {disabled, pending, enabled_record()}) {
    INFO("status " << static_cast<int>(r.status));
    check_truncations_and_trailers(mfakit::encode(r), account_decoder);
  }
  // nor is a record of an older format
  for (unsigned format : {1U, 2U, 3U}) {
    INFO("format " << format);
    const std::string old = legacy_bytes(enabled_record(), format);
    REQUIRE(mfakit::decode_account(old));
    check_truncations_and_trailers(old, account_decoder);
  }
  check_truncations_and_trailers(mfakit::encode(challenge_record{"alice@example.com", 1'700'000'300, 2}),
                                 challenge_decoder);
}

TEST_CASE("every single-byte change is rejected or is itself a canonical encoding", "[records]") {
  account_record small = enabled_record();
  small.backup = digests(2);
  account_record extremes = enabled_record();
  extremes.last_step = u64_max;
  extremes.failures = u32_max;
  extremes.last_failure = i64_min;
  extremes.period = i64_max;
  extremes.backup = digests(1, {1U << 21, 1, 16});
  account_record disabled;
  disabled.failures = 200;
  disabled.last_failure = -300;
  std::size_t accepted = 0;
  for (const account_record& r : {small, extremes, disabled}) {
    const std::size_t n = check_single_byte_changes(mfakit::encode(r), account_decoder);
    accepted += n;
  }
  const std::size_t cn =
      check_single_byte_changes(mfakit::encode(challenge_record{"bob", 1'700'000'300, 1}), challenge_decoder);
  // Many changes land in free fields (digest bytes, the secret, a time);
  // those must decode, or the check above would be vacuous.
  CHECK(accepted > 1000);
  CHECK(cn > 100);
}

TEST_CASE("redundant varint encodings are rejected", "[records]") {
  // failures = 1 written as 0x81 0x00 (two bytes where one suffices)
  auto with_failures = [](std::string_view failures_bytes) {
    bytes_builder b;
    b.u8('A').u8(1).u8(0).u8(0).u8(6).svarint(30).u8(0).raw(failures_bytes).svarint(0).bytes("").u8(0);
    return b.out;
  };
  REQUIRE(mfakit::decode_account(with_failures("\x01")));
  CHECK(mfakit::decode_account(with_failures("\x01")).value().failures == 1);
  CHECK_FALSE(mfakit::decode_account(with_failures(std::string("\x81\x00", 2))));
  CHECK_FALSE(mfakit::decode_account(with_failures(std::string("\x80\x00", 2))));  // zero in two bytes
  CHECK_FALSE(mfakit::decode_account(with_failures(std::string("\x81\x80\x00", 3))));
  // the last step: 2^63 is 10 bytes ending in 0x01; a 0x02 there is > 64 bits
  auto with_step = [](std::string_view step_bytes) {
    bytes_builder b;
    b.u8('A').u8(1).u8(0).u8(0).u8(6).svarint(30).u8(1).raw(step_bytes).varint(0).svarint(0).bytes("").u8(0);
    return b.out;
  };
  std::string max_step(9, '\xff');
  max_step.push_back('\x01');
  REQUIRE(mfakit::decode_account(with_step(max_step)));
  CHECK(*mfakit::decode_account(with_step(max_step)).value().last_step == u64_max);
  std::string over = max_step;
  over.back() = '\x02';
  CHECK_FALSE(mfakit::decode_account(with_step(over)));
  std::string eleven(10, '\xff');
  eleven.push_back('\x01');
  CHECK_FALSE(mfakit::decode_account(with_step(eleven)));
  // a length prefix with a redundant byte
  bytes_builder c;
  c.u8('C').u8(1).raw(std::string("\x83\x00", 2)).raw("bob").svarint(1).varint(0);
  CHECK_FALSE(mfakit::decode_challenge(c.out));
  // failures above 2^32 - 1
  CHECK_FALSE(mfakit::decode_account(with_failures(bytes_builder().varint(std::uint64_t{u32_max} + 1).out)));
}

TEST_CASE("wrong tag, wrong format, out-of-range enums", "[records]") {
  const std::string a = mfakit::encode(enabled_record());
  const std::string c = mfakit::encode(challenge_record{"u", 1, 0});
  CHECK(mfakit::decode_account(c).error() == errc::malformed_record);
  CHECK(mfakit::decode_challenge(a).error() == errc::malformed_record);
  CHECK_FALSE(mfakit::decode_account(""));
  CHECK_FALSE(mfakit::decode_challenge(""));
  for (unsigned fmt_version : {0U, 5U, 255U}) {
    std::string x = a;
    x[1] = static_cast<char>(fmt_version);
    CHECK_FALSE(mfakit::decode_account(x));
    std::string y = c;
    y[1] = static_cast<char>(fmt_version);
    CHECK_FALSE(mfakit::decode_challenge(y));
  }
  std::string bad_status = a;
  bad_status[2] = 3;
  CHECK_FALSE(mfakit::decode_account(bad_status));
  std::string bad_alg = a;
  bad_alg[3] = 3;
  CHECK_FALSE(mfakit::decode_account(bad_alg));
  for (unsigned digits : {0U, 5U, 9U, 10U}) {
    std::string bad_digits = a;
    bad_digits[4] = static_cast<char>(digits);
    CHECK_FALSE(mfakit::decode_account(bad_digits));
  }
  account_record zero_period = enabled_record();
  zero_period.period = 0;
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(zero_period)));
  zero_period.period = -30;
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(zero_period)));
  account_record bad_cost = enabled_record();
  bad_cost.backup.cost = {15, 1, 1};  // not a power of two
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(bad_cost)));
  bad_cost.backup.cost = {16, 0, 1};
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(bad_cost)));
  // a stored cost may not ask for more memory than the cap (a tampered row as a memory bomb)
  for (mfakit::scrypt_params huge : {mfakit::scrypt_params{1U << 24, 64, 16}, mfakit::scrypt_params{1U << 22, 1, 1},
                                     mfakit::scrypt_params{1U << 21, 2, 1}}) {
    bad_cost.backup.cost = huge;
    CHECK_FALSE(mfakit::decode_account(mfakit::encode(bad_cost)));
  }
  bad_cost.backup.cost = {1U << 16, 1, 1};  // RFC 7914: N < 2^(16 r)
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(bad_cost)));
  bad_cost.backup.cost = {1U << 18, 8, 1};  // 256 MiB: the most allowed
  CHECK(mfakit::decode_account(mfakit::encode(bad_cost)));
  account_record too_many = enabled_record();
  too_many.backup = digests(mfakit::max_backup_code_count + 1);
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(too_many)));
  account_record long_secret = enabled_record();
  long_secret.sealed_secret = pattern(257, 1);
  CHECK_FALSE(mfakit::decode_account(mfakit::encode(long_secret)));
}

TEST_CASE("status and secret must agree", "[records]") {
  account_record disabled_with_secret;
  disabled_with_secret.sealed_secret = "x";
  CHECK(mfakit::decode_account(mfakit::encode(disabled_with_secret)).error() == errc::malformed_record);
  for (auto status : {account_status::pending, account_status::enabled}) {
    account_record no_secret = enabled_record();
    no_secret.status = status;
    no_secret.sealed_secret.clear();
    CHECK(mfakit::decode_account(mfakit::encode(no_secret)).error() == errc::malformed_record);
  }
  // codes in a disabled record: encode() never writes them, so craft the bytes
  const account_record e = enabled_record();
  std::string bytes = mfakit::encode(e);
  bytes[2] = 0;  // status byte -> disabled, secret still present
  CHECK_FALSE(mfakit::decode_account(bytes));
  bytes_builder b;
  b.u8('A').u8(2).u8(0).u8(0).u8(6).svarint(30).u8(0).varint(0).svarint(0).bytes("").u8(1);
  b.raw(std::string(16, '\x01')).varint(16).varint(1).varint(1).varint(1).raw(std::string(32, '\x02'));
  b.raw(std::string(16, '\x03'));
  CHECK_FALSE(mfakit::decode_account(b.out));
  // the same bytes with status pending and a secret are fine
  bytes_builder ok;
  ok.u8('A').u8(1).u8(1).u8(0).u8(6).svarint(30).u8(0).varint(0).svarint(0).bytes("s").u8(1);
  ok.raw(std::string(16, '\x01')).varint(16).varint(1).varint(1).varint(1).raw(std::string(32, '\x02'));
  CHECK(mfakit::decode_account(ok.out));
  // a set of codes with a count of zero is not the canonical "no codes"
  bytes_builder zero;
  zero.u8('A').u8(1).u8(2).u8(0).u8(6).svarint(30).u8(0).varint(0).svarint(0).bytes("s").u8(1);
  zero.raw(std::string(16, '\x01')).varint(16).varint(1).varint(1).varint(0);
  CHECK_FALSE(mfakit::decode_account(zero.out));
}

TEST_CASE("an enabled record with ten codes and a sealed 64-byte SHA-512 secret stays under 512 bytes", "[records]") {
  std::array<unsigned char, 32> k{};
  k.fill(9);
  const auto box = mfakit::secret_box::aes_256_gcm(1, {mfakit::sealing_key(1, k)}).value();
  auto s = mfakit::secret::generate(64);
  REQUIRE(s);
  mfakit::openssl_random rng;
  auto sealed = box.seal("a-user-id-of-moderate-length@example.com", *s, rng);
  REQUIRE(sealed);
  CHECK(sealed->size() == 1 + 4 + 12 + 64 + 16);

  account_record r;
  r.status = account_status::enabled;
  r.sealed_secret = *sealed;
  r.alg = mfakit::algorithm::sha512;
  r.digits = 8;
  r.period = 30;
  r.last_step = 1'700'000'000 / 30;
  r.backup = digests(10, mfakit::backup_code_hasher::default_cost);
  const std::size_t typical = mfakit::encode(r).size();

  // every varint at its longest, a full offset history
  for (std::size_t i = 0; i < mfakit::offset_history::capacity; ++i) r.offsets.push(1);
  r.last_step = u64_max;
  r.failures = u32_max;
  r.last_failure = i64_min;
  r.period = i64_max;
  r.backup.cost = {1U << 21, 1, 16};  // the largest N within the memory cap
  const std::size_t worst = mfakit::encode(r).size();
  const std::size_t challenge = mfakit::encode(challenge_record{std::string(64, 'u'), 1'700'000'300, 5}).size();
  WARN(
      fmt::format("record sizes: enabled, 10 codes, SHA-512 secret: {} bytes (every varint at its longest: {}); "
                  "challenge for a 64-byte user id: {} bytes",
                  typical, worst, challenge));
  CHECK(typical < 512);
  CHECK(worst < 512);
}
