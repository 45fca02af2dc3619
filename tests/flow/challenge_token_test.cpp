// flow::well_formed_token (challenge_transitions.hpp) against the plain
// definition: exactly 64 characters, each 0-9 or a-f. The library ORs a mask
// over every character, with no early exit, so that its time does not show
// which characters a token has (tests/ct well_formed_token); this says that
// it still accepts exactly the same strings.
#include <mfakit/challenge_transitions.hpp>

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

#include "catch.hpp"

namespace {

bool ref_well_formed(std::string_view token) {
  if (token.size() != 64) return false;
  for (char c : token)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool same_as_reference(std::string_view token) {
  const bool got = mfakit::flow::well_formed_token(token);
  if (got == ref_well_formed(token)) return true;
  FAIL_CHECK("well_formed_token(" << std::string(token) << ") = " << got << ", reference " << !got);
  return false;
}

const std::string_view hex = "0123456789abcdef";

std::string random_token(std::mt19937_64& rng) {
  std::string t(64, '0');
  for (auto& c : t) c = hex[rng() % 16];
  return t;
}

}  // namespace

TEST_CASE("the token length is 64", "[flow][challenge]") { STATIC_REQUIRE(mfakit::flow::challenge_token_chars == 64); }

TEST_CASE("well_formed_token: every byte value at every position of a well-formed token", "[flow][challenge]") {
  std::mt19937_64 rng(0x746f6b656e000001ULL);
  bool ok = true;
  for (int round = 0; round < 4 && ok; ++round) {
    const std::string base = round == 0 ? std::string(64, '0') : round == 1 ? std::string(64, 'f') : random_token(rng);
    REQUIRE(mfakit::flow::well_formed_token(base));
    for (std::size_t pos = 0; pos < base.size() && ok; ++pos) {
      std::string t = base;
      for (int v = 0; v < 256 && ok; ++v) {
        t[pos] = static_cast<char>(v);
        ok = same_as_reference(t);
      }
    }
  }
  CHECK(ok);
  // accepted characters: exactly the 16 lowercase hex digits
  int accepted = 0;
  std::string t(64, 'a');
  for (int v = 0; v < 256; ++v) {
    t[17] = static_cast<char>(v);
    accepted += mfakit::flow::well_formed_token(t) ? 1 : 0;
  }
  CHECK(accepted == 16);
}

TEST_CASE("well_formed_token: lengths other than 64 are refused", "[flow][challenge]") {
  bool ok = true;
  for (std::size_t len = 0; len <= 130 && ok; ++len) ok = same_as_reference(std::string(len, 'a'));
  CHECK(ok);
  CHECK_FALSE(mfakit::flow::well_formed_token(std::string(63, '0')));
  CHECK_FALSE(mfakit::flow::well_formed_token(std::string(65, '0')));
  CHECK_FALSE(mfakit::flow::well_formed_token(std::string(64, 'A')));
  const std::string with_nul("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\0", 64);
  CHECK_FALSE(mfakit::flow::well_formed_token(with_nul));
}

TEST_CASE("well_formed_token equals the reference on random strings", "[flow][challenge][property]") {
  std::mt19937_64 rng(0x746f6b656e000002ULL);
  const std::string_view near = "0123456789abcdefABCDEFg/:`@G \xff";  // hex and its neighbours
  std::size_t accepted = 0;
  bool ok = true;
  for (int i = 0; i < 100000 && ok; ++i) {
    std::string t(rng() % 8 == 0 ? rng() % 80 : 64, '0');
    const auto mode = rng() % 4;  // 0: any bytes; 1: hex only; 2, 3: mostly hex, a few neighbours
    for (auto& c : t) {
      const auto r = rng();
      if (mode == 0) {
        c = static_cast<char>(r & 0xFFU);
      } else if (mode == 1 || (r >> 8U) % 64 != 0) {
        c = hex[(r >> 16U) % 16];
      } else {
        c = near[(r >> 16U) % near.size()];
      }
    }
    ok = same_as_reference(t);
    accepted += mfakit::flow::well_formed_token(t) ? 1 : 0;
  }
  CHECK(ok);
  CHECK(accepted > 20000);
}
