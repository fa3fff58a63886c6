#include "alerts/scheduler.h"

#include <spdlog/spdlog.h>

namespace tally::alerts {

AlertScheduler::AlertScheduler(Evaluator& evaluator, LeaderLease& lease,
                               std::chrono::milliseconds interval)
    : evaluator_(evaluator), lease_(lease), interval_(interval) {}

AlertScheduler::~AlertScheduler() { Stop(); }

void AlertScheduler::Start() { thread_ = std::thread([this] { Run(); }); }

void AlertScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (leader_.exchange(false)) lease_.Release();
}

void AlertScheduler::Run() {
  using Clock = std::chrono::steady_clock;
  auto tick = std::min(interval_, std::max(lease_.lease() / 3, std::chrono::milliseconds(100)));
  Clock::time_point next_eval = Clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto held = lease_.TryAcquire();
    bool leading = held && *held;
    if (!held) spdlog::warn("alerts: leader lease: {}", held.error().ToString());
    if (leading != leader_.exchange(leading)) {
      spdlog::info("alerts: this node {} the evaluation leader", leading ? "is now" : "is no longer");
      if (leading) next_eval = Clock::now();
    }
    if (leading && Clock::now() >= next_eval) {
      next_eval = Clock::now() + interval_;
      auto report = evaluator_.RunOnce();
      evaluations_.fetch_add(1);
      if (!report) spdlog::error("alerts: evaluation failed: {}", report.error().ToString());
    }
    lock.lock();
    cv_.wait_for(lock, tick, [this] { return stop_; });
  }
}

}  // namespace tally::alerts
