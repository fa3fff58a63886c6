// Store append cost (Google Benchmark): durable Append of llm_calls in
// groups like the pipeline's, into a fresh SQLite store. CPU time per row is
// the figure to watch: the single writer thread is ingest's bottleneck.
#include <benchmark/benchmark.h>

#include "store/sqlite/sqlite_store.h"
#include "support/events.h"
#include "support/temp_dir.h"

namespace {

void BM_SqliteAppendLlmCalls(benchmark::State& state) {
  tally::testing::TempDir dir;
  auto store = std::move(*tally::store::SqliteStore::Open(dir.str()));
  const auto group = static_cast<int>(state.range(0));
  std::int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    tally::model::Batch batch;
    batch.events.reserve(group);
    for (int i = 0; i < group; ++i, ++next) {
      auto call = tally::testing::MakeCall("bench-" + std::to_string(next), 1000 + next % 997,
                                           1'772'366'400'000'000 + next * 1000);
      call.agent_id = "agent-" + std::to_string(next % 15);
      batch.events.emplace_back(std::move(call));
    }
    const tally::model::Batch* one[] = {&batch};
    state.ResumeTiming();
    auto stats = store->Append(one);
    if (!stats) state.SkipWithError(stats.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * group);
}
BENCHMARK(BM_SqliteAppendLlmCalls)->Arg(50'000)->Iterations(20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
