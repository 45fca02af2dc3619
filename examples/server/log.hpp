// Log lines for the demo server: everything a client controls is escaped
// before it reaches a line, and lines are written by one background thread in
// batches, so a request costs an append under a mutex, not a write(2).
//
// Escaping (log_escape): bytes outside printable ASCII, the space, '"', '\\',
// and '=' become \xHH. A request path with %0A in it is logged as sent (not
// percent-decoded), and a raw CR, LF or space in any logged field cannot end
// the line or start a forged `audit event=...` field.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace mfakit_examples {

/// Appends `s` to `out`, escaped for a one-line, space-separated log record.
inline void append_log_escaped(std::string& out, std::string_view s, std::size_t max_bytes = 256) {
  constexpr std::string_view hex = "0123456789abcdef";
  const bool cut = s.size() > max_bytes;
  if (cut) s = s.substr(0, max_bytes);
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '=') {
      out += "\\x";
      out.push_back(hex[u >> 4U]);
      out.push_back(hex[u & 0xFU]);
    } else {
      out.push_back(c);
    }
  }
  if (cut) out += "...";
}

[[nodiscard]] inline std::string log_escape(std::string_view s, std::size_t max_bytes = 256) {
  std::string out;
  out.reserve(s.size() + 8);
  append_log_escaped(out, s, max_bytes);
  return out;
}

/// Lines go to a buffer; a thread writes it to stderr every 50 ms, at once
/// when urgent (audit events) or when it grows past 64 KiB, and on stop().
class line_logger {
 public:
  line_logger() : thread_([this] { run(); }) {}
  line_logger(const line_logger&) = delete;
  line_logger& operator=(const line_logger&) = delete;
  ~line_logger() { stop(); }

  /// `line` must end with '\n'.
  void write(std::string_view line, bool urgent = false) {
    bool wake = urgent;
    {
      const std::lock_guard lock(mutex_);
      if (stopped_) {  // late lines (after stop) go out directly
        std::fwrite(line.data(), 1, line.size(), stderr);
        return;
      }
      buffer_ += line;
      wake = wake || buffer_.size() > 64 * 1024;
    }
    if (wake) cv_.notify_one();
  }

  /// Writes what is buffered and ends the thread (idempotent).
  void stop() {
    {
      const std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::string out;
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopped_ || buffer_.size() > 0; });
      // a short pause lets a burst of lines share one write
      out.swap(buffer_);
      const bool last = stopped_;
      lock.unlock();
      if (!out.empty()) {
        std::fwrite(out.data(), 1, out.size(), stderr);
        std::fflush(stderr);
        out.clear();
      }
      if (last) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::string buffer_;
  bool stopped_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace mfakit_examples
