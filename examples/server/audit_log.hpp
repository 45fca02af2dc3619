// The demo server's log lines beside the access log: mfakit's audit events
// (the service's on_event hook) and the host's own (passwords, sessions),
// escaped (log.hpp), written by the batched writer once it is set.
#pragma once

#include <string>
#include <string_view>

#include <mfakit/events.hpp>

#include "http_server.hpp"
#include "log.hpp"

namespace mfakit_examples::demo {

/// Where the lines go from now on (nullptr: straight to stderr, before the writer starts and after it stops).
void set_log_writer(line_logger* writer) noexcept;

/// One line; `urgent` ones are flushed without waiting for the batch.
void log_line(std::string line, bool urgent = false);

/// An mfakit event: `audit event=code_rejected user=... via=totp reason=mismatch failures=1`.
void log_event(const mfakit::event& e);

/// A host event in the same shape: `auth event=password_rejected user=... peer=...`.
void log_auth(std::string_view event, std::string_view user, const web::peer* p = nullptr,
              std::string_view extra = {});

}  // namespace mfakit_examples::demo
