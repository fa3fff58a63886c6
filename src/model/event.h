// The time-series events of seed §3.2, one struct per table, plus Batch.
//
// Field names and meanings are the seed's; each table adds `event_id`, the
// idempotency key (unique per table): the sender's id, or a hash of the
// event's content when the sender gives none. Money is exact micro-USD, times
// are UTC. Optional columns are std::optional; `metadata` is a JSON object's
// text or empty. Values here are already validated (see validate.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "core/time.h"

namespace tally::model {

using core::Money;
using core::Timestamp;

enum class EventKind { kLlmCall = 0, kRevenue = 1, kTask = 2, kInfraCost = 3, kGrowth = 4, kOps = 5 };
inline constexpr int kEventKindCount = 6;

// "llm_calls", "revenue_events", "task_events", "infra_costs", "growth_events",
// "ops_events".
std::string_view TableName(EventKind kind);
core::Result<EventKind> ParseTableName(std::string_view table);

// Closed vocabularies: these values drive computation, unknown ones are rejected.
enum class LlmStatus { kSuccess, kError, kTimeout, kRateLimited };
enum class RevenueEventType {
  kPayment, kSubscriptionStart, kSubscriptionCancel, kRefund, kAdImpression, kAffiliateConversion
};
enum class TaskStatus { kStarted, kCompleted, kFailed, kEscalated };

std::string_view ToString(LlmStatus s);
std::string_view ToString(RevenueEventType t);
std::string_view ToString(TaskStatus s);
std::optional<LlmStatus> ParseLlmStatus(std::string_view s);
std::optional<RevenueEventType> ParseRevenueEventType(std::string_view s);
std::optional<TaskStatus> ParseTaskStatus(std::string_view s);

struct LlmCall {
  std::string event_id;
  Timestamp time;
  std::string agent_id;
  std::optional<std::string> task_id;  // UUID, lowercase
  std::string model;
  std::string provider;
  std::int64_t input_tokens = 0;   // includes cached_tokens (OpenAI convention)
  std::int64_t output_tokens = 0;
  std::int64_t cached_tokens = 0;
  Money cost_usd;                  // given, or priced from the price table
  std::int64_t latency_ms = 0;
  LlmStatus status = LlmStatus::kSuccess;
  std::optional<std::string> error_type;
  std::optional<std::string> reservation_id;  // a budget reservation this call settles
  std::string metadata;
};

// A running total reported by a provider instead of an event's own amount
// (Lemon Squeezy's order refunded_amount: everything refunded on the order so
// far). The rows of a running total are the event whose id is `key` and those
// whose ids start with `key` + ":"; together they must sum to the largest
// total seen. The store turns such an event into the increase over what those
// rows already hold, inside its write transaction (store/cumulative.h), and
// stores nothing when there is no increase (a retry, or an older total
// arriving late).
struct CumulativeAmount {
  std::string key;  // e.g. "lemonsqueezy:refund:order:<order id>"
  Money total;      // signed like amount_usd: a refund total is negative
};

struct RevenueEvent {
  std::string event_id;
  Timestamp time;
  std::string product_id;  // UUID, lowercase
  std::optional<std::string> channel_id;
  RevenueEventType event_type = RevenueEventType::kPayment;
  std::optional<Money> amount_usd;  // refunds are negative
  std::string currency = "USD";
  std::optional<std::string> customer_id;
  std::string metadata;
  // Set: amount_usd is replaced at append by the increase of this running
  // total; event_id must be cumulative->key + ":" + a distinct suffix. Not a
  // column: the stored row holds the increase.
  std::optional<CumulativeAmount> cumulative;
};

struct TaskEvent {
  std::string event_id;
  Timestamp time;
  std::string task_id;  // UUID, lowercase
  std::string agent_id;
  std::optional<std::string> product_id;
  std::string task_type;  // open slug: build, deploy, fix-bug, write-content, research, ...
  TaskStatus status = TaskStatus::kStarted;
  std::optional<std::int64_t> duration_ms;
  std::optional<Money> total_cost_usd;
  std::optional<std::int64_t> steps_count;
  std::optional<std::int64_t> quality_score_centi;  // 0..100 (seed NUMERIC(3,2) 0.00-1.00)
  std::string metadata;
};

struct InfraCost {
  std::string event_id;
  Timestamp time;
  std::optional<std::string> product_id;  // none: shared infra
  std::string cost_type;                  // open slug: hosting, domain, database, cdn, email, ...
  std::string provider;
  Money amount_usd;
  std::optional<std::string> billing_period;
  std::string metadata;
};

struct GrowthEvent {
  std::string event_id;
  Timestamp time;
  std::string product_id;
  std::string channel;  // open slug: organic, reddit, twitter, referral, direct, ...
  std::string metric;   // open slug: pageview, signup, trial_start, conversion, churn, ...
  std::int64_t value_centi = 100;  // seed NUMERIC(10,2), default 1
  std::string metadata;
};

// ops_events (tally's addition, DESIGN.md): what happens to the running
// products: deploys, uptime checks, incidents, and the GitHub activity behind
// them (push, pull_request_merged, release). `kind` and `status` are open
// slugs; a status of failure, error or down counts as a failure in ops_daily
// (IsOpsFailure), which the change failure rate and uptime are read from.
struct OpsEvent {
  std::string event_id;
  Timestamp time;
  std::optional<std::string> product_id;   // none: factory-wide
  std::string kind;                        // deploy, uptime_check, incident, push, release, ...
  std::string source;                      // github, uptime, manual, ... (open slug)
  std::string status;                      // success, failure, error, down, up, opened, resolved, ...
  std::optional<std::int64_t> latency_ms;  // uptime checks, deploy durations
  std::optional<std::int64_t> status_code; // an HTTP status of an uptime check
  std::optional<std::string> repository;   // "owner/name" for GitHub events
  std::string metadata;
};

// The statuses ops_daily counts as failures.
bool IsOpsFailure(std::string_view status);

using Event = std::variant<LlmCall, RevenueEvent, TaskEvent, InfraCost, GrowthEvent, OpsEvent>;

EventKind KindOf(const Event& e);
const std::string& EventIdOf(const Event& e);
Timestamp TimeOf(const Event& e);

// Events submitted together (one request, one file chunk). Committed
// atomically: all of a batch or none of it.
struct Batch {
  std::string source;  // "http", "cli:ingest", "demo", ...
  std::vector<Event> events;
};

}  // namespace tally::model
