#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace tally::server {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("tally_http_requests_total")
                   .Help("HTTP requests by route pattern, method and status")
                   .Register(*registry_);
  ingested_ = &prometheus::BuildCounter()
                   .Name("tally_events_ingested_total")
                   .Help("Events durably stored, by table")
                   .Register(*registry_);
  duplicates_ = &prometheus::BuildCounter()
                     .Name("tally_events_duplicate_total")
                     .Help("Events received again and not stored twice, by table")
                     .Register(*registry_);
  bus_entries_ = &prometheus::BuildCounter()
                      .Name("tally_bus_entries_total")
                      .Help("Redis Streams bus entries by outcome (stored, duplicate, dead_letter, claimed, "
                            "deleted, error)")
                      .Register(*registry_);
  batch_events_ = &prometheus::BuildHistogram()
                       .Name("tally_ingest_batch_events")
                       .Help("Events per ingest request")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 1000, 10000, 100000});
  commit_seconds_ = &prometheus::BuildHistogram()
                         .Name("tally_commit_seconds")
                         .Help("Duration of one durable store commit (a group of batches)")
                         .Register(*registry_)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  commit_failures_ = &prometheus::BuildCounter()
                          .Name("tally_commit_failures_total")
                          .Help("Store commits that failed (their batches were not acknowledged)")
                          .Register(*registry_)
                          .Add({});
  queue_events_ = &prometheus::BuildGauge()
                       .Name("tally_ingest_queue_events")
                       .Help("Events accepted into the pipeline and not yet committed")
                       .Register(*registry_)
                       .Add({});
  live_degraded_ = &prometheus::BuildGauge()
                        .Name("tally_live_degraded")
                        .Help("1 while budget checks are answered without Redis (live.redis_down_policy)")
                        .Register(*registry_)
                        .Add({});
}

Metrics::~Metrics() = default;

void Metrics::ObserveRequest(const std::string& route, const std::string& method, int status) {
  requests_->Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}}).Increment();
}

void Metrics::ObserveIngest(const std::string& table, std::int64_t accepted, std::int64_t duplicates,
                            std::int64_t batch_events) {
  ingested_->Add({{"table", table}}).Increment(static_cast<double>(accepted));
  duplicates_->Add({{"table", table}}).Increment(static_cast<double>(duplicates));
  batch_events_->Observe(static_cast<double>(batch_events));
}

void Metrics::ObserveBus(std::string_view outcome, std::int64_t n) {
  bus_entries_->Add({{"outcome", std::string(outcome)}}).Increment(static_cast<double>(n));
}

void Metrics::ObserveCommit(double seconds, bool ok) {
  commit_seconds_->Observe(seconds);
  if (!ok) commit_failures_->Increment();
}

void Metrics::SetQueueDepthSource(std::function<std::int64_t()> source) { queue_source_ = std::move(source); }

void Metrics::SetLiveDegradedSource(std::function<bool()> source) { live_degraded_source_ = std::move(source); }

std::string Metrics::Render() {
  if (queue_source_) queue_events_->Set(static_cast<double>(queue_source_()));
  if (live_degraded_source_) live_degraded_->Set(live_degraded_source_() ? 1.0 : 0.0);
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace tally::server
