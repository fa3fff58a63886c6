// The PostgreSQL store's llm_calls fast path (pg_llm_ingest.h): rows COPYed in
// binary straight into llm_calls must read back exactly as the text path
// stored them (NUMERIC money at every magnitude, UUIDs in uuid_in's spellings,
// times before 1970 and 2000, JSONB metadata), values the binary path cannot
// store are refused as invalid_argument naming the field, and the optimistic
// id claim falls back correctly when a call mixes new and stored ids. And
// the writer locks (pg_locks.h): appends overlap one another, exclusive
// writers wait for every open append, appends wait for the write lock only
// before their rollups.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "store/postgres/pg_locks.h"
#include "store/postgres/pg_store.h"
#include "support/postgres_server.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

constexpr std::int64_t kHourMicros = 3'600'000'000;

class PgIngestTest : public PgFreshStoreTest {
 protected:
  // One value of a raw row, as PostgreSQL prints it.
  std::string Raw(const std::string& column, const std::string& event_id) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url_.c_str()), PQfinish);
    const std::string sql = "SET TimeZone = 'UTC'; SELECT " + column +
                            "::text FROM llm_calls WHERE event_id = '" + event_id + "'";
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), PQclear);
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) return std::string("error: ") + PQerrorMessage(conn.get());
    if (PQntuples(res.get()) == 0) return "<no row>";
    return PQgetisnull(res.get(), 0, 0) ? "<null>" : PQgetvalue(res.get(), 0, 0);
  }


  using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
  Conn Connect() { return Conn(PQconnectdb(url_.c_str()), PQfinish); }
  static bool Exec(PGconn* conn, const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn, sql.c_str()), PQclear);
    const auto status = PQresultStatus(res.get());
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  }
};

TEST_F(PgIngestTest, AppendsOverlapAndExclusiveWritersWaitForThem) {
  // Another node's append, mid-transaction: the ingest lock held shared.
  Conn other = Connect();
  ASSERT_TRUE(Exec(other.get(), fmt::format("BEGIN; SELECT pg_advisory_xact_lock_shared({})",
                                            pg::kIngestLock)));
  // This append runs beside it, all the way to COMMIT.
  auto batch = MakeBatch({MakeLlmCall("beside")});
  auto stats = AppendOne(*store_, batch);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
  // An exclusive writer waits until no append is open.
  auto rebuild = std::async(std::launch::async, [&] { return store_->RebuildRollups(); });
  ASSERT_TRUE(SomeoneWaitsForAdvisoryLock(url_, pg::kIngestLock));
  EXPECT_EQ(rebuild.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  ASSERT_TRUE(Exec(other.get(), "COMMIT"));
  auto rebuilt = rebuild.get();
  EXPECT_TRUE(rebuilt) << rebuilt.error().ToString();
}

TEST_F(PgIngestTest, AppendWaitsForTheWriteLockOnlyBeforeItsRollups) {
  // Another node folding its rollups: the write lock held.
  Conn other = Connect();
  ASSERT_TRUE(Exec(other.get(), fmt::format("BEGIN; SELECT pg_advisory_xact_lock({})", pg::kWriteLock)));
  auto batch = MakeBatch({MakeLlmCall("waits"), MakeLlmCall("also")});
  auto append = std::async(std::launch::async, [&] { return AppendOne(*store_, batch); });
  ASSERT_TRUE(SomeoneWaitsForAdvisoryLock(url_, pg::kWriteLock));
  // Its ids are claimed already (uncommitted): a duplicate from elsewhere
  // would wait for it rather than be stored twice.
  Conn probe = Connect();
  std::unique_ptr<PGresult, decltype(&PQclear)> res(
      PQexec(probe.get(), "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                          "WHERE l.locktype = 'relation' AND l.relation = 'llm_calls_ids'::regclass "
                          "AND l.mode = 'RowExclusiveLock' AND l.granted"),
      PQclear);
  ASSERT_EQ(PQresultStatus(res.get()), PGRES_TUPLES_OK) << PQerrorMessage(probe.get());
  EXPECT_EQ(std::string(PQgetvalue(res.get(), 0, 0)), "1");
  EXPECT_EQ(append.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  ASSERT_TRUE(Exec(other.get(), "COMMIT"));
  auto stats = append.get();
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 2);
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 2);
}

TEST_F(PgIngestTest, MoneyReadsBackExactlyAtEveryMagnitude) {
  const std::pair<std::int64_t, const char*> cases[] = {
      {0, "0.000000"},
      {1, "0.000001"},
      {999'999, "0.999999"},
      {1'000'000, "1.000000"},
      {10'000'000'000, "10000.000000"},
      {100'000'000, "100.000000"},
      {1'234'500'000, "1234.500000"},
      {123'456'789'012'345'678, "123456789012.345678"},
      {999'999'999'999'999'999, "999999999999.999999"},
  };
  model::Batch batch;
  for (const auto& [micros, text] : cases) {
    batch.events.push_back(MakeLlmCall("m" + std::to_string(micros), micros));
  }
  auto stats = AppendOne(*store_, batch);
  ASSERT_TRUE(stats) << stats.error().ToString();
  for (const auto& [micros, text] : cases) {
    EXPECT_EQ(Raw("cost_usd", "m" + std::to_string(micros)), text) << micros;
  }
}

TEST_F(PgIngestTest, FieldsReadBackAsTheirSeedTypes) {
  model::LlmCall a = MakeLlmCall("a");
  a.task_id = "{8B7E2A52-3F4C-4D7E-9A1B-2C3D4E5F6A7B}";
  a.input_tokens = 2'147'483'647;
  a.cached_tokens = 7;
  a.status = model::LlmStatus::kRateLimited;
  a.error_type = "rate_limit";
  a.reservation_id = "r-1";
  a.metadata = R"({"b": [1, 2], "a": "x\ty"})";
  model::LlmCall b = MakeLlmCall("b");
  b.task_id = "8b7e2a523f4c4d7e9a1b2c3d4e5f6a7b";
  b.time = core::FromMicros(-86'400'000'001);  // 1969-12-30T23:59:59.999999Z
  model::LlmCall c = MakeLlmCall("c");
  c.time = core::FromMicros(946'684'799'999'999);  // 1999-12-31T23:59:59.999999Z
  auto batch = MakeBatch({a, b, c});
  ASSERT_TRUE(AppendOne(*store_, batch));
  EXPECT_EQ(Raw("task_id", "a"), "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b");
  EXPECT_EQ(Raw("task_id", "b"), "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7b");
  EXPECT_EQ(Raw("task_id", "c"), "<null>");
  EXPECT_EQ(Raw("input_tokens", "a"), "2147483647");
  EXPECT_EQ(Raw("cached_tokens", "a"), "7");
  EXPECT_EQ(Raw("status", "a"), "rate_limited");
  EXPECT_EQ(Raw("error_type", "a"), "rate_limit");
  EXPECT_EQ(Raw("reservation_id", "a"), "r-1");
  EXPECT_EQ(Raw("metadata", "a"), R"({"a": "x\ty", "b": [1, 2]})");
  EXPECT_EQ(Raw("metadata", "b"), "<null>");
  EXPECT_EQ(Raw("time", "a"), "2026-03-01 12:00:00+00");
  EXPECT_EQ(Raw("time", "b"), "1969-12-30 23:59:59.999999+00");
  EXPECT_EQ(Raw("time", "c"), "1999-12-31 23:59:59.999999+00");
  EXPECT_EQ(Raw("agent_id || '/' || model || '/' || provider", "a"),
            "kev/claude-opus-4-6/anthropic");
  EXPECT_EQ(Raw("latency_ms", "a"), "850");
}

TEST_F(PgIngestTest, ValuesTheColumnsCannotHoldAreInvalidArgumentNamingTheField) {
  model::LlmCall bad_uuid = MakeLlmCall("bad-uuid");
  bad_uuid.task_id = "8b7e2a52-3f4c-4d7e-9a1b-2c3d4e5f6a7";  // one digit short
  auto batch = MakeBatch({MakeLlmCall("ok"), bad_uuid});
  auto stats = AppendOne(*store_, batch);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(stats.error().message().find("task_id"), std::string::npos) << stats.error().message();
  model::LlmCall huge = MakeLlmCall("huge");
  huge.output_tokens = 3'000'000'000;
  batch = MakeBatch({huge});
  stats = AppendOne(*store_, batch);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), core::ErrorCode::kInvalidArgument);
  EXPECT_NE(stats.error().message().find("output_tokens"), std::string::npos)
      << stats.error().message();
  // Nothing of the refused calls was stored, ids included.
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 0);
  EXPECT_FALSE(store_->HasEvent(model::EventKind::kLlmCall, "ok").value());
}

// New and stored ids in one call, across batches and kinds: the optimistic
// claim collides, the careful pass stores exactly the new ones and the
// rollups count them once.
TEST_F(PgIngestTest, MixedNewAndStoredIdsAreStoredOnceAndCountedOnce) {
  auto first = MakeBatch({MakeLlmCall("x", 1'000), MakeTask("t1")});
  ASSERT_TRUE(AppendOne(*store_, first));
  auto a = MakeBatch({MakeLlmCall("y", 2'000), MakeLlmCall("x", 1'000)});
  auto b = MakeBatch({MakeTask("t1"), MakeLlmCall("z", 4'000), MakeLlmCall("y", 2'000)});
  auto stats = AppendAll(*store_, {&a, &b});
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
  EXPECT_EQ((*stats)[0].duplicate_indexes, (std::vector<std::int64_t>{1}));
  EXPECT_EQ((*stats)[1].accepted, 1);
  EXPECT_EQ((*stats)[1].duplicate_indexes, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 3);
  EXPECT_EQ(store_->CountEvents(model::EventKind::kTask).value(), 1);
  auto set = store_->ReadRollups(At(-kHourMicros), At(kHourMicros), kAgentCostRollup);
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->agent_costs.size(), 1u);
  EXPECT_EQ(set->agent_costs[0].call_count, 3);
  EXPECT_EQ(set->agent_costs[0].cost_micros, 7'000);
}

}  // namespace
}  // namespace tally::store
