#include "analytics/totals.h"

#include <chrono>

namespace tally::analytics {

double Period::Days() const {
  return std::chrono::duration<double, std::ratio<86400>>(to - from).count();
}

Period Period::Previous() const { return Period{from - (to - from), from}; }

Period Period::Previous(const core::BusinessCalendar& calendar) const {
  if (calendar.DayStart(from) != from || calendar.DayStart(to) != to) return Previous();
  // The nearest local midnight: the length differs from whole days only by
  // the DST shifts inside, an hour or two.
  return Period{calendar.DayStart(from - (to - from) + std::chrono::hours(12)), from};
}

std::int64_t Totals::ProductCosts() const {
  std::int64_t sum = 0;
  for (const auto& [id, p] : products) sum += p.Cost();
  return sum;
}

namespace {

void AddTask(AgentTotals& a, const store::TaskCostRow& r) {
  a.tool_cost += r.tool_cost_micros;
  if (r.status == "completed") {
    a.completed += r.task_count;
    a.completed_cost += r.cost_micros;
    a.completed_steps_sum += r.steps_sum;
    a.completed_steps_n += r.steps_n;
  } else if (r.status == "failed") {
    a.failed += r.task_count;
  } else if (r.status == "escalated") {
    a.escalated += r.task_count;
  }
  a.quality_centi_sum += r.quality_centi_sum;
  a.quality_n += r.quality_n;
  a.task_ms_by_product[r.product_id] += r.duration_ms_sum;
  a.task_cost_by_product[r.product_id] += r.cost_micros;
}

void AddCalls(AgentTotals& a, const store::AgentCostRow& r) {
  a.llm_cost += r.cost_micros;
  a.calls += r.call_count;
  a.errors += r.error_count;
  a.input_tokens += r.input_tokens;
  a.cached_tokens += r.cached_tokens;
  a.latency_ms_sum += r.latency_ms_sum;
}

}  // namespace

Totals Aggregate(const store::RollupSet& rollups) {
  Totals t;
  for (const auto& r : rollups.agent_costs) {
    t.llm_cost += r.cost_micros;
    AddCalls(t.agents[r.agent_id], r);
    AddCalls(t.all_agents, r);
  }
  for (const auto& r : rollups.revenue) {
    ProductTotals& p = t.products[r.product_id];
    p.revenue += r.net_micros;
    p.gross_revenue += r.gross_micros;
    p.refunds += r.refunds_micros;
    t.revenue += r.net_micros;
    t.gross_revenue += r.gross_micros;
    t.refunds += r.refunds_micros;
  }
  for (const auto& r : rollups.tasks) {
    t.tool_cost += r.tool_cost_micros;
    if (!r.product_id.empty()) {
      ProductTotals& p = t.products[r.product_id];
      p.task_cost += r.cost_micros;
      p.task_hours_ms += r.duration_ms_sum;
    }
    AddTask(t.agents[r.agent_id], r);
    AddTask(t.all_agents, r);
  }
  for (const auto& r : rollups.infra) {
    t.infra_cost += r.amount_micros;
    const bool marketing = r.cost_type == "ads" || r.cost_type == "marketing";
    if (marketing) t.marketing_infra_cost += r.amount_micros;
    if (!r.product_id.empty()) {
      ProductTotals& p = t.products[r.product_id];
      p.infra_cost += r.amount_micros;
      if (marketing) p.marketing_infra_cost += r.amount_micros;
    }
  }
  return t;
}

}  // namespace tally::analytics
