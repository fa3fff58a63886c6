// Dispatcher: hands notifications to every notifier on its own thread, with
// retries and exponential backoff, so a slow or failing notifier never blocks
// the evaluator (or ingestion, which never calls it at all).
//
// Guarantees:
//  - Enqueue never blocks on I/O: it takes a mutex, and when `capacity`
//    deliveries already wait, drops the new one (counted in dropped(),
//    logged) rather than grow without bound.
//  - Each (notification, notifier) is one delivery, tried up to max_attempts
//    times; after attempt k fails with unavailable it waits
//    backoff * 2^(k-1) (at most max_backoff). A non-retryable error
//    (invalid_argument) gives up at once. Deliveries to different notifiers
//    are independent: a dead webhook does not hold back the email.
//  - Stop() finishes the delivery in progress and drops the rest.
// Thread-safety: Enqueue and the counters may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "alerts/notifier.h"

namespace tally::alerts {

struct DispatcherOptions {
  std::size_t capacity = 1000;
  int max_attempts = 5;
  std::chrono::milliseconds backoff{1000};
  std::chrono::milliseconds max_backoff{60'000};
};

class Dispatcher {
 public:
  Dispatcher(std::vector<std::unique_ptr<Notifier>> notifiers, DispatcherOptions options);
  ~Dispatcher();  // Stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues one delivery per notifier; false when the queue was full.
  bool Enqueue(const Notification& n);
  void Stop();

  bool empty() const { return notifiers_.empty(); }
  std::int64_t delivered() const;
  std::int64_t failed() const;   // gave up after the last attempt
  std::int64_t dropped() const;  // queue full
  // True when nothing waits or is in flight (tests).
  bool Idle() const;

 private:
  struct Delivery {
    Notification notification;
    std::size_t notifier = 0;
    int attempt = 0;
    std::chrono::steady_clock::time_point due;
  };
  void Run();

  const std::vector<std::unique_ptr<Notifier>> notifiers_;
  const DispatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  bool busy_ = false;           // guarded by mu_: a delivery is in flight
  std::int64_t delivered_ = 0, failed_ = 0, dropped_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tally::alerts
