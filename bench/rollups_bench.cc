// Rollup maintenance cost on the append path (Google Benchmark): the same
// durable 50k-row groups as store_bench, but LLM calls carry task ids (20
// calls per task, each task ending with a terminal event), the case where
// Append also upserts per-task state. Compare items/s with store_bench's.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "store/sqlite/sqlite_store.h"
#include "support/events.h"
#include "support/temp_dir.h"

namespace {

void BM_SqliteAppendLlmCallsWithTasks(benchmark::State& state) {
  tally::testing::TempDir dir;
  auto store = std::move(*tally::store::SqliteStore::Open(dir.str()));
  const auto group = static_cast<int>(state.range(0));
  constexpr int kCallsPerTask = 20;
  std::int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    tally::model::Batch batch;
    batch.events.reserve(group + group / kCallsPerTask);
    for (int i = 0; i < group; ++i, ++next) {
      const std::int64_t t = 1'772'366'400'000'000 + next * 1000;
      auto call = tally::testing::MakeCall("bench-" + std::to_string(next), 1000 + next % 997, t);
      call.agent_id = "agent-" + std::to_string(next % 15);
      const std::string task = fmt::format("00000000-0000-4000-8000-{:012d}", next / kCallsPerTask);
      call.task_id = task;
      batch.events.emplace_back(std::move(call));
      if (next % kCallsPerTask == kCallsPerTask - 1) {
        tally::model::TaskEvent done;
        done.event_id = "task-" + std::to_string(next);
        done.time = tally::core::FromMicros(t);
        done.task_id = task;
        done.agent_id = "agent-" + std::to_string(next % 15);
        done.product_id = "11111111-1111-4111-8111-111111111111";
        done.task_type = "build";
        done.status = tally::model::TaskStatus::kCompleted;
        done.duration_ms = 60'000;
        batch.events.emplace_back(std::move(done));
      }
    }
    const tally::model::Batch* one[] = {&batch};
    state.ResumeTiming();
    auto stats = store->Append(one);
    if (!stats) state.SkipWithError(stats.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * group);
}
BENCHMARK(BM_SqliteAppendLlmCallsWithTasks)
    ->Arg(50'000)
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
