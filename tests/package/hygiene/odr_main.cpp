// Links the two all-header translation units and checks that what must be
// unique is unique (the error category is compared by address by
// std::error_code) and that both compute the same RFC vector.
#include <cstdio>

#include "odr_probe.hpp"

int main() {
  const odr_probe a = odr_probe_a();
  const odr_probe b = odr_probe_b();
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::fprintf(stderr, "FAILED: %s\n", what);
      ++failures;
    }
  };
  expect(a.category != nullptr && a.category == b.category, "one error_category object across TUs");
  expect(a.max_window != nullptr && a.max_window == b.max_window, "one mfakit::max_window across TUs");
  expect(a.code == "94287082", "TU a: RFC 6238 SHA-1 T=59");
  expect(b.code == "94287082", "TU b: RFC 6238 SHA-1 T=59");
  expect(!a.message.empty() && a.message == b.message, "same message in both TUs");
  expect(a.matches_enum && b.matches_enum, "error_code == errc in both TUs");
  if (failures == 0) std::puts("odr: ok");
  return failures == 0 ? 0 : 1;
}
