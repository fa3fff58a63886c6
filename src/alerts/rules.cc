#include "alerts/rules.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <map>

#include "core/money.h"

namespace tally::alerts {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const model::Agent* FindAgent(const RuleInputs& in, const std::string& id) {
  for (const auto& a : in.agents) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const model::Product* FindProduct(const RuleInputs& in, const std::string& id) {
  for (const auto& p : in.products) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// A product's name for sentences: its name, else its id.
std::string ProductName(const RuleInputs& in, const std::string& id) {
  if (id.empty()) return "the factory";
  const model::Product* p = FindProduct(in, id);
  return p != nullptr && !p->name.empty() ? p->name : id;
}

bool AgentPaused(const RuleInputs& in, const std::string& id) {
  const model::Agent* a = FindAgent(in, id);
  return a != nullptr && a->status == "paused";
}

core::Timestamp Ago(core::Timestamp now, double secs) {
  return now - std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::duration<double>(secs));
}

std::string Minutes(std::chrono::microseconds d) {
  auto m = std::chrono::duration_cast<minutes>(d).count();
  if (m < 120) return fmt::format("{} min", m);
  return fmt::format("{:.1f} h", static_cast<double>(m) / 60);
}

// Per subject id ("" = factory) sums, so product rules also judge the whole.
template <typename Fn>
void ForProductsAndFactory(const std::map<std::string, double>& by_product, Fn fn) {
  double total = 0;
  for (const auto& [id, v] : by_product) {
    total += v;
    fn(id, v);
  }
  fn(std::string(), total);
}

}  // namespace

std::string AgentSubject(const std::string& id) { return "agent:" + id; }
std::string ProductSubject(const std::string& id) { return "product:" + id; }

std::string Usd(std::int64_t micros) {
  std::int64_t abs = micros < 0 ? -micros : micros;
  if (abs % 10'000 == 0) return fmt::format("{}${}.{:02}", micros < 0 ? "-" : "", abs / 1'000'000, abs / 10'000 % 100);
  return "$" + core::Money::FromMicros(micros).ToString();
}

std::vector<Finding> CostVelocity(const RuleInputs& in, const RuleConfig& rule) {
  std::vector<Finding> out;
  for (const auto& a : in.live.agents) {
    if (!rule.Enabled(a.agent_id)) continue;
    double multiple = rule.Get("multiple", a.agent_id);
    double floor = rule.Get("floor_usd_per_min", a.agent_id);
    double velocity = static_cast<double>(a.velocity_per_min);
    double avg = static_cast<double>(a.spend_1h) / 60.0;
    if (velocity <= 0 || velocity < floor || !(velocity > multiple * avg)) continue;
    double ratio = avg > 0 ? velocity / avg : std::numeric_limits<double>::infinity();
    Finding f;
    f.rule = "cost_velocity";
    f.subject = AgentSubject(a.agent_id);
    f.severity = "critical";
    f.message = std::isinf(ratio)
                    ? fmt::format("{} burning {}/min with no spend in the hour before", a.agent_id,
                                  Usd(a.velocity_per_min))
                    : fmt::format("{} burning {}/min, {:.1f}x its 1 h average", a.agent_id,
                                  Usd(a.velocity_per_min), ratio);
    f.details = {{"agent_id", a.agent_id},
                 {"velocity_usd_per_min", core::Money::FromMicros(a.velocity_per_min).ToString()},
                 {"hourly_avg_usd_per_min",
                  core::Money::FromMicros(static_cast<std::int64_t>(avg)).ToString()},
                 {"spend_1h_usd", core::Money::FromMicros(a.spend_1h).ToString()},
                 {"ratio", std::isinf(ratio) ? json::value(nullptr) : json::value(ratio)},
                 {"multiple", multiple}};
    f.already_paused = AgentPaused(in, a.agent_id);
    if (rule.Get("pause", a.agent_id) != 0) f.pause_agent = a.agent_id;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> RevenueDrop(const RuleInputs& in, const RuleConfig& rule) {
  core::Timestamp yesterday = in.calendar.AddDays(in.now, -1);
  core::Timestamp before = in.calendar.AddDays(in.now, -2);
  std::map<std::string, double> prev, cur;
  for (const auto& r : in.revenue_daily) {
    if (r.bucket == before) prev[r.product_id] += static_cast<double>(r.net_micros);
    if (r.bucket == yesterday) cur[r.product_id] += static_cast<double>(r.net_micros);
    prev.try_emplace(r.product_id, 0);
  }
  std::vector<Finding> out;
  ForProductsAndFactory(prev, [&](const std::string& id, double p) {
    std::string key = id.empty() ? std::string(kFactorySubject) : id;
    if (!rule.Enabled(key)) return;
    double c = 0;
    if (id.empty()) {
      for (const auto& [_, v] : cur) c += v;
    } else if (auto it = cur.find(id); it != cur.end()) {
      c = it->second;
    }
    double min_prev = rule.Get("min_previous_usd", key);
    if (p <= 0 || p < min_prev) return;
    double drop = (p - c) / p * 100.0;
    if (!(drop > rule.Get("drop_percent", key))) return;
    Finding f;
    f.rule = "revenue_drop";
    f.subject = id.empty() ? std::string(kFactorySubject) : ProductSubject(id);
    f.severity = "warning";
    std::string name = ProductName(in, id);
    f.message = fmt::format("{} revenue fell {:.0f}% day over day: {} on {} vs {} the day before",
                            id.empty() ? "Factory" : name, drop, Usd(static_cast<std::int64_t>(c)),
                            in.calendar.LocalDate(yesterday), Usd(static_cast<std::int64_t>(p)));
    f.details = {{"product_id", id.empty() ? json::value(nullptr) : json::value(id)},
                 {"day", in.calendar.LocalDate(yesterday)},
                 {"revenue_usd", core::Money::FromMicros(static_cast<std::int64_t>(c)).ToString()},
                 {"previous_usd", core::Money::FromMicros(static_cast<std::int64_t>(p)).ToString()},
                 {"drop_percent", drop}};
    out.push_back(std::move(f));
  });
  return out;
}

std::vector<Finding> ErrorRate(const RuleInputs& in, const RuleConfig& rule) {
  struct Counts {
    std::int64_t calls = 0, errors = 0;
  };
  std::map<std::string, Counts> by_agent;
  for (const auto& b : in.recent_calls) {
    double window = rule.Get("window_seconds", b.agent_id);
    // Minute buckets overlapping the agent's window count whole.
    if (b.bucket_start + minutes(1) <= Ago(in.now, window)) continue;
    by_agent[b.agent_id].calls += b.calls;
    by_agent[b.agent_id].errors += b.errors;
  }
  std::vector<Finding> out;
  for (const auto& [agent, c] : by_agent) {
    if (!rule.Enabled(agent)) continue;
    double percent = rule.Get("percent", agent);
    if (c.calls <= 0 || static_cast<double>(c.calls) < rule.Get("min_calls", agent)) continue;
    double rate = static_cast<double>(c.errors) * 100.0 / static_cast<double>(c.calls);
    if (!(rate > percent)) continue;
    double window = rule.Get("window_seconds", agent);
    Finding f;
    f.rule = "error_rate";
    f.subject = AgentSubject(agent);
    f.severity = "warning";
    f.message = fmt::format("{} errors at {:.0f}% ({} of {} calls) in the last {}", agent, rate,
                            c.errors, c.calls,
                            Minutes(std::chrono::microseconds(static_cast<std::int64_t>(window * 1e6))));
    f.details = {{"agent_id", agent}, {"calls", c.calls}, {"errors", c.errors},
                 {"error_percent", rate}, {"window_seconds", window}};
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> ProductDown(const RuleInputs& in, const RuleConfig& rule) {
  std::vector<Finding> out;
  for (const auto& p : in.probes) {
    if (!rule.Enabled(p.product_id) || !p.failing_since) continue;
    auto down = in.now - *p.failing_since;
    if (!(down > std::chrono::microseconds(
                     static_cast<std::int64_t>(rule.Get("down_seconds", p.product_id) * 1e6)))) {
      continue;
    }
    Finding f;
    f.rule = "product_down";
    f.subject = ProductSubject(p.product_id);
    f.severity = "critical";
    std::string why = p.last_status != 0 ? fmt::format("HTTP {}", p.last_status) : p.last_error;
    f.message = fmt::format("{} down for {} ({}: {})", ProductName(in, p.product_id),
                            Minutes(std::chrono::duration_cast<std::chrono::microseconds>(down)),
                            p.url, why);
    f.details = {{"product_id", p.product_id},
                 {"url", p.url},
                 {"failing_since", core::FormatRfc3339(*p.failing_since)},
                 {"last_ok_at", p.last_ok_at ? json::value(core::FormatRfc3339(*p.last_ok_at))
                                             : json::value(nullptr)},
                 {"last_status", p.last_status},
                 {"last_error", p.last_error}};
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> ChurnSpike(const RuleInputs& in, const RuleConfig& rule) {
  core::Timestamp recent_from = in.now - hours(24);
  std::map<std::string, double> recent;
  std::map<std::string, std::vector<core::Timestamp>> older;  // per product: times before the last 24 h
  for (const auto& e : in.cancellations) {
    if (e.start || e.time > in.now) continue;
    recent.try_emplace(e.product_id, 0);
    if (e.time > recent_from) recent[e.product_id] += 1;
    else older[e.product_id].push_back(e.time);
  }
  std::vector<Finding> out;
  ForProductsAndFactory(recent, [&](const std::string& id, double count) {
    std::string key = id.empty() ? std::string(kFactorySubject) : id;
    if (!rule.Enabled(key)) return;
    double days = rule.Get("baseline_days", key);
    if (days <= 0) return;
    core::Timestamp base_from = Ago(recent_from, days * 86400);
    double base = 0;
    for (const auto& [pid, times] : older) {
      if (!id.empty() && pid != id) continue;
      for (auto t : times) base += t > base_from ? 1 : 0;
    }
    double avg = base / days;
    double multiple = rule.Get("multiple", key);
    if (count < rule.Get("min_cancellations", key) || !(count > multiple * avg)) return;
    Finding f;
    f.rule = "churn_spike";
    f.subject = id.empty() ? std::string(kFactorySubject) : ProductSubject(id);
    f.severity = "warning";
    f.message = avg > 0 ? fmt::format("{}: {:.0f} cancellations in the last 24 h, {:.1f}x the daily "
                                      "average of {:.1f} over {:.0f} days",
                                      id.empty() ? "Factory" : ProductName(in, id), count,
                                      count / avg, avg, days)
                        : fmt::format("{}: {:.0f} cancellations in the last 24 h, none in the {:.0f} "
                                      "days before",
                                      id.empty() ? "Factory" : ProductName(in, id), count, days);
    f.details = {{"product_id", id.empty() ? json::value(nullptr) : json::value(id)},
                 {"cancellations_24h", count},
                 {"daily_average", avg},
                 {"baseline_days", days},
                 {"multiple", multiple}};
    out.push_back(std::move(f));
  });
  return out;
}

namespace {

std::vector<Finding> Budget(const RuleInputs& in, const RuleConfig& rule, bool exhausted) {
  std::vector<Finding> out;
  for (const auto& a : in.agents) {
    if (!a.daily_budget || a.daily_budget->micros() <= 0 || !rule.Enabled(a.id)) continue;
    std::int64_t spent = 0;
    for (const auto& c : in.live.agents) {
      if (c.agent_id == a.id) spent = c.spend_today;
    }
    std::int64_t limit = a.daily_budget->micros();
    double pct = static_cast<double>(spent) * 100.0 / static_cast<double>(limit);
    // Exact comparison in micros: 80% of $10.00 is tripped by $8.00, not $7.999999.
    double threshold = rule.Get("percent", a.id);
    if (static_cast<double>(spent) * 100.0 < threshold * static_cast<double>(limit)) continue;
    Finding f;
    f.rule = exhausted ? "budget_exhausted" : "budget_warning";
    f.subject = AgentSubject(a.id);
    f.severity = exhausted ? "critical" : "warning";
    f.message = fmt::format("{} at {:.0f}% of its daily budget ({} of {})", a.id, pct, Usd(spent),
                            Usd(limit));
    f.details = {{"agent_id", a.id},
                 {"spent_usd", core::Money::FromMicros(spent).ToString()},
                 {"budget_usd", core::Money::FromMicros(limit).ToString()},
                 {"percent", pct},
                 {"threshold_percent", threshold}};
    if (exhausted) {
      f.already_paused = a.status == "paused";
      if (rule.Get("pause", a.id) != 0) f.pause_agent = a.id;
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::vector<Finding> BudgetWarning(const RuleInputs& in, const RuleConfig& rule) {
  return Budget(in, rule, false);
}

std::vector<Finding> BudgetExhausted(const RuleInputs& in, const RuleConfig& rule) {
  return Budget(in, rule, true);
}

std::vector<Finding> ZeroRevenue(const RuleInputs& in, const RuleConfig& rule) {
  std::vector<Finding> out;
  for (const auto& p : in.products) {
    if (p.status != "active" || !rule.Enabled(p.id)) continue;
    double hours_setting = rule.Get("hours", p.id);
    core::Timestamp since = Ago(in.now, hours_setting * 3600);
    core::Timestamp start = p.launched_at ? *p.launched_at : p.created_at;
    if (start > since) continue;  // too young to judge
    std::int64_t net = 0;
    for (const auto& b : in.recent_revenue) {
      if (b.product_id == p.id && b.bucket_start + hours(1) > since) net += b.amount_micros;
    }
    if (net > 0) continue;
    Finding f;
    f.rule = "zero_revenue";
    f.subject = ProductSubject(p.id);
    f.severity = "warning";
    f.message = fmt::format("{} has earned {} in the last {:.0f} h; flagged for review",
                            p.name.empty() ? p.id : p.name, Usd(net), hours_setting);
    f.details = {{"product_id", p.id},
                 {"net_revenue_usd", core::Money::FromMicros(net).ToString()},
                 {"hours", hours_setting}};
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<Finding> EvaluateAll(const RuleInputs& in, const RuleSet& rules) {
  using RuleFn = std::vector<Finding> (*)(const RuleInputs&, const RuleConfig&);
  static const std::map<std::string, RuleFn, std::less<>> kFns = {
      {"cost_velocity", CostVelocity}, {"revenue_drop", RevenueDrop},
      {"error_rate", ErrorRate},       {"product_down", ProductDown},
      {"churn_spike", ChurnSpike},     {"budget_warning", BudgetWarning},
      {"budget_exhausted", BudgetExhausted}, {"zero_revenue", ZeroRevenue}};
  std::vector<Finding> out;
  for (const auto& spec : RuleSpecs()) {
    auto fn = kFns.find(spec.name);
    if (fn == kFns.end()) continue;
    for (auto& f : fn->second(in, rules.Rule(spec.name))) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace tally::alerts
