#include "core/business_calendar.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace tally::core {
namespace {

using std::chrono::microseconds;

constexpr std::int64_t kHourUs = 3'600'000'000;
constexpr std::int64_t kDayUs = 86'400'000'000;

std::int64_t FloorUs(std::int64_t t, std::int64_t width) { return t - (((t % width) + width) % width); }

// Local midnight may not exist (a DST jump at 00:00, as in some zones): the
// first instant after the gap is the day's start then.
core::Timestamp LocalMidnightToUtc(const date::time_zone* zone, date::local_days day) {
  if (zone == nullptr) return core::Timestamp(std::chrono::duration_cast<microseconds>(day.time_since_epoch()));
  auto info = zone->get_info(date::local_seconds(day));
  if (info.result == date::local_info::nonexistent) {
    return std::chrono::time_point_cast<microseconds>(info.second.begin);
  }
  // Ambiguous midnight (clocks set back over it): the day starts at its
  // first occurrence, which carries the earlier offset, info.first.
  auto local = date::local_time<microseconds>(day);
  return core::Timestamp((local - info.first.offset).time_since_epoch());
}

date::local_days LocalDay(const date::time_zone* zone, core::Timestamp t) {
  if (zone == nullptr) return date::local_days(date::floor<date::days>(t).time_since_epoch());
  return date::floor<date::days>(zone->to_local(t));
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

core::Timestamp BusinessCalendar::HourStart(core::Timestamp t) const {
  return core::FromMicros(HourBucket(core::ToMicros(t)));
}

core::Timestamp BusinessCalendar::DayStart(core::Timestamp t) const {
  if (zone_ == nullptr) return core::FloorToDay(t);
  return LocalMidnightToUtc(zone_, LocalDay(zone_, t));
}

core::Timestamp BusinessCalendar::NextDayStart(core::Timestamp t) const { return AddDays(t, 1); }

core::Timestamp BusinessCalendar::AddDays(core::Timestamp t, int days) const {
  return LocalMidnightToUtc(zone_, LocalDay(zone_, t) + date::days(days));
}

core::Timestamp BusinessCalendar::WeekStart(core::Timestamp t) const {
  const date::local_days day = LocalDay(zone_, t);
  const date::weekday wd(day);
  // ISO weeks start on Monday: days since Monday is (wd - Monday) mod 7.
  return LocalMidnightToUtc(zone_, day - (wd - date::Monday));
}

core::Timestamp BusinessCalendar::MonthStart(core::Timestamp t) const {
  date::year_month_day ymd(LocalDay(zone_, t));
  return LocalMidnightToUtc(zone_, date::local_days(ymd.year() / ymd.month() / 1));
}

core::Result<core::Timestamp> BusinessCalendar::Midnight(int year, unsigned month, unsigned day) const {
  date::year_month_day ymd{date::year(year), date::month(month), date::day(day)};
  if (!ymd.ok()) {
    return std::unexpected(core::Error::InvalidArgument(
        fmt::format("date {:04}-{:02}-{:02} does not exist", year, month, day)));
  }
  return LocalMidnightToUtc(zone_, date::local_days(ymd));
}

std::string BusinessCalendar::LocalDate(core::Timestamp t) const {
  const date::year_month_day ymd(LocalDay(zone_, t));
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::int64_t BusinessCalendar::HourBucket(std::int64_t micros) const {
  if (zone_ == nullptr) return FloorUs(micros, kHourUs);
  const auto info = zone_->get_info(date::sys_time<microseconds>(microseconds(micros)));
  const std::int64_t offset = std::chrono::duration_cast<microseconds>(info.offset).count();
  return FloorUs(micros + offset, kHourUs) - offset;
}

std::int64_t BusinessCalendar::DayBucket(std::int64_t micros) const {
  if (zone_ == nullptr) return FloorUs(micros, kDayUs);
  return core::ToMicros(DayStart(core::FromMicros(micros)));
}

}  // namespace tally::core
