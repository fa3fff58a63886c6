#include "store/cumulative.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "store/store.h"

namespace tally::store {
namespace {

// True when `delta` moves the running total further from zero, in the
// direction of `total` (refund totals are negative and grow downwards).
bool IsIncrease(core::Money total, core::Money delta) {
  if (total.micros() > 0) return delta.micros() > 0;
  if (total.micros() < 0) return delta.micros() < 0;
  return false;
}

const model::CumulativeAmount* CumulativeOf(const model::Event& e) {
  const auto* rev = std::get_if<model::RevenueEvent>(&e);
  return rev != nullptr && rev->cumulative ? &*rev->cumulative : nullptr;
}

}  // namespace

bool HasRunningTotals(const model::Batch& batch) {
  return std::any_of(batch.events.begin(), batch.events.end(),
                     [](const model::Event& e) { return CumulativeOf(e) != nullptr; });
}

RunningTotalBounds BoundsOf(const std::string& key) {
  // ';' is the byte after ':', so [key + ":", key + ";") is every id with the
  // prefix, and [key, key + ";") the whole group as one index range.
  return RunningTotalBounds{key, key + ":", key + ";"};
}

core::Result<CumulativePlan> PlanCumulative(std::span<const model::Batch* const> batches,
                                            const RunningTotalReader& read) {
  CumulativePlan plan;
  plan.batches_.assign(batches.begin(), batches.end());
  // Per key: what its rows hold, including increases given earlier in this call.
  std::map<std::string, core::Money> held;
  for (size_t b = 0; b < batches.size(); ++b) {
    const model::Batch& batch = *batches[b];
    if (!HasRunningTotals(batch)) continue;
    auto copy = std::make_unique<model::Batch>();
    copy->source = batch.source;
    CumulativePlan::Rewrite rw;
    rw.batch = b;
    for (size_t i = 0; i < batch.events.size(); ++i) {
      const model::Event& e = batch.events[i];
      const model::CumulativeAmount* cum = CumulativeOf(e);
      if (cum == nullptr) {
        copy->events.push_back(e);
        rw.origin.push_back(static_cast<std::int64_t>(i));
        rw.adjusted.push_back(false);
        continue;
      }
      const std::string& id = model::EventIdOf(e);
      if (cum->key.empty() || id.size() <= cum->key.size() + 1 || !id.starts_with(cum->key) ||
          id[cum->key.size()] != ':') {
        return std::unexpected(core::Error::InvalidArgument(fmt::format(
            "batch {} (source '{}') event {}: event_id '{}' of a running total must be its key "
            "'{}' followed by ':' and a suffix",
            b, batch.source, i, id, cum->key)));
      }
      auto it = held.find(cum->key);
      if (it == held.end()) {
        core::Money stored = TALLY_TRY(read(cum->key));
        it = held.emplace(cum->key, stored).first;
      }
      core::Money delta = cum->total - it->second;
      if (!IsIncrease(cum->total, delta)) {
        rw.settled.push_back(static_cast<std::int64_t>(i));
        continue;
      }
      it->second = cum->total;
      model::Event stored = e;
      std::get<model::RevenueEvent>(stored).amount_usd = delta;
      copy->events.push_back(std::move(stored));
      rw.origin.push_back(static_cast<std::int64_t>(i));
      rw.adjusted.push_back(true);
    }
    plan.batches_[b] = copy.get();
    plan.owned_.push_back(std::move(copy));
    plan.rewrites_.push_back(std::move(rw));
  }
  return plan;
}

void FinishCumulative(const CumulativePlan& plan, std::vector<AppendStats>* stats) {
  for (const CumulativePlan::Rewrite& rw : plan.rewrites_) {
    AppendStats& s = (*stats)[rw.batch];
    const model::Batch& stored = *plan.batches_[rw.batch];
    std::vector<std::int64_t> dups = rw.settled;
    size_t next_dup = 0;
    for (size_t j = 0; j < rw.origin.size(); ++j) {
      bool dup = next_dup < s.duplicate_indexes.size() &&
                 s.duplicate_indexes[next_dup] == static_cast<std::int64_t>(j);
      if (dup) {
        ++next_dup;
        dups.push_back(rw.origin[j]);
      } else if (rw.adjusted[j]) {
        s.adjusted.emplace_back(rw.origin[j], stored.events[j]);
      }
    }
    std::sort(dups.begin(), dups.end());
    s.duplicates += static_cast<std::int64_t>(rw.settled.size());
    s.duplicate_indexes = std::move(dups);
  }
}

}  // namespace tally::store
