// The anomaly rules of seed §9, as pure functions over a snapshot of inputs
// (RuleInputs): no I/O, no clock but inputs.now, so each is unit-tested on
// hand-made numbers (tests/unit/alerts/rules_test.cc).
//
// A rule returns one Finding per subject that trips it; a subject that does
// not trip returns nothing (the evaluator then resolves its firing alert).
// Comparisons are strict where the seed says "more than" (velocity > 3x,
// drop > 30%, errors > 10%, down > 5 min, churn > 2x) and inclusive where it
// says "at" (budget at 80% / 100%) or "for 48 h or more" (zero revenue).
//
//   rule              subject           trips when (defaults)
//   cost_velocity     agent:<id>        velocity > 3 x (spend_1h / 60) and >= $0.10/min  -> pause
//   revenue_drop      product:<id>,     net revenue of yesterday < 70% of the day before,
//                     factory           when the day before had >= $1
//   error_rate        agent:<id>        errors / calls > 10% in the last 5 min, >= 10 calls
//   product_down      product:<id>      health probe failing for > 300 s
//   churn_spike       product:<id>,     cancellations in the last 24 h > 2 x the daily
//                     factory           average of the 30 days before, and >= 3
//   budget_warning    agent:<id>        spend today >= 80% of daily_budget
//   budget_exhausted  agent:<id>        spend today >= 100% of daily_budget -> pause
//   zero_revenue      product:<id>      an active product older than 48 h with net
//                                       revenue <= $0 in the last 48 h
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "alerts/rule_config.h"
#include "core/business_calendar.h"
#include "core/time.h"
#include "live/accumulators.h"
#include "model/entities.h"
#include "store/rollups.h"
#include "store/store.h"

namespace tally::alerts {

// Uptime of one product's health URL (alerts/prober.h keeps these).
struct ProbeState {
  std::string product_id;
  std::string url;
  std::optional<core::Timestamp> last_ok_at;
  // First failure of the current run of failures; nullopt while up.
  std::optional<core::Timestamp> failing_since;
  core::Timestamp last_checked_at;
  int last_status = 0;  // HTTP status; 0 when no response
  std::int64_t last_latency_ms = 0;
  std::string last_error;
};

struct RuleInputs {
  core::Timestamp now;
  std::vector<model::Agent> agents;
  std::vector<model::Product> products;
  live::LiveSnapshot live;
  // LLM calls per agent in one-minute buckets since now - the widest
  // error_rate window.
  std::vector<store::LlmSpendBucket> recent_calls;
  // The store's business days (Store::RollupTimeZone): revenue_daily rows
  // are cut at its local midnights.
  core::BusinessCalendar calendar = core::BusinessCalendar::Utc();
  // revenue_daily rows of the two complete business days before today.
  std::vector<store::RevenueDailyRow> revenue_daily;
  // Net revenue per product in one-hour buckets since now - the widest
  // zero_revenue window.
  std::vector<store::RevenueBucket> recent_revenue;
  // subscription_cancel events since now - (widest baseline + 1 day).
  std::vector<store::SubscriptionEventRow> cancellations;
  std::vector<ProbeState> probes;
};

struct Finding {
  std::string rule;
  std::string subject;
  std::string severity;  // "warning" or "critical"
  std::string message;   // the plain sentence, without the action taken
  boost::json::object details;
  std::string pause_agent;  // non-empty: the evaluator pauses this agent
  // Whether the agent is already paused (then no pause is attempted).
  bool already_paused = false;
};

std::string AgentSubject(const std::string& id);
std::string ProductSubject(const std::string& id);
inline constexpr const char* kFactorySubject = "factory";

std::vector<Finding> CostVelocity(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> RevenueDrop(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> ErrorRate(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> ProductDown(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> ChurnSpike(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> BudgetWarning(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> BudgetExhausted(const RuleInputs& in, const RuleConfig& rule);
std::vector<Finding> ZeroRevenue(const RuleInputs& in, const RuleConfig& rule);

// Every enabled rule of the set, in RuleSpecs order.
std::vector<Finding> EvaluateAll(const RuleInputs& in, const RuleSet& rules);

// "$2.40": money for sentences (cents; sub-cent amounts keep their digits).
std::string Usd(std::int64_t micros);

}  // namespace tally::alerts
