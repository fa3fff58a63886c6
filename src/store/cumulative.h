// Running totals at append (model::CumulativeAmount), the same on every
// backend. A provider that reports "refunded so far: X" for an order sends a
// growing total, redelivers each one, and may deliver them out of order; the
// store keeps one row per increase, so the order's rows always sum to the
// largest total seen.
//
// Each backend's AppendInTransaction calls PlanCumulative first, appends
// plan.batches instead of the given batches, then FinishCumulative to report
// its stats in terms of the given batches.
//
// Guarantees (the plan is made inside the append's write transaction, under
// the backend's write lock, so two appends can never both claim the same
// increase, from any thread or any tally node):
//  - an event with `cumulative` is stored with amount_usd = total - (sum of
//    the stored rows of its key + the increases given to earlier events of
//    the same key in this call);
//  - when that is no increase (the same total retried, a smaller total that
//    arrived late, zero) nothing is stored: it counts as a duplicate;
//  - events without `cumulative` pass through untouched, and a call without
//    any costs one scan of its events: no copy, no read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "model/event.h"

namespace tally::store {

struct AppendStats;

// Sum of amount_usd of the stored rows of a running total (the row whose
// event_id is `key` and those starting with `key` + ":"), read in the
// caller's transaction.
using RunningTotalReader = std::function<core::Result<core::Money>(const std::string& key)>;

class CumulativePlan {
 public:
  // What to append: the given batches, with rewritten copies in place of
  // those holding running totals.
  std::span<const model::Batch* const> batches() const { return batches_; }

 private:
  friend core::Result<CumulativePlan> PlanCumulative(std::span<const model::Batch* const>,
                                                     const RunningTotalReader&);
  friend void FinishCumulative(const CumulativePlan&, std::vector<AppendStats>*);

  struct Rewrite {
    size_t batch = 0;                  // index of the batch in the call
    std::vector<std::int64_t> origin;  // position in the given batch of each kept event
    std::vector<bool> adjusted;        // per kept event: its amount is an increase
    std::vector<std::int64_t> settled; // positions in the given batch stored as nothing
  };
  std::vector<const model::Batch*> batches_;
  std::vector<std::unique_ptr<model::Batch>> owned_;
  std::vector<Rewrite> rewrites_;
};

// Whether any event of the batch carries a running total.
bool HasRunningTotals(const model::Batch& batch);

// invalid_argument when an event's id is not its key + ":" + a suffix (its
// rows could then not be found again); a reader error is returned as is.
core::Result<CumulativePlan> PlanCumulative(std::span<const model::Batch* const> batches,
                                            const RunningTotalReader& read);

// `stats` holds one AppendStats per batch of plan.batches(); afterwards per
// given batch: settled events counted (and indexed) as duplicates, indexes
// mapped back, and `adjusted` listing the stored increases.
void FinishCumulative(const CumulativePlan& plan, std::vector<AppendStats>* stats);

// The SQL condition selecting the rows of a running total by event_id, as one
// index range: with ?1 = key, ?2 = key + ":", ?3 = key + ";" (the next byte):
// "event_id >= ?1 AND event_id < ?3 AND (event_id = ?1 OR event_id >= ?2)".
struct RunningTotalBounds {
  std::string key, prefix, end;
};
RunningTotalBounds BoundsOf(const std::string& key);

}  // namespace tally::store
