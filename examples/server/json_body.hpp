// A request body parsed as a JSON object (Boost.JSON) whose memory is all
// wiped when the object goes away: the parsed values live in a buffer inside
// this object (spilling to blocks that are wiped when freed), the parser's
// temporary stack too. A body holding a password, a code or a token so
// leaves no copy behind in freed memory. Fields are read as views into it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <new>
#include <string_view>

#include <boost/json.hpp>

#include <mfakit/crypto.hpp>

namespace mfakit_examples {

/// operator new / delete, wiping every block before it is freed. The size
/// is recorded in front of each block and the whole block wiped: callers may
/// pass deallocate() less than they allocated (Boost.JSON's
/// monotonic_resource gives back its blocks without their header).
class wiping_resource final : public boost::json::memory_resource {
  static std::size_t header(std::size_t align) noexcept { return std::max(align, alignof(std::max_align_t)); }
  void* do_allocate(std::size_t n, std::size_t align) override {
    const std::size_t h = header(align);
    auto* base = static_cast<unsigned char*>(::operator new(n + h, std::align_val_t(h)));
    std::memcpy(base + h - sizeof n, &n, sizeof n);
    return base + h;
  }
  void do_deallocate(void* p, std::size_t /*n: see above*/, std::size_t align) override {
    const std::size_t h = header(align);
    auto* base = static_cast<unsigned char*>(p) - h;
    std::size_t n = 0;
    std::memcpy(&n, base + h - sizeof n, sizeof n);
    mfakit::cleanse(base, n + h);
    ::operator delete(base, std::align_val_t(h));
  }
  [[nodiscard]] bool do_is_equal(const boost::json::memory_resource& o) const noexcept override { return this == &o; }
};

class json_body {
 public:
  /// A body that is empty, not JSON or not an object reads as {} (every
  /// field missing).
  explicit json_body(std::string_view text) {
    if (text.empty() || text.size() > 64 * 1024) return;
    boost::json::parse_options opt;
    opt.max_depth = 16;
    boost::json::error_code ec;
    {
      boost::json::parser p(boost::json::storage_ptr(&heap_), opt, scratch_.data(), scratch_.size());
      p.reset(boost::json::storage_ptr(&arena_));
      p.write(text.data(), text.size(), ec);
      if (!ec) value_ = p.release();
    }
    mfakit::cleanse(scratch_.data(), scratch_.size());
  }
  json_body(const json_body&) = delete;
  json_body& operator=(const json_body&) = delete;
  ~json_body() {
    value_ = nullptr;  // (the arena frees nothing until it goes)
  }

  [[nodiscard]] bool is_object() const noexcept { return value_.is_object(); }

  /// A string field; "" when missing or not a string.
  [[nodiscard]] std::string_view field(std::string_view name) const noexcept {
    if (!value_.is_object()) return {};
    const auto* v = value_.get_object().if_contains(boost::json::string_view(name.data(), name.size()));
    if (v == nullptr || !v->is_string()) return {};
    const auto& s = v->get_string();
    return {s.data(), s.size()};
  }

 private:
  // wipes itself when the arena lets go of its blocks (members go in reverse order)
  struct wiped_buffer {
    alignas(16) std::array<unsigned char, 2048> bytes{};
    wiped_buffer() = default;
    wiped_buffer(const wiped_buffer&) = delete;
    wiped_buffer& operator=(const wiped_buffer&) = delete;
    ~wiped_buffer() { mfakit::cleanse(bytes.data(), bytes.size()); }
  };

  wiping_resource heap_;
  wiped_buffer inline_;
  boost::json::monotonic_resource arena_{inline_.bytes.data(), inline_.bytes.size(), &heap_};
  std::array<unsigned char, 1024> scratch_{};
  boost::json::value value_ = boost::json::value(boost::json::storage_ptr(&arena_));  // last: destroyed first; moved into, never copied
};

}  // namespace mfakit_examples
