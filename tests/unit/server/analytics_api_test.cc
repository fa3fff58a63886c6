// The read-scope analytics API over real sockets and a real store:
// /v1/pnl, /v1/kpis, /v1/roi/*, /v1/overview, /v1/{agents,products}/{id}/stats.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ingest/pipeline.h"
#include "model/price_table.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "support/events.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/simulated_clock.h"
#include "support/temp_dir.h"

namespace tally::server {
namespace {

namespace json = boost::json;
constexpr std::int64_t kMar1 = 1'772'323'200'000'000;  // 2026-03-01T00:00:00Z
constexpr std::int64_t kHour = 3'600'000'000;
const std::string kAlpha = "11111111-1111-4111-8111-111111111111";

class AnalyticsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    prices_ = model::PriceTable::Defaults();
    testing::InProcessServerOptions options;
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    port_ = server_->port();
    auto key = CreateApiKey(*store_, store::kScopeRead, "reader", clock_.Now());
    ASSERT_TRUE(key);
    key_ = key->secret;

    // alpha: $100 revenue, a completed $4 task, $5 hosting; $10 shared hosting.
    model::Product alpha{kAlpha,
                         "alpha",
                         "micro-saas",
                         "active",
                         core::FromMicros(kMar1 - 9 * 24 * kHour),
                         "one-time",
                         {},
                         "",
                         core::FromMicros(kMar1 - 19 * 24 * kHour)};
    ASSERT_TRUE(store_->PutProduct(alpha));
    model::LlmCall call = tally::testing::MakeCall("c1", 3'000'000, kMar1 + 10 * kHour);
    call.task_id = "00000000-0000-4000-8000-000000000001";
    model::TaskEvent task;
    task.event_id = "t1";
    task.time = core::FromMicros(kMar1 + 11 * kHour);
    task.task_id = *call.task_id;
    task.agent_id = "kev";
    task.product_id = kAlpha;
    task.task_type = "build";
    task.status = model::TaskStatus::kCompleted;
    task.total_cost_usd = core::Money::FromMicros(4'000'000);
    task.duration_ms = 3'600'000;
    model::RevenueEvent sale;
    sale.event_id = "r1";
    sale.time = core::FromMicros(kMar1 + 12 * kHour);
    sale.product_id = kAlpha;
    sale.amount_usd = core::Money::FromMicros(100'000'000);
    model::InfraCost hosting;
    hosting.event_id = "i1";
    hosting.time = core::FromMicros(kMar1);
    hosting.product_id = kAlpha;
    hosting.cost_type = "hosting";
    hosting.provider = "vercel";
    hosting.amount_usd = core::Money::FromMicros(5'000'000);
    model::InfraCost shared = hosting;
    shared.event_id = "i2";
    shared.product_id.reset();
    shared.amount_usd = core::Money::FromMicros(10'000'000);
    model::Batch batch{"test", {call, task, sale, hosting, shared}};
    const model::Batch* one[] = {&batch};
    ASSERT_TRUE(store_->Append(one));
  }
  void TearDown() override {
    server_->Stop();
  }

  json::object GetJson(const std::string& target, int want_status = 200) {
    testing::HttpClient c("127.0.0.1", port_);
    c.SetBearer(key_);
    auto r = c.Get(target);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, want_status) << target << ": " << r->body;
    return json::parse(r->body).as_object();
  }

  testing::TempDir dir_;
  testing::SimulatedClock clock_{core::FromMicros(kMar1 + 20 * kHour)};
  std::unique_ptr<store::SqliteStore> store_;
  model::PriceTable prices_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::uint16_t port_ = 0;
  std::string key_;
};

TEST_F(AnalyticsApiTest, PnlGivesExactMoneyAndTheSharedCost) {
  auto body = GetJson("/v1/pnl?from=2026-03-01&to=2026-03-02&granularity=total");
  // Cost: LLM 3 + tool (4 - 3) + infra 15 = 19; alpha costs 4 + 5; shared 10.
  EXPECT_EQ(body["totals"].as_object()["total_cost"].as_string(), "19.00");
  EXPECT_EQ(body["totals"].as_object()["shared_cost"].as_string(), "10.00");
  auto& line = body["products"].as_array().at(0).as_object();
  EXPECT_EQ(line["product_name"].as_string(), "alpha");
  EXPECT_EQ(line["net_profit"].as_string(), "91.00");
  EXPECT_EQ(line["fully_loaded_profit"].as_string(), "81.00");  // the only product takes all 10
  ASSERT_EQ(body["series"].as_array().size(), 1u);
  EXPECT_EQ(body["series"].as_array().at(0).as_object()["bucket"].as_string(),
            "2026-03-01T00:00:00Z");
  // By name too.
  auto one = GetJson("/v1/pnl?from=2026-03-01&to=2026-03-02&product=alpha");
  EXPECT_EQ(one["products"].as_array().size(), 1u);
}

TEST_F(AnalyticsApiTest, KpisRoiStatsAndOverviewAnswer) {
  auto kpis = GetJson("/v1/kpis?from=2026-03-01&to=2026-03-02");
  bool found = false;
  for (const auto& k : kpis["factory"].as_array()) {
    if (k.as_object().at("key").as_string() == "net_profit") {
      found = true;
      EXPECT_DOUBLE_EQ(k.as_object().at("value").as_double(), 81.0);  // 100 - 19
      EXPECT_EQ(k.as_object().at("status").as_string(), "ok");
    }
  }
  EXPECT_TRUE(found);
  auto roi = GetJson("/v1/roi/products?from=2026-03-01&to=2026-03-02");
  EXPECT_DOUBLE_EQ(roi["items"].as_array().at(0).as_object()["roi_percent"].as_double(),
                   91.0 / 9.0 * 100);
  auto agents = GetJson("/v1/roi/agents?from=2026-03-01&to=2026-03-02");
  // kev: all of alpha's task hours: 100 attributed over 3 + 1 = 4 -> 2400%.
  EXPECT_DOUBLE_EQ(agents["items"].as_array().at(0).as_object()["roi_percent"].as_double(), 2400.0);
  auto kev = GetJson("/v1/agents/kev/stats?from=2026-03-01&to=2026-03-02");
  EXPECT_EQ(kev["llm_cost"].as_string(), "3.00");
  auto alpha = GetJson("/v1/products/" + kAlpha + "/stats?from=2026-03-01&to=2026-03-02");
  EXPECT_EQ(alpha["pnl"].as_object()["revenue"].as_string(), "100.00");
  auto overview = GetJson("/v1/overview");
  EXPECT_EQ(overview["today"].as_object()["cost"].as_string(), "19.00");
  EXPECT_EQ(overview["mtd"].as_object()["revenue"].as_string(), "100.00");
  EXPECT_EQ(overview["cost_per_hour_24h"].as_array().size(), 24u);
  EXPECT_EQ(overview["active_agents"].as_object()["active"].as_int64(), 1);
}

// Los Angeles is UTC-8 on Mar 1 (DST starts Mar 8): its Mar 1 runs from
// 08:00Z Mar 1 to 08:00Z Mar 2. The hosting costs at 00:00Z Mar 1 fall on
// Feb 28 there; the call, task and sale on Mar 1.
TEST_F(AnalyticsApiTest, BusinessTimeZoneDecidesWhichDayAnEventBelongsTo) {
  ASSERT_TRUE(store_->SetRollupTimeZone("America/Los_Angeles"));
  auto mar1 = GetJson("/v1/pnl?from=2026-03-01&to=2026-03-02&granularity=total");
  EXPECT_EQ(mar1["period"].as_object()["from"].as_string(), "2026-03-01T08:00:00Z");
  EXPECT_EQ(mar1["period"].as_object()["time_zone"].as_string(), "America/Los_Angeles");
  // LLM 3 + tool 1; no infra on this local day.
  EXPECT_EQ(mar1["totals"].as_object()["total_cost"].as_string(), "4.00");
  EXPECT_EQ(mar1["totals"].as_object()["shared_cost"].as_string(), "0.00");
  EXPECT_EQ(mar1["products"].as_array().at(0).as_object()["net_profit"].as_string(), "96.00");

  auto feb28 = GetJson("/v1/pnl?from=2026-02-28&to=2026-03-01&granularity=total");
  EXPECT_EQ(feb28["totals"].as_object()["total_cost"].as_string(), "15.00");
  EXPECT_EQ(feb28["totals"].as_object()["shared_cost"].as_string(), "10.00");
  EXPECT_EQ(feb28["products"].as_array().at(0).as_object()["net_profit"].as_string(), "-5.00");

  // Weeks start on local Monday: Feb 28 and Mar 1 (a Sunday) share the week
  // of Monday Feb 23.
  auto weeks = GetJson("/v1/pnl?from=2026-02-23&to=2026-03-09&granularity=week");
  ASSERT_EQ(weeks["series"].as_array().size(), 1u);
  EXPECT_EQ(weeks["series"].as_array().at(0).as_object()["bucket"].as_string(),
            "2026-02-23T08:00:00Z");

  // The clock is 20:00Z Mar 1 = noon in Los Angeles: today is local Mar 1.
  auto overview = GetJson("/v1/overview");
  EXPECT_EQ(overview["today"].as_object()["cost"].as_string(), "4.00");
  EXPECT_EQ(overview["mtd"].as_object()["revenue"].as_string(), "100.00");
  EXPECT_EQ(overview["time_zone"].as_string(), "America/Los_Angeles");

  GetJson("/v1/kpis?tz=America/Los_Angeles&from=2026-03-01&to=2026-03-02", 200);
  auto other = GetJson("/v1/kpis?tz=Europe/Paris", 400);
  EXPECT_NE(json::serialize(other).find("America/Los_Angeles"), std::string::npos);
  GetJson("/v1/pnl?from=2026-02-30&to=2026-03-02", 400);
}

TEST_F(AnalyticsApiTest, BadParametersAreNamedAndUnknownIdsAre404) {
  auto bad = GetJson("/v1/pnl?granularity=hourly", 400);
  EXPECT_NE(json::serialize(bad).find("hourly"), std::string::npos);
  auto tz = GetJson("/v1/kpis?tz=Europe/Paris", 400);
  EXPECT_NE(json::serialize(tz).find("Europe/Paris"), std::string::npos);
  GetJson("/v1/pnl?from=2026-03-02&to=2026-03-01", 400);
  GetJson("/v1/products/nope/stats", 404);
  GetJson("/v1/agents/nobody/stats", 404);
}

}  // namespace
}  // namespace tally::server
