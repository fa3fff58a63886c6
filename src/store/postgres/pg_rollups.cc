// PostgresStore: reading the rollups, rebuilding them from raw, and the
// subscription events MRR and churn need. Incremental maintenance is the
// rollup SQL of pg_kinds.cc, run by Append.
#include <fmt/format.h>

#include "core/business_calendar.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_store.h"

namespace tally::store {
namespace {

#define DAY_OF(col) "tally_ts(tally_day(tally_us(" col ")))"

// Recomputes every rollup from raw; the same definitions as the incremental
// SQL (buckets by floor, terminal = latest by (time, event_id), gauges'
// last value likewise). Raw money is NUMERIC USD: summed exactly, then
// converted to micro-USD.
constexpr std::string_view kRebuildSql =
    "DELETE FROM agent_costs_hourly; DELETE FROM agent_costs_daily; DELETE FROM revenue_daily; "
    "DELETE FROM revenue_daily_customers; DELETE FROM task_rollup; DELETE FROM task_costs_daily; "
    "DELETE FROM infra_costs_daily; DELETE FROM growth_daily; DELETE FROM ops_daily;\n"
    "INSERT INTO agent_costs_hourly (bucket, agent_id, model, provider, call_count, "
    "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "
    "error_count) SELECT tally_ts(tally_hour(tally_us(time))), agent_id, model, "
    "provider, count(*), sum(input_tokens), sum(output_tokens), sum(cached_tokens), "
    "(sum(cost_usd) * 1000000)::bigint, sum(latency_ms), count(*) FILTER (WHERE status <> "
    "'success') FROM llm_calls GROUP BY 1, 2, 3, 4;\n"
    "INSERT INTO agent_costs_daily (bucket, agent_id, model, provider, call_count, "
    "total_input_tokens, total_output_tokens, total_cached_tokens, total_cost, sum_latency_ms, "
    "error_count) SELECT " DAY_OF("bucket") ", agent_id, model, provider, sum(call_count), "
    "sum(total_input_tokens), sum(total_output_tokens), sum(total_cached_tokens), "
    "sum(total_cost), sum(sum_latency_ms), sum(error_count) FROM agent_costs_hourly "
    "GROUP BY 1, 2, 3, 4;\n"
    "INSERT INTO revenue_daily_customers (bucket, product_id, event_type, customer_id) "
    "SELECT DISTINCT " DAY_OF("time") ", product_id::text, event_type, customer_id "
    "FROM revenue_events WHERE customer_id IS NOT NULL;\n"
    "INSERT INTO revenue_daily (bucket, product_id, event_type, gross_revenue, refunds, "
    "total_revenue, event_count, unique_customers) SELECT " DAY_OF("time") ", product_id::text, "
    "event_type, coalesce((sum(amount_usd) FILTER (WHERE amount_usd > 0) * 1000000)::bigint, 0), "
    "coalesce((sum(amount_usd) FILTER (WHERE amount_usd < 0) * 1000000)::bigint, 0), "
    "coalesce((sum(amount_usd) * 1000000)::bigint, 0), count(*), count(DISTINCT customer_id) "
    "FROM revenue_events GROUP BY 1, 2, 3;\n"
    "INSERT INTO task_rollup (task_id, call_cost, call_count) SELECT task_id::text, "
    "(sum(cost_usd) * 1000000)::bigint, count(*) FROM llm_calls WHERE task_id IS NOT NULL "
    "GROUP BY 1;\n"
    "INSERT INTO task_rollup AS r (task_id, call_cost, call_count, terminal_time, "
    "terminal_event_id, agent_id, product_id, task_type, status, total_cost_usd, duration_ms, "
    "steps_count, quality_score) SELECT DISTINCT ON (task_id) task_id::text, 0, 0, time, "
    "event_id, agent_id, coalesce(product_id::text, ''), task_type, status, "
    "(total_cost_usd * 1000000)::bigint, duration_ms, steps_count, "
    "(quality_score * 100)::bigint FROM task_events WHERE status IN ('completed', 'failed', "
    "'escalated') ORDER BY task_id, time DESC, event_id DESC ON CONFLICT (task_id) DO UPDATE SET "
    "terminal_time = excluded.terminal_time, terminal_event_id = excluded.terminal_event_id, "
    "agent_id = excluded.agent_id, product_id = excluded.product_id, "
    "task_type = excluded.task_type, status = excluded.status, "
    "total_cost_usd = excluded.total_cost_usd, duration_ms = excluded.duration_ms, "
    "steps_count = excluded.steps_count, quality_score = excluded.quality_score;\n"
    "INSERT INTO task_costs_daily (bucket, product_id, agent_id, task_type, status, task_count, "
    "total_cost, llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, quality_sum, "
    "quality_count) SELECT " DAY_OF("terminal_time") ", product_id, agent_id, task_type, status, "
    "count(*), sum(coalesce(total_cost_usd, call_cost)), sum(call_cost), sum(CASE WHEN "
    "total_cost_usd IS NULL THEN 0 ELSE greatest(0, total_cost_usd - call_cost) END), "
    "sum(coalesce(duration_ms, 0)), sum(coalesce(steps_count, 0)), count(steps_count), "
    "sum(coalesce(quality_score, 0)), count(quality_score) FROM task_rollup "
    "WHERE terminal_time IS NOT NULL GROUP BY 1, 2, 3, 4, 5;\n"
    "INSERT INTO infra_costs_daily (bucket, product_id, cost_type, total_cost, event_count) "
    "SELECT " DAY_OF("time") ", coalesce(product_id::text, ''), cost_type, "
    "(sum(amount_usd) * 1000000)::bigint, count(*) FROM infra_costs GROUP BY 1, 2, 3;\n"
    "INSERT INTO growth_daily (bucket, product_id, channel, metric, total_value, event_count, "
    "last_time, last_event_id, last_value) SELECT g.day, g.product_id, g.channel, g.metric, "
    "g.s, g.n, l.time, l.event_id, l.v FROM (SELECT " DAY_OF("time") " AS day, "
    "product_id::text AS product_id, channel, metric, (sum(value) * 100)::bigint AS s, "
    "count(*) AS n FROM growth_events GROUP BY 1, 2, 3, 4) g JOIN (SELECT DISTINCT ON (day, "
    "product_id, channel, metric) day, product_id, channel, metric, time, event_id, v FROM "
    "(SELECT " DAY_OF("time") " AS day, product_id::text AS product_id, channel, metric, time, "
    "event_id, (value * 100)::bigint AS v FROM growth_events) x ORDER BY day, product_id, "
    "channel, metric, time DESC, event_id DESC) l USING (day, product_id, channel, metric);\n"
    "INSERT INTO ops_daily (bucket, product_id, kind, event_count, failure_count, "
    "latency_ms_sum, latency_count) SELECT " DAY_OF("time") ", coalesce(product_id::text, ''), "
    "kind, count(*), count(*) FILTER (WHERE status IN ('failure', 'error', 'down')), "
    "coalesce(sum(latency_ms), 0), count(latency_ms) FROM ops_events GROUP BY 1, 2, 3;\n";

template <typename Row, typename ReadFn>
Status ReadRange(PGconn* conn, std::string_view sql, std::string_view context,
                 core::Timestamp from, core::Timestamp to, ReadFn read, std::vector<Row>* out) {
  auto res = TALLY_TRY(pg::Run(conn, sql,
                               {std::to_string(core::ToMicros(from)),
                                std::to_string(core::ToMicros(to))},
                               context));
  for (int i = 0; i < PQntuples(res.get()); ++i) out->push_back(read(res.get(), i));
  return core::OkStatus();
}

#define RANGE " WHERE bucket >= tally_ts($1::bigint) AND bucket < tally_ts($2::bigint) "

}  // namespace

Result<RollupSet> PostgresStore::ReadRollups(core::Timestamp from, core::Timestamp to,
                                             unsigned kinds) {
  TALLY_RETURN_IF_ERROR(CheckRollupRead(from, to, kinds));
  auto lease = TALLY_TRY(Acquire("rollups: read"));
  PGconn* conn = lease.get();
  RollupSet set;
  using pg::Int;
  using pg::Text;
  // One snapshot for every table read.
  Status status = pg::Exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "rollups: read");
  if (status && (kinds & (kAgentCostRollup | kAgentCostDailyRollup))) {
    const bool daily = (kinds & kAgentCostDailyRollup) != 0;
    status = ReadRange(
        conn,
        fmt::format(fmt::runtime((kinds & kProductGrain)
                        ? "SELECT tally_us(bucket), '', '', '', sum(call_count), "
                          "sum(total_input_tokens), sum(total_output_tokens), "
                          "sum(total_cached_tokens), sum(total_cost), sum(sum_latency_ms), "
                          "sum(error_count) FROM {}" RANGE "GROUP BY bucket ORDER BY 1"
                        : "SELECT tally_us(bucket), agent_id, model, provider, call_count, "
                          "total_input_tokens, total_output_tokens, total_cached_tokens, "
                          "total_cost, sum_latency_ms, error_count FROM {}" RANGE
                          "ORDER BY 1, 2, 3, 4"),
                    daily ? "agent_costs_daily" : "agent_costs_hourly"),
        daily ? "agent_costs_daily: read" : "agent_costs_hourly: read", from, to,
        [](const PGresult* r, int i) {
          return AgentCostRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                              Text(r, i, 3), Int(r, i, 4), Int(r, i, 5), Int(r, i, 6),
                              Int(r, i, 7), Int(r, i, 8), Int(r, i, 9), Int(r, i, 10)};
        },
        &set.agent_costs);
  }
  if (status && (kinds & kRevenueRollup)) {
    status = ReadRange(
        conn,
        "SELECT tally_us(bucket), product_id, event_type, gross_revenue, refunds, total_revenue, "
        "event_count, unique_customers FROM revenue_daily" RANGE "ORDER BY 1, 2, 3",
        "revenue_daily: read", from, to,
        [](const PGresult* r, int i) {
          return RevenueDailyRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                                 Int(r, i, 3), Int(r, i, 4), Int(r, i, 5), Int(r, i, 6),
                                 Int(r, i, 7)};
        },
        &set.revenue);
  }
  if (status && (kinds & kTaskRollup)) {
    status = ReadRange(
        conn,
        // Product grain (rollups.h): summed here; PostgreSQL's hash
        // aggregate makes a materialized copy unnecessary.
        (kinds & kProductGrain)
            ? "SELECT tally_us(bucket), product_id, '', '', status, sum(task_count), "
              "sum(total_cost), sum(llm_cost), sum(tool_cost), sum(total_duration_ms), "
              "sum(steps_sum), sum(steps_count), sum(quality_sum), sum(quality_count) "
              "FROM task_costs_daily" RANGE "GROUP BY bucket, product_id, status ORDER BY 1, 2, 5"
            : "SELECT tally_us(bucket), product_id, agent_id, task_type, status, task_count, "
              "total_cost, llm_cost, tool_cost, total_duration_ms, steps_sum, steps_count, "
              "quality_sum, quality_count FROM task_costs_daily" RANGE "ORDER BY 1, 2, 3, 4, 5",
        "task_costs_daily: read", from, to,
        [](const PGresult* r, int i) {
          return TaskCostRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                             Text(r, i, 3), Text(r, i, 4), Int(r, i, 5), Int(r, i, 6),
                             Int(r, i, 7), Int(r, i, 8), Int(r, i, 9), Int(r, i, 10),
                             Int(r, i, 11), Int(r, i, 12), Int(r, i, 13)};
        },
        &set.tasks);
  }
  if (status && (kinds & kInfraRollup)) {
    status = ReadRange(
        conn,
        "SELECT tally_us(bucket), product_id, cost_type, total_cost, event_count "
        "FROM infra_costs_daily" RANGE "ORDER BY 1, 2, 3",
        "infra_costs_daily: read", from, to,
        [](const PGresult* r, int i) {
          return InfraDailyRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                               Int(r, i, 3), Int(r, i, 4)};
        },
        &set.infra);
  }
  if (status && (kinds & kGrowthRollup)) {
    status = ReadRange(
        conn,
        "SELECT tally_us(bucket), product_id, channel, metric, total_value, event_count, "
        "tally_us(last_time), last_value FROM growth_daily" RANGE "ORDER BY 1, 2, 3, 4",
        "growth_daily: read", from, to,
        [](const PGresult* r, int i) {
          return GrowthDailyRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                                Text(r, i, 3), Int(r, i, 4), Int(r, i, 5),
                                core::FromMicros(Int(r, i, 6)), Int(r, i, 7)};
        },
        &set.growth);
  }
  if (status && (kinds & kOpsRollup)) {
    status = ReadRange(
        conn,
        "SELECT tally_us(bucket), product_id, kind, event_count, failure_count, latency_ms_sum, "
        "latency_count FROM ops_daily" RANGE "ORDER BY 1, 2, 3",
        "ops_daily: read", from, to,
        [](const PGresult* r, int i) {
          return OpsDailyRow{core::FromMicros(Int(r, i, 0)), Text(r, i, 1), Text(r, i, 2),
                             Int(r, i, 3), Int(r, i, 4), Int(r, i, 5), Int(r, i, 6)};
        },
        &set.ops);
  }
  if (PQstatus(conn) == CONNECTION_OK) (void)pg::Exec(conn, "ROLLBACK", "rollups: read");
  if (!status) return std::unexpected(std::move(status).error());
  return set;
}

Status PostgresStore::RebuildRollups() {
  std::lock_guard lock(write_mu_);
  auto lease = TALLY_TRY(Acquire("rollups rebuild"));
  PGconn* conn = lease.get();
  return InTransaction(conn, "rollups rebuild", Writer::kExclusive,
                       [&] { return pg::Exec(conn, kRebuildSql, "rollups rebuild"); });
}

Result<std::string> PostgresStore::RollupTimeZone() {
  auto res = TALLY_TRY(ReadOne("store_settings: read",
                               "SELECT value FROM store_settings WHERE key = 'rollup_time_zone'", {}));
  if (PQntuples(res.get()) == 0) return std::string("UTC");
  return pg::Text(res.get(), 0, 0);
}

Status PostgresStore::SetRollupTimeZone(const std::string& time_zone) {
  core::BusinessCalendar calendar = TALLY_TRY(core::BusinessCalendar::Create(time_zone));
  std::lock_guard lock(write_mu_);
  auto lease = TALLY_TRY(Acquire("set rollup time zone"));
  PGconn* conn = lease.get();
  // Under the write lock every node's appends wait, so no delta lands in a
  // bucket of the old zone between the function swap and the rebuild.
  return InTransaction(conn, "set rollup time zone", Writer::kExclusive, [&]() -> Status {
    auto res = TALLY_TRY(pg::Run(
        conn, "SELECT value FROM store_settings WHERE key = 'rollup_time_zone' FOR UPDATE", {},
        "store_settings: read"));
    if (PQntuples(res.get()) > 0 && pg::Text(res.get(), 0, 0) == calendar.time_zone()) {
      return core::OkStatus();
    }
    TALLY_TRY(pg::Run(conn,
                      "INSERT INTO store_settings (key, value) VALUES ('rollup_time_zone', $1) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      {calendar.time_zone()}, "store_settings: write"));
    TALLY_RETURN_IF_ERROR(
        pg::Exec(conn, pg::BucketFunctionsSql(calendar.time_zone()), "bucket functions"));
    return pg::Exec(conn, kRebuildSql, "rollups rebuild");
  });
}

Result<std::vector<ProductLifetime>> PostgresStore::ProductLifetimes(core::Timestamp to) {
  auto res = TALLY_TRY(ReadOne(
      "rollups: product lifetimes",
      "SELECT product_id, sum(net)::bigint, sum(task)::bigint, sum(infra)::bigint, "
      "tally_us(min(first)) FROM (SELECT product_id, total_revenue AS net, 0::bigint AS task, "
      "0::bigint AS infra, CASE WHEN gross_revenue > 0 THEN bucket END AS first FROM "
      "revenue_daily WHERE bucket < tally_ts($1::bigint) UNION ALL SELECT product_id, 0, "
      "total_cost, 0, NULL FROM task_costs_daily WHERE bucket < tally_ts($1::bigint) AND "
      "product_id <> '' UNION ALL SELECT product_id, 0, 0, total_cost, NULL FROM "
      "infra_costs_daily WHERE bucket < tally_ts($1::bigint) AND product_id <> '') x "
      "GROUP BY product_id ORDER BY product_id",
      {std::to_string(core::ToMicros(to))}));
  std::vector<ProductLifetime> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    ProductLifetime p{pg::Text(r, i, 0), pg::Int(r, i, 1), pg::Int(r, i, 2), pg::Int(r, i, 3),
                      std::nullopt};
    if (auto first = pg::OptInt(r, i, 4)) p.first_revenue = core::FromMicros(*first);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<SubscriptionEventRow>> PostgresStore::ListSubscriptionEvents(
    core::Timestamp to) {
  auto res = TALLY_TRY(ReadOne(
      "revenue_events: subscriptions",
      "SELECT tally_us(time), product_id::text, coalesce(customer_id, ''), "
      "event_type = 'subscription_start', (amount_usd * 1000000)::bigint, "
      "coalesce(metadata ->> 'interval', 'month') FROM revenue_events "
      "WHERE event_type IN ('subscription_start', 'subscription_cancel') "
      "AND time < tally_ts($1::bigint) ORDER BY time, event_id",
      {std::to_string(core::ToMicros(to))}));
  std::vector<SubscriptionEventRow> out;
  const PGresult* r = res.get();
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back(SubscriptionEventRow{core::FromMicros(pg::Int(r, i, 0)), pg::Text(r, i, 1),
                                       pg::Text(r, i, 2), pg::Text(r, i, 3) == "t",
                                       pg::OptInt(r, i, 4), pg::Text(r, i, 5)});
  }
  return out;
}

}  // namespace tally::store
