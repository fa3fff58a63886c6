#include "live/budget_enforcer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/ids.h"

namespace tally::live {

const char* DenyReasonName(DenyReason r) {
  switch (r) {
    case DenyReason::kNone: return "";
    case DenyReason::kBudgetExceeded: return "budget_exceeded";
    case DenyReason::kRunawayDetected: return "runaway_detected";
    case DenyReason::kAgentPaused: return "agent_paused";
    case DenyReason::kFactoryPaused: return "factory_paused";
    case DenyReason::kUnknownModel: return "unknown_model";
    case DenyReason::kLiveUnavailable: return "live_unavailable";
  }
  return "";
}

core::Result<BudgetOptions> BudgetOptionsFromConfig(const core::Config& config) {
  BudgetOptions o;
  auto money = [](std::string_view name, const std::string& text) -> core::Result<std::int64_t> {
    auto m = core::Money::Parse(text);
    if (!m || m->micros() < 0) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("budget.{} = '{}' is not a non-negative USD amount", name, text)));
    }
    return m->micros();
  };
  o.reservation_ttl = std::chrono::seconds(config.budget_reservation_ttl_seconds);
  o.runaway.absolute_per_min = TALLY_TRY(money("runaway_usd_per_min", config.budget_runaway_usd_per_min));
  o.runaway.multiple = config.budget_runaway_multiple;
  o.runaway.floor_per_min = TALLY_TRY(money("runaway_floor_usd_per_min", config.budget_runaway_floor_usd_per_min));
  if (!config.budget_unknown_model_usd_per_mtok.empty()) {
    o.unknown_model_per_mtok =
        TALLY_TRY(money("unknown_model_usd_per_mtok", config.budget_unknown_model_usd_per_mtok));
    if (*o.unknown_model_per_mtok == 0) {
      return std::unexpected(core::Error::InvalidArgument(
          "budget.unknown_model_usd_per_mtok = '0': an unknown model is never priced at zero; "
          "leave it empty to refuse such checks"));
    }
  }
  return o;
}

BudgetEnforcer::BudgetEnforcer(Accumulators& live, store::Store& store, const model::PriceTable& prices,
                               const core::Clock& clock, BudgetOptions options)
    : live_(live),
      store_(store),
      prices_(prices),
      clock_(clock),
      options_(std::move(options)),
      // Ids are a per-process random prefix plus a counter: unique across
      // nodes and restarts without a CSPRNG call per check.
      node_prefix_("res_" + core::RandomHex(6) + "_") {}

core::Status BudgetEnforcer::Init() {
  auto factory = store_.GetFactoryKillSwitch();
  if (!factory) return std::unexpected(factory.error());
  std::lock_guard lock(mu_);
  if (*factory) factory_ = KillSwitchState{(*factory)->paused, (*factory)->reason, (*factory)->actor, (*factory)->at};
  return core::OkStatus();
}

KillSwitchState BudgetEnforcer::Factory() const {
  std::lock_guard lock(mu_);
  return factory_;
}

std::string BudgetEnforcer::NextReservationId() {
  return node_prefix_ + std::to_string(next_reservation_.fetch_add(1, std::memory_order_relaxed));
}

core::Result<BudgetEnforcer::AgentEntry> BudgetEnforcer::LoadAgent(const std::string& agent_id,
                                                                   core::Timestamp now) {
  {
    std::lock_guard lock(mu_);
    auto it = agents_.find(agent_id);
    if (it != agents_.end() && now - it->second.loaded_at < options_.agent_cache_ttl) return it->second;
  }
  AgentEntry fresh;
  fresh.loaded_at = now;
  auto agent = store_.GetAgent(agent_id);
  if (agent) {
    fresh.known = true;
    if (agent->daily_budget) fresh.limit = agent->daily_budget->micros();
    fresh.paused = agent->status == "paused";
  } else if (agent.error().code() != core::ErrorCode::kNotFound) {
    return std::unexpected(agent.error());
  }
  std::lock_guard lock(mu_);
  AgentEntry& slot = agents_[agent_id];
  fresh.resumed_at = slot.resumed_at;
  slot = fresh;
  return slot;
}

core::Result<std::int64_t> BudgetEnforcer::Estimate(const CheckRequest& r, bool* unknown_model) const {
  *unknown_model = false;
  if (r.estimated_cost) {
    if (r.estimated_cost->micros() < 0) {
      return std::unexpected(core::Error::InvalidArgument(
          fmt::format("estimated_cost_usd must be >= 0, got {}", r.estimated_cost->ToString())));
    }
    return r.estimated_cost->micros();
  }
  if (r.model.empty()) {
    return std::unexpected(core::Error::InvalidArgument(
        "give estimated_cost_usd, or model with input_tokens and max_tokens"));
  }
  if (r.input_tokens < 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("input_tokens must be >= 0, got {}", r.input_tokens)));
  }
  if (r.max_tokens && *r.max_tokens < 0) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("max_tokens must be >= 0, got {}", *r.max_tokens)));
  }
  const model::ModelPrice* price = prices_.Find(r.model);
  if (price == nullptr) {
    if (!options_.unknown_model_per_mtok) {
      *unknown_model = true;
      return 0;
    }
    if (!r.max_tokens) {
      return std::unexpected(core::Error::InvalidArgument(fmt::format(
          "max_tokens is required: model '{}' is not in the price table", r.model)));
    }
    // Never zero: the fallback rate applies to every token, rounded up.
    __int128 micros = static_cast<__int128>(r.input_tokens + *r.max_tokens) * *options_.unknown_model_per_mtok;
    return static_cast<std::int64_t>((micros + 999'999) / 1'000'000);
  }
  std::optional<std::int64_t> output = r.max_tokens;
  if (price->max_output_tokens) output = std::min(output.value_or(*price->max_output_tokens), *price->max_output_tokens);
  if (!output) {
    return std::unexpected(core::Error::InvalidArgument(fmt::format(
        "max_tokens is required: the price table has no max output for model '{}'", r.model)));
  }
  // Worst case: no cache discount.
  auto cost = prices_.Cost(r.model, r.input_tokens, *output, 0);
  if (!cost) return std::unexpected(cost.error());
  return cost->micros();
}

core::Result<Decision> BudgetEnforcer::Check(const CheckRequest& r) {
  if (r.agent_id.empty()) return std::unexpected(core::Error::InvalidArgument("agent_id is required"));
  core::Timestamp now = clock_.Now();
  bool unknown_model = false;
  std::int64_t estimate = 0;
  auto estimated = Estimate(r, &unknown_model);
  if (!estimated) return std::unexpected(estimated.error());
  estimate = *estimated;
  AgentEntry agent = TALLY_TRY(LoadAgent(r.agent_id, now));

  Decision d;
  d.estimate = core::Money::FromMicros(estimate);
  if (agent.limit) d.limit = core::Money::FromMicros(*agent.limit);
  auto fill_counters = [&](std::int64_t spent, std::int64_t reserved, std::int64_t velocity) {
    d.spent = core::Money::FromMicros(spent);
    d.reserved = core::Money::FromMicros(reserved);
    d.velocity_per_min = core::Money::FromMicros(velocity);
    if (agent.limit) {
      d.remaining = core::Money::FromMicros(std::max<std::int64_t>(0, *agent.limit - spent - reserved));
      d.warning = static_cast<__int128>(spent + reserved) * 100 >=
                  static_cast<__int128>(options_.warn_percent) * *agent.limit;
    }
  };
  LocalPause pause = LocalPause::kNone;
  {
    std::lock_guard lock(mu_);
    if (factory_.paused) pause = LocalPause::kFactory;
  }
  if (pause == LocalPause::kNone && agent.paused) pause = LocalPause::kAgent;
  DenyReason early = DenyReason::kNone;
  if (unknown_model) {
    early = pause == LocalPause::kFactory ? DenyReason::kFactoryPaused
            : pause == LocalPause::kAgent ? DenyReason::kAgentPaused
                                          : DenyReason::kUnknownModel;
  }
  if (early != DenyReason::kNone) {
    AgentCounters c = TALLY_TRY(live_.Agent(r.agent_id));
    fill_counters(c.spend_today, c.reserved, c.velocity_per_min);
    d.reason = early;
    return d;
  }

  ReserveRequest req;
  req.agent_id = r.agent_id;
  req.estimate = estimate;
  req.limit = agent.limit;
  req.reserve = r.reserve && !r.observe_only;
  if (req.reserve) req.reservation_id = NextReservationId();
  req.expires_at = now + options_.reservation_ttl;
  req.runaway = options_.runaway;
  req.pause = pause;
  if (agent.resumed_at && now - *agent.resumed_at < options_.resume_grace) req.runaway.enabled = false;
  ReserveResult res = TALLY_TRY(live_.CheckAndReserve(req));
  fill_counters(res.spent, res.reserved_total, res.velocity_per_min);
  d.degraded = res.degraded;
  switch (res.verdict) {
    case Verdict::kAllowed:
      d.allowed = true;
      if (res.reserved) d.reservation_id = req.reservation_id;
      return d;
    case Verdict::kBudgetExceeded:
      d.reason = DenyReason::kBudgetExceeded;
      return d;
    case Verdict::kAgentPaused:
      d.reason = DenyReason::kAgentPaused;
      return d;
    case Verdict::kFactoryPaused:
      d.reason = DenyReason::kFactoryPaused;
      return d;
    case Verdict::kUnavailable:
      d.reason = DenyReason::kLiveUnavailable;
      return d;
    case Verdict::kRunaway:
      d.reason = DenyReason::kRunawayDetected;
      break;
  }
  // Seed §9: a cost-velocity spike pauses the agent. An unknown agent has no
  // row to pause; its calls are still refused while the spike lasts.
  std::string why = fmt::format("runaway: {} USD/min against a rolling-hour average of {} USD/min",
                                core::Money::FromMicros(res.velocity_per_min).ToString(),
                                core::Money::FromMicros(res.hourly_avg_per_min).ToString());
  if (r.observe_only) return d;
  spdlog::warn("agent '{}' {}; pausing it", r.agent_id, why);
  if (agent.known) {
    if (auto s = SetPaused(r.agent_id, true, why, "tally:runaway"); !s) {
      spdlog::error("pausing runaway agent '{}': {}", r.agent_id, s.error().ToString());
    }
  }
  return d;
}

core::Status BudgetEnforcer::SetPaused(const std::string& target, bool paused, const std::string& reason,
                                       const std::string& actor) {
  core::Timestamp now = clock_.Now();
  TALLY_RETURN_IF_ERROR(store_.SetKillSwitch(store::KillSwitchChange{target, paused, reason, actor, now}));
  // The copy every node's checks read (Redis). The store already holds the
  // change, and a rebuild (or the reconciliation after a Redis outage)
  // copies the switches again, so a failure here is logged, not returned.
  if (auto s = live_.SetPause(target, paused); !s) {
    spdlog::error("kill switch '{}' stored but not shared with other nodes yet: {}", target, s.error().ToString());
  }
  {
    std::lock_guard lock(mu_);
    if (target == store::kFactoryTarget) {
      factory_ = KillSwitchState{paused, reason, actor, now};
    } else {
      AgentEntry& entry = agents_[target];
      // Forces a reload of the budget on the next check, with the new flag now.
      entry.paused = paused;
      if (!paused) entry.resumed_at = now;
      entry.known = true;
    }
  }
  if (options_.on_pause_change) options_.on_pause_change(target, paused, reason, actor);
  return core::OkStatus();
}

}  // namespace tally::live
