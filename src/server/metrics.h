// Metrics: tally's own Prometheus metrics (prometheus-cpp registry, served as
// text format on /metrics by tally's server).
//
// tally_http_requests_total{route,method,status}, tally_events_ingested_total{table},
// tally_events_duplicate_total{table}, tally_ingest_batch_events (histogram),
// tally_commit_seconds (histogram), tally_commit_failures_total,
// tally_ingest_queue_events (gauge, read at scrape time),
// tally_live_degraded (gauge, 1 while Redis is down for the live counters),
// tally_bus_entries_total{outcome} (the Redis Streams bus, src/ingest/bus).
// Thread-safety: every method may be called concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Histogram;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace tally::server {

class Metrics {
 public:
  Metrics();
  ~Metrics();

  void ObserveRequest(const std::string& route, const std::string& method, int status);
  void ObserveIngest(const std::string& table, std::int64_t accepted, std::int64_t duplicates,
                     std::int64_t batch_events);
  void ObserveCommit(double seconds, bool ok);
  // Bus entries by outcome: stored, duplicate, dead_letter, claimed, deleted, error.
  void ObserveBus(std::string_view outcome, std::int64_t n);
  // Called at scrape time to fill the queue-depth gauge.
  void SetQueueDepthSource(std::function<std::int64_t()> source);
  // Called at scrape time for tally_live_degraded (1 while budget checks are
  // answered without Redis, src/live/failover_accumulators.h).
  void SetLiveDegradedSource(std::function<bool()> source);

  std::string Render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* ingested_;
  prometheus::Family<prometheus::Counter>* duplicates_;
  prometheus::Family<prometheus::Counter>* bus_entries_;
  prometheus::Histogram* batch_events_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Counter* commit_failures_;
  prometheus::Gauge* queue_events_;
  std::function<std::int64_t()> queue_source_;
  prometheus::Gauge* live_degraded_;
  std::function<bool()> live_degraded_source_;
};

}  // namespace tally::server
