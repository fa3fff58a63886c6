#include "live/business_calendar.h"

#include <gtest/gtest.h>

#include "live_test_util.h"

namespace tally::live {
namespace {

using testing::At;

TEST(BusinessCalendarTest, UtcDayAndMonth) {
  auto cal = BusinessCalendar::Utc();
  EXPECT_EQ(cal.DayStart(At("2026-03-15T23:59:59Z")), At("2026-03-15T00:00:00Z"));
  EXPECT_EQ(cal.NextDayStart(At("2026-03-15T00:00:00Z")), At("2026-03-16T00:00:00Z"));
  EXPECT_EQ(cal.MonthStart(At("2026-03-15T10:00:00Z")), At("2026-03-01T00:00:00Z"));
}

TEST(BusinessCalendarTest, NewYorkDaysFollowLocalMidnightAcrossDst) {
  auto cal = BusinessCalendar::Create("America/New_York");
  ASSERT_TRUE(cal) << cal.error().ToString();
  // 2026-03-08 is the spring-forward day: 23 hours long.
  EXPECT_EQ(cal->DayStart(At("2026-03-08T12:00:00Z")), At("2026-03-08T05:00:00Z"));
  EXPECT_EQ(cal->NextDayStart(At("2026-03-08T12:00:00Z")), At("2026-03-09T04:00:00Z"));
  // 03:59Z on the 9th is still the 8th in New York.
  EXPECT_EQ(cal->DayStart(At("2026-03-09T03:59:00Z")), At("2026-03-08T05:00:00Z"));
  EXPECT_EQ(cal->MonthStart(At("2026-03-01T03:00:00Z")), At("2026-02-01T05:00:00Z"));
}

TEST(BusinessCalendarTest, UnknownZoneIsAnErrorNamingIt) {
  auto cal = BusinessCalendar::Create("Mars/Olympus");
  ASSERT_FALSE(cal);
  EXPECT_NE(cal.error().message().find("Mars/Olympus"), std::string::npos);
}

}  // namespace
}  // namespace tally::live
