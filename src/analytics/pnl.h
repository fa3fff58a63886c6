// P&L, ROI and payback (seed §7, §10; KPIS.md cost model; DESIGN.md
// differences: net revenue, every terminal task's cost, shared costs
// allocated by a configured rule, each source aggregated per product first).
// Pure functions over Totals and entities; money in micro-USD.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/totals.h"
#include "core/result.h"
#include "model/entities.h"

namespace tally::analytics {

// How the fully-loaded P&L spreads the shared cost over products.
enum class AllocationRule {
  kDirectCost,    // by each product's own cost (default)
  kRevenueShare,  // by each product's positive net revenue
  kEvenly,        // equal parts
};
core::Result<AllocationRule> ParseAllocationRule(
    std::string_view s);  // direct-cost, revenue-share, evenly
std::string_view ToString(AllocationRule rule);

// Splits `amount` over `weights` (>= 0) exactly: the parts sum to amount;
// largest remainders get the leftover micro-USD (ties: lower index). All
// weights zero: split evenly. Empty weights: empty result.
std::vector<std::int64_t> Allocate(std::int64_t amount, const std::vector<double>& weights);

struct PnlLine {
  std::string product_id;
  std::string product_name;
  std::string product_type;
  std::int64_t revenue = 0;  // net
  std::int64_t gross_revenue = 0;
  std::int64_t refunds = 0;
  std::int64_t agent_cost = 0;  // task cost of its terminal tasks
  std::int64_t infra_cost = 0;
  std::int64_t net_profit = 0;
  std::int64_t shared_allocated = 0;     // fully-loaded view
  std::int64_t fully_loaded_profit = 0;  // net_profit - shared_allocated
};

struct Pnl {
  std::vector<PnlLine> lines;  // one per product given, ordered by net_profit desc, then name
  std::int64_t revenue = 0;
  std::int64_t total_cost = 0;   // factory total cost
  std::int64_t shared_cost = 0;  // total - sum of product costs
  std::int64_t net_profit = 0;   // revenue - total cost
  AllocationRule rule = AllocationRule::kDirectCost;
};

// P&L over `products` (those with rollup rows but not in the list appear as
// their id with empty name and type).
Pnl ComputePnl(const Totals& totals, const std::vector<model::Product>& products,
               AllocationRule rule);

struct ProductRoi {
  std::string product_id;
  std::string product_name;
  std::int64_t revenue = 0;
  std::int64_t agent_cost = 0;
  std::int64_t infra_cost = 0;
  std::int64_t net_profit = 0;
  // (revenue - cost) / cost * 100; nullopt (undefined) when cost is 0.
  std::optional<double> roi_percent;
};
// Ordered by net_profit desc, then name.
std::vector<ProductRoi> ComputeProductRoi(const Totals& totals,
                                          const std::vector<model::Product>& products);

struct AgentRoi {
  std::string agent_id;
  std::int64_t cost = 0;                // LLM cost + tool cost of its tasks
  std::int64_t attributed_revenue = 0;  // sum over products of revenue x weight
  // Weight per product = agent's task hours on it / all task hours on it.
  std::vector<std::pair<std::string, double>> weights;
  // (attributed_revenue - cost) / cost * 100; nullopt when cost is 0.
  std::optional<double> roi_percent;
};
// Seed §10 per-agent ROI. Ordered by roi desc (undefined last), then id.
std::vector<AgentRoi> ComputeAgentRoi(const Totals& totals);

// One product's day for payback (product_pnl_daily rows).
struct DailyPnl {
  core::Timestamp day;
  std::int64_t revenue = 0;
  std::int64_t cost = 0;  // agent + infra
};

struct Payback {
  std::int64_t cumulative_revenue = 0;
  std::int64_t cumulative_cost = 0;
  std::int64_t cumulative_profit = 0;
  // Build cost: cost of days before launched_at (idea to launch); ongoing
  // monthly cost: mean daily cost of the last 30 days since launch x 30.
  std::int64_t build_cost = 0;
  std::int64_t monthly_ongoing_cost = 0;
  // First day whose cumulative profit is >= 0 after being negative (or the
  // first day with profit when it never was); nullopt: not yet.
  std::optional<core::Timestamp> break_even_day;
  std::optional<double> payback_days;  // break_even_day - launched_at (or first day)
  // Not yet broken even: extrapolated from the mean daily profit of the last
  // 30 days; nullopt when that trajectory is not positive.
  std::optional<core::Timestamp> projected_break_even;
  std::string note;
};
// days: any order, at most one row per day.
Payback ComputePayback(std::vector<DailyPnl> days, std::optional<core::Timestamp> launched_at);

}  // namespace tally::analytics
