// Uptime probes for the "product down" rule. A product opts in with a
// health URL in its metadata ({"health_url": "https://.../health"}); every
// probe_interval the Prober GETs each one (timeout probe_timeout) and records
// ok / latency / status code on the ProbeBoard, which the evaluator reads,
// and hands each result to `record` as an ops event (kind uptime_check,
// source tally, status up/down), which the serve wiring submits to the
// pipeline so uptime lands in ops_events like every other ops signal.
// A 2xx or 3xx answer is up; anything else, or no answer, is down.
// Thread-safety: ProbeBoard is safe from any thread; Prober's Start/Stop
// from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "alerts/rules.h"
#include "core/clock.h"
#include "model/event.h"
#include "store/store.h"

namespace tally::alerts {

class ProbeBoard {
 public:
  // One probe result; ok false with status 0 means no answer (error says why).
  void Record(const std::string& product_id, const std::string& url, bool ok, int status,
              std::int64_t latency_ms, const std::string& error, core::Timestamp at);
  // Forgets products no longer probed.
  void Retain(const std::vector<std::string>& product_ids);
  std::vector<ProbeState> States() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ProbeState> states_;  // guarded by mu_
};

// The health URL in a product's metadata, or "" when it has none.
std::string HealthUrl(const model::Product& p);

class Prober {
 public:
  struct Options {
    std::chrono::milliseconds interval{30'000};
    std::chrono::milliseconds timeout{5'000};
  };
  Prober(store::Store& store, const core::Clock& clock, ProbeBoard& board, Options options,
         std::function<void(model::OpsEvent)> record);
  ~Prober();  // Stop()

  // Probes every product with a health URL once, now.
  core::Status ProbeAll();
  void Start();
  void Stop();

 private:
  store::Store& store_;
  const core::Clock& clock_;
  ProbeBoard& board_;
  const Options options_;
  const std::function<void(model::OpsEvent)> record_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::alerts
