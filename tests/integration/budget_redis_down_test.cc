// Issue 3 item 6 end to end: `tally serve` with Redis; redis-server is killed
// mid-run and restarted empty. With the default policy (shadow) checks keep
// answering from the node's own counters, flagged degraded, and /readyz and
// /metrics show it; once Redis is back the node reconciles (on its ingest
// writer thread) and the counters equal the store's: the calls ingested
// before and during the outage each count once.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "core/money.h"
#include "support/http_client.h"
#include "support/redis_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

namespace json = boost::json;

std::string Call(int i, std::int64_t now_ms, const char* cost) {
  return fmt::format(
      R"({{"event_id":"call-{}","time":{},"agent_id":"kev","model":"gpt-4o-mini","provider":"openai",)"
      R"("input_tokens":100,"output_tokens":10,"latency_ms":500,"cost_usd":"{}","status":"success"}})",
      i, now_ms, cost);
}

TEST(BudgetRedisDownTest, ShadowWhileDownThenReconciledCountsEachCallOnce) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,read,admin");
  ASSERT_TRUE(key);
  // Runaway detection off: these few calls within a minute are a "spike".
  std::string config = dir.str() + "/tally.toml";
  {
    FILE* f = std::fopen(config.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("[budget]\nrunaway_usd_per_min = \"0\"\nrunaway_floor_usd_per_min = \"1000\"\n", f);
    std::fclose(f);
  }
  ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
  testing::ServerProcess node(TALLY_BINARY, data, {"--config", config});
  ASSERT_TRUE(node.Start());
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  testing::HttpClient http("127.0.0.1", node.port());
  http.SetBearer(*key);
  auto r = http.Post("/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"100"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  r = http.Post("/v1/events/llm_calls", Call(1, now_ms, "1.25"), "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;

  auto check = [&] {
    auto c = http.Post("/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":"0.01","reserve":false})");
    EXPECT_TRUE(c);
    EXPECT_EQ(c->status, 200) << c->body;
    return json::parse(c->body);
  };
  json::value up = check();
  EXPECT_FALSE(up.at("degraded").as_bool());
  EXPECT_EQ(up.at("spent"), "1.25");

  redis.Stop();
  // Ingest still commits; Redis misses it, the node's own counters do not.
  r = http.Post("/v1/events/llm_calls", Call(2, now_ms, "0.50"), "application/x-ndjson");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json::value down = check();
  EXPECT_TRUE(down.at("degraded").as_bool()) << json::serialize(down);
  EXPECT_TRUE(down.at("allowed").as_bool());
  EXPECT_EQ(down.at("spent"), "1.75");
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  EXPECT_NE(ready->body.find("\"live_degraded\":true"), std::string::npos) << ready->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("tally_live_degraded 1"), std::string::npos);

  ASSERT_TRUE(redis.Restart());  // empty, as after a crash without persistence
  // Reconnection is due within the first backoff steps (0.5 s, 1 s, 2 s).
  json::value back;
  for (int i = 0; i < 80; ++i) {
    back = check();
    if (!back.at("degraded").as_bool()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(back.at("degraded").as_bool()) << json::serialize(back);
  EXPECT_EQ(back.at("spent"), "1.75");  // both calls, once each
  r = http.Post("/v1/events/llm_calls", Call(3, now_ms, "0.25"), "application/x-ndjson");
  ASSERT_TRUE(r);
  EXPECT_EQ(check().at("spent"), "2.00");
  ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_NE(ready->body.find("\"live_degraded\":false"), std::string::npos) << ready->body;
  metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("tally_live_degraded 0"), std::string::npos);
  node.Kill(15);
}

}  // namespace
}  // namespace tally
