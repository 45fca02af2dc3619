// The setup endpoint's "qrCode": a PNG of the otpauth URI as a data: URI.
// libqrencode makes the symbol, libpng's simplified API writes the PNG to
// memory (no setjmp), OpenSSL's EVP_EncodeBlock does the base64. The URI
// carries the secret, so every intermediate buffer is wiped.
#pragma once

#include <png.h>
#include <qrencode.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mfakit_examples {

namespace detail {
struct wiped_buffer {
  std::vector<unsigned char> bytes;
  explicit wiped_buffer(std::size_t n) : bytes(n) {}
  wiped_buffer(const wiped_buffer&) = delete;
  wiped_buffer& operator=(const wiped_buffer&) = delete;
  ~wiped_buffer() {
    if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  }
};
}  // namespace detail

/// A QR code of `text` (error correction M, 4-module quiet zone) as
/// "data:image/png;base64,...", scaled by a whole number of pixels per module
/// to about `target_px` square. Empty on failure.
[[nodiscard]] inline std::string qr_png_data_uri(std::string_view text, int target_px = 300) {
  std::string input(text);
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                     &QRcode_free);
  OPENSSL_cleanse(input.data(), input.size());
  if (!qr || qr->width <= 0) return {};

  constexpr int quiet = 4;
  const int modules = qr->width + 2 * quiet;
  const int scale = target_px > modules ? (target_px + modules / 2) / modules : 1;
  const int size = modules * scale;
  const auto n = static_cast<std::size_t>(size);

  detail::wiped_buffer pixels(n * n);  // 8-bit gray, 255 = white
  for (auto& p : pixels.bytes) p = 255;
  for (int y = 0; y < qr->width; ++y) {
    for (int x = 0; x < qr->width; ++x) {
      const auto module =
          qr->data[static_cast<std::size_t>(y) * static_cast<std::size_t>(qr->width) + static_cast<std::size_t>(x)];
      if ((module & 1U) == 0) continue;
      for (int dy = 0; dy < scale; ++dy) {
        const auto row = static_cast<std::size_t>((y + quiet) * scale + dy) * n;
        for (int dx = 0; dx < scale; ++dx) pixels.bytes[row + static_cast<std::size_t>((x + quiet) * scale + dx)] = 0;
      }
    }
  }
  OPENSSL_cleanse(qr->data, static_cast<std::size_t>(qr->width) * static_cast<std::size_t>(qr->width));

  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(size);
  image.height = static_cast<png_uint_32>(size);
  image.format = PNG_FORMAT_GRAY;
  png_alloc_size_t png_size = 0;
  if (png_image_write_to_memory(&image, nullptr, &png_size, 0, pixels.bytes.data(), size, nullptr) == 0 ||
      png_size == 0) {
    png_image_free(&image);
    return {};
  }
  detail::wiped_buffer png(png_size);
  if (png_image_write_to_memory(&image, png.bytes.data(), &png_size, 0, pixels.bytes.data(), size, nullptr) == 0) {
    png_image_free(&image);
    return {};
  }
  png.bytes.resize(png_size);

  constexpr std::string_view prefix = "data:image/png;base64,";
  detail::wiped_buffer b64(4 * ((png_size + 2) / 3) + 1);
  const int written = EVP_EncodeBlock(b64.bytes.data(), png.bytes.data(), static_cast<int>(png_size));
  if (written <= 0) return {};
  std::string out;
  out.reserve(prefix.size() + static_cast<std::size_t>(written));
  out.append(prefix);
  out.append(reinterpret_cast<const char*>(b64.bytes.data()), static_cast<std::size_t>(written));  // NOLINT
  return out;
}

}  // namespace mfakit_examples
