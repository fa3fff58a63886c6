// The durability promise end to end on the real binary: several clients
// stream >= 100k LLM calls; the server is SIGKILLed mid-stream and
// restarted. Every acknowledged event must be stored exactly once, and
// retrying every unacknowledged batch must store each of its events once.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

using testing::HttpClient;
using testing::ServerProcess;

constexpr int kClients = 4;
constexpr int kBatchesPerClient = 60;
constexpr int kBatchSize = 500;  // 4 * 60 * 500 = 120,000 events

std::string EventId(int client, int batch, int i) {
  return "c" + std::to_string(client) + "-b" + std::to_string(batch) + "-e" + std::to_string(i);
}

std::string BatchBody(int client, int batch) {
  std::string body;
  body.reserve(kBatchSize * 260);
  for (int i = 0; i < kBatchSize; ++i) {
    body += R"({"event_id":")" + EventId(client, batch, i) +
            R"(","time":1772366400123,"agent_id":"agent-)" + std::to_string(client) +
            R"(","model":"gpt-4o-mini","provider":"openai","input_tokens":1200,"cached_tokens":200,)"
            R"("output_tokens":300,"latency_ms":900,"status":"success"})";
    body += '\n';
  }
  return body;
}

struct Outcome {
  std::mutex mu;
  std::vector<std::pair<int, int>> acked;    // (client, batch)
  std::vector<std::pair<int, int>> unacked;  // sent or not, no 200 seen
};

TEST(CrashRecoveryTest, SigkillLosesNoAckedEventAndRetriesStoreEachOnce) {
  testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = testing::CreateKey(TALLY_BINARY, data, "ingest,read");
  ASSERT_TRUE(key) << key.error().ToString();
  std::string secret = *key;

  ServerProcess server(TALLY_BINARY, data);
  ASSERT_TRUE(server.Start());

  Outcome outcome;
  std::atomic<std::int64_t> acked_events = 0;
  std::atomic<bool> killed = false;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http("127.0.0.1", server.port());
      http.SetBearer(secret);
      for (int b = 0; b < kBatchesPerClient; ++b) {
        bool ok = false;
        if (!killed) {
          auto r = http.Post("/v1/events/llm_calls", BatchBody(c, b), "application/x-ndjson");
          ok = r && r->status == 200;
        }
        std::lock_guard lock(outcome.mu);
        (ok ? outcome.acked : outcome.unacked).emplace_back(c, b);
        if (ok) acked_events += kBatchSize;
      }
    });
  }
  // Kill once roughly 40% of the stream is acknowledged: commits are in flight.
  while (acked_events < kClients * kBatchesPerClient * kBatchSize * 4 / 10) {
    std::this_thread::yield();
  }
  server.Kill(SIGKILL);
  killed = true;
  for (auto& t : clients) t.join();
  ASSERT_FALSE(outcome.acked.empty());
  ASSERT_FALSE(outcome.unacked.empty()) << "the kill came too late to test anything";

  // Every acknowledged event survived the SIGKILL.
  {
    auto store = store::SqliteStore::Open(data);
    ASSERT_TRUE(store) << store.error().ToString();
    auto rows = (*store)->Query("SELECT event_id FROM llm_calls", 1'000'000);
    ASSERT_TRUE(rows);
    std::set<std::string> stored;
    for (const auto& row : rows->rows) stored.insert(std::get<std::string>(row[0]));
    EXPECT_EQ(stored.size(), rows->rows.size()) << "an event is stored twice";
    std::int64_t missing = 0;
    for (auto [c, b] : outcome.acked) {
      for (int i = 0; i < kBatchSize; ++i) missing += !stored.count(EventId(c, b, i));
    }
    EXPECT_EQ(missing, 0) << "acknowledged events were lost";
  }

  // Restart and retry everything that was not acknowledged.
  ASSERT_TRUE(server.Start());
  HttpClient http("127.0.0.1", server.port());
  http.SetBearer(secret);
  std::int64_t retried_accepted = 0, retried_duplicates = 0;
  for (auto [c, b] : outcome.unacked) {
    auto r = http.Post("/v1/events/llm_calls", BatchBody(c, b), "application/x-ndjson");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    auto accepted = std::stoll(r->body.substr(r->body.find("\"accepted\":") + 11));
    auto duplicates = std::stoll(r->body.substr(r->body.find("\"duplicates\":") + 13));
    EXPECT_EQ(accepted + duplicates, kBatchSize);
    retried_accepted += accepted;
    retried_duplicates += duplicates;
  }
  // And a retry of an acknowledged batch is all duplicates.
  auto [c0, b0] = outcome.acked.front();
  auto again = http.Post("/v1/events/llm_calls", BatchBody(c0, b0), "application/x-ndjson");
  ASSERT_EQ(again->status, 200);
  EXPECT_NE(again->body.find("\"accepted\":0"), std::string::npos) << again->body;

  auto count = http.Post("/v1/sql", R"({"sql":"SELECT count(*), count(DISTINCT event_id) FROM llm_calls"})");
  ASSERT_EQ(count->status, 200) << count->body;
  std::int64_t total = kClients * kBatchesPerClient * kBatchSize;
  std::string expected = "[[" + std::to_string(total) + "," + std::to_string(total) + "]]";
  EXPECT_NE(count->body.find(expected), std::string::npos) << count->body;
  std::cout << "[          ] acked before kill: " << outcome.acked.size() * kBatchSize
            << " events; retried: " << outcome.unacked.size() * kBatchSize << " (" << retried_accepted
            << " new, " << retried_duplicates << " committed before the kill but unacknowledged)\n";
  server.Kill(SIGTERM);
}

}  // namespace
}  // namespace tally
