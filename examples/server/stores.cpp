// The demo server's database (stores.hpp).
#include "stores.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <mfakit/crypto.hpp>
#include <mfakit/stores/postgresql.hpp>
#include <mfakit/stores/sqlite.hpp>

#include "account_db_postgres.hpp"
#include "account_db_sqlite.hpp"

namespace mfakit_examples::demo {

db_spec parse_db(const options& opt) {
  db_spec spec;
  if (opt.db.rfind("sqlite:", 0) == 0) {
    spec.sqlite_path = opt.db.substr(7);
    if (spec.sqlite_path.rfind("///", 0) == 0) spec.sqlite_path = spec.sqlite_path.substr(2);  // sqlite:///abs/path
    if (spec.sqlite_path.empty()) usage_error("--db sqlite: needs a path");
  } else if (opt.db.rfind("postgresql://", 0) == 0 || opt.db.rfind("postgres://", 0) == 0) {
    spec.pg_conninfo = opt.db;
  } else if (opt.db.rfind("postgres:", 0) == 0) {
    spec.pg_conninfo = opt.db.substr(9);
  } else if (opt.db != "memory") {
    usage_error("--db is memory, sqlite:PATH, postgresql://... or postgres:CONNINFO");
  }
  return spec;
}

void open_stores(stores& s, const db_spec& spec, unsigned connections) {
  if (!spec.sqlite_path.empty()) {
    mfakit::sqlite_store::options so;
    so.path = spec.sqlite_path;
    so.max_connections = connections;
    s.records = std::make_unique<mfakit::any_record_store>(std::make_unique<mfakit::sqlite_store>(so));
    s.accounts = std::make_unique<mfakit_examples::sqlite_account_db>(
        mfakit_examples::sqlite_account_db::options{spec.sqlite_path, so.table, connections, so.busy_timeout});
  } else if (!spec.pg_conninfo.empty()) {
    mfakit::postgresql_store::options po;
    po.conninfo = spec.pg_conninfo;
    po.max_connections = connections;
    s.records = std::make_unique<mfakit::any_record_store>(std::make_unique<mfakit::postgresql_store>(po));
    s.accounts = std::make_unique<mfakit_examples::postgres_account_db>(
        mfakit_examples::postgres_account_db::options{spec.pg_conninfo, po.table, connections});
  } else {
    auto mem = std::make_unique<mfakit_examples::registering_memory_store>(s.registry);
    auto& records = mem->records();
    s.records = std::make_unique<mfakit::any_record_store>(std::move(mem));
    s.accounts = std::make_unique<mfakit_examples::memory_account_db>(records, s.registry);
  }
}

void put_users(mfakit_examples::account_db& db, options& opt, const mfakit::scrypt_params& cost, std::int64_t now) {
  std::vector<std::pair<std::string, std::string>> users = opt.users;
  for (const auto& u : opt.demo_users) {
    const bool given = std::any_of(users.begin(), users.end(), [&](const auto& x) { return x.first == u.first; });
    if (!given && !db.stored_hash(u.first)) users.push_back(u);  // an existing account keeps its password
  }
  std::vector<std::string> hashes(users.size());
  std::vector<std::optional<std::string>> stored(users.size());
  for (std::size_t i = 0; i < users.size(); ++i) stored[i] = db.stored_hash(users[i].first);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> hashers;
  for (unsigned t = 0; t < std::min<std::size_t>(opt.kdf_threads, users.size()); ++t) {
    hashers.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < users.size();) {
        // an account whose password is already this one, at this cost, is left alone (a new
        // hash would move its session epoch and end its sessions)
        if (stored[i] && mfakit_examples::hash_uses(*stored[i], cost) &&
            mfakit_examples::check_password(*stored[i], users[i].second))
          continue;
        auto h = mfakit_examples::hash_password(users[i].second, cost);
        if (!h)
          failed = true;
        else
          hashes[i] = std::move(*h);
      }
    });
  }
  for (auto& t : hashers) t.join();
  if (failed) throw std::runtime_error("cannot hash a password");
  for (std::size_t i = 0; i < users.size(); ++i)
    if (!hashes[i].empty()) db.put_user(users[i].first, hashes[i], now);
  for (auto& u : users) mfakit::cleanse(u.second.data(), u.second.size());
  for (auto& u : opt.users) mfakit::cleanse(u.second.data(), u.second.size());
  for (auto& u : opt.demo_users) mfakit::cleanse(u.second.data(), u.second.size());
  for (auto& h : hashes) mfakit::cleanse(h.data(), h.size());
  for (auto& h : stored)
    if (h) mfakit::cleanse(h->data(), h->size());
}

dummy_password make_dummy_password(const mfakit::scrypt_params& cost) {
  auto hash = mfakit_examples::hash_password("not a password", cost);
  if (!hash) throw std::runtime_error("cannot hash a password");
  const auto t0 = std::chrono::steady_clock::now();
  (void)mfakit_examples::check_password(*hash, "still not a password");
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  return {std::move(*hash), took};
}

}  // namespace mfakit_examples::demo
