// KPIs of seed §5.1-5.4 with the exact formulas of KPIS.md, for a period
// [from, to): value, target, status, change against the previous period of
// equal length. "no data" names the source that would provide the inputs;
// "undefined" gives the reason (a zero denominator). Pure functions over
// Totals (analytics/totals.h), growth rows, subscription events and entities.
//
// Money values are reported in USD (double, for display; the exact micros
// stay in Totals), rates as fractions (0.25 = 25%).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/totals.h"
#include "model/entities.h"
#include "store/rollups.h"

namespace tally::analytics {

enum class KpiStatus { kOk, kWarn, kBad, kNoData, kUndefined };
std::string_view ToString(KpiStatus s);  // ok, warn, bad, no data, undefined

// What "meeting the target" means.
enum class TargetKind {
  kAbove,       // value > threshold
  kBelow,       // value < threshold
  kGrowing,     // value > previous value
  kDecreasing,  // value < previous value
  kInfo,        // no target: always ok
};
struct Target {
  TargetKind kind = TargetKind::kInfo;
  double threshold = 0;
  // For kAbove / kBelow: also expected to grow (kAbove) or fall (kBelow);
  // met but trending the wrong way is warn.
  bool trend = false;
  std::string text;  // the seed's wording: "> 70%", "growing"
};

struct Kpi {
  std::string key;   // stable id: "gross_margin"
  std::string name;  // seed name: "Gross Margin"
  std::string unit;  // usd, usd_per_month, ratio, ratio_per_month, percent, score, count, days, per_week
  std::optional<double> value;
  std::optional<double> previous;
  std::optional<double>
      change;  // (value - previous) / |previous|; nullopt when previous is 0 or absent
  Target target;
  KpiStatus status = KpiStatus::kNoData;
  std::string note;  // no data: the missing source; undefined: why; outliers named
};

// Status by KPIS.md: ok when met; warn when within 10% of the threshold
// (relative) or met but trending the wrong way; bad otherwise. Sets change.
void Evaluate(Kpi* kpi);

// Everything a period's KPIs read. `all_time` totals (since the first event
// up to the period end) feed Portfolio Hit Rate: only their per-product
// revenue and costs are filled (Store::ProductLifetimes).
struct KpiInput {
  Period period;
  core::BusinessCalendar calendar = core::BusinessCalendar::Utc();  // days of the rollups
  Totals current;
  Totals previous;
  Totals all_time;
  std::vector<store::GrowthDailyRow> growth;               // current period
  std::vector<store::GrowthDailyRow> previous_growth;      // previous period
  std::vector<store::OpsDailyRow> ops;                     // current period
  std::vector<store::OpsDailyRow> previous_ops;            // previous period
  std::vector<store::SubscriptionEventRow> subscriptions;  // every one before period end
  std::vector<model::Product> products;
  std::vector<model::Agent> agents;
  // First day with positive revenue per product (for Time to Revenue);
  // products without are absent.
  std::vector<std::pair<std::string, core::Timestamp>> first_revenue;
};

std::vector<Kpi> FactoryKpis(const KpiInput& in);
// Agent KPIs of one agent (agent_id) or of every agent (empty).
std::vector<Kpi> AgentKpis(const KpiInput& in, const std::string& agent_id = "");
// Product KPIs of one product or of the whole portfolio (empty).
std::vector<Kpi> ProductKpis(const KpiInput& in, const std::string& product_id = "");
std::vector<Kpi> GrowthKpis(const KpiInput& in, const std::string& product_id = "");

// Subscriptions (MRR, churn): the monthly amount of a plan amount billed
// every `interval` (month, year, quarter, week; unknown counts as month).
std::int64_t MonthlyMicros(std::int64_t amount_micros, std::string_view interval);
struct SubscriptionState {
  std::int64_t mrr_micros = 0;
  std::int64_t active = 0;
};
// Active subscriptions at `at` (events with time < at count): per product and
// customer the latest event decides (start: active with its amount; cancel:
// not). Starts without customer_id are separate subscriptions.
SubscriptionState SubscriptionsAt(const std::vector<store::SubscriptionEventRow>& events,
                                  core::Timestamp at, const std::string& product_id);

}  // namespace tally::analytics
