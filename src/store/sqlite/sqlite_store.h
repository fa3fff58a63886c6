// SqliteStore: the embedded Store backend, one SQLite file <data_dir>/tally.db
// in WAL mode (docs/schema.md documents the schema and units).
//
// Durability: synchronous=FULL, so Append and every Put* return only after
// the WAL is fsynced. Opening a writable store creates the folder and file if
// needed and migrates the schema to the latest version.
//
// Concurrency: one write connection behind a mutex (Append, Put*, keys,
// Migrate), and a pool of SQLITE_OPEN_READONLY connections for every read, so
// readers run concurrently with the writer and see only committed data. Other
// processes (the CLI's `tally keys create`, `tally ingest`) may write the same
// file; a writer waits up to busy_timeout_ms for the file lock and then fails
// with unavailable. All methods are thread-safe.
//
// User SQL (Query) runs on a read-only connection and must be a single
// statement that sqlite3_stmt_readonly() accepts; ATTACH/DETACH, transaction
// control and PRAGMAs other than read-only introspection are refused too, as
// they would change the pooled connection rather than the data.
#pragma once

#include <chrono>

#include <array>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_rollup_writer.h"
#include "store/sqlite/sqlite_statement.h"
#include "store/store.h"

namespace tally::store {

class SqliteStore final : public Store {
 public:
  struct OpenOptions {
    // Open for reading only (`tally sql` on a live data dir): no folder or
    // file is created, no migration runs, every write fails with
    // invalid_argument. The database must exist and be at the latest schema.
    bool read_only = false;
    // How long a writer or reader waits for a lock held by another
    // connection or process before failing with unavailable. Long enough to
    // sit out a large commit of another process; tests lower it.
    int busy_timeout_ms = 10'000;
    // Upper bound on pooled read connections (each has its own page cache,
    // 16 MiB at most); more concurrent readers wait for a free one.
    int max_readers = 4;
    // Query stops a statement that runs longer than this (a runaway
    // recursive CTE must not hold a reader and a server thread forever).
    std::chrono::milliseconds query_time_limit{30'000};
  };

  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& data_dir);
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& data_dir,
                                                   OpenOptions options);
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The database file, "<data_dir>/tally.db".
  const std::string& path() const { return path_; }

  // Value of a PRAGMA as the write connection sees it (per-connection
  // settings such as synchronous differ between connections); name must be a
  // bare identifier. For diagnostics and tests. On a read-only store, a
  // reader's value.
  Result<SqlValue> ReadPragma(std::string_view name);

  Status Migrate() override;
  Result<std::vector<AppendStats>> Append(std::span<const model::Batch* const> batches) override;
  Result<std::int64_t> CountEvents(model::EventKind kind) override;
  Result<bool> HasEvent(model::EventKind kind, const std::string& event_id) override;

  // Put* keep the stored created_at when replacing an existing row: it records
  // when the entity first appeared, not when it was last edited.
  Status PutProduct(const model::Product& p) override;
  Result<model::Product> GetProduct(const std::string& id) override;
  Result<std::vector<model::Product>> ListProducts() override;
  Status PutAgent(const model::Agent& a) override;
  Result<model::Agent> GetAgent(const std::string& id) override;
  Result<std::vector<model::Agent>> ListAgents() override;
  Status PutChannel(const model::RevenueChannel& c) override;
  Result<model::RevenueChannel> GetChannel(const std::string& id) override;
  Result<std::vector<model::RevenueChannel>> ListChannels() override;

  Status CreateApiKey(const ApiKeyRecord& key) override;
  Result<ApiKeyRecord> FindApiKeyByHash(const std::string& secret_hash) override;
  Result<std::vector<ApiKeyRecord>> ListApiKeys() override;
  // Revoking an already revoked key succeeds and keeps the first revocation time.
  Status RevokeApiKey(const std::string& id, core::Timestamp when) override;

  Result<QueryResult> Query(const std::string& sql, std::int64_t max_rows = 10'000) override;

  Result<std::vector<LlmSpendBucket>> LlmSpendSince(core::Timestamp since,
                                                    std::chrono::seconds bucket) override;
  Result<std::vector<RevenueBucket>> RevenueSince(core::Timestamp since,
                                                  std::chrono::seconds bucket) override;
  Status SetKillSwitch(const KillSwitchChange& change) override;
  Result<std::optional<KillSwitchChange>> GetFactoryKillSwitch() override;

  // Parked webhooks and product mappings (sqlite_parked.cc).
  Result<std::vector<ProductMapping>> ListMappings(const std::string& provider) override;
  Result<ParkOutcome> ParkEvent(const ParkedEvent& parked, const ParkedResolver& resolve) override;
  Result<std::vector<ParkedEvent>> ListParked(bool include_replayed) override;
  Result<ReplayStats> PutMappingAndReplay(const ProductMapping& mapping,
                                          const ParkedResolver& resolve) override;
  Result<ReplayStats> ReplayParked(const ParkedResolver& resolve, core::Timestamp now) override;

  // Rollups (sqlite_rollups.cc; maintained by sqlite_rollup_writer.cc).
  Result<RollupSet> ReadRollups(core::Timestamp from, core::Timestamp to,
                                unsigned kinds) override;
  Status RebuildRollups() override;
  Result<std::string> RollupTimeZone() override;
  Status SetRollupTimeZone(const std::string& time_zone) override;
  Result<std::vector<SubscriptionEventRow>> ListSubscriptionEvents(core::Timestamp to) override;
  Result<std::vector<ProductLifetime>> ProductLifetimes(core::Timestamp to) override;

  // Alerts (sqlite_alerts.cc).
  Result<AlertFireOutcome> FireAlert(const AlertRecord& alert) override;
  Status ResolveAlert(std::int64_t id, core::Timestamp at) override;
  Result<AlertRecord> GetAlert(std::int64_t id) override;
  Result<std::vector<AlertRecord>> ListAlerts(const AlertFilter& filter) override;
  Status AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) override;
  Status SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                      core::Timestamp at) override;

 private:
  // A pooled read connection, returned to the pool when destroyed.
  class Reader {
   public:
    Reader(SqliteStore* owner, sqlite::DbHandle db) : owner_(owner), db_(std::move(db)) {}
    Reader(Reader&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), db_(std::move(o.db_)) {}
    Reader& operator=(Reader&&) = delete;
    ~Reader();
    sqlite3* get() const { return db_.get(); }
    // Closes the connection instead of pooling it (left in an unknown state).
    void Discard() { db_.reset(); }

   private:
    SqliteStore* owner_;
    sqlite::DbHandle db_;
  };

  SqliteStore(std::string path, OpenOptions options, sqlite::DbHandle writer);

  Result<Reader> AcquireReader();
  void ReleaseReader(sqlite::DbHandle db);
  // The write connection; invalid_argument on a read-only store. Caller
  // holds write_mu_.
  Result<sqlite3*> Writer(std::string_view what);
  // Runs body inside BEGIN IMMEDIATE ... COMMIT on the write connection;
  // rolls back when body or the commit fails. Caller holds write_mu_.
  Status InWriteTransaction(sqlite3* db, std::string_view context,
                            const std::function<Status()>& body);
  // Appends one event with the cached insert statement of its table; sets
  // *inserted to false for a duplicate event_id. Caller holds write_mu_.
  Status InsertEvent(sqlite3* db, const model::Event& event, bool* inserted);
  // The body of Append inside an open write transaction: every event of
  // every batch, counted into *stats (one per batch). Also used by the
  // parked-event replay so replayed events take exactly the append path.
  // Caller holds write_mu_.
  Status AppendInTransaction(sqlite3* db, std::span<const model::Batch* const> batches,
                             std::vector<AppendStats>* stats);
  // Points the rollup writer at the zone store_settings names, when another
  // connection or process changed it. Inside the write transaction, before
  // any Add or bucket SQL. Caller holds write_mu_.
  Status SyncRollupCalendar(sqlite3* db);
  // Replays parked events (all providers, or one) on the open write
  // transaction. Caller holds write_mu_.
  Result<ReplayStats> ReplayLocked(sqlite3* db, const std::string* provider,
                                   const ParkedResolver& resolve, core::Timestamp now);
  // Runs one writing statement (bound by bind, which returns the OR of its
  // bind result codes) as its own durable transaction on the writer; the
  // number of changed rows goes to *changes when given.
  Status WriteOne(std::string_view context, std::string_view sql,
                  const std::function<int(sqlite::Statement&)>& bind,
                  std::int64_t* changes = nullptr);

  const std::string path_;
  const OpenOptions options_;

  std::mutex write_mu_;
  sqlite::DbHandle writer_;  // null on a read-only store; guarded by write_mu_
  // Insert statements per event table on writer_, prepared on first use.
  std::array<sqlite::Statement, model::kEventKindCount> insert_stmts_;  // guarded by write_mu_
  // Pending rollup sums of the open Append and its statements on writer_.
  sqlite::RollupWriter rollups_;  // guarded by write_mu_

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<sqlite::DbHandle> idle_readers_;  // guarded by pool_mu_
  int open_readers_ = 0;                        // pooled + lent out; guarded by pool_mu_
};

}  // namespace tally::store
