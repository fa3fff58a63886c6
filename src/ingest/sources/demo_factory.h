// DemoFactory: a synthetic but realistic AI factory ("tally demo seed"), so
// dashboards, KPIs, reports and benchmarks have data that looks like the real
// thing before any real source is wired up.
//
// Guarantees:
//  - Deterministic: the output is a pure function of (options, price table).
//    All randomness comes from std::mt19937_64 streams seeded from
//    options.seed; nothing reads the clock (the window end is passed in).
//    Entities depend on the seed only; revenue, growth, infra and ops events
//    (deploys) do not depend on `scale`, only LLM calls and tasks do.
//  - Idempotent re-seeding: every event has a deterministic event_id
//    ("demo-<seed>-<kind>-<n>"), so running the same seed twice stores
//    nothing new (every event is a duplicate).
//  - Every event satisfies validation (model/validate.h): lowercase slugs and
//    UUIDs, money within its table's decimals (LLM 6, task/infra 4,
//    revenue/growth 2). An LLM call's cost_usd is exactly
//    prices.Cost(model, input, output, cached). A task's terminal event has
//    total_cost_usd = its calls' cost rounded half-up to 0.0001 USD plus its
//    tool cost (named in metadata "tool_cost_usd" when there is one).
//  - Events lie in [end - days, end) and reach the sink in non-decreasing
//    time order; tasks still running at `end` have no terminal event.
//  - Memory is bounded by one day of events plus one batch: generation
//    streams day by day (about 17 MB peak at scale 1, 40 MB at scale 10;
//    scale is capped at 1000).
// Thread-safety: a DemoFactory is not shared across threads while generating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/entities.h"
#include "model/event.h"
#include "model/price_table.h"

namespace tally::ingest {

struct DemoOptions {
  int days = 90;
  std::uint64_t seed = 42;
  double scale = 1.0;  // multiplies LLM call and task volume; 0..1000
  core::Timestamp end;  // exclusive; the generator covers [end - days, end)
};

struct DemoEntities {
  std::vector<model::Product> products;
  std::vector<model::Agent> agents;
  std::vector<model::RevenueChannel> channels;
};

namespace demo {
struct Catalog;
}  // namespace demo

class DemoFactory {
 public:
  // `prices` must outlive the factory. Models are chosen among those the
  // price table knows; if it knows none of the demo's candidates, Generate
  // fails with not_found.
  DemoFactory(DemoOptions options, const model::PriceTable& prices);
  ~DemoFactory();
  DemoFactory(DemoFactory&&) noexcept;
  DemoFactory& operator=(DemoFactory&&) noexcept;

  const DemoEntities& entities() const;

  // Generates all events in time order, handing them to sink in batches of at
  // most batch_events (mixed kinds allowed in one Batch, source "demo").
  // Stops at and returns the first sink error. May be called again: each run
  // starts from the seed and produces the same events.
  core::Status Generate(const std::function<core::Status(model::Batch&&)>& sink,
                        size_t batch_events = 10'000);

 private:
  DemoOptions options_;
  const model::PriceTable* prices_;
  std::unique_ptr<demo::Catalog> catalog_;
};

}  // namespace tally::ingest
