#include "cli/serve_alerts.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "alerts/notifiers.h"
#include "live/redis/redis_connection.h"

namespace tally::cli {

core::Result<std::unique_ptr<ServeAlerts>> ServeAlerts::Create(const core::Config& config,
                                                              store::Store& store,
                                                              const core::Clock& clock,
                                                              ingest::Pipeline& pipeline,
                                                              live::Accumulators& live_counters,
                                                              live::BudgetEnforcer& budget) {
  const core::AlertsConfig& c = config.alerts;
  if (!c.enabled) return std::unique_ptr<ServeAlerts>();
  std::unique_ptr<ServeAlerts> a(new ServeAlerts());
  a->node_id_ = c.node_id.empty() ? alerts::DefaultNodeId() : c.node_id;
  auto rules = TALLY_TRY(alerts::RuleSetFromConfig(c));
  auto notifiers = TALLY_TRY(alerts::NotifiersFromConfig(c));
  a->dispatcher_ = std::make_unique<alerts::Dispatcher>(
      std::move(notifiers),
      alerts::DispatcherOptions{static_cast<std::size_t>(c.queue), static_cast<int>(c.max_attempts),
                                std::chrono::milliseconds(c.backoff_ms)});
  // Probe results become ops events (uptime_check), like every ops signal.
  a->prober_ = std::make_unique<alerts::Prober>(
      store, clock, a->probe_board_,
      alerts::Prober::Options{std::chrono::seconds(c.probe_interval_seconds),
                              std::chrono::milliseconds(c.probe_timeout_ms)},
      [&pipeline](model::OpsEvent e) {
        auto s = pipeline.Submit(model::Batch{"uptime", {std::move(e)}},
                                 [](core::Result<store::AppendStats> r) {
                                   if (!r) spdlog::warn("uptime probe event: {}", r.error().ToString());
                                 });
        if (!s) spdlog::warn("uptime probe event: {}", s.error().ToString());
      });
  a->evaluator_ = std::make_unique<alerts::Evaluator>(
      store, live_counters, clock, std::move(rules),
      [&budget](const std::string& agent, const std::string& reason) {
        return budget.SetPaused(agent, true, reason, "tally:alerts");
      },
      &a->probe_board_, a->dispatcher_.get());
  const auto lease_ms = std::chrono::milliseconds(c.lease_seconds * 1000);
  if (!config.live_redis_url.empty()) {
    live::redis::RedisConnection::Options redis_options;
    redis_options.url = TALLY_TRY(live::redis::ParseRedisUrl(config.live_redis_url));
    redis_options.pool_size = 1;
    auto redis = TALLY_TRY(live::redis::RedisConnection::Connect(redis_options));
    a->lease_ = std::make_unique<alerts::RedisLease>(
        std::move(redis), config.live_redis_prefix + ":alerts:leader", a->node_id_, lease_ms);
  } else {
    a->lease_ = std::make_unique<alerts::SingleNodeLease>();
  }
  a->scheduler_ = std::make_unique<alerts::AlertScheduler>(
      *a->evaluator_, *a->lease_, std::chrono::seconds(c.interval_seconds));
  return a;
}

ServeAlerts::~ServeAlerts() { Stop(); }

void ServeAlerts::Start() {
  prober_->Start();
  scheduler_->Start();
}

void ServeAlerts::Stop() {
  if (stopped_) return;
  stopped_ = true;
  scheduler_->Stop();  // hands the lease over at once
  prober_->Stop();
  dispatcher_->Stop();
}

boost::json::object ServeAlerts::Status() const {
  return boost::json::object{{"enabled", true},
                             {"node_id", node_id_},
                             {"leader", scheduler_->is_leader()},
                             {"evaluations", scheduler_->evaluations()}};
}

}  // namespace tally::cli
