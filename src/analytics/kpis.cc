#include "analytics/kpis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tally::analytics {
namespace {

constexpr double kUsd = 1e6;  // micro-USD per USD
double Usd(std::int64_t micros) { return static_cast<double>(micros) / kUsd; }

Kpi Make(std::string key, std::string name, std::string unit, Target target) {
  Kpi k;
  k.key = std::move(key);
  k.name = std::move(name);
  k.unit = std::move(unit);
  k.target = std::move(target);
  return k;
}

Kpi NoData(Kpi k, std::string source) {
  k.status = KpiStatus::kNoData;
  k.note = std::move(source);
  return k;
}

Kpi Undefined(Kpi k, std::string why) {
  k.status = KpiStatus::kUndefined;
  k.note = std::move(why);
  return k;
}

Kpi Valued(Kpi k, double value, std::optional<double> previous) {
  k.value = value;
  k.previous = previous;
  Evaluate(&k);
  return k;
}

std::optional<double> Ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

Target Above(double t, std::string text, bool trend = false) {
  return Target{TargetKind::kAbove, t, trend, std::move(text)};
}
Target Below(double t, std::string text, bool trend = false) {
  return Target{TargetKind::kBelow, t, trend, std::move(text)};
}
Target Growing(std::string text = "growing") {
  return Target{TargetKind::kGrowing, 0, false, std::move(text)};
}
Target Decreasing(std::string text = "decreasing") {
  return Target{TargetKind::kDecreasing, 0, false, std::move(text)};
}

}  // namespace

std::string_view ToString(KpiStatus s) {
  switch (s) {
    case KpiStatus::kOk:
      return "ok";
    case KpiStatus::kWarn:
      return "warn";
    case KpiStatus::kBad:
      return "bad";
    case KpiStatus::kNoData:
      return "no data";
    case KpiStatus::kUndefined:
      return "undefined";
  }
  return "no data";
}

void Evaluate(Kpi* k) {
  if (!k->value) return;  // no data / undefined were set by the caller
  const double v = *k->value;
  k->change.reset();
  if (k->previous && *k->previous != 0) k->change = (v - *k->previous) / std::fabs(*k->previous);
  const Target& t = k->target;
  const bool has_prev = k->previous.has_value();
  switch (t.kind) {
    case TargetKind::kInfo:
      k->status = KpiStatus::kOk;
      return;
    case TargetKind::kAbove: {
      if (v > t.threshold) {
        const bool wrong_way = t.trend && has_prev && v < *k->previous;
        k->status = wrong_way ? KpiStatus::kWarn : KpiStatus::kOk;
      } else {
        const bool near = t.threshold > 0 && v >= t.threshold * 0.9;
        k->status = near ? KpiStatus::kWarn : KpiStatus::kBad;
      }
      return;
    }
    case TargetKind::kBelow: {
      if (v < t.threshold) {
        const bool wrong_way = t.trend && has_prev && v > *k->previous;
        k->status = wrong_way ? KpiStatus::kWarn : KpiStatus::kOk;
      } else {
        const bool near = t.threshold > 0 && v <= t.threshold * 1.1;
        k->status = near ? KpiStatus::kWarn : KpiStatus::kBad;
      }
      return;
    }
    case TargetKind::kGrowing:
    case TargetKind::kDecreasing: {
      // Without a previous period there is no trend to judge.
      if (!has_prev) {
        k->status = KpiStatus::kOk;
        return;
      }
      const double p = *k->previous;
      const bool growing = t.kind == TargetKind::kGrowing;
      if (growing ? v > p : v < p) {
        k->status = KpiStatus::kOk;
      } else if (v == p || (growing ? v >= p - std::fabs(p) * 0.1 : v <= p + std::fabs(p) * 0.1)) {
        k->status = KpiStatus::kWarn;
      } else {
        k->status = KpiStatus::kBad;
      }
      return;
    }
  }
}

// --- Factory -------------------------------------------------------------------

std::vector<Kpi> FactoryKpis(const KpiInput& in) {
  std::vector<Kpi> out;
  const Totals& c = in.current;
  const Totals& p = in.previous;
  const double days = in.period.Days();
  const bool any_money =
      c.revenue != 0 || c.TotalCost() != 0 || p.revenue != 0 || p.TotalCost() != 0;
  const char* kMoneySources = "revenue_events, llm_calls, task_events, infra_costs";

  Kpi revenue = Make("total_revenue", "Total Revenue", "usd", Growing());
  out.push_back(any_money ? Valued(revenue, Usd(c.revenue), Usd(p.revenue))
                          : NoData(revenue, kMoneySources));

  Kpi cost =
      Make("total_cost", "Total Cost", "usd", Below(0.3 * Usd(c.revenue), "< 30% of revenue"));
  out.push_back(any_money ? Valued(cost, Usd(c.TotalCost()), Usd(p.TotalCost()))
                          : NoData(cost, kMoneySources));

  Kpi profit = Make("net_profit", "Net Profit", "usd", Above(0, "> 0 and growing", true));
  out.push_back(any_money
                    ? Valued(profit, Usd(c.revenue - c.TotalCost()), Usd(p.revenue - p.TotalCost()))
                    : NoData(profit, kMoneySources));

  Kpi margin = Make("gross_margin", "Gross Margin", "ratio", Above(0.7, "> 70%"));
  if (!any_money) {
    out.push_back(NoData(margin, kMoneySources));
  } else if (c.revenue == 0) {
    out.push_back(Undefined(margin, "revenue is 0"));
  } else {
    auto prev = Ratio(Usd(p.revenue - p.TotalCost()), Usd(p.revenue));
    out.push_back(Valued(margin, Usd(c.revenue - c.TotalCost()) / Usd(c.revenue), prev));
  }

  // Active: launched before the period ends and not retired.
  auto active_at = [&](core::Timestamp end) {
    int n = 0;
    for (const auto& pr : in.products) {
      if (pr.launched_at && *pr.launched_at < end && pr.status == "active") ++n;
    }
    return n;
  };
  Kpi per_product = Make("revenue_per_product", "Revenue per Product", "usd_per_month",
                         Above(500, "> $500 per month"));
  const int active = active_at(in.period.to);
  if (active == 0 || days <= 0) {
    out.push_back(Undefined(per_product, "no active launched products in the period"));
  } else {
    const int prev_active = active_at(in.period.from);
    std::optional<double> prev;
    if (prev_active > 0) prev = Usd(p.revenue) / prev_active * 30.0 / days;
    out.push_back(Valued(per_product, Usd(c.revenue) / active * 30.0 / days, prev));
  }

  Kpi per_agent = Make("cost_per_agent", "Cost per Agent", "usd",
                       Target{TargetKind::kInfo, 0, false, "outliers named"});
  std::vector<std::pair<std::string, std::int64_t>> agent_costs;
  for (const auto& [id, a] : c.agents) {
    if (a.calls > 0) agent_costs.emplace_back(id, a.llm_cost);
  }
  if (agent_costs.empty()) {
    out.push_back(NoData(per_agent, "llm_calls"));
  } else {
    std::vector<std::int64_t> sorted;
    for (const auto& [id, v] : agent_costs) sorted.push_back(v);
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median =
        n % 2 ? static_cast<double>(sorted[n / 2])
              : (static_cast<double>(sorted[n / 2 - 1]) + static_cast<double>(sorted[n / 2])) / 2;
    std::vector<std::string> outliers;
    for (const auto& [id, v] : agent_costs) {
      if (static_cast<double>(v) > 2 * median)
        outliers.push_back(fmt::format("{} ${:.2f}", id, Usd(v)));
    }
    std::optional<double> prev;
    if (!p.agents.empty()) {
      std::int64_t sum = 0, k = 0;
      for (const auto& [id, a] : p.agents) {
        if (a.calls > 0) sum += a.llm_cost, ++k;
      }
      if (k > 0) prev = Usd(sum) / static_cast<double>(k);
    }
    Kpi k = Valued(per_agent, Usd(c.llm_cost) / static_cast<double>(n), prev);
    if (!outliers.empty()) {
      k.status = KpiStatus::kWarn;
      k.note = fmt::format("outliers (> 2x the median ${:.2f}): {}", median / kUsd,
                           fmt::join(outliers, ", "));
    }
    out.push_back(std::move(k));
  }

  Kpi roi = Make("roi_per_product", "ROI per Product", "percent", Above(200, "> 200%"));
  auto portfolio_roi = [](const Totals& t) -> std::optional<double> {
    std::int64_t rev = 0, cost = 0;
    for (const auto& [id, pr] : t.products) rev += pr.revenue, cost += pr.Cost();
    if (cost == 0) return std::nullopt;
    return static_cast<double>(rev - cost) / static_cast<double>(cost) * 100.0;
  };
  if (auto v = portfolio_roi(c)) {
    Kpi k = Valued(roi, *v, portfolio_roi(p));
    k.note = "portfolio: sum over products; per product at /v1/roi/products";
    out.push_back(std::move(k));
  } else {
    out.push_back(Undefined(roi, "product cost is 0"));
  }

  // Products shipped: 2-4 per month, scaled to the period's length.
  Kpi shipped = Make("products_shipped", "Products Shipped", "count",
                     Target{TargetKind::kInfo, 0, false, "2-4 per month"});
  int launched = 0, launched_prev = 0;
  const Period prev_period = in.period.Previous(in.calendar);
  for (const auto& pr : in.products) {
    if (!pr.launched_at) continue;
    if (*pr.launched_at >= in.period.from && *pr.launched_at < in.period.to) ++launched;
    if (*pr.launched_at >= prev_period.from && *pr.launched_at < prev_period.to) ++launched_prev;
  }
  if (in.products.empty()) {
    out.push_back(NoData(shipped, "products (launched_at)"));
  } else {
    Kpi k = Valued(shipped, launched, launched_prev);
    const double per_month = days > 0 ? launched * 30.0 / days : 0;
    k.status = per_month >= 2 && per_month <= 4       ? KpiStatus::kOk
               : per_month >= 1.8 && per_month <= 4.4 ? KpiStatus::kWarn
                                                      : KpiStatus::kBad;
    out.push_back(std::move(k));
  }

  Kpi ttr = Make("time_to_revenue", "Time to Revenue", "days", Below(14, "< 14 days"));
  {
    double sum = 0;
    int n = 0;
    for (const auto& [id, first] : in.first_revenue) {
      if (first < in.period.from || first >= in.period.to) continue;
      for (const auto& pr : in.products) {
        if (pr.id != id) continue;
        sum += std::chrono::duration<double, std::ratio<86400>>(first - pr.created_at).count();
        ++n;
      }
    }
    out.push_back(n == 0 ? NoData(ttr, "no product earned its first revenue in the period")
                         : Valued(ttr, sum / n, std::nullopt));
  }

  Kpi hit = Make("portfolio_hit_rate", "Portfolio Hit Rate", "ratio", Above(0.3, "> 30%"));
  {
    int launched_total = 0, profitable = 0;
    for (const auto& pr : in.products) {
      if (!pr.launched_at || *pr.launched_at >= in.period.to) continue;
      ++launched_total;
      auto it = in.all_time.products.find(pr.id);
      if (it != in.all_time.products.end() && it->second.Profit() > 0) ++profitable;
    }
    out.push_back(
        launched_total == 0
            ? Undefined(hit, "no product launched yet")
            : Valued(hit, static_cast<double>(profitable) / launched_total, std::nullopt));
  }
  return out;
}

// --- Agents --------------------------------------------------------------------

std::vector<Kpi> AgentKpis(const KpiInput& in, const std::string& agent_id) {
  auto pick = [&](const Totals& t) -> AgentTotals {
    if (agent_id.empty()) return t.all_agents;
    auto it = t.agents.find(agent_id);
    return it == t.agents.end() ? AgentTotals{} : it->second;
  };
  const AgentTotals a = pick(in.current);
  const AgentTotals b = pick(in.previous);
  std::vector<Kpi> out;
  const std::int64_t terminal = a.completed + a.failed + a.escalated;
  const std::int64_t prev_terminal = b.completed + b.failed + b.escalated;
  auto prev_ratio = [](double num, double den) { return Ratio(num, den); };

  Kpi completion =
      Make("task_completion_rate", "Task Completion Rate", "ratio", Above(0.9, "> 90%"));
  out.push_back(terminal == 0 ? NoData(completion, "task_events (terminal events)")
                              : Valued(completion, static_cast<double>(a.completed) / terminal,
                                       prev_ratio(b.completed, prev_terminal)));

  Kpi cost = Make("avg_cost_per_task", "Avg Cost per Task", "usd", Decreasing());
  out.push_back(a.completed == 0
                    ? NoData(cost, "task_events (completed tasks)")
                    : Valued(cost, Usd(a.completed_cost) / a.completed,
                             b.completed ? std::optional(Usd(b.completed_cost) / b.completed)
                                         : std::nullopt));

  Kpi steps = Make("avg_steps_per_task", "Avg Steps per Task", "count", Decreasing());
  out.push_back(a.completed_steps_n == 0
                    ? NoData(steps, "task_events.steps_count of completed tasks")
                    : Valued(steps,
                             static_cast<double>(a.completed_steps_sum) / a.completed_steps_n,
                             prev_ratio(b.completed_steps_sum, b.completed_steps_n)));

  Kpi errors = Make("error_rate", "Error Rate", "ratio", Below(0.05, "< 5%"));
  out.push_back(a.calls == 0 ? NoData(errors, "llm_calls")
                             : Valued(errors, static_cast<double>(a.errors) / a.calls,
                                      prev_ratio(b.errors, b.calls)));

  Kpi escalation = Make("escalation_rate", "Escalation Rate", "ratio", Below(0.1, "< 10%"));
  out.push_back(terminal == 0 ? NoData(escalation, "task_events (terminal events)")
                              : Valued(escalation, static_cast<double>(a.escalated) / terminal,
                                       prev_ratio(b.escalated, prev_terminal)));

  Kpi quality = Make("quality_score", "Quality Score", "score", Above(0.8, "> 0.8"));
  out.push_back(a.quality_n == 0
                    ? NoData(quality, "task_events.quality_score")
                    : Valued(quality,
                             static_cast<double>(a.quality_centi_sum) / 100.0 / a.quality_n,
                             b.quality_n ? std::optional(static_cast<double>(b.quality_centi_sum) /
                                                         100.0 / b.quality_n)
                                         : std::nullopt));

  Kpi cache = Make("cache_hit_rate", "Cache Hit Rate", "ratio", Above(0.3, "> 30%"));
  if (a.calls == 0) {
    out.push_back(NoData(cache, "llm_calls"));
  } else if (a.input_tokens == 0) {
    out.push_back(Undefined(cache, "no input tokens"));
  } else {
    out.push_back(Valued(cache, static_cast<double>(a.cached_tokens) / a.input_tokens,
                         prev_ratio(b.cached_tokens, b.input_tokens)));
  }

  out.push_back(NoData(Make("model_efficiency", "Model Efficiency", "ratio", Growing("increasing")),
                       "per-task model usage (llm_calls by task and model) is not rolled up yet"));
  out.push_back(
      NoData(Make("cost_velocity", "Cost Velocity", "usd_per_minute",
                  Target{TargetKind::kInfo, 0, false, "no spikes (> 3x the 1-hour average)"}),
             "live counters: GET /v1/live"));
  return out;
}

// --- Subscriptions ---------------------------------------------------------------

std::int64_t MonthlyMicros(std::int64_t amount, std::string_view interval) {
  auto div_round = [](std::int64_t n, std::int64_t d) {
    return (2 * n + (n >= 0 ? d : -d)) / (2 * d);
  };
  if (interval == "year") return div_round(amount, 12);
  if (interval == "quarter") return div_round(amount, 3);
  if (interval == "week") return div_round(amount * 52, 12);
  return amount;
}

namespace {

// Active subscriptions at `at`: key (product, customer or event index) ->
// monthly micros.
std::map<std::pair<std::string, std::string>, std::int64_t> ActiveAt(
    const std::vector<store::SubscriptionEventRow>& events, core::Timestamp at,
    const std::string& product_id) {
  std::map<std::pair<std::string, std::string>, std::int64_t> active;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.time >= at) continue;
    if (!product_id.empty() && e.product_id != product_id) continue;
    const std::string who = e.customer_id.empty() ? "#" + std::to_string(i) : e.customer_id;
    auto key = std::make_pair(e.product_id, who);
    if (e.start) {
      active[key] = MonthlyMicros(e.amount_micros.value_or(0), e.interval);
    } else {
      active.erase(key);
    }
  }
  return active;
}

}  // namespace

SubscriptionState SubscriptionsAt(const std::vector<store::SubscriptionEventRow>& events,
                                  core::Timestamp at, const std::string& product_id) {
  SubscriptionState s;
  for (const auto& [k, v] : ActiveAt(events, at, product_id)) {
    s.mrr_micros += v;
    ++s.active;
  }
  return s;
}

// --- Products --------------------------------------------------------------------

namespace {

bool ProductMatches(const std::string& id, const std::string& want) {
  return want.empty() || id == want;
}

double SumMetric(const std::vector<store::GrowthDailyRow>& rows, const std::string& product,
                 std::string_view metric, std::string_view channel = "") {
  std::int64_t sum = 0;
  for (const auto& r : rows) {
    if (ProductMatches(r.product_id, product) && r.metric == metric &&
        (channel.empty() || r.channel == channel)) {
      sum += r.value_centi_sum;
    }
  }
  return static_cast<double>(sum) / 100.0;
}

// A gauge's last value: per series (product, channel) the latest row's last
// value, summed over series. nullopt when the gauge has no row.
std::optional<double> LastGauge(const std::vector<store::GrowthDailyRow>& rows,
                                const std::string& product, std::string_view metric) {
  std::map<std::pair<std::string, std::string>, const store::GrowthDailyRow*> latest;
  for (const auto& r : rows) {
    if (!ProductMatches(r.product_id, product) || r.metric != metric) continue;
    auto& slot = latest[{r.product_id, r.channel}];
    if (slot == nullptr || r.last_time > slot->last_time) slot = &r;
  }
  if (latest.empty()) return std::nullopt;
  std::int64_t sum = 0;
  for (const auto& [k, r] : latest) sum += r->last_value_centi;
  return static_cast<double>(sum) / 100.0;
}

// Mean over days of the gauge's daily value (summed over series).
std::optional<double> MeanDailyGauge(const std::vector<store::GrowthDailyRow>& rows,
                                     const std::string& product, std::string_view metric) {
  std::map<core::Timestamp, std::int64_t> per_day;
  for (const auto& r : rows) {
    if (ProductMatches(r.product_id, product) && r.metric == metric)
      per_day[r.bucket] += r.last_value_centi;
  }
  if (per_day.empty()) return std::nullopt;
  std::int64_t sum = 0;
  for (const auto& [d, v] : per_day) sum += v;
  return static_cast<double>(sum) / 100.0 / static_cast<double>(per_day.size());
}

bool HasMetric(const std::vector<store::GrowthDailyRow>& rows, const std::string& product,
               std::string_view metric) {
  for (const auto& r : rows) {
    if (ProductMatches(r.product_id, product) && r.metric == metric) return true;
  }
  return false;
}

}  // namespace

namespace {

// Ops of one product (or all): events and failures of a kind, summed.
struct OpsCount {
  std::int64_t events = 0, failures = 0;
};
OpsCount CountOps(const std::vector<store::OpsDailyRow>& rows, std::string_view kind,
                  const std::string& product_id) {
  OpsCount c;
  for (const auto& r : rows) {
    if (r.kind != kind || (!product_id.empty() && r.product_id != product_id)) continue;
    c.events += r.event_count;
    c.failures += r.failure_count;
  }
  return c;
}

// Uptime (KPIS.md: successful probes / all probes), deploy frequency and
// change failure rate (DORA) from ops_daily. Deploys are ops events of kind
// "deploy" (GitHub deployment_status, or posted to /v1/events); a failed one
// (status failure / error) is a failed change.
void AppendOpsKpis(const KpiInput& in, const std::string& product_id, std::vector<Kpi>* out) {
  const OpsCount probes = CountOps(in.ops, "uptime_check", product_id);
  const OpsCount probes_before = CountOps(in.previous_ops, "uptime_check", product_id);
  Kpi uptime = Make("uptime", "Uptime", "ratio", Above(0.995, "> 99.5%"));
  auto up = [](const OpsCount& c) {
    return Ratio(static_cast<double>(c.events - c.failures), static_cast<double>(c.events));
  };
  out->push_back(probes.events == 0
                     ? NoData(uptime, "ops_events of kind 'uptime_check' ([alerts] probes, or "
                                      "POST /v1/events)")
                     : Valued(uptime, *up(probes), up(probes_before)));

  const OpsCount deploys = CountOps(in.ops, "deploy", product_id);
  const OpsCount deploys_before = CountOps(in.previous_ops, "deploy", product_id);
  const char* kDeploys = "ops_events of kind 'deploy' (GitHub deployment_status)";
  const double days = in.period.Days();
  Kpi frequency = Make("deploy_frequency", "Deploy Frequency", "per_week",
                       Target{TargetKind::kInfo, 0, false, "DORA: daily or more is elite"});
  if (deploys.events == 0) {
    out->push_back(NoData(frequency, kDeploys));
  } else {
    auto per_week = [days](const OpsCount& c) -> std::optional<double> {
      if (days <= 0) return std::nullopt;
      return static_cast<double>(c.events - c.failures) * 7.0 / days;
    };
    out->push_back(Valued(frequency, per_week(deploys).value_or(0), per_week(deploys_before)));
  }
  Kpi failure_rate = Make("change_failure_rate", "Change Failure Rate", "ratio",
                          Target{TargetKind::kInfo, 0, false, "DORA: 0-15% is elite"});
  out->push_back(deploys.events == 0
                     ? NoData(failure_rate, kDeploys)
                     : Valued(failure_rate,
                              static_cast<double>(deploys.failures) / deploys.events,
                              Ratio(static_cast<double>(deploys_before.failures),
                                    static_cast<double>(deploys_before.events))));
}

}  // namespace

std::vector<Kpi> ProductKpis(const KpiInput& in, const std::string& product_id) {
  std::vector<Kpi> out;
  const double days = in.period.Days();
  bool any_subscription = false;
  for (const auto& e : in.subscriptions)
    any_subscription |= ProductMatches(e.product_id, product_id);
  const char* kSubs = "revenue_events of type subscription_start / subscription_cancel";

  const SubscriptionState end = SubscriptionsAt(in.subscriptions, in.period.to, product_id);
  const SubscriptionState start = SubscriptionsAt(in.subscriptions, in.period.from, product_id);
  Kpi mrr = Make("mrr", "MRR", "usd", Growing());
  out.push_back(any_subscription ? Valued(mrr, Usd(end.mrr_micros), Usd(start.mrr_micros))
                                 : NoData(mrr, kSubs));

  // Churn: subscriptions active at the start and cancelled within the
  // period, over those active at the start, scaled to 30 days.
  Kpi churn = Make("churn_rate", "Churn Rate", "ratio_per_month", Below(0.05, "< 5% per month"));
  std::optional<double> monthly_churn;
  if (!any_subscription) {
    out.push_back(NoData(churn, kSubs));
  } else if (start.active == 0) {
    out.push_back(Undefined(churn, "no active subscriptions at the period start"));
  } else {
    auto at_start = ActiveAt(in.subscriptions, in.period.from, product_id);
    std::int64_t cancelled = 0, cancelled_mrr = 0;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& e : in.subscriptions) {
      if (e.start || e.time < in.period.from || e.time >= in.period.to) continue;
      auto key = std::make_pair(e.product_id, e.customer_id);
      auto it = at_start.find(key);
      if (it == at_start.end() || !seen.insert(key).second) continue;
      ++cancelled;
      cancelled_mrr += it->second;
    }
    monthly_churn = static_cast<double>(cancelled) / start.active * (days > 0 ? 30.0 / days : 1.0);
    Kpi k = Valued(churn, *monthly_churn, std::nullopt);
    k.note = fmt::format("{} of {} cancelled; revenue churn {:.1f}%", cancelled, start.active,
                         start.mrr_micros ? 100.0 * cancelled_mrr / start.mrr_micros : 0.0);
    out.push_back(std::move(k));
  }

  Kpi arpa = Make("arpa", "ARPA", "usd", Target{TargetKind::kInfo, 0, false, "-"});
  std::optional<double> arpa_value;
  if (!any_subscription) {
    out.push_back(NoData(arpa, kSubs));
  } else if (end.active == 0) {
    out.push_back(Undefined(arpa, "no active subscribers at the period end"));
  } else {
    arpa_value = Usd(end.mrr_micros) / end.active;
    out.push_back(
        Valued(arpa, *arpa_value,
               start.active ? std::optional(Usd(start.mrr_micros) / start.active) : std::nullopt));
  }

  // CAC = marketing cost / new paying customers (first subscription start
  // of the customer with the product in the period).
  std::int64_t marketing = 0;
  for (const auto& agent : in.agents) {
    if (agent.role != "marketer") continue;
    auto it = in.current.agents.find(agent.id);
    if (it == in.current.agents.end()) continue;
    for (const auto& [pid, cost] : it->second.task_cost_by_product) {
      if (product_id.empty() ? true : pid == product_id) marketing += cost;
    }
  }
  if (product_id.empty()) {
    marketing += in.current.marketing_infra_cost;
  } else if (auto it = in.current.products.find(product_id); it != in.current.products.end()) {
    marketing += it->second.marketing_infra_cost;
  }
  std::set<std::pair<std::string, std::string>> earlier, fresh;
  for (const auto& e : in.subscriptions) {
    if (!e.start || e.customer_id.empty() || !ProductMatches(e.product_id, product_id)) continue;
    auto key = std::make_pair(e.product_id, e.customer_id);
    if (e.time < in.period.from) {
      earlier.insert(key);
    } else if (e.time < in.period.to && !earlier.count(key)) {
      fresh.insert(key);
    }
  }
  std::optional<double> cac_value;
  Kpi cac =
      Make("cac", "CAC", "usd",
           arpa_value ? Below(3 * *arpa_value, "payback (CAC / ARPA) < 3 months")
                      : Target{TargetKind::kInfo, 0, false, "payback (CAC / ARPA) < 3 months"});
  if (!any_subscription) {
    out.push_back(NoData(cac, kSubs));
  } else if (fresh.empty()) {
    out.push_back(Undefined(cac, "no new paying customers in the period"));
  } else {
    cac_value = Usd(marketing) / static_cast<double>(fresh.size());
    Kpi k = Valued(cac, *cac_value, std::nullopt);
    k.note = fmt::format("marketing ${:.2f} / {} new customers", Usd(marketing), fresh.size());
    out.push_back(std::move(k));
  }

  Kpi ltv = Make("ltv", "LTV", "usd",
                 cac_value ? Above(3 * *cac_value, "> 3x CAC")
                           : Target{TargetKind::kInfo, 0, false, "> 3x CAC"});
  if (!arpa_value || !monthly_churn) {
    out.push_back(arpa_value ? Undefined(ltv, "churn is undefined") : NoData(ltv, kSubs));
  } else if (*monthly_churn == 0) {
    Kpi k = Valued(ltv, *arpa_value * 36, std::nullopt);
    k.note = "churn is 0: ARPA x 36";
    out.push_back(std::move(k));
  } else {
    out.push_back(Valued(ltv, *arpa_value / *monthly_churn, std::nullopt));
  }

  Kpi conversion = Make("conversion_rate", "Conversion Rate", "ratio", Above(0.05, "> 5%"));
  const double signups = SumMetric(in.growth, product_id, "signup");
  if (!HasMetric(in.growth, product_id, "signup")) {
    out.push_back(NoData(conversion, "growth_events metric 'signup' / 'conversion'"));
  } else if (signups == 0) {
    out.push_back(Undefined(conversion, "0 signups"));
  } else {
    const double prev_signups = SumMetric(in.previous_growth, product_id, "signup");
    out.push_back(
        Valued(conversion, SumMetric(in.growth, product_id, "conversion") / signups,
               Ratio(SumMetric(in.previous_growth, product_id, "conversion"), prev_signups)));
  }

  Kpi stickiness = Make("dau_mau", "DAU/MAU", "ratio", Above(0.2, "> 20%"));
  auto dau = MeanDailyGauge(in.growth, product_id, "dau");
  auto mau = LastGauge(in.growth, product_id, "mau");
  if (!dau || !mau) {
    out.push_back(NoData(stickiness, "growth_events gauges 'dau' and 'mau'"));
  } else if (*mau == 0) {
    out.push_back(Undefined(stickiness, "mau is 0"));
  } else {
    out.push_back(Valued(stickiness, *dau / *mau, std::nullopt));
  }

  AppendOpsKpis(in, product_id, &out);
  return out;
}

std::vector<Kpi> GrowthKpis(const KpiInput& in, const std::string& product_id) {
  std::vector<Kpi> out;
  const double days = in.period.Days();

  Kpi organic =
      Make("organic_traffic", "Organic Traffic", "count", Growing("+10% month over month"));
  if (!HasMetric(in.growth, product_id, "pageview")) {
    out.push_back(NoData(organic, "growth_events metric 'pageview'"));
  } else {
    const double now = SumMetric(in.growth, product_id, "pageview", "organic");
    const double before = SumMetric(in.previous_growth, product_id, "pageview", "organic");
    // "+10%" is met at exactly +10%: the epsilon turns > into >=.
    if (before > 0) organic.target = Above(1.1 * before - 1e-9, "+10% over the previous period");
    out.push_back(Valued(organic, now,
                         HasMetric(in.previous_growth, product_id, "pageview")
                             ? std::optional(before)
                             : std::nullopt));
  }

  Kpi keywords = Make("keyword_rankings", "Keyword Rankings", "count", Growing("increasing"));
  auto kw = LastGauge(in.growth, product_id, "keyword_top10");
  out.push_back(
      kw ? Valued(keywords, *kw, LastGauge(in.previous_growth, product_id, "keyword_top10"))
         : NoData(keywords, "growth_events gauge 'keyword_top10'"));

  Kpi backlinks =
      Make("backlinks", "Backlinks", "count", Above(10 * days / 30 - 1e-9, ">= 10 per month"));
  out.push_back(HasMetric(in.growth, product_id, "referring_domain_new")
                    ? Valued(backlinks, SumMetric(in.growth, product_id, "referring_domain_new"),
                             SumMetric(in.previous_growth, product_id, "referring_domain_new"))
                    : NoData(backlinks, "growth_events metric 'referring_domain_new'"));

  Kpi email = Make("email_list", "Email List", "count", Growing());
  auto subscribers = LastGauge(in.growth, product_id, "email_subscribers");
  out.push_back(subscribers ? Valued(email, *subscribers,
                                     LastGauge(in.previous_growth, product_id, "email_subscribers"))
                            : NoData(email, "growth_events gauge 'email_subscribers'"));

  Kpi referral = Make("referral_rate", "Referral Rate", "ratio", Above(0.05, "> 5%"));
  auto users = LastGauge(in.growth, product_id, "users");
  if (!users) {
    out.push_back(NoData(referral, "growth_events gauge 'users'"));
  } else if (*users == 0) {
    out.push_back(Undefined(referral, "users is 0"));
  } else {
    out.push_back(
        Valued(referral, SumMetric(in.growth, product_id, "referral") / *users, std::nullopt));
  }
  return out;
}

}  // namespace tally::analytics
