#include "store/sqlite/sqlite_schema.h"

#include <fmt/format.h>

#include <array>
#include <string_view>

#include "store/sqlite/sqlite_rollup_schema.h"
#include "store/sqlite/sqlite_statement.h"

namespace tally::store::sqlite {
namespace {

// Units (see docs/schema.md): times are INTEGER microseconds since the Unix
// epoch, UTC; money columns are INTEGER micro-USD; growth_events.value and
// task_events.quality_score are INTEGER hundredths. Column names are the
// seed's; event_id (and llm_calls.reservation_id) are tally's additions.
// STRICT makes SQLite refuse a value of the wrong type instead of storing it.
// CHECKs guard ranges only: the closed vocabularies (status, event_type) are
// written from C++ enums and cannot be wrong, and a CHECK (x IN (...)) costs
// an ephemeral table per inserted row (measured: 2.5x slower appends).
// Event tables are plain rowid tables with a UNIQUE index on event_id: rows
// arrive in roughly time order, so the table b-tree only ever appends, and
// only the narrow event_id index takes random inserts (a WITHOUT ROWID table
// keyed by event_id would scatter whole rows and widen every other index).

constexpr std::string_view kV1SeedTables = R"sql(
CREATE TABLE products (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active',
  launched_at   INTEGER,
  revenue_model TEXT,
  monthly_cost  INTEGER,
  metadata      TEXT,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE agents (
  id            TEXT PRIMARY KEY,
  role          TEXT NOT NULL,
  default_model TEXT,
  daily_budget  INTEGER CHECK (daily_budget >= 0),
  status        TEXT NOT NULL DEFAULT 'active',
  metadata      TEXT,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE revenue_channels (
  id             TEXT PRIMARY KEY,
  product_id     TEXT REFERENCES products(id),
  channel_type   TEXT NOT NULL,
  channel_config TEXT,
  created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE llm_calls (
  time           INTEGER NOT NULL,
  agent_id       TEXT NOT NULL,
  task_id        TEXT,
  model          TEXT NOT NULL,
  provider       TEXT NOT NULL,
  input_tokens   INTEGER NOT NULL CHECK (input_tokens >= 0),
  output_tokens  INTEGER NOT NULL CHECK (output_tokens >= 0),
  cached_tokens  INTEGER NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0),
  cost_usd       INTEGER NOT NULL CHECK (cost_usd >= 0),
  latency_ms     INTEGER NOT NULL CHECK (latency_ms >= 0),
  status         TEXT NOT NULL,
  error_type     TEXT,
  reservation_id TEXT,
  metadata       TEXT,
  event_id       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX llm_calls_event_id ON llm_calls (event_id);
CREATE INDEX llm_calls_time ON llm_calls (time);
CREATE INDEX llm_calls_agent_time ON llm_calls (agent_id, time);
CREATE INDEX llm_calls_task ON llm_calls (task_id) WHERE task_id IS NOT NULL;

CREATE TABLE revenue_events (
  time        INTEGER NOT NULL,
  product_id  TEXT NOT NULL,
  channel_id  TEXT,
  event_type  TEXT NOT NULL,
  amount_usd  INTEGER,
  currency    TEXT NOT NULL DEFAULT 'USD',
  customer_id TEXT,
  metadata    TEXT,
  event_id    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX revenue_events_event_id ON revenue_events (event_id);
CREATE INDEX revenue_events_time ON revenue_events (time);
CREATE INDEX revenue_events_product_time ON revenue_events (product_id, time);

CREATE TABLE task_events (
  time           INTEGER NOT NULL,
  task_id        TEXT NOT NULL,
  agent_id       TEXT NOT NULL,
  product_id     TEXT,
  task_type      TEXT NOT NULL,
  status         TEXT NOT NULL,
  duration_ms    INTEGER CHECK (duration_ms >= 0),
  total_cost_usd INTEGER CHECK (total_cost_usd >= 0),
  steps_count    INTEGER CHECK (steps_count >= 0),
  quality_score  INTEGER CHECK (quality_score BETWEEN 0 AND 100),
  metadata       TEXT,
  event_id       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX task_events_event_id ON task_events (event_id);
CREATE INDEX task_events_time ON task_events (time);
CREATE INDEX task_events_product_time ON task_events (product_id, time);
CREATE INDEX task_events_agent_time ON task_events (agent_id, time);
CREATE INDEX task_events_task ON task_events (task_id);

CREATE TABLE infra_costs (
  time           INTEGER NOT NULL,
  product_id     TEXT,
  cost_type      TEXT NOT NULL,
  provider       TEXT NOT NULL,
  amount_usd     INTEGER NOT NULL,
  billing_period TEXT,
  metadata       TEXT,
  event_id       TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX infra_costs_event_id ON infra_costs (event_id);
CREATE INDEX infra_costs_time ON infra_costs (time);
CREATE INDEX infra_costs_product_time ON infra_costs (product_id, time);

CREATE TABLE growth_events (
  time       INTEGER NOT NULL,
  product_id TEXT NOT NULL,
  channel    TEXT NOT NULL,
  metric     TEXT NOT NULL,
  value      INTEGER NOT NULL DEFAULT 100,
  metadata   TEXT,
  event_id   TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX growth_events_event_id ON growth_events (event_id);
CREATE INDEX growth_events_time ON growth_events (time);
CREATE INDEX growth_events_product_time ON growth_events (product_id, time);
)sql";

// Tables tally adds beyond the seed.
constexpr std::string_view kV2ApiKeys = R"sql(
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes      INTEGER NOT NULL CHECK (scopes >= 0),
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;
)sql";

// The busiest table keeps only the indexes its reads need: every extra
// B-tree costs the single writer about 1 us per row (see docs/benchmarks.md).
// Reads by time go through (agent_id, time) per agent or through rollups.
constexpr std::string_view kV3LeanLlmIndexes = R"sql(
DROP INDEX IF EXISTS llm_calls_time;
)sql";

// Kill switches (src/live): the factory-wide switch (agents keep theirs in
// agents.status) and the audit log of every pause and resume: who, when, why.
constexpr std::string_view kV4KillSwitches = R"sql(
CREATE TABLE kill_switches (
  target     TEXT PRIMARY KEY,
  paused     INTEGER NOT NULL CHECK (paused IN (0, 1)),
  reason     TEXT NOT NULL,
  actor      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE audit_log (
  id     INTEGER PRIMARY KEY,
  time   INTEGER NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL
) STRICT;
)sql";

// Webhooks that cannot be mapped to a product yet are parked, never dropped
// (store/parked.h); product_mappings says which product and channel a
// provider's external id (price, product, variant, repository, or "*") is.
// A parked row is unique per (provider, provider_event_id), so a provider's
// retries of one delivery park it once.
constexpr std::string_view kWebhookParking = R"sql(
CREATE TABLE product_mappings (
  provider    TEXT NOT NULL,
  external_id TEXT NOT NULL,
  product_id  TEXT NOT NULL REFERENCES products(id),
  channel_id  TEXT REFERENCES revenue_channels(id),
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (provider, external_id)
) STRICT;
CREATE TABLE parked_events (
  id                INTEGER PRIMARY KEY,
  provider          TEXT NOT NULL,
  provider_event_id TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  reason            TEXT NOT NULL,
  payload           TEXT NOT NULL,
  received_at       INTEGER NOT NULL,
  replayed_at       INTEGER,
  UNIQUE (provider, provider_event_id)
) STRICT;
CREATE INDEX parked_events_pending ON parked_events (provider, id) WHERE replayed_at IS NULL;
)sql";

// Alerts (src/alerts, store/alerts.h): one row per firing episode of a rule
// on a subject. The partial unique index is the dedup guarantee: at most one
// firing alert per (rule, subject), whoever evaluates.
constexpr std::string_view kAlertsMigration = R"sql(
CREATE TABLE alerts (
  id             INTEGER PRIMARY KEY,
  rule           TEXT NOT NULL,
  subject        TEXT NOT NULL,
  severity       TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  message        TEXT NOT NULL,
  details        TEXT NOT NULL,
  fired_at       INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  resolved_at    INTEGER,
  acked_at       INTEGER,
  acked_by       TEXT,
  silenced_until INTEGER
) STRICT;
CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule, subject) WHERE state = 'firing';
CREATE INDEX alerts_rule_subject ON alerts (rule, subject, id);
)sql";

// Index i holds version i + 1. Append new migrations at the end only.
constexpr std::array<std::string_view, 11> kMigrations = {kV1SeedTables, kV2ApiKeys, kV3LeanLlmIndexes,
                                                         kV4KillSwitches,
                                                         kWebhookParking,
                                                         kRollupsMigration,
                                                         kAgentCostsDailyMigration,
                                                         kOpsEventsMigration,
                                                         kAlertsMigration,
                                                         kTaskProductDailyMigration,
                                                         kStoreSettingsMigration};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version    INTEGER PRIMARY KEY,"
    "  applied_at INTEGER NOT NULL"  // microseconds since the epoch, UTC
    ") STRICT";

core::Result<bool> IsApplied(sqlite3* db, int version) {
  auto stmt = TALLY_TRY(Statement::Prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?",
                                           "schema_migrations"));
  stmt.BindInt(1, version);
  int rc = stmt.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(ErrorFromSqlite(rc, db, "schema_migrations: read"));
}

core::Status ApplyOne(sqlite3* db, int version) {
  std::string context = fmt::format("schema migration {}", version);
  // IMMEDIATE takes the write lock first, so the "applied?" check and the
  // migration are atomic against another process migrating the same file.
  TALLY_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", context));
  auto body = [&]() -> core::Status {
    if (TALLY_TRY(IsApplied(db, version))) return core::OkStatus();
    std::string sql(kMigrations[version - 1]);
    TALLY_RETURN_IF_ERROR(Exec(db, sql.c_str(), context));
    auto record = TALLY_TRY(
        Statement::Prepare(db,
                           "INSERT INTO schema_migrations (version, applied_at) VALUES "
                           "(?, CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))",
                           context));
    record.BindInt(1, version);
    int rc = record.Step();
    if (rc != SQLITE_DONE) return std::unexpected(ErrorFromSqlite(rc, db, context));
    return core::OkStatus();
  };
  core::Status status = body();
  if (!status) {
    (void)Exec(db, "ROLLBACK", context);
    return status;
  }
  if (auto commit = Exec(db, "COMMIT", context); !commit) {
    (void)Exec(db, "ROLLBACK", context);
    return commit;
  }
  return core::OkStatus();
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

core::Result<int> AppliedSchemaVersion(sqlite3* db) {
  auto exists = TALLY_TRY(Statement::Prepare(
      db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
      "schema_migrations"));
  int rc = exists.Step();
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) return std::unexpected(ErrorFromSqlite(rc, db, "schema_migrations: read"));
  auto max = TALLY_TRY(Statement::Prepare(
      db, "SELECT coalesce(max(version), 0) FROM schema_migrations", "schema_migrations"));
  rc = max.Step();
  if (rc != SQLITE_ROW) return std::unexpected(ErrorFromSqlite(rc, db, "schema_migrations: read"));
  return static_cast<int>(max.ColumnInt(0));
}

core::Status MigrateSchema(sqlite3* db, int target_version) {
  TALLY_RETURN_IF_ERROR(Exec(db, kCreateMigrationsTable, "create schema_migrations"));
  int applied = TALLY_TRY(AppliedSchemaVersion(db));
  if (applied > LatestSchemaVersion()) {
    return std::unexpected(core::Error::Internal(fmt::format(
        "database schema version {} is newer than this tally supports ({}); upgrade tally", applied,
        LatestSchemaVersion())));
  }
  for (int version = applied + 1; version <= target_version && version <= LatestSchemaVersion();
       ++version) {
    TALLY_RETURN_IF_ERROR(ApplyOne(db, version));
  }
  return core::OkStatus();
}

}  // namespace tally::store::sqlite
