// PostgresStore: opening, the connection pool, transactions, migrations and
// counts. Append is in pg_append.cc, entities and keys in pg_entities.cc,
// user SQL in pg_query.cc, rollups in pg_rollups.cc, parked events in
// pg_parked.cc, live reads and kill switches in pg_live.cc, alerts in
// pg_alerts.cc.
#include "store/postgres/pg_store.h"

#include <fmt/format.h>

#include <algorithm>

#include "store/postgres/pg_locks.h"
#include "store/postgres/pg_schema.h"

namespace tally::store {

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url) {
  return Open(url, Options{});
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                           Options options) {
  if (options.max_connections < 1) options.max_connections = 1;
  options.concurrent_appends = std::clamp(options.concurrent_appends, 1, options.max_connections);
  std::unique_ptr<PostgresStore> store(new PostgresStore(url, options));
  if (options.read_only) {
    auto lease = TALLY_TRY(store->Acquire("open"));
    int version = TALLY_TRY(pg::AppliedSchemaVersion(lease.get()));
    if (version != pg::LatestSchemaVersion()) {
      return std::unexpected(core::Error::Unavailable(fmt::format(
          "the tally database has schema version {}, this tally needs {}; run `tally migrate`",
          version, pg::LatestSchemaVersion())));
    }
  } else {
    TALLY_RETURN_IF_ERROR(store->Migrate());
  }
  return store;
}

PostgresStore::PostgresStore(std::string url, Options options)
    : url_(std::move(url)), options_(options) {}

PostgresStore::~PostgresStore() {
  maintenance_ = {};  // stop and join the maintenance thread first
  std::lock_guard lock(pool_mu_);
  idle_.clear();
}

PostgresStore::Lease::~Lease() {
  if (owner_ != nullptr && c_ != nullptr) owner_->Release(std::move(c_));
}

Result<PostgresStore::Lease> PostgresStore::Acquire(std::string_view what) {
  {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock, [&] { return !idle_.empty() || open_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
    ++open_;  // reserve the slot; connect outside the lock
  }
  std::string options = "-c TimeZone=UTC";
  if (options_.read_only) options += " -c default_transaction_read_only=on";
  std::string timeout = std::to_string(options_.connect_timeout_seconds);
  const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
  const char* values[] = {url_.c_str(), timeout.c_str(), options.c_str(), "tally", nullptr};
  auto c = std::make_unique<PooledConn>();
  c->conn.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (c->conn == nullptr || PQstatus(c->conn.get()) != CONNECTION_OK) {
    core::Error error = pg::ErrorFromConn(c->conn.get(), fmt::format("{}: connect", what));
    c->conn.reset();
    Release(nullptr);
    return std::unexpected(std::move(error));
  }
  // NOTICEs ("relation already exists, skipping") and WARNINGs go nowhere:
  // failures come back as results, and stderr belongs to the caller.
  PQsetNoticeProcessor(c->conn.get(), [](void*, const char*) {}, nullptr);
  return Lease(this, std::move(c));
}

void PostgresStore::Release(std::unique_ptr<PooledConn> c) {
  std::lock_guard lock(pool_mu_);
  // A connection the server dropped, or one left inside a transaction by a
  // failure half-way, is closed rather than lent again.
  if (c != nullptr && c->conn != nullptr && PQstatus(c->conn.get()) == CONNECTION_OK &&
      PQtransactionStatus(c->conn.get()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  pool_cv_.notify_one();
}

Status PostgresStore::InTransaction(PGconn* conn, std::string_view context, Writer writer,
                                    const std::function<Status()>& body) {
  // BEGIN and the locks in one round trip.
  std::string begin = "BEGIN";
  if (writer == Writer::kAppend) {
    begin += fmt::format("; SELECT pg_advisory_xact_lock_shared({})", pg::kIngestLock);
  } else if (writer == Writer::kExclusive) {
    begin += "; " + pg::ExclusiveWriterLocks();
  }
  Status status = pg::Exec(conn, begin, fmt::format("{}: begin", context));
  if (!status) {
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE) {
      (void)pg::Exec(conn, "ROLLBACK", context);
    }
    return status;
  }
  status = body();
  if (status) status = pg::Exec(conn, "COMMIT", fmt::format("{}: commit", context));
  if (!status && PQstatus(conn) == CONNECTION_OK) (void)pg::Exec(conn, "ROLLBACK", context);
  return status;
}

Status PostgresStore::WriteOne(std::string_view context, std::string_view sql,
                               const std::vector<pg::Param>& params, std::int64_t* changes) {
  auto lease = TALLY_TRY(Acquire(context));
  // A single statement outside BEGIN is its own transaction, committed
  // before the result arrives.
  auto res = TALLY_TRY(pg::Run(lease.get(), sql, params, context));
  if (changes != nullptr) *changes = std::atoll(PQcmdTuples(res.get()));
  return core::OkStatus();
}

Result<pg::ResultHandle> PostgresStore::ReadOne(std::string_view context, std::string_view sql,
                                                const std::vector<pg::Param>& params) {
  auto lease = TALLY_TRY(Acquire(context));
  return pg::Run(lease.get(), sql, params, context);
}

Status PostgresStore::Migrate() {
  std::lock_guard lock(write_mu_);
  auto lease = TALLY_TRY(Acquire("migrate"));
  if (options_.read_only) {
    int version = TALLY_TRY(pg::AppliedSchemaVersion(lease.get()));
    if (version == pg::LatestSchemaVersion()) return core::OkStatus();
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "migrate: the store is open read-only and at schema version {} (latest {})", version,
        pg::LatestSchemaVersion())));
  }
  TALLY_RETURN_IF_ERROR(pg::MigrateSchema(lease.get(), options_.compress_after_days));
  TALLY_RETURN_IF_ERROR(pg::EnsureSqlReaderRole(lease.get()));
  auto report = pg::RunMaintenance(lease.get());
  if (!report) return std::unexpected(std::move(report).error());
  return core::OkStatus();
}

Result<pg::MaintenanceReport> PostgresStore::RunMaintenance() {
  auto lease = TALLY_TRY(Acquire("maintenance"));
  return pg::RunMaintenance(lease.get());
}

void PostgresStore::StartMaintenance(std::chrono::seconds every, MaintenanceCallback on_run) {
  maintenance_ = std::jthread([this, every, on_run = std::move(on_run)](std::stop_token stop) {
    std::unique_lock lock(maintenance_mu_);
    // The open already ran it once: the first run is one period later.
    while (!maintenance_cv_.wait_for(lock, stop, every, [&stop] { return stop.stop_requested(); })) {
      lock.unlock();
      auto report = RunMaintenance();
      if (on_run) on_run(report);
      lock.lock();
    }
  });
}

Result<std::int64_t> PostgresStore::CountEvents(model::EventKind kind) {
  auto res = TALLY_TRY(ReadOne(fmt::format("{}: count", model::TableName(kind)),
                               fmt::format("SELECT count(*) FROM {}", model::TableName(kind)), {}));
  return pg::Int(res.get(), 0, 0);
}

Result<bool> PostgresStore::HasEvent(model::EventKind kind, const std::string& event_id) {
  // The dedup table answers "was it stored" with one index probe.
  auto res = TALLY_TRY(ReadOne(
      fmt::format("{}: look up event_id '{}'", model::TableName(kind), event_id),
      fmt::format("SELECT 1 FROM {}_ids WHERE event_id = $1", model::TableName(kind)),
      {event_id}));
  return PQntuples(res.get()) > 0;
}

}  // namespace tally::store
