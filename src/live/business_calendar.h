// BusinessCalendar: where business days and months start, in the configured
// IANA time zone (default UTC), as UTC instants.
//
// Budgets reset and "today" / "month to date" counters roll over at local
// midnight of this zone, DST included (a local day may be 23 or 25 hours).
// Zones come from the OS tz database (/usr/share/zoneinfo) through Howard
// Hinnant's date/tz, as Debian packages it (USE_OS_TZDB).
// Thread-safety: immutable after Create; all methods are safe concurrently.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace date {
class time_zone;
}

namespace tally::live {

class BusinessCalendar {
 public:
  // invalid_argument naming the zone when the tz database does not know it.
  static core::Result<BusinessCalendar> Create(const std::string& time_zone);
  static BusinessCalendar Utc();

  const std::string& time_zone() const { return name_; }
  // UTC instant of local midnight starting the business day holding t.
  core::Timestamp DayStart(core::Timestamp t) const;
  // UTC instant of the next business day's start after t.
  core::Timestamp NextDayStart(core::Timestamp t) const;
  // UTC instant of local midnight of the 1st of t's local month.
  core::Timestamp MonthStart(core::Timestamp t) const;

 private:
  BusinessCalendar(std::string name, const date::time_zone* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const date::time_zone* zone_;  // null: UTC; owned by the tz database (process lifetime)
};

}  // namespace tally::live
