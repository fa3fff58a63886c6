// SQLite-specific behaviour of SqliteStore; the shared contract is in
// store_contract_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "store/sqlite/sqlite_schema.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders
using core::ErrorCode;
using model::EventKind;

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& dir,
                                       SqliteStore::OpenOptions options = {}) {
  auto s = SqliteStore::Open(dir, options);
  EXPECT_TRUE(s) << s.error().ToString();
  return s ? std::move(*s) : nullptr;
}

// A raw connection to the store's file, as another process would have.
struct RawDb {
  explicit RawDb(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  void Exec(const char* sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
  }
  sqlite3* db = nullptr;
};

TEST(SqliteStoreTest, CreatesDataDirAndDatabaseFile) {
  tally::testing::TempDir tmp;
  std::string dir = (tmp.path() / "nested" / "data").string();
  auto store = OpenOrDie(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), (tmp.path() / "nested" / "data" / "tally.db").string());
  EXPECT_TRUE(std::filesystem::exists(store->path()));
}

TEST(SqliteStoreTest, RunsInWalModeWithFullSyncAndForeignKeys) {
  tally::testing::TempDir tmp;
  auto store = OpenOrDie(tmp.str());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ReadPragma("journal_mode").value(), SqlValue(std::string("wal")));
  EXPECT_EQ(store->ReadPragma("synchronous").value(), SqlValue(std::int64_t{2}));  // FULL
  EXPECT_EQ(store->ReadPragma("foreign_keys").value(), SqlValue(std::int64_t{1}));
  EXPECT_EQ(store->ReadPragma("busy_timeout").value(), SqlValue(std::int64_t{10'000}));
  EXPECT_FALSE(store->ReadPragma("journal_mode; DROP TABLE llm_calls"));
}

TEST(SqliteStoreTest, StoresMoneyAndTimesAsIntegers) {
  tally::testing::TempDir tmp;
  auto store = OpenOrDie(tmp.str());
  auto batch = MakeBatch({MakeLlmCall("a", 1)});
  ASSERT_TRUE(AppendOne(*store, batch));
  EXPECT_EQ(QueryScalar(*store, "SELECT typeof(cost_usd) || ',' || typeof(time) FROM llm_calls"),
            SqlValue(std::string("integer,integer")));
}

TEST(SqliteStoreTest, RecordsEveryMigrationOnceAcrossOpens) {
  tally::testing::TempDir tmp;
  {
    auto store = OpenOrDie(tmp.str());
    ASSERT_TRUE(store->Migrate());
  }
  auto store = OpenOrDie(tmp.str());
  auto r = store->Query("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(static_cast<int>(r->rows.size()), sqlite::LatestSchemaVersion());
  for (int v = 1; v <= sqlite::LatestSchemaVersion(); ++v) {
    EXPECT_EQ(r->rows[v - 1][0], SqlValue(std::int64_t{v}));
  }
}

TEST(SqliteStoreTest, OpeningAnOlderDatabaseUpgradesItAndKeepsItsData) {
  tally::testing::TempDir tmp;
  std::string path = (tmp.path() / "tally.db").string();
  {
    RawDb raw(path);
    ASSERT_TRUE(sqlite::MigrateSchema(raw.db, 1));  // a tally from before api_keys
    raw.Exec("INSERT INTO agents (id, role, created_at) VALUES ('kev', 'builder', 0)");
  }
  auto store = OpenOrDie(tmp.str());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetAgent("kev")->role, "builder");
  ApiKeyRecord key;
  key.id = "key_1";
  key.name = "ci";
  key.secret_hash = "h";
  key.scopes = kScopeAdmin;
  EXPECT_TRUE(store->CreateApiKey(key));
  EXPECT_EQ(QueryScalar(*store, "SELECT max(version) FROM schema_migrations"),
            SqlValue(std::int64_t{sqlite::LatestSchemaVersion()}));
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerTally) {
  tally::testing::TempDir tmp;
  { ASSERT_NE(OpenOrDie(tmp.str()), nullptr); }
  {
    RawDb raw((tmp.path() / "tally.db").string());
    raw.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
  }
  auto store = SqliteStore::Open(tmp.str());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message().find("999"), std::string::npos) << store.error().message();
}

TEST(SqliteStoreTest, AppendIsUnavailableWhileAnotherProcessHoldsTheWriteLock) {
  tally::testing::TempDir tmp;
  auto store = OpenOrDie(tmp.str(), {.busy_timeout_ms = 20});
  RawDb other(store->path());
  other.Exec("BEGIN IMMEDIATE");

  auto batch = MakeBatch({MakeLlmCall("a")});
  auto stats = AppendOne(*store, batch);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), ErrorCode::kUnavailable) << stats.error().ToString();
  // Reads go on while the file is write-locked.
  EXPECT_EQ(store->CountEvents(EventKind::kLlmCall).value(), 0);

  other.Exec("ROLLBACK");
  stats = AppendOne(*store, batch);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ((*stats)[0].accepted, 1);
}

TEST(SqliteStoreTest, ReadOnlyStoreReadsALiveDatabaseAndRefusesWrites) {
  tally::testing::TempDir tmp;
  auto writer = OpenOrDie(tmp.str());
  auto first = MakeBatch({MakeLlmCall("a")});
  ASSERT_TRUE(AppendOne(*writer, first));

  auto reader = OpenOrDie(tmp.str(), {.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(QueryScalar(*reader, "SELECT count(*) FROM llm_calls"), SqlValue(std::int64_t{1}));
  EXPECT_TRUE(reader->Migrate());  // already current: nothing to do

  auto second = MakeBatch({MakeLlmCall("b")});
  ASSERT_TRUE(AppendOne(*writer, second));
  EXPECT_EQ(reader->CountEvents(EventKind::kLlmCall).value(), 2);  // sees new commits

  auto append = AppendOne(*reader, second);
  ASSERT_FALSE(append);
  EXPECT_EQ(append.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(append.error().message().find("read-only"), std::string::npos);
  model::Agent agent;
  agent.id = "kev";
  agent.role = "builder";
  EXPECT_FALSE(reader->PutAgent(agent));
  EXPECT_FALSE(reader->RevokeApiKey("key_1", At(0)));
}

TEST(SqliteStoreTest, ReadOnlyOpenOfAMissingDatabaseIsNotFoundAndCreatesNothing) {
  tally::testing::TempDir tmp;
  std::string dir = (tmp.path() / "absent").string();
  auto store = SqliteStore::Open(dir, {.read_only = true});
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(SqliteStoreTest, QueryAllowsIntrospectionPragmasOnly) {
  tally::testing::TempDir tmp;
  auto store = OpenOrDie(tmp.str());
  auto info = store->Query("PRAGMA table_info(llm_calls)");
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_GT(info->rows.size(), 10u);
  EXPECT_TRUE(store->Query("SELECT name FROM pragma_table_info('agents')"));
  for (const char* sql :
       {"PRAGMA query_only = 0", "PRAGMA cache_size = 1", "PRAGMA wal_checkpoint",
        "PRAGMA journal_mode = DELETE", "DETACH DATABASE main", "SAVEPOINT s", "VACUUM"}) {
    auto r = store->Query(sql);
    ASSERT_FALSE(r) << "accepted: " << sql;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << sql;
  }
  auto attach = store->Query("ATTACH DATABASE ':memory:' AS other");
  ASSERT_FALSE(attach);
  EXPECT_NE(attach.error().message().find("only read-only statements are allowed"),
            std::string::npos)
      << attach.error().message();
  EXPECT_NE(attach.error().message().find("ATTACH"), std::string::npos);
  // The pooled readers are unharmed.
  EXPECT_EQ(QueryScalar(*store, "SELECT count(*) FROM pragma_table_info('agents')"),
            SqlValue(std::int64_t{7}));
}

TEST(SqliteStoreTest, ChecksRefuseImpossibleValuesNamingTheTable) {
  tally::testing::TempDir tmp;
  auto store = OpenOrDie(tmp.str());
  model::TaskEvent task = MakeTask("t");
  task.quality_score_centi = 101;
  auto batch = MakeBatch({task});
  auto stats = AppendOne(*store, batch);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(stats.error().message().find("task_events"), std::string::npos);
  EXPECT_NE(stats.error().message().find("quality_score"), std::string::npos)
      << stats.error().message();
}


TEST(SqliteStoreTest, QueryStopsAStatementPastItsTimeLimitAndTheReaderStaysUsable) {
  tally::testing::TempDir tmp;
  SqliteStore::OpenOptions options;
  options.query_time_limit = std::chrono::milliseconds(50);
  auto store = OpenOrDie(tmp.str(), options);
  ASSERT_NE(store, nullptr);
  auto runaway = store->Query(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c");
  ASSERT_FALSE(runaway);
  EXPECT_EQ(runaway.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(runaway.error().message().find("stopped after 50 ms"), std::string::npos)
      << runaway.error().message();
  auto after = store->Query("SELECT 42");
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(std::get<std::int64_t>(after->rows[0][0]), 42);
}

}  // namespace
}  // namespace tally::store
