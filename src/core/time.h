// Timestamps: UTC, microsecond resolution, stored as int64 microseconds since
// the Unix epoch.
//
// Input forms accepted at ingest: RFC 3339 with a zone ("2026-03-01T12:00:00Z",
// "2026-03-01T12:00:00.123+02:00"), or epoch seconds / milliseconds as a
// number. A timestamp without a zone is ambiguous and is rejected.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tally::core {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

inline std::int64_t ToMicros(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp FromMicros(std::int64_t us) { return Timestamp(std::chrono::microseconds(us)); }

// RFC 3339 date-time with a mandatory offset ('Z' or +hh:mm / -hh:mm).
// Fractional seconds beyond microseconds are truncated.
Result<Timestamp> ParseRfc3339(std::string_view text);

// Epoch number: values with |v| < 1e11 are seconds (up to year 5138), larger
// ones milliseconds. Fractions are kept to the microsecond.
Result<Timestamp> FromEpochNumber(double value);
Result<Timestamp> FromEpochInteger(std::int64_t value);

// "2026-03-01T12:00:00Z" or "2026-03-01T12:00:00.123456Z" (fraction trimmed).
std::string FormatRfc3339(Timestamp t);

// Start of the UTC day / hour containing t.
Timestamp FloorToDay(Timestamp t);
Timestamp FloorToHour(Timestamp t);

}  // namespace tally::core
