// The demo server's audit and host event lines (audit_log.hpp).
#include "audit_log.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <utility>

#include <fmt/format.h>

namespace mfakit_examples::demo {
namespace {
std::atomic<line_logger*> g_log{nullptr};
}  // namespace

void set_log_writer(line_logger* writer) noexcept { g_log.store(writer); }

void log_line(std::string line, bool urgent) {
  line.push_back('\n');
  if (line_logger* log = g_log.load(); log != nullptr) {
    log->write(line, urgent);
  } else {
    std::fputs(line.c_str(), stderr);
  }
}

void log_event(const mfakit::event& e) {
  std::string line = fmt::format("audit event={} user=", mfakit::to_string(e.kind));
  mfakit_examples::append_log_escaped(line, e.user);
  line += fmt::format(" at={}", e.at);
  switch (e.kind) {
    case mfakit::event_kind::code_rejected:
    case mfakit::event_kind::code_replayed:
    case mfakit::event_kind::code_accepted:
    case mfakit::event_kind::backup_code_used: {
      line += fmt::format(" via={}", e.via == mfakit::factor::totp ? "totp" : "backup_code");
      constexpr std::array<std::string_view, 4> reasons{"none", "mismatch", "replayed", "malformed"};
      if (e.reason != mfakit::reject_reason::none)
        line += fmt::format(" reason={}", reasons.at(static_cast<std::size_t>(e.reason)));
      break;
    }
    default: break;
  }
  if (e.failures != 0) line += fmt::format(" failures={}", e.failures);
  if (e.retry_after != 0) line += fmt::format(" retry_after={}", e.retry_after);
  if (e.kind == mfakit::event_kind::clock_drift) line += fmt::format(" drift={}", mfakit::to_string(e.drift));
  if (e.kind == mfakit::event_kind::enabled || e.kind == mfakit::event_kind::backup_code_used ||
      e.kind == mfakit::event_kind::backup_codes_regenerated)
    line += fmt::format(" backup_codes_remaining={}", e.backup_codes_remaining);
  log_line(std::move(line), true);
}

void log_auth(std::string_view event, std::string_view user, const web::peer* p, std::string_view extra) {
  std::string line = "auth event=";
  line += event;
  line += " user=";
  mfakit_examples::append_log_escaped(line, user);
  if (p != nullptr) {
    line += " peer=";
    mfakit_examples::append_log_escaped(line, p->address, 64);
  }
  if (!extra.empty()) {
    line.push_back(' ');
    line += extra;
  }
  log_line(std::move(line), true);
}

}  // namespace mfakit_examples::demo
