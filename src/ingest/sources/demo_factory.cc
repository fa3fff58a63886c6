// DemoFactory: streams the generated days to the sink in time order and in
// bounded batches. The cast lives in demo_factory_entities.cc, the agents'
// work in demo_factory_events.cc, revenue/growth/infra in
// demo_factory_business.cc.
#include "ingest/sources/demo_factory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "ingest/sources/demo_factory_internal.h"

namespace tally::ingest {

DemoFactory::DemoFactory(DemoOptions options, const model::PriceTable& prices)
    : options_(options),
      prices_(&prices),
      catalog_(std::make_unique<demo::Catalog>(demo::BuildCatalog(options_, prices))) {}

DemoFactory::~DemoFactory() = default;
DemoFactory::DemoFactory(DemoFactory&&) noexcept = default;
DemoFactory& DemoFactory::operator=(DemoFactory&&) noexcept = default;

const DemoEntities& DemoFactory::entities() const { return catalog_->entities; }

core::Status DemoFactory::Generate(const std::function<core::Status(model::Batch&&)>& sink,
                                   size_t batch_events) {
  if (catalog_->error) return std::unexpected(*catalog_->error);
  if (options_.days <= 0 || options_.days > 3660) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("demo: days must be between 1 and 3660, got {}", options_.days)));
  }
  // One day is held in memory: ~1 MB per 1,000 events, ~3,500 events a day
  // per unit of scale, so the cap keeps the peak near a few GB.
  if (!std::isfinite(options_.scale) || options_.scale < 0 || options_.scale > 1'000) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("demo: scale must be between 0 and 1000, got {}", options_.scale)));
  }
  if (batch_events == 0) return std::unexpected(core::Error::InvalidArgument("demo: batch_events must be > 0"));

  demo::DayGenerator generator(options_, *prices_, *catalog_);
  model::Batch batch{.source = "demo", .events = {}};
  batch.events.reserve(batch_events);
  const auto flush = [&]() -> core::Status {
    if (batch.events.empty()) return core::OkStatus();
    model::Batch full{.source = "demo", .events = {}};
    std::swap(full, batch);
    batch.events.reserve(batch_events);
    return sink(std::move(full));
  };

  // A day's events may spill past its end (a task running over midnight, a
  // refund days later); they wait in `later` until their day is emitted, so
  // the sink sees one non-decreasing time line. The day is ordered through an
  // index of (time, position): moving whole events while sorting costs more
  // than generating them at large scales.
  std::vector<model::Event> today, later;
  std::vector<std::pair<std::int64_t, std::uint32_t>> order;
  for (int day = 0; day < options_.days; ++day) {
    const core::Timestamp day_end = options_.end - demo::kDay * (options_.days - day - 1);
    // Moved rather than swapped so `today` keeps its capacity across days.
    std::move(later.begin(), later.end(), std::back_inserter(today));
    later.clear();
    TALLY_RETURN_IF_ERROR(generator.GenerateDay(day, today));
    order.clear();
    for (size_t i = 0; i < today.size(); ++i) {
      const core::Timestamp t = model::TimeOf(today[i]);
      if (t < day_end) {
        order.emplace_back(core::ToMicros(t), static_cast<std::uint32_t>(i));
      } else if (t < options_.end) {
        later.push_back(std::move(today[i]));
      }  // else: after the window (a task still running at `end`): not emitted
    }
    std::sort(order.begin(), order.end());  // ties keep generation order: deterministic
    for (const auto& [time, index] : order) {
      batch.events.push_back(std::move(today[index]));
      if (batch.events.size() >= batch_events) TALLY_RETURN_IF_ERROR(flush());
    }
    today.clear();
  }
  return flush();
}

}  // namespace tally::ingest
