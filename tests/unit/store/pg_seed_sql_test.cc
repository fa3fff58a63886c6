// The seed's own SQL (seed §6 agent cost breakdown, §7 revenue breakdown and
// payback) run AS WRITTEN against the PostgreSQL store, compared with tally's
// analytics figures (analytics::Aggregate / ComputePnl over the same store's
// rollups) on the same small dataset. Times are relative to the real clock
// because the seed's SQL uses now().
//
// Dataset: every task has one terminal event, completed, with total_cost_usd,
// so the seed's "SUM(total_cost_usd) of completed tasks" and tally's task
// cost (KPIS.md) agree by construction; refunds are kept out of the §7
// revenue breakdown by its own `amount_usd > 0`.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "analytics/pnl.h"
#include "analytics/totals.h"
#include "store/postgres/pg_store.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::store {
namespace {

using namespace tally::store::testing;  // NOLINT: test builders

constexpr const char* kAgentCostBreakdown = R"sql(
-- Agent cost breakdown: direct vs shared
SELECT
    agent_id,
    SUM(total_cost_usd) FILTER (WHERE product_id IS NOT NULL) AS direct_cost,
    SUM(total_cost_usd) FILTER (WHERE product_id IS NULL) AS shared_cost,
    SUM(total_cost_usd) AS total_cost,
    COUNT(*) AS task_count,
    AVG(total_cost_usd) AS avg_cost_per_task
FROM task_events
WHERE time >= now() - interval '7 days'
  AND status = 'completed'
GROUP BY agent_id
ORDER BY total_cost DESC;
)sql";

constexpr const char* kRevenueBreakdown = R"sql(
-- Revenue breakdown: what's making money and how
SELECT
    p.name AS product,
    p.revenue_model,
    rc.channel_type,
    SUM(re.amount_usd) AS revenue,
    COUNT(DISTINCT re.customer_id) AS customers,
    SUM(re.amount_usd) / NULLIF(COUNT(DISTINCT re.customer_id), 0) AS revenue_per_customer
FROM revenue_events re
JOIN products p ON p.id = re.product_id
LEFT JOIN revenue_channels rc ON rc.id = re.channel_id
WHERE re.time >= now() - interval '30 days'
  AND re.amount_usd > 0
GROUP BY p.name, p.revenue_model, rc.channel_type
ORDER BY revenue DESC;
)sql";

constexpr const char* kPayback = R"sql(
-- Payback analysis: when does a product break even?
SELECT
    day,
    product_name,
    SUM(revenue) OVER w AS cumulative_revenue,
    SUM(agent_cost + infra_cost) OVER w AS cumulative_cost,
    SUM(net_profit) OVER w AS cumulative_profit
FROM product_pnl_daily
WHERE product_name = 'ProductX'
WINDOW w AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
ORDER BY day;
)sql";

const std::string kProductX = "11111111-1111-4111-8111-111111111111";
const std::string kProductY = "22222222-2222-4222-8222-222222222222";
const std::string kChannelX = "33333333-3333-4333-8333-333333333333";

// A NUMERIC USD value read through Query (int64 when integral, else double)
// as micro-USD.
std::int64_t Micros(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i * 1'000'000;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(std::llround(*d * 1e6));
  return -1;
}

class PgSeedSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenPostgresForLocation(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    now_us_ = core::ToMicros(std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now()));
    Seed();
  }

  core::Timestamp DaysAgo(double days) {
    return core::FromMicros(now_us_ - static_cast<std::int64_t>(days * 86'400e6));
  }

  void Seed() {
    model::Product x;
    x.id = kProductX;
    x.name = "ProductX";
    x.type = "micro-saas";
    x.revenue_model = "subscription";
    x.created_at = DaysAgo(20);
    model::Product y = x;
    y.id = kProductY;
    y.name = "ProductY";
    y.revenue_model = "one-time";
    ASSERT_TRUE(store_->PutProduct(x));
    ASSERT_TRUE(store_->PutProduct(y));
    model::RevenueChannel ch;
    ch.id = kChannelX;
    ch.product_id = kProductX;
    ch.channel_type = "stripe";
    ch.created_at = DaysAgo(20);
    ASSERT_TRUE(store_->PutChannel(ch));

    std::vector<model::Event> events;
    int n = 0;
    auto task = [&](const std::string& agent, std::optional<std::string> product,
                    std::int64_t cost_micros, double days_ago) {
      model::TaskEvent t = MakeTask("task-" + std::to_string(n));
      t.task_id = fmt::format("00000000-0000-4000-8000-{:012d}", n++);
      t.agent_id = agent;
      t.product_id = std::move(product);
      t.status = model::TaskStatus::kCompleted;
      t.total_cost_usd = core::Money::FromMicros(cost_micros);
      t.duration_ms = 60'000;
      t.time = DaysAgo(days_ago);
      events.emplace_back(std::move(t));
    };
    task("kev", kProductX, 1'250'000, 1);
    task("kev", kProductX, 2'500'000, 2);
    task("kev", std::nullopt, 400'000, 3);
    task("mae", kProductY, 3'000'000, 1.5);
    task("mae", std::nullopt, 600'000, 4);
    task("dash", std::nullopt, 100'000, 0.5);
    auto revenue = [&](const std::string& product, std::optional<std::string> channel,
                       std::int64_t amount, const std::string& customer, double days_ago,
                       model::RevenueEventType type = model::RevenueEventType::kPayment) {
      model::RevenueEvent r;
      r.event_id = "rev-" + std::to_string(n++);
      r.time = DaysAgo(days_ago);
      r.product_id = product;
      r.channel_id = std::move(channel);
      r.event_type = type;
      r.amount_usd = core::Money::FromMicros(amount);
      r.customer_id = customer;
      events.emplace_back(std::move(r));
    };
    revenue(kProductX, kChannelX, 19'000'000, "cus_1", 5);
    revenue(kProductX, kChannelX, 19'000'000, "cus_2", 3);
    revenue(kProductX, kChannelX, 9'500'000, "cus_1", 1);
    revenue(kProductY, std::nullopt, 49'000'000, "cus_9", 2);
    model::InfraCost infra;
    infra.event_id = "infra-1";
    infra.time = DaysAgo(2);
    infra.product_id = kProductX;
    infra.cost_type = "hosting";
    infra.provider = "hetzner";
    infra.amount_usd = core::Money::FromMicros(4'510'000);
    events.emplace_back(infra);
    auto batch = MakeBatch(std::move(events));
    auto stats = AppendOne(*store_, batch);
    ASSERT_TRUE(stats) << stats.error().ToString();
    ASSERT_EQ((*stats)[0].duplicates, 0);
  }

  analytics::Totals TallyTotals() {
    auto set = store_->ReadRollups(DaysAgo(40), DaysAgo(-1), kAllDailyRollups);
    EXPECT_TRUE(set) << set.error().ToString();
    return analytics::Aggregate(set ? *set : RollupSet{});
  }

  tally::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::int64_t now_us_ = 0;
};

TEST_F(PgSeedSqlTest, AgentCostBreakdownOfSeedSection6MatchesTallysTaskCosts) {
  auto r = store_->Query(kAgentCostBreakdown);
  ASSERT_TRUE(r) << r.error().ToString();
  analytics::Totals totals = TallyTotals();
  ASSERT_EQ(r->rows.size(), 3u);
  for (const auto& row : r->rows) {
    const std::string agent = std::get<std::string>(row[0]);
    SCOPED_TRACE(agent);
    const analytics::AgentTotals& a = totals.agents.at(agent);
    std::int64_t direct = 0, shared = 0;
    for (const auto& [product, cost] : a.task_cost_by_product) (product.empty() ? shared : direct) += cost;
    EXPECT_EQ(row[1] == SqlValue(nullptr) ? 0 : Micros(row[1]), direct);
    EXPECT_EQ(row[2] == SqlValue(nullptr) ? 0 : Micros(row[2]), shared);
    EXPECT_EQ(Micros(row[3]), a.completed_cost);
    EXPECT_EQ(row[4], SqlValue(a.completed));
  }
  // Ordered by total cost: kev 4.15, mae 3.60, dash 0.10.
  EXPECT_EQ(r->rows[0][0], SqlValue(std::string("kev")));
  EXPECT_EQ(Micros(r->rows[0][3]), 4'150'000);
}

TEST_F(PgSeedSqlTest, RevenueBreakdownOfSeedSection7MatchesTallysGrossRevenue) {
  auto r = store_->Query(kRevenueBreakdown);
  ASSERT_TRUE(r) << r.error().ToString();
  analytics::Totals totals = TallyTotals();
  ASSERT_EQ(r->rows.size(), 2u);
  // ProductY 49.00 (no channel), then ProductX 47.50 via stripe from 2 customers.
  EXPECT_EQ(r->rows[0][0], SqlValue(std::string("ProductY")));
  EXPECT_EQ(r->rows[0][2], SqlValue(nullptr));
  EXPECT_EQ(Micros(r->rows[0][3]), totals.products.at(kProductY).gross_revenue);
  EXPECT_EQ(r->rows[1][0], SqlValue(std::string("ProductX")));
  EXPECT_EQ(r->rows[1][1], SqlValue(std::string("subscription")));
  EXPECT_EQ(r->rows[1][2], SqlValue(std::string("stripe")));
  EXPECT_EQ(Micros(r->rows[1][3]), totals.products.at(kProductX).gross_revenue);
  EXPECT_EQ(Micros(r->rows[1][3]), 47'500'000);
  EXPECT_EQ(r->rows[1][4], SqlValue(std::int64_t{2}));
}

TEST_F(PgSeedSqlTest, PaybackOfSeedSection7OnProductPnlDailyMatchesTallysPnl) {
  auto r = store_->Query(kPayback);
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_FALSE(r->rows.empty());
  auto products = store_->ListProducts();
  ASSERT_TRUE(products);
  analytics::Pnl pnl =
      analytics::ComputePnl(TallyTotals(), *products, analytics::AllocationRule::kDirectCost);
  const analytics::PnlLine* x = nullptr;
  for (const auto& line : pnl.lines) {
    if (line.product_id == kProductX) x = &line;
  }
  ASSERT_NE(x, nullptr);
  const auto& last = r->rows.back();
  EXPECT_EQ(Micros(last[2]), x->revenue);
  EXPECT_EQ(Micros(last[3]), x->agent_cost + x->infra_cost);
  EXPECT_EQ(Micros(last[4]), x->net_profit);
  // 47.50 revenue - (1.25 + 2.50) agent - 4.51 infra.
  EXPECT_EQ(x->net_profit, 47'500'000 - 3'750'000 - 4'510'000);
  // Cumulative: every day's row is a running total, never decreasing in revenue.
  for (size_t i = 1; i < r->rows.size(); ++i) {
    EXPECT_GE(Micros(r->rows[i][2]), Micros(r->rows[i - 1][2]));
  }
}

}  // namespace
}  // namespace tally::store
