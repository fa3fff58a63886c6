// Ingest throughput of the real binary: llm_calls as NDJSON batches of 1,000
// over HTTP keep-alive, each answered only after its durable commit.
// Prints events/s and the p50/p99 latency of one batch. Client and server
// share the machine, so the figure is end to end and conservative.
//
//   ingest_bench [--clients N] [--events TOTAL] [--batch N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "support/http_client.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

using tally::testing::HttpClient;

std::string Body(int client, int batch, int size) {
  std::string body;
  body.reserve(static_cast<size_t>(size) * 250);
  for (int i = 0; i < size; ++i) {
    body += fmt::format(
        R"({{"event_id":"b{}-{}-{}","time":1772366400123,"agent_id":"agent-{}","model":"gpt-4o-mini",)"
        R"("provider":"openai","input_tokens":{},"cached_tokens":200,"output_tokens":{},"latency_ms":900,)"
        R"("status":"success"}})"
        "\n",
        client, batch, i, i % 15, 1200 + i, 100 + i % 400);
  }
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 8;
  std::int64_t total = 1'000'000;
  int batch = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--events")) total = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
  }
  tally::testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = tally::testing::CreateKey(TALLY_BINARY, data, "ingest");
  if (!key) {
    std::cerr << key.error().ToString() << "\n";
    return 1;
  }
  std::string secret = *key;
  tally::testing::ServerProcess server(TALLY_BINARY, data);
  if (auto s = server.Start(); !s) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }

  int batches_per_client = static_cast<int>(total / batch / clients);
  // Bodies are built before the clock starts so the load generator spends its
  // CPU on sending, not formatting.
  std::vector<std::vector<std::string>> bodies(clients);
  for (int c = 0; c < clients; ++c) {
    for (int b = 0; b < batches_per_client; ++b) bodies[c].push_back(Body(c, b, batch));
  }
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<int> failures = 0;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient http("127.0.0.1", server.port());
      http.SetBearer(secret);
      for (int b = 0; b < batches_per_client; ++b) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = http.Post("/v1/events/llm_calls", bodies[c][b], "application/x-ndjson");
        while (r && r->status == 503) r = http.Post("/v1/events/llm_calls", bodies[c][b], "application/x-ndjson");
        if (!r || r->status != 200) ++failures;
        latencies[c].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  std::int64_t events = static_cast<std::int64_t>(all.size()) * batch;
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
  std::cout << fmt::format(
      "ingest llm_calls: {} events in {} batches of {} from {} keep-alive clients, {:.2f} s\n"
      "  throughput   {:.0f} events/s (durable acks)\n"
      "  batch latency p50 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms\n"
      "  failed batches {}\n"
      "  machine: {} cores\n",
      events, all.size(), batch, clients, secs, events / secs, pct(0.5), pct(0.99), all.empty() ? 0 : all.back(),
      failures.load(), std::thread::hardware_concurrency());
  server.Kill(15);
  return failures.load() == 0 ? 0 : 1;
}
