// Read latency of the analytics answers (p50 / p99 over repeated calls) on a
// year of the demo factory: /v1/overview, /v1/pnl, /v1/kpis, /v1/roi/products
// as the handlers build them (server/analytics_views.h), minus HTTP.
//
//   analytics_bench [DATA_DIR] [DAYS] [SCALE]
// Seeds the demo factory into DATA_DIR (a temp dir by default) when it holds
// no LLM calls. Rollup sizes grow with time x agents x models x products, not
// with the number of raw rows, so a year at scale 1 has the rollup shape of a
// year at any volume.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "core/clock.h"
#include "ingest/sources/demo_factory.h"
#include "server/analytics_views.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace {

using namespace tally;  // NOLINT: a benchmark's main

void Measure(const char* name, int iterations, const std::function<bool()>& fn) {
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) {
    auto start = std::chrono::steady_clock::now();
    if (!fn()) {
      fmt::print("{}: failed\n", name);
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  fmt::print("{:<34} p50 {:8.2f} ms   p99 {:8.2f} ms   ({} runs)\n", name, ms[ms.size() / 2],
             ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  testing::TempDir temp;
  const std::string dir = argc > 1 ? argv[1] : temp.str();
  const int days = argc > 2 ? std::atoi(argv[2]) : 365;
  const double scale = argc > 3 ? std::atof(argv[3]) : 1.0;
  auto opened = store::SqliteStore::Open(dir);
  if (!opened) {
    fmt::print("open: {}\n", opened.error().ToString());
    return 1;
  }
  store::SqliteStore& store = **opened;
  const core::Timestamp now = core::SystemClock::Instance().Now();
  if (*store.CountEvents(model::EventKind::kLlmCall) == 0) {
    auto prices = model::PriceTable::Defaults();
    ingest::DemoOptions options;
    options.days = days;
    options.scale = scale;
    options.end = now;
    ingest::DemoFactory factory(options, prices);
    for (const auto& p : factory.entities().products) (void)store.PutProduct(p);
    for (const auto& a : factory.entities().agents) (void)store.PutAgent(a);
    for (const auto& c : factory.entities().channels) (void)store.PutChannel(c);
    auto start = std::chrono::steady_clock::now();
    auto status = factory.Generate(
        [&](model::Batch&& batch) -> core::Status {
          const model::Batch* one[] = {&batch};
          auto stats = store.Append(one);
          if (!stats) return std::unexpected(stats.error());
          return core::OkStatus();
        },
        50'000);
    if (!status) {
      fmt::print("seed: {}\n", status.error().ToString());
      return 1;
    }
    fmt::print("seeded {} days at scale {} in {:.1f} s\n", days, scale,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  fmt::print("llm_calls {}, task_events {}, revenue_events {}; products {}, agents {}\n",
             *store.CountEvents(model::EventKind::kLlmCall),
             *store.CountEvents(model::EventKind::kTask),
             *store.CountEvents(model::EventKind::kRevenue), store.ListProducts()->size(),
             store.ListAgents()->size());
  for (const char* t :
       {"agent_costs_hourly", "task_costs_daily", "revenue_daily", "growth_daily"}) {
    auto n = store.Query(fmt::format("SELECT count(*) FROM {}", t));
    fmt::print("  {} rows: {}\n", t, std::get<std::int64_t>(n->rows[0][0]));
  }

  auto query = [&](std::map<std::string, std::string> params) {
    return *server::ParseAnalyticsQuery(params, now, core::BusinessCalendar::Utc());
  };
  const auto month = query({});
  auto year = query(
      {{"from", core::FormatRfc3339(now - std::chrono::days(365))}, {"granularity", "month"}});
  constexpr int kRuns = 200;
  Measure("/v1/overview", kRuns, [&] { return server::OverviewJson(store, now, core::BusinessCalendar::Utc()).has_value(); });
  Measure("/v1/pnl (30 days)", kRuns, [&] { return server::PnlJson(store, month).has_value(); });
  Measure("/v1/pnl (365 days, by month)", kRuns,
          [&] { return server::PnlJson(store, year).has_value(); });
  Measure("/v1/kpis (30 days)", 50, [&] { return server::KpisJson(store, month).has_value(); });
  Measure("/v1/roi/products (30 days)", 50,
          [&] { return server::ProductRoiJson(store, month).has_value(); });
  return 0;
}
