// Must NOT compile: each case uses the library with a type that misses one
// requirement, and the compiler's message must name the concept (CTest
// checks it), so a host sees which requirement its adapter lacks.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <mfakit/async.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/archetypes.hpp>

namespace {
struct store_without_cas {
  mfakit::load_answer load(std::string_view);
};
struct clock_without_now {};
struct random_without_fill {};
}  // namespace

#if defined(MFAKIT_CASE_service_store)
using bad = mfakit::service<store_without_cas>;
#elif defined(MFAKIT_CASE_service_clock)
using bad = mfakit::service<mfakit::memory_store, clock_without_now>;
#elif defined(MFAKIT_CASE_service_random)
using bad = mfakit::service<mfakit::memory_store, mfakit::system_clock_source, random_without_fill>;
#elif defined(MFAKIT_CASE_async_service_sync_store)
using bad = mfakit::async_service<mfakit::memory_store>;
#else
#error "define one MFAKIT_CASE_..."
#endif
bad* instance = nullptr;
