// Builders of valid events and entities for the store tests.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/money.h"
#include "core/time.h"
#include "model/entities.h"
#include "model/event.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "support/events.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace tally::store::testing {

// 2026-03-01T12:00:00Z
inline constexpr std::int64_t kBaseMicros = 1'772'366'400'000'000;

inline core::Timestamp At(std::int64_t offset_us) {
  return core::FromMicros(kBaseMicros + offset_us);
}

// One valid LLM call at At(offset_us); shared with the pipeline and server tests.
inline model::LlmCall MakeLlmCall(std::string event_id, std::int64_t cost_micros = 1'234,
                                  std::int64_t offset_us = 0) {
  return tally::testing::MakeCall(std::move(event_id), cost_micros, kBaseMicros + offset_us);
}

inline model::TaskEvent MakeTask(std::string event_id) {
  model::TaskEvent e;
  e.event_id = std::move(event_id);
  e.time = At(0);
  e.task_id = "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b";
  e.agent_id = "kev";
  e.task_type = "build";
  return e;
}

inline model::Batch MakeBatch(std::vector<model::Event> events, std::string source = "test") {
  return model::Batch{std::move(source), std::move(events)};
}

// Appends the given batches in one call.
inline Result<std::vector<AppendStats>> AppendAll(Store& store,
                                                  const std::vector<const model::Batch*>& batches) {
  return store.Append(std::span<const model::Batch* const>(batches.data(), batches.size()));
}

inline Result<std::vector<AppendStats>> AppendOne(Store& store, const model::Batch& batch) {
  return AppendAll(store, {&batch});
}

// A SqliteStore in the folder `location`. For the TEST_P backend lists.
inline Result<std::unique_ptr<Store>> OpenSqliteForLocation(const std::string& location) {
  auto s = SqliteStore::Open(location);
  if (!s) return std::unexpected(std::move(s).error());
  return std::unique_ptr<Store>(std::move(*s));
}

// A PostgresStore on the test database of `location` (one database per test
// folder, copied from a template the store itself migrated), on the shared
// test server. For the TEST_P backend lists.
inline Result<std::unique_ptr<Store>> OpenPostgresForLocation(const std::string& location) {
  auto url = tally::testing::PostgresUrlForLocation(location, [](const std::string& u) {
    auto s = PostgresStore::Open(u);
    return s ? core::OkStatus() : core::Status(std::unexpected(s.error()));
  });
  if (!url) return std::unexpected(std::move(url).error());
  auto s = PostgresStore::Open(*url);
  if (!s) return std::unexpected(std::move(s).error());
  return std::unique_ptr<Store>(std::move(*s));
}

// Fixture base of the suites run against every backend: Param has
// `open(location)`; each test gets a fresh folder, and Reopen closes the
// store and opens it again on the same data.
template <typename Param>
class ReopenableStoreTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto opened = this->GetParam().open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
  }
  Store& store() { return *store_; }

  tally::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Fixture base: a PostgresStore on a fresh, migrated database of the shared
// test server; url_ reaches the same database for checks the Store API
// cannot make (catalog, partman).
class PgFreshStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = tally::testing::PostgresServer::Shared().FreshDatabase();
    ASSERT_TRUE(url) << url.error().ToString();
    url_ = *url;
    auto opened = PostgresStore::Open(url_);
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
  }
  std::string url_;
  std::unique_ptr<PostgresStore> store_;
};

// Whether some session of the database at `url` waits for the advisory lock
// `key` (pg_locks, polled for up to 20 s): a writer seen blocked by a lock.
inline bool SomeoneWaitsForAdvisoryLock(const std::string& url, std::int64_t key) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
  const std::string sql = fmt::format(
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
      "AND classid = {} AND objid = {} AND objsubid = 1",
      static_cast<std::uint32_t>(static_cast<std::uint64_t>(key) >> 32),
      static_cast<std::uint32_t>(key & 0xffffffff));
  for (int i = 0; i < 2000; ++i) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), PQclear);
    if (PQresultStatus(res.get()) == PGRES_TUPLES_OK && std::string(PQgetvalue(res.get(), 0, 0)) != "0") {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// The single value of a one-row, one-column query.
inline SqlValue QueryScalar(Store& store, const std::string& sql) {
  auto r = store.Query(sql);
  if (!r || r->rows.size() != 1 || r->rows[0].size() != 1) {
    return std::string("<query failed: ") + (r ? "shape" : r.error().ToString()) + ">";
  }
  return r->rows[0][0];
}

}  // namespace tally::store::testing
