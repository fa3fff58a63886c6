#include "alerts/evaluator.h"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <set>

#include "alerts/prober.h"

namespace tally::alerts {
namespace {

using std::chrono::hours;

std::string HourMinute(core::Timestamp t) {
  return core::FormatRfc3339(t).substr(11, 5) + " UTC";
}

bool Silenced(const store::AlertRecord& a, core::Timestamp now) {
  return a.silenced_until && *a.silenced_until > now;
}

core::Timestamp SecondsAgo(core::Timestamp now, double s) {
  return now - std::chrono::microseconds(static_cast<std::int64_t>(std::ceil(s * 1e6)));
}

}  // namespace

Evaluator::Evaluator(store::Store& store, live::Accumulators& live, const core::Clock& clock,
                     RuleSet rules, PauseFn pause, const ProbeBoard* probes, Dispatcher* dispatcher)
    : store_(store),
      live_(live),
      clock_(clock),
      rules_(std::move(rules)),
      pause_(std::move(pause)),
      probes_(probes),
      dispatcher_(dispatcher) {}

core::Result<RuleInputs> Evaluator::Gather() {
  RuleInputs in;
  in.now = clock_.Now();
  in.agents = TALLY_TRY(store_.ListAgents());
  in.products = TALLY_TRY(store_.ListProducts());
  in.live = TALLY_TRY(live_.Snapshot());
  in.recent_calls = TALLY_TRY(store_.LlmSpendSince(
      SecondsAgo(in.now, rules_.Rule("error_rate").Max("window_seconds")), std::chrono::seconds(60)));
  in.calendar = TALLY_TRY(core::BusinessCalendar::Create(TALLY_TRY(store_.RollupTimeZone())));
  auto rollups = TALLY_TRY(store_.ReadRollups(in.calendar.AddDays(in.now, -2),
                                              in.calendar.DayStart(in.now), store::kRevenueRollup));
  in.revenue_daily = std::move(rollups.revenue);
  in.recent_revenue = TALLY_TRY(store_.RevenueSince(
      SecondsAgo(in.now, rules_.Rule("zero_revenue").Max("hours") * 3600), std::chrono::seconds(3600)));
  core::Timestamp churn_from =
      SecondsAgo(in.now, (rules_.Rule("churn_spike").Max("baseline_days") + 1) * 86400);
  for (auto& e : TALLY_TRY(store_.ListSubscriptionEvents(in.now + std::chrono::microseconds(1)))) {
    if (!e.start && e.time > churn_from) in.cancellations.push_back(std::move(e));
  }
  if (probes_ != nullptr) in.probes = probes_->States();
  return in;
}

core::Result<EvalReport> Evaluator::RunOnce() {
  RuleInputs in = TALLY_TRY(Gather());
  std::vector<Finding> findings = EvaluateAll(in, rules_);
  store::AlertFilter firing_filter;
  firing_filter.state = "firing";
  firing_filter.limit = 100'000;
  auto firing = TALLY_TRY(store_.ListAlerts(firing_filter));
  std::set<std::pair<std::string, std::string>> firing_keys;
  for (const auto& a : firing) firing_keys.insert({a.rule, a.subject});

  EvalReport report;
  report.findings = static_cast<int>(findings.size());
  std::set<std::pair<std::string, std::string>> found;
  for (auto& f : findings) {
    found.insert({f.rule, f.subject});
    bool is_new = firing_keys.count({f.rule, f.subject}) == 0;
    std::string message = f.message;
    if (!f.pause_agent.empty()) {
      if (f.already_paused) {
        message += "; already paused";
      } else if (is_new && pause_) {
        auto s = pause_(f.pause_agent, fmt::format("alert {}: {}", f.rule, f.message));
        if (s) {
          message += "; paused at " + HourMinute(in.now);
          ++report.paused;
        } else {
          message += "; pause failed: " + s.error().message();
          spdlog::error("alerts: pausing {}: {}", f.pause_agent, s.error().ToString());
        }
      }
    }
    store::AlertRecord rec;
    rec.rule = f.rule;
    rec.subject = f.subject;
    rec.severity = f.severity;
    rec.message = message;
    rec.details = boost::json::serialize(f.details);
    rec.fired_at = in.now;
    rec.last_seen_at = in.now;
    if (!is_new && !f.pause_agent.empty()) {
      // Keep the sentence that says what was done when it fired.
      for (const auto& a : firing) {
        if (a.rule == f.rule && a.subject == f.subject) rec.message = a.message;
      }
    }
    auto out = TALLY_TRY(store_.FireAlert(rec));
    if (!out.created) {
      ++report.refreshed;
      continue;
    }
    ++report.fired;
    spdlog::warn("alert {} {}: {}", out.alert.id, out.alert.rule, out.alert.message);
    if (dispatcher_ != nullptr && !Silenced(out.alert, in.now)) {
      if (dispatcher_->Enqueue({Notification::Kind::kFiring, out.alert})) ++report.notified;
    }
  }
  for (auto& a : firing) {
    if (found.count({a.rule, a.subject}) != 0) continue;
    TALLY_RETURN_IF_ERROR(store_.ResolveAlert(a.id, in.now));
    ++report.resolved;
    a.state = "resolved";
    a.resolved_at = in.now;
    spdlog::info("alert {} {} resolved: {}", a.id, a.rule, a.message);
    if (dispatcher_ != nullptr && !Silenced(a, in.now)) {
      if (dispatcher_->Enqueue({Notification::Kind::kResolved, a})) ++report.notified;
    }
  }
  return report;
}

}  // namespace tally::alerts
