// Budgets, live counters and kill switches through the real router and HTTP
// server (as tests/unit/server/server_test.cc builds it), with the live
// counters wired to the pipeline's on_committed hook as `tally serve` does.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/clock.h"
#include "ingest/pipeline.h"
#include "live/budget_enforcer.h"
#include "live/memory/memory_accumulators.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/in_process_server.h"
#include "support/temp_dir.h"

namespace tally::server {
namespace {

namespace json = boost::json;
using ::tally::testing::HttpClient;

class LiveHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::Open(dir_.str());
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
    live_ = std::make_unique<live::MemoryAccumulators>(clock_, core::BusinessCalendar::Utc());
    enforcer_ = std::make_unique<live::BudgetEnforcer>(*live_, *store_, prices_, clock_, live::BudgetOptions{});
    ASSERT_TRUE(enforcer_->Init());
    ingest::PipelineObserver observer;
    observer.on_committed = [this](std::span<const model::Batch* const> b, std::span<const store::AppendStats> s) {
      (void)live_->Apply(live::NewlyStored(b, s));
    };
    testing::InProcessServerOptions options;
    options.observer = observer;
    options.configure = [this](Services& services) {
      services.live = live_.get();
      services.budget = enforcer_.get();
    };
    server_ = std::make_unique<testing::InProcessServer>(*store_, clock_, prices_, options);
    ASSERT_EQ(server_->start_error(), "");
    port_ = server_->port();
    admin_ = CreateApiKey(*store_, store::kScopeAdmin, "test", clock_.Now())->secret;
    reader_ = CreateApiKey(*store_, store::kScopeRead, "test", clock_.Now())->secret;
  }
  void TearDown() override {
    server_->Stop();
  }
  HttpClient Client(const std::string& key) {
    HttpClient c("127.0.0.1", port_);
    c.SetBearer(key);
    return c;
  }
  json::object PostJson(const std::string& key, const std::string& path, const std::string& body, int want = 200) {
    auto r = Client(key).Post(path, body);
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, want) << path << ": " << r->body;
    return json::parse(r->body).as_object();
  }
  json::object GetJson(const std::string& key, const std::string& path) {
    auto r = Client(key).Get(path);
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    return json::parse(r->body).as_object();
  }

  const core::Clock& clock_ = core::SystemClock::Instance();
  ::tally::testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  model::PriceTable prices_ = model::PriceTable::Defaults();
  std::unique_ptr<live::MemoryAccumulators> live_;
  std::unique_ptr<live::BudgetEnforcer> enforcer_;
  std::unique_ptr<testing::InProcessServer> server_;
  std::uint16_t port_ = 0;
  std::string admin_;
  std::string reader_;
};

TEST_F(LiveHttpTest, CheckReserveIngestSettleAndSeeItLive) {
  PostJson(admin_, "/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10.00"})", 201);
  auto d = PostJson(admin_, "/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":"9.50"})");
  EXPECT_TRUE(d["allowed"].as_bool());
  EXPECT_EQ(d["reserved"].as_string(), "9.50");
  EXPECT_EQ(d["remaining"].as_string(), "0.50");
  EXPECT_TRUE(d["warning"].as_bool());
  std::string reservation(d["reservation_id"].as_string());
  auto denied = PostJson(admin_, "/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":0.51})");
  EXPECT_FALSE(denied["allowed"].as_bool());
  EXPECT_EQ(denied["reason"].as_string(), "budget_exceeded");

  std::string call = R"({"event_id":"c1","time":")" + core::FormatRfc3339(clock_.Now()) +
                     R"(","agent_id":"kev","model":"gpt-4o","provider":"openai","input_tokens":10,)"
                     R"("output_tokens":10,"cost_usd":"1.25","latency_ms":5,"status":"success","reservation_id":")" +
                     reservation + R"("})";
  PostJson(admin_, "/v1/events/llm_calls", call);
  PostJson(admin_, "/v1/events/llm_calls", call);  // a retry: stored once, counted once

  auto status = GetJson(reader_, "/v1/budget/kev");
  EXPECT_EQ(status["spent"].as_string(), "1.25");
  EXPECT_EQ(status["reserved"].as_string(), "0.00");
  auto snap = GetJson(reader_, "/v1/live");
  ASSERT_EQ(snap["agents"].as_array().size(), 1u);
  EXPECT_EQ(snap["agents"].as_array()[0].as_object().at("spend_today").as_string(), "1.25");

  // A rebuild from the store gives the same counters.
  auto rebuilt = PostJson(admin_, "/v1/live/rebuild", "");
  EXPECT_EQ(rebuilt["agents"].as_array()[0].as_object().at("spend_today").as_string(), "1.25");
}

TEST_F(LiveHttpTest, KillSwitchesNeedAdminAndDenyChecks) {
  PostJson(admin_, "/v1/agents", R"({"id":"kev","role":"builder"})", 201);
  auto r = Client(reader_).Post("/v1/agents/kev/pause", "");
  EXPECT_EQ(r->status, 403);
  PostJson(admin_, "/v1/agents/kev/pause", R"({"reason":"looping on a test"})");
  auto d = PostJson(admin_, "/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":0.01})");
  EXPECT_EQ(d["reason"].as_string(), "agent_paused");
  PostJson(admin_, "/v1/agents/kev/resume", "");
  PostJson(admin_, "/v1/factory/pause", R"({"reason":"incident"})");
  EXPECT_TRUE(GetJson(reader_, "/v1/factory")["paused"].as_bool());
  d = PostJson(admin_, "/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":0.01})");
  EXPECT_EQ(d["reason"].as_string(), "factory_paused");
  PostJson(admin_, "/v1/factory/resume", "");
  d = PostJson(admin_, "/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":0.01})");
  EXPECT_TRUE(d["allowed"].as_bool());
  PostJson(admin_, "/v1/agents/ghost/pause", "", 404);
}

TEST_F(LiveHttpTest, BadCheckBodiesAre400NamingTheField) {
  auto r = Client(admin_).Post("/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":"1.2345678"})");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("estimated_cost_usd"), std::string::npos) << r->body;
  r = Client(admin_).Post("/v1/budget/check", R"({"agent_id":"kev","bogus":1})");
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("bogus"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace tally::server
