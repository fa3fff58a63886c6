// Budget checks (seed §6): the in-process BudgetEnforcer::Check on the memory
// backend, then POST /v1/budget/check over HTTP keep-alive against the real
// binary, memory backend and Redis backend. Prints checks/s and p50/p99; no
// assertions. Client and server share the machine, so the HTTP figures are end
// to end and conservative.
//
//   budget_bench [--connections N] [--checks TOTAL] [--inproc TOTAL] [--only inproc|memory|redis]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "live/budget_enforcer.h"
#include "core/business_calendar.h"
#include "live/memory/memory_accumulators.h"
#include "store/sqlite/sqlite_store.h"
#include "support/http_client.h"
#include "support/redis_server.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using tally::testing::HttpClient;

struct Figures {
  double per_sec = 0, p50 = 0, p99 = 0, max = 0;
  std::int64_t n = 0, failures = 0, denied = 0;
};

Figures Summarize(std::vector<double>& all, double secs) {
  Figures f;
  std::sort(all.begin(), all.end());
  f.n = static_cast<std::int64_t>(all.size());
  f.per_sec = secs > 0 ? f.n / secs : 0;
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
  f.p50 = pct(0.5);
  f.p99 = pct(0.99);
  f.max = all.empty() ? 0 : all.back();
  return f;
}

// (a) In-process: one thread, ns per call, on an agent with a daily budget
// large enough never to deny. Reserve is on, as in production.
int InProcess(std::int64_t total) {
  tally::testing::TempDir dir;
  auto opened = tally::store::SqliteStore::Open(dir.str());
  if (!opened) {
    std::cerr << opened.error().ToString() << "\n";
    return 1;
  }
  auto store = std::move(*opened);
  tally::core::SystemClock clock;
  tally::model::Agent a;
  a.id = "bench";
  a.role = "builder";
  a.daily_budget = tally::core::Money::FromMicros(std::int64_t{1} << 60);
  a.created_at = clock.Now();
  if (auto s = store->PutAgent(a); !s) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }
  tally::live::MemoryAccumulators live(clock, tally::core::BusinessCalendar::Utc());
  (void)live.Rebuild(*store);
  auto prices = tally::model::PriceTable::Defaults();
  tally::live::BudgetOptions options;
  tally::live::BudgetEnforcer enforcer(live, *store, prices, clock, options);
  if (auto s = enforcer.Init(); !s) {
    std::cerr << s.error().ToString() << "\n";
    return 1;
  }
  tally::live::CheckRequest r;
  r.agent_id = "bench";
  r.estimated_cost = tally::core::Money::FromMicros(1000);
  // Steady state as in production: each reservation is settled (here
  // released, untimed) after kInFlight later checks, so about that many calls
  // are in flight; without it millions of never-settled holds pile up and the
  // figure measures their hash table, not the check.
  constexpr size_t kInFlight = 1000;
  std::vector<std::string> in_flight(kInFlight);
  for (int i = 0; i < 10'000; ++i) (void)enforcer.Check(r);  // warm up
  std::vector<double> ns;
  ns.reserve(static_cast<size_t>(total));
  std::int64_t denied = 0;
  auto start = Clock::now();
  for (std::int64_t i = 0; i < total; ++i) {
    auto t0 = Clock::now();
    auto d = enforcer.Check(r);
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    if (!d || !d->allowed) {
      ++denied;
      continue;
    }
    std::string& slot = in_flight[static_cast<size_t>(i) % kInFlight];
    if (!slot.empty()) (void)live.Release(slot);
    slot = std::move(d->reservation_id);
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  Figures f = Summarize(ns, secs);
  std::cout << fmt::format(
      "budget check, in-process BudgetEnforcer::Check (memory backend, reserve, ~1000 in flight, 1 thread): {} calls, {:.2f} s\n"
      "  throughput   {:.0f} checks/s  (mean {:.0f} ns/call incl. timer)\n"
      "  latency      p50 {:.0f} ns  p99 {:.0f} ns  max {:.0f} ns\n"
      "  denied/failed {}\n",
      f.n, secs, f.per_sec, secs * 1e9 / f.n, f.p50, f.p99, f.max, denied);
  return 0;
}

// (b)/(c) Over HTTP keep-alive against the real binary.
int OverHttp(const std::string& label, int connections, std::int64_t total, bool reserve = true) {
  tally::testing::TempDir dir;
  std::string data = dir.str() + "/data";
  auto key = tally::testing::CreateKey(TALLY_BINARY, data, "ingest,admin");
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
  {
    HttpClient http("127.0.0.1", server.port());
    http.SetBearer(secret);
    auto r = http.Post("/v1/agents", R"({"id":"bench","role":"builder","daily_budget":"99999999"})");
    if (!r || (r->status != 201 && r->status != 200)) {
      std::cerr << "cannot create the agent: " << (r ? r->body : r.error().ToString()) << "\n";
      return 1;
    }
  }
  const std::string body = fmt::format(R"({{"agent_id":"bench","estimated_cost_usd":"0.001","reserve":{}}})", reserve);
  int per_conn = static_cast<int>(total / connections);
  std::vector<std::vector<double>> lat(connections);
  std::atomic<std::int64_t> failures = 0, denied = 0;
  auto run = [&](int rounds, bool record) {
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c) {
      threads.emplace_back([&, c] {
        HttpClient http("127.0.0.1", server.port());
        http.SetBearer(secret);
        if (record) lat[c].reserve(static_cast<size_t>(rounds));
        for (int i = 0; i < rounds; ++i) {
          auto t0 = Clock::now();
          auto r = http.Post("/v1/budget/check", body);
          double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
          if (!r || r->status != 200) {
            ++failures;
          } else if (r->body.find("\"allowed\":true") == std::string::npos) {
            ++denied;
          }
          if (record) lat[c].push_back(ms);
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  run(200, false);  // warm up: connections, agent cache, Lua script load
  failures = 0;
  denied = 0;
  auto start = Clock::now();
  run(per_conn, true);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  Figures f = Summarize(all, secs);
  std::cout << fmt::format(
      "budget check over HTTP ({}): {} checks from {} keep-alive connections, {:.2f} s\n"
      "  throughput   {:.0f} checks/s\n"
      "  latency      p50 {:.3f} ms  p99 {:.3f} ms  max {:.3f} ms\n"
      "  failed {}  denied {}\n",
      label, f.n, connections, secs, f.per_sec, f.p50, f.p99, f.max, failures.load(), denied.load());
  server.Kill(15);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 32;
  std::int64_t checks = 64'000;
  std::int64_t inproc = 2'000'000;
  std::string only;  // inproc | memory | redis; empty: all
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--connections")) connections = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--checks")) checks = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--inproc")) inproc = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  int rc = 0;
  if (only.empty() || only == "inproc") rc |= InProcess(inproc);
  ::unsetenv("TALLY_LIVE_REDIS_URL");
  if (only.empty() || only == "memory") {
    rc |= OverHttp("memory backend", connections, checks);
    rc |= OverHttp("memory backend, reserve:false", connections, checks, false);
  }
  if (only.empty() || only == "redis") {
    tally::testing::RedisServer redis;
    if (auto s = redis.Start(); !s) {
      std::cerr << "redis backend skipped: " << s.error().ToString() << "\n";
    } else {
      ::setenv("TALLY_LIVE_REDIS_URL", redis.url().c_str(), 1);
      // Every check leaves an unsettled reservation (TTL 300 s): the agent
      // ends with tens of thousands open, which the script's running total
      // (resv:sum) makes irrelevant to the check's cost.
      rc |= OverHttp("redis backend", connections, checks);
      rc |= OverHttp("redis backend, reserve:false", connections, checks, false);
      ::unsetenv("TALLY_LIVE_REDIS_URL");
    }
  }
  std::cout << fmt::format("  machine: {} cores\n", std::thread::hardware_concurrency());
  return rc;
}
