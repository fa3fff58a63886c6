// Rollups: the derived aggregates every dashboard, KPI, P&L and ROI figure is
// read from (docs/analytics.md, docs/schema.md "Rollup tables").
//
// Guarantees (every backend; tests/unit/store/rollups_test.cc):
//  - Maintained by Store::Append in the same transaction as the raw rows, from
//    the rows actually inserted (a duplicate changes nothing), so a committed
//    event is in its rollups and a rolled-back one is in none.
//  - Buckets are the local hours / days, in the store's business time zone
//    (Store::RollupTimeZone; UTC until set), of the event's own `time`, kept
//    as the UTC instant they start: a late or out-of-order event lands in its
//    own bucket, never "now".
//  - Store::RebuildRollups() recomputes every rollup from raw in one
//    transaction and yields exactly the rows incremental maintenance yields.
//  - Money is int64 micro-USD; growth values are hundredths (as in raw).
//  - A missing product (shared infra, a task without product) is the empty
//    string "" in rollup keys (a NULL key could not be upserted).
//
// Task cost (KPIS.md): a task's terminal event is its LATEST event with status
// completed / failed / escalated (latest by time, then event_id), so a retried
// task counts once. Its cost is that event's total_cost_usd, or, when absent,
// the sum of the task's LLM calls (which keeps changing while late calls
// arrive: the rollup is corrected in the transaction that stores them). Tool
// cost = max(0, total_cost_usd - the calls' sum) when total_cost_usd is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace tally::store {

// agent_costs_hourly: llm_calls per hour x agent x model x provider (and
// agent_costs_daily: the same per business day).
struct AgentCostRow {
  core::Timestamp bucket;  // business hour start (day for agent_costs_daily)
  std::string agent_id;
  std::string model;
  std::string provider;
  std::int64_t call_count = 0;
  std::int64_t input_tokens = 0;  // includes cached tokens
  std::int64_t output_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t cost_micros = 0;
  std::int64_t latency_ms_sum = 0;  // avg latency = latency_ms_sum / call_count
  std::int64_t error_count = 0;     // status other than success
  friend bool operator==(const AgentCostRow&, const AgentCostRow&) = default;
};

// revenue_daily: revenue_events per day x product x event_type.
struct RevenueDailyRow {
  core::Timestamp bucket;  // business day start (UTC instant)
  std::string product_id;
  std::string event_type;
  std::int64_t gross_micros = 0;      // sum of positive amounts
  std::int64_t refunds_micros = 0;    // sum of negative amounts (<= 0)
  std::int64_t net_micros = 0;        // gross + refunds ("total_revenue")
  std::int64_t event_count = 0;       // every event, with or without amount
  std::int64_t unique_customers = 0;  // distinct non-null customer_id in the group
  friend bool operator==(const RevenueDailyRow&, const RevenueDailyRow&) = default;
};

// task_costs_daily: tasks by their terminal event, per day (of that event) x
// product x agent x task_type x status.
struct TaskCostRow {
  core::Timestamp bucket;  // business day start (UTC instant)
  std::string product_id;  // "" = none
  std::string agent_id;
  std::string task_type;
  std::string status;  // completed, failed, escalated
  std::int64_t task_count = 0;
  std::int64_t cost_micros = 0;      // task cost (KPIS.md)
  std::int64_t llm_cost_micros = 0;  // sum of the tasks' LLM calls
  std::int64_t tool_cost_micros = 0;
  std::int64_t duration_ms_sum = 0;  // terminal events' duration_ms (absent = 0)
  std::int64_t steps_sum = 0;
  std::int64_t steps_n = 0;  // tasks with steps_count
  std::int64_t quality_centi_sum = 0;
  std::int64_t quality_n = 0;  // tasks with quality_score
  friend bool operator==(const TaskCostRow&, const TaskCostRow&) = default;
};

// infra_costs_daily: infra_costs per day x product x cost_type.
struct InfraDailyRow {
  core::Timestamp bucket;  // business day start (UTC instant)
  std::string product_id;  // "" = shared infrastructure
  std::string cost_type;
  std::int64_t amount_micros = 0;
  std::int64_t event_count = 0;
  friend bool operator==(const InfraDailyRow&, const InfraDailyRow&) = default;
};

// growth_daily: growth_events per day x product x channel x metric. Counters
// are summed; a gauge's value in a period is last_value_centi of the latest
// row (by last_time) in it.
struct GrowthDailyRow {
  core::Timestamp bucket;  // business day start (UTC instant)
  std::string product_id;
  std::string channel;
  std::string metric;
  std::int64_t value_centi_sum = 0;
  std::int64_t event_count = 0;
  core::Timestamp last_time;  // latest event (by time, then event_id) of the day
  std::int64_t last_value_centi = 0;
  friend bool operator==(const GrowthDailyRow&, const GrowthDailyRow&) = default;
};

// ops_daily: ops_events per day x product x kind (deploy frequency, change
// failure rate, uptime). A failure is a status model::IsOpsFailure counts.
struct OpsDailyRow {
  core::Timestamp bucket;  // business day start (UTC instant)
  std::string product_id;  // "" = factory-wide
  std::string kind;
  std::int64_t event_count = 0;
  std::int64_t failure_count = 0;
  std::int64_t latency_ms_sum = 0;  // over the events with latency_ms
  std::int64_t latency_n = 0;
  friend bool operator==(const OpsDailyRow&, const OpsDailyRow&) = default;
};

// Which rollups a read wants (bits), so a long history of one kind (say
// revenue for payback) does not drag in every hourly agent row.
enum RollupKind : unsigned {
  kAgentCostRollup = 1,
  kRevenueRollup = 2,
  kTaskRollup = 4,
  kInfraRollup = 8,
  kGrowthRollup = 16,
  kOpsRollup = 64,
  kAllRollups = 95,  // with hourly agent costs
  // agent_costs_daily instead of hourly: RollupSet::agent_costs then holds
  // one row per business day (exclusive with kAgentCostRollup).
  kAgentCostDailyRollup = 32,
  kAllDailyRollups = 126,
  // A modifier: read at product grain. Task rows come summed per bucket x
  // product x status (agent_id and task_type ""), agent-cost rows per bucket
  // (agent_id, model and provider ""). P&L, payback and all-history reads
  // need no more, and read a fraction of the rows (a year of task rows for a
  // factory of 15 agents shrinks about eightfold). Every total of
  // analytics::Aggregate except the per-agent ones is unchanged by it.
  kProductGrain = 128,
};

// The arguments of Store::ReadRollups every backend refuses alike:
// invalid_argument for to before from, or hourly and daily agent costs at once.
core::Status CheckRollupRead(core::Timestamp from, core::Timestamp to, unsigned kinds);

// Every rollup row whose bucket lies in [from, to), ordered by key.
struct RollupSet {
  std::vector<AgentCostRow> agent_costs;
  std::vector<RevenueDailyRow> revenue;
  std::vector<TaskCostRow> tasks;
  std::vector<InfraDailyRow> infra;
  std::vector<GrowthDailyRow> growth;
  std::vector<OpsDailyRow> ops;
  friend bool operator==(const RollupSet&, const RollupSet&) = default;
};

// A subscription_start or subscription_cancel, for MRR and churn, which
// follow subscriptions per customer and cannot be summed from daily rows.
struct SubscriptionEventRow {
  core::Timestamp time;
  std::string product_id;
  std::string customer_id;  // "" when the event has none
  bool start = true;        // false: cancel
  std::optional<std::int64_t> amount_micros;
  std::string interval;  // metadata "interval": month (default), year, quarter, week
};

// One product's totals over every bucket before a time, summed by the store
// (Store::ProductLifetimes): what "to date" KPIs need without reading years
// of daily rows. Money in micro-USD, as in the rows.
struct ProductLifetime {
  std::string product_id;
  std::int64_t net_revenue_micros = 0;  // revenue_daily total_revenue
  std::int64_t task_cost_micros = 0;    // task_costs_daily total_cost
  std::int64_t infra_cost_micros = 0;   // infra_costs_daily total_cost
  // Start of the first bucket with positive gross revenue.
  std::optional<core::Timestamp> first_revenue;
  friend bool operator==(const ProductLifetime&, const ProductLifetime&) = default;
};

}  // namespace tally::store
