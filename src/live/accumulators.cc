#include "live/accumulators.h"

namespace tally::live {

std::vector<const model::Event*> NewlyStored(std::span<const model::Batch* const> batches,
                                             std::span<const store::AppendStats> stats) {
  std::vector<const model::Event*> out;
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto& events = batches[b]->events;
    const std::vector<std::int64_t>* dups = b < stats.size() ? &stats[b].duplicate_indexes : nullptr;
    const auto* adjusted = b < stats.size() ? &stats[b].adjusted : nullptr;
    size_t next_dup = 0;
    size_t next_adjusted = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (dups != nullptr && next_dup < dups->size() &&
          (*dups)[next_dup] == static_cast<std::int64_t>(i)) {
        ++next_dup;
        continue;
      }
      // A running total was stored as its increase: count what was stored.
      if (adjusted != nullptr && next_adjusted < adjusted->size() &&
          (*adjusted)[next_adjusted].first == static_cast<std::int64_t>(i)) {
        out.push_back(&(*adjusted)[next_adjusted++].second);
        continue;
      }
      out.push_back(&events[i]);
    }
  }
  return out;
}

}  // namespace tally::live
