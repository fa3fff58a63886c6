// Issue 3 "Done when": two tally nodes sharing one store folder and one
// redis-server, 64 concurrent clients split over both, check-and-reserve
// $0.01-$0.50 for one agent with a $10 daily budget: the admitted estimates
// never total more than $10; after each admitted call is ingested with its
// reservation_id and an actual cost <= its estimate, the agent's spend is
// exactly the sum of the ingested costs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

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

struct Admitted {
  std::string reservation_id;
  std::int64_t estimate = 0;
  int node = 0;
};

std::int64_t Micros(const json::value& v) {
  auto m = core::Money::Parse(std::string(v.as_string()));
  EXPECT_TRUE(m) << json::serialize(v);
  return m ? m->micros() : -1;
}

TEST(BudgetTwoNodesTest, SharedRedisNeverAdmitsMoreThanTheBudgetAndSettlesExactly) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,read,admin");
  ASSERT_TRUE(key);
  std::string secret = *key;

  ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
  testing::ServerProcess node_a(TALLY_BINARY, data);
  ASSERT_TRUE(node_a.Start());
  testing::ServerProcess node_b(TALLY_BINARY, data);
  ASSERT_TRUE(node_b.Start());
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  const std::uint16_t ports[2] = {node_a.port(), node_b.port()};

  {
    testing::HttpClient http("127.0.0.1", ports[0]);
    http.SetBearer(secret);
    auto r = http.Post("/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10"})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  // Node B caches agents for agent_cache_ttl; make sure both see the budget
  // before the race starts.
  for (int n = 0; n < 2; ++n) {
    testing::HttpClient http("127.0.0.1", ports[n]);
    http.SetBearer(secret);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; ++i) {
      auto r = http.Get("/v1/budget/kev");
      ASSERT_TRUE(r);
      seen = r->status == 200 && r->body.find("\"limit\":\"10") != std::string::npos;
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(seen) << "node " << n << " never saw the budget";
  }

  constexpr int kClients = 64;
  constexpr int kChecksPerClient = 6;
  std::mutex mu;
  std::vector<Admitted> admitted;
  std::atomic<int> errors = 0, denied = 0;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      int node = c % 2;
      testing::HttpClient http("127.0.0.1", ports[node]);
      http.SetBearer(secret);
      std::mt19937_64 rng(1000 + c);
      std::uniform_int_distribution<std::int64_t> cents(1, 50);
      for (int i = 0; i < kChecksPerClient; ++i) {
        std::int64_t estimate = cents(rng) * 10'000;
        auto r = http.Post("/v1/budget/check",
                           fmt::format(R"({{"agent_id":"kev","estimated_cost_usd":"{}","reserve":true}})",
                                       core::Money::FromMicros(estimate).ToString()));
        if (!r || r->status != 200) {
          ++errors;
          continue;
        }
        json::value doc = json::parse(r->body);
        if (doc.at("allowed").as_bool()) {
          std::lock_guard lock(mu);
          admitted.push_back({std::string(doc.at("reservation_id").as_string()), estimate, node});
        } else {
          ++denied;
          EXPECT_EQ(doc.at("reason").as_string(), "budget_exceeded") << r->body;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(errors.load(), 0);
  std::int64_t admitted_total = 0;
  for (const auto& a : admitted) admitted_total += a.estimate;
  EXPECT_LE(admitted_total, 10'000'000) << admitted.size() << " admitted";
  EXPECT_GT(denied.load(), 0) << "the run must exhaust the budget";
  EXPECT_GT(admitted.size(), 0u);

  // Settle: one llm_call per admitted reservation, on the node that admitted
  // it, with an actual cost <= its estimate.
  std::int64_t ingested_total = 0;
  std::string bodies[2];
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < admitted.size(); ++i) {
    const auto& a = admitted[i];
    std::int64_t actual = std::uniform_int_distribution<std::int64_t>(1, a.estimate)(rng);
    ingested_total += actual;
    bodies[a.node] += fmt::format(
        R"({{"event_id":"call-{}","time":{},"agent_id":"kev","model":"gpt-4o-mini","provider":"openai",)"
        R"("input_tokens":100,"output_tokens":10,"latency_ms":500,"cost_usd":"{}","status":"success","reservation_id":"{}"}})"
        "\n",
        i, now_ms, core::Money::FromMicros(actual).ToString(), a.reservation_id);
  }
  for (int n = 0; n < 2; ++n) {
    if (bodies[n].empty()) continue;
    testing::HttpClient http("127.0.0.1", ports[n]);
    http.SetBearer(secret);
    auto r = http.Post("/v1/events/llm_calls", bodies[n], "application/x-ndjson");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  for (int n = 0; n < 2; ++n) {
    testing::HttpClient http("127.0.0.1", ports[n]);
    http.SetBearer(secret);
    auto r = http.Get("/v1/budget/kev");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json::value doc = json::parse(r->body);
    EXPECT_EQ(Micros(doc.at("spent")), ingested_total) << "node " << n << ": " << r->body;
    EXPECT_EQ(Micros(doc.at("reserved")), 0) << "node " << n << ": " << r->body;
  }
  node_a.Kill(15);
  node_b.Kill(15);
}

// Issue 3 item 5: in Redis mode the kill switches live in Redis and are read
// by the check's script, so a pause through node A denies node B's very next
// check (node B's own agent cache still says active), and a resume through A
// is seen by B's next check as well. Same for the factory switch.
TEST(BudgetTwoNodesTest, KillSwitchThroughOneNodeIsSeenByTheOtherAtOnce) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,read,admin");
  ASSERT_TRUE(key);
  ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
  testing::ServerProcess node_a(TALLY_BINARY, data);
  ASSERT_TRUE(node_a.Start());
  testing::ServerProcess node_b(TALLY_BINARY, data);
  ASSERT_TRUE(node_b.Start());
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  testing::HttpClient a("127.0.0.1", node_a.port());
  a.SetBearer(*key);
  testing::HttpClient b("127.0.0.1", node_b.port());
  b.SetBearer(*key);
  auto r = a.Post("/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;

  auto check_b = [&] {
    auto c = b.Post("/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":"0.01","reserve":false})");
    EXPECT_TRUE(c);
    EXPECT_EQ(c->status, 200) << c->body;
    return json::parse(c->body);
  };
  EXPECT_TRUE(check_b().at("allowed").as_bool());  // node B caches kev as active now

  r = a.Post("/v1/agents/kev/pause", R"({"reason":"looping on the same file"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json::value denied = check_b();
  EXPECT_FALSE(denied.at("allowed").as_bool()) << json::serialize(denied);
  EXPECT_EQ(denied.at("reason"), "agent_paused");

  r = a.Post("/v1/agents/kev/resume", R"({"reason":"fixed"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(check_b().at("allowed").as_bool());

  r = a.Post("/v1/factory/pause", R"({"reason":"incident"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json::value factory = check_b();
  EXPECT_FALSE(factory.at("allowed").as_bool());
  EXPECT_EQ(factory.at("reason"), "factory_paused");
  r = a.Post("/v1/factory/resume", "{}");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(check_b().at("allowed").as_bool());
  node_a.Kill(15);
  node_b.Kill(15);
}

}  // namespace
}  // namespace tally
