// Clock: the only source of "now" in tally. Logic takes a Clock& so tests can
// drive time (tests/support/simulated_clock.h) instead of sleeping.
#pragma once

#include "core/time.h"

namespace tally::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Current UTC time, microsecond resolution. Thread-safe.
  virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // Process-wide instance; never destroyed.
  static SystemClock& Instance();
};

}  // namespace tally::core
