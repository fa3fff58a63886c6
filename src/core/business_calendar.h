// BusinessCalendar: where business hours, days, weeks and months start, in
// the configured IANA time zone (default UTC), as UTC instants.
//
// Budgets reset, "today" / "month to date" counters roll over, and the
// rollups' hour and day buckets are cut at local boundaries of this zone,
// DST included (a local day may be 23 or 25 hours; in a zone offset by a
// half hour, a local hour starts at :30 UTC). Zones come from the OS tz
// database (/usr/share/zoneinfo) through Howard Hinnant's date/tz, as Debian
// packages it (USE_OS_TZDB).
// Thread-safety: immutable after Create; all methods are safe concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace date {
class time_zone;
}

namespace tally::core {

class BusinessCalendar {
 public:
  // invalid_argument naming the zone when the tz database does not know it.
  static core::Result<BusinessCalendar> Create(const std::string& time_zone);
  static BusinessCalendar Utc();

  const std::string& time_zone() const { return name_; }
  bool is_utc() const { return zone_ == nullptr; }

  // UTC instant where the local hour holding t started: the local time
  // floored to the hour, at the offset in force at t (so the repeated hour
  // of a DST fall-back is two buckets, one per offset).
  core::Timestamp HourStart(core::Timestamp t) const;
  // UTC instant of local midnight starting the business day holding t.
  core::Timestamp DayStart(core::Timestamp t) const;
  // UTC instant of the next business day's start after t.
  core::Timestamp NextDayStart(core::Timestamp t) const;
  // Local midnight of the Monday of t's ISO week.
  core::Timestamp WeekStart(core::Timestamp t) const;
  // UTC instant of local midnight of the 1st of t's local month.
  core::Timestamp MonthStart(core::Timestamp t) const;
  // The start of the business day `days` local days after the one holding t
  // (negative: before); whole local days, whatever their length in hours.
  core::Timestamp AddDays(core::Timestamp t, int days) const;
  // Local midnight of a calendar date; invalid_argument for a date that does
  // not exist (2026-02-30).
  core::Result<core::Timestamp> Midnight(int year, unsigned month, unsigned day) const;

  // "YYYY-MM-DD": the local calendar date of t.
  std::string LocalDate(core::Timestamp t) const;

  // The same on microseconds since the epoch: the rollups' bucket keys.
  std::int64_t HourBucket(std::int64_t micros) const;
  std::int64_t DayBucket(std::int64_t micros) const;

 private:
  BusinessCalendar(std::string name, const date::time_zone* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const date::time_zone* zone_;  // null: UTC; owned by the tz database (process lifetime)
};

}  // namespace tally::core
