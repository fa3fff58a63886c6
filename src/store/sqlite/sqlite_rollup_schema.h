// The rollup tables and P&L views of the SQLite store (store/rollups.h says
// what they guarantee; docs/schema.md and docs/analytics.md document them).
// Included by sqlite_schema.cc as one migration, and by the rebuild.
#pragma once

#include <string_view>

namespace tally::store::sqlite {

// Recomputes every rollup from raw; run on empty rollup tables. The same
// definitions as the incremental writer (sqlite_rollup_writer.cc): day / hour
// buckets by the same calendar, a task's terminal event is its latest terminal event by
// (time, event_id), a gauge's last value likewise. Kept as a macro so the
// migration (which must fill the new tables from existing raw rows) and the
// rebuild share one text by literal concatenation.
// tally_hour / tally_day are the writer's bucket functions
// (RollupWriter::RegisterBucketFunctions): local hours and days of the
// store's rollup time zone.
#define TALLY_ROLLUP_DAY(t) "tally_day(" t ")"
#define TALLY_ROLLUP_POPULATE_SQL                                                                \
  "INSERT INTO agent_costs_hourly (bucket, agent_id, model, provider, call_count, "             \
  "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "   \
  "error_count) SELECT tally_hour(time), agent_id, model, "                                    \
  "provider, count(*), sum(input_tokens), sum(output_tokens), sum(cached_tokens), sum(cost_usd), " \
  "sum(latency_ms), sum(status <> 'success') FROM llm_calls GROUP BY 1, 2, 3, 4;\n"              \
  "INSERT INTO revenue_daily_customers (bucket, product_id, event_type, customer_id) "           \
  "SELECT DISTINCT " TALLY_ROLLUP_DAY("time") ", product_id, event_type, customer_id "           \
  "FROM revenue_events WHERE customer_id IS NOT NULL;\n"                                         \
  "INSERT INTO revenue_daily (bucket, product_id, event_type, gross_revenue, refunds, "          \
  "total_revenue, event_count, unique_customers) SELECT " TALLY_ROLLUP_DAY("time") ", "           \
  "product_id, event_type, coalesce(sum(CASE WHEN amount_usd > 0 THEN amount_usd END), 0), "     \
  "coalesce(sum(CASE WHEN amount_usd < 0 THEN amount_usd END), 0), coalesce(sum(amount_usd), 0), " \
  "count(*), count(DISTINCT customer_id) FROM revenue_events GROUP BY 1, 2, 3;\n"                \
  "INSERT INTO task_rollup (task_id, call_cost, call_count) SELECT task_id, sum(cost_usd), "     \
  "count(*) FROM llm_calls WHERE task_id IS NOT NULL GROUP BY task_id;\n"                         \
  "INSERT INTO task_rollup (task_id, call_cost, call_count, terminal_time, terminal_event_id, "  \
  "agent_id, product_id, task_type, status, total_cost_usd, duration_ms, steps_count, "          \
  "quality_score) SELECT task_id, 0, 0, time, event_id, agent_id, coalesce(product_id, ''), "    \
  "task_type, status, total_cost_usd, duration_ms, steps_count, quality_score FROM ("            \
  "SELECT *, row_number() OVER (PARTITION BY task_id ORDER BY time DESC, event_id DESC) AS rn "  \
  "FROM task_events WHERE status IN ('completed', 'failed', 'escalated')) WHERE rn = 1 "        \
  "ON CONFLICT (task_id) DO UPDATE SET terminal_time = excluded.terminal_time, "                 \
  "terminal_event_id = excluded.terminal_event_id, agent_id = excluded.agent_id, "               \
  "product_id = excluded.product_id, task_type = excluded.task_type, status = excluded.status, " \
  "total_cost_usd = excluded.total_cost_usd, duration_ms = excluded.duration_ms, "               \
  "steps_count = excluded.steps_count, quality_score = excluded.quality_score;\n"                \
  "INSERT INTO task_costs_daily (bucket, product_id, agent_id, task_type, status, task_count, "  \
  "total_cost, llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, quality_sum, "    \
  "quality_count) SELECT " TALLY_ROLLUP_DAY("terminal_time") ", product_id, agent_id, "           \
  "task_type, status, count(*), sum(coalesce(total_cost_usd, call_cost)), sum(call_cost), "       \
  "sum(CASE WHEN total_cost_usd IS NULL THEN 0 ELSE max(0, total_cost_usd - call_cost) END), "    \
  "sum(coalesce(duration_ms, 0)), sum(coalesce(steps_count, 0)), count(steps_count), "           \
  "sum(coalesce(quality_score, 0)), count(quality_score) FROM task_rollup "                      \
  "WHERE terminal_time IS NOT NULL GROUP BY 1, 2, 3, 4, 5;\n"                                    \
  "INSERT INTO infra_costs_daily (bucket, product_id, cost_type, total_cost, event_count) "      \
  "SELECT " TALLY_ROLLUP_DAY("time") ", coalesce(product_id, ''), cost_type, sum(amount_usd), "   \
  "count(*) FROM infra_costs GROUP BY 1, 2, 3;\n"                                                \
  "INSERT INTO growth_daily (bucket, product_id, channel, metric, total_value, event_count, "     \
  "last_time, last_event_id, last_value) SELECT day, product_id, channel, metric, sum(value), "   \
  "count(*), max(CASE WHEN rn = 1 THEN time END), max(CASE WHEN rn = 1 THEN event_id END), "      \
  "max(CASE WHEN rn = 1 THEN value END) FROM (SELECT " TALLY_ROLLUP_DAY("time") " AS day, "       \
  "product_id, channel, metric, value, time, event_id, row_number() OVER (PARTITION BY "         \
  TALLY_ROLLUP_DAY("time") ", product_id, channel, metric ORDER BY time DESC, event_id DESC) "    \
  "AS rn FROM growth_events) GROUP BY 1, 2, 3, 4;\n"

// agent_costs_daily from agent_costs_hourly (added by a later migration, so
// kept apart from the released TALLY_ROLLUP_POPULATE_SQL text).
#define TALLY_AGENT_DAILY_POPULATE_SQL                                                           \
  "INSERT INTO agent_costs_daily (bucket, agent_id, model, provider, call_count, "               \
  "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "   \
  "error_count) SELECT " TALLY_ROLLUP_DAY("bucket") ", agent_id, model, provider, "              \
  "sum(call_count), sum(total_input_tokens), sum(total_output_tokens), sum(total_cached_tokens), " \
  "sum(total_cost), sum(sum_latency_ms), sum(error_count) FROM agent_costs_hourly "              \
  "GROUP BY 1, 2, 3, 4;\n"

// ops_daily from ops_events (the ops migration; failures as
// model::IsOpsFailure counts them).
#define TALLY_OPS_DAILY_POPULATE_SQL                                                             \
  "INSERT INTO ops_daily (bucket, product_id, kind, event_count, failure_count, latency_ms_sum, " \
  "latency_count) SELECT " TALLY_ROLLUP_DAY("time") ", coalesce(product_id, ''), kind, count(*), " \
  "sum(status IN ('failure', 'error', 'down')), coalesce(sum(latency_ms), 0), count(latency_ms) "  \
  "FROM ops_events GROUP BY 1, 2, 3;\n"

inline constexpr std::string_view kRebuildRollupsSql =
    "DELETE FROM agent_costs_hourly; DELETE FROM agent_costs_daily; DELETE FROM revenue_daily; "
    "DELETE FROM revenue_daily_customers; DELETE FROM task_rollup; DELETE FROM task_costs_daily; "
    "DELETE FROM infra_costs_daily; DELETE FROM growth_daily; DELETE FROM ops_daily;\n"
    TALLY_ROLLUP_POPULATE_SQL TALLY_AGENT_DAILY_POPULATE_SQL TALLY_OPS_DAILY_POPULATE_SQL;

// task_costs_product_daily: task_costs_daily summed over agent and task type
// (ReadRollups with kProductGrain), so P&L, payback and all-history reads
// scan a few rows per product and day instead of one per agent x task type.
// Triggers keep it equal to that sum in every transaction that writes
// task_costs_daily (incremental upserts, the delete of an emptied row, and a
// rebuild's delete-then-populate), so no writer has to remember it.
inline constexpr std::string_view kTaskProductDailyMigration = R"sql(
CREATE TABLE task_costs_product_daily (
  bucket            INTEGER NOT NULL,
  product_id        TEXT NOT NULL,
  status            TEXT NOT NULL,
  task_count        INTEGER NOT NULL,
  total_cost        INTEGER NOT NULL,
  llm_cost          INTEGER NOT NULL,
  tool_cost         INTEGER NOT NULL,
  total_duration_ms INTEGER NOT NULL,
  steps_sum         INTEGER NOT NULL,
  steps_count       INTEGER NOT NULL,
  quality_sum       INTEGER NOT NULL,
  quality_count     INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, status)
) STRICT, WITHOUT ROWID;
INSERT INTO task_costs_product_daily
  SELECT bucket, product_id, status, sum(task_count), sum(total_cost), sum(llm_cost),
         sum(tool_cost), sum(total_duration_ms), sum(steps_sum), sum(steps_count),
         sum(quality_sum), sum(quality_count)
  FROM task_costs_daily GROUP BY 1, 2, 3;
CREATE TRIGGER task_costs_product_daily_add AFTER INSERT ON task_costs_daily BEGIN
  INSERT INTO task_costs_product_daily VALUES (NEW.bucket, NEW.product_id, NEW.status,
    NEW.task_count, NEW.total_cost, NEW.llm_cost, NEW.tool_cost, NEW.total_duration_ms,
    NEW.steps_sum, NEW.steps_count, NEW.quality_sum, NEW.quality_count)
  ON CONFLICT (bucket, product_id, status) DO UPDATE SET
    task_count = task_count + excluded.task_count, total_cost = total_cost + excluded.total_cost,
    llm_cost = llm_cost + excluded.llm_cost, tool_cost = tool_cost + excluded.tool_cost,
    total_duration_ms = total_duration_ms + excluded.total_duration_ms,
    steps_sum = steps_sum + excluded.steps_sum, steps_count = steps_count + excluded.steps_count,
    quality_sum = quality_sum + excluded.quality_sum,
    quality_count = quality_count + excluded.quality_count;
END;
CREATE TRIGGER task_costs_product_daily_change AFTER UPDATE ON task_costs_daily BEGIN
  UPDATE task_costs_product_daily SET
    task_count = task_count + NEW.task_count - OLD.task_count,
    total_cost = total_cost + NEW.total_cost - OLD.total_cost,
    llm_cost = llm_cost + NEW.llm_cost - OLD.llm_cost,
    tool_cost = tool_cost + NEW.tool_cost - OLD.tool_cost,
    total_duration_ms = total_duration_ms + NEW.total_duration_ms - OLD.total_duration_ms,
    steps_sum = steps_sum + NEW.steps_sum - OLD.steps_sum,
    steps_count = steps_count + NEW.steps_count - OLD.steps_count,
    quality_sum = quality_sum + NEW.quality_sum - OLD.quality_sum,
    quality_count = quality_count + NEW.quality_count - OLD.quality_count
  WHERE bucket = NEW.bucket AND product_id = NEW.product_id AND status = NEW.status;
END;
CREATE TRIGGER task_costs_product_daily_remove AFTER DELETE ON task_costs_daily BEGIN
  UPDATE task_costs_product_daily SET
    task_count = task_count - OLD.task_count, total_cost = total_cost - OLD.total_cost,
    llm_cost = llm_cost - OLD.llm_cost, tool_cost = tool_cost - OLD.tool_cost,
    total_duration_ms = total_duration_ms - OLD.total_duration_ms,
    steps_sum = steps_sum - OLD.steps_sum, steps_count = steps_count - OLD.steps_count,
    quality_sum = quality_sum - OLD.quality_sum, quality_count = quality_count - OLD.quality_count
  WHERE bucket = OLD.bucket AND product_id = OLD.product_id AND status = OLD.status;
  -- Like task_costs_daily, a row that holds no task any more goes.
  DELETE FROM task_costs_product_daily WHERE bucket = OLD.bucket AND product_id = OLD.product_id
    AND status = OLD.status AND task_count = 0;
END;
)sql";

// store_settings holds what belongs to the data rather than to one node's
// config: the rollup time zone (Store::RollupTimeZone). factory_costs_daily
// reads agent_costs_daily instead of folding UTC hours itself, so its days are
// the rollups' business days.
inline constexpr std::string_view kStoreSettingsMigration = R"sql(
CREATE TABLE store_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO store_settings (key, value) VALUES ('rollup_time_zone', 'UTC');
DROP VIEW factory_costs_daily;
CREATE VIEW factory_costs_daily AS
SELECT day, sum(llm_cost) AS llm_cost, sum(tool_cost) AS tool_cost,
       sum(infra_cost) AS infra_cost,
       sum(llm_cost) + sum(tool_cost) + sum(infra_cost) AS total_cost,
       sum(product_cost) AS product_cost,
       sum(llm_cost) + sum(tool_cost) + sum(infra_cost) - sum(product_cost) AS shared_cost
FROM (
  SELECT bucket AS day, total_cost AS llm_cost, 0 AS tool_cost, 0 AS infra_cost, 0 AS product_cost
  FROM agent_costs_daily
  UNION ALL
  SELECT bucket, 0, tool_cost, 0, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM task_costs_daily
  UNION ALL
  SELECT bucket, 0, 0, total_cost, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM infra_costs_daily
)
GROUP BY day;
)sql";

// ops_events (deploys, uptime checks, incidents, GitHub activity; see
// model::OpsEvent) and their daily rollup, keyed like the other daily ones.
inline constexpr std::string_view kOpsEventsMigration = R"sql(
CREATE TABLE ops_events (
  time        INTEGER NOT NULL,
  product_id  TEXT,
  kind        TEXT NOT NULL,
  source      TEXT NOT NULL,
  status      TEXT NOT NULL,
  latency_ms  INTEGER CHECK (latency_ms >= 0),
  status_code INTEGER CHECK (status_code BETWEEN 0 AND 999),
  repository  TEXT,
  metadata    TEXT,
  event_id    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX ops_events_event_id ON ops_events (event_id);
CREATE INDEX ops_events_time ON ops_events (time);
CREATE INDEX ops_events_product_time ON ops_events (product_id, time);

CREATE TABLE ops_daily (
  bucket         INTEGER NOT NULL,
  product_id     TEXT NOT NULL,
  kind           TEXT NOT NULL,
  event_count    INTEGER NOT NULL,
  failure_count  INTEGER NOT NULL,
  latency_ms_sum INTEGER NOT NULL,
  latency_count  INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, kind)
) STRICT, WITHOUT ROWID;
)sql";

// agent_costs_hourly summed per UTC day: reads of weeks or years of LLM cost
// touch 24x fewer rows (the P&L of a year read ~100k hourly rows).
inline constexpr std::string_view kAgentCostsDailyMigration = R"sql(
CREATE TABLE agent_costs_daily (
  bucket              INTEGER NOT NULL,
  agent_id            TEXT NOT NULL,
  model               TEXT NOT NULL,
  provider            TEXT NOT NULL,
  call_count          INTEGER NOT NULL,
  total_input_tokens  INTEGER NOT NULL,
  total_output_tokens INTEGER NOT NULL,
  total_cached_tokens INTEGER NOT NULL,
  total_cost          INTEGER NOT NULL,
  sum_latency_ms      INTEGER NOT NULL,
  error_count         INTEGER NOT NULL,
  avg_latency         REAL GENERATED ALWAYS AS (CAST(sum_latency_ms AS REAL) / call_count) VIRTUAL,
  PRIMARY KEY (bucket, agent_id, model, provider)
) STRICT, WITHOUT ROWID;
)sql" TALLY_AGENT_DAILY_POPULATE_SQL;

// Units as in raw: bucket = INTEGER µs since the epoch (UTC hour or day
// start), money INTEGER micro-USD, growth values INTEGER hundredths. Every
// table is WITHOUT ROWID keyed by its group: the writer's upserts and the
// readers' time-range scans both go straight through the primary key. A
// missing product is '' (a NULL key column could not be upserted).
//
// Column names follow seed §3.3 where it has them (bucket, call_count,
// total_input_tokens, ..., total_revenue, event_count, unique_customers).
// Differences: avg_latency is derived (a virtual column over sum_latency_ms,
// so it stays exact under incremental sums); total_revenue is NET (refunds
// included) and gross_revenue / refunds stand beside it; unique_customers
// counts distinct customers of every event of the group, kept exact by the
// revenue_daily_customers side table.
inline constexpr std::string_view kRollupsMigration = R"sql(
CREATE TABLE agent_costs_hourly (
  bucket              INTEGER NOT NULL,
  agent_id            TEXT NOT NULL,
  model               TEXT NOT NULL,
  provider            TEXT NOT NULL,
  call_count          INTEGER NOT NULL,
  total_input_tokens  INTEGER NOT NULL,
  total_output_tokens INTEGER NOT NULL,
  total_cached_tokens INTEGER NOT NULL,
  total_cost          INTEGER NOT NULL,
  sum_latency_ms      INTEGER NOT NULL,
  error_count         INTEGER NOT NULL,
  avg_latency         REAL GENERATED ALWAYS AS (CAST(sum_latency_ms AS REAL) / call_count) VIRTUAL,
  PRIMARY KEY (bucket, agent_id, model, provider)
) STRICT, WITHOUT ROWID;

CREATE TABLE revenue_daily (
  bucket           INTEGER NOT NULL,
  product_id       TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  gross_revenue    INTEGER NOT NULL,
  refunds          INTEGER NOT NULL,
  total_revenue    INTEGER NOT NULL,
  event_count      INTEGER NOT NULL,
  unique_customers INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, event_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE revenue_daily_customers (
  bucket      INTEGER NOT NULL,
  product_id  TEXT NOT NULL,
  event_type  TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (bucket, product_id, event_type, customer_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE task_rollup (
  task_id           TEXT PRIMARY KEY,
  call_cost         INTEGER NOT NULL,
  call_count        INTEGER NOT NULL,
  terminal_time     INTEGER,
  terminal_event_id TEXT,
  agent_id          TEXT,
  product_id        TEXT,
  task_type         TEXT,
  status            TEXT,
  total_cost_usd    INTEGER,
  duration_ms       INTEGER,
  steps_count       INTEGER,
  quality_score     INTEGER
) STRICT, WITHOUT ROWID;

CREATE TABLE task_costs_daily (
  bucket            INTEGER NOT NULL,
  product_id        TEXT NOT NULL,
  agent_id          TEXT NOT NULL,
  task_type         TEXT NOT NULL,
  status            TEXT NOT NULL,
  task_count        INTEGER NOT NULL,
  total_cost        INTEGER NOT NULL,
  llm_cost          INTEGER NOT NULL,
  tool_cost         INTEGER NOT NULL,
  total_duration_ms INTEGER NOT NULL,
  steps_sum         INTEGER NOT NULL,
  steps_count       INTEGER NOT NULL,
  quality_sum       INTEGER NOT NULL,
  quality_count     INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, agent_id, task_type, status)
) STRICT, WITHOUT ROWID;

CREATE TABLE infra_costs_daily (
  bucket      INTEGER NOT NULL,
  product_id  TEXT NOT NULL,
  cost_type   TEXT NOT NULL,
  total_cost  INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, cost_type)
) STRICT, WITHOUT ROWID;

CREATE TABLE growth_daily (
  bucket        INTEGER NOT NULL,
  product_id    TEXT NOT NULL,
  channel       TEXT NOT NULL,
  metric        TEXT NOT NULL,
  total_value   INTEGER NOT NULL,
  event_count   INTEGER NOT NULL,
  last_time     INTEGER NOT NULL,
  last_event_id TEXT NOT NULL,
  last_value    INTEGER NOT NULL,
  PRIMARY KEY (bucket, product_id, channel, metric)
) STRICT, WITHOUT ROWID;

CREATE VIEW product_pnl_daily AS
SELECT x.day AS day, p.id AS product_id, p.name AS product_name, p.type AS product_type,
       sum(x.revenue) AS revenue, sum(x.agent_cost) AS agent_cost,
       sum(x.infra_cost) AS infra_cost,
       sum(x.revenue) - sum(x.agent_cost) - sum(x.infra_cost) AS net_profit
FROM (
  SELECT bucket AS day, product_id, total_revenue AS revenue, 0 AS agent_cost, 0 AS infra_cost
  FROM revenue_daily
  UNION ALL
  SELECT bucket, product_id, 0, total_cost, 0 FROM task_costs_daily WHERE product_id <> ''
  UNION ALL
  SELECT bucket, product_id, 0, 0, total_cost FROM infra_costs_daily WHERE product_id <> ''
) AS x
JOIN products AS p ON p.id = x.product_id
GROUP BY x.day, p.id;

CREATE VIEW factory_costs_daily AS
SELECT day, sum(llm_cost) AS llm_cost, sum(tool_cost) AS tool_cost,
       sum(infra_cost) AS infra_cost,
       sum(llm_cost) + sum(tool_cost) + sum(infra_cost) AS total_cost,
       sum(product_cost) AS product_cost,
       sum(llm_cost) + sum(tool_cost) + sum(infra_cost) - sum(product_cost) AS shared_cost
FROM (
  SELECT bucket - ((bucket % 86400000000) + 86400000000) % 86400000000 AS day, total_cost AS llm_cost, 0 AS tool_cost,
         0 AS infra_cost, 0 AS product_cost
  FROM agent_costs_hourly
  UNION ALL
  SELECT bucket, 0, tool_cost, 0, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM task_costs_daily
  UNION ALL
  SELECT bucket, 0, 0, total_cost, CASE WHEN product_id <> '' THEN total_cost ELSE 0 END
  FROM infra_costs_daily
)
GROUP BY day;
)sql" TALLY_ROLLUP_POPULATE_SQL;

}  // namespace tally::store::sqlite
