#include "core/business_calendar.h"

#include <gtest/gtest.h>

namespace tally::core {
namespace {

Timestamp At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

TEST(BusinessCalendarTest, UtcDayAndMonth) {
  auto cal = core::BusinessCalendar::Utc();
  EXPECT_EQ(cal.DayStart(At("2026-03-15T23:59:59Z")), At("2026-03-15T00:00:00Z"));
  EXPECT_EQ(cal.NextDayStart(At("2026-03-15T00:00:00Z")), At("2026-03-16T00:00:00Z"));
  EXPECT_EQ(cal.MonthStart(At("2026-03-15T10:00:00Z")), At("2026-03-01T00:00:00Z"));
}

TEST(BusinessCalendarTest, NewYorkDaysFollowLocalMidnightAcrossDst) {
  auto cal = core::BusinessCalendar::Create("America/New_York");
  ASSERT_TRUE(cal) << cal.error().ToString();
  // 2026-03-08 is the spring-forward day: 23 hours long.
  EXPECT_EQ(cal->DayStart(At("2026-03-08T12:00:00Z")), At("2026-03-08T05:00:00Z"));
  EXPECT_EQ(cal->NextDayStart(At("2026-03-08T12:00:00Z")), At("2026-03-09T04:00:00Z"));
  // 03:59Z on the 9th is still the 8th in New York.
  EXPECT_EQ(cal->DayStart(At("2026-03-09T03:59:00Z")), At("2026-03-08T05:00:00Z"));
  EXPECT_EQ(cal->MonthStart(At("2026-03-01T03:00:00Z")), At("2026-02-01T05:00:00Z"));
}

TEST(BusinessCalendarTest, UnknownZoneIsAnErrorNamingIt) {
  auto cal = core::BusinessCalendar::Create("Mars/Olympus");
  ASSERT_FALSE(cal);
  EXPECT_NE(cal.error().message().find("Mars/Olympus"), std::string::npos);
}

TEST(BusinessCalendarTest, HalfHourZoneCutsHoursAndDaysAtLocalBoundaries) {
  auto cal = core::BusinessCalendar::Create("Asia/Kolkata");  // UTC+05:30, no DST
  ASSERT_TRUE(cal) << cal.error().ToString();
  // 10:10Z is 15:40 local: the local hour began at 15:00 local = 09:30Z.
  EXPECT_EQ(cal->HourStart(At("2026-03-15T10:10:00Z")), At("2026-03-15T09:30:00Z"));
  // 18:29Z is 23:59 local on the 15th; 18:30Z is midnight of the 16th.
  EXPECT_EQ(cal->DayStart(At("2026-03-15T18:29:00Z")), At("2026-03-14T18:30:00Z"));
  EXPECT_EQ(cal->DayStart(At("2026-03-15T18:30:00Z")), At("2026-03-15T18:30:00Z"));
  EXPECT_EQ(cal->DayBucket(ToMicros(At("2026-03-15T18:30:00Z"))),
            ToMicros(At("2026-03-15T18:30:00Z")));
}

TEST(BusinessCalendarTest, FallBackHourIsTwoBucketsAndDaysStayWhole) {
  auto cal = core::BusinessCalendar::Create("America/New_York");
  ASSERT_TRUE(cal) << cal.error().ToString();
  // 2026-11-01: 01:00-02:00 local happens twice (05:00Z-06:00Z EDT, 06:00Z-07:00Z EST).
  EXPECT_EQ(cal->HourStart(At("2026-11-01T05:30:00Z")), At("2026-11-01T05:00:00Z"));
  EXPECT_EQ(cal->HourStart(At("2026-11-01T06:30:00Z")), At("2026-11-01T06:00:00Z"));
  // The day is 25 hours: 04:00Z to 05:00Z the next day.
  EXPECT_EQ(cal->DayStart(At("2026-11-02T04:59:00Z")), At("2026-11-01T04:00:00Z"));
  EXPECT_EQ(cal->AddDays(At("2026-11-01T12:00:00Z"), 1), At("2026-11-02T05:00:00Z"));
  EXPECT_EQ(cal->AddDays(At("2026-11-02T12:00:00Z"), -1), At("2026-11-01T04:00:00Z"));
}

TEST(BusinessCalendarTest, WeeksStartOnLocalMondayAndDatesResolveToLocalMidnight) {
  auto cal = core::BusinessCalendar::Create("Europe/Berlin");
  ASSERT_TRUE(cal) << cal.error().ToString();
  // Sunday 2026-03-15 23:30 local is 22:30Z; its week began Monday 2026-03-09 00:00 CET.
  EXPECT_EQ(cal->WeekStart(At("2026-03-15T22:30:00Z")), At("2026-03-08T23:00:00Z"));
  // 23:30Z on Sunday is already Monday the 16th in Berlin: a new week.
  EXPECT_EQ(cal->WeekStart(At("2026-03-15T23:30:00Z")), At("2026-03-15T23:00:00Z"));
  auto m = cal->Midnight(2026, 7, 1);  // CEST
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, At("2026-06-30T22:00:00Z"));
  auto bad = cal->Midnight(2026, 2, 30);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("2026-02-30"), std::string::npos);
  EXPECT_EQ(core::BusinessCalendar::Utc().WeekStart(At("2026-03-15T10:00:00Z")),
            At("2026-03-09T00:00:00Z"));
}

}  // namespace
}  // namespace tally::core
