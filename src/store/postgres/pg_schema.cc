#include "store/postgres/pg_schema.h"

#include <fmt/format.h>

#include <string>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_kinds.h"

namespace tally::store::pg {
namespace {

// Units: raw tables use the seed's types (TIMESTAMPTZ, NUMERIC USD, JSONB);
// rollup tables are tally's own, keyed like SQLite's, with bucket TIMESTAMPTZ
// and money as BIGINT micro-USD (growth values BIGINT hundredths), so
// incremental sums are exact integers. product_pnl_daily converts to NUMERIC
// USD like the seed's view. Text keys that tally orders or compares (event
// ids, rollup keys) are COLLATE "C": byte order, as in SQLite, whatever the
// database's locale.
constexpr std::string_view kFunctions = R"sql(
CREATE OR REPLACE FUNCTION tally_ts(us BIGINT) RETURNS TIMESTAMPTZ
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT TIMESTAMPTZ '1970-01-01 00:00:00+00' + us * INTERVAL '1 microsecond' $$;
CREATE OR REPLACE FUNCTION tally_us(t TIMESTAMPTZ) RETURNS BIGINT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::BIGINT $$;
CREATE OR REPLACE FUNCTION tally_floor(t BIGINT, w BIGINT) RETURNS BIGINT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT t - (((t % w) + w) % w) $$;
)sql";

constexpr std::string_view kEntities = R"sql(
CREATE TABLE products (
  id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active',
  launched_at   TIMESTAMPTZ,
  revenue_model TEXT,
  monthly_cost  NUMERIC(18,6),
  metadata      JSONB,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE agents (
  id            TEXT PRIMARY KEY,
  role          TEXT NOT NULL,
  default_model TEXT,
  daily_budget  NUMERIC(18,6) CHECK (daily_budget >= 0),
  status        TEXT NOT NULL DEFAULT 'active',
  metadata      JSONB,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE revenue_channels (
  id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  product_id     UUID REFERENCES products(id),
  channel_type   TEXT NOT NULL,
  channel_config JSONB,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes      INTEGER NOT NULL CHECK (scopes >= 0),
  created_at  TIMESTAMPTZ NOT NULL,
  revoked_at  TIMESTAMPTZ
);
CREATE TABLE kill_switches (
  target     TEXT PRIMARY KEY,
  paused     BOOLEAN NOT NULL,
  reason     TEXT NOT NULL,
  actor      TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE audit_log (
  id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  time   TIMESTAMPTZ NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE product_mappings (
  provider    TEXT NOT NULL,
  external_id TEXT NOT NULL,
  product_id  UUID NOT NULL REFERENCES products(id),
  channel_id  UUID REFERENCES revenue_channels(id),
  created_at  TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (provider, external_id)
);
CREATE TABLE parked_events (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider          TEXT NOT NULL,
  provider_event_id TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  reason            TEXT NOT NULL,
  payload           TEXT NOT NULL,
  received_at       TIMESTAMPTZ NOT NULL,
  replayed_at       TIMESTAMPTZ,
  UNIQUE (provider, provider_event_id)
);
CREATE INDEX parked_events_pending ON parked_events (provider, id) WHERE replayed_at IS NULL;
CREATE TABLE alerts (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  rule           TEXT NOT NULL,
  subject        TEXT NOT NULL,
  severity       TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
  message        TEXT NOT NULL,
  details        TEXT NOT NULL,
  fired_at       TIMESTAMPTZ NOT NULL,
  last_seen_at   TIMESTAMPTZ NOT NULL,
  resolved_at    TIMESTAMPTZ,
  acked_at       TIMESTAMPTZ,
  acked_by       TEXT,
  silenced_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule, subject) WHERE state = 'firing';
CREATE INDEX alerts_rule_subject ON alerts (rule, subject, id);
)sql";

#define C_TEXT "TEXT COLLATE \"C\" NOT NULL"
constexpr std::string_view kRollups =
    "CREATE TABLE agent_costs_hourly (bucket TIMESTAMPTZ NOT NULL, agent_id " C_TEXT
    ", model " C_TEXT ", provider " C_TEXT ", call_count BIGINT NOT NULL, "
    "total_input_tokens BIGINT NOT NULL, total_output_tokens BIGINT NOT NULL, "
    "total_cached_tokens BIGINT NOT NULL, total_cost BIGINT NOT NULL, "
    "sum_latency_ms BIGINT NOT NULL, error_count BIGINT NOT NULL, avg_latency DOUBLE PRECISION "
    "GENERATED ALWAYS AS (sum_latency_ms::DOUBLE PRECISION / call_count) STORED, "
    "PRIMARY KEY (bucket, agent_id, model, provider));\n"
    "CREATE TABLE agent_costs_daily (LIKE agent_costs_hourly INCLUDING ALL);\n"
    "CREATE TABLE revenue_daily (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT
    ", event_type " C_TEXT ", gross_revenue BIGINT NOT NULL, refunds BIGINT NOT NULL, "
    "total_revenue BIGINT NOT NULL, event_count BIGINT NOT NULL, unique_customers BIGINT NOT NULL, "
    "PRIMARY KEY (bucket, product_id, event_type));\n"
    "CREATE TABLE revenue_daily_customers (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT
    ", event_type " C_TEXT ", customer_id " C_TEXT
    ", PRIMARY KEY (bucket, product_id, event_type, customer_id));\n"
    "CREATE TABLE task_rollup (task_id TEXT COLLATE \"C\" PRIMARY KEY, call_cost BIGINT NOT NULL, "
    "call_count BIGINT NOT NULL, terminal_time TIMESTAMPTZ, terminal_event_id TEXT COLLATE \"C\", "
    "agent_id TEXT COLLATE \"C\", product_id TEXT COLLATE \"C\", task_type TEXT COLLATE \"C\", "
    "status TEXT COLLATE \"C\", total_cost_usd BIGINT, duration_ms BIGINT, steps_count BIGINT, "
    "quality_score BIGINT);\n"
    "CREATE TABLE task_costs_daily (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT
    ", agent_id " C_TEXT ", task_type " C_TEXT ", status " C_TEXT
    ", task_count BIGINT NOT NULL, total_cost BIGINT NOT NULL, llm_cost BIGINT NOT NULL, "
    "tool_cost BIGINT NOT NULL, total_duration_ms BIGINT NOT NULL, steps_sum BIGINT NOT NULL, "
    "steps_count BIGINT NOT NULL, quality_sum BIGINT NOT NULL, quality_count BIGINT NOT NULL, "
    "PRIMARY KEY (bucket, product_id, agent_id, task_type, status));\n"
    "CREATE TABLE infra_costs_daily (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT
    ", cost_type " C_TEXT ", total_cost BIGINT NOT NULL, event_count BIGINT NOT NULL, "
    "PRIMARY KEY (bucket, product_id, cost_type));\n"
    "CREATE TABLE growth_daily (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT
    ", channel " C_TEXT ", metric " C_TEXT ", total_value BIGINT NOT NULL, "
    "event_count BIGINT NOT NULL, last_time TIMESTAMPTZ NOT NULL, last_event_id " C_TEXT
    ", last_value BIGINT NOT NULL, PRIMARY KEY (bucket, product_id, channel, metric));\n"
    "CREATE TABLE ops_daily (bucket TIMESTAMPTZ NOT NULL, product_id " C_TEXT ", kind " C_TEXT
    ", event_count BIGINT NOT NULL, failure_count BIGINT NOT NULL, "
    "latency_ms_sum BIGINT NOT NULL, latency_count BIGINT NOT NULL, "
    "PRIMARY KEY (bucket, product_id, kind));\n";

// The seed's money view (§3.3), from the rollups: revenue is net (refunds
// included), agent cost is the task cost of KPIS.md (terminal tasks), both in
// NUMERIC USD; day is the UTC day as TIMESTAMPTZ. The seed's own §7 payback
// query runs on it unchanged.
constexpr std::string_view kViews = R"sql(
CREATE VIEW product_pnl_daily AS
SELECT x.day AS day, p.id AS product_id, p.name AS product_name, p.type AS product_type,
       (sum(x.revenue) / 1000000.0)::NUMERIC(18,6) AS revenue,
       (sum(x.agent_cost) / 1000000.0)::NUMERIC(18,6) AS agent_cost,
       (sum(x.infra_cost) / 1000000.0)::NUMERIC(18,6) AS infra_cost,
       ((sum(x.revenue) - sum(x.agent_cost) - sum(x.infra_cost)) / 1000000.0)::NUMERIC(18,6)
         AS net_profit
FROM (
  SELECT bucket AS day, product_id, total_revenue AS revenue, 0::BIGINT AS agent_cost,
         0::BIGINT AS infra_cost
  FROM revenue_daily
  UNION ALL
  SELECT bucket, product_id, 0, total_cost, 0 FROM task_costs_daily WHERE product_id <> ''
  UNION ALL
  SELECT bucket, product_id, 0, 0, total_cost FROM infra_costs_daily WHERE product_id <> ''
) AS x
JOIN products AS p ON p.id::TEXT = x.product_id
GROUP BY x.day, p.id;

CREATE VIEW factory_costs_daily AS
SELECT day, (sum(llm_cost) / 1000000.0)::NUMERIC(18,6) AS llm_cost,
       (sum(tool_cost) / 1000000.0)::NUMERIC(18,6) AS tool_cost,
       (sum(infra_cost) / 1000000.0)::NUMERIC(18,6) AS infra_cost,
       ((sum(llm_cost) + sum(tool_cost) + sum(infra_cost)) / 1000000.0)::NUMERIC(18,6) AS total_cost,
       (sum(product_cost) / 1000000.0)::NUMERIC(18,6) AS product_cost,
       ((sum(llm_cost) + sum(tool_cost) + sum(infra_cost) - sum(product_cost)) / 1000000.0)::NUMERIC(18,6)
         AS shared_cost
FROM (
  SELECT bucket AS day, total_cost AS llm_cost, 0::BIGINT AS tool_cost, 0::BIGINT AS infra_cost,
         0::BIGINT AS product_cost
  FROM agent_costs_daily
  UNION ALL
  SELECT bucket, 0, tool_cost, 0, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM task_costs_daily
  UNION ALL
  SELECT bucket, 0, 0, total_cost, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM infra_costs_daily
) AS x
GROUP BY day;
)sql";

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

// The time-series tables, partitioned as the features allow.
std::string EventTables(const Features& f, int compress_after_days) {
  std::string sql;
  for (const KindSpec& k : Kinds()) {
    std::string t(k.table);
    sql += fmt::format("CREATE TABLE {} ({}, event_id TEXT COLLATE \"C\" NOT NULL){};\n", t,
                       k.raw_columns, f.timescaledb ? "" : " PARTITION BY RANGE (time)");
    sql += Replace(std::string(k.raw_indexes), "{t}", t) + "\n";
    sql += fmt::format("CREATE TABLE {}_ids (event_id TEXT COLLATE \"C\" PRIMARY KEY);\n", t);
    if (f.timescaledb) {
      sql += fmt::format(
          "SELECT create_hypertable('{0}', 'time');\n"
          "ALTER TABLE {0} SET (timescaledb.compress, timescaledb.compress_segmentby = '{1}');\n"
          "SELECT add_compression_policy('{0}', INTERVAL '{2} days');\n",
          t, k.segment_by, compress_after_days);
      if (k.retention_days > 0) {
        sql += fmt::format("SELECT add_retention_policy('{}', INTERVAL '{} days');\n", t,
                           k.retention_days);
      }
    } else if (f.partman) {
      sql += fmt::format(
          "SELECT partman.create_parent(current_schema() || '.{0}', 'time', 'native', "
          "'monthly');\n"
          "UPDATE partman.part_config SET infinite_time_partitions = true, retention = {1}, "
          "retention_keep_table = false, retention_keep_index = false "
          "WHERE parent_table = current_schema() || '.{0}';\n",
          t, k.retention_days > 0 ? fmt::format("'{} days'", k.retention_days) : "NULL");
    } else {
      sql += fmt::format("CREATE TABLE {0}_default PARTITION OF {0} DEFAULT;\n", t);
    }
  }
  return sql;
}

// Version 2: what belongs to the data rather than one node's config (the
// rollup time zone, Store::RollupTimeZone) and the bucket functions the
// rollup SQL cuts hours and days with, in UTC until a zone is set.
std::string V2() {
  std::string sql =
      "CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
      "INSERT INTO store_settings (key, value) VALUES ('rollup_time_zone', 'UTC');\n"
      // Running totals (store/cumulative.h) read an order's rows by event_id
      // range inside the append; databases made by V1 before it lack it.
      "CREATE INDEX IF NOT EXISTS revenue_events_event_id ON revenue_events (event_id);\n";
  sql += BucketFunctionsSql("UTC");
  return sql;
}

// Version 3: the id side tables remember each event's time, so the
// maintenance forgets ids together with the raw partitions retention drops
// (pg_maintenance.h); tally_id_horizons holds, per table, the time before
// which ids are no longer kept. Existing ids take their time from the raw
// row (NULL when it is gone already: such ids are kept forever). BRIN: ids
// arrive roughly in time order, so the pruning finds its ranges for next to
// no cost at ingest.
std::string V3() {
  std::string sql =
      "CREATE TABLE tally_id_horizons (table_name TEXT PRIMARY KEY, horizon TIMESTAMPTZ NOT "
      "NULL);\n";
  for (const KindSpec& k : Kinds()) {
    sql += fmt::format(
        "ALTER TABLE {0}_ids ADD COLUMN time TIMESTAMPTZ;\n"
        "UPDATE {0}_ids i SET time = r.time FROM {0} r WHERE r.event_id = i.event_id;\n"
        "CREATE INDEX {0}_ids_time ON {0}_ids USING brin (time) WITH (autosummarize = on);\n",
        k.table);
  }
  return sql;
}

std::string V1(const Features& f, int compress_after_days) {
  std::string sql;
  if (f.timescaledb) sql += "CREATE EXTENSION IF NOT EXISTS timescaledb;\n";
  if (f.partman && !f.timescaledb) {
    sql += "CREATE SCHEMA IF NOT EXISTS partman;\n"
           "CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;\n";
  }
  sql += kFunctions;
  sql += kEntities;
  sql += EventTables(f, compress_after_days);
  sql += kRollups;
  sql += kViews;
  return sql;
}

constexpr int kLatest = 3;

// Any key: one number every tally process agrees on.
constexpr std::int64_t kMigrationLock = 0x7461'6c6c'796d'6967;  // "tallymig"

}  // namespace

std::string BucketFunctionsSql(std::string_view time_zone) {
  constexpr std::string_view kHead = "CREATE OR REPLACE FUNCTION {}(us BIGINT) RETURNS BIGINT "
                                     "LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT {} $$;\n";
  if (time_zone == "UTC") {
    return fmt::format(kHead, "tally_hour", "tally_floor(us, 3600000000)") +
           fmt::format(kHead, "tally_day", "tally_floor(us, 86400000000)");
  }
  std::string quoted = "'";
  for (char c : time_zone) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  quoted += "'";
  return fmt::format(kHead, "tally_hour",
                     fmt::format("tally_us(date_trunc('hour', tally_ts(us), {}))", quoted)) +
         fmt::format(kHead, "tally_day",
                     fmt::format("tally_us(date_trunc('day', tally_ts(us), {}))", quoted));
}

core::Result<Features> DetectFeatures(PGconn* conn) {
  auto res = TALLY_TRY(Run(conn,
                           "SELECT coalesce(bool_or(name = 'timescaledb'), false) AND "
                           "current_setting('shared_preload_libraries') LIKE '%timescaledb%', "
                           "coalesce(bool_or(name = 'pg_partman'), false) "
                           "FROM pg_available_extensions WHERE name IN ('timescaledb', 'pg_partman')",
                           {}, "detect extensions"));
  Features f;
  f.timescaledb = Text(res.get(), 0, 0) == "t";
  f.partman = Text(res.get(), 0, 1) == "t";
  return f;
}

core::Result<Features> InstalledFeatures(PGconn* conn) {
  auto res = TALLY_TRY(Run(conn,
                           "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = "
                           "'timescaledb'), EXISTS (SELECT 1 FROM pg_extension WHERE extname = "
                           "'pg_partman')",
                           {}, "installed extensions"));
  Features f;
  f.timescaledb = Text(res.get(), 0, 0) == "t";
  f.partman = Text(res.get(), 0, 1) == "t";
  return f;
}

int LatestSchemaVersion() { return kLatest; }

core::Result<int> AppliedSchemaVersion(PGconn* conn) {
  auto res = TALLY_TRY(Run(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", {},
                           "schema_migrations"));
  if (Text(res.get(), 0, 0) != "t") return 0;
  auto max = TALLY_TRY(Run(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", {},
                           "schema_migrations"));
  return static_cast<int>(Int(max.get(), 0, 0));
}

core::Status MigrateSchema(PGconn* conn, int compress_after_days) {
  const std::string context = "schema migration";
  TALLY_RETURN_IF_ERROR(Exec(conn, "BEGIN", context));
  auto body = [&]() -> core::Status {
    TALLY_RETURN_IF_ERROR(Exec(conn, fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLock),
                               context));
    TALLY_RETURN_IF_ERROR(Exec(conn,
                               "CREATE TABLE IF NOT EXISTS schema_migrations ("
                               "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL "
                               "DEFAULT now())",
                               context));
    int applied = TALLY_TRY(AppliedSchemaVersion(conn));
    if (applied > kLatest) {
      return std::unexpected(core::Error::Internal(fmt::format(
          "database schema version {} is newer than this tally supports ({}); upgrade tally",
          applied, kLatest)));
    }
    Features f = TALLY_TRY(DetectFeatures(conn));
    for (int version = applied + 1; version <= kLatest; ++version) {
      std::string sql;
      if (version == 1) sql = V1(f, compress_after_days);
      if (version == 2) sql = V2();
      if (version == 3) sql = V3();
      TALLY_RETURN_IF_ERROR(Exec(conn, sql, fmt::format("schema migration {}", version)));
      TALLY_RETURN_IF_ERROR(Exec(
          conn, fmt::format("INSERT INTO schema_migrations (version) VALUES ({})", version),
          context));
    }
    return core::OkStatus();
  };
  core::Status status = body();
  if (status) status = Exec(conn, "COMMIT", context);
  if (!status) (void)Exec(conn, "ROLLBACK", context);
  return status;
}

}  // namespace tally::store::pg
