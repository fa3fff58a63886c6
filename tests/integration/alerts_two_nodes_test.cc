// Issue 8 "Done when": two real tally nodes sharing one store folder and one
// redis-server evaluate the alert rules on one leader at a time; when the
// leader is killed the other takes over within the lease; no alert is
// notified twice (deliveries counted at a local webhook receiver).
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "support/http_client.h"
#include "support/http_receiver.h"
#include "support/redis_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr int kLeaseSeconds = 2;

struct Status {
  bool leader = false;
  std::int64_t evaluations = 0;
};

class AlertsTwoNodesTest : public ::testing::Test {
 protected:
  Status Get(std::uint16_t port) {
    testing::HttpClient http("127.0.0.1", port);
    http.SetBearer(secret_);
    auto r = http.Get("/v1/alerts/status");
    EXPECT_TRUE(r);
    if (!r || r->status != 200) return {};
    auto o = json::parse(r->body).as_object();
    return {o.at("leader").as_bool(), o.at("evaluations").as_int64()};
  }
  void Post(std::uint16_t port, const std::string& path, const std::string& body,
            const std::string& type = "application/json") {
    testing::HttpClient http("127.0.0.1", port);
    http.SetBearer(secret_);
    auto r = http.Post(path, body, type);
    ASSERT_TRUE(r);
    ASSERT_LT(r->status, 300) << r->body;
  }
  void SpendNow(std::uint16_t port, const std::string& id, const char* usd) {
    auto now_ms = std::chrono::duration_cast<milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    Post(port, "/v1/events/llm_calls",
         fmt::format(R"({{"event_id":"{}","time":{},"agent_id":"kev","model":"gpt-4o-mini",)"
                     R"("provider":"openai","input_tokens":100,"output_tokens":10,"latency_ms":500,"cost_usd":"{}","status":"success"}})"
                     "\n",
                     id, now_ms, usd),
         "application/x-ndjson");
  }
  std::string secret_;
};

TEST_F(AlertsTwoNodesTest, OneLeaderEvaluatesTheOtherTakesOverWhenItDiesAndNothingIsSentTwice) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::HttpReceiver receiver;
  receiver.Accept("POST", "/hook");
  receiver.Start();
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,read,admin");
  ASSERT_TRUE(key);
  secret_ = *key;
  std::string config = dir.str() + "/tally.toml";
  std::ofstream(config) << fmt::format(R"([alerts]
interval_seconds = 1
lease_seconds = {}
backoff_ms = 50
[alerts.rules.cost_velocity]
enabled = false
[alerts.webhook]
url = "{}/hook"
)",
                                       kLeaseSeconds, receiver.url());

  ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
  testing::ServerProcess node_a(TALLY_BINARY, data, {"--config", config});
  ASSERT_TRUE(node_a.Start());
  testing::ServerProcess node_b(TALLY_BINARY, data, {"--config", config});
  ASSERT_TRUE(node_b.Start());
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  testing::ServerProcess* nodes[2] = {&node_a, &node_b};

  Post(node_a.port(), "/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10"})");
  SpendNow(node_b.port(), "call-1", "8.50");  // 85%: budget_warning

  ASSERT_TRUE(receiver.WaitFor(1, std::chrono::seconds(20))) << "no alert was delivered";
  auto first = json::parse(receiver.requests()[0].body).as_object();
  EXPECT_EQ(first.at("alert").at("rule").as_string(), "budget_warning");
  EXPECT_EQ(first.at("text").as_string(),
            fmt::format("[warning] kev at 85% of its daily budget ($8.50 of $10.00) (alert {}, budget_warning)",
                        first.at("alert").at("id").as_int64()));

  // Exactly one node leads, and only it evaluates, over three seconds.
  Status a0 = Get(node_a.port()), b0 = Get(node_b.port());
  ASSERT_NE(a0.leader, b0.leader) << "leaders: a=" << a0.leader << " b=" << b0.leader;
  std::this_thread::sleep_for(std::chrono::seconds(3));  // real nodes, real time
  Status a1 = Get(node_a.port()), b1 = Get(node_b.port());
  int leader = a0.leader ? 0 : 1;
  Status l0 = leader == 0 ? a0 : b0, l1 = leader == 0 ? a1 : b1;
  Status f0 = leader == 0 ? b0 : a0, f1 = leader == 0 ? b1 : a1;
  EXPECT_TRUE(l1.leader);
  EXPECT_FALSE(f1.leader);
  EXPECT_GE(l1.evaluations - l0.evaluations, 2);
  EXPECT_EQ(f1.evaluations, f0.evaluations) << "the follower evaluated";

  // Kill the leader without a chance to release its lease.
  testing::ServerProcess& survivor = *nodes[1 - leader];
  auto killed_at = steady_clock::now();
  nodes[leader]->Kill(SIGKILL);
  bool took_over = false;
  while (steady_clock::now() - killed_at < std::chrono::seconds(10)) {
    if (Get(survivor.port()).leader) {
      took_over = true;
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  auto takeover = std::chrono::duration_cast<milliseconds>(steady_clock::now() - killed_at);
  ASSERT_TRUE(took_over);
  // The lease lapses at most kLeaseSeconds after the last renewal, and the
  // survivor retries every lease/3; 500 ms for polling and process noise.
  EXPECT_LE(takeover, milliseconds(kLeaseSeconds * 1000 + kLeaseSeconds * 1000 / 3 + 500))
      << "took over after " << takeover.count() << " ms";
  std::cout << "[ measured ] takeover after leader SIGKILL: " << takeover.count() << " ms\n";

  // The new leader evaluates the still-firing warning: refreshed, not re-sent.
  Status s0 = Get(survivor.port());
  while (Get(survivor.port()).evaluations < s0.evaluations + 3) std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(receiver.requests().size(), 1u) << "an alert was notified twice";

  // A new condition on the new leader is notified once, and pauses the agent.
  SpendNow(survivor.port(), "call-2", "2.00");  // 105%: budget_exhausted
  ASSERT_TRUE(receiver.WaitFor(2, std::chrono::seconds(20)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // two more evaluations
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 2u);
  auto second = json::parse(reqs[1].body).as_object();
  EXPECT_EQ(second.at("alert").at("rule").as_string(), "budget_exhausted");
  EXPECT_NE(std::string(second.at("text").as_string()).find("; paused at "), std::string::npos)
      << second.at("text").as_string();

  testing::HttpClient http("127.0.0.1", survivor.port());
  http.SetBearer(secret_);
  auto agent = http.Get("/v1/agents/kev");
  ASSERT_TRUE(agent);
  EXPECT_EQ(json::parse(agent->body).at("status").as_string(), "paused") << agent->body;
  auto list = http.Get("/v1/alerts?state=firing");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body).at("alerts").as_array().size(), 2u) << list->body;
}

}  // namespace
}  // namespace tally
