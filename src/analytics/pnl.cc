#include "analytics/pnl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace tally::analytics {

core::Result<AllocationRule> ParseAllocationRule(std::string_view s) {
  if (s == "direct-cost" || s.empty()) return AllocationRule::kDirectCost;
  if (s == "revenue-share") return AllocationRule::kRevenueShare;
  if (s == "evenly") return AllocationRule::kEvenly;
  return std::unexpected(core::Error::InvalidArgument(
      fmt::format("allocation '{}' is not one of direct-cost, revenue-share, evenly", s)));
}

std::string_view ToString(AllocationRule rule) {
  switch (rule) {
    case AllocationRule::kDirectCost:
      return "direct-cost";
    case AllocationRule::kRevenueShare:
      return "revenue-share";
    case AllocationRule::kEvenly:
      return "evenly";
  }
  return "direct-cost";
}

std::vector<std::int64_t> Allocate(std::int64_t amount, const std::vector<double>& weights) {
  const size_t n = weights.size();
  std::vector<std::int64_t> parts(n, 0);
  if (n == 0) return parts;
  double sum = 0;
  for (double w : weights) sum += std::max(0.0, w);
  std::vector<double> share(n);
  for (size_t i = 0; i < n; ++i) {
    share[i] = sum > 0 ? std::max(0.0, weights[i]) / sum : 1.0 / static_cast<double>(n);
  }
  // Largest remainder: floor every exact share, then hand the leftover micros
  // one by one to the largest fractional parts, so the parts sum exactly.
  const double total = static_cast<double>(amount);
  std::vector<double> frac(n);
  std::int64_t assigned = 0;
  for (size_t i = 0; i < n; ++i) {
    double exact = total * share[i];
    parts[i] = static_cast<std::int64_t>(std::floor(exact));
    frac[i] = exact - std::floor(exact);
    assigned += parts[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return frac[a] > frac[b]; });
  std::int64_t left = amount - assigned;
  for (size_t k = 0; left != 0; k = (k + 1) % n) {
    parts[order[k]] += left > 0 ? 1 : -1;
    left += left > 0 ? -1 : 1;
  }
  return parts;
}

namespace {

std::map<std::string, const model::Product*> ById(const std::vector<model::Product>& products) {
  std::map<std::string, const model::Product*> by_id;
  for (const auto& p : products) by_id[p.id] = &p;
  return by_id;
}

std::optional<double> Percent(std::int64_t num, std::int64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den) * 100.0;
}

}  // namespace

Pnl ComputePnl(const Totals& totals, const std::vector<model::Product>& products,
               AllocationRule rule) {
  Pnl pnl;
  pnl.rule = rule;
  std::map<std::string, ProductTotals> all = totals.products;
  for (const auto& p : products) all.try_emplace(p.id);
  auto by_id = ById(products);
  for (const auto& [id, t] : all) {
    PnlLine line;
    line.product_id = id;
    if (auto it = by_id.find(id); it != by_id.end()) {
      line.product_name = it->second->name;
      line.product_type = it->second->type;
    }
    line.revenue = t.revenue;
    line.gross_revenue = t.gross_revenue;
    line.refunds = t.refunds;
    line.agent_cost = t.task_cost;
    line.infra_cost = t.infra_cost;
    line.net_profit = t.Profit();
    pnl.lines.push_back(std::move(line));
  }
  pnl.revenue = totals.revenue;
  pnl.total_cost = totals.TotalCost();
  pnl.shared_cost = totals.SharedCost();
  pnl.net_profit = pnl.revenue - pnl.total_cost;
  std::vector<double> weights;
  for (const auto& l : pnl.lines) {
    switch (rule) {
      case AllocationRule::kDirectCost:
        weights.push_back(
            static_cast<double>(std::max<std::int64_t>(0, l.agent_cost + l.infra_cost)));
        break;
      case AllocationRule::kRevenueShare:
        weights.push_back(static_cast<double>(std::max<std::int64_t>(0, l.revenue)));
        break;
      case AllocationRule::kEvenly:
        weights.push_back(1.0);
        break;
    }
  }
  std::vector<std::int64_t> parts = Allocate(pnl.shared_cost, weights);
  for (size_t i = 0; i < pnl.lines.size(); ++i) {
    pnl.lines[i].shared_allocated = parts[i];
    pnl.lines[i].fully_loaded_profit = pnl.lines[i].net_profit - parts[i];
  }
  std::stable_sort(pnl.lines.begin(), pnl.lines.end(), [](const PnlLine& a, const PnlLine& b) {
    if (a.net_profit != b.net_profit) return a.net_profit > b.net_profit;
    return a.product_name < b.product_name;
  });
  return pnl;
}

std::vector<ProductRoi> ComputeProductRoi(const Totals& totals,
                                          const std::vector<model::Product>& products) {
  // The P&L lines already hold each source summed per product.
  Pnl pnl = ComputePnl(totals, products, AllocationRule::kDirectCost);
  std::vector<ProductRoi> out;
  for (const auto& l : pnl.lines) {
    ProductRoi r;
    r.product_id = l.product_id;
    r.product_name = l.product_name;
    r.revenue = l.revenue;
    r.agent_cost = l.agent_cost;
    r.infra_cost = l.infra_cost;
    r.net_profit = l.net_profit;
    r.roi_percent = Percent(l.net_profit, l.agent_cost + l.infra_cost);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<AgentRoi> ComputeAgentRoi(const Totals& totals) {
  // All agents' task hours per product: the weights' denominators.
  std::map<std::string, std::int64_t> product_ms;
  for (const auto& [id, a] : totals.agents) {
    for (const auto& [product, ms] : a.task_ms_by_product) {
      if (!product.empty()) product_ms[product] += ms;
    }
  }
  std::vector<AgentRoi> out;
  for (const auto& [id, a] : totals.agents) {
    AgentRoi r;
    r.agent_id = id;
    r.cost = a.Cost();
    double revenue = 0;
    for (const auto& [product, ms] : a.task_ms_by_product) {
      if (product.empty() || ms <= 0) continue;
      const double weight = static_cast<double>(ms) / static_cast<double>(product_ms[product]);
      r.weights.emplace_back(product, weight);
      auto it = totals.products.find(product);
      if (it != totals.products.end()) revenue += static_cast<double>(it->second.revenue) * weight;
    }
    r.attributed_revenue = static_cast<std::int64_t>(std::llround(revenue));
    r.roi_percent = Percent(r.attributed_revenue - r.cost, r.cost);
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const AgentRoi& a, const AgentRoi& b) {
    if (a.roi_percent.has_value() != b.roi_percent.has_value()) return a.roi_percent.has_value();
    if (a.roi_percent && *a.roi_percent != *b.roi_percent) return *a.roi_percent > *b.roi_percent;
    return a.agent_id < b.agent_id;
  });
  return out;
}

Payback ComputePayback(std::vector<DailyPnl> days, std::optional<core::Timestamp> launched_at) {
  Payback p;
  std::sort(days.begin(), days.end(),
            [](const DailyPnl& a, const DailyPnl& b) { return a.day < b.day; });
  if (days.empty()) {
    p.note = "no P&L rows";
    return p;
  }
  bool was_negative = false;
  for (const auto& d : days) {
    p.cumulative_revenue += d.revenue;
    p.cumulative_cost += d.cost;
    p.cumulative_profit = p.cumulative_revenue - p.cumulative_cost;
    if (launched_at && d.day < *launched_at) p.build_cost += d.cost;
    if (p.cumulative_profit < 0) {
      was_negative = true;
      p.break_even_day.reset();
    } else if (!p.break_even_day && (was_negative || p.cumulative_profit > 0)) {
      p.break_even_day = d.day;
    }
  }
  const core::Timestamp start = launched_at.value_or(days.front().day);
  if (launched_at && *launched_at < days.front().day) {
    p.note = "the data starts after launch: cumulative figures miss the earliest days";
  }
  if (p.break_even_day) {
    p.payback_days =
        std::chrono::duration<double, std::ratio<86400>>(*p.break_even_day - start).count();
  }
  // The trajectory: the last 30 days of data (after launch when known).
  const core::Timestamp window_start = days.back().day - std::chrono::days(29);
  std::int64_t recent_profit = 0, recent_cost = 0;
  for (const auto& d : days) {
    if (d.day < window_start || (launched_at && d.day < *launched_at)) continue;
    recent_profit += d.revenue - d.cost;
    recent_cost += d.cost;
  }
  p.monthly_ongoing_cost = recent_cost;  // 30 days of days = one month
  if (p.cumulative_profit < 0) {
    if (recent_profit > 0) {
      // ceil(deficit / (recent_profit / 30)) in integers: no float rounding
      // turning an exact 30 days into 31.
      const __int128 deficit = -static_cast<__int128>(p.cumulative_profit) * 30;
      const auto need = static_cast<std::int64_t>((deficit + recent_profit - 1) / recent_profit);
      p.projected_break_even = days.back().day + std::chrono::days(need);
    } else {
      p.note = "not on a path to break even: the last 30 days lost money";
    }
  }
  return p;
}

}  // namespace tally::analytics
