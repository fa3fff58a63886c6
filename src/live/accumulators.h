// Accumulators: the live counters of seed §4 and the budget reservations that
// must be checked atomically against them.
//
// Counters (all money in integer micro-USD, all times UTC):
//  - spend today per agent: LLM cost of calls whose time falls in the current
//    business day (BusinessCalendar; resets at local midnight);
//  - spend in the rolling hour per agent, errors (status != success) in the
//    sliding 5 minutes per agent, and cost velocity per agent = spend of the
//    last 5 minutes / 5, in micro-USD per minute. These windows move in whole
//    minutes: an event at 12:00:30 leaves the hour window at 13:00:00;
//  - revenue today per product and revenue month-to-date (net: refunds count).
// Every event counts in the window of its own `time`: a late event lands in
// its own (possibly past) window, never in today's.
//
// Counters are derived, never the record: Apply is called after the store
// commit with the events that commit newly stored (never duplicates), and
// Rebuild recomputes everything from the store.
//
// Reservations: CheckAndReserve atomically compares spent + reserved +
// estimate with the limit and, when allowed, reserves the estimate until
// it expires or an LLM call carrying its reservation_id is applied (the
// estimate is then replaced by the call's actual cost). No interleaving of
// concurrent calls, from any number of threads (memory) or nodes (Redis),
// admits together more than the limit.
//
// Thread-safety: every method of every backend may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/event.h"
#include "store/store.h"

namespace tally::live {

struct AgentCounters {
  std::string agent_id;
  std::int64_t spend_today = 0;       // micro-USD
  std::int64_t spend_1h = 0;          // micro-USD, rolling 60 minutes
  std::int64_t errors_5m = 0;         // calls, sliding 5 minutes
  std::int64_t velocity_per_min = 0;  // micro-USD per minute over the last 5 minutes
  std::int64_t reserved = 0;          // micro-USD held by unexpired reservations
  std::int64_t reservations = 0;      // how many
};

struct ProductCounters {
  std::string product_id;
  std::int64_t revenue_today = 0;  // micro-USD, net
};

struct LiveSnapshot {
  core::Timestamp at;         // the clock's now when taken
  core::Timestamp day_start;  // start of the business day counted as "today"
  std::vector<AgentCounters> agents;      // by agent_id; agents with nothing live are left out
  std::vector<ProductCounters> products;  // by product_id
  std::int64_t revenue_mtd = 0;           // micro-USD, net, business month
  bool degraded = false;                  // this node's counters only (Redis down)
};

// Runaway detection (seed §9): velocity above absolute_per_min, or above
// multiple x the agent's rolling-hour average per minute while also above
// floor_per_min (so a quiet agent's first calls do not trip it).
struct RunawayPolicy {
  bool enabled = true;
  std::int64_t absolute_per_min = 5'000'000;  // micro-USD/min; 0 disables the absolute test
  std::int64_t multiple = 3;
  std::int64_t floor_per_min = 100'000;  // micro-USD/min
};

// This node's view of the kill switches, passed with each check. The memory
// backend (one node) obeys it; Redis ignores it and reads the switches kept
// in Redis instead (SetPause), which every node sees at once.
enum class LocalPause { kNone, kAgent, kFactory };

struct ReserveRequest {
  std::string agent_id;
  std::int64_t estimate = 0;           // micro-USD, >= 0
  std::optional<std::int64_t> limit;   // micro-USD per business day; nullopt: unlimited
  bool reserve = true;                 // false: check only
  std::string reservation_id;          // chosen by the caller, unique
  core::Timestamp expires_at;          // when an unsettled reservation lapses
  RunawayPolicy runaway;
  LocalPause pause = LocalPause::kNone;
};

// kUnavailable: the shared backend is down and the policy is deny
// (FailoverAccumulators).
enum class Verdict { kAllowed, kBudgetExceeded, kRunaway, kAgentPaused, kFactoryPaused, kUnavailable };

struct ReserveResult {
  Verdict verdict = Verdict::kAllowed;
  bool reserved = false;               // the estimate is now held under reservation_id
  std::int64_t spent = 0;              // spend today, micro-USD
  std::int64_t reserved_total = 0;     // held for the agent, including this reservation
  std::int64_t velocity_per_min = 0;   // micro-USD per minute, last 5 minutes
  std::int64_t hourly_avg_per_min = 0; // spend_1h / 60
  bool degraded = false;               // answered without the shared backend (Redis down)
};

class Accumulators {
 public:
  virtual ~Accumulators() = default;

  // Counts events that a commit newly stored. Never fails for a memory
  // backend; unavailable when a remote backend cannot be reached.
  virtual core::Status Apply(std::span<const model::Event* const> events) = 0;

  // Replaces every counter by one recomputed from the store (reservations in
  // flight are kept). Exact when no commit is applied concurrently (at
  // start); an event committed while a live rebuild reads may be missed or
  // counted twice until the next rebuild.
  virtual core::Status Rebuild(store::Store& store) = 0;

  virtual core::Result<LiveSnapshot> Snapshot() = 0;
  // One agent's counters (zeros for an agent with nothing live).
  virtual core::Result<AgentCounters> Agent(const std::string& agent_id) = 0;

  // See the reservation contract above. invalid_argument for a negative
  // estimate or an empty agent or reservation id.
  virtual core::Result<ReserveResult> CheckAndReserve(const ReserveRequest& request) = 0;
  // Drops a reservation without a call (the LLM call was not made). Unknown
  // or expired ids are fine: nothing to release.
  virtual core::Status Release(const std::string& reservation_id) = 0;

  // Kill switches shared by every node (target: an agent id or
  // store::kFactoryTarget). The store is the record; this is the copy that
  // checks read. No-op for a backend local to one node.
  virtual core::Status SetPause(const std::string& target, bool paused) {
    (void)target, (void)paused;
    return core::OkStatus();
  }
  // A cheap round trip to the backend: unavailable when it cannot be reached.
  virtual core::Status Ping() { return core::OkStatus(); }
  // True while checks are answered without the shared backend.
  virtual bool degraded() const { return false; }
};

// The events of committed batches that the store newly stored, skipping
// each batch's duplicate_indexes and taking its `adjusted` events (running
// totals stored as their increase) instead of the batch's. Pointers into the
// batches and the stats.
std::vector<const model::Event*> NewlyStored(std::span<const model::Batch* const> batches,
                                             std::span<const store::AppendStats> stats);

}  // namespace tally::live
