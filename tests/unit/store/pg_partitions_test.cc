// Partitioning and retention of the PostgreSQL store (docs/postgres.md):
// with pg_partman, the time-series tables are monthly range partitions with
// seed §12 retention, applied by dropping whole partitions by tally's own
// maintenance (pg_maintenance.h); rollups outlive the raw rows, and the
// dedup tables forget the dropped rows' ids while a re-send still counts
// once. With TimescaleDB (not packaged for
// Debian) the tables are hypertables with compression and retention
// policies: those tests run only where the extension is installed and say so
// plainly otherwise.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <future>
#include <memory>

#include "store/postgres/pg_locks.h"
#include "store/postgres/pg_store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

constexpr std::int64_t kDay = 86'400'000'000;

// Runs admin SQL the store's read-only Query refuses (partman calls).
std::string Admin(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), sql.c_str()), PQclear);
  auto st = PQresultStatus(res.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return std::string("error: ") + PQerrorMessage(conn.get());
  return PQntuples(res.get()) > 0 ? PQgetvalue(res.get(), 0, 0) : "";
}

class PgPartitionsTest : public PgFreshStoreTest {
 protected:
  bool Has(const std::string& extension) {
    return Admin(url_, "SELECT count(*) FROM pg_extension WHERE extname = '" + extension + "'") == "1";
  }
  // The newest llm_calls partition: dropped by DropNewest so that a run of
  // the maintenance shows itself by making it again.
  std::string Newest() {
    return Admin(url_, "SELECT partition_tablename FROM partman.show_partitions('public.llm_calls', "
                       "'DESC') LIMIT 1");
  }
  std::string DropNewest() {
    const std::string last = Newest();
    const std::string dropped = Admin(url_, "DROP TABLE public." + last);
    EXPECT_EQ(dropped, "");
    return last;
  }

};

TEST_F(PgPartitionsTest, PartmanMakesMonthlyPartitionsWithSeedRetention) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: the tables are hypertables";
  if (!Has("pg_partman")) {
    GTEST_SKIP() << "pg_partman is not installed (apt-get install postgresql-15-partman): "
                    "the tables have one DEFAULT partition and no retention";
  }
  for (const char* t : {"llm_calls", "revenue_events", "task_events", "infra_costs",
                        "growth_events", "ops_events"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(Admin(url_, std::string("SELECT partition_interval FROM partman.part_config WHERE "
                                      "parent_table = 'public.") + t + "'"),
              "1 mon");
    EXPECT_GT(std::stoi(Admin(url_, std::string("SELECT count(*) FROM pg_inherits WHERE "
                                                "inhparent = '") + t + "'::regclass")),
              3);
  }
  auto retention = [&](const char* t) {
    return Admin(url_, std::string("SELECT coalesce(retention, 'forever') FROM partman.part_config "
                                   "WHERE parent_table = 'public.") + t + "'");
  };
  EXPECT_EQ(retention("llm_calls"), "90 days");
  EXPECT_EQ(retention("task_events"), "180 days");
  EXPECT_EQ(retention("growth_events"), "90 days");
  EXPECT_EQ(retention("revenue_events"), "forever");
  EXPECT_EQ(retention("infra_costs"), "forever");
}

TEST_F(PgPartitionsTest, RetentionDropsOldPartitionsAndTheirIdsButKeepsRollupsAndDedup) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: retention is its policy";
  if (!Has("pg_partman")) GTEST_SKIP() << "pg_partman is not installed: no retention to test";
  const std::int64_t now = core::ToMicros(std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now()));
  const std::int64_t old = now - 200 * kDay;  // past llm_calls' 90 days
  // A partition for the old month (partman pre-makes only around now).
  ASSERT_EQ(Admin(url_, "SELECT partman.create_partition_time('public.llm_calls', "
                        "ARRAY[tally_ts(" + std::to_string(old) + ")])"),
            "t");
  model::LlmCall old_call = MakeLlmCall("old", 5'000);
  old_call.time = core::FromMicros(old);
  model::LlmCall new_call = MakeLlmCall("new", 7'000);
  new_call.time = core::FromMicros(now - kDay);
  auto batch = MakeBatch({old_call, new_call});
  ASSERT_TRUE(AppendOne(*store_, batch));
  ASSERT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 2);

  auto report = store_->RunMaintenance();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(report->skipped);
  EXPECT_GE(report->partitions_dropped, 1);
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 1) << "old partition kept";
  auto llm_cost = [&] {
    auto set = store_->ReadRollups(core::FromMicros(old - kDay), core::FromMicros(now),
                                   kAgentCostDailyRollup);
    EXPECT_TRUE(set) << set.error().ToString();
    std::int64_t cost = 0;
    for (const auto& r : set->agent_costs) cost += r.cost_micros;
    return cost;
  };
  // Rollups keep the dropped month.
  EXPECT_EQ(llm_cost(), 12'000);
  // The ids follow the raw rows: the dropped row's id is forgotten, the kept
  // row's is not; the horizon is the end of the dropped (non-empty) month.
  EXPECT_EQ(report->ids_pruned, 1);
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM llm_calls_ids WHERE event_id = 'old'"), "0");
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM llm_calls_ids WHERE event_id = 'new'"), "1");
  EXPECT_EQ(Admin(url_, "SELECT horizon > tally_ts(" + std::to_string(old) + ") AND horizon <= "
                        "tally_ts(" + std::to_string(old + 32 * kDay) + ") FROM tally_id_horizons "
                        "WHERE table_name = 'llm_calls'"),
            "t");
  // A re-send of the dropped event is still a duplicate: counted, not
  // stored, rollups unchanged (older than the horizon, its id is gone).
  auto again = MakeBatch({old_call, new_call});
  auto stats = AppendOne(*store_, again);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].duplicates, 2);
  EXPECT_EQ((*stats)[0].accepted, 0);
  // So is any event that old: its id could have been one forgotten.
  model::LlmCall other_old = MakeLlmCall("other-old", 3'000);
  other_old.time = core::FromMicros(old + kDay);
  auto late = MakeBatch({other_old});
  stats = AppendOne(*store_, late);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].duplicates, 1);
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 1);
  EXPECT_EQ(llm_cost(), 12'000);
}

// A database made before the ids had a time (schema 2) gets it from the raw
// rows on upgrade, so their ids can follow retention too.
TEST_F(PgPartitionsTest, UpgradeGivesExistingIdsTheTimeOfTheirRawRow) {
  auto batch = MakeBatch({MakeLlmCall("kept", 1'000), MakeTask("t")});
  ASSERT_TRUE(AppendOne(*store_, batch));
  store_.reset();
  std::string undo = "DROP TABLE tally_id_horizons; DELETE FROM schema_migrations WHERE version = 3;";
  for (const char* t : {"llm_calls", "revenue_events", "task_events", "infra_costs",
                        "growth_events", "ops_events"}) {
    undo += std::string("ALTER TABLE ") + t + "_ids DROP COLUMN time;";
  }
  ASSERT_EQ(Admin(url_, undo), "");
  ASSERT_EQ(Admin(url_, "SELECT max(version) FROM schema_migrations"), "2");
  auto reopened = PostgresStore::Open(url_);
  ASSERT_TRUE(reopened) << reopened.error().ToString();
  store_ = std::move(*reopened);
  EXPECT_EQ(Admin(url_, "SELECT max(version) FROM schema_migrations"), "3");
  EXPECT_EQ(Admin(url_, "SELECT tally_us(time) FROM llm_calls_ids WHERE event_id = 'kept'"),
            std::to_string(kBaseMicros));
  EXPECT_EQ(Admin(url_, "SELECT tally_us(time) FROM task_events_ids WHERE event_id = 't'"),
            std::to_string(kBaseMicros));
  // And dedup still works on the upgraded tables.
  auto again = MakeBatch({MakeLlmCall("kept", 1'000)});
  auto stats = AppendOne(*store_, again);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].duplicates, 1);
}

// Partitions retention drops while empty forget no id: no horizon, and an
// event of that time is stored as usual.
TEST_F(PgPartitionsTest, EmptyDroppedPartitionMovesNoIdHorizon) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: retention is its policy";
  if (!Has("pg_partman")) GTEST_SKIP() << "pg_partman is not installed: no retention to test";
  const std::int64_t now = core::ToMicros(std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now()));
  const std::int64_t old = now - 200 * kDay;
  ASSERT_EQ(Admin(url_, "SELECT partman.create_partition_time('public.llm_calls', "
                        "ARRAY[tally_ts(" + std::to_string(old) + ")])"),
            "t");
  auto report = store_->RunMaintenance();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_GE(report->partitions_dropped, 1);
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM tally_id_horizons"), "0");
  model::LlmCall call = MakeLlmCall("old-but-new", 5'000);
  call.time = core::FromMicros(old);
  auto batch = MakeBatch({call});
  auto stats = AppendOne(*store_, batch);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
}

// tally's own maintenance (hourly in `tally serve`) premakes the coming
// months: a missing future partition is made again, rollups untouched.
TEST_F(PgPartitionsTest, MaintenancePremakesFuturePartitions) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: chunks are made on demand";
  if (!Has("pg_partman")) GTEST_SKIP() << "pg_partman is not installed: no partitions to make";
  auto batch = MakeBatch({MakeLlmCall("a", 2'500)});
  ASSERT_TRUE(AppendOne(*store_, batch));
  const std::string last = DropNewest();
  ASSERT_FALSE(last.empty());
  ASSERT_NE(Newest(), last);
  auto report = store_->RunMaintenance();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(report->skipped);
  EXPECT_GE(report->partitions_created, 1);
  EXPECT_EQ(Newest(), last);
  auto set = store_->ReadRollups(At(-kDay), At(kDay), kAgentCostDailyRollup);
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->agent_costs.size(), 1u);
  EXPECT_EQ(set->agent_costs[0].cost_micros, 2'500);
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 1);
}

// Many nodes on one database: while one runs the maintenance (holds its
// advisory lock), another's run is skipped, not run alongside.
TEST_F(PgPartitionsTest, MaintenanceIsSkippedWhileAnotherNodeRunsIt) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: no partman maintenance";
  if (!Has("pg_partman")) GTEST_SKIP() << "pg_partman is not installed: no maintenance to run";
  const std::string last = DropNewest();
  std::unique_ptr<PGconn, decltype(&PQfinish)> other(PQconnectdb(url_.c_str()), PQfinish);
  std::unique_ptr<PGresult, decltype(&PQclear)> held(
      PQexec(other.get(), ("SELECT pg_advisory_lock(" + std::to_string(pg::kMaintenanceLock) + ")")
                              .c_str()),
      PQclear);
  ASSERT_EQ(PQresultStatus(held.get()), PGRES_TUPLES_OK);
  auto report = store_->RunMaintenance();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->skipped);
  EXPECT_NE(Newest(), last) << "ran although another node held the lock";
  // The other node is done. Unlock explicitly: a closed connection's backend
  // releases its locks only when it has exited, a moment later.
  held.reset(PQexec(other.get(), ("SELECT pg_advisory_unlock(" +
                                  std::to_string(pg::kMaintenanceLock) + ")").c_str()));
  ASSERT_EQ(PQresultStatus(held.get()), PGRES_TUPLES_OK);
  other.reset();
  report = store_->RunMaintenance();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(report->skipped);
  EXPECT_EQ(Newest(), last);
}

// Partition DDL never runs beside an append (pg_locks.h): the maintenance
// waits for every open append, here another node's, mid-transaction.
TEST_F(PgPartitionsTest, MaintenanceWaitsForOpenAppends) {
  if (Has("timescaledb")) GTEST_SKIP() << "TimescaleDB is installed: no partman maintenance";
  if (!Has("pg_partman")) GTEST_SKIP() << "pg_partman is not installed: no maintenance to run";
  const std::string last = DropNewest();
  std::unique_ptr<PGconn, decltype(&PQfinish)> other(PQconnectdb(url_.c_str()), PQfinish);
  std::unique_ptr<PGresult, decltype(&PQclear)> held(
      PQexec(other.get(), ("BEGIN; SELECT pg_advisory_xact_lock_shared(" +
                           std::to_string(pg::kIngestLock) + ")").c_str()),
      PQclear);
  ASSERT_EQ(PQresultStatus(held.get()), PGRES_TUPLES_OK);
  auto run = std::async(std::launch::async, [&] { return store_->RunMaintenance(); });
  ASSERT_TRUE(SomeoneWaitsForAdvisoryLock(url_, pg::kIngestLock));
  EXPECT_NE(Newest(), last) << "partitions changed while an append was open";
  held.reset(PQexec(other.get(), "COMMIT"));
  ASSERT_EQ(PQresultStatus(held.get()), PGRES_COMMAND_OK);
  auto report = run.get();
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_FALSE(report->skipped);
  EXPECT_EQ(Newest(), last);
}

TEST_F(PgPartitionsTest, TimescaleDbMakesHypertablesWithCompressionAndRetention) {
  if (!Has("timescaledb")) {
    GTEST_SKIP() << "TimescaleDB is not installed on this machine (not packaged for Debian): "
                    "the hypertable, compression and retention-policy path did NOT run";
  }
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM timescaledb_information.hypertables"), "6");
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM timescaledb_information.jobs WHERE proc_name = "
                        "'policy_retention'"),
            "3");
  EXPECT_EQ(Admin(url_, "SELECT count(*) FROM timescaledb_information.jobs WHERE proc_name = "
                        "'policy_compression'"),
            "6");
  auto batch = MakeBatch({MakeLlmCall("a")});
  ASSERT_TRUE(AppendOne(*store_, batch));
  EXPECT_EQ(store_->CountEvents(model::EventKind::kLlmCall).value(), 1);
}

}  // namespace
}  // namespace tally::store
