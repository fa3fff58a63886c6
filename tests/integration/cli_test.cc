// The CLI on the real binary: keys, ingest (NDJSON and CSV, idempotent
// re-runs, whole-batch rejection), read-only sql, demo seed.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

using testing::RunCommand;

class CliTest : public ::testing::Test {
 protected:
  std::string data() const { return dir_.str() + "/data"; }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.str() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // Runs the binary, returning exit code and combined output.
  std::pair<int, std::string> Run(const std::string& args) {
    std::string cmd = std::string(TALLY_BINARY) + " " + args + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
    int rc = pclose(pipe);
    return {WEXITSTATUS(rc), out};
  }
  testing::TempDir dir_;
};

TEST_F(CliTest, IngestNdjsonTwiceStoresOnce) {
  std::string file = Write("llm_calls.ndjson",
                           R"({"time":"2026-03-01T12:00:00Z","agent_id":"kev","model":"gpt-4o","provider":"openai","input_tokens":1000,"output_tokens":100,"latency_ms":800,"status":"success"})"
                           "\n"
                           R"({"time":"2026-03-01T12:01:00Z","agent_id":"kev","model":"gpt-4o","provider":"openai","input_tokens":2000,"output_tokens":50,"cost_usd":"0.01","latency_ms":700,"status":"error","error_type":"overloaded"})"
                           "\n");
  auto [rc, out] = Run("ingest --quiet --data " + data() + " " + file);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("2 stored, 0 already there"), std::string::npos) << out;
  auto [rc2, out2] = Run("ingest --quiet --data " + data() + " " + file);
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find("0 stored, 2 already there"), std::string::npos) << out2;
  auto [rc3, out3] = Run("sql --json --data " + data() + " \"SELECT count(*) FROM llm_calls\"");
  ASSERT_EQ(rc3, 0) << out3;
  EXPECT_NE(out3.find("[[2]]"), std::string::npos) << out3;
}

TEST_F(CliTest, IngestCsvWithTableFlag) {
  std::string file = Write("costs.csv",
                           "time,cost_type,provider,amount_usd,product_id\n"
                           "2026-03-01T00:00:00Z,hosting,vercel,20.00,\n"
                           "1772409600,database,neon,4.5000,7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11\n");
  auto [rc, out] = Run("ingest --quiet --table infra_costs --data " + data() + " " + file);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("2 stored"), std::string::npos) << out;
  auto [rc2, out2] = Run("sql --json --data " + data() + " \"SELECT sum(amount_usd) FROM infra_costs\"");
  EXPECT_NE(out2.find("[[24500000]]"), std::string::npos) << out2;
}

TEST_F(CliTest, IngestRejectsABadBatchWholeNamingTheEvent) {
  std::string file = Write("task_events.ndjson",
                           R"({"time":"2026-03-01T12:00:00Z","task_id":"7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11","agent_id":"kev","task_type":"build","status":"started"})"
                           "\n"
                           R"({"time":"2026-03-01T12:00:00","task_id":"7b0c2a4e-0a6b-4c3e-9a51-0d7f3e2a9b11","agent_id":"kev","task_type":"build","status":"completed"})"
                           "\n");
  auto [rc, out] = Run("ingest --quiet --data " + data() + " " + file);
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("[1] time"), std::string::npos) << out;
  auto [rc2, out2] = Run("sql --json --data " + data() + " \"SELECT count(*) FROM task_events\"");
  EXPECT_NE(out2.find("[[0]]"), std::string::npos) << out2;
}

TEST_F(CliTest, SqlRefusesWrites) {
  ASSERT_EQ(Run("migrate --data " + data()).first, 0);
  auto [rc, out] = Run("sql --data " + data() + " \"DELETE FROM llm_calls\"");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("read-only"), std::string::npos) << out;
}

TEST_F(CliTest, KeysCreateListRevoke) {
  auto [rc, out] = Run("keys create --scope ingest --name collector --data " + data());
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("tally_"), std::string::npos);
  auto [rc2, list] = Run("keys list --data " + data());
  ASSERT_EQ(rc2, 0);
  EXPECT_NE(list.find("collector"), std::string::npos) << list;
  std::string id = list.substr(list.find("key_"), 16);
  EXPECT_EQ(Run("keys revoke " + id + " --data " + data()).first, 0);
  EXPECT_EQ(Run("keys revoke key_nonexistent --data " + data()).first, 1);
  EXPECT_EQ(Run("keys create --scope superuser --data " + data()).first, 1);
}

// [business] time_zone through the environment: `tally rollups rebuild`
// re-cuts the day buckets in that zone and the analytics CLI answers in it.
TEST_F(CliTest, RollupsRebuildCutsDaysInTheConfiguredBusinessZone) {
  std::string file = Write("infra.csv",
                           "time,cost_type,provider,amount_usd\n"
                           "2026-03-01T02:00:00Z,hosting,vercel,20.00\n"
                           "2026-03-01T12:00:00Z,hosting,vercel,5.00\n");
  auto [rc, out] = Run("ingest --quiet --table infra_costs --data " + data() + " " + file);
  ASSERT_EQ(rc, 0) << out;
  const std::string days =
      "sql --json --data " + data() + " \"SELECT bucket, total_cost FROM infra_costs_daily ORDER BY 1\"";
  auto [rc2, utc] = Run(days);
  ASSERT_EQ(rc2, 0) << utc;
  EXPECT_NE(utc.find("[[1772323200000000,25000000]]"), std::string::npos) << utc;  // Mar 1 00:00Z

  auto [rc3, rebuilt] = Run("rollups rebuild --data " + data() + " --time-zone America/New_York");
  ASSERT_EQ(rc3, 0) << rebuilt;
  EXPECT_NE(rebuilt.find("America/New_York"), std::string::npos) << rebuilt;
  auto [rc4, ny] = Run(days);
  ASSERT_EQ(rc4, 0) << ny;
  // 02:00Z is Feb 28 in New York (bucket 05:00Z Feb 28), 12:00Z is Mar 1 (05:00Z Mar 1).
  EXPECT_NE(ny.find("[[1772254800000000,20000000],[1772341200000000,5000000]]"), std::string::npos)
      << ny;
  auto [rc5, pnl] = Run("pnl --json --from 2026-03-01 --to 2026-03-02 --data " + data());
  ASSERT_EQ(rc5, 0) << pnl;
  EXPECT_NE(pnl.find("\"time_zone\":\"America/New_York\""), std::string::npos) << pnl;
  EXPECT_NE(pnl.find("\"shared_cost\":\"5.00\""), std::string::npos) << pnl;
}

TEST_F(CliTest, DemoSeedIsDeterministicAndIdempotent) {
  auto [rc, out] = Run("demo seed --days 3 --seed 7 --data " + data());
  ASSERT_EQ(rc, 0) << out;
  auto [rc2, out2] = Run("demo seed --days 3 --seed 7 --data " + data());
  ASSERT_EQ(rc2, 0) << out2;
  EXPECT_NE(out2.find(" 0 events stored"), std::string::npos) << out2;
  auto [rc3, out3] = Run("demo seed --if-empty --data " + data());
  EXPECT_NE(out3.find("skipped"), std::string::npos) << out3;
  auto [rc4, counts] = Run("sql --json --data " + data() +
                           " \"SELECT (SELECT count(*) FROM agents), (SELECT count(*) FROM products), "
                           "(SELECT count(*) > 1000 FROM llm_calls), (SELECT count(*) > 0 FROM revenue_events)\"");
  ASSERT_EQ(rc4, 0) << counts;
  EXPECT_NE(counts.find(",1,1]]"), std::string::npos) << counts;
}

TEST_F(CliTest, ServePrintsABootstrapAdminKeyOnlyWhenNoKeyExists) {
  ASSERT_EQ(Run("migrate --data " + data()).first, 0);
  std::string log = dir_.str() + "/serve.log";
  // Start, capture stdout, stop: the server prints the key before listening.
  std::string cmd = std::string(TALLY_BINARY) + " serve --listen 127.0.0.1:0 --data " + data() +
                    " --port-file " + dir_.str() + "/port > " + log + " 2>&1 & echo $!";
  auto pid_text = RunCommand("sh", {"-c", cmd});
  ASSERT_TRUE(pid_text);
  for (int i = 0; i < 1500; ++i) {  // bounded wait for the port file
    std::ifstream in(dir_.str() + "/port");
    int port = 0;
    if (in >> port && port > 0) break;
    usleep(20'000);
  }
  RunCommand("kill", {std::to_string(std::stoi(*pid_text))});
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("tally_"), std::string::npos) << text;
  auto [rc, list] = Run("keys list --data " + data());
  EXPECT_NE(list.find("admin"), std::string::npos) << list;
}

}  // namespace
}  // namespace tally
