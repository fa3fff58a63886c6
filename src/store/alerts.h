// Alert records (src/alerts): the lifecycle of one anomaly on one subject,
// persisted in the `alerts` table (docs/schema.md, docs/alerts.md).
//
// Lifecycle: an alert is created `firing` the first time its rule trips for
// its subject and stays the ONE firing alert of that (rule, subject) while the
// rule keeps tripping (the store enforces it with a partial unique index), its
// numbers and sentence refreshed on every evaluation. When the rule stops
// tripping it becomes `resolved` (resolved_at set); a later trip creates a new
// alert. Acknowledging records who and when; silencing until T suppresses
// notifications of that (rule, subject) until T, across re-fires.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/time.h"

namespace tally::store {

struct AlertRecord {
  std::int64_t id = 0;      // assigned by the store
  std::string rule;         // "cost_velocity", "budget_warning", ...
  std::string subject;      // "agent:research-agent", "product:<uuid>", "factory"
  std::string severity;     // "info", "warning", "critical"
  std::string state;        // "firing" or "resolved"
  std::string message;      // the plain sentence
  std::string details;      // JSON object text: the numbers that tripped it
  core::Timestamp fired_at;
  core::Timestamp last_seen_at;  // last evaluation that found it tripping
  std::optional<core::Timestamp> resolved_at;
  std::optional<core::Timestamp> acked_at;
  std::string acked_by;
  std::optional<core::Timestamp> silenced_until;
};

// What FireAlert did: created a new firing alert (notify) or refreshed the
// one already firing (do not notify again).
struct AlertFireOutcome {
  AlertRecord alert;
  bool created = false;
};

// ListAlerts filter: state "" (any), "firing" or "resolved"; newest first.
struct AlertFilter {
  std::string state;
  std::string rule;
  std::int64_t limit = 100;
};

}  // namespace tally::store
