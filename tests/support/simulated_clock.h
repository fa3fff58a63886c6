// SimulatedClock: a Clock that moves only when a test says so.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.h"

namespace tally::testing {

class SimulatedClock final : public core::Clock {
 public:
  explicit SimulatedClock(core::Timestamp start) : now_us_(core::ToMicros(start)) {}
  core::Timestamp Now() const override { return core::FromMicros(now_us_.load()); }
  void Advance(std::chrono::microseconds d) { now_us_ += d.count(); }
  void Set(core::Timestamp t) { now_us_ = core::ToMicros(t); }

 private:
  std::atomic<std::int64_t> now_us_;
};

}  // namespace tally::testing
