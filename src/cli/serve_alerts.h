// ServeAlerts: the alert machinery one `tally serve` node runs (docs/alerts.md):
// uptime probes on every node, notification delivery, and rule evaluation on
// the elected leader only (a Redis lease when live.redis_url is set, else this
// node alone). Probe results go through the ingest pipeline as ops events;
// auto-pauses go through the budget enforcer's kill switch.
//
// Lifetime: construct after the pipeline and the enforcer, Start() once the
// server listens, Stop() before the pipeline stops, so the lease is handed
// over at once and nothing is submitted to a stopped pipeline.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>

#include "alerts/dispatcher.h"
#include "alerts/evaluator.h"
#include "alerts/leader_lease.h"
#include "alerts/prober.h"
#include "alerts/scheduler.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"
#include "ingest/pipeline.h"
#include "live/accumulators.h"
#include "live/budget_enforcer.h"
#include "store/store.h"

namespace tally::cli {

class ServeAlerts {
 public:
  // nullptr when [alerts] enabled = false; an error names the bad setting.
  static core::Result<std::unique_ptr<ServeAlerts>> Create(const core::Config& config,
                                                           store::Store& store,
                                                           const core::Clock& clock,
                                                           ingest::Pipeline& pipeline,
                                                           live::Accumulators& live_counters,
                                                           live::BudgetEnforcer& budget);
  ~ServeAlerts();

  void Start();
  void Stop();
  // For GET /v1/alerts/status: this node, whether it leads, evaluations run.
  boost::json::object Status() const;

 private:
  ServeAlerts() = default;

  std::string node_id_;
  alerts::ProbeBoard probe_board_;
  std::unique_ptr<alerts::Dispatcher> dispatcher_;
  std::unique_ptr<alerts::Prober> prober_;
  std::unique_ptr<alerts::Evaluator> evaluator_;
  std::unique_ptr<alerts::LeaderLease> lease_;
  std::unique_ptr<alerts::AlertScheduler> scheduler_;
  bool stopped_ = false;
};

}  // namespace tally::cli
