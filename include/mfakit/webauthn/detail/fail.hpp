// The one way a verifier step refuses: the coarse code for the caller's
// result, the step for the caller's log (internal).
#pragma once

#include <system_error>

#include "mfakit/errors.hpp"
#include "mfakit/webauthn/check.hpp"

namespace mfakit::webauthn::detail {

[[nodiscard]] inline std::error_code fail(check* failed, check step, errc code) noexcept {
  if (failed != nullptr) *failed = step;
  return make_error_code(code);
}
[[nodiscard]] inline std::error_code fail(check* failed, check step, std::error_code code) noexcept {
  if (failed != nullptr) *failed = step;
  return code;
}

}  // namespace mfakit::webauthn::detail
