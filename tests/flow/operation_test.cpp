// The operations driven by hand, as a host's own loop would: what each asks
// of the store, in order, and that an operation may be moved between calls
// (a host's loop may keep it in a container that reallocates).
#include <mfakit/operation.hpp>
#include <mfakit/service.hpp>
#include <mfakit/testing/store_conformance.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"

namespace {
namespace mt = mfakit::testing;
using ctx_t = mfakit::operation_context<mt::manual_clock, mfakit::openssl_random>;

struct world {
  mfakit::memory_store store;
  mt::manual_clock clock;
  mfakit::flow_config cfg = mt::detail::conformance_config();
  mfakit::openssl_random rng;
  mfakit::detail::write_id_pool ids;
  ctx_t ctx() { return ctx_t{&cfg, &clock, &rng, &ids}; }
};

/// One step of the operation; returns what was asked ("load <key>" / "cas <key>" / "compute").
template <class Op>
std::string step(mfakit::memory_store& store, Op& op) {
  if (op.wants() == mfakit::next_step::compute) {
    op.compute();
    return "compute";
  }
  if (op.wants() == mfakit::next_step::load) {
    std::string what = "load " + std::string(op.key());
    op.on_load(store.load(op.key()));
    return what;
  }
  std::string what = "cas " + std::string(op.key());
  op.on_swap(store.compare_and_swap(op.key(), op.expected_version(), op.next_bytes()));
  return what;
}
}  // namespace

TEST_CASE("complete_login asks for its store calls in the documented order", "[operation]") {
  world w;
  mfakit::service<mfakit::memory_store, mt::manual_clock> svc(w.store, w.cfg, w.clock);
  auto s = svc.setup("ann", "ann@example.com");
  REQUIRE(s);
  auto code = [&] { return mfakit::totp(s->key.bytes(), w.clock.unix_time())->to_string(); };
  REQUIRE(svc.enable("ann", code()));
  w.clock.advance(30);
  auto c = svc.begin_login("ann");
  REQUIRE(c);

  const std::string now_code = code();  // an operation views its inputs: they outlive it
  mfakit::complete_login_operation<ctx_t> op(w.ctx(), c->token, now_code, mfakit::factor::totp);
  std::vector<std::string> asked;
  while (op.wants() != mfakit::next_step::done) asked.push_back(step(w.store, op));
  auto r = op.finish();
  REQUIRE(r);
  CHECK(r->user == "ann");
  const std::string account = "mfakit/account/616e6e";
  REQUIRE(asked.size() == 6);
  CHECK(asked[0].rfind("load mfakit/challenge/", 0) == 0);
  CHECK(asked[1] == "load " + account);
  CHECK(asked[2].rfind("cas mfakit/challenge/", 0) == 0);  // one attempt spent before the code is looked at
  CHECK(asked[3] == "cas " + account);                     // the decisive write
  CHECK(asked[4].rfind("load mfakit/challenge/", 0) == 0);
  CHECK(asked[5].rfind("cas mfakit/challenge/", 0) == 0);  // deleted: single use
}

TEST_CASE("an operation moved in the middle of its verify step still verifies its own user", "[operation]") {
  // Found in review: the embedded verify viewed the user id inside the
  // complete_login operation, so a move after the attempt was spent left it
  // reading freed memory (ASan: heap-use-after-free; the login could name
  // whatever bytes were there).
  world w;
  mfakit::service<mfakit::memory_store, mt::manual_clock> svc(w.store, w.cfg, w.clock);
  auto s = svc.setup("ann", "ann@example.com");
  REQUIRE(s);
  auto enabled = svc.enable("ann", mfakit::totp(s->key.bytes(), w.clock.unix_time())->to_string());
  REQUIRE(enabled);
  w.clock.advance(30);
  auto c = svc.begin_login("ann");
  REQUIRE(c);

  auto first = std::make_unique<mfakit::complete_login_operation<ctx_t>>(
      w.ctx(), c->token, enabled->backup_codes[0].str(), mfakit::factor::backup_code);
  for (int i = 0; i < 4; ++i) step(w.store, *first);  // challenge, account, attempt spent, the code's KDF
  REQUIRE(first->wants() == mfakit::next_step::compare_and_swap);
  // another request writes the account first, so the moved operation decides again
  REQUIRE(svc.verify("ann", enabled->backup_codes[1].str(), mfakit::factor::backup_code));
  auto moved = std::make_unique<mfakit::complete_login_operation<ctx_t>>(std::move(*first));
  first.reset();
  std::vector<std::string> filler(64, std::string(15, 'x'));  // reuse what was freed
  while (moved->wants() != mfakit::next_step::done) step(w.store, *moved);
  auto r = moved->finish();
  REQUIRE(r);
  CHECK(r->user == "ann");
  CHECK(r->backup_codes_remaining == 8);
}

TEST_CASE("an oversized user id is refused before any key is built", "[operation]") {
  world w;
  const std::string huge(mfakit::max_user_id_bytes + 1, 'u');
  mfakit::status_operation<ctx_t> st(w.ctx(), huge);
  CHECK(st.wants() == mfakit::next_step::done);
  CHECK(st.key() == "mfakit/account/");  // nothing of the id encoded
  CHECK(st.finish().error() == mfakit::errc::invalid_argument);
  mfakit::verify_operation<ctx_t> v(w.ctx(), huge, "123456", mfakit::factor::totp);
  CHECK(v.wants() == mfakit::next_step::done);
  CHECK(v.key() == "mfakit/account/");  // before: the key of a 64 MiB id took 128 MiB
  CHECK(v.finish().error() == mfakit::errc::invalid_argument);
}

TEST_CASE("costly steps are compute steps: enable and regenerate before hashing, a backup code before its KDF",
          "[operation][compute]") {
  world w;
  mfakit::service<mfakit::memory_store, mt::manual_clock> svc(w.store, w.cfg, w.clock);
  auto s = svc.setup("ann", "ann@example.com");
  REQUIRE(s);
  const std::string code = mfakit::totp(s->key.bytes(), w.clock.unix_time())->to_string();
  const std::string account = "cas mfakit/account/616e6e";

  mfakit::enable_operation<ctx_t> enable(w.ctx(), "ann", code);
  std::vector<std::string> asked;
  while (enable.wants() != mfakit::next_step::done) asked.push_back(step(w.store, enable));
  auto enabled = enable.finish();
  REQUIRE(enabled);
  CHECK(asked == std::vector<std::string>{"load mfakit/account/616e6e", "compute", account});
  REQUIRE(enabled->backup_codes.size() == w.cfg.backup_code_count);

  w.clock.advance(30);
  mfakit::regenerate_operation<ctx_t> regen(w.ctx(), "ann");
  asked.clear();
  while (regen.wants() != mfakit::next_step::done) asked.push_back(step(w.store, regen));
  auto fresh = regen.finish();
  REQUIRE(fresh);
  CHECK(asked == std::vector<std::string>{"load mfakit/account/616e6e", "compute", account});

  // a backup code: the KDF once, also when a lost race makes it decide again on the same set
  mfakit::verify_operation<ctx_t> v(w.ctx(), "ann", fresh->backup_codes[0].str(), mfakit::factor::backup_code);
  asked.clear();
  while (v.wants() != mfakit::next_step::compare_and_swap) asked.push_back(step(w.store, v));
  CHECK(asked == std::vector<std::string>{"load mfakit/account/616e6e", "compute"});
  REQUIRE(svc.verify("ann", fresh->backup_codes[1].str(), mfakit::factor::backup_code));  // another write first
  asked.clear();
  while (v.wants() != mfakit::next_step::done) asked.push_back(step(w.store, v));
  CHECK(asked == std::vector<std::string>{account, "load mfakit/account/616e6e", account});  // no second compute
  auto r = v.finish();
  REQUIRE(r);
  CHECK(r->backup_codes_remaining == w.cfg.backup_code_count - 2);

  // a malformed backup code and a wrong TOTP code cost no compute step
  mfakit::verify_operation<ctx_t> malformed(w.ctx(), "ann", "not-a-code", mfakit::factor::backup_code);
  asked.clear();
  while (malformed.wants() != mfakit::next_step::done) asked.push_back(step(w.store, malformed));
  CHECK(asked == std::vector<std::string>{"load mfakit/account/616e6e"});
  CHECK(malformed.finish().error() == mfakit::errc::malformed_code);
  const std::string wrong =
      mfakit::totp(s->key.bytes(), w.clock.unix_time())->to_string() == "000000" ? "000001" : "000000";
  mfakit::verify_operation<ctx_t> totp(w.ctx(), "ann", wrong, mfakit::factor::totp);
  asked.clear();
  while (totp.wants() != mfakit::next_step::done) asked.push_back(step(w.store, totp));
  CHECK(asked == std::vector<std::string>{"load mfakit/account/616e6e", account});  // the failure counted, no compute
}
