// AlertScheduler: the background thread of `tally serve` that keeps the
// leader lease and, while this node leads, runs Evaluator::RunOnce every
// interval. It wakes every min(interval, lease/3) to renew the lease, so a
// leader never lets it lapse between evaluations, and a follower notices a
// dead leader's lapse within lease/3.
// If a node loses the lease mid-evaluation, two nodes may evaluate once at
// the same time; the store's one-firing-alert-per-(rule, subject) makes the
// second a refresh, so nothing is notified twice.
// Thread-safety: Start/Stop from one thread; the accessors from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "alerts/evaluator.h"
#include "alerts/leader_lease.h"

namespace tally::alerts {

class AlertScheduler {
 public:
  AlertScheduler(Evaluator& evaluator, LeaderLease& lease, std::chrono::milliseconds interval);
  ~AlertScheduler();  // Stop()

  void Start();
  // Stops the thread and releases the lease (a clean shutdown hands over at once).
  void Stop();

  bool is_leader() const { return leader_.load(); }
  std::int64_t evaluations() const { return evaluations_.load(); }

 private:
  void Run();

  Evaluator& evaluator_;
  LeaderLease& lease_;
  const std::chrono::milliseconds interval_;
  std::atomic<bool> leader_{false};
  std::atomic<std::int64_t> evaluations_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::alerts
