// MemoryAccumulators: the embedded live backend; all counters and
// reservations in this process, behind one mutex (so check-and-reserve is
// exact: the mutex makes every check see every earlier reservation).
//
// Invariants (guarded by mu_):
//  - agent.reserved == sum of estimates of reservations_ held for the agent;
//  - every entry of reservations_ has one entry in expiry_fifo_ or expiry_ (they may hold
//    ids already settled or released; they are skipped when popped);
//  - minute ring slot m % 60 holds only minute m's sums; a slot is reused
//    (zeroed) for a newer minute, and an event older than a slot's minute
//    is outside the hour window and dropped from the minute sums.
// Memory: per agent 60 slots + the last two business days; per product two
// days; per month one entry. Old days are dropped as days pass.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "live/accumulators.h"
#include "core/business_calendar.h"

namespace tally::live {

class MemoryAccumulators final : public Accumulators {
 public:
  // clock and calendar must outlive this object.
  MemoryAccumulators(const core::Clock& clock, core::BusinessCalendar calendar);

  core::Status Apply(std::span<const model::Event* const> events) override;
  core::Status Rebuild(store::Store& store) override;
  core::Result<LiveSnapshot> Snapshot() override;
  core::Result<AgentCounters> Agent(const std::string& agent_id) override;
  core::Result<ReserveResult> CheckAndReserve(const ReserveRequest& request) override;
  core::Status Release(const std::string& reservation_id) override;

 private:
  struct MinuteSlot {
    std::int64_t minute = -1;  // minutes since the epoch
    std::int64_t cost = 0;
    std::int64_t errors = 0;
  };
  struct AgentState {
    std::array<MinuteSlot, 60> minutes;
    std::map<std::int64_t, std::int64_t> day_spend;  // day start (us) -> micro-USD
    std::int64_t reserved = 0;
    std::int64_t reservations = 0;
  };
  struct Reservation {
    std::string agent_id;
    std::int64_t amount = 0;
  };
  // Counters only (no reservations): what Rebuild replaces.
  struct Counters {
    std::unordered_map<std::string, AgentState> agents;
    std::unordered_map<std::string, std::map<std::int64_t, std::int64_t>> product_day;
    std::map<std::int64_t, std::int64_t> month_revenue;  // month start (us) -> micro-USD
  };

  void AddSpend(Counters& c, const std::string& agent, core::Timestamp t, std::int64_t cost,
                std::int64_t errors);
  void AddRevenue(Counters& c, const std::string& product, core::Timestamp t, std::int64_t amount);
  // Day start of t, with the current day cached (most events are today's).
  std::int64_t DayKey(core::Timestamp t);
  AgentCounters Read(const std::string& id, const AgentState& a, core::Timestamp now,
                     std::int64_t today) const;
  void ExpireReservations(core::Timestamp now);
  void Prune(core::Timestamp now);

  const core::Clock& clock_;
  const core::BusinessCalendar calendar_;

  std::mutex mu_;
  Counters c_;                                                // guarded by mu_
  std::unordered_map<std::string, Reservation> reservations_;  // guarded by mu_
  // Expiry order. Reservations nearly always come with a later expiry than
  // the previous one (now + a fixed TTL), so they are appended to a FIFO
  // (O(1), no tree node); the rare earlier one goes to a multimap.
  std::deque<std::pair<core::Timestamp, std::string>> expiry_fifo_;  // guarded by mu_
  std::multimap<core::Timestamp, std::string> expiry_;               // guarded by mu_
  std::int64_t cached_day_start_ = 0;                         // guarded by mu_
  std::int64_t cached_day_end_ = 0;                           // guarded by mu_
};

}  // namespace tally::live
