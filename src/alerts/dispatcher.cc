#include "alerts/dispatcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tally::alerts {

std::string NotificationText(const Notification& n) {
  const auto& a = n.alert;
  if (n.kind == Notification::Kind::kResolved) {
    return fmt::format("[resolved] {} (alert {}, {})", a.message, a.id, a.rule);
  }
  return fmt::format("[{}] {} (alert {}, {})", a.severity, a.message, a.id, a.rule);
}

Dispatcher::Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatcherOptions options)
    : notifiers_(std::move(notifiers)), options_(options) {
  if (!notifiers_.empty()) thread_ = std::thread([this] { Run(); });
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Dispatcher::Enqueue(const Notification& n) {
  if (notifiers_.empty()) return true;
  {
    std::lock_guard lock(mu_);
    if (stop_) return false;
    if (queue_.size() + notifiers_.size() > options_.capacity) {
      ++dropped_;
      spdlog::warn("alerts: notification queue full ({}), dropped alert {}", options_.capacity,
                   n.alert.id);
      return false;
    }
    auto now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < notifiers_.size(); ++i) queue_.push_back({n, i, 0, now});
  }
  cv_.notify_all();
  return true;
}

void Dispatcher::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto next = std::min_element(queue_.begin(), queue_.end(),
                                 [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    auto now = std::chrono::steady_clock::now();
    if (next->due > now) {
      cv_.wait_until(lock, next->due);
      continue;
    }
    Delivery d = std::move(*next);
    queue_.erase(next);
    busy_ = true;
    lock.unlock();
    Notifier& notifier = *notifiers_[d.notifier];
    core::Status s = notifier.Send(d.notification);
    lock.lock();
    busy_ = false;
    ++d.attempt;
    if (s) {
      ++delivered_;
      continue;
    }
    bool retry = s.error().code() == core::ErrorCode::kUnavailable && d.attempt < options_.max_attempts;
    spdlog::warn("alerts: {} notification of alert {} failed (attempt {}/{}): {}", notifier.name(),
                 d.notification.alert.id, d.attempt, options_.max_attempts, s.error().ToString());
    if (!retry) {
      ++failed_;
      continue;
    }
    auto wait = options_.backoff * (1LL << std::min(d.attempt - 1, 20));
    d.due = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(wait, options_.max_backoff);
    queue_.push_back(std::move(d));
  }
}

std::int64_t Dispatcher::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}
std::int64_t Dispatcher::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}
std::int64_t Dispatcher::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}
bool Dispatcher::Idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && !busy_;
}

}  // namespace tally::alerts
