// `tally demo seed`: loads the deterministic demo factory (agents, products,
// channels, and --days of events ending now) into the data folder.
// Idempotent: every demo event has a fixed id, so a re-run stores nothing new.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "ingest/sources/demo_factory.h"

namespace tally::cli {

int RunDemoSeed(const DemoArgs& args) {
  auto store = OpenStore(args.config.data_dir);
  if (!store) return Fail(store.error());
  if (args.if_empty) {
    auto calls = (*store)->CountEvents(model::EventKind::kLlmCall);
    if (!calls) return Fail(calls.error());
    if (*calls > 0) {
      std::cout << fmt::format("store already holds {} LLM calls; demo seed skipped\n", *calls);
      return 0;
    }
  }
  auto prices = LoadPrices(args.config);
  if (!prices) return Fail(prices.error());
  ingest::DemoOptions options;
  options.days = args.days;
  options.seed = args.seed;
  options.scale = args.scale;
  options.end = core::SystemClock::Instance().Now();
  ingest::DemoFactory factory(options, *prices);
  const auto& entities = factory.entities();
  for (const auto& p : entities.products) {
    if (auto s = (*store)->PutProduct(p); !s) return Fail(s.error());
  }
  for (const auto& a : entities.agents) {
    if (auto s = (*store)->PutAgent(a); !s) return Fail(s.error());
  }
  for (const auto& c : entities.channels) {
    if (auto s = (*store)->PutChannel(c); !s) return Fail(s.error());
  }
  auto start = std::chrono::steady_clock::now();
  std::int64_t accepted = 0, duplicates = 0;
  auto status = factory.Generate([&](model::Batch&& batch) -> core::Status {
    const model::Batch* one[] = {&batch};
    auto stats = (*store)->Append(one);
    if (!stats) return std::unexpected(stats.error());
    accepted += (*stats)[0].accepted;
    duplicates += (*stats)[0].duplicates;
    return core::OkStatus();
  }, 50'000);
  if (!status) return Fail(status.error());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format(
      "demo factory: {} agents, {} products, {} channels; {} events stored, {} already there ({:.1f} s)\n",
      entities.agents.size(), entities.products.size(), entities.channels.size(), accepted, duplicates, secs);
  return 0;
}

}  // namespace tally::cli
