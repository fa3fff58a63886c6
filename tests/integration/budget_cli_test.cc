// `tally agents pause|resume ID`, `tally factory pause|resume` on the real
// binary: through a running server (memory backend), and straight into the
// store + Redis (every node's next check); the audit log records who and why.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "support/http_client.h"
#include "support/redis_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

std::pair<int, std::string> Shell(const std::string& cmd) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  int rc = pclose(pipe);
  return {WEXITSTATUS(rc), out};
}

std::string Check(testing::HttpClient& http) {
  auto r = http.Post("/v1/budget/check", R"({"agent_id":"kev","estimated_cost_usd":"0.01","reserve":false})");
  EXPECT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  return r->body;
}

TEST(BudgetCliTest, AgentsAndFactoryPauseThroughTheRunningServerAreAudited) {
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,admin");
  ASSERT_TRUE(key);
  testing::ServerProcess server(TALLY_BINARY, data);
  ASSERT_TRUE(server.Start());
  testing::HttpClient http("127.0.0.1", server.port());
  http.SetBearer(*key);
  auto r = http.Post("/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  std::string via = " --server http://127.0.0.1:" + std::to_string(server.port()) + " --key " + *key;

  auto [rc, out] = Shell(std::string(TALLY_BINARY) + " agents pause kev --reason 'burning tokens'" + via);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"reason\":\"agent_paused\""), std::string::npos);
  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " agents resume kev --reason ok" + via);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"allowed\":true"), std::string::npos);
  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " factory pause --reason drill" + via);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"reason\":\"factory_paused\""), std::string::npos);
  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " factory resume" + via);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"allowed\":true"), std::string::npos);
  // Without --server and without Redis the factory switch would not reach
  // the server: refused with the hint.
  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " factory pause --data " + data);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("--server"), std::string::npos) << out;
  server.Kill(15);

  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " sql --data " + data +
                            " \"SELECT action || ' ' || target || ' ' || reason FROM audit_log ORDER BY id\"");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("kev burning tokens"), std::string::npos) << out;
  EXPECT_NE(out.find("factory drill"), std::string::npos) << out;
}

TEST(BudgetCliTest, WithRedisThePauseReachesTheServersNextCheck) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,admin");
  ASSERT_TRUE(key);
  ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
  testing::ServerProcess server(TALLY_BINARY, data);
  ASSERT_TRUE(server.Start());
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  testing::HttpClient http("127.0.0.1", server.port());
  http.SetBearer(*key);
  auto r = http.Post("/v1/agents", R"({"id":"kev","role":"builder","daily_budget":"10"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_NE(Check(http).find("\"allowed\":true"), std::string::npos);  // the server caches kev as active
  std::string env = "TALLY_LIVE_REDIS_URL=" + redis.url() + " ";
  auto [rc, out] = Shell(env + TALLY_BINARY + " agents pause kev --reason 'from the shell' --data " + data);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"reason\":\"agent_paused\""), std::string::npos);
  std::tie(rc, out) = Shell(env + TALLY_BINARY + " agents resume kev --data " + data);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Check(http).find("\"allowed\":true"), std::string::npos);
  std::tie(rc, out) = Shell(env + TALLY_BINARY + " agents pause nobody --data " + data);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("nobody"), std::string::npos) << out;
  server.Kill(15);
  std::tie(rc, out) = Shell(std::string(TALLY_BINARY) + " sql --data " + data +
                            " \"SELECT actor || ' ' || reason FROM audit_log WHERE target = 'kev' ORDER BY id\"");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("cli:"), std::string::npos) << out;
  EXPECT_NE(out.find("from the shell"), std::string::npos) << out;
}

}  // namespace
}  // namespace tally
