// A small factory whose P&L, ROI and KPI figures are worked out BY HAND below,
// run through the real store (raw events -> rollups in the ingest
// transaction -> analytics), on every backend.
//
// Products: alpha (created Feb 10, launched Feb 20), beta (created Feb 15,
// launched Feb 25). Agents: kev (builder), mae (marketer). Mar 1-2, 2026:
//   calls  c1 kev t1 $2.00 in 1000 cached 400 ok      Mar 1 10:00
//          c2 kev t1 $1.00 in 1000          error     Mar 1 11:00 (sent twice)
//          c3 mae t2 $0.50 in 2000 cached 600 ok      Mar 2 09:00
//          c4 kev -  $0.25 in 1000          ok        Mar 2 10:00 (no task)
//   tasks  t1 kev alpha build completed $4.00 2h 10 steps q 0.90  Mar 1 12:00
//          t2 mae beta write-content failed (no cost) 1h          Mar 2 10:00
//          t3 kev beta build escalated $0.70 1h                   Mar 2 11:00
//   revenue alpha payment $100 cus1 Mar 1; alpha refund -$20 cus1 Mar 2;
//           beta subscription_start $50/month cus2 Mar 2
//   infra  alpha hosting $5 Mar 1; shared hosting $10 Mar 1; beta ads $3 Mar 2
// By hand:
//   LLM 2 + 1 + 0.5 + 0.25 = 3.75 (the re-sent c2 counts once)
//   tool: t1 4 - 3 = 1; t2 none; t3 0.70 - 0 = 0.70 -> 1.70
//   infra 18; factory total cost 3.75 + 1.70 + 18 = 23.45
//   revenue net 130 (gross 150, refunds -20)
//   alpha: revenue 80, agent 4, infra 5 -> profit 71, ROI 71/9 = 788.89%
//   beta:  revenue 50, agent 0.50 + 0.70 = 1.20, infra 3 -> profit 45.80,
//          ROI 45.8/4.2 = 1090.48%
//   shared 23.45 - 13.20 = 10.25 (shared hosting 10 + c4 0.25)
//   net profit 106.55; gross margin 106.55 / 130 = 81.96%
//   agents: completion 1/3, escalation 1/3, error rate 1/4, cache hit
//   1000/5000 = 20%, avg cost per completed task 4.00
//   agent ROI: kev 105 attributed (alpha x1 + beta x0.5) over 4.95 (LLM 3.25 +
//   tool 1.70); mae 25 over 0.50 = 4900%
//   beta: MRR 50, ARPA 50, CAC (mae's 0.50 + ads 3) / 1 = 3.50
#include <gtest/gtest.h>

#include "analytics/kpis.h"
#include "analytics/pnl.h"
#include "store/sqlite/sqlite_store.h"
#include "support/events.h"
#include "support/temp_dir.h"
#include "unit/store/store_test_util.h"

namespace tally::analytics {
namespace {

constexpr std::int64_t kUsd = 1'000'000;
constexpr std::int64_t kMar1 = 1'772'323'200'000'000;  // 2026-03-01T00:00:00Z
constexpr std::int64_t kHour = 3'600'000'000;
constexpr std::int64_t kDay = 24 * kHour;
const std::string kAlpha = "11111111-1111-4111-8111-111111111111";
const std::string kBeta = "22222222-2222-4222-8222-222222222222";
const std::string kT1 = "00000000-0000-4000-8000-000000000001";
const std::string kT2 = "00000000-0000-4000-8000-000000000002";
const std::string kT3 = "00000000-0000-4000-8000-000000000003";

core::Timestamp At(std::int64_t us) { return core::FromMicros(kMar1 + us); }

model::LlmCall Call(std::string id, std::string agent, std::optional<std::string> task,
                    std::int64_t cost, std::int64_t input, std::int64_t cached, bool ok,
                    std::int64_t at) {
  model::LlmCall c = tally::testing::MakeCall(std::move(id), cost, kMar1 + at);
  c.agent_id = std::move(agent);
  c.task_id = std::move(task);
  c.input_tokens = input;
  c.cached_tokens = cached;
  c.status = ok ? model::LlmStatus::kSuccess : model::LlmStatus::kError;
  return c;
}

model::TaskEvent Task(std::string id, std::string task, std::string agent, std::string product,
                      std::string type, model::TaskStatus status, std::optional<std::int64_t> cost,
                      std::int64_t duration_ms, std::int64_t at) {
  model::TaskEvent t;
  t.event_id = std::move(id);
  t.time = At(at);
  t.task_id = std::move(task);
  t.agent_id = std::move(agent);
  t.product_id = std::move(product);
  t.task_type = std::move(type);
  t.status = status;
  if (cost) t.total_cost_usd = core::Money::FromMicros(*cost);
  t.duration_ms = duration_ms;
  return t;
}

model::RevenueEvent Revenue(std::string id, std::string product, model::RevenueEventType type,
                            std::int64_t amount, std::string customer, std::int64_t at) {
  model::RevenueEvent r;
  r.event_id = std::move(id);
  r.time = At(at);
  r.product_id = std::move(product);
  r.event_type = type;
  r.amount_usd = core::Money::FromMicros(amount);
  r.customer_id = std::move(customer);
  r.metadata = R"({"interval":"month"})";
  return r;
}

model::InfraCost Infra(std::string id, std::optional<std::string> product, std::string type,
                       std::int64_t amount, std::int64_t at) {
  model::InfraCost c;
  c.event_id = std::move(id);
  c.time = At(at);
  c.product_id = std::move(product);
  c.cost_type = std::move(type);
  c.provider = "vercel";
  c.amount_usd = core::Money::FromMicros(amount);
  return c;
}

// The parameter names the store backend: every hand figure holds on each.
class HandFactoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "Postgres") {
      auto opened = store::testing::OpenPostgresForLocation(dir_.str());
      ASSERT_TRUE(opened) << opened.error().ToString();
      store_ = std::move(*opened);
    } else {
      auto opened = store::SqliteStore::Open(dir_.str());
      ASSERT_TRUE(opened) << opened.error().ToString();
      store_ = std::move(*opened);
    }
    model::Product alpha{kAlpha,     "alpha", "micro-saas", "active",      At(-9 * kDay),
                         "one-time", {},      "",           At(-19 * kDay)};
    model::Product beta{kBeta,          "beta", "api", "active",      At(-4 * kDay),
                        "subscription", {},     "",    At(-14 * kDay)};
    ASSERT_TRUE(store_->PutProduct(alpha));
    ASSERT_TRUE(store_->PutProduct(beta));
    model::Agent kev{"kev", "builder", {}, {}, "active", "", At(-30 * kDay)};
    model::Agent mae{"mae", "marketer", {}, {}, "active", "", At(-30 * kDay)};
    ASSERT_TRUE(store_->PutAgent(kev));
    ASSERT_TRUE(store_->PutAgent(mae));
    using S = model::TaskStatus;
    using R = model::RevenueEventType;
    // Two ingest transactions: the second re-sends c2 (must not count) and
    // delivers t2's call after t2's terminal event (its cost must follow).
    model::Batch first{"test",
                       {Call("c1", "kev", kT1, 2 * kUsd, 1000, 400, true, 10 * kHour),
                        Call("c2", "kev", kT1, 1 * kUsd, 1000, 0, false, 11 * kHour),
                        Task("t1-done", kT1, "kev", kAlpha, "build", S::kCompleted, 4 * kUsd,
                             7'200'000, 12 * kHour),
                        Revenue("r1", kAlpha, R::kPayment, 100 * kUsd, "cus1", 13 * kHour),
                        Infra("i1", kAlpha, "hosting", 5 * kUsd, 1 * kHour),
                        Infra("i2", std::nullopt, "hosting", 10 * kUsd, 1 * kHour)}};
    model::Batch second{
        "test",
        {Call("c2", "kev", kT1, 1 * kUsd, 1000, 0, false, 11 * kHour),  // re-sent
         Task("t2-failed", kT2, "mae", kBeta, "write-content", S::kFailed, std::nullopt, 3'600'000,
              kDay + 10 * kHour),
         Call("c3", "mae", kT2, 500'000, 2000, 600, true,
              kDay + 9 * kHour),  // after its task's end
         Call("c4", "kev", std::nullopt, 250'000, 1000, 0, true, kDay + 10 * kHour),
         Task("t3-escalated", kT3, "kev", kBeta, "build", S::kEscalated, 700'000, 3'600'000,
              kDay + 11 * kHour),
         Revenue("r2", kAlpha, R::kRefund, -20 * kUsd, "cus1", kDay + 8 * kHour),
         Revenue("r3", kBeta, R::kSubscriptionStart, 50 * kUsd, "cus2", kDay + 12 * kHour),
         Infra("i3", kBeta, "ads", 3 * kUsd, kDay + 2 * kHour)}};
    batches_.emplace_back(first);
    batches_.emplace_back(second);
    for (const auto& b : batches_) {
      const model::Batch* one[] = {&b};
      auto stats = store_->Append(one);
      ASSERT_TRUE(stats) << stats.error().ToString();
    }
    period_ = Period{At(0), At(2 * kDay)};
  }

  KpiInput Input() {
    KpiInput in;
    in.period = period_;
    auto rollups = store_->ReadRollups(period_.from, period_.to, store::kAllRollups);
    EXPECT_TRUE(rollups) << rollups.error().ToString();
    in.current = Aggregate(*rollups);
    in.growth = rollups->growth;
    auto previous =
        store_->ReadRollups(period_.Previous().from, period_.Previous().to, store::kAllRollups);
    EXPECT_TRUE(previous);
    in.previous = Aggregate(*previous);
    in.all_time = in.current;
    auto subs = store_->ListSubscriptionEvents(period_.to);
    EXPECT_TRUE(subs);
    in.subscriptions = *subs;
    in.products = *store_->ListProducts();
    in.agents = *store_->ListAgents();
    return in;
  }

  std::int64_t Scalar(const std::string& sql) {
    auto r = store_->Query(sql);
    EXPECT_TRUE(r) << r.error().ToString();
    if (!r || r->rows.size() != 1) return -1;
    return std::get<std::int64_t>(r->rows[0][0]);
  }

  tally::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::vector<model::Batch> batches_;
  Period period_;
};

const Kpi& Find(const std::vector<Kpi>& kpis, const std::string& key) {
  for (const auto& k : kpis) {
    if (k.key == key) return k;
  }
  static Kpi missing;
  ADD_FAILURE() << "no KPI " << key;
  return missing;
}

TEST_P(HandFactoryTest, PnlMatchesTheHandFigures) {
  KpiInput in = Input();
  EXPECT_EQ(in.current.llm_cost, 3'750'000);
  EXPECT_EQ(in.current.tool_cost, 1'700'000);
  EXPECT_EQ(in.current.TotalCost(), 23'450'000);
  EXPECT_EQ(in.current.SharedCost(), 10'250'000);
  Pnl pnl = ComputePnl(in.current, in.products, AllocationRule::kDirectCost);
  EXPECT_EQ(pnl.revenue, 130 * kUsd);
  EXPECT_EQ(pnl.net_profit, 106'550'000);
  ASSERT_EQ(pnl.lines.size(), 2u);
  EXPECT_EQ(pnl.lines[0].product_name, "alpha");
  EXPECT_EQ(pnl.lines[0].net_profit, 71 * kUsd);
  EXPECT_EQ(pnl.lines[0].agent_cost, 4 * kUsd);
  EXPECT_EQ(pnl.lines[1].product_name, "beta");
  EXPECT_EQ(pnl.lines[1].agent_cost, 1'200'000);
  EXPECT_EQ(pnl.lines[1].net_profit, 45'800'000);
  EXPECT_EQ(pnl.lines[0].shared_allocated + pnl.lines[1].shared_allocated, 10'250'000);
}

TEST_P(HandFactoryTest, SqlViewsGiveTheSameNumbersAndTheSeedPaybackQueryRuns) {
  if (GetParam() == "Postgres") {
    // PostgreSQL's views hold NUMERIC dollars, not integer micro-USD: the
    // seed's SQL on that backend is checked by store/pg_seed_sql_test.cc.
    GTEST_SKIP() << "SQLite units; PostgreSQL's seed SQL is in pg_seed_sql_test";
  }
  EXPECT_EQ(Scalar("SELECT sum(net_profit) FROM product_pnl_daily"), 71 * kUsd + 45'800'000);
  EXPECT_EQ(Scalar("SELECT sum(agent_cost) FROM product_pnl_daily WHERE product_name = 'beta'"),
            1'200'000);
  EXPECT_EQ(Scalar("SELECT sum(shared_cost) FROM factory_costs_daily"), 10'250'000);
  EXPECT_EQ(Scalar("SELECT sum(total_cost) FROM factory_costs_daily"), 23'450'000);
  // Seed §7, unchanged but for the product name.
  auto payback = store_->Query(R"sql(
SELECT
    day,
    product_name,
    SUM(revenue) OVER w AS cumulative_revenue,
    SUM(agent_cost + infra_cost) OVER w AS cumulative_cost,
    SUM(net_profit) OVER w AS cumulative_profit
FROM product_pnl_daily
WHERE product_name = 'alpha'
WINDOW w AS (ORDER BY day ROWS UNBOUNDED PRECEDING)
ORDER BY day;
)sql");
  ASSERT_TRUE(payback) << payback.error().ToString();
  ASSERT_EQ(payback->rows.size(), 2u);
  // Mar 1: 100 - (4 + 5) = 91; Mar 2: refund -20 -> 71.
  EXPECT_EQ(std::get<std::int64_t>(payback->rows[0][4]), 91 * kUsd);
  EXPECT_EQ(std::get<std::int64_t>(payback->rows[1][2]), 80 * kUsd);
  EXPECT_EQ(std::get<std::int64_t>(payback->rows[1][4]), 71 * kUsd);
}

TEST_P(HandFactoryTest, RoiMatchesTheHandFigures) {
  KpiInput in = Input();
  auto products = ComputeProductRoi(in.current, in.products);
  ASSERT_EQ(products.size(), 2u);
  EXPECT_NEAR(*products[0].roi_percent, 788.888888, 1e-5);
  EXPECT_NEAR(*products[1].roi_percent, 1090.476190, 1e-5);
  auto agents = ComputeAgentRoi(in.current);
  ASSERT_EQ(agents.size(), 2u);
  EXPECT_EQ(agents[0].agent_id, "mae");
  EXPECT_NEAR(*agents[0].roi_percent, 4900.0, 1e-9);
  EXPECT_EQ(agents[1].attributed_revenue, 105 * kUsd);
  EXPECT_EQ(agents[1].cost, 4'950'000);
}

TEST_P(HandFactoryTest, KpisMatchTheHandFigures) {
  KpiInput in = Input();
  auto factory = FactoryKpis(in);
  EXPECT_DOUBLE_EQ(*Find(factory, "total_revenue").value, 130.0);
  EXPECT_DOUBLE_EQ(*Find(factory, "total_cost").value, 23.45);
  EXPECT_EQ(Find(factory, "total_cost").status, KpiStatus::kOk);  // 23.45 < 0.3 x 130 = 39
  EXPECT_DOUBLE_EQ(*Find(factory, "net_profit").value, 106.55);
  EXPECT_NEAR(*Find(factory, "gross_margin").value, 106.55 / 130, 1e-12);
  EXPECT_EQ(Find(factory, "gross_margin").status, KpiStatus::kOk);
  EXPECT_NEAR(*Find(factory, "roi_per_product").value, (130 - 13.2) / 13.2 * 100, 1e-9);

  auto agents = AgentKpis(in);
  EXPECT_DOUBLE_EQ(*Find(agents, "task_completion_rate").value, 1.0 / 3);
  EXPECT_EQ(Find(agents, "task_completion_rate").status, KpiStatus::kBad);
  EXPECT_DOUBLE_EQ(*Find(agents, "escalation_rate").value, 1.0 / 3);
  EXPECT_DOUBLE_EQ(*Find(agents, "error_rate").value, 0.25);
  EXPECT_DOUBLE_EQ(*Find(agents, "cache_hit_rate").value, 0.2);
  EXPECT_DOUBLE_EQ(*Find(agents, "avg_cost_per_task").value, 4.0);

  auto beta = ProductKpis(in, kBeta);
  EXPECT_DOUBLE_EQ(*Find(beta, "mrr").value, 50.0);
  EXPECT_DOUBLE_EQ(*Find(beta, "arpa").value, 50.0);
  EXPECT_DOUBLE_EQ(*Find(beta, "cac").value, 3.5);
  EXPECT_EQ(Find(beta, "churn_rate").status, KpiStatus::kUndefined);  // nobody active at the start
}

TEST_P(HandFactoryTest, RebuildGivesTheSameRollups) {
  auto before = store_->ReadRollups(core::FromMicros(0), At(10 * kDay), store::kAllRollups);
  ASSERT_TRUE(before);
  ASSERT_TRUE(store_->RebuildRollups());
  auto after = store_->ReadRollups(core::FromMicros(0), At(10 * kDay), store::kAllRollups);
  ASSERT_TRUE(after);
  EXPECT_TRUE(*before == *after);
}

// The product grain (store::kProductGrain) that P&L, payback and history
// reads use gives the same P&L, product totals and payback as full grain.
TEST_P(HandFactoryTest, ProductGrainGivesTheSamePnlAndPayback) {
  const unsigned kinds = store::kAgentCostDailyRollup | store::kRevenueRollup |
                         store::kTaskRollup | store::kInfraRollup;
  auto full = store_->ReadRollups(core::FromMicros(0), At(10 * kDay), kinds);
  auto grain =
      store_->ReadRollups(core::FromMicros(0), At(10 * kDay), kinds | store::kProductGrain);
  ASSERT_TRUE(full) << full.error().ToString();
  ASSERT_TRUE(grain) << grain.error().ToString();
  EXPECT_EQ(grain->tasks.size(), 3u);  // t1, t2, t3 differ in day, product or status
  EXPECT_LT(grain->agent_costs.size(), full->agent_costs.size());
  const auto products = *store_->ListProducts();
  const Totals a = Aggregate(*full), b = Aggregate(*grain);
  EXPECT_EQ(b.TotalCost(), 23'450'000);
  EXPECT_EQ(a.TotalCost(), b.TotalCost());
  EXPECT_EQ(a.revenue, b.revenue);
  for (const auto& id : {kAlpha, kBeta}) {
    EXPECT_EQ(a.products.at(id).Profit(), b.products.at(id).Profit()) << id;
    EXPECT_EQ(a.products.at(id).task_hours_ms, b.products.at(id).task_hours_ms) << id;
  }
  const Pnl pa = ComputePnl(a, products, AllocationRule::kRevenueShare);
  const Pnl pb = ComputePnl(b, products, AllocationRule::kRevenueShare);
  ASSERT_EQ(pa.lines.size(), pb.lines.size());
  for (size_t i = 0; i < pa.lines.size(); ++i) {
    EXPECT_EQ(pa.lines[i].net_profit, pb.lines[i].net_profit);
    EXPECT_EQ(pa.lines[i].shared_allocated, pb.lines[i].shared_allocated);
  }
  EXPECT_EQ(pa.shared_cost, pb.shared_cost);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, HandFactoryTest, ::testing::Values("Sqlite", "Postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tally::analytics
