#include "live/business_calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace tally::live {
namespace {

using std::chrono::microseconds;

// Local midnight may not exist (a DST jump at 00:00, as in some zones): the
// first instant after the gap is the day's start then.
core::Timestamp LocalMidnightToUtc(const date::time_zone* zone, date::local_days day) {
  auto info = zone->get_info(date::local_seconds(day));
  if (info.result == date::local_info::nonexistent) {
    return std::chrono::time_point_cast<microseconds>(info.second.begin);
  }
  // Ambiguous midnight (clocks set back over it): the day starts at its
  // first occurrence, which carries the earlier offset, info.first.
  auto local = date::local_time<microseconds>(day);
  return core::Timestamp((local - info.first.offset).time_since_epoch());
}

}  // namespace

core::Result<BusinessCalendar> BusinessCalendar::Create(const std::string& time_zone) {
  if (time_zone.empty() || time_zone == "UTC" || time_zone == "Etc/UTC") return Utc();
  try {
    return BusinessCalendar(time_zone, date::locate_zone(time_zone));
  } catch (const std::exception& e) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("time_zone '{}' is not in the tz database: {}", time_zone, e.what())));
  }
}

BusinessCalendar BusinessCalendar::Utc() { return BusinessCalendar("UTC", nullptr); }

core::Timestamp BusinessCalendar::DayStart(core::Timestamp t) const {
  if (zone_ == nullptr) return core::FloorToDay(t);
  auto local = zone_->to_local(t);
  return LocalMidnightToUtc(zone_, date::floor<date::days>(local));
}

core::Timestamp BusinessCalendar::NextDayStart(core::Timestamp t) const {
  if (zone_ == nullptr) return core::FloorToDay(t) + date::days(1);
  auto local = zone_->to_local(t);
  return LocalMidnightToUtc(zone_, date::floor<date::days>(local) + date::days(1));
}

core::Timestamp BusinessCalendar::MonthStart(core::Timestamp t) const {
  auto local_day = zone_ == nullptr ? date::local_days(date::floor<date::days>(t).time_since_epoch())
                                    : date::floor<date::days>(zone_->to_local(t));
  date::year_month_day ymd(local_day);
  date::local_days first(ymd.year() / ymd.month() / 1);
  if (zone_ == nullptr) return core::Timestamp(std::chrono::duration_cast<microseconds>(first.time_since_epoch()));
  return LocalMidnightToUtc(zone_, first);
}

}  // namespace tally::live
