// Evaluator: one evaluation of every rule. Gathers a RuleInputs snapshot
// (live counters, entities, rollups and recent sums from the store, probe
// states), runs the rules, and carries out the alert lifecycle:
//  - a finding whose (rule, subject) is not firing yet: the agent is paused
//    first when the rule asks (through the injected PauseFn, i.e. the kill
//    switch path: persisted and audited), the sentence says so ("; paused at
//    14:32 UTC"), the alert is stored firing and, unless silenced,
//    notified once;
//  - a finding already firing: its numbers are refreshed, nothing is sent;
//  - a firing alert whose rule no longer finds it: resolved, and the
//    resolution notified unless silenced.
// "Notified once" holds across nodes: only the store's FireAlert that
// creates the row (one per rule x subject, by a unique index) notifies.
// A failed read aborts the evaluation before anything changes.
// Thread-safety: RunOnce must not run concurrently with itself.
#pragma once

#include <functional>
#include <string>

#include "alerts/dispatcher.h"
#include "alerts/rule_config.h"
#include "alerts/rules.h"
#include "core/clock.h"
#include "live/accumulators.h"
#include "store/store.h"

namespace tally::alerts {

class ProbeBoard;

// Pauses an agent (agent id, reason); the serve wiring passes
// BudgetEnforcer::SetPaused with actor "tally:alerts".
using PauseFn = std::function<core::Status(const std::string& agent, const std::string& reason)>;

struct EvalReport {
  int findings = 0;
  int fired = 0;      // new alerts
  int refreshed = 0;  // already firing
  int resolved = 0;
  int paused = 0;
  int notified = 0;   // notifications queued
};

class Evaluator {
 public:
  // References must outlive the evaluator; probes and dispatcher may be null.
  Evaluator(store::Store& store, live::Accumulators& live, const core::Clock& clock, RuleSet rules,
            PauseFn pause, const ProbeBoard* probes, Dispatcher* dispatcher);

  core::Result<RuleInputs> Gather();
  core::Result<EvalReport> RunOnce();
  const RuleSet& rules() const { return rules_; }

 private:
  store::Store& store_;
  live::Accumulators& live_;
  const core::Clock& clock_;
  const RuleSet rules_;
  const PauseFn pause_;
  const ProbeBoard* probes_;
  Dispatcher* dispatcher_;
};

}  // namespace tally::alerts
