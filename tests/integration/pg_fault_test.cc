// PostgreSQL fault tolerance end to end: the real `tally serve --store
// postgres://...`, clients ingesting LLM calls, and the PostgreSQL server
// killed (immediate shutdown, like a crash) and restarted mid-stream while
// tally keeps running. Every batch is retried by its client until
// acknowledged. Checks: while the database was down clients got 503 (never
// 500 or another error); ingestion resumed by itself once it was back (tally
// was not restarted); every event is stored exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "store/postgres/pg_store.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace tally {
namespace {

using testing::HttpClient;
using testing::ServerProcess;

constexpr int kClients = 4;
constexpr int kBatchesPerClient = 40;
constexpr int kBatchSize = 250;  // 4 * 40 * 250 = 40,000 events

std::string EventId(int client, int batch, int i) {
  return "c" + std::to_string(client) + "-b" + std::to_string(batch) + "-e" + std::to_string(i);
}

std::string BatchBody(int client, int batch) {
  std::string body;
  for (int i = 0; i < kBatchSize; ++i) {
    body += R"({"event_id":")" + EventId(client, batch, i) +
            R"(","time":1772366400123,"agent_id":"agent-)" + std::to_string(client) +
            R"(","model":"gpt-4o-mini","provider":"openai","input_tokens":1200,"cached_tokens":200,)"
            R"("output_tokens":300,"latency_ms":900,"status":"success"})";
    body += '\n';
  }
  return body;
}

TEST(PgFaultTest, PostgresRestartMidStreamGives503ThenResumesAndStoresEachEventOnce) {
  testing::PostgresServer pg;
  ASSERT_TRUE(pg.Start());
  auto url = pg.FreshDatabase();
  ASSERT_TRUE(url) << url.error().ToString();
  testing::TempDir dir;
  std::string data = dir.str() + "/data";

  auto out = testing::RunCommand(TALLY_BINARY, {"keys", "create", "--scope", "ingest,read",
                                                "--store", *url});
  ASSERT_TRUE(out) << out.error().ToString();
  const std::string secret = out->substr(0, out->find('\n'));

  ServerProcess server(TALLY_BINARY, data, {"--store", *url});
  ASSERT_TRUE(server.Start());

  std::mutex mu;
  std::map<int, std::int64_t> statuses;  // HTTP status (0: no response) -> count
  std::atomic<int> acked_batches = 0;
  std::atomic<bool> down = false;
  std::atomic<int> answers_while_down = 0;
  std::vector<std::thread> clients;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http("127.0.0.1", server.port());
      http.SetBearer(secret);
      for (int b = 0; b < kBatchesPerClient; ++b) {
        while (std::chrono::steady_clock::now() < deadline) {
          auto r = http.Post("/v1/events/llm_calls", BatchBody(c, b), "application/x-ndjson");
          int status = r ? r->status : 0;
          {
            std::lock_guard lock(mu);
            ++statuses[status];
          }
          if (down) ++answers_while_down;
          if (status == 200) {
            ++acked_batches;
            break;
          }
          // A client's retry pause (Retry-After is 1 s; shorter keeps the test quick).
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  const int total_batches = kClients * kBatchesPerClient;
  while (acked_batches < total_batches / 4) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pg.Stop(/*immediate=*/true);
  down = true;
  // Down long enough for every client to see it several times.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const int acked_while_down = acked_batches;
  ASSERT_TRUE(pg.Start());
  down = false;
  for (auto& t : clients) t.join();

  EXPECT_EQ(acked_batches.load(), total_batches) << "ingestion did not resume by itself";
  EXPECT_LT(acked_while_down, total_batches) << "the outage came too late to test anything";
  EXPECT_GT(answers_while_down.load(), 0);
  {
    std::lock_guard lock(mu);
    EXPECT_GT(statuses[503], 0) << "no client saw the outage";
    for (auto [status, n] : statuses) {
      EXPECT_TRUE(status == 200 || status == 503) << n << " answers with status " << status;
    }
  }

  auto store = store::PostgresStore::Open(*url);
  ASSERT_TRUE(store) << store.error().ToString();
  auto r = (*store)->Query("SELECT count(*), count(DISTINCT event_id) FROM llm_calls");
  ASSERT_TRUE(r) << r.error().ToString();
  const std::int64_t want = std::int64_t{kClients} * kBatchesPerClient * kBatchSize;
  EXPECT_EQ(r->rows[0][0], store::SqlValue(want)) << "events lost or stored twice";
  EXPECT_EQ(r->rows[0][1], store::SqlValue(want));
  // The rollups saw each event once too.
  auto sums = (*store)->Query("SELECT sum(call_count)::bigint FROM agent_costs_hourly");
  ASSERT_TRUE(sums);
  EXPECT_EQ(sums->rows[0][0], store::SqlValue(want));
}

}  // namespace
}  // namespace tally
