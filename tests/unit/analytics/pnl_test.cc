// P&L, allocation, ROI and payback on hand-made rollup rows; every expected
// figure is worked out by hand in the comments.
#include "analytics/pnl.h"

#include <gtest/gtest.h>

namespace tally::analytics {
namespace {

constexpr std::int64_t kUsd = 1'000'000;
core::Timestamp Day(int d) {
  return core::FromMicros(1'772'323'200'000'000 + d * 86'400'000'000LL);
}  // 2026-03-01 + d

model::Product Product(std::string id, std::string name) {
  model::Product p;
  p.id = std::move(id);
  p.name = std::move(name);
  p.type = "micro-saas";
  return p;
}

// Product a: revenue 80, task 4, infra 5 (cost 9). Product b: revenue 50,
// task 1.2, infra 3 (cost 4.2). Shared: 10 infra + 0.25 LLM outside tasks.
store::RollupSet HandRows() {
  store::RollupSet s;
  s.revenue = {{Day(0), "a", "payment", 100 * kUsd, 0, 100 * kUsd, 1, 1},
               {Day(1), "a", "refund", 0, -20 * kUsd, -20 * kUsd, 1, 1},
               {Day(1), "b", "subscription_start", 50 * kUsd, 0, 50 * kUsd, 1, 1}};
  // LLM: kev 3.25 (3 in task t1, 0.25 outside), mae 0.5 (task t2).
  s.agent_costs = {{Day(0), "kev", "m", "p", 2, 2000, 0, 400, 3 * kUsd, 0, 1},
                   {Day(1), "kev", "m", "p", 1, 1000, 0, 0, 250'000, 0, 0},
                   {Day(1), "mae", "m", "p", 1, 2000, 0, 600, 500'000, 0, 0}};
  s.tasks = {
      // t1: reported 4.00 over 3.00 of calls: tool 1.00; 2 h.
      {Day(0), "a", "kev", "build", "completed", 1, 4 * kUsd, 3 * kUsd, 1 * kUsd, 7'200'000, 10, 1,
       90, 1},
      // t2: no reported cost: its calls, 0.50; 1 h.
      {Day(1), "b", "mae", "write-content", "failed", 1, 500'000, 500'000, 0, 3'600'000, 0, 0, 0,
       0},
      // t3: reported 0.70, no calls: tool 0.70; 1 h.
      {Day(1), "b", "kev", "build", "escalated", 1, 700'000, 0, 700'000, 3'600'000, 0, 0, 0, 0}};
  s.infra = {{Day(0), "a", "hosting", 5 * kUsd, 1},
             {Day(0), "", "hosting", 10 * kUsd, 1},
             {Day(1), "b", "ads", 3 * kUsd, 1}};
  return s;
}

TEST(AllocateTest, PartsSumExactlyAndLargestRemaindersGetTheLeftover) {
  // 10 over 1:1:1 = 3.33.. each: one micro left, to the first (ties: lower index).
  EXPECT_EQ(Allocate(10, {1, 1, 1}), (std::vector<std::int64_t>{4, 3, 3}));
  // 10,250,000 over 9 : 4.2 = 6,988,636.36 / 3,261,363.64: the leftover goes to the .64.
  EXPECT_EQ(Allocate(10'250'000, {9, 4.2}), (std::vector<std::int64_t>{6'988'636, 3'261'364}));
  EXPECT_EQ(Allocate(7, {0, 0}), (std::vector<std::int64_t>{4, 3}));  // all zero: evenly
  EXPECT_TRUE(Allocate(7, {}).empty());
  auto negative = Allocate(-10, {1, 1, 1});
  EXPECT_EQ(negative[0] + negative[1] + negative[2], -10);
}

TEST(PnlTest, FollowsTheCostModelAndAllocatesSharedCost) {
  Totals t = Aggregate(HandRows());
  // LLM 3.75 + tool 1.70 + infra 18 = 23.45; products 9 + 4.2 = 13.2; shared 10.25.
  EXPECT_EQ(t.TotalCost(), 23'450'000);
  EXPECT_EQ(t.SharedCost(), 10'250'000);
  Pnl pnl =
      ComputePnl(t, {Product("a", "alpha"), Product("b", "beta")}, AllocationRule::kDirectCost);
  EXPECT_EQ(pnl.revenue, 130 * kUsd);
  EXPECT_EQ(pnl.net_profit, 106'550'000);
  ASSERT_EQ(pnl.lines.size(), 2u);
  EXPECT_EQ(pnl.lines[0].product_name, "alpha");  // 71 > 45.80
  EXPECT_EQ(pnl.lines[0].revenue, 80 * kUsd);
  EXPECT_EQ(pnl.lines[0].gross_revenue, 100 * kUsd);
  EXPECT_EQ(pnl.lines[0].refunds, -20 * kUsd);
  EXPECT_EQ(pnl.lines[0].agent_cost, 4 * kUsd);
  EXPECT_EQ(pnl.lines[0].infra_cost, 5 * kUsd);
  EXPECT_EQ(pnl.lines[0].net_profit, 71 * kUsd);
  EXPECT_EQ(pnl.lines[0].shared_allocated, 6'988'636);
  EXPECT_EQ(pnl.lines[0].fully_loaded_profit, 71 * kUsd - 6'988'636);
  EXPECT_EQ(pnl.lines[1].net_profit, 45'800'000);
  EXPECT_EQ(pnl.lines[1].shared_allocated, 3'261'364);

  Pnl by_revenue =
      ComputePnl(t, {Product("a", "alpha"), Product("b", "beta")}, AllocationRule::kRevenueShare);
  // 10.25 x 80/130 = 6.307692.. ; x 50/130 = 3.942307.. (+1 leftover micro).
  EXPECT_EQ(by_revenue.lines[0].shared_allocated, 6'307'692);
  EXPECT_EQ(by_revenue.lines[1].shared_allocated, 3'942'308);
  Pnl evenly =
      ComputePnl(t, {Product("a", "alpha"), Product("b", "beta")}, AllocationRule::kEvenly);
  EXPECT_EQ(evenly.lines[0].shared_allocated, 5'125'000);
  EXPECT_EQ(evenly.lines[1].shared_allocated, 5'125'000);
}

TEST(RoiTest, ProductRoiPerProductAndUndefinedWithoutCost) {
  Totals t = Aggregate(HandRows());
  auto roi =
      ComputeProductRoi(t, {Product("a", "alpha"), Product("b", "beta"), Product("c", "gamma")});
  ASSERT_EQ(roi.size(), 3u);
  EXPECT_EQ(roi[0].product_id, "a");
  EXPECT_NEAR(*roi[0].roi_percent, 71.0 / 9.0 * 100, 1e-9);  // 788.89%
  EXPECT_EQ(roi[1].product_id, "b");
  EXPECT_NEAR(*roi[1].roi_percent, 45.8 / 4.2 * 100, 1e-9);  // 1090.48%
  EXPECT_EQ(roi[2].product_id, "c");
  EXPECT_FALSE(roi[2].roi_percent.has_value());  // no cost: undefined, not 0
}

TEST(RoiTest, AgentRoiWeightsRevenueByTaskHours) {
  Totals t = Aggregate(HandRows());
  auto roi = ComputeAgentRoi(t);
  ASSERT_EQ(roi.size(), 2u);
  // mae: 1 h of b's 2 h -> 0.5 x 50 = 25 over cost 0.50: 4900%.
  EXPECT_EQ(roi[0].agent_id, "mae");
  EXPECT_EQ(roi[0].attributed_revenue, 25 * kUsd);
  EXPECT_EQ(roi[0].cost, 500'000);
  EXPECT_NEAR(*roi[0].roi_percent, 4900, 1e-9);
  // kev: all of a (80) + half of b (25) = 105 over LLM 3.25 + tool 1.70 = 4.95.
  EXPECT_EQ(roi[1].agent_id, "kev");
  EXPECT_EQ(roi[1].attributed_revenue, 105 * kUsd);
  EXPECT_EQ(roi[1].cost, 4'950'000);
  EXPECT_NEAR(*roi[1].roi_percent, (105 - 4.95) / 4.95 * 100, 1e-9);
}

TEST(PaybackTest, BreakEvenDayBuildCostAndProjection) {
  // Launch on day 2. Days 0-1 (build): cost 10 each. Then +5 profit a day.
  std::vector<DailyPnl> days = {{Day(0), 0, 10 * kUsd}, {Day(1), 0, 10 * kUsd}};
  for (int d = 2; d < 6; ++d) days.push_back({Day(d), 7 * kUsd, 2 * kUsd});
  Payback p = ComputePayback(days, Day(2));
  EXPECT_EQ(p.build_cost, 20 * kUsd);
  EXPECT_EQ(p.cumulative_profit, -20 * kUsd + 4 * 5 * kUsd);  // 0: broke even on day 5
  ASSERT_TRUE(p.break_even_day.has_value());
  EXPECT_EQ(*p.break_even_day, Day(5));
  EXPECT_DOUBLE_EQ(*p.payback_days, 3.0);
  EXPECT_EQ(p.monthly_ongoing_cost, 8 * kUsd);  // days 2-5 after launch

  // Not yet even: -20 + 2 x 5 = -10; the last 30 days made 10 -> 1/3 per day
  // -> 30 more days after the last day.
  days.resize(4);
  Payback q = ComputePayback(days, Day(2));
  EXPECT_FALSE(q.break_even_day.has_value());
  ASSERT_TRUE(q.projected_break_even.has_value());
  EXPECT_EQ(*q.projected_break_even, Day(3) + std::chrono::days(30));

  // Losing money: no projection, and it says why.
  Payback r = ComputePayback({{Day(0), 1 * kUsd, 3 * kUsd}}, std::nullopt);
  EXPECT_FALSE(r.projected_break_even.has_value());
  EXPECT_FALSE(r.note.empty());
}

}  // namespace
}  // namespace tally::analytics
