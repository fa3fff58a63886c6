// Config: defaults < TOML file < TALLY_* environment.
#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include "support/temp_dir.h"

namespace tally::core {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  static constexpr const char* kVars[] = {"TALLY_LISTEN",       "TALLY_DATA",         "TALLY_MAX_BODY_BYTES",
                                          "TALLY_QUEUE_EVENTS", "TALLY_GROUP_EVENTS", "TALLY_PRICE_TABLE",
                                          "TALLY_LOG_LEVEL",    "TALLY_IO_THREADS",   "TALLY_PIPELINE_WRITERS"};
  // The environment is process-wide: save and clear the TALLY_* variables so
  // a developer's shell cannot change the outcome, and restore them after.
  void SetUp() override {
    for (const char* v : kVars) {
      if (const char* old = std::getenv(v)) saved_[v] = old;
      unsetenv(v);
    }
  }
  void TearDown() override {
    for (const char* v : kVars) unsetenv(v);
    for (const auto& [k, v] : saved_) setenv(k.c_str(), v.c_str(), 1);
  }
  std::string Write(const std::string& text) {
    std::string path = dir_.str() + "/tally.toml";
    std::ofstream(path) << text;
    return path;
  }

  testing::TempDir dir_;
  std::map<std::string, std::string> saved_;
};

TEST_F(ConfigTest, DefaultsAreSafeForAFreshInstall) {
  Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:8787");  // loopback only
  EXPECT_EQ(c.data_dir, "./tally-data");
  EXPECT_EQ(c.io_threads, 2);
  EXPECT_EQ(c.max_body_bytes, 32 * 1024 * 1024);
  EXPECT_TRUE(c.price_table.empty());
  EXPECT_EQ(c.log_level, "info");
}

TEST_F(ConfigTest, FileOverridesDefaultsKeyByKey) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write(R"(
[server]
listen = "0.0.0.0:9000"
threads = 4
max_body_bytes = 1048576

[store]
data_dir = "/var/lib/tally"

[pipeline]
queue_events = 1000
group_events = 100
writers = 1

[pricing]
price_table = "/etc/tally/prices.json"

[log]
level = "debug"
)"),
                             &c));
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.io_threads, 4);
  EXPECT_EQ(c.max_body_bytes, 1'048'576);
  EXPECT_EQ(c.data_dir, "/var/lib/tally");
  EXPECT_EQ(c.queue_events, 1000);
  EXPECT_EQ(c.group_events, 100);
  EXPECT_EQ(c.pipeline_writers, 1);
  EXPECT_EQ(c.price_table, "/etc/tally/prices.json");
  EXPECT_EQ(c.log_level, "debug");

  Config partial;
  ASSERT_TRUE(LoadConfigFile(Write("[log]\nlevel = \"warn\"\n"), &partial));
  EXPECT_EQ(partial.log_level, "warn");
  EXPECT_EQ(partial.listen, "127.0.0.1:8787");
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  Config c;
  auto s = LoadConfigFile(Write("[server]\nlisten_addr = \"0.0.0.0:1\"\n"), &c);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message().find("unknown key 'server.listen_addr'"), std::string::npos) << s.error().message();
  EXPECT_EQ(c.listen, "127.0.0.1:8787");
  EXPECT_FALSE(LoadConfigFile(Write("[serv]\nlisten = \"x\"\n"), &c));
  EXPECT_FALSE(LoadConfigFile(Write("listen = \"x\"\n"), &c));  // not in a section
}

TEST_F(ConfigTest, WrongTypesAndBadSyntaxAreErrors) {
  Config c;
  auto wrong = LoadConfigFile(Write("[server]\nthreads = \"four\"\n"), &c);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("server.threads"), std::string::npos);
  EXPECT_FALSE(LoadConfigFile(Write("[pipeline]\nqueue_events = -5\n"), &c));
  EXPECT_FALSE(LoadConfigFile(Write("[server]\nlisten = 8080\n"), &c));
  auto syntax = LoadConfigFile(Write("[server]\nlisten = \"unterminated\n"), &c);
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message().find("line 2"), std::string::npos) << syntax.error().message();
  EXPECT_FALSE(LoadConfigFile(dir_.str() + "/missing.toml", &c));
}

TEST_F(ConfigTest, EnvironmentOverridesTheFile) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write("[server]\nlisten = \"0.0.0.0:9000\"\nthreads = 4\n"), &c));
  setenv("TALLY_LISTEN", "127.0.0.1:1234", 1);
  setenv("TALLY_IO_THREADS", "8", 1);
  setenv("TALLY_DATA", "/tmp/t", 1);
  setenv("TALLY_QUEUE_EVENTS", "77", 1);
  setenv("TALLY_PRICE_TABLE", "/p.json", 1);
  setenv("TALLY_PIPELINE_WRITERS", "1", 1);
  ASSERT_TRUE(ApplyEnvironment(&c));
  EXPECT_EQ(c.listen, "127.0.0.1:1234");
  EXPECT_EQ(c.io_threads, 8);
  EXPECT_EQ(c.data_dir, "/tmp/t");
  EXPECT_EQ(c.queue_events, 77);
  EXPECT_EQ(c.price_table, "/p.json");
  EXPECT_EQ(c.pipeline_writers, 1);
  EXPECT_EQ(c.group_events, Config{}.group_events);  // unset: untouched
}

TEST_F(ConfigTest, LiveRedisUrlComesFromTheFileOrTheEnvironment) {
  Config c;
  EXPECT_EQ(c.live_redis_url, "");  // memory backend
  EXPECT_EQ(c.live_redis_prefix, "dash");
  ASSERT_TRUE(LoadConfigFile(Write("[live]\nredis_url = \"redis://10.0.0.5:6379/1\"\nredis_prefix = \"t1\"\n"), &c));
  EXPECT_EQ(c.live_redis_url, "redis://10.0.0.5:6379/1");
  EXPECT_EQ(c.live_redis_prefix, "t1");
  std::optional<std::string> saved;
  if (const char* old = std::getenv("TALLY_LIVE_REDIS_URL")) saved = old;
  setenv("TALLY_LIVE_REDIS_URL", "redis://127.0.0.1:6380/0", 1);
  auto s = ApplyEnvironment(&c);
  if (saved) setenv("TALLY_LIVE_REDIS_URL", saved->c_str(), 1);
  else unsetenv("TALLY_LIVE_REDIS_URL");
  ASSERT_TRUE(s);
  EXPECT_EQ(c.live_redis_url, "redis://127.0.0.1:6380/0");
}

TEST_F(ConfigTest, BadEnvironmentNumbersAreErrorsNamingTheVariable) {
  Config c;
  for (const char* bad : {"abc", "0", "-3", "12x", ""}) {
    setenv("TALLY_GROUP_EVENTS", bad, 1);
    auto s = ApplyEnvironment(&c);
    ASSERT_FALSE(s) << "accepted '" << bad << "'";
    EXPECT_NE(s.error().message().find("TALLY_GROUP_EVENTS"), std::string::npos);
  }
  EXPECT_EQ(c.group_events, Config{}.group_events);
}

}  // namespace
}  // namespace tally::core
