// The shipped store conformance suite: it passes on memory_store and, so it
// can be trusted with a host's adapter, it fails on stores that break the
// contract in each of the ways adapters typically do.
#include <mfakit/store.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"

namespace {

// Writes whatever the version says: the classic "read, then UPDATE without
// a version check" adapter.
class last_writer_wins_store {
 public:
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return inner_.load(key); }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t /*expected*/,
                                        const std::optional<std::string>& next) {
    for (;;) {
      auto cur = inner_.load(key);
      const std::uint64_t v = *cur ? (**cur).version : 0;
      auto r = inner_.compare_and_swap(key, v, next);
      if (!r || *r) return r;
    }
  }

 private:
  mfakit::memory_store inner_;
};

// Versions restart at 1 after a delete ("version + 1" adapters): ABA.
class restarting_version_store {
 public:
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) {
    const std::lock_guard lock(m_);
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::optional<mfakit::stored_record>{};
    return std::optional<mfakit::stored_record>{it->second};
  }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    const std::lock_guard lock(m_);
    auto it = data_.find(std::string(key));
    const std::uint64_t v = it == data_.end() ? 0 : it->second.version;
    if (v != expected) return false;
    if (!next) {
      if (it != data_.end()) data_.erase(it);
      return true;
    }
    data_[std::string(key)] = mfakit::stored_record{*next, v + 1};
    return true;
  }

 private:
  std::mutex m_;
  std::map<std::string, mfakit::stored_record> data_;
};

// Checks the version but not atomically with the write.
class racy_check_then_write_store {
 public:
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return inner_.load(key); }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    auto cur = inner_.load(key);
    const std::uint64_t v = *cur ? (**cur).version : 0;
    if (v != expected) return false;
    std::this_thread::yield();  // the window every non-atomic adapter has
    for (;;) {                  // then write unconditionally
      auto now = inner_.load(key);
      auto r = inner_.compare_and_swap(key, *now ? (**now).version : 0, next);
      if (!r || *r) return r;
    }
  }

 private:
  mfakit::memory_store inner_;
};

// Right for every key but those under `blind`, where it writes whatever the
// version says (an adapter with a separate, unchecked path for one table).
class blind_under_store {
 public:
  explicit blind_under_store(std::string blind) : blind_(std::move(blind)) {}
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view key) { return inner_.load(key); }
  mfakit::result<bool> compare_and_swap(std::string_view key, std::uint64_t expected,
                                        const std::optional<std::string>& next) {
    if (key.substr(0, blind_.size()) != blind_) return inner_.compare_and_swap(key, expected, next);
    std::this_thread::yield();  // the window of the read-then-write
    for (;;) {
      auto now = inner_.load(key);
      auto r = inner_.compare_and_swap(key, *now ? (**now).version : 0, next);
      if (!r || *r) return r;
    }
  }

 private:
  std::string blind_;
  mfakit::memory_store inner_;
};

bool has(const std::vector<std::string>& lines, std::string_view part) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

}  // namespace

static_assert(mfakit::record_store<mfakit::memory_store>);
static_assert(mfakit::record_store<last_writer_wins_store>);
static_assert(!mfakit::record_store<int>);
struct load_only {
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view);
};
static_assert(mfakit::record_store_load<load_only> && !mfakit::record_store<load_only>);
struct wrong_cas_signature {
  mfakit::result<std::optional<mfakit::stored_record>> load(std::string_view);
  bool compare_and_swap(std::string_view, std::uint64_t, const std::optional<std::string>&);  // not a result<bool>
};
static_assert(!mfakit::record_store<wrong_cas_signature>);

TEST_CASE("store conformance: memory_store passes every check, concurrently", "[conformance][store]") {
  mfakit::memory_store store;
  const auto report = mfakit::testing::run_store_conformance(store);
  for (const auto& f : report.failures) FAIL_CHECK(f);  // each failure with its message
  CHECK(report.checks >= 25);
  CHECK(report.ok());
}

TEST_CASE("store conformance: a store without version checks fails", "[conformance][store]") {
  last_writer_wins_store store;
  const auto report = mfakit::testing::run_store_conformance(store, {"x/", 64, 1});
  CHECK_FALSE(report.ok());
}

TEST_CASE("store conformance: versions that restart after a delete fail (ABA)", "[conformance][store]") {
  restarting_version_store store;
  const auto report = mfakit::testing::run_store_conformance(store, {"x/", 8, 1});
  REQUIRE_FALSE(report.ok());
  bool aba = false;
  for (const auto& f : report.failures) aba = aba || f.find("never reuses an old version") != std::string::npos;
  CHECK(aba);
}

TEST_CASE("store conformance: a check-then-write store fails", "[conformance][store]") {
  racy_check_then_write_store store;
  const auto report = mfakit::testing::run_store_conformance(store, {"x/", 64, 2});
  CHECK_FALSE(report.ok());
}

TEST_CASE("store conformance: the passkey checks run through both loops, with and without faults", "[conformance][store][passkey]") {
  mfakit::memory_store store;
  mfakit::testing::conformance_options o;
  o.threads = 16;
  o.trials = 1;
  const auto report = mfakit::testing::run_store_conformance(store, o);
  for (const auto& f : report.failures) FAIL_CHECK(f);
  std::size_t lines = 0;
  for (const auto& l : report.answers) lines += l.find("passkey assertion") != std::string::npos ||
                                                l.find("one counter value") != std::string::npos ||
                                                l.find("one credential id") != std::string::npos;
  CHECK(lines == 3 * 3 * 2);  // three checks, three fault modes, two loops
  for (const char* mode : {"[service, trial 0] ", "[async_service, trial 0, lost races", "landed writes lose their answer"})
    CHECK(has(report.answers, mode));
  o.passkeys = false;
  mfakit::memory_store fresh;  // (the raw checks want their keys absent)
  const auto without = mfakit::testing::run_store_conformance(fresh, o);
  CHECK(without.ok());
  CHECK(without.checks < report.checks);
}

TEST_CASE("store conformance: a store that writes ceremonies without a version check fails", "[conformance][store][passkey]") {
  blind_under_store store("mfakit/ceremony/");
  mfakit::testing::conformance_options o;
  o.erroring_stores = false;
  o.both_loops = false;
  const auto report = mfakit::testing::run_store_conformance(store, o);
  REQUIRE_FALSE(report.ok());
  CHECK(has(report.failures, "broken rule: at most one login per ceremony"));
}

TEST_CASE("store conformance: a store that writes passkey sets without a version check fails", "[conformance][store][passkey]") {
  blind_under_store store("mfakit/passkeys/");
  mfakit::testing::conformance_options o;
  o.erroring_stores = false;
  o.both_loops = false;
  o.trials = 4;  // two of 64 logins loading the set before the first write: a race, each trial another chance
  const auto report = mfakit::testing::run_store_conformance(store, o);
  REQUIRE_FALSE(report.ok());
  CHECK(has(report.failures, "broken rule: no two accepted assertions with one counter value"));
}

TEST_CASE("store conformance: a store that creates credential-id index records without a version check fails", "[conformance][store][passkey]") {
  blind_under_store store("mfakit/passkey-id/");
  mfakit::testing::conformance_options o;
  o.erroring_stores = false;
  o.both_loops = false;
  o.trials = 4;
  const auto report = mfakit::testing::run_store_conformance(store, o);
  REQUIRE_FALSE(report.ok());
  CHECK(has(report.failures, "registering one credential id"));
}
