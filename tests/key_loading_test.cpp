// Sealing keys from hex, base64, bytes and files (key_loading.hpp), and the
// sealing_key constructors: what each accepts, what each refuses and that a
// refusal's message never holds a byte of the key.
#include <mfakit/key_loading.hpp>
#include <mfakit/seal.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "catch.hpp"
#include "core_test_support.hpp"

namespace {

using mfakit::key_error;

// 32 bytes 0x00, 0x11, ..., and their encodings (as `openssl rand -hex 32` and
// `openssl rand -base64 32` would print them)
std::array<unsigned char, 32> expected_key() {
  std::array<unsigned char, 32> k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>((i * 0x11 + 0x0F) & 0xFF);
  return k;
}
const std::string hex_text = mfakit_test::to_hex(expected_key());
// base64 of expected_key(), computed by an independent encoder below
std::string base64(std::span<const unsigned char> in, bool url = false, bool pad = true) {
  const std::string_view std_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string_view url_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::string_view a = url ? url_alphabet : std_alphabet;
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (unsigned{in[i]} << 16U) | (unsigned{in[i + 1]} << 8U) | in[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(a[(v >> static_cast<unsigned>(s)) & 63U]);
  }
  if (in.size() - i == 2) {
    const unsigned v = (unsigned{in[i]} << 16U) | (unsigned{in[i + 1]} << 8U);
    out.push_back(a[(v >> 18U) & 63U]);
    out.push_back(a[(v >> 12U) & 63U]);
    out.push_back(a[(v >> 6U) & 63U]);
    if (pad) out.push_back('=');
  }
  return out;
}

void check_key(const mfakit::result<mfakit::sealing_key>& k, std::uint32_t id = 1) {
  REQUIRE(k);
  CHECK(k->id == id);
  CHECK(k->bytes == expected_key());
}

/// A refusal's message names the problem, never the key's characters.
void check_refusal(const mfakit::result<mfakit::sealing_key>& k, key_error want, std::string_view key_text) {
  REQUIRE_FALSE(k);
  CHECK(k.error() == want);
  CHECK(k.error().category().name() == std::string("mfakit.key"));
  const std::string msg = k.error().message();
  CHECK(msg.find("sealing key") != std::string::npos);
  for (std::size_t i = 0; i + 8 <= key_text.size(); ++i) CHECK(msg.find(key_text.substr(i, 8)) == std::string::npos);
}

struct temp_file {
  std::filesystem::path path;
  temp_file(std::string_view content, unsigned mode) {
    path = std::filesystem::temp_directory_path() /
           ("mfakit_key_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    {
      std::ofstream out(path, std::ios::binary);
      out << content;
    }
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace

TEST_CASE("a key from hex", "[key_loading]") {
  check_key(mfakit::sealing_key_from_hex(hex_text));
  check_key(mfakit::sealing_key_from_hex(hex_text + "\n"));  // `openssl rand -hex 32 > key`
  check_key(mfakit::sealing_key_from_hex("  " + hex_text + "\r\n"));
  std::string upper = hex_text;
  for (char& c : upper)
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  check_key(mfakit::sealing_key_from_hex(upper, 9), 9);

  check_refusal(mfakit::sealing_key_from_hex(hex_text.substr(1)), key_error::wrong_length, hex_text);
  check_refusal(mfakit::sealing_key_from_hex(hex_text + "0"), key_error::wrong_length, hex_text);
  check_refusal(mfakit::sealing_key_from_hex(""), key_error::wrong_length, hex_text);
  for (char bad : {'g', 'G', 'x', ' ', '/', ':', '@', '`', '\0', '\xff'}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{31}, std::size_t{62}}) {
      std::string t = hex_text;
      t[at] = bad;
      if (at == 0 && bad == ' ') continue;  // leading space: trimmed, then too short
      INFO("character " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << at);
      check_refusal(mfakit::sealing_key_from_hex(t), key_error::not_hex, hex_text);
    }
  }
  check_refusal(mfakit::sealing_key_from_hex(std::string(64, '0')), key_error::all_zero, "");
}

TEST_CASE("a key from base64", "[key_loading]") {
  const std::string b64 = base64(expected_key());
  REQUIRE(b64.size() == 44);
  check_key(mfakit::sealing_key_from_base64(b64));
  check_key(mfakit::sealing_key_from_base64(b64 + "\n"));
  check_key(mfakit::sealing_key_from_base64(base64(expected_key(), false, false)));  // unpadded
  check_key(mfakit::sealing_key_from_base64(base64(expected_key(), true, false), 3), 3);  // URL-safe
  // every byte value in every position decodes (keys other than the one above)
  for (unsigned seed = 0; seed < 256; ++seed) {
    std::array<unsigned char, 32> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>((seed + i * 97U) & 0xFFU);
    if (seed == 0) k[0] = 1;
    for (bool url : {false, true}) {
      auto got = mfakit::sealing_key_from_base64(base64(k, url));
      REQUIRE(got);
      CHECK(got->bytes == k);
    }
  }

  check_refusal(mfakit::sealing_key_from_base64(b64.substr(0, 42)), key_error::wrong_length, b64);
  check_refusal(mfakit::sealing_key_from_base64(b64 + "=="), key_error::wrong_length, b64);
  check_refusal(mfakit::sealing_key_from_base64(base64(std::vector<unsigned char>(33, 1))), key_error::wrong_length,
                b64);
  for (char bad : {'*', '.', '=', '!', '\0', '\x80'}) {
    std::string t = b64;
    t[10] = bad;
    check_refusal(mfakit::sealing_key_from_base64(t), key_error::not_base64, b64);
  }
  // the last character carries 4 bits and 2 that must be zero: one encoding per key
  std::string noncanonical = b64;
  noncanonical[42] = static_cast<char>(noncanonical[42] + 1);
  check_refusal(mfakit::sealing_key_from_base64(noncanonical), key_error::not_base64, b64);
  std::string zero_key(44, 'A');  // (not std::string(43, 'A') + "=": g++ 12's false -Warray-bounds, GCC bug 105651)
  zero_key[43] = '=';
  check_refusal(mfakit::sealing_key_from_base64(zero_key), key_error::all_zero, "");
}

TEST_CASE("a key from any contiguous 32 bytes", "[key_loading]") {
  const auto k = expected_key();
  const std::vector<std::uint8_t> v(k.begin(), k.end());
  check_key(mfakit::sealing_key_from_bytes(v));
  check_key(mfakit::sealing_key_from_bytes(std::span<const unsigned char>(v), 4), 4);
  std::array<std::byte, 32> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>(k[i]);
  check_key(mfakit::sealing_key_from_bytes(b));
  check_refusal(mfakit::sealing_key_from_bytes(std::vector<std::uint8_t>(31, 1)), key_error::wrong_length, "");
  check_refusal(mfakit::sealing_key_from_bytes(std::vector<std::uint8_t>(64, 1)), key_error::wrong_length, "");
  check_refusal(mfakit::sealing_key_from_bytes(std::vector<std::uint8_t>(32, 0)), key_error::all_zero, "");
}

TEST_CASE("sealing_key takes a std::vector or a span of 32 bytes, and says so otherwise", "[key_loading]") {
  const auto k = expected_key();
  const std::vector<std::uint8_t> v(k.begin(), k.end());
  CHECK(mfakit::sealing_key(2, v).bytes == k);
  CHECK(mfakit::sealing_key(2, std::span<const std::uint8_t>(v)).bytes == k);
  CHECK(mfakit::sealing_key(2, std::span<const unsigned char, 32>(k)).bytes == k);
  CHECK(mfakit::sealing_key(2, k).bytes == k);
  try {
    (void)mfakit::sealing_key(2, std::vector<std::uint8_t>(16, 7));
    FAIL("a 16-byte key was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "mfakit: a sealing key is 32 bytes, not 16");
  }
  // and a box takes the key so made
  auto box = mfakit::secret_box::aes_256_gcm(2, {mfakit::sealing_key(2, v)});
  CHECK(box);
}

TEST_CASE("a key from a file", "[key_loading]") {
  SECTION("hex or base64 text, mode 600 or 400") {
    const temp_file hex_file(hex_text + "\n", 0600);
    check_key(mfakit::sealing_key_from_file(hex_file.path));
    const temp_file b64_file(base64(expected_key()) + "\n", 0400);
    check_key(mfakit::sealing_key_from_file(b64_file.path, 5), 5);
  }
  SECTION("the path as a std::filesystem::path, a std::string, a std::string_view or a C string") {
    const temp_file f(hex_text + "\n", 0600);
    const std::string text = f.path.string();
    check_key(mfakit::sealing_key_from_file(f.path));
    check_key(mfakit::sealing_key_from_file(text));
    check_key(mfakit::sealing_key_from_file(std::string_view(text)));
    check_key(mfakit::sealing_key_from_file(text.c_str()));
    // a path with a NUL inside names no file (not the part before the NUL)
    check_refusal(mfakit::sealing_key_from_file(text + std::string(1, '\0') + "x"), key_error::file_unreadable,
                  hex_text);
  }
  SECTION("refused when its group or others have any access") {
    for (unsigned mode : {0640U, 0604U, 0644U, 0620U, 0602U, 0610U, 0601U, 0666U}) {
      INFO("mode " << std::oct << mode);
      const temp_file f(hex_text, mode);
      check_refusal(mfakit::sealing_key_from_file(f.path), key_error::file_shared, hex_text);
      CHECK(mfakit::sealing_key_from_file(f.path).error().message().find("chmod 600") != std::string::npos);
    }
  }
  SECTION("missing, a directory, too large, not a key") {
    check_refusal(mfakit::sealing_key_from_file("/nonexistent/mfakit/key"), key_error::file_unreadable, hex_text);
    const auto dir = std::filesystem::temp_directory_path() / ("mfakit_key_dir_" + std::to_string(::getpid()));
    std::filesystem::create_directory(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    check_refusal(mfakit::sealing_key_from_file(dir), key_error::file_not_regular, hex_text);
    std::filesystem::remove(dir);
    const temp_file large(std::string(5000, 'a'), 0600);
    check_refusal(mfakit::sealing_key_from_file(large.path), key_error::file_too_large, hex_text);
    const temp_file short_key(hex_text.substr(0, 32) + "\n", 0600);  // 16 bytes of hex: not a 32-byte key
    check_refusal(mfakit::sealing_key_from_file(short_key.path), key_error::wrong_length, hex_text);
    std::string bad = hex_text;
    bad[5] = 'z';
    const temp_file not_hex(bad, 0600);
    check_refusal(mfakit::sealing_key_from_file(not_hex.path), key_error::not_hex, hex_text);
    const auto raw = expected_key();  // raw bytes are not a key file: text only
    const temp_file binary(std::string(reinterpret_cast<const char*>(raw.data()), raw.size()), 0600);  // NOLINT
    CHECK_FALSE(mfakit::sealing_key_from_file(binary.path));
  }
}

TEST_CASE("key errors are error codes with their own category", "[key_loading]") {
  const std::error_code ec = key_error::file_shared;
  CHECK(ec.category() == mfakit::key_error_category());
  CHECK(ec != mfakit::errc::invalid_argument);
  for (int v = 1; v <= 8; ++v) CHECK(mfakit::key_error_category().message(v).find("sealing key") != std::string::npos);
  CHECK(mfakit::key_error_category().message(99) == "unknown sealing key error");
}
