// GET /v1/overview: the numbers of the seed §8 factory overview, from the
// rollups only (bounded reads: 48 hourly buckets and month-to-date days).
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cmath>
#include <map>

#include "server/analytics_views.h"
#include "server/handlers.h"

namespace tally::server {

namespace json = boost::json;

namespace {

struct Window {
  std::int64_t calls = 0, errors = 0, latency = 0, input = 0, cached = 0;
};

// "improving" / "worsening" / "stable" (within 5% relative) for a rate where
// lower is better unless higher_is_better.
std::string Trend(std::optional<double> now, std::optional<double> before, bool higher_is_better) {
  if (!now || !before) return "unknown";
  const double base = std::max(std::fabs(*before), 1e-12);
  const double rel = (*now - *before) / base;
  if (std::fabs(rel) < 0.05) return "stable";
  return (rel > 0) == higher_is_better ? "improving" : "worsening";
}

json::value Opt(std::optional<double> v) {
  if (!v) return nullptr;
  return *v;
}

json::object Metric(std::optional<double> now, std::optional<double> before,
                    bool higher_is_better) {
  return json::object{{"value", Opt(now)},
                      {"previous", Opt(before)},
                      {"trend", Trend(now, before, higher_is_better)}};
}

}  // namespace

core::Result<json::value> OverviewJson(store::Store& store, core::Timestamp now,
                                       const core::BusinessCalendar& calendar) {
  using namespace std::chrono;
  const core::Timestamp today = calendar.DayStart(now);
  const core::Timestamp tomorrow = calendar.NextDayStart(now);
  const core::Timestamp hour = calendar.HourStart(now);
  const core::Timestamp month_start = calendar.MonthStart(now);
  // Month to date from daily rows; the 48 h windows from hourly ones.
  store::RollupSet r = TALLY_TRY(store.ReadRollups(
      month_start, tomorrow,
      store::kAgentCostDailyRollup | store::kRevenueRollup | store::kInfraRollup));
  // Only the tool cost of tasks counts here: product grain is enough.
  r.tasks = TALLY_TRY(store.ReadRollups(month_start, tomorrow,
                                        store::kTaskRollup | store::kProductGrain))
                .tasks;
  store::RollupSet recent =
      TALLY_TRY(store.ReadRollups(hour - hours(47), hour + hours(1), store::kAgentCostRollup));
  std::vector<model::Agent> agents = TALLY_TRY(store.ListAgents());
  std::vector<model::Product> products = TALLY_TRY(store.ListProducts());

  // Today / MTD: factory cost (LLM + tool + infra) and net revenue.
  std::int64_t cost_today = 0, cost_mtd = 0, revenue_today = 0, revenue_mtd = 0;
  std::map<std::string, std::int64_t> agent_cost_today;
  std::map<std::string, std::int64_t> product_revenue_mtd;
  for (const auto& x : r.agent_costs) {
    if (x.bucket >= month_start) cost_mtd += x.cost_micros;
    if (x.bucket >= today) {
      cost_today += x.cost_micros;
      agent_cost_today[x.agent_id] += x.cost_micros;
    }
  }
  for (const auto& x : r.tasks) {
    if (x.bucket >= month_start) cost_mtd += x.tool_cost_micros;
    if (x.bucket >= today) cost_today += x.tool_cost_micros;
  }
  for (const auto& x : r.infra) {
    if (x.bucket >= month_start) cost_mtd += x.amount_micros;
    if (x.bucket >= today) cost_today += x.amount_micros;
  }
  for (const auto& x : r.revenue) {
    if (x.bucket >= month_start) {
      revenue_mtd += x.net_micros;
      product_revenue_mtd[x.product_id] += x.net_micros;
    }
    if (x.bucket >= today) revenue_today += x.net_micros;
  }

  // Budget use: today's LLM spend of agents with a daily budget over the sum
  // of those budgets.
  std::int64_t budget = 0, budget_spent = 0;
  for (const auto& a : agents) {
    if (!a.daily_budget || a.daily_budget->micros() <= 0) continue;
    budget += a.daily_budget->micros();
    budget_spent += agent_cost_today[a.id];
  }

  // Last 24 hours (this hour included) against the 24 before.
  json::array per_hour;
  std::map<core::Timestamp, std::int64_t> hourly;
  Window last, before;
  std::map<std::string, bool> active;
  for (const auto& x : recent.agent_costs) {
    const bool recent = x.bucket > hour - hours(24);
    Window& w = recent ? last : before;
    w.calls += x.call_count;
    w.errors += x.error_count;
    w.latency += x.latency_ms_sum;
    w.input += x.input_tokens;
    w.cached += x.cached_tokens;
    if (recent) {
      hourly[x.bucket] += x.cost_micros;
      active[x.agent_id] = true;
    }
  }
  for (int h = 23; h >= 0; --h) {
    const core::Timestamp b = hour - hours(h);
    per_hour.push_back(
        json::object{{"hour", core::FormatRfc3339(b)}, {"cost", UsdText(hourly[b])}});
  }
  auto rate = [](std::int64_t num, std::int64_t den) -> std::optional<double> {
    if (den == 0) return std::nullopt;
    return static_cast<double>(num) / static_cast<double>(den);
  };

  std::vector<std::pair<std::string, std::int64_t>> top_agents(agent_cost_today.begin(),
                                                               agent_cost_today.end());
  std::sort(top_agents.begin(), top_agents.end(), [](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  json::array agents_json;
  for (size_t i = 0; i < top_agents.size() && i < 5; ++i) {
    if (top_agents[i].second == 0) break;
    agents_json.push_back(
        json::object{{"agent_id", top_agents[i].first}, {"cost", UsdText(top_agents[i].second)}});
  }
  std::map<std::string, std::string> names;
  for (const auto& p : products) names[p.id] = p.name;
  std::vector<std::pair<std::string, std::int64_t>> top_products(product_revenue_mtd.begin(),
                                                                 product_revenue_mtd.end());
  std::sort(top_products.begin(), top_products.end(), [](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  json::array products_json;
  for (size_t i = 0; i < top_products.size() && i < 5; ++i) {
    products_json.push_back(json::object{{"product_id", top_products[i].first},
                                         {"product_name", names[top_products[i].first]},
                                         {"revenue", UsdText(top_products[i].second)}});
  }
  store::AlertFilter firing;
  firing.state = "firing";
  firing.limit = 20;
  auto alerts = TALLY_TRY(store.ListAlerts(firing));
  json::array alerts_json;
  for (const auto& a : alerts) alerts_json.push_back(AlertJson(a));
  std::map<std::string, bool> all_agents = active;
  for (const auto& a : agents) all_agents[a.id] |= false;

  return json::object{
      {"as_of", core::FormatRfc3339(now)},
      {"time_zone", calendar.time_zone()},
      {"today", json::object{{"cost", UsdText(cost_today)}, {"revenue", UsdText(revenue_today)}}},
      {"mtd", json::object{{"cost", UsdText(cost_mtd)}, {"revenue", UsdText(revenue_mtd)}}},
      {"budget", json::object{{"daily_budget", UsdText(budget)},
                              {"spent_today", UsdText(budget_spent)},
                              {"used", Opt(rate(budget_spent, budget))}}},
      {"cost_per_hour_24h", std::move(per_hour)},
      {"active_agents", json::object{{"active", static_cast<std::int64_t>(active.size())},
                                     {"total", static_cast<std::int64_t>(all_agents.size())}}},
      {"error_rate",
       Metric(rate(last.errors, last.calls), rate(before.errors, before.calls), false)},
      {"avg_latency_ms",
       Metric(rate(last.latency, last.calls), rate(before.latency, before.calls), false)},
      {"cache_hit_rate",
       Metric(rate(last.cached, last.input), rate(before.cached, before.input), true)},
      {"top_cost_agents_today", std::move(agents_json)},
      {"top_revenue_products_mtd", std::move(products_json)},
      // Firing alerts, newest first (src/alerts keeps them).
      {"alerts", std::move(alerts_json)}};
}

}  // namespace tally::server
