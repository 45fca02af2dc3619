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
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

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
/// The buffer is capped (max_bytes, default 4 MiB): while stderr is stalled
/// (a full pipe nobody reads) further lines are dropped and counted, and the
/// next write reports "log: dropped N lines". stop() waits a bounded time
/// for the writer; a writer still stuck in write(2) is left behind (its
/// state is shared, so that is safe) and stop() returns false: the caller
/// should then leave with _Exit (exit() would wait for stderr's lock).
class line_logger {
 public:
  explicit line_logger(std::size_t max_bytes = 4U << 20U)
      : st_(std::make_shared<state>(max_bytes)), thread_([st = st_] { run(*st); }) {}
  line_logger(const line_logger&) = delete;
  line_logger& operator=(const line_logger&) = delete;
  ~line_logger() { (void)stop(); }

  /// `line` must end with '\n'.
  void write(std::string_view line, bool urgent = false) {
    bool wake = urgent;
    {
      const std::lock_guard lock(st_->mutex);
      if (st_->stopped) return;  // late lines (after stop) are dropped: stderr may be stalled
      if (st_->buffer.size() + line.size() > st_->max_bytes) {
        ++st_->dropped;
        return;
      }
      st_->buffer += line;
      wake = wake || st_->buffer.size() > 64 * 1024;
    }
    if (wake) st_->cv.notify_one();
  }

  /// Lines dropped so far because the buffer was full.
  [[nodiscard]] std::uint64_t dropped() const {
    const std::lock_guard lock(st_->mutex);
    return st_->dropped_total;
  }

  /// Writes what is buffered and ends the thread, waiting at most `wait`
  /// (idempotent). false: stderr did not take it in time.
  bool stop(std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) {
    std::unique_lock lock(st_->mutex);
    if (!st_->stopped) {
      st_->stopped = true;
      st_->cv.notify_one();
    }
    if (!st_->done_cv.wait_for(lock, wait, [&] { return st_->exited; })) {
      lock.unlock();
      if (thread_.joinable()) thread_.detach();
      return false;
    }
    lock.unlock();
    if (thread_.joinable()) thread_.join();
    return true;
  }

 private:
  struct state {
    explicit state(std::size_t max) : max_bytes(max) {}
    std::size_t max_bytes;
    mutable std::mutex mutex;
    std::condition_variable cv;
    std::condition_variable done_cv;
    std::string buffer;
    std::uint64_t dropped = 0;  ///< since the last report
    std::uint64_t dropped_total = 0;
    bool stopped = false;
    bool exited = false;
  };

  static void run(state& st) {
    std::string out;
    std::unique_lock lock(st.mutex);
    for (;;) {
      st.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return st.stopped || !st.buffer.empty(); });
      // a short pause lets a burst of lines share one write
      out.swap(st.buffer);
      const std::uint64_t dropped = std::exchange(st.dropped, 0);
      st.dropped_total += dropped;
      const bool last = st.stopped;
      lock.unlock();
      if (dropped > 0) out += "log: dropped " + std::to_string(dropped) + " lines (stderr too slow)\n";
      if (!out.empty()) {
        std::fwrite(out.data(), 1, out.size(), stderr);
        std::fflush(stderr);
        out.clear();
      }
      if (last) {
        const std::lock_guard done(st.mutex);
        st.exited = true;
        st.done_cv.notify_all();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      lock.lock();
    }
  }

  std::shared_ptr<state> st_;
  std::thread thread_;  // last: starts once the state exists
};

}  // namespace mfakit_examples
