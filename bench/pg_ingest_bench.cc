// PostgreSQL ingest: tally against the database's own ceiling, on one
// throwaway PostgreSQL 15 (initdb'd here, fsync on, loopback), in R rounds
// (--rounds, default 3). Each round, on the same server:
//
//  1. tally: a fresh database, a new ingest key, the real binary (`tally
//     serve --store postgres://...`) started on it, clients posting
//     llm_calls as NDJSON batches over HTTP keep-alive; each batch is
//     acknowledged only after its COMMIT (dedup table, raw row, rollups).
//  2. COPY: psql `\copy llm_calls FROM file` of exactly the rows tally stored
//     in this round (exported from step 1's database) into a second fresh
//     database with the same schema (migrated by tally): no HTTP, no
//     validation, no dedup, no rollups. The target is against this figure.
//  3. COPY with the ids: the same rows plus their llm_calls_ids rows (what
//     the schema keeps so a re-sent event is known), two \copy in one
//     transaction into a third fresh database: the ceiling for storing the
//     rows so that they stay deduplicable. Printed beside, for reference.
//
// Each timed run starts right after a CHECKPOINT, so neither pays for the
// other's (or an earlier round's) dirty pages; a round's three databases are
// dropped after it, so no autovacuum of old rows runs under the next one.
// The request bodies are built once, before the first round, and reused:
// every round writes into fresh databases, so the event ids are new there.
// Prints one line per round, then the median of each figure in events/s
// with its min-max range, and tally's median over each COPY median (the
// target, >= 70%, is against step 2).
// Medians, because on a shared machine single runs swing by tens of percent.
// Client, tally and PostgreSQL share the machine. Exits 1 if any batch fails.
//
//   pg_ingest_bench [--clients N] [--events TOTAL] [--batch N] [--rounds R]
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/postgres/pg_store.h"
#include "support/http_client.h"
#include "support/postgres_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

using tally::core::Error;
using tally::core::Result;
using tally::core::Status;
using tally::testing::HttpClient;
using tally::testing::PostgresServer;

struct Options {
  int clients = 8;
  std::int64_t total = 400'000;
  int batch = 2000;
  int rounds = 3;
};

// The NDJSON request bodies, per client; `events` is what they hold in all.
struct Workload {
  std::vector<std::vector<std::string>> bodies;
  std::int64_t events = 0;
};

// Wall-clock seconds of one round's two timed runs.
struct Round {
  double tally_s = 0;
  double copy_s = 0;
  double copy_ids_s = 0;  // the rows and their ids (step 3)
};

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) o.clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--events")) o.total = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--batch")) o.batch = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) o.rounds = std::atoi(argv[i + 1]);
  }
  return o;
}

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

// total / batch batches split evenly over the clients (the remainder is
// dropped), timestamped an hour ago.
Workload BuildWorkload(const Options& o) {
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  const int per_client = static_cast<int>(o.total / o.batch) / o.clients;
  Workload w;
  w.bodies.resize(o.clients);
  for (int c = 0; c < o.clients; ++c) {
    for (int b = 0; b < per_client; ++b) {
      w.bodies[c].push_back(Body(c, b, o.batch, now_ms - 3'600'000));
    }
  }
  w.events = std::int64_t{o.clients} * per_client * o.batch;
  return w;
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

// Runs one SQL command (or psql meta-command) through psql against `url`.
int PsqlCommand(const std::string& url, const std::string& command) {
  return Run(fmt::format("{} -q '{}' -c \"{}\"", Psql(), url, command));
}

// Flushes all dirty pages so the timed run that follows starts clean.
void Checkpoint(const std::string& url) { PsqlCommand(url, "CHECKPOINT"); }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `tally keys create --scope ingest` in the database at `url`: the secret.
Result<std::string> CreateIngestKey(const std::string& url) {
  std::string secret = TALLY_TRY(tally::testing::RunCommand(
      TALLY_BINARY, {"keys", "create", "--scope", "ingest", "--store", url}));
  // The secret is the last line (stdout); the note before it goes to stderr,
  // which RunCommand may interleave.
  while (!secret.empty() && secret.back() == '\n') secret.pop_back();
  return secret.substr(secret.rfind('\n') + 1);
}

// Posts every body (one thread per client) and returns the seconds it took;
// unavailable if any batch was not acknowledged with 200 (the first failure
// is printed, once).
Result<double> PostAll(const Workload& w, std::uint16_t port, const std::string& secret) {
  std::atomic<std::int64_t> failures = 0;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (const std::vector<std::string>& bodies : w.bodies) {
    threads.emplace_back([&] {
      HttpClient http("127.0.0.1", port);
      http.SetBearer(secret);
      for (const std::string& body : bodies) {
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
  const double seconds = SecondsSince(start);
  if (failures > 0) {
    return std::unexpected(Error::Unavailable(fmt::format("{} batches failed", failures.load())));
  }
  return seconds;
}

// Step 1 of a round: tally serving the database at `url` (data dir
// `data_dir`), CHECKPOINT, timed ingest, server stopped. Seconds of the ingest.
Result<double> TimeTallyIngest(const std::string& url, const std::string& data_dir,
                               const Workload& w) {
  const std::string secret = TALLY_TRY(CreateIngestKey(url));
  tally::testing::ServerProcess server(TALLY_BINARY, data_dir, {"--store", url});
  TALLY_RETURN_IF_ERROR(server.Start());
  Checkpoint(url);
  Result<double> seconds = PostAll(w, server.port(), secret);
  server.Kill(SIGTERM);
  return seconds;
}

// Steps 2 and 3 of a round: the rows tally stored at `tally_url` (and
// their ids, with_ids) exported to files in `dir`, then \copy'd, in one
// transaction, into a fresh database migrated by tally. Seconds of the
// \copy alone (after a CHECKPOINT).
Result<double> TimeCopy(const std::string& tally_url, const std::string& copy_url,
                        const std::string& dir, bool with_ids) {
  if (auto s = tally::store::PostgresStore::Open(copy_url); !s) return std::unexpected(s.error());
  std::vector<std::pair<std::string, std::string>> tables = {{"llm_calls", "*"}};
  if (with_ids) tables.emplace_back("llm_calls_ids", "event_id, time");
  std::string load = fmt::format("{} -q -1 '{}'", Psql(), copy_url);
  for (const auto& [table, columns] : tables) {
    const std::string file = fmt::format("{}/{}.copy", dir, table);
    if (PsqlCommand(tally_url, fmt::format("\\copy (SELECT {} FROM {}) TO '{}'", columns, table, file)) != 0) {
      return std::unexpected(Error::Internal("export of " + table + " failed"));
    }
    const std::string target = columns == "*" ? table : fmt::format("{} ({})", table, columns);
    load += fmt::format(" -c \"\\copy {} FROM '{}'\"", target, file);
  }
  Checkpoint(copy_url);
  const auto start = std::chrono::steady_clock::now();
  if (Run(load) != 0) return std::unexpected(Error::Internal("\\copy failed"));
  return SecondsSince(start);
}

// Drops the database at `url` (the last path segment), disconnecting any
// session left; a failure only costs disk, so it is reported, not fatal.
void DropDatabase(PostgresServer& pg, const std::string& url) {
  const std::string db = url.substr(url.rfind('/') + 1);
  if (PsqlCommand(pg.Url(), fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", db)) != 0) {
    std::cerr << "pg_ingest_bench: could not drop " << db << "\n";
  }
}

// One round in fresh databases of `pg`; `work_dir` is the round's own folder.
Result<Round> RunRound(PostgresServer& pg, const std::string& work_dir, const Workload& w) {
  std::filesystem::create_directories(work_dir);
  const std::string tally_url = TALLY_TRY(pg.FreshDatabase());
  Round round;
  Result<double> tally_s = TimeTallyIngest(tally_url, work_dir + "/data", w);
  if (!tally_s) {
    DropDatabase(pg, tally_url);
    return std::unexpected(tally_s.error());
  }
  round.tally_s = *tally_s;
  for (bool with_ids : {false, true}) {
    const std::string copy_url = TALLY_TRY(pg.FreshDatabase());
    Result<double> copy_s = TimeCopy(tally_url, copy_url, work_dir, with_ids);
    DropDatabase(pg, copy_url);
    if (!copy_s) {
      DropDatabase(pg, tally_url);
      return std::unexpected(copy_s.error());
    }
    (with_ids ? round.copy_ids_s : round.copy_s) = *copy_s;
  }
  DropDatabase(pg, tally_url);
  return round;
}

// Median (mean of the middle two for an even count), min and max; `v` is
// not empty.
Spread SpreadOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

void PrintRound(int index, std::int64_t events, const Round& r) {
  const double n = static_cast<double>(events);
  std::cout << fmt::format(
                   "  round {}: tally {:>8.0f} events/s ({:.2f} s), \\copy {:>8.0f} events/s "
                   "({:.2f} s), {:.0f} %; with ids {:>8.0f} events/s ({:.2f} s), {:.0f} %\n",
                   index, n / r.tally_s, r.tally_s, n / r.copy_s, r.copy_s, 100.0 * r.copy_s / r.tally_s,
                   n / r.copy_ids_s, r.copy_ids_s, 100.0 * r.copy_ids_s / r.tally_s)
            << std::flush;
}

void PrintMedians(std::int64_t events, const std::vector<Round>& rounds) {
  const double n = static_cast<double>(events);
  std::vector<double> tally_rates, copy_rates, copy_ids_rates;
  for (const Round& r : rounds) {
    tally_rates.push_back(n / r.tally_s);
    copy_rates.push_back(n / r.copy_s);
    copy_ids_rates.push_back(n / r.copy_ids_s);
  }
  const Spread tally = SpreadOf(tally_rates);
  const Spread copy = SpreadOf(copy_rates);
  const Spread copy_ids = SpreadOf(copy_ids_rates);
  std::cout << fmt::format(
      "  median of {} rounds (min-max):\n"
      "  tally HTTP -> PostgreSQL   {:>10.0f} events/s  ({:.0f}-{:.0f})\n"
      "  psql \\copy rows + their ids {:>8.0f} events/s  ({:.0f}-{:.0f}); tally / that: {:.0f} %\n"
      "  psql \\copy (same rows)     {:>10.0f} events/s  ({:.0f}-{:.0f})\n"
      "  tally / \\copy              {:>10.0f} %   (target >= 70 %)\n",
      rounds.size(), tally.median, tally.min, tally.max, copy_ids.median, copy_ids.min,
      copy_ids.max, 100.0 * tally.median / copy_ids.median, copy.median, copy.min, copy.max,
      100.0 * tally.median / copy.median);
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  if (options.clients < 1 || options.batch < 1 || options.rounds < 1) {
    std::cerr << "pg_ingest_bench: --clients, --batch and --rounds must be >= 1\n";
    return 1;
  }
  PostgresServer pg;
  if (auto s = pg.Start(); !s) {
    std::cerr << "pg_ingest_bench: " << s.error().ToString() << "\n";
    return 1;
  }
  tally::testing::TempDir dir;
  const Workload workload = BuildWorkload(options);  // before any clock starts
  std::cout << fmt::format("pg ingest, {} llm_calls ({} clients x batches of {}), {} rounds:\n",
                           workload.events, options.clients, options.batch, options.rounds)
            << std::flush;
  std::vector<Round> rounds;
  for (int i = 1; i <= options.rounds; ++i) {
    Result<Round> round = RunRound(pg, fmt::format("{}/round-{}", dir.str(), i), workload);
    if (!round) {
      std::cerr << "pg_ingest_bench: round " << i << ": " << round.error().ToString() << "\n";
      return 1;
    }
    PrintRound(i, workload.events, *round);
    rounds.push_back(*round);
  }
  PrintMedians(workload.events, rounds);
  return 0;
}
