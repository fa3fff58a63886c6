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
