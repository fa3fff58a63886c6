#include "store/postgres/pg_kinds.h"

#include <array>
#include <string>

#include "store/postgres/pg_conn.h"

namespace tally::store::pg {
namespace {

// COPY text row builder: fields separated by tabs.
struct Row {
  std::string* out;
  bool first = true;
  void Sep() {
    if (!first) out->push_back('\t');
    first = false;
  }
  Row& Int(std::int64_t v) {
    Sep();
    AppendCopyInt(out, v);
    return *this;
  }
  Row& Text(std::string_view v) {
    Sep();
    AppendCopyText(out, v);
    return *this;
  }
  Row& OptText(const std::optional<std::string>& v) {
    Sep();
    if (v) AppendCopyText(out, *v);
    else AppendCopyNull(out);
    return *this;
  }
  Row& OptInt(const std::optional<std::int64_t>& v) {
    Sep();
    if (v) AppendCopyInt(out, *v);
    else AppendCopyNull(out);
    return *this;
  }
  Row& OptMoney(const std::optional<core::Money>& v) {
    return OptInt(v ? std::optional<std::int64_t>(v->micros()) : std::nullopt);
  }
  // Empty metadata is NULL, as in the SQLite store.
  Row& Json(const std::string& v) {
    return OptText(v.empty() ? std::nullopt : std::optional<std::string>(v));
  }
};

void WriteLlm(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::LlmCall>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).Text(e.agent_id).OptText(e.task_id).Text(e.model)
      .Text(e.provider).Int(e.input_tokens).Int(e.output_tokens).Int(e.cached_tokens)
      .Int(e.cost_usd.micros()).Int(e.latency_ms).Text(model::ToString(e.status))
      .OptText(e.error_type).OptText(e.reservation_id).Json(e.metadata).Text(e.event_id);
}

void WriteRevenue(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::RevenueEvent>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).Text(e.product_id).OptText(e.channel_id)
      .Text(model::ToString(e.event_type)).OptMoney(e.amount_usd).Text(e.currency)
      .OptText(e.customer_id).Json(e.metadata).Text(e.event_id);
}

void WriteTask(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::TaskEvent>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).Text(e.task_id).Text(e.agent_id).OptText(e.product_id)
      .Text(e.task_type).Text(model::ToString(e.status)).OptInt(e.duration_ms)
      .OptMoney(e.total_cost_usd).OptInt(e.steps_count).OptInt(e.quality_score_centi)
      .Json(e.metadata).Text(e.event_id);
}

void WriteInfra(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::InfraCost>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).OptText(e.product_id).Text(e.cost_type)
      .Text(e.provider).Int(e.amount_usd.micros()).OptText(e.billing_period).Json(e.metadata)
      .Text(e.event_id);
}

void WriteGrowth(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::GrowthEvent>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).Text(e.product_id).Text(e.channel).Text(e.metric)
      .Int(e.value_centi).Json(e.metadata).Text(e.event_id);
}

void WriteOps(const model::Event& ev, int seq, std::string* out) {
  const auto& e = std::get<model::OpsEvent>(ev);
  Row{out}
      .Int(seq).Int(core::ToMicros(e.time)).OptText(e.product_id).Text(e.kind).Text(e.source)
      .Text(e.status).OptInt(e.latency_ms).OptInt(e.status_code).OptText(e.repository)
      .Json(e.metadata).Text(e.event_id);
}


#define TALLY_PG_AGENT_SET                                                                       \
  "call_count = r.call_count + excluded.call_count, "                                             \
  "total_input_tokens = r.total_input_tokens + excluded.total_input_tokens, "                     \
  "total_output_tokens = r.total_output_tokens + excluded.total_output_tokens, "                  \
  "total_cached_tokens = r.total_cached_tokens + excluded.total_cached_tokens, "                  \
  "total_cost = r.total_cost + excluded.total_cost, "                                             \
  "sum_latency_ms = r.sum_latency_ms + excluded.sum_latency_ms, "                                 \
  "error_count = r.error_count + excluded.error_count"

// One pass over the new rows, already folded per UTC second in C++
// (acc_llm_fold, pg_llm_ingest.h): hourly sums (bucketed as integers,
// converted to TIMESTAMPTZ once per group), then the daily rows folded from
// them.
constexpr std::array<std::string_view, 1> kLlmRollups = {
    "WITH h AS (SELECT tally_hour(s) AS b, agent_id, model, provider, "
    "sum(n) AS n, sum(i) AS i, sum(o) AS o, sum(c) AS c, sum(cost) AS cost, sum(l) AS l, "
    "sum(e) AS e FROM acc_llm_fold GROUP BY 1, 2, 3, 4), "
    "hourly AS (INSERT INTO agent_costs_hourly AS r (bucket, agent_id, model, provider, "
    "call_count, total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, "
    "sum_latency_ms, error_count) SELECT tally_ts(b), agent_id, model, provider, n, i, o, c, cost, "
    "l, e FROM h ON CONFLICT (bucket, agent_id, model, provider) DO UPDATE SET " TALLY_PG_AGENT_SET
    ") "
    "INSERT INTO agent_costs_daily AS r (bucket, agent_id, model, provider, call_count, "
    "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "
    "error_count) SELECT tally_ts(tally_day(b)), agent_id, model, provider, "
    "sum(n), sum(i), sum(o), sum(c), sum(cost), sum(l), sum(e) FROM h GROUP BY 1, 2, 3, 4 "
    "ON CONFLICT (bucket, agent_id, model, provider) DO UPDATE SET " TALLY_PG_AGENT_SET,
};

// A customer counts once per (day, product, event_type): the side table
// remembers who was seen, and only customers new to the group add to
// unique_customers.
constexpr std::array<std::string_view, 1> kRevenueRollups = {
    "WITH g AS (SELECT tally_ts(tally_day(time_us)) AS bucket, product_id, "
    "event_type, coalesce(sum(amount_us) FILTER (WHERE amount_us > 0), 0) AS gross, "
    "coalesce(sum(amount_us) FILTER (WHERE amount_us < 0), 0) AS refunds, "
    "coalesce(sum(amount_us), 0) AS net, count(*) AS n FROM acc_revenue_events GROUP BY 1, 2, 3), "
    "c AS (INSERT INTO revenue_daily_customers (bucket, product_id, event_type, customer_id) "
    "SELECT DISTINCT tally_ts(tally_day(time_us)), product_id, event_type, "
    "customer_id FROM acc_revenue_events WHERE customer_id IS NOT NULL ON CONFLICT DO NOTHING "
    "RETURNING bucket, product_id, event_type), "
    "nc AS (SELECT bucket, product_id, event_type, count(*) AS n FROM c GROUP BY 1, 2, 3) "
    "INSERT INTO revenue_daily AS r (bucket, product_id, event_type, gross_revenue, refunds, "
    "total_revenue, event_count, unique_customers) SELECT g.bucket, g.product_id, g.event_type, "
    "g.gross, g.refunds, g.net, g.n, coalesce(nc.n, 0) FROM g LEFT JOIN nc USING (bucket, "
    "product_id, event_type) ON CONFLICT (bucket, product_id, event_type) DO UPDATE SET "
    "gross_revenue = r.gross_revenue + excluded.gross_revenue, "
    "refunds = r.refunds + excluded.refunds, "
    "total_revenue = r.total_revenue + excluded.total_revenue, "
    "event_count = r.event_count + excluded.event_count, "
    "unique_customers = r.unique_customers + excluded.unique_customers",
};

constexpr std::array<std::string_view, 1> kInfraRollups = {
    "INSERT INTO infra_costs_daily AS r (bucket, product_id, cost_type, total_cost, event_count) "
    "SELECT tally_ts(tally_day(time_us)), coalesce(product_id, ''), cost_type, "
    "sum(amount_us), count(*) FROM acc_infra_costs GROUP BY 1, 2, 3 "
    "ON CONFLICT (bucket, product_id, cost_type) DO UPDATE SET "
    "total_cost = r.total_cost + excluded.total_cost, "
    "event_count = r.event_count + excluded.event_count",
};

#define TALLY_PG_LATER "(excluded.last_time, excluded.last_event_id) > (r.last_time, r.last_event_id)"
constexpr std::array<std::string_view, 1> kGrowthRollups = {
    "WITH a AS (SELECT tally_day(time_us) AS b, * FROM acc_growth_events), "
    "g AS (SELECT b, product_id, channel, metric, sum(value_centi) AS s, count(*) AS n FROM a "
    "GROUP BY 1, 2, 3, 4), "
    "l AS (SELECT DISTINCT ON (b, product_id, channel, metric) b, product_id, channel, metric, "
    "time_us, event_id, value_centi FROM a ORDER BY b, product_id, channel, metric, time_us DESC, "
    "event_id DESC) "
    "INSERT INTO growth_daily AS r (bucket, product_id, channel, metric, total_value, event_count, "
    "last_time, last_event_id, last_value) SELECT tally_ts(g.b), g.product_id, g.channel, "
    "g.metric, g.s, g.n, tally_ts(l.time_us), l.event_id, l.value_centi FROM g JOIN l USING (b, "
    "product_id, channel, metric) ON CONFLICT (bucket, product_id, channel, metric) DO UPDATE SET "
    "total_value = r.total_value + excluded.total_value, "
    "event_count = r.event_count + excluded.event_count, "
    "last_value = CASE WHEN " TALLY_PG_LATER " THEN excluded.last_value ELSE r.last_value END, "
    "last_event_id = CASE WHEN " TALLY_PG_LATER " THEN excluded.last_event_id "
    "ELSE r.last_event_id END, last_time = greatest(r.last_time, excluded.last_time)",
};

constexpr std::array<std::string_view, 1> kOpsRollups = {
    "INSERT INTO ops_daily AS r (bucket, product_id, kind, event_count, failure_count, "
    "latency_ms_sum, latency_count) SELECT tally_ts(tally_day(time_us)), "
    "coalesce(product_id, ''), kind, count(*), count(*) FILTER (WHERE status IN ('failure', "
    "'error', 'down')), coalesce(sum(latency_ms), 0), count(latency_ms) FROM acc_ops_events "
    "GROUP BY 1, 2, 3 ON CONFLICT (bucket, product_id, kind) DO UPDATE SET "
    "event_count = r.event_count + excluded.event_count, "
    "failure_count = r.failure_count + excluded.failure_count, "
    "latency_ms_sum = r.latency_ms_sum + excluded.latency_ms_sum, "
    "latency_count = r.latency_count + excluded.latency_count",
};

// Per task touched by this call: its contribution to task_costs_daily before
// (task_old) is taken out and its contribution after is put in (KPIS.md cost
// model, same as the SQLite writer). A row whose last task moved away
// (count 0) is deleted so incremental equals rebuild.
constexpr std::array<std::string_view, 6> kTaskRollups = {
    "DELETE FROM task_touched; DELETE FROM task_old",
    "INSERT INTO task_touched SELECT task_id FROM acc_llm_calls WHERE task_id IS NOT NULL UNION "
    "SELECT task_id FROM acc_task_events WHERE status <> 'started'",
    "INSERT INTO task_old SELECT r.* FROM task_rollup r JOIN task_touched USING (task_id)",
    "INSERT INTO task_rollup AS r (task_id, call_cost, call_count) SELECT task_id, sum(cost_us), "
    "count(*) FROM acc_llm_calls WHERE task_id IS NOT NULL GROUP BY 1 ON CONFLICT (task_id) DO "
    "UPDATE SET call_cost = r.call_cost + excluded.call_cost, "
    "call_count = r.call_count + excluded.call_count;"
    "INSERT INTO task_rollup AS r (task_id, call_cost, call_count, terminal_time, "
    "terminal_event_id, agent_id, product_id, task_type, status, total_cost_usd, duration_ms, "
    "steps_count, quality_score) SELECT DISTINCT ON (task_id) task_id, 0, 0, tally_ts(time_us), "
    "event_id, agent_id, coalesce(product_id, ''), task_type, status, total_cost_us, duration_ms, "
    "steps_count, quality_centi FROM acc_task_events WHERE status <> 'started' "
    "ORDER BY task_id, time_us DESC, event_id DESC ON CONFLICT (task_id) DO UPDATE SET "
    "terminal_time = excluded.terminal_time, terminal_event_id = excluded.terminal_event_id, "
    "agent_id = excluded.agent_id, product_id = excluded.product_id, "
    "task_type = excluded.task_type, status = excluded.status, "
    "total_cost_usd = excluded.total_cost_usd, duration_ms = excluded.duration_ms, "
    "steps_count = excluded.steps_count, quality_score = excluded.quality_score "
    "WHERE r.terminal_time IS NULL OR (excluded.terminal_time, excluded.terminal_event_id) > "
    "(r.terminal_time, r.terminal_event_id)",
    "WITH c AS (SELECT -1 AS sign, o.* FROM task_old o WHERE o.terminal_time IS NOT NULL "
    "UNION ALL SELECT 1, r.* FROM task_rollup r WHERE r.terminal_time IS NOT NULL AND r.task_id IN "
    "(SELECT task_id FROM task_touched)) "
    "INSERT INTO task_costs_daily AS r (bucket, product_id, agent_id, task_type, status, "
    "task_count, total_cost, llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, "
    "quality_sum, quality_count) "
    "SELECT tally_ts(tally_day(tally_us(terminal_time))), product_id, "
    "agent_id, task_type, status, sum(sign), sum(sign * coalesce(total_cost_usd, call_cost)), "
    "sum(sign * call_cost), sum(sign * CASE WHEN total_cost_usd IS NULL THEN 0 ELSE "
    "greatest(0, total_cost_usd - call_cost) END), sum(sign * coalesce(duration_ms, 0)), "
    "sum(sign * coalesce(steps_count, 0)), sum(sign * (steps_count IS NOT NULL)::int), "
    "sum(sign * coalesce(quality_score, 0)), sum(sign * (quality_score IS NOT NULL)::int) "
    "FROM c GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (bucket, product_id, agent_id, task_type, status) "
    "DO UPDATE SET task_count = r.task_count + excluded.task_count, "
    "total_cost = r.total_cost + excluded.total_cost, llm_cost = r.llm_cost + excluded.llm_cost, "
    "tool_cost = r.tool_cost + excluded.tool_cost, "
    "total_duration_ms = r.total_duration_ms + excluded.total_duration_ms, "
    "steps_sum = r.steps_sum + excluded.steps_sum, "
    "steps_count = r.steps_count + excluded.steps_count, "
    "quality_sum = r.quality_sum + excluded.quality_sum, "
    "quality_count = r.quality_count + excluded.quality_count",
    "DELETE FROM task_costs_daily WHERE task_count = 0 AND bucket IN (SELECT "
    "tally_ts(tally_day(tally_us(terminal_time))) FROM task_old "
    "WHERE terminal_time IS NOT NULL)",
};

const std::array<KindSpec, model::kEventKindCount> kKinds = {{
    {model::EventKind::kLlmCall, "llm_calls",
     "time TIMESTAMPTZ NOT NULL, agent_id TEXT NOT NULL, task_id UUID, model TEXT NOT NULL, "
     "provider TEXT NOT NULL, input_tokens INTEGER NOT NULL CHECK (input_tokens >= 0), "
     "output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0), "
     "cached_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0), "
     "cost_usd NUMERIC(18,6) NOT NULL CHECK (cost_usd >= 0), "
     "latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0), status TEXT NOT NULL, "
     "error_type TEXT, reservation_id TEXT, metadata JSONB",
     "CREATE INDEX {t}_agent_time ON {t} (agent_id, time);",
     "time_us BIGINT, agent_id TEXT, task_id TEXT, model TEXT, provider TEXT, input_tokens BIGINT, "
     "output_tokens BIGINT, cached_tokens BIGINT, cost_us BIGINT, latency_ms BIGINT, status TEXT, "
     "error_type TEXT, reservation_id TEXT, metadata TEXT",
     "time, agent_id, task_id, model, provider, input_tokens, output_tokens, cached_tokens, "
     "cost_usd, latency_ms, status, error_type, reservation_id, metadata, event_id",
     "tally_ts(k.time_us), k.agent_id, k.task_id::uuid, k.model, k.provider, k.input_tokens, "
     "k.output_tokens, k.cached_tokens, k.cost_us / 1000000.0, k.latency_ms, k.status, "
     "k.error_type, k.reservation_id, k.metadata::jsonb, k.event_id",
     "agent_id", 90, WriteLlm, kLlmRollups},
    {model::EventKind::kRevenue, "revenue_events",
     "time TIMESTAMPTZ NOT NULL, product_id UUID NOT NULL, channel_id UUID, "
     "event_type TEXT NOT NULL, amount_usd NUMERIC(18,6), currency TEXT NOT NULL DEFAULT 'USD', "
     "customer_id TEXT, metadata JSONB",
     // event_id: the rows of a running total are read by an id range
     // (store/cumulative.h) inside the append.
     "CREATE INDEX {t}_product_time ON {t} (product_id, time);"
     "CREATE INDEX {t}_event_id ON {t} (event_id);",
     "time_us BIGINT, product_id TEXT, channel_id TEXT, event_type TEXT, amount_us BIGINT, "
     "currency TEXT, customer_id TEXT, metadata TEXT",
     "time, product_id, channel_id, event_type, amount_usd, currency, customer_id, metadata, "
     "event_id",
     "tally_ts(k.time_us), k.product_id::uuid, k.channel_id::uuid, k.event_type, "
     "k.amount_us / 1000000.0, k.currency, k.customer_id, k.metadata::jsonb, k.event_id",
     "product_id", 0, WriteRevenue, kRevenueRollups},
    {model::EventKind::kTask, "task_events",
     "time TIMESTAMPTZ NOT NULL, task_id UUID NOT NULL, agent_id TEXT NOT NULL, product_id UUID, "
     "task_type TEXT NOT NULL, status TEXT NOT NULL, duration_ms BIGINT CHECK (duration_ms >= 0), "
     "total_cost_usd NUMERIC(18,6) CHECK (total_cost_usd >= 0), "
     "steps_count INTEGER CHECK (steps_count >= 0), "
     "quality_score NUMERIC(3,2) CHECK (quality_score BETWEEN 0 AND 1), metadata JSONB",
     "CREATE INDEX {t}_product_time ON {t} (product_id, time);"
     "CREATE INDEX {t}_agent_time ON {t} (agent_id, time);"
     "CREATE INDEX {t}_task ON {t} (task_id);",
     "time_us BIGINT, task_id TEXT, agent_id TEXT, product_id TEXT, task_type TEXT, status TEXT, "
     "duration_ms BIGINT, total_cost_us BIGINT, steps_count BIGINT, quality_centi BIGINT, "
     "metadata TEXT",
     "time, task_id, agent_id, product_id, task_type, status, duration_ms, total_cost_usd, "
     "steps_count, quality_score, metadata, event_id",
     "tally_ts(k.time_us), k.task_id::uuid, k.agent_id, k.product_id::uuid, k.task_type, k.status, "
     "k.duration_ms, k.total_cost_us / 1000000.0, k.steps_count, k.quality_centi / 100.0, "
     "k.metadata::jsonb, k.event_id",
     "agent_id", 180, WriteTask, {}},
    {model::EventKind::kInfraCost, "infra_costs",
     "time TIMESTAMPTZ NOT NULL, product_id UUID, cost_type TEXT NOT NULL, provider TEXT NOT NULL, "
     "amount_usd NUMERIC(18,6) NOT NULL, billing_period TEXT, metadata JSONB",
     "CREATE INDEX {t}_product_time ON {t} (product_id, time);",
     "time_us BIGINT, product_id TEXT, cost_type TEXT, provider TEXT, amount_us BIGINT, "
     "billing_period TEXT, metadata TEXT",
     "time, product_id, cost_type, provider, amount_usd, billing_period, metadata, event_id",
     "tally_ts(k.time_us), k.product_id::uuid, k.cost_type, k.provider, k.amount_us / 1000000.0, "
     "k.billing_period, k.metadata::jsonb, k.event_id",
     "product_id", 0, WriteInfra, kInfraRollups},
    {model::EventKind::kGrowth, "growth_events",
     "time TIMESTAMPTZ NOT NULL, product_id UUID NOT NULL, channel TEXT NOT NULL, "
     "metric TEXT NOT NULL, value NUMERIC(18,2) NOT NULL DEFAULT 1, metadata JSONB",
     "CREATE INDEX {t}_product_time ON {t} (product_id, time);",
     "time_us BIGINT, product_id TEXT, channel TEXT, metric TEXT, value_centi BIGINT, "
     "metadata TEXT",
     "time, product_id, channel, metric, value, metadata, event_id",
     "tally_ts(k.time_us), k.product_id::uuid, k.channel, k.metric, k.value_centi / 100.0, "
     "k.metadata::jsonb, k.event_id",
     "product_id", 90, WriteGrowth, kGrowthRollups},
    {model::EventKind::kOps, "ops_events",
     "time TIMESTAMPTZ NOT NULL, product_id UUID, kind TEXT NOT NULL, source TEXT NOT NULL, "
     "status TEXT NOT NULL, latency_ms BIGINT CHECK (latency_ms >= 0), "
     "status_code INTEGER CHECK (status_code BETWEEN 0 AND 999), repository TEXT, metadata JSONB",
     "CREATE INDEX {t}_product_time ON {t} (product_id, time);",
     "time_us BIGINT, product_id TEXT, kind TEXT, source TEXT, status TEXT, latency_ms BIGINT, "
     "status_code BIGINT, repository TEXT, metadata TEXT",
     "time, product_id, kind, source, status, latency_ms, status_code, repository, metadata, "
     "event_id",
     "tally_ts(k.time_us), k.product_id::uuid, k.kind, k.source, k.status, k.latency_ms, "
     "k.status_code, k.repository, k.metadata::jsonb, k.event_id",
     "kind", 0, WriteOps, kOpsRollups},
}};

}  // namespace

std::span<const KindSpec> Kinds() { return kKinds; }

const KindSpec& SpecOf(model::EventKind kind) { return kKinds[static_cast<int>(kind)]; }

std::span<const std::string_view> TaskRollupSql() { return kTaskRollups; }

}  // namespace tally::store::pg
