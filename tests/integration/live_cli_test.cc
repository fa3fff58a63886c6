// `tally live rebuild` on the real binary: straight into Redis when
// live.redis_url is set, through the running server otherwise.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

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

TEST(LiveCliTest, RebuildFillsRedisFromTheStore) {
  testing::RedisServer redis;
  ASSERT_TRUE(redis.Start());
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  ASSERT_EQ(Shell(std::string(TALLY_BINARY) + " demo seed --days 2 --data " + data).first, 0);
  auto [rc, out] = Shell("TALLY_LIVE_REDIS_URL=" + redis.url() + " " + TALLY_BINARY + " live rebuild --data " + data);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("rebuilt"), std::string::npos) << out;
  // The seed's month-to-date revenue key now holds the store's figure (integer micro-USD).
  auto [rc2, mtd] = Shell("redis-cli -p " + std::to_string(redis.port()) + " GET dash:revenue:mtd");
  ASSERT_EQ(rc2, 0) << mtd;
  EXPECT_GT(std::atoll(mtd.c_str()), 0) << mtd;
}

TEST(LiveCliTest, WithoutRedisItAsksTheRunningServer) {
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "admin");
  ASSERT_TRUE(key);
  std::string secret = *key;
  auto [rc0, hint] = Shell(std::string(TALLY_BINARY) + " live rebuild --data " + data);
  EXPECT_EQ(rc0, 1);
  EXPECT_NE(hint.find("--server"), std::string::npos) << hint;
  testing::ServerProcess server(TALLY_BINARY, data);
  ASSERT_TRUE(server.Start());
  auto [rc, out] = Shell(std::string(TALLY_BINARY) + " live rebuild --server http://127.0.0.1:" +
                         std::to_string(server.port()) + " --key " + secret);
  EXPECT_EQ(rc, 0) << out;
  server.Kill(15);
}

}  // namespace
}  // namespace tally
