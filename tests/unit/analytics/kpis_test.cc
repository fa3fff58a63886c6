// KPI formulas (KPIS.md) and status rules on hand-made rows.
#include "analytics/kpis.h"

#include <gtest/gtest.h>

namespace tally::analytics {
namespace {

constexpr std::int64_t kUsd = 1'000'000;
core::Timestamp Day(int d) {
  return core::FromMicros(1'772'323'200'000'000 + d * 86'400'000'000LL);
}

const Kpi& Find(const std::vector<Kpi>& kpis, const std::string& key) {
  for (const auto& k : kpis) {
    if (k.key == key) return k;
  }
  static Kpi missing;
  ADD_FAILURE() << "no KPI " << key;
  return missing;
}

Kpi With(Target target, double value, std::optional<double> previous) {
  Kpi k;
  k.target = std::move(target);
  k.value = value;
  k.previous = previous;
  Evaluate(&k);
  return k;
}

TEST(KpiStatusTest, OkWarnBadByTheTenPercentRule) {
  Target above{TargetKind::kAbove, 0.7, false, "> 70%"};
  EXPECT_EQ(With(above, 0.75, std::nullopt).status, KpiStatus::kOk);
  EXPECT_EQ(With(above, 0.65, std::nullopt).status, KpiStatus::kWarn);  // within 10% of 0.7
  EXPECT_EQ(With(above, 0.60, std::nullopt).status, KpiStatus::kBad);
  Target below{TargetKind::kBelow, 0.05, false, "< 5%"};
  EXPECT_EQ(With(below, 0.04, std::nullopt).status, KpiStatus::kOk);
  EXPECT_EQ(With(below, 0.054, std::nullopt).status, KpiStatus::kWarn);
  EXPECT_EQ(With(below, 0.06, std::nullopt).status, KpiStatus::kBad);
  // Met but trending the wrong way: warn.
  Target profit{TargetKind::kAbove, 0, true, "> 0 and growing"};
  EXPECT_EQ(With(profit, 10, 20).status, KpiStatus::kWarn);
  EXPECT_EQ(With(profit, 30, 20).status, KpiStatus::kOk);
  Target growing{TargetKind::kGrowing, 0, false, "growing"};
  auto grew = With(growing, 120, 100);
  EXPECT_EQ(grew.status, KpiStatus::kOk);
  EXPECT_DOUBLE_EQ(*grew.change, 0.2);
  EXPECT_EQ(With(growing, 95, 100).status, KpiStatus::kWarn);
  EXPECT_EQ(With(growing, 50, 100).status, KpiStatus::kBad);
  EXPECT_FALSE(With(growing, 50, 0).change.has_value());  // no change against 0
}

TEST(SubscriptionsTest, MrrFollowsEachCustomersLatestEventAndNormalizesIntervals) {
  std::vector<store::SubscriptionEventRow> events = {
      {Day(0), "p", "c1", true, 30 * kUsd, "month"},
      {Day(0), "p", "c2", true, 120 * kUsd, "year"},  // 10 / month
      {Day(1), "p", "c3", true, 12 * kUsd, "week"},   // 12 x 52 / 12 = 52 / month
      {Day(2), "p", "c1", false, std::nullopt, "month"},
      {Day(3), "q", "c1", true, 5 * kUsd, "month"},  // another product
  };
  EXPECT_EQ(SubscriptionsAt(events, Day(2), "p").mrr_micros, (30 + 10 + 52) * kUsd);
  EXPECT_EQ(SubscriptionsAt(events, Day(3), "p").mrr_micros, (10 + 52) * kUsd);
  EXPECT_EQ(SubscriptionsAt(events, Day(3), "p").active, 2);
  EXPECT_EQ(SubscriptionsAt(events, Day(4), "").mrr_micros, (10 + 52 + 5) * kUsd);
}

TEST(ProductKpisTest, ChurnArpaLtvCacOverAThirtyDayPeriod) {
  KpiInput in;
  in.period = {Day(0), Day(30)};
  // 4 subscribers at the start (10 each); one cancels; one new joins at 20.
  for (int i = 0; i < 4; ++i) {
    in.subscriptions.push_back({Day(-5), "p", "c" + std::to_string(i), true, 10 * kUsd, "month"});
  }
  in.subscriptions.push_back({Day(3), "p", "c0", false, std::nullopt, "month"});
  in.subscriptions.push_back({Day(4), "p", "new", true, 20 * kUsd, "month"});
  model::Agent mae;
  mae.id = "mae";
  mae.role = "marketer";
  in.agents = {mae};
  in.current.agents["mae"].task_cost_by_product["p"] = 6 * kUsd;
  in.current.products["p"].marketing_infra_cost = 4 * kUsd;
  auto kpis = ProductKpis(in, "p");
  EXPECT_DOUBLE_EQ(*Find(kpis, "mrr").value, 50.0);  // 3 x 10 + 20
  EXPECT_DOUBLE_EQ(*Find(kpis, "mrr").previous, 40.0);
  EXPECT_DOUBLE_EQ(*Find(kpis, "churn_rate").value, 0.25);  // 1 of 4, over exactly 30 days
  EXPECT_EQ(Find(kpis, "churn_rate").status, KpiStatus::kBad);
  EXPECT_DOUBLE_EQ(*Find(kpis, "arpa").value, 12.5);    // 50 / 4
  EXPECT_DOUBLE_EQ(*Find(kpis, "ltv").value, 50.0);     // 12.5 / 0.25
  EXPECT_DOUBLE_EQ(*Find(kpis, "cac").value, 10.0);     // (6 + 4) / 1 new customer
  EXPECT_EQ(Find(kpis, "cac").status, KpiStatus::kOk);  // 10 < 3 x 12.5
  EXPECT_EQ(Find(kpis, "ltv").status, KpiStatus::kOk);  // 50 > 3 x 10
  EXPECT_EQ(Find(kpis, "uptime").status, KpiStatus::kNoData);  // no probes in this input
  EXPECT_FALSE(Find(kpis, "uptime").note.empty());
}

TEST(ProductKpisTest, ZeroChurnGivesLtvOfThirtySixMonthsAndSaysSo) {
  KpiInput in;
  in.period = {Day(0), Day(30)};
  in.subscriptions.push_back({Day(-1), "p", "c", true, 10 * kUsd, "month"});
  auto kpis = ProductKpis(in, "p");
  EXPECT_DOUBLE_EQ(*Find(kpis, "churn_rate").value, 0.0);
  EXPECT_DOUBLE_EQ(*Find(kpis, "ltv").value, 360.0);
  EXPECT_NE(Find(kpis, "ltv").note.find("36"), std::string::npos);
}

TEST(KpisTest, MissingSourcesAreNoDataNotZero) {
  KpiInput in;
  in.period = {Day(0), Day(7)};
  for (const auto& k : FactoryKpis(in)) {
    EXPECT_FALSE(k.value.has_value()) << k.key;
    EXPECT_TRUE(k.status == KpiStatus::kNoData || k.status == KpiStatus::kUndefined) << k.key;
    EXPECT_FALSE(k.note.empty()) << k.key;
  }
  for (const auto& k : AgentKpis(in)) EXPECT_EQ(k.status, KpiStatus::kNoData) << k.key;
  for (const auto& k : GrowthKpis(in)) EXPECT_EQ(k.status, KpiStatus::kNoData) << k.key;
  EXPECT_EQ(Find(ProductKpis(in), "mrr").status, KpiStatus::kNoData);
}

TEST(ProductKpisTest, UptimeDeployFrequencyAndChangeFailureRateFromOpsRows) {
  KpiInput in;
  in.period = {Day(0), Day(14)};  // two weeks
  // p: 2,000 probes with 4 down = 99.8%; previous period 1,000 with 10 down = 99%.
  in.ops.push_back({Day(1), "p", "uptime_check", 1'500, 4, 0, 0});
  in.ops.push_back({Day(2), "p", "uptime_check", 500, 0, 0, 0});
  in.previous_ops.push_back({Day(-3), "p", "uptime_check", 1'000, 10, 0, 0});
  // q is down half the time: only the portfolio view sees it.
  in.ops.push_back({Day(1), "q", "uptime_check", 100, 50, 0, 0});
  // Deploys of p: 10, of which 2 failed -> 8 good in 14 days = 4 per week; CFR 20%.
  in.ops.push_back({Day(3), "p", "deploy", 10, 2, 0, 0});
  in.previous_ops.push_back({Day(-5), "p", "deploy", 4, 0, 0, 0});
  in.ops.push_back({Day(3), "p", "push", 30, 0, 0, 0});  // pushes are not deploys

  auto p = ProductKpis(in, "p");
  EXPECT_DOUBLE_EQ(*Find(p, "uptime").value, 1'996.0 / 2'000.0);
  EXPECT_DOUBLE_EQ(*Find(p, "uptime").previous, 990.0 / 1'000.0);
  EXPECT_EQ(Find(p, "uptime").status, KpiStatus::kOk);  // > 99.5%
  EXPECT_DOUBLE_EQ(*Find(p, "deploy_frequency").value, 4.0);
  EXPECT_DOUBLE_EQ(*Find(p, "deploy_frequency").previous, 2.0);  // 4 in 14 days
  EXPECT_DOUBLE_EQ(*Find(p, "change_failure_rate").value, 0.2);
  EXPECT_DOUBLE_EQ(*Find(p, "change_failure_rate").previous, 0.0);

  auto all = ProductKpis(in);
  EXPECT_DOUBLE_EQ(*Find(all, "uptime").value, 2'046.0 / 2'100.0);
  // 97.4% misses 99.5% but is within the ten-percent band of the status rule.
  EXPECT_EQ(Find(all, "uptime").status, KpiStatus::kWarn);
  auto none = ProductKpis(in, "r");
  EXPECT_EQ(Find(none, "uptime").status, KpiStatus::kNoData);
  EXPECT_EQ(Find(none, "deploy_frequency").status, KpiStatus::kNoData);
  EXPECT_EQ(Find(none, "change_failure_rate").status, KpiStatus::kNoData);
}

TEST(PeriodTest, PreviousPeriodIsAsManyBusinessDaysAcrossDst) {
  auto ny = *core::BusinessCalendar::Create("America/New_York");
  auto at = [](const char* t) { return *core::ParseRfc3339(t); };
  // Local Mar 8 - Mar 15 2026: 7 days but 167 hours (spring forward on Mar 8).
  Period week{at("2026-03-08T05:00:00Z"), at("2026-03-15T04:00:00Z")};
  Period before = week.Previous(ny);
  EXPECT_EQ(before.from, at("2026-03-01T05:00:00Z"));  // local midnight of Mar 1, not 06:00Z
  EXPECT_EQ(before.to, week.from);
  // Not whole local days: the same length, as before.
  Period odd{at("2026-03-08T07:00:00Z"), at("2026-03-08T09:00:00Z")};
  EXPECT_EQ(odd.Previous(ny).from, at("2026-03-08T05:00:00Z"));
  const Period two_weeks{Day(7), Day(14)};
  EXPECT_EQ(two_weeks.Previous(core::BusinessCalendar::Utc()).from, Day(0));
}

TEST(GrowthKpisTest, CountersSumAndGaugesTakeTheLastValue) {
  KpiInput in;
  in.period = {Day(0), Day(30)};
  auto row = [](int day, std::string channel, std::string metric, std::int64_t sum,
                std::int64_t last) {
    return store::GrowthDailyRow{Day(day),
                                 "p",
                                 std::move(channel),
                                 std::move(metric),
                                 sum,
                                 1,
                                 Day(day) + std::chrono::hours(12),
                                 last};
  };
  in.growth = {row(1, "organic", "pageview", 60000, 0),
               row(2, "organic", "pageview", 50000, 0),
               row(2, "reddit", "pageview", 90000, 0),  // not organic
               row(1, "all", "users", 0, 100000),
               row(5, "all", "users", 0, 200000),        // last: 2000
               row(3, "organic", "referral", 15000, 0),  // 150 referrals
               row(1, "all", "dau", 0, 4000),
               row(2, "all", "dau", 0, 6000),   // mean 50
               row(2, "all", "mau", 0, 20000),  // 200
               row(4, "organic", "referring_domain_new", 1200, 0)};
  in.previous_growth = {row(-5, "organic", "pageview", 100000, 0)};
  auto growth = GrowthKpis(in, "p");
  EXPECT_DOUBLE_EQ(*Find(growth, "organic_traffic").value, 1100);
  EXPECT_EQ(Find(growth, "organic_traffic").status, KpiStatus::kOk);  // 1100 >= 1.1 x 1000
  EXPECT_DOUBLE_EQ(*Find(growth, "referral_rate").value, 150.0 / 2000.0);
  EXPECT_DOUBLE_EQ(*Find(growth, "backlinks").value, 12);
  EXPECT_EQ(Find(growth, "backlinks").status, KpiStatus::kOk);
  EXPECT_DOUBLE_EQ(*Find(ProductKpis(in, "p"), "dau_mau").value, 0.25);  // 50 / 200
}

}  // namespace
}  // namespace tally::analytics
