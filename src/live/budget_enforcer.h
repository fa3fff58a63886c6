// BudgetEnforcer: the pre-call budget check of seed §6 and the kill switches.
//
// Check(request) decides in this order, and a denial is a Decision, never an
// Error:
//   1. factory paused                      -> factory_paused
//   2. agent paused (agents.status)        -> agent_paused
//      (in Redis mode steps 1-2 read the switches kept in Redis, inside the
//      same script as 4-5, so a pause through any node denies the next check
//      on every node; this node's own view is used when Redis is down)
//   3. estimate: given in USD, or the worst case of model + input tokens +
//      max_tokens (capped at the model's max output) from the price table; a
//      model missing there uses the configured fallback rate, or is refused
//      -> unknown_model
//   4. runaway (RunawayPolicy on the live counters) -> runaway_detected, and
//      the agent is paused (persisted, audited, actor "tally:runaway")
//   5. spent + reserved + estimate > agents.daily_budget, or spent already at
//      the limit (refused until the next business day) -> budget_exceeded
// Steps 4-5 and the reservation are one atomic Accumulators::CheckAndReserve.
// An agent without daily_budget (or unknown to the store) is unlimited but
// still runaway-checked. warning is set at >= warn_percent of the limit.
//
// Agent budgets and pause flags are cached for agent_cache_ttl (a PUT to
// /v1/agents is seen within it); pauses through this class are seen at once.
// A resumed agent is not runaway-checked for resume_grace, so that the burst
// that tripped it does not trip it again at once.
// Thread-safety: all methods are safe concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/config.h"
#include "core/money.h"
#include "live/accumulators.h"
#include "model/price_table.h"
#include "store/store.h"

namespace tally::live {

struct BudgetOptions {
  // Unsettled reservations lapse after this; long enough for the slowest LLM
  // call plus ingest of its record, short enough that a crashed caller's
  // reservation does not block the agent for long.
  std::chrono::seconds reservation_ttl{300};
  int warn_percent = 80;
  RunawayPolicy runaway;
  // Rate for models missing from the price table, micro-USD per 1M tokens
  // (input and output alike). nullopt: such checks are refused.
  std::optional<std::int64_t> unknown_model_per_mtok;
  std::chrono::seconds agent_cache_ttl{5};
  std::chrono::seconds resume_grace{300};
  // Called after a pause or resume is stored (target, paused, reason, actor),
  // e.g. to annotate dashboards. It runs on the caller's thread, possibly
  // inside a budget check: it must only hand the work off, never block.
  std::function<void(const std::string&, bool, const std::string&, const std::string&)> on_pause_change;
};

// From the [budget] settings of core::Config; invalid_argument naming the
// setting and its value when one does not parse.
core::Result<BudgetOptions> BudgetOptionsFromConfig(const core::Config& config);

// kLiveUnavailable: Redis is down and [live] redis_down_policy is deny.
enum class DenyReason { kNone, kBudgetExceeded, kRunawayDetected, kAgentPaused, kFactoryPaused, kUnknownModel,
                        kLiveUnavailable };
const char* DenyReasonName(DenyReason r);  // "budget_exceeded", ...; "" for kNone

struct CheckRequest {
  std::string agent_id;
  std::optional<core::Money> estimated_cost;  // or model + tokens:
  std::string model;
  std::int64_t input_tokens = 0;
  std::optional<std::int64_t> max_tokens;
  bool reserve = true;
  // Status only (GET /v1/budget/{agent}): never reserves and never pauses.
  bool observe_only = false;
};

struct Decision {
  bool allowed = false;
  DenyReason reason = DenyReason::kNone;
  core::Money estimate;
  core::Money spent;      // today
  core::Money reserved;   // held, including this check's reservation
  std::optional<core::Money> limit;
  std::optional<core::Money> remaining;  // limit - spent - reserved, at least 0
  bool warning = false;
  std::string reservation_id;  // set when allowed with reserve
  core::Money velocity_per_min;
  // Answered without Redis ([live] redis_down_policy): this node's counters
  // (shadow), or a blanket deny or allow.
  bool degraded = false;
};

struct KillSwitchState {
  bool paused = false;
  std::string reason;
  std::string actor;
  std::optional<core::Timestamp> at;
};

class BudgetEnforcer {
 public:
  // All references must outlive the enforcer.
  BudgetEnforcer(Accumulators& live, store::Store& store, const model::PriceTable& prices,
                 const core::Clock& clock, BudgetOptions options);

  // Loads the factory switch from the store.
  core::Status Init();

  // invalid_argument for a bad request (empty agent, negative estimate, no
  // estimate and no model, tokens < 0); unavailable when a store or backend
  // read fails.
  core::Result<Decision> Check(const CheckRequest& request);

  // Pause or resume an agent or, with target "factory", everything. Persisted
  // and audited; not_found for an unknown agent.
  core::Status SetPaused(const std::string& target, bool paused, const std::string& reason,
                         const std::string& actor);
  KillSwitchState Factory() const;

 private:
  struct AgentEntry {
    bool known = false;
    std::optional<std::int64_t> limit;
    bool paused = false;
    core::Timestamp loaded_at;
    std::optional<core::Timestamp> resumed_at;
  };
  core::Result<AgentEntry> LoadAgent(const std::string& agent_id, core::Timestamp now);
  core::Result<std::int64_t> Estimate(const CheckRequest& r, bool* unknown_model) const;
  std::string NextReservationId();

  Accumulators& live_;
  store::Store& store_;
  const model::PriceTable& prices_;
  const core::Clock& clock_;
  const BudgetOptions options_;
  const std::string node_prefix_;
  std::atomic<std::uint64_t> next_reservation_{1};

  mutable std::mutex mu_;
  std::unordered_map<std::string, AgentEntry> agents_;  // guarded by mu_
  KillSwitchState factory_;                             // guarded by mu_
};

}  // namespace tally::live
