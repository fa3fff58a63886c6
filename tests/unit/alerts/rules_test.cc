// The seed §9 rules on hand-made inputs: data that trips each, data that must
// not, and the edges (exactly at the threshold).
#include "alerts/rules.h"

#include <gtest/gtest.h>

#include "support/simulated_clock.h"

namespace tally::alerts {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kUsd = 1'000'000;

class RulesTest : public ::testing::Test {
 protected:
  RulesTest() : clock_(*core::ParseRfc3339("2026-03-10T14:32:00Z")), rules_(DefaultRuleSet()) {
    in_.now = clock_.Now();
  }
  const RuleConfig& Rule(const char* name) { return rules_.Rule(name); }
  void Override(const char* rule, const std::string& subject, const char* key, double v) {
    rules_.rules[rule].overrides[subject][key] = v;
  }
  live::AgentCounters& Agent(const std::string& id) {
    in_.live.agents.push_back(live::AgentCounters{id});
    return in_.live.agents.back();
  }
  model::Agent& BudgetAgent(const std::string& id, std::int64_t budget_micros) {
    model::Agent a;
    a.id = id;
    a.role = "builder";
    a.daily_budget = core::Money::FromMicros(budget_micros);
    in_.agents.push_back(a);
    return in_.agents.back();
  }
  model::Product& Product(const std::string& id, core::Timestamp created) {
    model::Product p;
    p.id = id;
    p.name = id + "-name";
    p.type = "micro-saas";
    p.created_at = created;
    in_.products.push_back(p);
    return in_.products.back();
  }
  void Revenue(const std::string& product, int days_ago, std::int64_t net) {
    store::RevenueDailyRow r;
    r.bucket = core::FloorToDay(in_.now) - hours(24 * days_ago);
    r.product_id = product;
    r.event_type = "payment";
    r.net_micros = net;
    in_.revenue_daily.push_back(r);
  }
  void Cancel(const std::string& product, core::Timestamp t) {
    in_.cancellations.push_back(store::SubscriptionEventRow{t, product, "c", false, std::nullopt, "month"});
  }

  testing::SimulatedClock clock_;
  RuleSet rules_;
  RuleInputs in_;
};

// --- cost velocity --------------------------------------------------------

TEST_F(RulesTest, CostVelocityTripsAboveThreeTimesTheHourlyAverageAndAsksForAPause) {
  auto& a = Agent("research-agent");
  a.velocity_per_min = 2'400'000;  // $2.40/min
  a.spend_1h = 35'100'000;         // $0.585/min average: 4.1x
  auto f = CostVelocity(in_, Rule("cost_velocity"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].subject, "agent:research-agent");
  EXPECT_EQ(f[0].pause_agent, "research-agent");
  EXPECT_EQ(f[0].message, "research-agent burning $2.40/min, 4.1x its 1 h average");
  EXPECT_EQ(f[0].details.at("velocity_usd_per_min").as_string(), "2.40");
}

TEST_F(RulesTest, CostVelocityExactlyThreeTimesDoesNotTrip) {
  auto& a = Agent("a");
  a.velocity_per_min = 3 * kUsd;
  a.spend_1h = 60 * kUsd;  // $1/min average
  EXPECT_TRUE(CostVelocity(in_, Rule("cost_velocity")).empty());
  a.velocity_per_min += 1;
  EXPECT_EQ(CostVelocity(in_, Rule("cost_velocity")).size(), 1u);
}

TEST_F(RulesTest, CostVelocityBelowTheFloorDoesNotTrip) {
  auto& a = Agent("quiet");
  a.velocity_per_min = 99'999;  // under $0.10/min
  a.spend_1h = 499'995;
  EXPECT_TRUE(CostVelocity(in_, Rule("cost_velocity")).empty());
  a.velocity_per_min = 100'000;
  EXPECT_EQ(CostVelocity(in_, Rule("cost_velocity")).size(), 1u);
}

TEST_F(RulesTest, CostVelocityOverridePerAgentAndPauseOff) {
  auto& a = Agent("bursty");
  a.velocity_per_min = 4 * kUsd;
  a.spend_1h = 60 * kUsd;
  Override("cost_velocity", "bursty", "multiple", 5);
  EXPECT_TRUE(CostVelocity(in_, Rule("cost_velocity")).empty());
  Override("cost_velocity", "bursty", "multiple", 3);
  Override("cost_velocity", "bursty", "pause", 0);
  auto f = CostVelocity(in_, Rule("cost_velocity"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].pause_agent.empty());
}

TEST_F(RulesTest, CostVelocityKnowsAnAlreadyPausedAgent) {
  auto& a = Agent("a");
  a.velocity_per_min = 4 * kUsd;
  a.spend_1h = 60 * kUsd;
  BudgetAgent("a", 0).status = "paused";
  auto f = CostVelocity(in_, Rule("cost_velocity"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(f[0].already_paused);
}

// --- revenue drop ---------------------------------------------------------

TEST_F(RulesTest, RevenueDropTripsAboveThirtyPercentForProductAndFactory) {
  Product("p1", in_.now - hours(24 * 90));
  Revenue("p1", 2, 100 * kUsd);
  Revenue("p1", 1, 58 * kUsd);  // -42%
  auto f = RevenueDrop(in_, Rule("revenue_drop"));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].subject, "product:p1");
  EXPECT_EQ(f[0].message, "p1-name revenue fell 42% day over day: $58.00 on 2026-03-09 vs $100.00 the day before");
  EXPECT_EQ(f[1].subject, "factory");
}

TEST_F(RulesTest, RevenueDropOfExactlyThirtyPercentDoesNotTrip) {
  Revenue("p1", 2, 100 * kUsd);
  Revenue("p1", 1, 70 * kUsd);
  EXPECT_TRUE(RevenueDrop(in_, Rule("revenue_drop")).empty());
}

TEST_F(RulesTest, RevenueDropToNothingTripsButATinyPreviousDayIsIgnored) {
  Revenue("p1", 2, 50 * kUsd);  // nothing yesterday: -100%
  Revenue("p2", 2, 999'999);    // under min_previous_usd ($1)
  auto f = RevenueDrop(in_, Rule("revenue_drop"));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].subject, "product:p1");
  EXPECT_EQ(f[1].subject, "factory");
}

TEST_F(RulesTest, RevenueDropComparesTheBusinessDaysOfTheStoreZone) {
  // 2026-03-10T14:32Z is 20:02 on Mar 10 in Kolkata (UTC+05:30): yesterday is
  // local Mar 9, whose bucket starts 18:30Z on Mar 8.
  in_.calendar = *core::BusinessCalendar::Create("Asia/Kolkata");
  Product("p1", in_.now - hours(24 * 90));
  auto day = [](const char* t) { return *core::ParseRfc3339(t); };
  in_.revenue_daily.push_back({day("2026-03-07T18:30:00Z"), "p1", "payment", 0, 0, 100 * kUsd, 1, 0});
  in_.revenue_daily.push_back({day("2026-03-08T18:30:00Z"), "p1", "payment", 0, 0, 50 * kUsd, 1, 0});
  // A UTC-midnight row is no business day here and must not be read.
  in_.revenue_daily.push_back({day("2026-03-09T00:00:00Z"), "p1", "payment", 0, 0, 50 * kUsd, 1, 0});
  auto f = RevenueDrop(in_, Rule("revenue_drop"));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].message,
            "p1-name revenue fell 50% day over day: $50.00 on 2026-03-09 vs $100.00 the day before");
}

TEST_F(RulesTest, RevenueDropIgnoresToday) {
  Revenue("p1", 1, 100 * kUsd);
  Revenue("p1", 0, 1 * kUsd);  // today is not complete
  EXPECT_TRUE(RevenueDrop(in_, Rule("revenue_drop")).empty());
}

// --- error rate -----------------------------------------------------------

TEST_F(RulesTest, ErrorRateTripsAboveTenPercentInFiveMinutes) {
  auto minute = core::FromMicros(core::ToMicros(in_.now) / 60'000'000 * 60'000'000);
  in_.recent_calls.push_back({"a", minute - minutes(2), 0, 20, 2});
  in_.recent_calls.push_back({"a", minute, 0, 10, 2});  // 4 of 30 = 13%
  auto f = ErrorRate(in_, Rule("error_rate"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "a errors at 13% (4 of 30 calls) in the last 5 min");
}

TEST_F(RulesTest, ErrorRateOfExactlyTenPercentOrTooFewCallsDoesNotTrip) {
  auto minute = core::FromMicros(core::ToMicros(in_.now) / 60'000'000 * 60'000'000);
  in_.recent_calls.push_back({"a", minute, 0, 30, 3});  // exactly 10%
  in_.recent_calls.push_back({"b", minute, 0, 9, 9});   // 100% but 9 calls < min_calls 10
  EXPECT_TRUE(ErrorRate(in_, Rule("error_rate")).empty());
}

TEST_F(RulesTest, ErrorRateIgnoresCallsOlderThanTheWindow) {
  auto minute = core::FromMicros(core::ToMicros(in_.now) / 60'000'000 * 60'000'000);
  in_.recent_calls.push_back({"a", minute - minutes(10), 0, 30, 30});
  in_.recent_calls.push_back({"a", minute, 0, 30, 0});
  EXPECT_TRUE(ErrorRate(in_, Rule("error_rate")).empty());
}

// --- product down ---------------------------------------------------------

TEST_F(RulesTest, ProductDownTripsAfterMoreThanFiveMinutesOfFailures) {
  Product("p1", in_.now - hours(100));
  ProbeState p;
  p.product_id = "p1";
  p.url = "http://p1/health";
  p.failing_since = in_.now - minutes(5);
  p.last_status = 503;
  in_.probes.push_back(p);
  EXPECT_TRUE(ProductDown(in_, Rule("product_down")).empty());  // exactly 5 min
  in_.probes[0].failing_since = in_.now - minutes(5) - seconds(1);
  auto f = ProductDown(in_, Rule("product_down"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message, "p1-name down for 5 min (http://p1/health: HTTP 503)");
  EXPECT_EQ(f[0].severity, "critical");
}

TEST_F(RulesTest, ProductUpDoesNotTrip) {
  ProbeState p;
  p.product_id = "p1";
  p.url = "http://p1/health";
  p.last_ok_at = in_.now;
  in_.probes.push_back(p);
  EXPECT_TRUE(ProductDown(in_, Rule("product_down")).empty());
}

// --- churn ----------------------------------------------------------------

TEST_F(RulesTest, ChurnSpikeTripsAboveTwiceTheDailyAverage) {
  for (int d = 1; d <= 30; ++d) Cancel("p1", in_.now - hours(24 * d + 12));  // 30 in 30 days: 1/day
  for (int i = 0; i < 3; ++i) Cancel("p1", in_.now - hours(1));        // 3 > 2 x 1
  auto f = ChurnSpike(in_, Rule("churn_spike"));
  ASSERT_EQ(f.size(), 2u);  // the product and the factory
  EXPECT_EQ(f[0].message,
            "p1: 3 cancellations in the last 24 h, 3.0x the daily average of 1.0 over 30 days");
}

TEST_F(RulesTest, ChurnSpikeAtExactlyTwiceOrUnderTheMinimumDoesNotTrip) {
  for (int d = 1; d <= 30; ++d) {
    Cancel("p1", in_.now - hours(24 * d + 12));
    Cancel("p1", in_.now - hours(24 * d + 12) - minutes(1));
  }  // 2/day
  for (int i = 0; i < 4; ++i) Cancel("p1", in_.now - hours(2));  // exactly 2x
  EXPECT_TRUE(ChurnSpike(in_, Rule("churn_spike")).empty());
  in_.cancellations.clear();
  Cancel("p2", in_.now - hours(1));
  Cancel("p2", in_.now - hours(1));  // 2 with no history, but under min_cancellations 3
  EXPECT_TRUE(ChurnSpike(in_, Rule("churn_spike")).empty());
}

// --- budget ---------------------------------------------------------------

TEST_F(RulesTest, BudgetWarnsAtExactlyEightyPercentAndPausesAtOneHundred) {
  BudgetAgent("kev", 10 * kUsd);
  Agent("kev").spend_today = 7'999'999;
  EXPECT_TRUE(BudgetWarning(in_, Rule("budget_warning")).empty());
  in_.live.agents[0].spend_today = 8 * kUsd;
  auto warn = BudgetWarning(in_, Rule("budget_warning"));
  ASSERT_EQ(warn.size(), 1u);
  EXPECT_EQ(warn[0].message, "kev at 80% of its daily budget ($8.00 of $10.00)");
  EXPECT_TRUE(warn[0].pause_agent.empty());
  EXPECT_TRUE(BudgetExhausted(in_, Rule("budget_exhausted")).empty());
  in_.live.agents[0].spend_today = 10 * kUsd;
  auto full = BudgetExhausted(in_, Rule("budget_exhausted"));
  ASSERT_EQ(full.size(), 1u);
  EXPECT_EQ(full[0].pause_agent, "kev");
  EXPECT_EQ(full[0].severity, "critical");
}

TEST_F(RulesTest, BudgetIgnoresAgentsWithoutABudget) {
  model::Agent a;
  a.id = "free";
  in_.agents.push_back(a);
  Agent("free").spend_today = 1000 * kUsd;
  EXPECT_TRUE(BudgetWarning(in_, Rule("budget_warning")).empty());
  EXPECT_TRUE(BudgetExhausted(in_, Rule("budget_exhausted")).empty());
}

// --- zero revenue ---------------------------------------------------------

TEST_F(RulesTest, ZeroRevenueFlagsAProductWithNothingForFortyEightHours) {
  Product("old", in_.now - hours(48));  // exactly 48 h old: judged
  Product("young", in_.now - hours(47));
  auto f = ZeroRevenue(in_, Rule("zero_revenue"));
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].subject, "product:old");
  EXPECT_EQ(f[0].message, "old-name has earned $0.00 in the last 48 h; flagged for review");
}

TEST_F(RulesTest, ZeroRevenueIsNotFlaggedWithAnyRevenueInTheWindowOrWhenNotActive) {
  Product("earning", in_.now - hours(100));
  Product("sunset", in_.now - hours(100)).status = "sunset";
  in_.recent_revenue.push_back({"earning", core::FloorToHour(in_.now - hours(47)), 1});
  EXPECT_TRUE(ZeroRevenue(in_, Rule("zero_revenue")).empty());
  in_.recent_revenue[0].bucket_start = core::FloorToHour(in_.now - hours(50));  // outside
  EXPECT_EQ(ZeroRevenue(in_, Rule("zero_revenue")).size(), 1u);
}

// --- configuration --------------------------------------------------------

TEST(RuleConfigTest, ReadsSettingsAndOverridesAndRefusesUnknownOnes) {
  core::AlertsConfig c;
  c.rules["cost_velocity"].values["multiple"] = "4";
  c.rules["cost_velocity"].overrides["kev"]["floor_usd_per_min"] = "1.50";
  auto set = RuleSetFromConfig(c);
  ASSERT_TRUE(set) << set.error().ToString();
  EXPECT_EQ(set->Rule("cost_velocity").Get("multiple"), 4);
  EXPECT_EQ(set->Rule("cost_velocity").Get("floor_usd_per_min", "kev"), 1'500'000);
  EXPECT_EQ(set->Rule("cost_velocity").Get("floor_usd_per_min", "other"), 100'000);

  core::AlertsConfig typo;
  typo.rules["cost_velocity"].values["multipel"] = "4";
  auto bad = RuleSetFromConfig(typo);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("alerts.rules.cost_velocity.multipel"), std::string::npos);
  core::AlertsConfig unknown_rule;
  unknown_rule.rules["cost_spike"].values["enabled"] = "false";
  EXPECT_FALSE(RuleSetFromConfig(unknown_rule));
  core::AlertsConfig bad_value;
  bad_value.rules["budget_warning"].values["percent"] = "eighty";
  EXPECT_FALSE(RuleSetFromConfig(bad_value));
}

TEST(RuleConfigTest, DisabledRuleOrSubjectFindsNothing) {
  RuleSet set = DefaultRuleSet();
  RuleInputs in;
  in.now = *core::ParseRfc3339("2026-03-10T14:32:00Z");
  live::AgentCounters a{"a"};
  a.velocity_per_min = 10'000'000;
  a.spend_1h = 10'000'000;
  in.live.agents.push_back(a);
  EXPECT_EQ(EvaluateAll(in, set).size(), 1u);
  set.rules["cost_velocity"].overrides["a"]["enabled"] = 0;
  EXPECT_TRUE(EvaluateAll(in, set).empty());
}

}  // namespace
}  // namespace tally::alerts
