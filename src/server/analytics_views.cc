#include "server/analytics_views.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdio>

#include "core/money.h"

namespace tally::server {

namespace json = boost::json;
using analytics::Period;

std::string UsdText(std::int64_t micros) { return core::Money::FromMicros(micros).ToString(); }

namespace {

// YYYY-MM-DD: local midnight of that date in the business zone; otherwise
// an RFC 3339 instant.
core::Result<core::Timestamp> ParseTime(const std::string& name, const std::string& text,
                                        const core::BusinessCalendar& calendar) {
  auto bad = [&] {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("{} '{}' is not a date (YYYY-MM-DD) or an RFC 3339 time", name, text)));
  };
  if (text.size() == 10) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || text[4] != '-' ||
        text[7] != '-') {
      return bad();
    }
    auto t = calendar.Midnight(y, m, d);
    if (!t) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("{} '{}': {}", name, text, t.error().message())));
    }
    return *t;
  }
  auto t = core::ParseRfc3339(text);
  if (!t) return bad();
  return *t;
}

// Start of the series bucket holding t: business day, ISO week (Monday),
// month.
core::Timestamp BucketOf(core::Timestamp t, const AnalyticsQuery& q) {
  if (q.granularity == "week") return q.calendar.WeekStart(t);
  if (q.granularity == "month") return q.calendar.MonthStart(t);
  if (q.granularity == "total") return q.period.from;
  return q.calendar.DayStart(t);
}

json::value Number(std::optional<double> v) {
  if (!v) return nullptr;
  return *v;
}

json::object KpiToJson(const analytics::Kpi& k) {
  return json::object{{"key", k.key},
                      {"name", k.name},
                      {"unit", k.unit},
                      {"value", Number(k.value)},
                      {"previous", Number(k.previous)},
                      {"change", Number(k.change)},
                      {"target", k.target.text},
                      {"status", analytics::ToString(k.status)},
                      {"note", k.note}};
}

json::array KpisToJson(const std::vector<analytics::Kpi>& kpis) {
  json::array out;
  for (const auto& k : kpis) out.push_back(KpiToJson(k));
  return out;
}

json::object PeriodJson(const AnalyticsQuery& q) {
  return json::object{{"from", core::FormatRfc3339(q.period.from)},
                      {"to", core::FormatRfc3339(q.period.to)},
                      {"days", q.period.Days()},
                      {"time_zone", q.calendar.time_zone()}};
}

// All-history reads (payback, hit rate, time to revenue) need the per-product
// sources only: daily rows, never the hourly agent rows.
// Product grain: per-agent detail is not needed for history.
constexpr unsigned kHistoryKinds =
    store::kRevenueRollup | store::kTaskRollup | store::kInfraRollup | store::kProductGrain;
// P&L and product ROI of a period: every cost, at product grain.
constexpr unsigned kPnlKinds = store::kAgentCostDailyRollup | store::kRevenueRollup |
                               store::kTaskRollup | store::kInfraRollup | store::kProductGrain;

struct Loaded {
  analytics::KpiInput input;
  store::RollupSet rollups;      // the period's
  store::RollupSet all_rollups;  // since the epoch, up to the period end (kHistoryKinds)
};

// The period's rollups and the previous period's, entities, subscriptions,
// and every product's totals to date (summed by the store). The history rows
// themselves only when asked (payback needs the daily series).
core::Result<Loaded> Load(store::Store& store, const AnalyticsQuery& q, bool history_rows) {
  const Period& period = q.period;
  Loaded l;
  l.input.period = period;
  l.input.calendar = q.calendar;
  l.rollups = TALLY_TRY(store.ReadRollups(period.from, period.to, store::kAllDailyRollups));
  const Period prev = period.Previous(q.calendar);
  store::RollupSet previous =
      TALLY_TRY(store.ReadRollups(prev.from, prev.to, store::kAllDailyRollups));
  if (history_rows) {
    l.all_rollups = TALLY_TRY(store.ReadRollups(core::FromMicros(0), period.to, kHistoryKinds));
  }
  l.input.current = analytics::Aggregate(l.rollups);
  l.input.previous = analytics::Aggregate(previous);
  for (const auto& p : TALLY_TRY(store.ProductLifetimes(period.to))) {
    analytics::ProductTotals& t = l.input.all_time.products[p.product_id];
    t.revenue = p.net_revenue_micros;
    t.task_cost = p.task_cost_micros;
    t.infra_cost = p.infra_cost_micros;
    if (p.first_revenue) l.input.first_revenue.emplace_back(p.product_id, *p.first_revenue);
  }
  l.input.growth = l.rollups.growth;
  l.input.previous_growth = previous.growth;
  l.input.ops = l.rollups.ops;
  l.input.previous_ops = previous.ops;
  l.input.subscriptions = TALLY_TRY(store.ListSubscriptionEvents(period.to));
  l.input.products = TALLY_TRY(store.ListProducts());
  l.input.agents = TALLY_TRY(store.ListAgents());
  return l;
}

// Resolves a product given by id or by name.
core::Result<model::Product> FindProduct(const std::vector<model::Product>& products,
                                         const std::string& key) {
  for (const auto& p : products) {
    if (p.id == key || p.name == key) return p;
  }
  return std::unexpected(
      core::Error::NotFound(fmt::format("no product with id or name '{}'", key)));
}

json::object PnlLineJson(const analytics::PnlLine& l) {
  return json::object{{"product_id", l.product_id},
                      {"product_name", l.product_name},
                      {"product_type", l.product_type},
                      {"revenue", UsdText(l.revenue)},
                      {"gross_revenue", UsdText(l.gross_revenue)},
                      {"refunds", UsdText(l.refunds)},
                      {"agent_cost", UsdText(l.agent_cost)},
                      {"infra_cost", UsdText(l.infra_cost)},
                      {"net_profit", UsdText(l.net_profit)},
                      {"shared_allocated", UsdText(l.shared_allocated)},
                      {"fully_loaded_profit", UsdText(l.fully_loaded_profit)}};
}

// Per product and series bucket: revenue, agent cost, infra cost.
struct SeriesCell {
  std::int64_t revenue = 0, agent = 0, infra = 0;
};
std::map<std::pair<core::Timestamp, std::string>, SeriesCell> ProductSeries(
    const store::RollupSet& r, const AnalyticsQuery& q) {
  std::map<std::pair<core::Timestamp, std::string>, SeriesCell> cells;
  for (const auto& x : r.revenue)
    cells[{BucketOf(x.bucket, q), x.product_id}].revenue += x.net_micros;
  for (const auto& x : r.tasks) {
    if (!x.product_id.empty())
      cells[{BucketOf(x.bucket, q), x.product_id}].agent += x.cost_micros;
  }
  for (const auto& x : r.infra) {
    if (!x.product_id.empty())
      cells[{BucketOf(x.bucket, q), x.product_id}].infra += x.amount_micros;
  }
  return cells;
}

json::object PaybackJson(const store::RollupSet& all, const model::Product& p,
                         const AnalyticsQuery& q) {
  std::map<core::Timestamp, analytics::DailyPnl> days;
  AnalyticsQuery daily = q;
  daily.granularity = "day";
  for (const auto& [key, cell] : ProductSeries(all, daily)) {
    if (key.second != p.id) continue;
    days[key.first] = analytics::DailyPnl{key.first, cell.revenue, cell.agent + cell.infra};
  }
  std::vector<analytics::DailyPnl> rows;
  for (const auto& [d, row] : days) rows.push_back(row);
  analytics::Payback pb = analytics::ComputePayback(std::move(rows), p.launched_at);
  auto time_or_null = [](const std::optional<core::Timestamp>& t) -> json::value {
    if (!t) return nullptr;
    return json::value(core::FormatRfc3339(*t));
  };
  return json::object{{"cumulative_revenue", UsdText(pb.cumulative_revenue)},
                      {"cumulative_cost", UsdText(pb.cumulative_cost)},
                      {"cumulative_profit", UsdText(pb.cumulative_profit)},
                      {"build_cost", UsdText(pb.build_cost)},
                      {"monthly_ongoing_cost", UsdText(pb.monthly_ongoing_cost)},
                      {"break_even_day", time_or_null(pb.break_even_day)},
                      {"payback_days", Number(pb.payback_days)},
                      {"projected_break_even", time_or_null(pb.projected_break_even)},
                      {"note", pb.note}};
}

}  // namespace

core::Result<core::BusinessCalendar> StoreCalendar(store::Store& store) {
  return core::BusinessCalendar::Create(TALLY_TRY(store.RollupTimeZone()));
}

core::Result<AnalyticsQuery> ParseAnalyticsQuery(const std::map<std::string, std::string>& params,
                                                 core::Timestamp now,
                                                 const core::BusinessCalendar& calendar) {
  AnalyticsQuery q;
  q.calendar = calendar;
  q.period.to = calendar.NextDayStart(now);
  q.period.from = calendar.AddDays(q.period.to, -30);
  auto get = [&](const char* name) -> const std::string* {
    auto it = params.find(name);
    return it == params.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (const auto* v = get("tz")) {
    auto asked = core::BusinessCalendar::Create(*v);
    if (!asked) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("tz '{}' is not an IANA time zone this machine knows", *v)));
    }
    if (asked->time_zone() != calendar.time_zone()) {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "tz '{}': the rollups are kept in business days of '{}' ([business] time_zone); "
          "days of another zone would cut them mid-day",
          *v, calendar.time_zone())));
    }
  }
  if (const auto* v = get("from")) q.period.from = TALLY_TRY(ParseTime("from", *v, calendar));
  if (const auto* v = get("to")) q.period.to = TALLY_TRY(ParseTime("to", *v, calendar));
  if (const auto* v = get("from"); v && !get("to"))
    q.period.to = std::max(q.period.to, q.period.from);
  if (q.period.to <= q.period.from) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("to '{}' must be after from '{}'", core::FormatRfc3339(q.period.to),
                    core::FormatRfc3339(q.period.from))));
  }
  if (const auto* v = get("granularity")) {
    if (*v != "day" && *v != "week" && *v != "month" && *v != "total") {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("granularity '{}' is not one of day, week, month, total", *v)));
    }
    q.granularity = *v;
  }
  if (const auto* v = get("allocation"))
    q.allocation = TALLY_TRY(analytics::ParseAllocationRule(*v));
  if (const auto* v = get("product")) q.product = *v;
  if (const auto* v = get("agent")) q.agent = *v;
  return q;
}

core::Result<json::value> KpisJson(store::Store& store, const AnalyticsQuery& q) {
  Loaded l = TALLY_TRY(Load(store, q, /*history_rows=*/false));
  std::string product_id;
  if (!q.product.empty()) product_id = TALLY_TRY(FindProduct(l.input.products, q.product)).id;
  return json::object{{"period", PeriodJson(q)},
                      {"factory", KpisToJson(analytics::FactoryKpis(l.input))},
                      {"agents", KpisToJson(analytics::AgentKpis(l.input, q.agent))},
                      {"products", KpisToJson(analytics::ProductKpis(l.input, product_id))},
                      {"growth", KpisToJson(analytics::GrowthKpis(l.input, product_id))}};
}

core::Result<json::value> PnlJson(store::Store& store, const AnalyticsQuery& q) {
  store::RollupSet rollups = TALLY_TRY(store.ReadRollups(q.period.from, q.period.to, kPnlKinds));
  std::vector<model::Product> products = TALLY_TRY(store.ListProducts());
  std::string only;
  if (!q.product.empty()) only = TALLY_TRY(FindProduct(products, q.product)).id;
  analytics::Pnl pnl = analytics::ComputePnl(analytics::Aggregate(rollups), products, q.allocation);
  json::array lines;
  for (const auto& l : pnl.lines) {
    if (only.empty() || l.product_id == only) lines.push_back(PnlLineJson(l));
  }
  std::map<std::string, const model::Product*> by_id;
  for (const auto& p : products) by_id[p.id] = &p;
  json::array series;
  for (const auto& [key, cell] : ProductSeries(rollups, q)) {
    if (!only.empty() && key.second != only) continue;
    auto it = by_id.find(key.second);
    series.push_back(json::object{{"bucket", core::FormatRfc3339(key.first)},
                                  {"product_id", key.second},
                                  {"product_name", it == by_id.end() ? "" : it->second->name},
                                  {"revenue", UsdText(cell.revenue)},
                                  {"agent_cost", UsdText(cell.agent)},
                                  {"infra_cost", UsdText(cell.infra)},
                                  {"net_profit", UsdText(cell.revenue - cell.agent - cell.infra)}});
  }
  return json::object{{"period", PeriodJson(q)},
                      {"granularity", q.granularity},
                      {"allocation", analytics::ToString(pnl.rule)},
                      {"totals", json::object{{"revenue", UsdText(pnl.revenue)},
                                              {"total_cost", UsdText(pnl.total_cost)},
                                              {"shared_cost", UsdText(pnl.shared_cost)},
                                              {"net_profit", UsdText(pnl.net_profit)}}},
                      {"products", std::move(lines)},
                      {"series", std::move(series)}};
}

core::Result<json::value> ProductRoiJson(store::Store& store, const AnalyticsQuery& q) {
  store::RollupSet rollups = TALLY_TRY(store.ReadRollups(q.period.from, q.period.to, kPnlKinds));
  store::RollupSet all =
      TALLY_TRY(store.ReadRollups(core::FromMicros(0), q.period.to, kHistoryKinds));
  std::vector<model::Product> products = TALLY_TRY(store.ListProducts());
  std::map<std::string, const model::Product*> by_id;
  for (const auto& p : products) by_id[p.id] = &p;
  json::array items;
  for (const auto& r : analytics::ComputeProductRoi(analytics::Aggregate(rollups), products)) {
    json::object o{{"product_id", r.product_id},          {"product_name", r.product_name},
                   {"revenue", UsdText(r.revenue)},       {"agent_cost", UsdText(r.agent_cost)},
                   {"infra_cost", UsdText(r.infra_cost)}, {"net_profit", UsdText(r.net_profit)},
                   {"roi_percent", Number(r.roi_percent)}};
    if (auto it = by_id.find(r.product_id); it != by_id.end())
      o["payback"] = PaybackJson(all, *it->second, q);
    items.push_back(std::move(o));
  }
  return json::object{{"period", PeriodJson(q)}, {"items", std::move(items)}};
}

core::Result<json::value> AgentRoiJson(store::Store& store, const AnalyticsQuery& q) {
  store::RollupSet rollups =
      TALLY_TRY(store.ReadRollups(q.period.from, q.period.to, store::kAllDailyRollups));
  json::array items;
  for (const auto& r : analytics::ComputeAgentRoi(analytics::Aggregate(rollups))) {
    json::object weights;
    for (const auto& [product, w] : r.weights) weights[product] = w;
    items.push_back(json::object{{"agent_id", r.agent_id},
                                 {"cost", UsdText(r.cost)},
                                 {"attributed_revenue", UsdText(r.attributed_revenue)},
                                 {"roi_percent", Number(r.roi_percent)},
                                 {"weights", std::move(weights)}});
  }
  return json::object{{"period", PeriodJson(q)}, {"items", std::move(items)}};
}

core::Result<json::value> AgentStatsJson(store::Store& store, const AnalyticsQuery& q,
                                         const std::string& agent_id) {
  Loaded l = TALLY_TRY(Load(store, q, /*history_rows=*/false));
  const bool known = std::any_of(l.input.agents.begin(), l.input.agents.end(),
                                 [&](const model::Agent& a) { return a.id == agent_id; }) ||
                     l.input.current.agents.count(agent_id) > 0;
  if (!known) return std::unexpected(core::Error::NotFound(fmt::format("no agent '{}'", agent_id)));
  std::map<core::Timestamp, std::pair<std::int64_t, std::int64_t>> cost_series;  // cost, calls
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_model;
  for (const auto& r : l.rollups.agent_costs) {
    if (r.agent_id != agent_id) continue;
    auto& cell = cost_series[BucketOf(r.bucket, q)];
    cell.first += r.cost_micros;
    cell.second += r.call_count;
    auto& m = by_model[r.model];
    m.first += r.cost_micros;
    m.second += r.call_count;
  }
  json::array series, models;
  for (const auto& [b, c] : cost_series) {
    series.push_back(json::object{
        {"bucket", core::FormatRfc3339(b)}, {"cost", UsdText(c.first)}, {"calls", c.second}});
  }
  for (const auto& [m, c] : by_model) {
    models.push_back(json::object{{"model", m}, {"cost", UsdText(c.first)}, {"calls", c.second}});
  }
  const auto it = l.input.current.agents.find(agent_id);
  const analytics::AgentTotals t =
      it == l.input.current.agents.end() ? analytics::AgentTotals{} : it->second;
  return json::object{{"agent_id", agent_id},
                      {"period", PeriodJson(q)},
                      {"llm_cost", UsdText(t.llm_cost)},
                      {"tool_cost", UsdText(t.tool_cost)},
                      {"calls", t.calls},
                      {"kpis", KpisToJson(analytics::AgentKpis(l.input, agent_id))},
                      {"models", std::move(models)},
                      {"series", std::move(series)}};
}

core::Result<json::value> ProductStatsJson(store::Store& store, const AnalyticsQuery& q,
                                           const std::string& product) {
  Loaded l = TALLY_TRY(Load(store, q, /*history_rows=*/true));
  model::Product p = TALLY_TRY(FindProduct(l.input.products, product));
  analytics::Pnl pnl = analytics::ComputePnl(l.input.current, l.input.products, q.allocation);
  json::value line = nullptr;
  for (const auto& x : pnl.lines) {
    if (x.product_id == p.id) line = PnlLineJson(x);
  }
  json::array series;
  for (const auto& [key, cell] : ProductSeries(l.rollups, q)) {
    if (key.second != p.id) continue;
    series.push_back(json::object{{"bucket", core::FormatRfc3339(key.first)},
                                  {"revenue", UsdText(cell.revenue)},
                                  {"agent_cost", UsdText(cell.agent)},
                                  {"infra_cost", UsdText(cell.infra)},
                                  {"net_profit", UsdText(cell.revenue - cell.agent - cell.infra)}});
  }
  return json::object{{"product_id", p.id},
                      {"product_name", p.name},
                      {"period", PeriodJson(q)},
                      {"pnl", std::move(line)},
                      {"payback", PaybackJson(l.all_rollups, p, q)},
                      {"kpis", KpisToJson(analytics::ProductKpis(l.input, p.id))},
                      {"growth", KpisToJson(analytics::GrowthKpis(l.input, p.id))},
                      {"series", std::move(series)}};
}

}  // namespace tally::server
