// PostgresStore: the Store on PostgreSQL 15+ through libpq (DESIGN.md: many
// tally nodes on one database; TimescaleDB features when the extension is
// loaded). Schema and units: docs/schema.md ("PostgreSQL"); raw tables use
// the seed's types (TIMESTAMPTZ, UUID, NUMERIC USD, JSONB) so the seed's own
// SQL and Grafana read them directly.
//
// Durability: Append COMMITs (synchronous_commit as the server has it, on by
// default) before it returns; acks follow the commit.
//
// Concurrency: a pool of connections (up to max_connections), lent one per
// call. Writes take transaction-level advisory locks (pg_locks.h) valid
// across every tally node on the database: appends overlap while they claim
// ids and COPY rows and are serialized for their rollups and COMMIT; other
// writes (parked events, rollup rebuild, maintenance) run alone. Reads run
// concurrently (MVCC) and see only committed data.
//
// Failures: a connection the server dropped (restart, network) is discarded
// when returned, and the next call connects anew; while the server is down
// every call fails fast with `unavailable` (HTTP 503), never `internal`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_maintenance.h"
#include "store/store.h"

namespace tally::store {

class PostgresStore final : public Store {
 public:
  struct Options {
    // No migration at open; every write fails (the session is read-only).
    bool read_only = false;
    int max_connections = 8;
    // Query() stops a statement after this long (statement_timeout).
    std::chrono::milliseconds query_time_limit{30'000};
    // TimescaleDB: compress chunks older than this many days.
    int compress_after_days = 7;
    // How long connecting may take before the call fails with unavailable.
    int connect_timeout_seconds = 5;
    // Appends the ingest pipeline overlaps (Store::ConcurrentAppends): two
    // keep the database busy while one of them waits for its COMMIT.
    int concurrent_appends = 2;
  };

  // url: a libpq connection URI ("postgres://user:pw@host:5432/db") or
  // key=value string. Opening a writable store migrates the schema.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url);
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, Options options);
  ~PostgresStore() override;

  // Premakes partitions, drops those past retention and forgets their ids
  // (pg_partman; pg_maintenance.h). Skipped while another node runs it.
  Result<pg::MaintenanceReport> RunMaintenance();
  // Runs RunMaintenance every `every` on a background thread until the store
  // is destroyed (`tally serve`); on_run gets each run's outcome (for the
  // log) on that thread.
  using MaintenanceCallback = std::function<void(const Result<pg::MaintenanceReport>&)>;
  void StartMaintenance(std::chrono::seconds every, MaintenanceCallback on_run);

  Status Migrate() override;
  Result<std::vector<AppendStats>> Append(std::span<const model::Batch* const> batches) override;
  int ConcurrentAppends() const override { return options_.concurrent_appends; }
  Result<std::int64_t> CountEvents(model::EventKind kind) override;
  Result<bool> HasEvent(model::EventKind kind, const std::string& event_id) override;

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
  Status RevokeApiKey(const std::string& id, core::Timestamp when) override;

  Result<QueryResult> Query(const std::string& sql, std::int64_t max_rows = 10'000) override;

  Result<std::vector<LlmSpendBucket>> LlmSpendSince(core::Timestamp since,
                                                    std::chrono::seconds bucket) override;
  Result<std::vector<RevenueBucket>> RevenueSince(core::Timestamp since,
                                                  std::chrono::seconds bucket) override;
  Status SetKillSwitch(const KillSwitchChange& change) override;
  Result<std::optional<KillSwitchChange>> GetFactoryKillSwitch() override;

  Result<std::vector<ProductMapping>> ListMappings(const std::string& provider) override;
  Result<ParkOutcome> ParkEvent(const ParkedEvent& parked, const ParkedResolver& resolve) override;
  Result<std::vector<ParkedEvent>> ListParked(bool include_replayed) override;
  Result<ReplayStats> PutMappingAndReplay(const ProductMapping& mapping,
                                          const ParkedResolver& resolve) override;
  Result<ReplayStats> ReplayParked(const ParkedResolver& resolve, core::Timestamp now) override;

  Result<RollupSet> ReadRollups(core::Timestamp from, core::Timestamp to,
                                unsigned kinds) override;
  Status RebuildRollups() override;
  Result<std::string> RollupTimeZone() override;
  Status SetRollupTimeZone(const std::string& time_zone) override;
  Result<std::vector<SubscriptionEventRow>> ListSubscriptionEvents(core::Timestamp to) override;
  Result<std::vector<ProductLifetime>> ProductLifetimes(core::Timestamp to) override;

  Result<AlertFireOutcome> FireAlert(const AlertRecord& alert) override;
  Status ResolveAlert(std::int64_t id, core::Timestamp at) override;
  Result<AlertRecord> GetAlert(std::int64_t id) override;
  Result<std::vector<AlertRecord>> ListAlerts(const AlertFilter& filter) override;
  Status AckAlert(std::int64_t id, const std::string& actor, core::Timestamp at) override;
  Status SilenceAlert(std::int64_t id, core::Timestamp until, const std::string& actor,
                      core::Timestamp at) override;

 private:
  struct PooledConn {
    pg::ConnHandle conn;
    bool staged = false;  // the session's temp staging tables exist
    // Kinds whose staging tables hold rows of an earlier append in the open
    // transaction (parked replays append several times); reset at BEGIN.
    unsigned dirty = 0;
  };
  // A lent connection, returned to the pool when destroyed (or dropped when
  // the server broke it or it is left inside a transaction).
  class Lease {
   public:
    Lease(PostgresStore* owner, std::unique_ptr<PooledConn> c) : owner_(owner), c_(std::move(c)) {}
    Lease(Lease&& o) noexcept = default;
    ~Lease();
    PGconn* get() const { return c_->conn.get(); }
    PooledConn& pooled() { return *c_; }

   private:
    PostgresStore* owner_;
    std::unique_ptr<PooledConn> c_;
  };

  PostgresStore(std::string url, Options options);

  Result<Lease> Acquire(std::string_view what);
  void Release(std::unique_ptr<PooledConn> c);
  // Which cluster-wide locks a transaction takes at BEGIN (pg_locks.h):
  // none (reads, alerts, kill switches), the ingest lock shared (appends,
  // which take the write lock themselves before their rollups) or both
  // exclusively (every other write).
  enum class Writer { kNone, kAppend, kExclusive };
  // BEGIN; body; COMMIT on a lent connection (ROLLBACK on failure).
  Status InTransaction(PGconn* conn, std::string_view context, Writer writer,
                       const std::function<Status()>& body);
  // The body of Append inside an open write transaction (also the parked
  // replay's path): stages, deduplicates, inserts and folds rollups.
  // optimistic: claim ids as if none were stored; a stored one fails the
  // call with conflict and sets *collided (the caller rolls back and redoes
  // it carefully). Otherwise ids already stored are found and skipped.
  // lock_rollups: the transaction holds only the ingest lock (Writer::
  // kAppend); the write lock is taken before the rollups are touched.
  Status AppendInTransaction(PooledConn& c, std::span<const model::Batch* const> batches,
                             std::vector<AppendStats>* stats, bool optimistic = false,
                             bool* collided = nullptr, bool lock_rollups = false);
  Status EnsureStaging(PooledConn& c);
  Result<ReplayStats> ReplayLocked(PGconn* conn, PooledConn& c, const std::string* provider,
                                   const ParkedResolver& resolve, core::Timestamp now);
  // One statement in its own transaction; rows changed to *changes.
  Status WriteOne(std::string_view context, std::string_view sql,
                  const std::vector<pg::Param>& params, std::int64_t* changes = nullptr);
  Result<pg::ResultHandle> ReadOne(std::string_view context, std::string_view sql,
                                   const std::vector<pg::Param>& params);

  const std::string url_;
  const Options options_;
  // Serializes this process's exclusive writers before they take a
  // connection (appends without running totals do not take it).
  std::mutex write_mu_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PooledConn>> idle_;  // guarded by pool_mu_
  int open_ = 0;                                   // idle + lent; guarded by pool_mu_

  // Last: stopped (and joined) before the pool it borrows from goes away.
  std::mutex maintenance_mu_;
  std::condition_variable_any maintenance_cv_;
  std::jthread maintenance_;
};

}  // namespace tally::store
