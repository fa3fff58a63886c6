// Totals: every source aggregated per product (and per agent) FIRST, from the
// rollup rows of one period, so nothing downstream joins raw sources and
// multiplies sums (DESIGN.md "ROI without join fan-out"). Implements the cost
// model of KPIS.md:
//   LLM cost = sum of calls; task cost = terminal event's cost, else its calls;
//   tool cost = max(0, task cost - its calls); infra = sum of infra_costs;
//   factory total = LLM + tool + infra (a call's cost enters once);
//   product cost = its tasks' cost + its infra; shared = total - sum of products.
// Pure: no I/O, no clock. Money in micro-USD (int64).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/business_calendar.h"
#include "store/rollups.h"

namespace tally::analytics {

struct Period {
  core::Timestamp from;  // inclusive, UTC
  core::Timestamp to;    // exclusive
  double Days() const;
  // The period of equal length just before this one.
  Period Previous() const;
  // The period just before this one in `calendar`'s business days: as many
  // local days when both ends are local midnights (a DST change makes a day
  // 23 or 25 hours), else the same length.
  Period Previous(const core::BusinessCalendar& calendar) const;
};

struct ProductTotals {
  std::int64_t revenue = 0;  // net (refunds are negative)
  std::int64_t gross_revenue = 0;
  std::int64_t refunds = 0;    // <= 0
  std::int64_t task_cost = 0;  // "agent cost" of the P&L
  std::int64_t infra_cost = 0;
  std::int64_t task_hours_ms = 0;         // sum of terminal tasks' duration_ms
  std::int64_t marketing_infra_cost = 0;  // infra of cost_type ads or marketing (CAC)
  std::int64_t Cost() const { return task_cost + infra_cost; }
  std::int64_t Profit() const { return revenue - Cost(); }
};

struct AgentTotals {
  std::int64_t llm_cost = 0;
  std::int64_t tool_cost = 0;  // of the agent's terminal tasks
  std::int64_t calls = 0;
  std::int64_t errors = 0;
  std::int64_t input_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t latency_ms_sum = 0;
  // Terminal tasks by status.
  std::int64_t completed = 0, failed = 0, escalated = 0;
  std::int64_t completed_cost = 0;  // task cost of completed tasks
  std::int64_t completed_steps_sum = 0, completed_steps_n = 0;
  std::int64_t quality_centi_sum = 0, quality_n = 0;
  // duration_ms of the agent's terminal tasks per product ("" = none).
  std::map<std::string, std::int64_t> task_ms_by_product;
  std::map<std::string, std::int64_t> task_cost_by_product;
  std::int64_t Cost() const { return llm_cost + tool_cost; }
};

struct Totals {
  std::int64_t llm_cost = 0;
  std::int64_t tool_cost = 0;
  std::int64_t infra_cost = 0;
  std::int64_t revenue = 0;  // net, every product
  std::int64_t gross_revenue = 0;
  std::int64_t refunds = 0;
  std::int64_t marketing_infra_cost = 0;          // every product and shared
  std::map<std::string, ProductTotals> products;  // by product id ("" never present)
  std::map<std::string, AgentTotals> agents;      // by agent id
  // Agent-level sums over every agent (calls, tasks): the factory's agent KPIs.
  AgentTotals all_agents;

  std::int64_t TotalCost() const { return llm_cost + tool_cost + infra_cost; }
  std::int64_t ProductCosts() const;
  std::int64_t SharedCost() const { return TotalCost() - ProductCosts(); }
};

Totals Aggregate(const store::RollupSet& rollups);

}  // namespace tally::analytics
