// Client addresses as the limits count them:
//  - an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack [::]
//    listener reports for an IPv4 client) is that IPv4 address, for peers,
//    --trusted-proxy entries and X-Forwarded-For entries alike;
//  - address_key: one IPv4 address, or one IPv6 /64 (what a single IPv6
//    client is given: counting its 2^64 addresses apart would be no limit);
//  - network_key: an IPv4 /24 or an IPv6 /64, the fair-share unit of the
//    KDF pool.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

namespace mfakit_examples::web {

[[nodiscard]] inline boost::asio::ip::address unmapped(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  return a;
}

/// The text of an address, unmapped; the input unchanged when it is no address.
[[nodiscard]] inline std::string unmapped_text(std::string_view text) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(text), ec);
  return ec ? std::string(text) : unmapped(a).to_string();
}

namespace detail {
[[nodiscard]] inline std::string prefix_text(const boost::asio::ip::address& a, unsigned v4_bits, unsigned v6_bits) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    for (unsigned i = 0; i < 4; ++i) {
      const unsigned keep = v4_bits > 8 * i ? std::min(8U, v4_bits - 8 * i) : 0;
      b[i] = static_cast<unsigned char>(b[i] & static_cast<unsigned char>(0xFF00U >> keep));
    }
    std::string s = boost::asio::ip::make_address_v4(b).to_string();
    return v4_bits >= 32 ? s : s + "/" + std::to_string(v4_bits);
  }
  auto b = a.to_v6().to_bytes();
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = v6_bits > 8 * i ? std::min(8U, v6_bits - 8 * i) : 0;
    b[i] = static_cast<unsigned char>(b[i] & static_cast<unsigned char>(0xFF00U >> keep));
  }
  return boost::asio::ip::make_address_v6(b).to_string() + "/" + std::to_string(v6_bits);
}
}  // namespace detail

/// One IPv4 address or one IPv6 /64 (text that is no address: itself).
[[nodiscard]] inline std::string address_key(std::string_view text) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::string(text);
  return detail::prefix_text(unmapped(a), 32, 64);
}

/// An IPv4 /24 or an IPv6 /64 (text that is no address: itself).
[[nodiscard]] inline std::string network_key(std::string_view text) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(text), ec);
  if (ec) return std::string(text);
  return detail::prefix_text(unmapped(a), 24, 64);
}

}  // namespace mfakit_examples::web
