// The shipped store conformance suite: it passes on memory_store and, so it
// can be trusted with a host's adapter, it fails on stores that break the
// contract in each of the ways adapters typically do.
#include <mfakit/store.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <map>
#include <mutex>
#include <string>

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
