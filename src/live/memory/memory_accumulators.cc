#include "live/memory/memory_accumulators.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <variant>

namespace tally::live {
namespace {

constexpr std::int64_t kMinuteUs = 60'000'000;
constexpr std::int64_t kHourMinutes = 60;
constexpr std::int64_t kShortMinutes = 5;

std::int64_t MinuteOf(core::Timestamp t) {
  std::int64_t us = core::ToMicros(t);
  return us >= 0 ? us / kMinuteUs : (us - kMinuteUs + 1) / kMinuteUs;
}

// 12 * s5 > multiple * s60 is velocity (s5 / 5) > multiple * hourly average
// (s60 / 60) without rounding either side.
bool IsRunaway(const RunawayPolicy& p, const AgentCounters& c, std::int64_t spend_5m) {
  if (!p.enabled) return false;
  if (p.absolute_per_min > 0 && c.velocity_per_min > p.absolute_per_min) return true;
  return c.velocity_per_min > p.floor_per_min &&
         static_cast<__int128>(spend_5m) * 12 > static_cast<__int128>(p.multiple) * c.spend_1h;
}

}  // namespace

MemoryAccumulators::MemoryAccumulators(const core::Clock& clock, core::BusinessCalendar calendar)
    : clock_(clock), calendar_(std::move(calendar)) {}

std::int64_t MemoryAccumulators::DayKey(core::Timestamp t) {
  std::int64_t us = core::ToMicros(t);
  if (us >= cached_day_start_ && us < cached_day_end_) return cached_day_start_;
  std::int64_t start = core::ToMicros(calendar_.DayStart(t));
  if (us >= cached_day_end_) {
    bool had_day = cached_day_end_ != 0;
    cached_day_start_ = start;
    cached_day_end_ = core::ToMicros(calendar_.NextDayStart(t));
    if (had_day) Prune(t);
  }
  return start;
}

void MemoryAccumulators::Prune(core::Timestamp now) {
  // Keep today and yesterday: yesterday still answers late events cheaply;
  // older days are never read.
  std::int64_t keep_from = core::ToMicros(calendar_.DayStart(core::FromMicros(cached_day_start_ - 1)));
  if (core::ToMicros(now) < cached_day_start_) return;
  for (auto& [id, a] : c_.agents) a.day_spend.erase(a.day_spend.begin(), a.day_spend.lower_bound(keep_from));
  for (auto& [id, days] : c_.product_day) days.erase(days.begin(), days.lower_bound(keep_from));
  std::int64_t month = core::ToMicros(calendar_.MonthStart(now));
  c_.month_revenue.erase(c_.month_revenue.begin(),
                         c_.month_revenue.lower_bound(core::ToMicros(calendar_.MonthStart(
                             core::FromMicros(month - 1)))));
}

void MemoryAccumulators::AddSpend(Counters& c, const std::string& agent, core::Timestamp t,
                                  std::int64_t cost, std::int64_t errors) {
  AgentState& a = c.agents[agent];
  std::int64_t m = MinuteOf(t);
  MinuteSlot& slot = a.minutes[static_cast<size_t>(((m % kHourMinutes) + kHourMinutes) % kHourMinutes)];
  if (slot.minute < m) slot = MinuteSlot{m, 0, 0};
  if (slot.minute == m) {
    slot.cost += cost;
    slot.errors += errors;
  }
  a.day_spend[DayKey(t)] += cost;
}

void MemoryAccumulators::AddRevenue(Counters& c, const std::string& product, core::Timestamp t,
                                    std::int64_t amount) {
  c.product_day[product][DayKey(t)] += amount;
  c.month_revenue[core::ToMicros(calendar_.MonthStart(t))] += amount;
}

core::Status MemoryAccumulators::Apply(std::span<const model::Event* const> events) {
  std::lock_guard lock(mu_);
  for (const model::Event* e : events) {
    if (const auto* call = std::get_if<model::LlmCall>(e)) {
      AddSpend(c_, call->agent_id, call->time, call->cost_usd.micros(),
               call->status == model::LlmStatus::kSuccess ? 0 : 1);
      if (call->reservation_id) {
        // Settled: the actual cost is in the spend now, so the estimate goes.
        if (auto it = reservations_.find(*call->reservation_id); it != reservations_.end()) {
          AgentState& owner = c_.agents[it->second.agent_id];
          owner.reserved -= it->second.amount;
          --owner.reservations;
          reservations_.erase(it);
        }
      }
    } else if (const auto* rev = std::get_if<model::RevenueEvent>(e)) {
      if (rev->amount_usd) AddRevenue(c_, rev->product_id, rev->time, rev->amount_usd->micros());
    }
  }
  return core::OkStatus();
}

core::Status MemoryAccumulators::Rebuild(store::Store& store) {
  core::Timestamp now = clock_.Now();
  core::Timestamp hour_from = core::FromMicros((MinuteOf(now) - (kHourMinutes - 1)) * kMinuteUs);
  core::Timestamp today = calendar_.DayStart(now);
  core::Timestamp llm_from = std::min(today, hour_from);
  core::Timestamp revenue_from = std::min(today, calendar_.MonthStart(now));
  // Minute buckets: every business-day boundary is a whole minute in every
  // zone in use, so buckets split exactly as the events would.
  auto spend = store.LlmSpendSince(llm_from, std::chrono::minutes(1));
  if (!spend) return std::unexpected(spend.error());
  auto revenue = store.RevenueSince(revenue_from, std::chrono::minutes(1));
  if (!revenue) return std::unexpected(revenue.error());

  std::lock_guard lock(mu_);
  Counters fresh;
  for (const auto& b : *spend) AddSpend(fresh, b.agent_id, b.bucket_start, b.cost_micros, b.errors);
  for (const auto& b : *revenue) AddRevenue(fresh, b.product_id, b.bucket_start, b.amount_micros);
  // Reservations in flight survive a rebuild: they are not in the store yet.
  for (auto& [id, a] : c_.agents) {
    if (a.reservations == 0) continue;
    AgentState& f = fresh.agents[id];
    f.reserved = a.reserved;
    f.reservations = a.reservations;
  }
  c_ = std::move(fresh);
  return core::OkStatus();
}

AgentCounters MemoryAccumulators::Read(const std::string& id, const AgentState& a,
                                       core::Timestamp now, std::int64_t today) const {
  AgentCounters out;
  out.agent_id = id;
  std::int64_t n = MinuteOf(now);
  std::int64_t spend_5m = 0;
  for (const MinuteSlot& s : a.minutes) {
    if (s.minute > n || s.minute <= n - kHourMinutes) continue;
    out.spend_1h += s.cost;
    if (s.minute > n - kShortMinutes) {
      spend_5m += s.cost;
      out.errors_5m += s.errors;
    }
  }
  out.velocity_per_min = spend_5m / kShortMinutes;
  if (auto it = a.day_spend.find(today); it != a.day_spend.end()) out.spend_today = it->second;
  out.reserved = a.reserved;
  out.reservations = a.reservations;
  return out;
}

void MemoryAccumulators::ExpireReservations(core::Timestamp now) {
  auto expire = [&](const std::string& id) {
    auto it = reservations_.find(id);
    if (it != reservations_.end()) {
      AgentState& owner = c_.agents[it->second.agent_id];
      owner.reserved -= it->second.amount;
      --owner.reservations;
      reservations_.erase(it);
    }
  };
  while (!expiry_fifo_.empty() && expiry_fifo_.front().first <= now) {
    expire(expiry_fifo_.front().second);
    expiry_fifo_.pop_front();
  }
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    expire(expiry_.begin()->second);
    expiry_.erase(expiry_.begin());
  }
}

core::Result<LiveSnapshot> MemoryAccumulators::Snapshot() {
  std::lock_guard lock(mu_);
  LiveSnapshot snap;
  snap.at = clock_.Now();
  ExpireReservations(snap.at);
  std::int64_t today = DayKey(snap.at);
  snap.day_start = core::FromMicros(today);
  for (const auto& [id, a] : c_.agents) {
    AgentCounters c = Read(id, a, snap.at, today);
    if (c.spend_today == 0 && c.spend_1h == 0 && c.errors_5m == 0 && c.reserved == 0 &&
        c.reservations == 0) {
      continue;
    }
    snap.agents.push_back(std::move(c));
  }
  std::sort(snap.agents.begin(), snap.agents.end(),
            [](const auto& x, const auto& y) { return x.agent_id < y.agent_id; });
  for (const auto& [id, days] : c_.product_day) {
    if (auto it = days.find(today); it != days.end()) snap.products.push_back({id, it->second});
  }
  std::sort(snap.products.begin(), snap.products.end(),
            [](const auto& x, const auto& y) { return x.product_id < y.product_id; });
  if (auto it = c_.month_revenue.find(core::ToMicros(calendar_.MonthStart(snap.at)));
      it != c_.month_revenue.end()) {
    snap.revenue_mtd = it->second;
  }
  return snap;
}

core::Result<AgentCounters> MemoryAccumulators::Agent(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  core::Timestamp now = clock_.Now();
  ExpireReservations(now);
  std::int64_t today = DayKey(now);
  auto it = c_.agents.find(agent_id);
  if (it == c_.agents.end()) {
    AgentCounters empty;
    empty.agent_id = agent_id;
    return empty;
  }
  return Read(agent_id, it->second, now, today);
}

core::Result<ReserveResult> MemoryAccumulators::CheckAndReserve(const ReserveRequest& r) {
  if (r.agent_id.empty()) return std::unexpected(core::Error::InvalidArgument("agent_id is empty"));
  if (r.estimate < 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("estimate must be >= 0 micro-USD, got {}", r.estimate)));
  }
  if (r.reserve && r.reservation_id.empty()) {
    return std::unexpected(core::Error::InvalidArgument("reservation_id is empty"));
  }
  std::lock_guard lock(mu_);
  core::Timestamp now = clock_.Now();
  ExpireReservations(now);
  std::int64_t today = DayKey(now);
  AgentState& a = c_.agents[r.agent_id];
  AgentCounters c = Read(r.agent_id, a, now, today);
  std::int64_t spend_5m = 0;
  for (const MinuteSlot& s : a.minutes) {
    if (s.minute <= MinuteOf(now) && s.minute > MinuteOf(now) - kShortMinutes) spend_5m += s.cost;
  }
  ReserveResult out;
  out.spent = c.spend_today;
  out.reserved_total = c.reserved;
  out.velocity_per_min = c.velocity_per_min;
  out.hourly_avg_per_min = c.spend_1h / kHourMinutes;
  // One node: its own view of the kill switches is the truth.
  if (r.pause != LocalPause::kNone) {
    out.verdict = r.pause == LocalPause::kFactory ? Verdict::kFactoryPaused : Verdict::kAgentPaused;
    return out;
  }
  if (IsRunaway(r.runaway, c, spend_5m)) {
    out.verdict = Verdict::kRunaway;
    return out;
  }
  // At 100% the agent is refused even a zero estimate until the day resets.
  if (r.limit && (c.spend_today >= *r.limit || c.spend_today + c.reserved + r.estimate > *r.limit)) {
    out.verdict = Verdict::kBudgetExceeded;
    return out;
  }
  if (r.reserve) {
    auto [it, inserted] = reservations_.try_emplace(r.reservation_id, Reservation{r.agent_id, r.estimate});
    if (!inserted) {
      return std::unexpected(
          core::Error::Conflict(fmt::format("reservation_id '{}' already exists", r.reservation_id)));
    }
    if (expiry_fifo_.empty() || expiry_fifo_.back().first <= r.expires_at) {
      expiry_fifo_.emplace_back(r.expires_at, r.reservation_id);
    } else {
      expiry_.emplace(r.expires_at, r.reservation_id);
    }
    a.reserved += r.estimate;
    ++a.reservations;
    out.reserved = true;
    out.reserved_total = a.reserved;
  }
  return out;
}

core::Status MemoryAccumulators::Release(const std::string& reservation_id) {
  std::lock_guard lock(mu_);
  auto it = reservations_.find(reservation_id);
  if (it == reservations_.end()) return core::OkStatus();
  AgentState& owner = c_.agents[it->second.agent_id];
  owner.reserved -= it->second.amount;
  --owner.reservations;
  reservations_.erase(it);
  return core::OkStatus();
}

}  // namespace tally::live
