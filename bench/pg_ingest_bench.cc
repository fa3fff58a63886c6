// PostgreSQL ingest: tally against the database's own ceiling, in one run on
// one throwaway PostgreSQL 15 (initdb'd here, fsync on, loopback).
//
//  1. tally: the real binary (`tally serve --store postgres://...`), clients
//     posting llm_calls as NDJSON batches over HTTP keep-alive; each batch is
//     acknowledged only after its COMMIT (dedup table, raw row, rollups).
//  2. COPY: psql `\copy llm_calls FROM file` of exactly the rows tally stored
//     (exported from run 1) into a second database with the same schema
//     (migrated by tally): no HTTP, no validation, no dedup, no rollups.
// Prints both in events/s and tally's share of the COPY figure (target
// >= 70%). Client, tally and PostgreSQL share the machine.
//
//   pg_ingest_bench [--clients N] [--events TOTAL] [--batch N]
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "store/postgres/pg_store.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

using tally::testing::HttpClient;

std::string Body(int client, int batch, int size, std::int64_t time_ms) {
  std::string body;
  body.reserve(static_cast<size_t>(size) * 250);
  for (int i = 0; i < size; ++i) {
    body += fmt::format(
        R"({{"event_id":"b{}-{}-{}","time":{},"agent_id":"agent-{}","model":"gpt-4o-mini",)"
        R"("provider":"openai","input_tokens":{},"cached_tokens":200,"output_tokens":{},"latency_ms":900,)"
        R"("status":"success"}})"
        "\n",
        client, batch, i, time_ms + i, i % 15, 1200 + i, 100 + i % 400);
  }
  return body;
}

std::string Psql() {
  for (const char* p : {"/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "psql";
}

int Run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 8;
  std::int64_t total = 400'000;
  int batch = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--events")) total = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
  }
  tally::testing::PostgresServer pg;
  if (auto s = pg.Start(); !s) {
    std::cerr << "pg_ingest_bench: " << s.error().ToString() << "\n";
    return 1;
  }
  auto url = pg.FreshDatabase();
  auto copy_url = pg.FreshDatabase();
  if (!url || !copy_url) {
    std::cerr << "pg_ingest_bench: cannot create databases\n";
    return 1;
  }
  tally::testing::TempDir dir;
  auto out = tally::testing::RunCommand(TALLY_BINARY,
                                        {"keys", "create", "--scope", "ingest", "--store", *url});
  if (!out) {
    std::cerr << out.error().ToString() << "\n";
    return 1;
  }
  // The secret is the last line (stdout); the note before it goes to stderr,
  // which RunCommand may interleave.
  std::string secret = *out;
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  secret = secret.substr(secret.rfind('\n') + 1);
  tally::testing::ServerProcess server(TALLY_BINARY, dir.str() + "/data", {"--store", *url});
  if (auto s = server.Start(); !s) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }

  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch()).count();
  const int batches = static_cast<int>(total / batch);
  const int per_client = batches / clients;
  // Bodies are built before the clock starts.
  std::vector<std::vector<std::string>> bodies(clients);
  for (int c = 0; c < clients; ++c) {
    for (int b = 0; b < per_client; ++b) bodies[c].push_back(Body(c, b, batch, now_ms - 3'600'000));
  }
  std::atomic<std::int64_t> failures = 0;
  Run(fmt::format("{} -q '{}' -c CHECKPOINT", Psql(), *url));
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      HttpClient http("127.0.0.1", server.port());
      http.SetBearer(secret);
      for (const std::string& body : bodies[c]) {
        auto r = http.Post("/v1/events/llm_calls", body, "application/x-ndjson");
        if (!r || r->status != 200) {
          if (failures++ == 0) {  // say why once, not per batch
            std::cerr << "first failure: "
                      << (r ? fmt::format("HTTP {}: {}", r->status, r->body.substr(0, 300))
                            : r.error().ToString())
                      << "\n";
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double tally_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::int64_t sent = std::int64_t{clients} * per_client * batch;
  server.Kill(SIGTERM);
  if (failures > 0) {
    std::cerr << "pg_ingest_bench: " << failures << " batches failed\n";
    return 1;
  }

  // The same rows, through COPY, into the same schema (tally migrates it).
  if (auto s = tally::store::PostgresStore::Open(*copy_url); !s) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }
  const std::string file = dir.str() + "/llm_calls.copy";
  if (Run(fmt::format("{} -q '{}' -c \"\\copy (SELECT * FROM llm_calls) TO '{}'\"", Psql(), *url, file)) != 0) {
    std::cerr << "pg_ingest_bench: export failed\n";
    return 1;
  }
  Run(fmt::format("{} -q '{}' -c CHECKPOINT", Psql(), *copy_url));
  start = std::chrono::steady_clock::now();
  if (Run(fmt::format("{} -q '{}' -c \"\\copy llm_calls FROM '{}'\"", Psql(), *copy_url, file)) != 0) {
    std::cerr << "pg_ingest_bench: \\copy failed\n";
    return 1;
  }
  const double copy_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const double tally_rate = static_cast<double>(sent) / tally_s;
  const double copy_rate = static_cast<double>(sent) / copy_s;
  std::cout << fmt::format(
      "pg ingest, {} llm_calls ({} clients x batches of {}):\n"
      "  tally HTTP -> PostgreSQL   {:>10.0f} events/s  ({:.2f} s)\n"
      "  psql \\copy (same rows)     {:>10.0f} events/s  ({:.2f} s)\n"
      "  tally / \\copy              {:>10.0f} %   (target >= 70 %)\n",
      sent, clients, batch, tally_rate, tally_s, copy_rate, copy_s, 100.0 * tally_rate / copy_rate);
  return 0;
}
